"""TrainConfig's checks of its settings, each range and each pair that cannot work together, apart from the settings
themselves (train_config.py had reached its size limit). Importable without torch, as train_config is."""

from __future__ import annotations

import math
from pathlib import Path

from .image_files import file_kind, is_hidden_name
from .root_splits import data_folders
from .train_config import (
    MAX_AUGMENT_SHIFT,
    MAX_AUGMENT_STRENGTH,
    MAX_BATCH_SIZE,
    MAX_DISTILL_TEMPERATURE,
    MAX_EPOCHS,
    MAX_IMAGE_SIZE,
    MAX_LR,
    MAX_SEED,
    MAX_WEIGHT_DECAY,
    MIN_IMAGE_SIZE,
    SIZE_STEP,
    ConfigError,
    TrainConfig,
    augment_off_items,
)


def _below(folder: Path, path: Path, hidden_ok: bool) -> bool:
    """Whether ``path`` lies below ``folder`` (with ``hidden_ok``: and in no hidden folder, which is never data)."""
    path, folder = path.resolve(), folder.resolve()
    return path.is_relative_to(folder) and not (hidden_ok and any(is_hidden_name(p) for p in
                                                                  path.relative_to(folder).parts))


def _cache_dir_refusal(given: str) -> str | None:
    """Why no cache could ever be made at ``given``: a file there or above it. Both trained, decoding every image and
    caching none (a warning at the end of decoding at best), and the next run decoded them all again."""
    cache = Path(given)
    try:
        there = next(p for p in (cache, *cache.parents) if p.exists())  # "." and "/" exist
    except (OSError, StopIteration):  # a folder this user may not look into: the cache's warning says it later
        return None
    if there.is_dir():
        return None
    if there == cache:
        return f"--cache-dir {given} is {file_kind(there)}, not a folder: nothing could be cached in it; name a " \
               "folder (made if missing)"
    return f"--cache-dir {given} lies below the file {there}: no folder can be made there; name a folder (made if " \
           "missing)"


