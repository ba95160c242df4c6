#!/usr/bin/env python3
"""Time training steps of the shipped architecture in fp32 and bf16 autocast (channels_last) on this CPU.

    python benchmarks/autocast_speed.py [--image-size 128] [--steps 6]

Why: bf16 autocast is only faster on CPUs with native bf16; `braintumor train --precision auto`
relies on that, and this script shows the numbers for the machine at hand.
"""

from __future__ import annotations

import argparse
import time

import _common  # noqa: F401  (the checkout's src first on sys.path)
import torch
import torch.nn.functional as F

from braintumor.model import create_model


def seconds_per_step(amp: torch.dtype | None, size: int, steps: int, batch: int = 64) -> float:
    torch.manual_seed(0)
    model = create_model("tumornet-s").to(memory_format=torch.channels_last)
    opt = torch.optim.AdamW(model.parameters())
    x = torch.rand(batch, 1, size, size).contiguous(memory_format=torch.channels_last)
    y = torch.randint(0, 4, (batch,))
    for i in range(steps + 2):
        if i == 2:
            start = time.perf_counter()
        with torch.autocast("cpu", dtype=amp, enabled=amp is not None):
            loss = F.cross_entropy(model(x).float(), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return (time.perf_counter() - start) / steps


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--image-size", type=int, default=128,
                        help="side of the training input in pixels (default %(default)s)")
    parser.add_argument("--steps", type=int, default=6,
                        help="timed steps per precision, after 2 untimed (default %(default)s)")
    args = parser.parse_args()
    native = torch.ops.mkldnn._is_mkldnn_bf16_supported()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, native bf16: {native}")
    for name, amp in (("fp32", None), ("bf16 autocast", torch.bfloat16)):
        s = seconds_per_step(amp, args.image_size, args.steps)
        print(f"{name:<14} {s:.3f} s/step (batch 64, {args.image_size} px) = {s * 81:.1f} s per 5137-image epoch")


if __name__ == "__main__":
    main()
