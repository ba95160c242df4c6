"""Fit what makes the model's answers honest, and store it inside the ONNX file.

* a temperature (validation split, minimum NLL) so a displayed 90 % means right ~90 % of the time;
* the out-of-distribution statistics of :mod:`braintumor.ood` (training split features,
  validation-split threshold, colour limit from the training images).

``braintumor calibrate MODEL.onnx --run RUN_DIR`` (the ``[train]`` extra: onnx, torch for augmented copies); ``export``
calls it too, so every exported model is calibrated. The test split is never used.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from .atomic_files import final_target, settled, temp_beside
from .calibration_copies import MAX_COPIES, augmented_copies, framing_copies
from .data import Dataset, DatasetError, load_dataset
from .file_names import os_document
from .image_io import ImageError, decode_image
from .metrics import expected_calibration_error, headline_metrics, read_metrics_file
from .ood import fit_ood, fit_temperature
from .predictor import METADATA_KEY, Classifier, softmax
from .prepared_images import load_prepared
from .preprocess import INPUT_SCALE
from .run_config import read_run_config

#: The colour limit is this multiple of the most colourful training image (some slices carry colour marks).
COLOUR_MARGIN: float = 1.2
#: ... and never below this (Hasler-Suesstrunk scale; photos are usually 30-100).
MIN_COLOUR_LIMIT: float = 15.0


def network_outputs(clf: Classifier, images: np.ndarray, batch: int = 256,
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """(logits, pooled last features, pooled middle features or None) for prepared uint8 images."""
    logits, pooled, middle = [], [], []
    for i in range(0, len(images), batch):
        x = images[i:i + batch].astype(np.float32)[:, None] * np.float32(INPUT_SCALE)
        outs = clf.run_all(x)
        if "features" not in outs:
            raise DatasetError("model has no 'features' output; re-export it with this version")
        logits.append(outs["logits"])
        pooled.append(outs["features"].mean(axis=(2, 3)))
        if "pooled_middle" in outs:
            middle.append(outs["pooled_middle"])
    return np.concatenate(logits), np.concatenate(pooled), (np.concatenate(middle) if middle else None)


def _max_colourfulness(paths: list[Path]) -> float:
    worst = 0.0
    for p in paths:
        try:
            worst = max(worst, decode_image(p, draft_size=256)[1].colourfulness)
        except ImageError:
            continue
    return worst


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


def check_same_split(clf: Classifier, run_dir: Path, split: dict, config: dict) -> None:
    """DatasetError unless ``run_dir`` is the run ``clf`` was trained in, as far as its split goes: another run's
    validation images can be this model's training images, and a temperature or OOD fit on them is a fit on seen
    data (export already refuses an ensemble of members validated on different splits)."""
    trained = (clf.metadata.get("training") or {}).get("config") or {}
    theirs = clf.metadata.get("data_fingerprint")
    if theirs and split.get("fingerprint") and theirs != split["fingerprint"]:
        raise DatasetError(f"{clf.path.name} was trained on other images than {run_dir}/split.json lists: "
                           "--run takes the model's own run folder")

    def split_settings(c: dict) -> dict:  # named as the flags that set them: the message says which ones differ
        seed = c.get("split_seed") if c.get("split_seed") is not None else c.get("seed", 0)
        return {"split seed": seed, "--val-fraction": c.get("val_fraction", 0.1),
                "--limit-per-class": c.get("limit_per_class", 0) or 0, "--hold-out-mode": c.get("hold_out_mode"),
                "grouped duplicates": c.get("group_duplicates", False)}

    mine, theirs = split_settings(trained), split_settings(config)
    if trained and config and mine != theirs:
        raise DatasetError(f"{clf.path.name} was validated on another split than {run_dir}: " + ", ".join(
            f"{k} {v} (that run: {theirs[k]})" for k, v in mine.items() if v != theirs[k])
            + "; --run takes the model's own run folder")


def require_fit_packages(clf: Classifier, ood_augment: int | None = None) -> None:
    """Fail before any image is read, not minutes later: onnx writes the fit; its augmented copies need torch."""
    import onnx  # noqa: F401
    if ood_augment if ood_augment is not None else clf.metadata.get("ood", {}).get("augmented_copies", 0):
        import torch  # noqa: F401


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
    cache = Path(config["cache_dir"]) if config.get("cache_dir") else None
    n_before = len(full)
    images, full = load_prepared(full, clf.preprocess_config, cache)
    if len(full) != n_before:
        raise DatasetError(f"{n_before - len(full)} of the run's images are no longer readable under {root}")
    return images, full, is_val


def _copies(n: int, what: str) -> str:
    return f"{n} {what} cop{'y' if n == 1 else 'ies'}"


def calibration_metadata(model: str | os.PathLike, run_dir: str | os.PathLike,
                         data: str | os.PathLike | None = None, ood_augment: int | None = None,
                         ood_framing: int | None = None) -> dict:
    """The ``temperature``, ``ood`` and ``calibration`` metadata entries for ``model``.

    ``ood_augment`` / ``ood_framing``: augmented / re-framed copies of each training image added to the OOD fit
    (None: what the model's metadata recorded, else 0), so recalibrating a model (or its int8 copy) keeps its
    choice."""
    clf = Classifier.load(model)
    recorded = clf.metadata.get("ood", {})
    if ood_augment is None:
        ood_augment = int(recorded.get("augmented_copies", 0))
    if ood_framing is None:
        ood_framing = int(recorded.get("framing_copies", 0))
    require_fit_packages(clf, ood_augment)
    images, full, is_val = prepared_run_images(clf, run_dir, data)
    tr, va = fitted_on(run_dir, is_val), np.flatnonzero(is_val)
    extra = [_copies(k, w) for k, w in ((ood_augment, "augmented"), (ood_framing, "re-framed")) if k]
    print(f"calibrating on {len(tr)} training / {len(va)} validation images"
          + (f" (+ {' + '.join(extra)} each for the OOD fit)" if extra else ""), file=sys.stderr)
    logits, pooled, middle = network_outputs(clf, images)
    y = full.labels
    t = fit_temperature(logits[va], y[va])

    def summary(temp: float) -> dict:
        p = softmax(logits[va], temp)
        nll = -np.log(p[np.arange(len(va)), y[va]] + 1e-12).mean()
        ece = expected_calibration_error(p.max(1), p.argmax(1) == y[va])
        return {"nll": round(float(nll), 5), "ece": round(float(ece), 5)}

    colour = max(MIN_COLOUR_LIMIT, COLOUR_MARGIN * _max_colourfulness([full.paths[i] for i in tr]))
    fit_images, fit_pooled, fit_middle, fit_y = images[tr], pooled[tr], None if middle is None else middle[tr], y[tr]
    if ood_augment > 0:
        options = read_run_config(run_dir) or None
        aug = augmented_copies(images[tr], ood_augment, options=options)
        _, aug_pooled, aug_middle = network_outputs(clf, aug)
        fit_images, fit_pooled = np.concatenate([fit_images, aug]), np.concatenate([fit_pooled, aug_pooled])
        fit_middle = None if fit_middle is None else np.concatenate([fit_middle, aug_middle])
        fit_y = np.concatenate([fit_y] + [y[tr]] * ood_augment)
    if ood_framing > 0:
        framed = framing_copies([full.paths[i] for i in tr], clf.preprocess_config, ood_framing)
        _, fr_pooled, fr_middle = network_outputs(clf, framed)
        fit_images, fit_pooled = np.concatenate([fit_images, framed]), np.concatenate([fit_pooled, fr_pooled])
        fit_middle = None if fit_middle is None else np.concatenate([fit_middle, fr_middle])
        fit_y = np.concatenate([fit_y] + [y[tr]] * ood_framing)
    with np.errstate(all="ignore"):  # a degenerate fit warns of overflows and NaN first: the line below says it
        try:
            ood = fit_ood(fit_pooled, fit_images, fit_y, pooled[va], images[va], colour,
                          fit_middle, None if middle is None else middle[va])
        except np.linalg.LinAlgError:  # a singular covariance: every image of a class the same
            ood = {}
    if not all(0 < ood.get(k, np.nan) < np.inf for k in ("maha_scale", "threshold")):  # stored, it refused nothing
        raise DatasetError(f"the out-of-distribution statistics fitted on {len(tr)} training images are degenerate "
                           "(too few images, or too alike, to measure how far an input lies from them): train on "
                           "more varied images, or leave the fit out (export and quantize: --no-calibrate)")
    ood["augmented_copies"] = ood_augment
    ood["framing_copies"] = ood_framing
    return {"temperature": round(t, 5), "ood": ood,
            "calibration": {"fitted_on": "validation split of Training (never Testing)", "n_val": len(va),
                            "val_accuracy": round(float((logits[va].argmax(1) == y[va]).mean()), 5),
                            "val_before": summary(1.0), "val_after": summary(t),
                            "ood_val_refused": ood["val_refused"]}}


def write_metadata(model: str | os.PathLike, updates: dict) -> None:
    """Merge ``updates`` into the model's metadata JSON, rewriting the file atomically."""
    import onnx

    path = Path(model)
    proto = onnx.load_model(str(path))
    entries = {p.key: p for p in proto.metadata_props}
    if METADATA_KEY not in entries:
        raise DatasetError(f"{path} is not a braintumor model")
    meta = json.loads(entries[METADATA_KEY].value)
    meta.update(updates)
    entries[METADATA_KEY].value = json.dumps(meta, sort_keys=True)
    target = final_target(path)  # a link to the model stays
    fd, tmp = temp_beside(target)  # cut to fit: export's temporary model (255 bytes) + '.tmp' was 'File name too long'
    os.close(fd)
    try:
        onnx.save_model(proto, tmp, save_as_external_data=False)
        os.replace(tmp, target)
    finally:  # a full disk or an interruption: the model stays as it was, no half-written copy
        Path(tmp).unlink(missing_ok=True)
        settled(tmp)


def calibrate(model: str | os.PathLike, run_dir: str | os.PathLike, data: str | os.PathLike | None = None,
              background_percentile: float | None = None, ood_augment: int | None = None,
              metrics_file: str | os.PathLike | None = None, ood_framing: int | None = None) -> dict:
    """Fit and store temperature + OOD statistics; returns what was stored.

    ``background_percentile``: first store it in the model's preprocessing (the fit must see the inputs the
    model will be served), e.g. to add background subtraction to a network trained without it."""
    for flag, copies in (("--ood-augment", ood_augment), ("--ood-framing", ood_framing)):  # None: as recorded
        if copies is not None and not 0 <= copies <= MAX_COPIES:
            raise DatasetError(f"{flag} must be in [0, {MAX_COPIES}], got {copies}")
    # a bad file, or another model's, fails before any work
    metrics = read_metrics_file(metrics_file, Classifier.load(model).metadata) if metrics_file else None
    if background_percentile is None:
        updates = calibration_metadata(model, run_dir, data, ood_augment, ood_framing)
    else:
        try:  # the preprocessing's own check, before anything is read
            pre = replace(Classifier.load(model).preprocess_config, background_percentile=background_percentile)
        except ValueError as exc:
            raise DatasetError(f"--background-percentile: {exc}") from None
        # the fit must see the new preprocessing, so it runs on a copy that has it: the model file itself changes
        # only once, with everything, and not at all when the fit fails (a missing run left it half-changed)
        fd, trial = temp_beside(Path(model))  # its name cut to fit, as the model's may be 255 bytes
        os.close(fd)
        try:
            shutil.copyfile(model, trial)
            write_metadata(trial, {"preprocess": pre.to_dict()})
            updates = {"preprocess": pre.to_dict(), **calibration_metadata(trial, run_dir, data, ood_augment,
                                                                           ood_framing)}
        finally:
            Path(trial).unlink(missing_ok=True)
            settled(trial)
    if metrics is not None:  # `braintumor evaluate`'s metrics.json of this very file (as calibrated here)
        updates["metrics"] = headline_metrics(metrics)
    write_metadata(model, updates)
    c = updates["calibration"]
    print(f"validation accuracy {c['val_accuracy']:.2%} (n={c['n_val']}); "
          f"temperature {updates['temperature']:.4f}: validation ECE {c['val_before']['ece']:.4f} -> "
          f"{c['val_after']['ece']:.4f}, NLL {c['val_before']['nll']:.4f} -> {c['val_after']['nll']:.4f}; "
          f"OOD threshold refuses {c['ood_val_refused']:.2%} of validation slices", file=sys.stderr)
    return updates
