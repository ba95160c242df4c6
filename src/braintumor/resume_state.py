"""What ``train --resume`` reads back from a run folder and puts back into the new process: last.pt, checked against
the run (cut short, a best.pt copied over it, another network's or another setting's weights) before any image is
decoded, and its state restored into the network, optimiser, schedule and generators.

Why its own module: train.py holds the loop on one page; checkpoints.py writes the files, this reads them back.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch.optim.swa_utils import AveragedModel

from .classes import CLASSES

#: What last.pt holds: everything --resume restores (and its "settings", :func:`~.checkpoints.pinned_settings`, in
#: newer ones).
TRAINING_STATE = ("model", "ema", "optimizer", "scheduler", "generator", "torch_rng", "epoch", "best")


def load_training_state(path: Path, epochs: int | None = None, model_name: str | None = None,
                        settings: dict | None = None) -> dict | str:
    """last.pt for ``--resume``, or the reason it cannot be (a string: rank 0 sends it to the other ranks of a
    distributed run). A file cut short said "Invalid argument (writing RUN)", as if writing had failed, and a best.pt
    copied over it was a KeyError traceback. ``epochs``: the resumed run's length; one shorter than the epochs
    already trained trained nothing and rewrote config.json with it, so the run's config said 1 epoch of a run whose
    log, best.pt and exported model had 3. ``model_name``: the run's network; another's weights (a last.pt copied from
    a run beside it) were a 'size mismatch' traceback after every image's decode. ``settings``: the run's
    :func:`~.checkpoints.pinned_settings`, which last.pt's own must equal (a last.pt written before they were recorded
    has none: it resumes as before)."""
    where = f"cannot resume {path.parent}: its {path.name}"
    again = "; --overwrite starts the run again"
    try:
        ck = torch.load(path, map_location="cpu", weights_only=False)
    except PermissionError:
        raise
    except Exception:  # torch raises several types (OSError, RuntimeError, UnpicklingError) for a cut file
        return f"{where} is corrupt or truncated (cut short in a copy, or written by a run that was killed){again}"
    if not isinstance(ck, dict) or any(k not in ck for k in TRAINING_STATE):
        return f"{where} is not the training state 'braintumor train' writes (a best.pt copied over it?){again}"
    had = ck.get("settings") if isinstance(ck.get("settings"), dict) else {}
    if other := next((n for n in (settings or {}) if n in had and had[n] != settings[n]), None):
        now = "this version trains" if other == "classes" else f"its config.json has {other}"
        return (f"{where} was trained with {other} {_value(had[other])}, {now} {_value(settings[other])} (another "
                f"run's last.pt copied over it?){again}")
    if model_name is not None and not _weights_fit(model_name, ck["model"]):
        return (f"{where} holds the weights of another network than the run's {model_name} (another run's last.pt "
                f"copied over it?){again}")
    if epochs is not None and epochs < (done := ck["epoch"] + 1):
        return (f"cannot resume {path.parent} with --epochs {epochs}: it has trained {done} epochs already; "
                f"--epochs above {done} trains it on")
    return ck


def _value(value: object) -> str:
    """A setting's value as config.json spells it (a name as it is: printed as it reads)."""
    return value if isinstance(value, str) else json.dumps(value)


def _weights_fit(model_name: str, weights: object) -> bool:
    """Whether ``weights`` load into a fresh ``model_name`` network of the classes training needs (every one)."""
    from .model import create_model

    try:
        create_model(model_name, len(CLASSES)).load_state_dict(weights)
    except (RuntimeError, TypeError, ValueError, KeyError, AttributeError):
        return False
    return True


def restore_training_state(ck: dict, model: torch.nn.Module, ema: AveragedModel, opt: torch.optim.Optimizer,
                           sched: torch.optim.lr_scheduler.LRScheduler, gen: torch.Generator,
                           scaler: torch.amp.GradScaler) -> tuple[int, tuple[float, float]]:
    """Put last.pt's state (:func:`load_training_state`) back, so the resumed run continues exactly where it stopped;
    returns the first epoch left to train and the best (val_ema_acc, -val_ema_loss) score so far."""
    model.load_state_dict(ck["model"])
    ema.load_state_dict(ck["ema"])
    opt.load_state_dict(ck["optimizer"])
    sched.load_state_dict(ck["scheduler"])
    gen.set_state(ck["generator"])
    torch.set_rng_state(ck["torch_rng"])
    if ck.get("scaler"):  # fp16 on a GPU: the loss scale reached; a new one (65536) made --resume inexact
        scaler.load_state_dict(ck["scaler"])
    return ck["epoch"] + 1, tuple(ck["best"])