def check_settings(cfg: TrainConfig) -> None:
    """ConfigError for the first setting of ``cfg`` out of its range or at odds with another (TrainConfig's
    ``__post_init__``: the Python API and a run's config.json are checked as the flags are)."""
    if not 1 <= cfg.epochs <= MAX_EPOCHS:
        raise ConfigError(f"--epochs must be in [1, {MAX_EPOCHS}], got {cfg.epochs}")
    # a run folder (or cache) inside the dataset became one of its class folders (and broke it for every later
    # command); a hidden cache folder is never data
    read = data_folders(cfg.data, "Training") if cfg.data else []
    for flag, path, hidden_ok in (("--out", cfg.out, False), ("--cache-dir", cfg.cache_dir, True)):
        if path and any(_below(f, Path(path), hidden_ok) for f in read):
            raise ConfigError(f"{flag} {path} is inside the dataset {cfg.data}: its files would be read as "
                              "data; choose a folder outside it")
        if path and cfg.data and Path(path).resolve() == Path(cfg.data).resolve():  # read, never written
            raise ConfigError(f"{flag} {path} is the dataset {cfg.data} itself: a dataset is input, never output; "
                              "choose a folder outside it")
    if cfg.cache_dir and (refused := _cache_dir_refusal(cfg.cache_dir)):
        raise ConfigError(refused)
    if not 0.0 < cfg.val_fraction < 1.0:  # 0 left no validation split (a traceback after decoding everything)
        raise ConfigError(f"--val-fraction must be between 0 and 1, got {cfg.val_fraction}")
    if not 0.0 < cfg.lr <= MAX_LR:  # nan, inf; 1e30 trained a whole epoch before it was told it diverged
        raise ConfigError(f"--lr must be in (0, {MAX_LR:g}], got {cfg.lr}")
    # no flags (the Python API, a run's config.json): nan was a ValueError traceback (warmup) or NaN losses
    for name, low, high, top in (("weight_decay", 0.0, MAX_WEIGHT_DECAY, True), ("label_smoothing", 0.0, 1.0, False),
                                 ("warmup", 0.0, 1.0, True)):
        value = getattr(cfg, name)
        if not (low <= value < high or (top and value == high)):
            raise ConfigError(f"{name} must be in [{low:g}, {high:g}{']' if top else ')'}, got {value}")
    # a negative limit trained on 5 images per class; a seed's message names both ends ("must be >= 0" of -1)
    for name, top in (("seed", MAX_SEED), ("split_seed", MAX_SEED), ("limit_per_class", None)):
        value = getattr(cfg, name)
        if value is not None and not 0 <= value <= (math.inf if top is None else top):
            raise ConfigError(f"--{name.replace('_', '-')} must be {'>= 0' if top is None else f'in [0, {top}]'}"
                              f", got {value}")
    if not 2 <= cfg.batch_size <= MAX_BATCH_SIZE:
        raise ConfigError(f"--batch-size must be in [2, {MAX_BATCH_SIZE}]"
                          + " (BatchNorm needs two images)" * (cfg.batch_size < 2) + f", got {cfg.batch_size}")
    if not MIN_IMAGE_SIZE <= cfg.image_size <= MAX_IMAGE_SIZE:  # networks reduce by 32: below, no last pixel
        raise ConfigError(f"--image-size must be in [{MIN_IMAGE_SIZE}, {MAX_IMAGE_SIZE}], got {cfg.image_size}")
    if cfg.start_size and not SIZE_STEP <= cfg.start_size <= cfg.image_size:
        raise ConfigError(f"--start-size must be between {SIZE_STEP} and --image-size ({cfg.image_size}), "
                          f"got {cfg.start_size}")
    if not 0.0 <= cfg.ema_decay < 1.0:
        raise ConfigError(f"--ema-decay must be in [0, 1), got {cfg.ema_decay}")
    if not 0.0 <= cfg.distill_weight <= 1.0:
        raise ConfigError(f"--distill-weight must be in [0, 1], got {cfg.distill_weight}")
    if not 0 < cfg.distill_temperature <= MAX_DISTILL_TEMPERATURE:  # nan, inf: NaN losses
        raise ConfigError(f"--distill-temperature must be in (0, {MAX_DISTILL_TEMPERATURE:g}], got "
                          f"{cfg.distill_temperature}")
    if cfg.teacher and cfg.start_size:
        raise ConfigError("--teacher takes images of its own size only: it cannot be combined with --start-size")
    for name in ("mixup", "cutmix"):  # Beta(ALPHA, ALPHA): inf and nan trained on NaN losses to exit code 0
        value = getattr(cfg, name)
        if not (value >= 0 and math.isfinite(value)):
            raise ConfigError(f"--{name} must be a finite number >= 0 (0: off), got {value}")
    if cfg.mixup and cfg.cutmix:
        raise ConfigError("--mixup and --cutmix are two ways to mix a batch: choose one")
    for name in ("erase", "bias_field", "reframe", "histogram_shift", "elastic", "vflip", "mixstyle"):  # chances
        value = getattr(cfg, name)
        if not 0.0 <= value <= 1.0:
            raise ConfigError(f"--{name.replace('_', '-')} must be in [0, 1], got {value}")
    if not 0.0 <= cfg.augment_strength <= MAX_AUGMENT_STRENGTH:
        raise ConfigError(f"--augment-strength must be in [0, {MAX_AUGMENT_STRENGTH:g}], "
                          f"got {cfg.augment_strength}")
    augment_off_items(cfg.augment_off)
    if cfg.augment_intensity is not None and not 0.0 <= cfg.augment_intensity <= MAX_AUGMENT_STRENGTH:
        raise ConfigError(f"--augment-intensity must be in [0, {MAX_AUGMENT_STRENGTH:g}], "
                          f"got {cfg.augment_intensity}")
    if cfg.augment_shift is not None and not 0.0 <= cfg.augment_shift <= MAX_AUGMENT_SHIFT:
        raise ConfigError(f"--augment-shift must be in [0, {MAX_AUGMENT_SHIFT:g}], got {cfg.augment_shift}")
    try:  # the preprocessing's own check, early: before any image is read
        cfg.preprocess_config()
    except ValueError as exc:
        raise ConfigError(f"--background-percentile: {exc}") from None
    if not 0.0 < cfg.ramp <= 1.0:
        raise ConfigError(f"--ramp must be in (0, 1], got {cfg.ramp}")
