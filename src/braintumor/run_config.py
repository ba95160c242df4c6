"""A run's config.json as the commands after training read it (export, calibrate, quantize, orientation,
``train --resume``): the one place that checks it is what ``braintumor train`` writes."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

from .file_names import os_document
from .train_config import ConfigError, TrainConfig

_KINDS: dict[str, tuple[type, ...]] = {"int": (int,), "float": (int, float), "bool": (bool,), "str": (str,),
                                       "None": (type(None),)}


def _of_type(value: object, annotation: str) -> bool:
    """Whether a config.json value fits a TrainConfig annotation ("int", "float | None", ...); true is no number."""
    kinds = tuple(k for part in annotation.split("|") for k in _KINDS[part.strip()])
    return isinstance(value, kinds) and not (isinstance(value, bool) and bool not in kinds)


def wrong_settings(config: dict) -> list[str]:
    """The settings of ``config`` whose value is of another type than TrainConfig's (``image_size '160'``), as
    ``name value``: a hand-edited one was a TypeError traceback on --resume, and went silently into an exported
    model, a calibration or a quantisation."""
    return [f"{n} {config[n]!r}" for n, f in TrainConfig.__dataclass_fields__.items()
            if n in config and not _of_type(config[n], str(f.type))]


#: Settings that say where things were, not what was trained: checked where they are used (the dataset may have moved).
_PLACES = ("data", "out", "cache_dir")


def refused_setting(config: dict) -> str | None:
    """Why 'braintumor train' would refuse ``config``'s settings (of the right types: :func:`wrong_settings`), with
    its own checks (TrainConfig's bounds, the networks it builds) and the settings named as the file names them
    (``image_size must be in [32, 1024], got 5000``); None where it would not. Why: an impossible value edited into a
    run's config.json (image_size 5000, epochs 0, a NaN) went silently into an exported model's metadata, and into
    calibrate's augmented copies (erase 5: every copy erased)."""
    fields = TrainConfig.__dataclass_fields__
    try:
        TrainConfig(**{n: config[n] for n in fields if n in config and n not in _PLACES}, data="", out="")
    except ConfigError as exc:
        return re.sub(r"--([a-z][a-z-]*)", lambda m: m[1].replace("-", "_") if m[1].replace("-", "_") in fields
                      else m[0], str(exc))
    try:  # the registry needs torch, which quantize --no-calibrate runs without (it builds no network)
        from .model import MODELS
    except ImportError:
        return None
    if (name := config.get("model", fields["model"].default)) not in MODELS:
        return f"model '{name}' is no network this version builds ({', '.join(MODELS)})"
    return None


def read_run_config(run_dir: str | os.PathLike, names: tuple[str, ...] = ("config.json",),
                    checked: bool = True) -> dict:
    """A run's settings, the first of ``names`` in ``run_dir`` that exists ({} where none does: a run folder of an
    older version), with its names as this process lists files; ConfigError for a file cut short or edited by hand,
    which was a JSONDecodeError traceback in export, calibrate, quantize and orientation. ``checked``: also for a
    setting of the wrong type (:func:`wrong_settings`) or one train refuses (:func:`refused_setting`); --resume words
    those itself."""
    path = next((Path(run_dir) / n for n in names if (Path(run_dir) / n).is_file()), None)
    if path is None:
        return {}
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}; it is written by 'braintumor train'") from None
    if not isinstance(config, dict):
        raise ConfigError(f"cannot read {path}: not a run's settings (a JSON object); it is written by "
                          "'braintumor train'")
    if checked and (wrong := wrong_settings(config)):
        raise ConfigError(f"cannot read {path}: it has {', '.join(wrong)}, not a value 'braintumor train' writes")
    if checked and (refused := refused_setting(config)):
        raise ConfigError(f"cannot read {path}: its {refused}; 'braintumor train' writes no such value")
    return os_document(config)
