"""``braintumor predict``: stream results for files and folders in four formats.

The jsonl record is a contract later tools rely on::

    {"path": ..., "label": "glioma", "confidence": 0.97, "probabilities": {...}, "ood": false, "ood_score": 0.4,
     "review": true}
    {"path": ..., "label": null, "confidence": null, "probabilities": {...}, "ood": true, "ood_score": 3.2,
     "review": false, "reason": "unlike the brain MRI slices the model was trained on: ..."}
    {"path": ..., "error": "..."}

With ``--heatmap DIR`` each classified image also gets a class-activation overlay PNG,
named after the input (``scan.heatmap.png``, then ``scan-2.heatmap.png`` for a second ``scan``),
and its record gains ``"heatmap": <that file>``.

DICOM files, DICOM series (a folder or a .zip) and NIfTI volumes (or a .zip of them) give one record per slice: records
of an input with more than one slice add ``"slice": k`` (0-based, anatomical order), ``"series": j``
when a folder or zip held several series, and safe metadata (``"dicom"`` or ``"nifti"``). With
``--summary`` a ``{"path", "summary"}`` record follows each such input (json/jsonl); the table
format always prints the summary to stderr. A one-slice scan's notes (what was left out or ignored) are in its
record (``"notes"``), as are a series' or zip member's refused on its own; the table prints them to stderr as a
summary's notes. Heat maps of slices are named
``scan-slice12.heatmap.png``.
"""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from tqdm import tqdm

from .batch_predict import BatchJob, batch_requested
from .cli_checks import check_destinations
from .heatmap_files import HeatmapWriter, maps_go_with_the_records
from .input_plan import plan_inputs
from .model_scores import unscored_text
from .predict_output import Formatter, heatmap_column, output_format, output_sink
from .predict_progress import UNIT as BAR_UNIT
from .predict_progress import say, shown_by_default
from .predict_stdin import with_stdin
from .prediction import DISCLAIMER
from .predictor import Classifier
from .resume_folders import ROOT_KEY, maps_root, with_root
from .resume_lock import check_not_held, resume_lock
from .run_tally import failed_text, tally_text
from .series import input_records, notes_text, outcome, summary_text, unread_part
from .stripped import noted


def records(clf: Classifier, paths: list[str], batch_size: int = 32, progress: bool | None = None,
            summaries: bool = False, pixels: bool = False,
            on_plan: Callable[[list], None] | None = None) -> Iterator[dict]:
    """One result dict per input image or volume slice (folders expanded), in input order.

    DICOM, NIfTI and zip inputs give one record per slice (see :mod:`braintumor.series`); with
    ``summaries`` a ``{"path", "summary"}`` record follows each multi-slice input; with ``pixels``
    slice records carry their Slice under ``"_slice"``, image records their Explanation under ``"_explanation"`` (for
    heat maps; never printed). ``on_plan`` gets the planned inputs before the first record (the table's columns).
    """
    items = list(plan_inputs(paths, on_note=say))
    if on_plan:
        on_plan(items)
    show = progress if progress is not None else shown_by_default(len(items))
    with tqdm(total=len(items), unit=BAR_UNIT, disable=not show, file=sys.stderr) as bar:
        yield from input_records(clf, items, batch_size, summaries, pixels, tick=lambda: bar.update(1))


def run_predict(args: argparse.Namespace) -> int:
    """Exit code 0 when every input was answered (classified or refused), 1 when any was unreadable or the model
    failed on it (its record an error). A --resume run holds -o FILE from before reading it to the end: a second is
    refused (resume_lock)."""
    if "-" in args.paths:
        args.paths = with_stdin(args.paths)
        check_destinations(args)  # the names read are inputs too: -o may not be one of them, nor lie in one's folder
    args.format = output_format(getattr(args, "format", None), getattr(args, "output", None))
    resume = bool(getattr(args, "resume", False))
    if not resume:  # FILE replaced under a --resume run writing it: that run's later records were lost
        check_not_held(args.output)
    with resume_lock(args.output if resume else None):  # before FILE is read, to the end
        return _predict(args)


