"""Per-slice predictions for a volume (DICOM series, multi-frame DICOM, NIfTI) and a series summary.

Shared by the CLI and the web app. A record is the predict CLI's jsonl record plus, for inputs with
more than one slice, ``"slice": k`` (0-based, anatomical order) and ``"series": j`` when one folder or
zip held several series, plus the slice's safe metadata (``"dicom"`` or ``"nifti"``). Whatever keys a
prediction's ``to_dict()`` returns are passed through unchanged. How records read as CSV is
:mod:`braintumor.csv_records`'s.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from .classes import display_name
from .image_io import ImageError
from .model_scores import NonFiniteScores, unscored
from .orientation import TURN_ADVICE
from .prediction import Prediction, probability_text
from .predictor import Classifier
from .refusal_wording import not_classified_texts
from .stripped import count_text, noted
from .volume_objects import Slice, Volume
from .wording import LOWER_CONFIDENCE, UNREADABLE, counted, input_error, not_analysed_text, printable, review_below_text

#: How many of the most suspicious slices a summary lists (and the web app draws heat maps for).
TOP_SLICES: int = 5
#: The class whose complement is the tumour probability.
NO_TUMOUR: str = "notumor"


def turned(rec: dict | Prediction) -> bool:
    """Whether a record (or a Prediction: ``turned(pred)`` raised AttributeError) was refused as turned:
    its reason ends with the orientation check's advice (:data:`~braintumor.orientation.TURN_ADVICE`, the one home of
    those words, also where another check refused it first). Such a slice is a brain MRI to rotate and send again:
    summaries count it apart from those refused as unlike brain MRI."""
    rec = rec.to_dict() if isinstance(rec, Prediction) else rec
    if not isinstance(rec, Mapping):  # None, a str: "'NoneType' object has no attribute 'get'"
        raise TypeError(f"turned takes a Prediction or its record (a dict), not {type(rec).__name__}")
    return bool(rec.get("ood")) and TURN_ADVICE in (rec.get("reason") or "")


def outcome(rec: dict) -> str:
    """How a record is counted: ``error``, ``unscored`` (the model failed on it: its scores not finite), ``turned``,
    ``ood``, ``review`` or ``ok``, by the CLI's last line and the no-JavaScript page's "Done:" line alike
    (static/run-status.js counts them so too)."""
    if "error" in rec:
        return "unscored" if unscored(rec) else "error"
    if rec.get("ood"):
        return "turned" if turned(rec) else "ood"
    return "review" if rec.get("review") else "ok"


def unread_part(rec: dict) -> str | None:
    """What an error record says was not read, ``input`` (a file, a zip's member) or ``slice`` (one of a scan's), else
    None: the CLI's last line and the page's "Done:" line count them apart (a scan's 3 slices were 3 inputs)."""
    return None if "error" not in rec or "summary" in rec else "slice" if "slice" in rec else "input"


def tumour_probability(probabilities: dict[str, float]) -> float:
    """1 - p(notumor): how strongly the model sees any tumour in a slice."""
    return round(1.0 - float(probabilities.get(NO_TUMOUR, 0.0)), 6)


def where(volume: Volume) -> dict:
    """The record fields that say which input and series a result is from: ``file``, the one file a folder's series
    was read from, beside ``path``, the folder as predict was given it (--resume knows the input by it), so that
    score_jsonl.py scores a single slice found below a dataset's root by its class folder."""
    rec: dict = {"path": volume.path}
    if volume.series is not None:
        rec["series"] = volume.series
    if volume.file is not None:
        rec["file"] = volume.file
    return rec


def head(volume: Volume, index: int) -> dict:
    """The record fields that say which slice a result is about."""
    rec = where(volume)
    if len(volume.slices) > 1:
        rec["slice"] = index
    return rec


def error_record(volume: Volume) -> dict:
    """The record of a volume refused on its own (a study's series past the limits, a zip's unreadable member), with
    its notes: a zip's skipped GIF, said on the volumes read, was said nowhere where none of them was."""
    return {**head(volume, 0), "error": volume.error, **({"notes": list(volume.notes)} if volume.notes else {})}


def volume_records(clf: Classifier, volume: Volume, batch_size: int = 32,
                   unscored: Callable[[NonFiniteScores], str] = str) -> Iterator[tuple[dict, Slice]]:
    """(record, Slice) per slice, in order: callers draw heat maps of the Slice itself without re-reading (its pixels
    alone would lose the DICOM modality and colour that its record was checked with). A slice whose scores are not
    finite is its record's error, worded by ``unscored`` (the web app's says no model file to its client), the
    error naming the scan and its slice (the CLI's error line named them; the run stopped there)."""
    outcomes = _outcomes(clf, volume.slices, batch_size)
    for k, (sl, outcome) in enumerate(zip(volume.slices, outcomes, strict=True)):
        rec = head(volume, k)
        if isinstance(outcome, NonFiniteScores):
            rec["error"] = unscored(outcome.named(", ".join([str(rec["path"]), *(f"{key} {rec[key]}" for key in
                                                                                ("series", "slice") if key in rec)])))
        elif isinstance(outcome, ImageError):
            rec["error"] = str(outcome)
        else:
            rec.update(outcome.to_dict())
        rec.update(sl.meta)
        if len(volume.slices) == 1 and volume.notes:  # no summary follows one slice: its notes go with it
            rec["notes"] = list(volume.notes)
        yield rec, sl


def _outcomes(clf: Classifier, slices: list[Slice], batch_size: int) -> Iterator[Prediction | ImageError]:
    """``clf.predict_many`` of the Slices themselves: each slice's colour (a colour DICOM's, measured before it
    became gray) and DICOM modality are seen by the input checks, as a colour image file's colour is."""
    return (outcome for _, outcome in clf.predict_many(slices, batch_size=batch_size))


def summarise(volume: Volume, records: list[dict], classes: tuple[str, ...], top: int = TOP_SLICES) -> dict:
    """Per-class slice counts and the most suspicious slices (highest 1 - p(notumor)), plus notes.

    Slices refused (``ood``: e.g. the empty ends of a volume) are counted apart and never ranked as suspicious:
    their probabilities mean nothing. ``refused_turned`` is how many of them were refused as turned (a series
    stored turned: its slices are brain MRI, to rotate and resend), a part of ``refused``, whose meaning is unchanged.
    ``model_failed`` (only when some) counts the slices the model gave scores that are not finite for, apart from
    ``failed`` (unreadable): they were counted unreadable, the scan's fault, where the model's file was at fault.
    """
    refused = sum(bool(r.get("ood")) for r in records if "error" not in r)
    model_failed = sum(map(unscored, records))
    good = [r for r in records if r.get("label") is not None]
    counts = {c: sum(r["label"] == c for r in good) for c in classes}
    ranked = sorted(good, key=lambda r: (-tumour_probability(r["probabilities"]), r.get("slice", 0)))
    summary = {
        "kind": volume.kind,
        "slices": len(records),
        "classified": len(good),
        "refused": refused,
        "refused_turned": sum(turned(r) for r in records if "error" not in r),
        "failed": len(records) - len(good) - refused - model_failed,
        "flagged": sum(bool(r.get("review")) for r in good),
        "counts": counts,
        "most_suspicious": [{"slice": r.get("slice", 0), "label": r["label"],
                             "tumour_probability": tumour_probability(r["probabilities"])} for r in ranked[:top]],
    }
    if stripped := sum(noted(r) for r in good):  # only then: a summary's fields are as before
        summary["stripped"] = stripped
    if model_failed:  # only then, as stripped
        summary["model_failed"] = model_failed
    if volume.notes:
        summary["notes"] = list(volume.notes)
    return summary


def summary_record(volume: Volume, records: list[dict], classes: tuple[str, ...]) -> dict:
    """A ``{"path", ["series",] ["file",] "summary"}`` record for the jsonl/json output and the API."""
    rec = where(volume)
    rec["summary"] = summarise(volume, records, classes)
    return rec


def record_name(rec: dict) -> str:
    """A record's path as people read it: with its series when one folder or zip held several, counted from 1 as the
    web page counts them (the records' ``series`` counts from 0), control characters escaped (:func:`printable`); the
    one file a series was read from where the record names it (``file``: a single DICOM slice found below the folder
    given read ``FOLDER (series 2)``, which left a reader to find which of its files that was)."""
    if "file" in rec:
        return printable(rec["file"])
    return printable(rec["path"]) + (f" (series {rec['series'] + 1})" if "series" in rec else "")


def summary_text(rec: dict) -> str:
    """The summary as a few human lines (stderr for the table format)."""
    s = rec["summary"]
    name = record_name(rec)
    counts = ", ".join(f"{display_name(c)} {n}" for c, n in s["counts"].items())  # as the table's rows name them
    # the rows' words (not "flagged for review": every answer is for a clinician to interpret, not only these)
    flagged = (f"; {s['flagged']} with {LOWER_CONFIDENCE} ({review_below_text()})"
               if s.get("flagged") else "")
    flagged += f"; {count_text(s['stripped'])}" if s.get("stripped") else ""
    # the slices not classified, said (as the page's summary line says them), not left to a subtraction; those
    # turned apart (a summary without the field, from an older file, counts them as before)
    side = s.get("refused_turned") or 0
    said = not_classified_texts(s.get("refused", 0) - side, side)
    said += [f"{s['failed']} {UNREADABLE}"] if s.get("failed") else []  # the page's word (it said "failed")
    said += [not_analysed_text(s["model_failed"])] if s.get("model_failed") else []  # as the run's last line
    unclassified = "".join(f"; {words}" for words in said)
    # no slice classified: no class counts (the page's line too), "Glioma 0, Meningioma 0, ..." read as an answer
    counts = f": {counts}" if s["classified"] else ""
    lines = [f"{name}: {counted(s['slices'], 'slice')}, {s['classified']} classified{counts}{flagged}{unclassified}"]
    if s["most_suspicious"]:
        top = ", ".join(f"{t['slice']} ({probability_text(t['tumour_probability'])})" for t in s["most_suspicious"])
        lines.append(f"  most suspicious slices (tumour probability): {top}")
    lines += [f"  note: {printable(n)}" for n in s.get("notes", [])]  # a series description is the scanner's text
    return "\n".join(lines)


def notes_text(rec: dict) -> str:
    """A one-slice scan's notes (on its record: no summary follows one slice) as a summary ends with them, under the
    scan's name (stderr for the table format, which has no column for them)."""
    return "\n".join([f"{record_name(rec)}:", *(f"  note: {printable(n)}" for n in rec["notes"])])


def input_records(clf: Classifier, items: list, batch_size: int = 32, summaries: bool = False,
                  pixels: bool = False, tick: Callable[[], object] = lambda: None) -> Iterator[dict]:
    """Records for planned inputs (:func:`braintumor.input_plan.plan_inputs`), in order.

    Runs of image paths are batched together, as before; each volume yields one record per slice
    (with its Slice under ``"_slice"`` when ``pixels``) and, with ``summaries``, a summary record after a
    multi-slice volume; with ``pixels`` an image's record carries its heat map's Explanation under ``"_explanation"``.
    ``tick`` is called once per planned item (progress bars).
    """
    from pathlib import Path

    images: list[Path] = []

    def flush() -> Iterator[dict]:
        if pixels:
            yield from _explained_records(clf, images, batch_size, tick)
            images.clear()
            return
        for src, outcome in clf.predict_many(images, batch_size=batch_size):  # scores not finite: named by its file
            tick()
            yield {"path": str(src), "error": input_error(outcome)} if isinstance(outcome, ImageError) \
                else {"path": str(src), **outcome.to_dict()}
        images.clear()

    for item in items:
        if isinstance(item, Path):
            images.append(item)
            continue
        yield from flush()
        tick()
        if isinstance(item, dict):
            yield item
            continue
        for volume in _loaded(item):  # a study's series one at a time: each is decoded as the one before is done
            if isinstance(volume, ImageError):
                yield {"path": item.path, "error": str(volume)}
                continue
            if volume.error:  # a series refused on its own (past the limits): the study's others are answered
                yield error_record(volume)
                continue
            recs = []
            for rec, sl in volume_records(clf, volume, batch_size):
                recs.append(rec)
                yield {**rec, "_slice": sl} if pixels else rec
            if summaries and len(volume.slices) > 1:
                yield summary_record(volume, recs, clf.classes)
    yield from flush()


def _loaded(item) -> Iterator[Volume | ImageError]:
    """A planned volume input's volumes as it reads them, then its ImageError if reading stopped on one."""
    try:
        yield from item.load()
    except ImageError as exc:
        yield exc


def _explained_records(clf: Classifier, paths: list, batch_size: int, tick: Callable[[], object]) -> Iterator[dict]:
    """Image records with their heat map's Explanation, made from the pixels the answer came from: the heat map read
    the file again later, and a file deleted or still being written by then stopped the run (a traceback), one
    replaced by then got another image's map. Batched as :meth:`Classifier.predict_many` batches: the same answers."""
    from .heatmap import explain_apart

    for start in range(0, len(paths), batch_size):
        chunk, crops = paths[start:start + batch_size], []
        for src in chunk:
            try:
                crops.append(clf.inspect_crop(src))
            except ImageError as exc:
                crops.append(exc.with_traceback(None))
        good = [c for c in crops if not isinstance(c, ImageError)]
        explained = iter(explain_apart(clf, [c for c, _ in good], [i for _, i in good]))
        for src, crop in zip(chunk, crops, strict=True):
            tick()
            ex = crop if isinstance(crop, ImageError) else next(explained)
            if isinstance(ex, NonFiniteScores):  # the file, not "image 3" of this batch; the others answered
                yield {"path": str(src), "error": str(ex.named(str(src)))}
            elif isinstance(ex, ImageError):
                yield {"path": str(src), "error": input_error(ex)}
            else:
                yield {"path": str(src), **ex.prediction.to_dict(), "_explanation": ex}
