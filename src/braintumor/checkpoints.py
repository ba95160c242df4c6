"""A training run's checkpoints and epoch log, written so that an interruption or a full disk costs at most the
epoch in progress: never a half-written checkpoint, never a traceback, never an epoch logged twice after --resume.

Why its own module: train.py writes them every epoch; these are the two rules (resume_state.py reads them back).
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from .atomic_files import written_whole
from .classes import CLASSES
from .file_names import os_document
from .train_config import RESUMABLE_CHANGES, ConfigError, TrainConfig
from .wording import counted

if TYPE_CHECKING:
    from .data import Dataset


def pinned_settings(cfg: TrainConfig, classes: Sequence[str] = CLASSES) -> dict:
    """What last.pt was trained with that a resumed run must share: every setting of its config.json that --resume
    keeps (all but :data:`RESUMABLE_CHANGES`), and the class names (training's: every one). Why: another run's last.pt
    of the same network and another --image-size (its weights fit any size) was resumed without a word."""
    return {**{n: getattr(cfg, n) for n in TrainConfig.__dataclass_fields__ if n not in RESUMABLE_CHANGES},
            "classes": list(classes)}


def run_network(model_name: str, classes: Sequence[str] = CLASSES) -> torch.nn.Module:
    """The network a run trains: ``model_name`` with one output per class of its data (training's: every one).
    train.py builds it and --resume loads last.pt's weights into it, one definition: they were two (the data's
    classes, and :data:`CLASSES`), which a run of other classes would have told apart."""
    from .model import create_model

    return create_model(model_name, len(classes))


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
    return _recorded_split(run).get("fingerprint")


def recorded_classes(run: Path) -> object:
    """The class names in a run's split.json (None without them): its config.json records none, and export compares
    them with best.pt's."""
    return _recorded_split(run).get("classes")


def _recorded_split(run: Path) -> dict:
    """A run's split.json ({} without a readable one), its names as this process lists files (os_document)."""
    try:
        split = json.loads((run / "split.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return os_document(split) if isinstance(split, dict) else {}


def split_document(dataset: Dataset, train: Sequence[int], val: Sequence[int], data_fp: str) -> dict:
    """A run's split.json: the images it trains and validates on (calibrate, quantize, orientation and --resume read
    them back), with their sizes, which --resume compares before any image is decoded (:func:`other_listing`)."""
    names = [str(p.relative_to(dataset.root)) for p in dataset.paths]
    return {"root": str(dataset.root), "fingerprint": data_fp, "classes": list(dataset.classes),
            "val": [names[i] for i in val], "train": [names[i] for i in train],
            "val_bytes": file_sizes([dataset.paths[i] for i in val]),
            "train_bytes": file_sizes([dataset.paths[i] for i in train]),
            "skipped": [[str(p), m] for p, m in dataset.skipped]}


def file_sizes(paths: list[Path]) -> list[int]:
    """Each file's size in bytes (-1: cannot be read), recorded in split.json beside its names: with them a resumed
    run's data are compared before any image is decoded (:func:`other_listing`)."""
    sizes = []
    for path in paths:
        try:
            sizes.append(path.stat().st_size)
        except OSError:
            sizes.append(-1)
    return sizes


def other_listing(run: Path, data: str, dataset: Dataset) -> str | None:
    """The error for a resumed run whose ``dataset`` (listed, not yet decoded) does not hold the files its split.json
    names, or holds them in other sizes; None where it does (or an older split.json lists no "train"). Why: another
    --data was refused only by the fingerprint, after every image had been decoded (minutes on the real data). Files
    of the same names and sizes can still differ: the fingerprint check after the decode stays."""
    split = _recorded_split(run)
    train, val = split.get("train"), split.get("val")
    if not (isinstance(train, list) and isinstance(val, list) and all(isinstance(n, str) for n in train + val)):
        return None
    was = split.get("root") if isinstance(split.get("root"), str) else None
    now = {str(p.relative_to(dataset.root)): p for p in dataset.paths}
    listed = split.get("skipped") if isinstance(split.get("skipped"), list) else []  # hand-edited: no traceback
    skipped = {_under(e[0], was) for e in listed if isinstance(e, list) and e and isinstance(e[0], str)}
    missing = sorted((set(train) | set(val)) - now.keys())
    extra = sorted(now.keys() - set(train) - set(val) - skipped)
    resized = []
    for names, sizes in ((train, split.get("train_bytes")), (val, split.get("val_bytes"))):
        if isinstance(sizes, list) and len(sizes) == len(names):  # -1: unreadable then, or now (the decode says)
            pairs = [(n, size) for n, size in zip(names, sizes, strict=True) if n in now and size != -1]
            now_sizes = file_sizes([now[n] for n, _ in pairs])
            resized += [n for (n, size), new in zip(pairs, now_sizes, strict=True) if new not in (-1, size)]
    total, one = len(train) + len(val), {True: ("is", "has"), False: ("are", "have")}
    found = [f"{text}, e.g. {names[0]}" for names, text in (
        (missing, f"{len(missing)} of its {total} images {one[len(missing) == 1][0]} not there"),
        (extra, f"{counted(len(extra), 'image')} there {one[len(extra) == 1][0]} not among them"),
        (sorted(resized), f"{len(resized)} of its images {one[len(resized) == 1][1]} another size there")) if names]
    if not found:
        return None
    return other_data(run, data, dataset.root, f"{run} was trained on {_which(was, dataset.root)} ({'; '.join(found)})")


def _which(was: str | None, root: Path) -> str:
    """Which images a resumed run was trained on, against those of ``root``, both as absolute paths where that is
    known. split.json records the root as given, and not the folder the run was trained in: a relative one resolved
    from another folder said "the images of d/Training, not those of /abs/d/Training" of what may be one folder."""
    now = root.resolve()
    if was is None or (Path(was).is_absolute() and Path(was).resolve() == now):
        return f"other images than {now} holds now"
    if Path(was).is_absolute():
        return f"the images of {was}, not those of {now}"
    parts = Path(was).parts
    if parts and now.parts[-len(parts):] == parts and len(now.parts) > len(parts):  # the same folder from above?
        return (f"other images than {now} holds now, if that is the {was} it was trained on from "
                f"{now.parents[len(parts) - 1]}")
    return f"the images of {was} (relative to the folder it was trained in), not those of {now}"


def _under(path: str, root: str | None) -> str:
    """A path split.json records (a skipped file, as listed then) relative to the run's root, as its names are."""
    try:
        return str(Path(path).relative_to(root)) if root else path
    except ValueError:
        return path


def other_data(run: Path, data: str, root: Path, what: str | None = None) -> str:
    """The error for a resumed run whose images are not those of its split.json. A run trained with ``--data X`` and
    resumed without it read the default dataset and said only "restore that data to resume": the run's config.json
    names the --data it was trained with, so the error names it too. ``what``: how they differ, where that is known
    before the decode (:func:`other_listing`)."""
    try:
        was = json.loads((run / "config.json").read_text()).get("data")
    except (OSError, ValueError, AttributeError):
        was = None
    hint = f"it was trained with --data {was}; give that, or where its images are now" if isinstance(was, str) and \
        was != data else "restore that data"
    what = what or (f"{run} was trained on other images than {root} holds now (the fingerprint in its split.json "
                    "differs)")
    return f"{what}: {hint} to resume, or start a new run"