def _predict(args: argparse.Namespace) -> int:
    clf = Classifier.load(args.model, threads=args.threads)
    # DIR made (and a model without a CAM head refused) before the job reads FILE: --resume cuts and redoes records,
    # removing their maps, and a DIR that could not be made then (permission denied) stopped a run that had done so
    heatmaps = (HeatmapWriter(clf, args.heatmap, hold_signals=bool(getattr(args, "resume", False)))
                if getattr(args, "heatmap", None) else None)
    try:
        job = BatchJob(args, clf) if batch_requested(args) else None  # --workers N, --resume: batch_predict.py
    except BaseException:  # refused (another working folder): the DIR made for it goes
        if heatmaps is not None:
            heatmaps.discard()
        raise
    failed_before, tally, unread, unscored_parts, stripped = Counter(), Counter(), Counter(), Counter(), 0
    summary = getattr(args, "summary", False)
    if job:
        failed_before = job.failed_before
    root = None if job else maps_root(args)  # a relative DIR's maps found again by a later --resume (job: its own)
    with maps_go_with_the_records(heatmaps, args), job.sink() if job else output_sink(args.output) as out:
        fmt = Formatter(args.format, out, clf.classes, header=not (job and job.has_header), sample=args.batch_size,
                        extra=job.extra_columns if job else heatmap_column(args) + ((ROOT_KEY,) if root else ()))
        # summaries always: their notes (a series' files skipped, and why) go to stderr in every format
        kinds = {"summaries": True, "pixels": heatmaps is not None}
        try:
            plan = (lambda items: _scans(fmt, items)) if args.format == "table" else None  # its slice column
            for rec in job.records(**kinds, on_plan=plan) if job else records(clf, args.paths, args.batch_size,
                                                                              args.progress, on_plan=plan, **kinds):
                rec = with_root(rec, root, True)  # (root None: as it is)
                if "summary" in rec:  # after a multi-slice input: inline for json/jsonl --summary, else stderr
                    if summary and args.format in ("json", "jsonl"):
                        fmt.write(rec)
                    elif summary or args.format == "table":
                        fmt.note(summary_text(rec))  # after the table's rows so far
                    elif rec["summary"].get("notes"):  # csv, jsonl: no summary asked for, its notes were said nowhere
                        fmt.note(notes_text({**rec, "notes": rec["summary"]["notes"]}))
                    continue
                sl, explanation = rec.pop("_slice", None), rec.pop("_explanation", None)
                tally[outcome(rec)] += 1  # "unscored": the model's fault, counted apart from the unreadable
                stripped += noted(rec)
                if outcome(rec) in ("error", "unscored") and (part := unread_part(rec)):
                    (unread if outcome(rec) == "error" else unscored_parts)[part] += 1
                if heatmaps and "error" not in rec and not rec.get("ood"):
                    heatmaps.write(rec, sl, explanation, record=fmt.write)  # both, or (interrupted) neither
                else:
                    fmt.write(rec)
                if heatmaps and not fmt.holding:  # every map drawn so far is named by a record out (for a failed write)
                    heatmaps.named = len(heatmaps.drawn)
                if rec.get("notes") and args.format not in ("json", "jsonl"):
                    fmt.note(notes_text(rec))  # a one-slice scan's (json and jsonl keep them in its record)
        except BaseException:  # a run stopped early (Ctrl-C) still shows the table's rows (and notes) held back to
            fmt.settle(final=True, stopped=True)  # size its column; one stopped before its first row, no bare header
            raise
        fmt.settle(final=True)
        fmt.close()
    failed = failed_before + unread
    # the work is done and written: a closed log pipe (it was 141), a closed stderr or a full log disk (1: "an input
    # failed") now costs only these lines, not the exit code
    with contextlib.suppress(OSError):  # BrokenPipeError among them
        if args.format == "table" or args.output:  # a line that says what the run did; pipes of jsonl/csv stay quiet
            print(tally_text(tally, unread, stripped), file=sys.stderr)
        if failed:
            # the exit code's reason, in the last line's words: "could not be classified" read as the refusals
            print(failed_text(failed, failed_before, args.output), file=sys.stderr)
        if tally["unscored"]:  # the model's fault, said once, apart from the files' own
            resume = bool(getattr(args, "resume", False))
            print(unscored_text(clf.path, unscored_parts, args.output, args.format, resume), file=sys.stderr)
        if args.format == "table":  # the format people read answers in: the page's disclaimer goes with them
            print(DISCLAIMER, file=sys.stderr)
    return 1 if failed or tally["unscored"] else 0


def _scans(fmt: Formatter, items: list) -> None:
    """Tell the table whether any planned input is a scan (an image is a Path; an error record a dict), whose rows
    name their slice: a 10 000-image folder's table had an empty ``slice`` column."""
    fmt.slices = any(not isinstance(item, (Path, dict)) for item in items)
