"""Training settings, importable without torch (the CLI builds its flags from them)."""

from __future__ import annotations

from dataclasses import dataclass

from .preprocess import IMAGE_SIZE


class ConfigError(ValueError):
    """Settings that cannot work together; the CLI prints the message as one error line."""


@dataclass
class TrainConfig:
    data: str
    out: str
    model: str = "tumornet-s"
    image_size: int = IMAGE_SIZE
    epochs: int = 110
    batch_size: int = 64  # global: split evenly over the processes under torchrun
    lr: float = 3e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    warmup: float = 0.05
    ema_decay: float = 0.998
    val_fraction: float = 0.1
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"  # auto | bf16 | fp16 | fp32
    limit_per_class: int = 0  # >0: use only that many training images per class (smoke tests)
    cache_dir: str | None = None
    sync_bn: bool = False  # torchrun on GPUs: BatchNorm statistics over the global batch
