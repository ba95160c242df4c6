"""Fit what makes the model's answers honest, and store it inside the ONNX file.

* a temperature (validation split, minimum NLL) so a displayed 90 % means right ~90 % of the time;
* the out-of-distribution statistics of :mod:`braintumor.ood` (training split features,
  validation-split threshold, colour limit from the training images).

``braintumor calibrate MODEL.onnx --run RUN_DIR`` (the ``[train]`` extra: onnx, torch for augmented copies); ``export``
calls it too, so every exported model is calibrated. The test split is never used. The run's split and the images it
lists: :mod:`braintumor.run_split`.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

from .atomic_files import settled, temp_beside, written_whole
from .calibration_copies import MAX_COPIES, augmented_copies, framing_copies
from .data import DatasetError
from .embedded_metrics import headline_metrics, read_metrics_file
from .image_io import ImageError, decode_image
from .metrics import expected_calibration_error, negative_log_likelihood
from .model_loading import METADATA_KEY
from .ood import fit_ood, fit_temperature, temperature_at_bound, temperature_bound_note
from .prediction import softmax
from .predictor import Classifier
from .preprocess import INPUT_SCALE
from .run_config import read_run_config
from .run_split import fitted_on, prepared_run_images

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


def require_fit_packages(clf: Classifier, ood_augment: int | None = None) -> None:
    """Fail before any image is read, not minutes later: onnx writes the fit; its augmented copies need torch."""
    import onnx  # noqa: F401
    if ood_augment if ood_augment is not None else clf.metadata.get("ood", {}).get("augmented_copies", 0):
        import torch  # noqa: F401


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
        ece = expected_calibration_error(p.max(1), p.argmax(1) == y[va])
        return {"nll": round(negative_log_likelihood(p, y[va]), 5), "ece": round(float(ece), 5)}

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
                            "temperature_at_bound": temperature_at_bound(t),
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
    # a link to the model stays; a full disk or an interruption: the model stays as it was, no half-written copy
    with written_whole(path) as tmp:  # cut to fit: export's temporary model (255 bytes) + '.tmp' was too long
        onnx.save_model(proto, str(tmp), save_as_external_data=False)


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
    c, t = updates["calibration"], updates["temperature"]
    print(f"validation accuracy {c['val_accuracy']:.2%} (n={c['n_val']}); "
          f"temperature {t:.4f}{temperature_bound_note(t)}: validation ECE {c['val_before']['ece']:.4f} -> "
          f"{c['val_after']['ece']:.4f}, NLL {c['val_before']['nll']:.4f} -> {c['val_after']['nll']:.4f}; "
          f"OOD threshold refuses {c['ood_val_refused']:.2%} of validation slices", file=sys.stderr)
    return updates
