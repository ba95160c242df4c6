"""Where a training runs and in which precision: ``--device`` and ``--precision`` made into a torch device and an
autocast dtype, and the validation pass run there in it (used by :mod:`braintumor.train` and the benchmarks that time
its recipe)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import torch

from .preprocess import INPUT_SCALE
from .train_config import ConfigError

if TYPE_CHECKING:
    from .distributed import Dist
    from .train_config import TrainConfig


def pick_device(name: str, run: str | None = None) -> torch.device:
    """The torch device of ``--device name``; ``run``: the run folder whose config.json gave it (--resume without
    --device), which the refusal names, as the user typed no such flag."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        device = torch.device(name)
    except RuntimeError:  # e.g. "gpu": torch's message lists every device type it knows
        raise ConfigError(f"unknown --device '{name}': auto, cpu, cuda, cuda:1 ...") from None
    if device.type == "cuda" and not torch.cuda.is_available():  # was torch's traceback when the model moved there
        here = f"no CUDA GPU can be used here (torch {torch.__version__})"
        if run is not None:
            raise ConfigError(f"the run {run} was trained with --device {name} (its config.json), and {here}: resume "
                              "with --device cpu or --device auto")
        raise ConfigError(f"--device {name}: {here}; use --device cpu or auto")
    return device


def pick_autocast_dtype(device: torch.device, precision: str) -> torch.dtype | None:
    """bf16 on CPUs that support it (about 2x faster here), bf16/fp16 AMP on CUDA."""
    if precision == "fp32":
        return None
    if precision in ("bf16", "fp16"):
        return torch.bfloat16 if precision == "bf16" else torch.float16
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    # Without native bf16 (e.g. AVX2-only CPUs) autocast is ~9x slower than fp32: measure, don't assume.
    native_bf16 = torch.backends.mkldnn.is_available() and torch.ops.mkldnn._is_mkldnn_bf16_supported()
    return torch.bfloat16 if native_bf16 else None


@torch.no_grad()
def evaluate_logits(model: torch.nn.Module, images: torch.Tensor, device: torch.device,
                    amp: torch.dtype | None, batch_size: int = 256) -> torch.Tensor:
    """Float32 logits on the CPU for uint8 crops ``images`` (N, S, S), in eval mode, on ``device`` under the training's
    autocast ``amp``: the validation pass of every epoch, batched so that a large split fits the device."""
    model.eval()
    out = []
    for i in range(0, len(images), batch_size):
        x = (images[i:i + batch_size].to(device).float() * INPUT_SCALE).unsqueeze(1)
        x = x.contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=amp, enabled=amp is not None):
            out.append(model(x).float().cpu())
    return torch.cat(out)


def resumed_device(cfg: TrainConfig, dd: Dist, device: torch.device, own: bool = False) -> torch.device:
    """The device of the run's own --device (config.json's, unless one was typed): the flag's default ("auto") was
    picked before it was read, so a run of --device cpu resumed on a GPU machine went on there. Under torchrun the
    group already talks over that device's backend: another kind is refused, never switched. ``own``: cfg.device is
    config.json's (not typed), said so where it cannot be used."""
    want = pick_device(cfg.device, str(cfg.out) if own else None)
    if not dd.enabled:
        return want
    if want.type != device.type:
        raise ConfigError(f"cannot resume {cfg.out} on {device.type} under torchrun: it was trained with --device "
                          f"{cfg.device} ({'its config.json' if own else want.type}); give --device {device.type} to "
                          "go on there")  # "(cuda)" of --device cuda said nothing; where the setting is read does
    return device
