#!/usr/bin/env python3
"""Training speed of the shipped recipe: images/s, seconds per step, and an epoch-time estimate.

    python benchmarks/train_throughput.py [--image-size 128] [--steps 30] [--json out.json]

One training step exactly as train.py does it (batched augmentation, channels_last, autocast as
``--precision auto`` picks it, AdamW with the two parameter groups, label smoothing, the LR
schedule and the EMA update), timed over --steps steps after --warmup steps, on uint8 images of
the model's input size. The pixels are random: training reads decoded, cropped images from its
cache, so no decoding happens in an epoch, and the arithmetic does not depend on pixel values.
The epoch estimate adds one validation pass of the raw and the EMA model, as train.py does.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from dataclasses import asdict

import numpy as np
from _common import REPO, common_args, machine, print_machine, table, write_json


def main(argv: list[str] | None = None) -> int:
    import torch
    import torch.nn.functional as F
    from torch.optim.swa_utils import AveragedModel, get_ema_multi_avg_fn

    from braintumor.augment import augment
    from braintumor.model import create_model
    from braintumor.preprocess import INPUT_SCALE
    from braintumor.train_config import TrainConfig
    from braintumor.train_device import evaluate_logits, pick_autocast_dtype, pick_device

    shipped = json.loads((REPO / "models/training-config.json").read_text())
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--image-size", type=int, default=shipped["image_size"],
                    help="input side in pixels (default: the shipped recipe's, %(default)s)")
    ap.add_argument("--batch-size", type=int, default=shipped["batch_size"],
                    help="images per step (default: the shipped recipe's, %(default)s)")
    ap.add_argument("--model", default=shipped["model"],
                    help="architecture name, as train --model (default %(default)s)")
    ap.add_argument("--steps", type=int, default=30, help="timed steps")
    ap.add_argument("--warmup", type=int, default=3, help="untimed steps first")
    ap.add_argument("--precision", default=shipped["precision"],
                    help="auto, bf16, fp16 or fp32, as train --precision (default %(default)s)")
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's own)")
    ap.add_argument("--train-images", type=int, default=5137,
                    help="images per epoch (5708 Training minus the 10 %% validation split)")
    args = ap.parse_args(argv)
    recipe = {k: v for k, v in shipped.items() if k in TrainConfig.__dataclass_fields__}  # not world_size
    cfg = TrainConfig(**{**recipe, "data": "", "out": "", "image_size": args.image_size,
                         "batch_size": args.batch_size, "model": args.model, "precision": args.precision})
    if args.threads:
        torch.set_num_threads(args.threads)
    device = pick_device(cfg.device)
    amp = pick_autocast_dtype(device, cfg.precision)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    n_pool = 4 * cfg.batch_size
    pool = torch.randint(0, 256, (n_pool, cfg.image_size, cfg.image_size), dtype=torch.uint8, generator=gen)
    labels = torch.randint(0, 4, (n_pool,), generator=gen)

    # --- the step, as in train.py ---
    model = create_model(cfg.model).to(device).to(memory_format=torch.channels_last)
    ema = AveragedModel(model, multi_avg_fn=get_ema_multi_avg_fn(cfg.ema_decay), use_buffers=True)
    decay = [p for p in model.parameters() if p.ndim > 1]
    no_decay = [p for p in model.parameters() if p.ndim <= 1]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                             {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    total = args.warmup + args.steps
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: min(1.0, (s + 1) / max(1, total)))
    model.train()
    aug_s, step_s = [], []
    for i in range(total):
        idx = torch.randint(0, n_pool, (cfg.batch_size,), generator=gen)
        t0 = time.perf_counter()
        x = pool[idx].float().mul_(INPUT_SCALE).unsqueeze(1)
        x = augment(x, gen).to(device).contiguous(memory_format=torch.channels_last)
        y = labels[idx].to(device)
        t1 = time.perf_counter()
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            logits = model(x)
            loss = F.cross_entropy(logits.float(), y, label_smoothing=cfg.label_smoothing)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        ema.update_parameters(model)
        loss.item()
        t2 = time.perf_counter()
        if i >= args.warmup:
            aug_s.append(t1 - t0)
            step_s.append(t2 - t1)
    val_n = round(args.train_images / 9)  # the 10 % split
    val = torch.randint(0, 256, (val_n, cfg.image_size, cfg.image_size), dtype=torch.uint8, generator=gen)
    t = time.perf_counter()
    for net in (model, ema.module):
        evaluate_logits(net, val, device, amp)
    val_s = time.perf_counter() - t

    per_step = float(np.median(np.add(aug_s, step_s)))
    steps_per_epoch = math.ceil(args.train_images / cfg.batch_size)
    epoch_s = steps_per_epoch * per_step + val_s
    log = [json.loads(ln) for ln in (REPO / "models/training-log.jsonl").read_text().splitlines() if ln.strip()]
    logged = float(np.median([r["epoch_seconds"] for r in log])) if log else None
    info = machine()
    print(f"\n## Training throughput: {cfg.model}, {cfg.image_size} px, batch {cfg.batch_size}, "
          f"{args.steps} timed steps\n")
    print_machine(info)
    print(f"- torch threads {torch.get_num_threads()}, device {device}, autocast {amp}\n")
    rows = [
        ["images/s (augment + step)", cfg.batch_size / per_step],
        ["s per step, median", per_step],
        ["  of which augmentation", float(np.median(aug_s))],
        ["  of which forward + backward + AdamW + EMA", float(np.median(step_s))],
        ["validation pass, raw + EMA model (s)", val_s],
        [f"estimated s per epoch ({steps_per_epoch} steps + validation)", epoch_s],
        [f"estimated min for {cfg.epochs} epochs", epoch_s * cfg.epochs / 60],
        [f"median epoch_seconds in models/training-log.jsonl (the shipped run, {shipped['image_size']} px)", logged],
    ]
    print(table(["measure", "value"], rows, digits=3))
    write_json(args.json, {"machine": info, "config": asdict(cfg), "threads": torch.get_num_threads(),
                           "autocast": str(amp), "seconds_per_step": per_step,
                           "images_per_s": cfg.batch_size / per_step, "aug_s": aug_s, "step_s": step_s,
                           "val_s": val_s, "epoch_s_estimate": epoch_s, "logged_epoch_s_median": logged})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
