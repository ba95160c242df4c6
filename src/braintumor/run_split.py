"""A training run's split (its split.json) and the images it lists, as the commands after training read them:
calibrate, quantize, orientation, ensemble and the scripts' ``--run`` (validation images to score decisions on).
Apart from the fit of :mod:`braintumor.calibrate` (which had grown to 304 lines); these names are imported from
here.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from .data import Dataset, DatasetError, load_dataset
from .data_fingerprint import fingerprint
from .dataset_classes import label_map
from .file_names import os_document
from .prepared_images import load_prepared
from .run_config import read_run_config

if TYPE_CHECKING:
    from .predictor import Classifier


def read_split(run_dir: str | os.PathLike) -> dict:
    """The run's split.json, or a DatasetError that says what --run must be (the scripts that take a --run use it
    too: a bare FileNotFoundError named the file but not the folder --run wants). Its names come back as this
    process lists the files (file_names.os_document): train writes them as UTF-8, and under an ASCII locale (or from
    a split.json an older version wrote under one) they matched no image."""
    run_dir = Path(run_dir)
    path = run_dir / "split.json"
    if not path.is_file():
        raise DatasetError(f"no split.json in {run_dir}: --run takes the run folder of 'braintumor train' "
                           "(models/ for the shipped files)")
    try:  # a truncated or hand-edited file was a JSONDecodeError or KeyError traceback in every command using it
        split = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, OSError) as exc:
        raise DatasetError(f"cannot read {path}: {exc}; it is written by 'braintumor train'") from None
    if not (isinstance(split, dict) and isinstance(split.get("val"), list) and isinstance(split.get("train", []), list)
            and all(isinstance(v, str) for v in split["val"] + split.get("train", []))):
        raise DatasetError(f"{path} is not the split of a 'braintumor train' run (it lists no validation images)")
    if not isinstance(split.get("root"), (str, type(None))):  # was a TypeError traceback
        raise DatasetError(f"{path} is not the split of a 'braintumor train' run (its root is no folder name)")
    return os_document(split)  # its names as this locale lists them, whichever locale wrote the file


def validation_images(root: str | os.PathLike, run_dir: str | os.PathLike) -> Dataset:
    """The validation images a run's split.json lists, from ROOT/Training: what the scripts score design decisions on
    (``--run``), which Testing must not make."""
    ds, is_val = _run_images(root, Path(run_dir))
    return ds.subset(np.flatnonzero(is_val))


def _run_images(root: str | os.PathLike, run_dir: Path) -> tuple[Dataset, np.ndarray]:
    """The run's training + validation images (as split.json lists them) and a validation mask."""
    split = read_split(run_dir)
    val = set(split["val"])
    if not val:  # a hand-edited file: a numpy AxisError in the fit
        raise DatasetError(f"{run_dir / 'split.json'} lists no validation images: a run's split has both; --run "
                           "takes the model's own run folder")
    keep = val | set(split.get("train", []))  # older runs list only "val": everything else trained
    full = load_dataset(root, "Training")
    rel = [str(p.relative_to(full.root)) for p in full.paths]
    index = np.array([i for i, r in enumerate(rel) if r in keep or "train" not in split], dtype=np.int64)
    ds = full.subset(index)
    is_val = np.array([rel[i] in val for i in index])
    if is_val.sum() != len(val):
        raise DatasetError(f"{run_dir}/split.json lists {len(val)} validation images; "
                           f"{int(is_val.sum())} found under {full.root}")
    return ds, is_val


def check_own_run(clf: Classifier, run_dir: str | os.PathLike) -> None:
    """:func:`check_same_split` with what ``run_dir`` holds, for ``evaluate --run``, which needs only its log: another
    run's curves were drawn into the model's report without a word. Where nothing links them (a folder of a log
    alone, a model of an older version), a warning says so, and the curves are drawn: the user may know the run."""
    path = Path(run_dir)
    split = read_split(path) if (path / "split.json").is_file() else {}
    check_same_split(clf, path, split, read_run_config(path, ("config.json", "training-config.json")))


