"""Evaluate a model on a labelled class-folder dataset: metrics, predictions, figures, report.

Runs on ONNX Runtime through :class:`~braintumor.predictor.Classifier` (no torch), so the
numbers describe exactly the model file that ships. Unreadable images are listed as errors,
never fatal; every output is written under a temporary name and moved into place. Given the images the model
was trained on as ``reference`` (the Training split, or ``--reference``), every metric is reported again on the
leak-free subset: the images with no near duplicate there (see :mod:`braintumor.image_hashes`).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from tqdm import tqdm

from . import __version__
from .atomic_files import folder_replaced_whole
from .data import Dataset, DatasetError, MissingSplitError, load_dataset
from .data_fingerprint import fingerprint
from .dataset_classes import label_map
from .evaluation_figures import OPTIONAL_FIGURES, run_log_problem, write_figures
from .evaluation_predictions import write_predictions
from .evaluation_scope import dataset_notes, given_reference, leak_reference, missing_split
from .evaluation_summary import absent_notes, conflict_notes, label_conflicts, print_summary, sample_notes
from .file_names import utf8_document
from .ignored_files import ignored_endings
from .image_files import IMAGE_EXTENSIONS, hidden_note
from .image_hashes import DEFAULT_HASH, DEFAULT_THRESHOLD, cached_hashes, leak_free_mask, threshold_problem
from .image_io import ImageError
from .metrics import calibration_summary, compute_metrics, review_summary, uncalibrated
from .model_scores import NonFiniteScores
from .report import write_report, write_text_atomic
from .series import turned
from .stripped import note_summary
from .wording import STRIPPED_NOTE, dataset_file_error, none_readable, printable

if TYPE_CHECKING:
    from .predictor import Classifier

BATCH_SIZE: int = 32
#: Metadata values larger than this (as JSON) are left out of metrics.json and the report.
MAX_META_CHARS: int = 2000


def _model_info(classifier: Classifier) -> dict:
    meta = dict(classifier.metadata or {})
    subset = {}
    for key, value in meta.items():
        try:
            if len(json.dumps(value)) <= MAX_META_CHARS:
                subset[key] = value
        except (TypeError, ValueError):
            continue
    path = getattr(classifier, "path", None)
    return {
        "path": _shown_path(path) if path else None,
        "name": meta.get("model_name") or meta.get("name") or (Path(path).stem if path else None),
        "version": meta.get("model_version") or meta.get("version") or meta.get("package_version"),
        "metadata": subset,
    }


def _shown_path(path: str | Path) -> str:
    """Relative to the working folder when inside it: a report is shared, and an absolute path names the machine's
    folders (a user's home); outside it the absolute path is the only unambiguous one."""
    full, here = Path(path).resolve(), Path.cwd().resolve()
    return str(full.relative_to(here)) if full.is_relative_to(here) else str(full)


def evaluate(
    classifier: Classifier,
    dataset: Dataset,
    out: Path,
    run_dir: Path | None = None,
    progress: bool = True,
    gallery_size: int = 16,
    reference: Dataset | None = None,
    leak_threshold: int = DEFAULT_THRESHOLD,
    cache_dir: Path | None = None,
    leak_note: str | None = None,
    data_fingerprint: str | None = None,
    label_check: bool = False,
) -> dict:
    """Predict every image of ``dataset`` and write metrics.json, predictions.csv, figures, report.html.

    Returns the document written to metrics.json: the metrics of
    :func:`~braintumor.metrics.compute_metrics` plus ``model``, ``data`` and provenance, and
    ``leak_free``: the same metrics on the images without a near duplicate in ``reference``
    (the Training split, or the images ``--reference`` names), with ``threshold``, ``hash``, ``n_excluded`` and
    ``reference`` (the folder compared with) (None without ``reference``; then
    ``leak_note``, why there is none, goes to ``leak_free_note`` and the report). ``data_fingerprint``: ``dataset``'s,
    when the caller has computed it (otherwise computed here). ``data.label_conflicts``: the near duplicates filed
    under two classes, found in the leak check's hashes, or without ``reference`` where ``label_check`` (the leak
    check was asked for, but there is no Training split: a Testing-only folder's conflicts went unsaid); else None.
    Raises :class:`DatasetError` when no image can be read or the classes do not fit the model.
    """
    from .figures import require_matplotlib

    require_matplotlib()  # fail before the long part, not after it
    if not len(dataset):  # nothing unreadable: nothing there (a folder of DICOM files, say)
        beside = f"; {len(dataset.loose)} lie beside them, in no class folder" if dataset.loose else ""
        hidden = f"; {note}" if (note := hidden_note(dataset.root)) else ""  # .scan.png: there, and passed over
        raise DatasetError(f"no images in {dataset.root}'s class folders ({', '.join(sorted(IMAGE_EXTENSIONS))})"
                           + beside + hidden)
    out = Path(out)  # made only when there is something to write: a run stopped or refused earlier leaves no folder
    classes = tuple(classifier.classes)
    to_model = label_map(dataset.classes, classes)
    errors: list[list[str]] = [[str(p), m] for p, m in dataset.skipped]
    kept: list[int] = []
    rows: list[np.ndarray] = []  # unrounded: the Predictions' 6 decimals tie where a model is very sure
    shown: list[float] = []  # the confidence users see (rounded), which the review flag compares
    refusals: list[bool] = []
    turns: list[bool] = []  # of the refusals, those as turned (a brain MRI, not one unlike brain MRI)
    reviews: list[bool] = []  # the Prediction's own flag, as every user sees it
    notes: list[bool] = []  # its note: the slice looks skull-stripped (braintumor.stripped)
    ood_scores: list[float] = []
    temperature = float(getattr(classifier, "temperature", 1.0))
    with tqdm(total=len(dataset), desc="evaluate", unit="img", file=sys.stderr, disable=not progress,
              dynamic_ncols=True) as bar:
        for i, (source, result, row) in enumerate(classifier.predict_many(dataset.paths, batch_size=BATCH_SIZE,
                                                                           with_probabilities=True)):
            if isinstance(result, NonFiniteScores):  # the model's fault, not the file's: no metrics of such a model
                raise result
            if isinstance(result, ImageError):
                errors.append([str(source), dataset_file_error(str(result))])
            else:
                kept.append(i)
                rows.append(row)
                shown.append(max(result.probabilities.values()))
                refusals.append(bool(getattr(result, "ood", False)))
                turns.append(turned({"ood": refusals[-1], "reason": getattr(result, "reason", None)}))
                reviews.append(bool(getattr(result, "review", False)))
                notes.append(getattr(result, "note", None) == STRIPPED_NOTE)
                score = getattr(result, "ood_score", None)
                ood_scores.append(float("nan") if score is None else float(score))
            bar.update(1)
    if not kept:
        raise DatasetError(none_readable(len(dataset), dataset.root, tuple(errors[0]) if errors else None))
    y = to_model[dataset.labels[kept]]
    probs, conf = np.asarray(rows, dtype=np.float64), np.asarray(shown, dtype=np.float64)
    paths = [dataset.paths[i] for i in kept]
    refused, scores = np.asarray(refusals, dtype=bool), np.asarray(ood_scores, dtype=np.float64)
    side, noted = np.asarray(turns, dtype=bool), np.asarray(notes, dtype=bool)
    size = classifier.preprocess_config.image_size  # under stripped.MIN_CROP: no note made, none counted
    metrics = compute_metrics(y, probs, classes)
    leak_mask, leak_block, conflicts = None, None, None  # conflicts: found in the dataset's hashes, or not sought
    if reference is not None or label_check:
        with tqdm(total=len(dataset) + len(reference or ()), desc="label check" if reference is None else "leak check",
                  unit="img", file=sys.stderr, disable=not progress, dynamic_ncols=True) as bar:
            hashed = cached_hashes(dataset, cache_dir=cache_dir, progress=bar.update)
            if reference is not None:
                leak_mask = leak_free_mask(dataset, reference, leak_threshold, cache_dir=cache_dir,
                                           progress=bar.update, hashed=hashed)[kept]
        conflicts = label_conflicts(dataset, hashed, to_model[dataset.labels], kept, leak_threshold)
    if reference is not None:
        leak_block = {**compute_metrics(y[leak_mask], probs[leak_mask], classes),
                      **_answers_shown(y[leak_mask], probs[leak_mask], conf[leak_mask], refused[leak_mask], classes,
                                       temperature, side[leak_mask], noted[leak_mask], size),
                      "n_excluded": int((~leak_mask).sum()), "threshold": int(leak_threshold),
                      "hash": DEFAULT_HASH, "reference": str(reference.root)}
    data_fp = data_fingerprint if data_fingerprint is not None else _fingerprint_or_none(dataset)
    document = {
        **metrics,
        "model": _model_info(classifier),
        "data": {"root": str(dataset.root), "n_images": len(dataset) + len(dataset.skipped),
                 "n_not_images": len(dataset.ignored), "not_image_endings": ignored_endings(dataset.ignored),
                 "n_outside_class_folders": len(dataset.loose), "n_special_files": len(dataset.special),
                 "fingerprint": data_fp, "errors": errors, "label_conflicts": conflicts},
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "package_version": __version__,
        "leak_free": leak_block,
        "leak_free_note": None if reference is not None else leak_note,
        **_answers_shown(y, probs, conf, refused, classes, temperature, side, noted, size),
    }
    owned = [f"{name}.png" for name in OPTIONAL_FIGURES]  # an earlier run's, not drawn this time, would describe it
    # moved into --out once all is written (metrics.json last): a stop leaves it as it was
    with folder_replaced_whole(out, owned, "metrics.json") as staged:
        write_predictions(staged, paths, y, probs, classes, refused, scores, np.asarray(reviews, dtype=bool), leak_mask,
                           side=side, noted=noted)
        figures = write_figures(staged, y, probs, paths, metrics, classes, classifier.preprocess_config,
                                run_dir, gallery_size, refused, scores,
                                uncalibrated(probs, temperature) if temperature != 1.0 else None, side=side)
        document["figures"] = figures
        write_report(staged, metrics, figures, {"model": document["model"], "data": document["data"],
                                             "leak_free": leak_block, "leak_free_note": document["leak_free_note"],
                                             "ood_refused": document["ood_refused"],
                                             "ood_refused_turned": document["ood_refused_turned"],
                                             "review": document["review"], "calibration": document["calibration"],
                                             "stripped": document["stripped"],
                                             "absent": absent_notes(dataset, metrics["counts"]),
                                             "sample": sample_notes(document) + conflict_notes(document),
                                             "created": f"Generated {document['created']} by braintumor {__version__}"})
        # metrics.json last (and moved last): never one describing outputs that are not there.
        write_text_atomic(staged / "metrics.json", json.dumps(utf8_document(document), indent=2) + "\n")
    return document


def _fingerprint_or_none(dataset: Dataset) -> str | None:
    """The data fingerprint of ``dataset``, or None where a file vanished or is unreadable (listed in the errors)."""
    try:
        return fingerprint(dataset)
    except OSError:
        return None


def _review_below() -> float:
    from .prediction import REVIEW_BELOW  # the serving threshold, so the report measures what users see

    return REVIEW_BELOW


def _answers_shown(y: np.ndarray, probs: np.ndarray, conf: np.ndarray, refused: np.ndarray, classes: Sequence[str],
                   temperature: float, side: np.ndarray, noted: np.ndarray, size: int) -> dict:
    """Refusals (per class; ``side``: those as turned, a part of them), review flags (of ``conf``, the confidence
    as shown), skull-stripped notes (``noted``, of a ``size`` px input) and calibration of a set of answers: the
    split, or its leak-free part."""
    return {"ood_refused": int(refused.sum()), "ood_refused_turned": int((refused & side).sum()),
            "ood_refused_per_class": {c: int(refused[y == k].sum()) for k, c in enumerate(classes)},
            "calibration": calibration_summary(y, probs, uncalibrated(probs, temperature), temperature),
            "review": review_summary(conf, probs.argmax(axis=1) == y, ~refused, _review_below()),
            "stripped": note_summary(noted, probs.argmax(axis=1) == y, ~refused, size)}


def _fail(message: object) -> int:
    print(f"error: {printable(str(getattr(message, 'cli_text', message)))}", file=sys.stderr)  # a missing model
    return 2


def run_evaluate(
    model: str | None,
    data: str,
    out: str,
    split: str | None = "Testing",
    run_dir: str | None = None,
    progress: bool = True,
    leak_free: bool = True,
    leak_threshold: int = DEFAULT_THRESHOLD,
    reference: str | None = None,
) -> int:
    """CLI entry: evaluate, print a short summary, return an exit code (2 with a one-line error).

    With ``leak_free`` (default), metrics are reported a second time on the images that have no near duplicate in
    ``reference`` (a dataset root holding a Training split, or a folder of class folders: the images the model was
    trained on), or without it in the Training split beside the evaluated one.
    """
    from .figures import FiguresUnavailable
    from .model_files import ModelError
    from .predictor import Classifier
    from .run_split import check_own_run
    from .train_config import ConfigError

    if problem := threshold_problem("--leak-threshold", leak_threshold):  # 999: every test image 'leaked'
        return _fail(problem)
    if run_dir and (problem := run_log_problem(run_dir)):  # a typo must not silently drop the training curves
        return _fail(problem)
    if reference is not None and not leak_free:
        return _fail(f"--reference {reference} names the images for the leak check that --no-leak-free skips: "
                     "give one or the other")
    try:
        try:
            dataset = load_dataset(data, split, allow_missing=True)
        except MissingSplitError as exc:  # of --data only: a --reference's own error stays as it is
            raise DatasetError(missing_split(exc)) from None
        if reference is not None:
            compared, leak_note = given_reference(reference, dataset), None
        classifier = Classifier.load(model)
        if run_dir:  # its curves in this model's report: the model's own run (stated after the model is read)
            check_own_run(classifier, run_dir)
        data_fp = _fingerprint_or_none(dataset)  # recorded in metrics.json; the note below compares it too
        if reference is None:  # after the model: what it was trained on decides the note
            compared, leak_note = leak_reference(data, dataset, classifier.metadata.get("data_fingerprint"),
                                                 data_fp) if leak_free else (None, None)
    except (DatasetError, OSError, ModelError, ConfigError) as exc:
        return _fail(exc)
    except Exception as exc:  # onnxruntime raises its own types for a corrupt model file
        return _fail(f"cannot load model {model or '(default model)'}: {exc}")
    for note in dataset_notes(dataset) if len(dataset) else ():  # a .dcm, a FIFO, EXT/Testing/scan.jpg: named as
        print(printable(note), file=sys.stderr)  # train names them (no image: the one-line error)
    try:
        result = evaluate(classifier, dataset, Path(out), Path(run_dir) if run_dir else None, progress,
                          reference=compared, leak_threshold=leak_threshold, leak_note=leak_note,
                          data_fingerprint=data_fp, label_check=leak_free)
    except (DatasetError, FiguresUnavailable) as exc:  # an OSError (a full disk) is the CLI's: 1, naming --out
        return _fail(exc)
    print_summary(result, dataset, out)
    return 0
