"""A training run's checkpoints and epoch log, written so that an interruption or a full disk costs at most the
epoch in progress: never a half-written checkpoint, never a traceback, never an epoch logged twice after --resume.

Why its own module: train.py writes them every epoch and reads them back on resume; these are the two rules.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import torch

from .atomic_files import written_whole
from .train_config import ConfigError

#: What last.pt holds: everything --resume restores.
TRAINING_STATE = ("model", "ema", "optimizer", "scheduler", "generator", "torch_rng", "epoch", "best")


def save_checkpoint(obj: dict, path: Path) -> None:
    """``torch.save`` via a temporary file, renamed when complete. A failed write (a full disk: torch raises
    RuntimeError, not OSError) removes the temporary file and is one OSError that names the file."""
    try:
        with written_whole(path) as tmp:  # removed on any error, an interruption too
            torch.save(obj, tmp)
    except BaseException as exc:
        if isinstance(exc, OSError):
            raise
        if isinstance(exc, RuntimeError):  # torch's own text ("unexpected pos ...") hides the cause
            raise OSError(0, "cannot write a checkpoint (disk full, or a file size limit?)", str(path)) from None
        raise


def check_finite(model: torch.nn.Module, epoch: int, lr: float, kept: bool) -> None:
    """ConfigError for weights that are no longer numbers, which every later step keeps: the run diverged (``--lr
    1e30`` trained on NaN losses to exit code 0, and export wrote a network that answers NaN to everything). Called
    before the epoch's checkpoints are written: ``kept``, those of an earlier epoch stay as they were."""
    if not all(bool(t.isfinite().all()) for t in model.state_dict().values() if t.is_floating_point()):
        _diverged(epoch, "the network's weights are no longer numbers", lr, kept)


def check_validation_losses(row: dict, lr: float, kept: bool) -> None:
    """ConfigError for an epoch whose validation loss (raw or EMA weights) is not a number: weights still finite but
    so large that the network's logits overflow (``--lr 100``: train loss 185882, val_loss NaN), a network that
    answers NaN. The run logged ``NaN`` into metrics.jsonl, which is not JSON, and went on to exit code 0."""
    bad = [name for name in ("val_loss", "val_ema_loss") if not math.isfinite(row[name])]
    if bad:
        _diverged(row["epoch"], f"its {' and '.join(bad)} {'is' if len(bad) == 1 else 'are'} no longer a number", lr,
                  kept)


def _diverged(epoch: int, what: str, lr: float, kept: bool) -> None:
    left = ("best.pt and last.pt keep an earlier epoch's", "start the run again (--overwrite)") if kept else \
        ("no checkpoint was written", "start the run again")
    raise ConfigError(f"training diverged in epoch {epoch}: {what} (NaN or infinite); {left[0]}; {left[1]} with a "
                      f"lower --lr than {lr:g}")


def keep_epochs_through(log: Path, epoch: int) -> None:
    """Drop the rows of epochs after ``epoch`` from the jsonl epoch log: an epoch's row is written before its
    checkpoint, so an interruption between the two left a row that the resumed run writes again."""
    if not log.exists():
        return
    rows = log.read_text().splitlines(keepends=True)
    kept = []
    for line in rows:
        try:
            if json.loads(line).get("epoch", 0) > epoch:
                continue
        except ValueError:  # a line cut short by the interruption
            continue
        kept.append(line)
    if kept != rows:  # rewritten whole or not at all
        with written_whole(log) as tmp:
            tmp.write_text("".join(kept))


def recorded_fingerprint(run: Path) -> str | None:
    """The data fingerprint in a run's split.json (None without one): a resumed run must train on that data, or its
    split is drawn again and validates on images the run has already trained on."""
    try:
        return json.loads((run / "split.json").read_text()).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return None


def other_data(run: Path, data: str, root: Path) -> str:
    """The error for a resumed run whose images are not those of its split.json. A run trained with ``--data X`` and
    resumed without it read the default dataset and said only "restore that data to resume": the run's config.json
    names the --data it was trained with, so the error names it too."""
    try:
        was = json.loads((run / "config.json").read_text()).get("data")
    except (OSError, ValueError, AttributeError):
        was = None
    hint = f"it was trained with --data {was}; give that, or where its images are now" if isinstance(was, str) and \
        was != data else "restore that data"
    return (f"{run} was trained on other images than {root} holds now (the fingerprint in its split.json differs): "
            f"{hint} to resume, or start a new run")


def load_training_state(path: Path, epochs: int | None = None) -> dict | str:
    """last.pt for ``--resume``, or the reason it cannot be (a string: rank 0 sends it to the other ranks of a
    distributed run). A file cut short said "Invalid argument (writing RUN)", as if writing had failed, and a best.pt
    copied over it was a KeyError traceback. ``epochs``: the resumed run's length; one shorter than the epochs
    already trained trained nothing and rewrote config.json with it, so the run's config said 1 epoch of a run whose
    log, best.pt and exported model had 3."""
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
    if epochs is not None and epochs < (done := ck["epoch"] + 1):
        return (f"cannot resume {path.parent} with --epochs {epochs}: it has trained {done} epochs already; "
                f"--epochs above {done} trains it on")
    return ck