def check_same_split(clf: Classifier, run_dir: Path, split: dict, config: dict, warn: bool = True) -> None:
    """DatasetError unless ``run_dir`` is the run ``clf`` was trained in, as far as its split goes: another run's
    validation images can be this model's training images, and a temperature or OOD fit on them is a fit on seen
    data (export already refuses an ensemble of members validated on different splits). Then the other settings and
    the image counts: a run of the same split and another --lr or --image-size is another network's run. ``warn``:
    say so on stderr where the settings cannot be compared."""
    trained = (clf.metadata.get("training") or {}).get("config") or {}
    theirs = clf.metadata.get("data_fingerprint")
    same_data = bool(theirs and split.get("fingerprint"))  # compared: different ones are refused here
    if same_data and theirs != split["fingerprint"]:
        raise DatasetError(f"{clf.path.name} was trained on other images than {run_dir}/split.json lists: "
                           "--run takes the model's own run folder")

    def split_settings(c: dict) -> dict:  # named as the flags that set them: the message says which ones differ
        seed = c.get("split_seed") if c.get("split_seed") is not None else c.get("seed", 0)
        return {"split seed": seed, "--val-fraction": c.get("val_fraction", 0.1),
                "--limit-per-class": c.get("limit_per_class", 0) or 0, "--hold-out-mode": c.get("hold_out_mode"),
                "grouped duplicates": c.get("group_duplicates", False)}

    mine, theirs = split_settings(trained), split_settings(config)
    own = "; --run takes the model's own run folder" + (f" (an ensemble: its first member's, {members[0]['run']})" if
                                                         (members := clf.metadata.get("ensemble")) else "")
    if trained and config and mine != theirs:
        raise DatasetError(f"{clf.path.name} was validated on another split than {run_dir}: " + ", ".join(
            f"{k} {v} (that run: {theirs[k]})" for k, v in mine.items() if v != theirs[k]) + own)
    if trained and config and (other := other_settings(trained, config)):  # the same split, another network
        raise DatasetError(f"{clf.path.name} was trained with other settings than {run_dir} records: {other}{own}")
    training = clf.metadata.get("training") or {}
    counted = False
    for what, n, names in (("validation", training.get("val_images"), split.get("val")),
                           ("training", training.get("train_images"), split.get("train"))):
        if isinstance(n, int) and isinstance(names, list) and names:  # none: said below
            counted = True
            if n != len(names):
                raise DatasetError(f"{clf.path.name} was trained with {n} {what} images, {run_dir}/split.json "
                                   f"lists {len(names)}{own}")
    if warn and not (trained and config):  # the settings cannot link them: the images may, where both record them
        from .wording import printable

        missing = f"{run_dir} has no config.json" if trained else f"{clf.path.name} records no training settings"
        by = " and ".join(what for what, done in (("its data", same_data), ("image counts", counted)) if done)
        print(printable(f"warning: {missing}: " + (f"that {run_dir} is the run it was trained in is checked only by "
                                                   f"{by}" if by else f"nothing confirms that {run_dir} is the run "
                                                   f"{clf.path.name} was trained in")), file=sys.stderr)


def other_settings(trained: dict, config: dict) -> str:
    """The settings that a model's recorded training config and a run's config.json both name and differ in (those a
    resumed run may change, and where things were, left out), as ``--flag value (that run: value)``; "" where none
    do. Why: a model calibrated with another run's folder of the same split got that run's augmentation for its OOD
    copies, and evaluate drew that run's training curves, without a word."""
    from .train_config import RESUMABLE_CHANGES, TrainConfig

    return ", ".join(f"--{n.replace('_', '-')} {trained[n]} (that run: {config[n]})" for n in
                     TrainConfig.__dataclass_fields__ if n not in RESUMABLE_CHANGES and n in trained and n in config
                     and trained[n] != config[n])


def fitted_on(run_dir: str | os.PathLike, is_val: np.ndarray) -> np.ndarray:
    """The training images a fit learns from; none (a hand-edited split.json) was a numpy AxisError in the fit."""
    if not len(tr := np.flatnonzero(~is_val)):
        raise DatasetError(f"{Path(run_dir) / 'split.json'} lists no training images: --run takes the model's own run")
    return tr


def prepared_run_images(clf: Classifier, run_dir: str | os.PathLike, data: str | os.PathLike | None = None,
                        ) -> tuple[np.ndarray, Dataset, np.ndarray]:
    """(uint8 (N, S, S) images prepared for ``clf``, the dataset, validation mask) of the run's training and
    validation images, through the run's preprocessing cache when it recorded one."""
    run_dir = Path(run_dir)
    split = read_split(run_dir)
    config = read_run_config(run_dir, ("config.json", "training-config.json"))  # the shipped files': models/
    check_same_split(clf, run_dir, split, config)
    root = data or split.get("root")
    if not root:
        raise DatasetError(f"{run_dir}/split.json records no data folder: give --data ROOT")
    if not data and not Path(root).is_dir():  # recorded as given to train: relative to where it ran
        raise DatasetError(f"the run's data folder {root} (as its split.json records it) is not there from "
                           f"{Path.cwd()}: give --data ROOT")
    full, is_val = _run_images(root, run_dir)
    if split.get("train") and split.get("fingerprint") not in (None, fingerprint(full)):  # before the decode
        raise DatasetError(f"the images under {full.root} that {run_dir}/split.json names are not those the run was "
                           "trained on (their fingerprint differs: edited or re-saved since?): give the run's own "
                           "data as --data")
    cache = Path(config["cache_dir"]) if config.get("cache_dir") else None
    n_before = len(full)
    images, full = load_prepared(full, clf.preprocess_config, cache)
    if len(full) != n_before:
        raise DatasetError(f"{n_before - len(full)} of the run's images are no longer readable under {root}")
    # labels as indices into the model's classes, which its scores follow: a model listing them in another order had
    # its temperature fitted (and its validation accuracy counted) against labels naming other classes
    full = replace(full, labels=label_map(full.classes, clf.classes)[full.labels], classes=tuple(clf.classes))
    return images, full, is_val
