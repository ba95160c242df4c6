"""What ``train --resume`` reads back from a run folder and puts back into the new process: last.pt, checked against
the run (cut short, a best.pt copied over it, another network's or another setting's weights) before any image is
decoded, and its state restored into the network, optimiser, schedule and generators.

Why its own module: train.py holds the loop on one page; checkpoints.py writes the files, this reads them back.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
from torch.optim.swa_utils import AveragedModel

from .checkpoints import pinned_settings, recorded_classes, run_network
from .classes import CLASSES
from .train_config import RESUMABLE_CHANGES, TrainConfig
from .wording import counted

#: What last.pt holds: everything --resume restores (and its "settings", :func:`~.checkpoints.pinned_settings`, in
#: newer ones).
TRAINING_STATE = ("model", "ema", "optimizer", "scheduler", "generator", "torch_rng", "epoch", "best")


def resume_run(cfg: TrainConfig, preprocess: dict) -> dict | str:
    """RUN/last.pt for ``train --resume`` (:func:`load_training_state`), checked against the run's own classes, those
    of its split.json (this version's, where an older one records none), or the reason it cannot be resumed. Why: a
    run of other classes (3, by another version) had its own last.pt compared with this version's 4 classes and said
    to be "another run's last.pt copied over it"; the run's classes are said instead, and what to do."""
    run = Path(cfg.out)
    classes = recorded_classes(run)
    own = isinstance(classes, list) and bool(classes) and all(isinstance(c, str) for c in classes)
    if own and classes != list(CLASSES):  # load_dataset lists this version's classes: the run's cannot be trained
        return (f"cannot resume {run}: it was trained on {counted(len(classes), 'class', 'classes')} "
                f"({', '.join(classes)}; its split.json), this version trains {len(CLASSES)} ({', '.join(CLASSES)}); "
                "resume it with the version that trained it, or train a new run (another --out) on images of each "
                "of this version's classes")
    return load_training_state(run / "last.pt", cfg.epochs, cfg.model, pinned_settings(cfg, classes if own else
                               CLASSES), preprocess, "its split.json has" if own else "this version trains")


def load_training_state(path: Path, epochs: int | None = None, model_name: str | None = None,
                        settings: dict | None = None, preprocess: dict | None = None,
                        classes_from: str = "this version trains") -> dict | str:
    """last.pt for ``--resume``, or the reason it cannot be (a string: rank 0 sends it to the other ranks of a
    distributed run). A file cut short said "Invalid argument (writing RUN)", as if writing had failed, and a best.pt
    copied over it was a KeyError traceback. ``epochs``: the resumed run's length; one shorter than the epochs
    already trained trained nothing and rewrote config.json with it, so the run's config said 1 epoch of a run whose
    log, best.pt and exported model had 3. ``model_name``: the run's network; another's weights (a last.pt copied from
    a run beside it) were a 'size mismatch' traceback after every image's decode. ``settings``: the run's
    :func:`~.checkpoints.pinned_settings`, which last.pt's own must equal (a last.pt written before they were recorded
    has none: it resumes as before). The best.pt beside it must be the run's too (:func:`_other_best`; ``preprocess``:
    the run's, as a model's metadata records it). ``classes_from``: where ``settings``' classes come from, as
    :func:`_other_settings` says them (:func:`resume_run`: the run's split.json)."""
    where = f"cannot resume {path.parent}: its {path.name}"
    again = "; --overwrite starts the run again"
    if isinstance(ck := read_training_state(path), str):
        return f"{where} {ck}{again}"
    if other := _other_settings(ck.get("settings"), settings or {}, classes_from=classes_from):
        return f"{where} was trained with {other} (another run's last.pt copied over it?){again}"
    if model_name is not None and not _weights_fit(model_name, ck["model"], (settings or {}).get("classes", CLASSES)):
        return (f"{where} holds the weights of another network than the run's {model_name} (another run's last.pt "
                f"copied over it?){again}")
    if epochs is not None and epochs < (done := ck["epoch"] + 1):
        return (f"cannot resume {path.parent} with --epochs {epochs}: it has trained {done} epochs already; "
                f"--epochs above {done} trains it on")
    if what := _other_best(path.parent / "best.pt", ck, model_name, settings, preprocess, classes_from):
        return (f"cannot resume {path.parent}: its best.pt {what}{again}, or remove best.pt to resume: the best epoch "
                "from here on becomes it")
    return ck


def read_training_state(path: Path) -> dict | str:
    """A run's last.pt, loaded, or what is wrong with it ("is corrupt or truncated (...)"): --resume cannot go on from
    such a file, and export cannot check best.pt against the best score it records (:func:`other_best_in_run`)."""
    try:
        ck = torch.load(path, map_location="cpu", weights_only=False)
    except PermissionError:
        raise
    except Exception:  # torch raises several types (OSError, RuntimeError, UnpicklingError) for a cut file
        return "is corrupt or truncated (cut short in a copy, or written by a run that was killed)"
    if not isinstance(ck, dict) or any(k not in ck for k in TRAINING_STATE):
        return "is not the training state 'braintumor train' writes (a best.pt copied over it?)"
    return ck


def _other_best(path: Path, ck: dict, model_name: str | None, settings: dict | None, preprocess: dict | None,
                classes_from: str = "this version trains") -> str | None:
    """How best.pt differs from the run whose last.pt is ``ck`` (None: it does not, or there is none). Why: another
    run's best.pt copied in stayed the run's best.pt through --resume unless a later epoch beat last.pt's best score,
    and ``export RUN`` shipped the other run's weights. Its network, preprocessing, classes and settings (recorded in
    newer ones) must be the run's, and its score the best that last.pt records, of an epoch it has trained. Said with
    its likely cause: a corrupt one was said to be another run's, which export would ship."""
    if not path.exists():
        return None
    try:
        best = torch.load(path, map_location="cpu", weights_only=False)
    except PermissionError:
        raise
    except Exception:  # as for last.pt: several types for a cut file
        return "is corrupt or truncated (cut short in a copy, or written by a run that was killed)"
    meta = best.get("meta") if isinstance(best, dict) else None
    if not isinstance(meta, dict) or "model" not in best:
        return "is not the best.pt 'braintumor train' writes (a last.pt copied over it?)"
    now = {**(preprocess or {}), **(settings or {}), **({"model": model_name} if model_name else {})}
    if other := other_best_settings(best, now, settings or {}, classes_from) or other_best_score(best, ck):
        return f"{other} (another run's best.pt copied into it?), and export would ship it as this run's"
    return None


def other_best_score(best: dict, ck: dict) -> str | None:
    """How a best.pt's epoch and score differ from the best that last.pt (``ck``, its training state) records (None:
    they do not). Why: a twin run's best.pt written before best.pt recorded its settings, of another --seed only,
    agrees with the run's config.json on everything it records; only its score tells it apart."""
    done, was = ck["epoch"] + 1, list(ck["best"])
    acc, loss, epoch = best.get("val_acc"), best.get("val_loss"), best.get("epoch")
    score = [acc, -loss] if _number(acc) and _number(loss) else [None, None]
    if epoch == done + 1 and None not in score and score > was:  # written before an interruption kept its last.pt
        return None  # from being written: that epoch, of this run, is trained again
    if score != was or not (isinstance(epoch, int) and 0 < epoch <= done):
        # digits enough to tell two scores apart: "val_ema acc 0.2500 (loss 1.3871), where ... is" the same text
        digits = next((d for d in (4, 6, 8) if _score(*score, d) != _score(*was, d)), 4 if score == was else 17)
        had = f"is of epoch {epoch} with {_score(*score, digits)}" if _number(epoch) else \
            f"records {_score(*score, digits)} and no epoch"  # was "is of epoch None"
        return f"{had}, where its last.pt's best of {counted(done, 'epoch')} is {_score(*was, digits)}"
    return None


def other_best_in_run(best: dict, run: Path, config: dict, state: dict | None) -> str | None:
    """How a best.pt (loaded) is not that of the run folder ``run`` whose config.json is ``config`` (None: it is),
    for export: its settings against config.json, its classes against split.json's (config.json records none), and
    its epoch and score against the best that last.pt (``state``, :func:`read_training_state`; None: there is none)
    records (:func:`other_best_score`). Why: export compared config.json alone, so a twin run's older best.pt, of
    another --seed only, was shipped as this run's, which --resume refused (:func:`_other_best`)."""
    now = {k: v for k, v in config.items() if k not in RESUMABLE_CHANGES}
    if isinstance(classes := recorded_classes(run), list):
        now["classes"] = classes
    if other := other_best_settings(best, now, classes_from="its split.json has"):
        return other
    return other_best_score(best, state) if state is not None else None


def other_best_settings(best: dict, now: dict, config: dict | None = None,
                        classes_from: str = "this version trains") -> str | None:
    """How a best.pt (loaded, with its "meta") was trained otherwise than ``now`` says, as "was trained with
    image_size 48, its config.json has image_size 32" (None: it was not); ``config`` as for :func:`_other_settings`.
    What is compared: its preprocessing, network and classes (its meta), and its settings (recorded in newer ones).
    Why one home: --resume checks the best.pt beside last.pt with it, export the best.pt it ships against the run's
    config.json (another run's best.pt copied in was exported as this run's). ``classes_from``: where ``now``'s
    classes come from, as :func:`_other_settings` says them (export: the run's split.json)."""
    meta = best.get("meta") if isinstance(best.get("meta"), dict) else {}
    pre = meta.get("preprocess") if isinstance(meta.get("preprocess"), dict) else {}
    had = {**pre, "model": meta.get("model_name"), "classes": meta.get("classes"),
           **(best.get("settings") if isinstance(best.get("settings"), dict) else {})}
    other = _other_settings(had, now, config, classes_from)
    return f"was trained with {other}" if other else None


def _other_settings(had: object, now: dict, config: dict | None = None,
                    classes_from: str = "this version trains") -> str | None:
    """The first setting ``had`` (a checkpoint's record, {} where it has none) and ``now`` (the run's) both name with
    other values, said as "image_size 48, its config.json has image_size 32"; ``config``: which of them config.json
    holds (default: all), the others are preprocessing; ``classes_from``: who has ``now``'s classes ("this version
    trains" on --resume; "its split.json has" for export, which reads the run's own: it said "this version trains")."""
    had = had if isinstance(had, dict) else {}
    config = now if config is None else config
    if (other := next((n for n in now if n in had and had[n] != now[n]), None)) is None:
        return None
    run = classes_from if other == "classes" else \
        f"its config.json has {other}" if other in config else f"the run preprocesses with {other}"
    return f"{other} {_value(had[other])}, {run} {_value(now[other])}"


def _number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _score(acc: object, neg_loss: object, digits: int = 4) -> str:
    """A (val_ema_acc, -val_ema_loss) score as the epoch lines say it (``digits``: more, where those say two alike)."""
    if not (_number(acc) and _number(neg_loss)):
        return "no score"
    return f"val_ema acc {acc:.{digits}f} (loss {-neg_loss:.{digits}f})"


def _value(value: object) -> str:
    """A setting's value as config.json spells it (a name as it is: printed as it reads); one it cannot hold (another
    tool's checkpoint, hand-made) is said so, where json.dumps's TypeError was a traceback."""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value)
    except (TypeError, ValueError):
        return "(a value config.json cannot hold)"


def _weights_fit(model_name: str, weights: object, classes: Sequence[str]) -> bool:
    """Whether ``weights`` load into the network the run trains (:func:`~.checkpoints.run_network`) of ``classes``."""
    try:
        run_network(model_name, classes).load_state_dict(weights)
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
