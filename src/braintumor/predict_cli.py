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
import os
import stat
import sys
from codecs import BOM_UTF8
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import BinaryIO

from tqdm import tqdm

from .batch_predict import BatchJob, batch_requested
from .bmp_header import HEADER_SIZES
from .cli_checks import check_destinations
from .compressed_files import compressed_kind
from .documents import document_kind
from .exit_errors import UsageError
from .heatmap_files import HeatmapWriter, maps_go_with_the_records
from .image_headers import image_kind
from .input_plan import plan_inputs
from .missing_files import stdin_key
from .model_scores import unscored_text
from .predict_output import Formatter, heatmap_column, output_format, output_sink
from .predict_progress import UNIT as BAR_UNIT
from .predict_progress import say, shown_by_default
from .prediction import DISCLAIMER
from .predictor import Classifier
from .resume_folders import ROOT_KEY, maps_root, with_root
from .resume_lock import check_not_held, resume_lock
from .run_tally import failed_text, tally_text
from .scan_sniff import scan_kind_text
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


def with_stdin(paths: list[str]) -> list[str]:
    """``-`` stands for the file names on standard input, one per line (``find ... | braintumor predict -``): one run,
    one header and one model load for any number of names, which ``xargs`` would split into several."""
    if "-" not in paths:
        return paths
    if paths.count("-") > 1:  # the names were read once and each scored twice
        raise UsageError("- (standard input) is given twice: it is read once; give - once")
    if (key := stdin_key()) and (name := next((p for p in paths if p != "-" and _stat_key(p) == key), None)):
        # its second reader found it empty ("file is empty (0 bytes)"), or the list of names read as an image
        raise UsageError(f"- and {name} both read standard input, which is read once: - for the names of files, one "
                         f"per line, {name} for one image piped in; give one of them")
    names = stdin_names()
    if (key := stdin_key()) and stat.S_ISFIFO(os.fstat(0).st_mode) and (
            name := next((n for n in names if _stat_key(n) == key), None)):  # a pipe's names: it was "file is empty"
        raise UsageError(f"{name}, among the names read from standard input, names standard input itself, which held "
                         "those names and is read once: name the image's own file instead")
    out = [q for p in paths for q in (names if p == "-" else [p])]
    if not out:
        raise UsageError("no inputs: standard input held no file names (one per line)")
    return out


def _stat_key(name: str) -> tuple[int, int] | None:
    """``name``'s (device, inode), or None where it cannot be had."""
    try:
        info = os.stat(name)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def stdin_names() -> list[str]:
    """The file names on standard input: NUL-separated when it holds a NUL (``find -print0``, ``git ls-files -z``: the
    one way to pass a name holding a newline; read as lines, the NULs reached the file system, a ValueError traceback),
    else one a line. Bytes the stream's encoding cannot decode are kept as surrogate escapes, as names from a folder
    are (a UTF-8 locale's stdin is strict: a Latin-1 name from ``find`` ended the run in a UnicodeDecodeError)."""
    if sys.stdin is None:  # started with `<&-`: an AttributeError traceback
        raise UsageError("standard input is closed: - reads the file names from it (one per line)")
    with contextlib.suppress(AttributeError, ValueError):
        if sys.stdin.isatty():  # `predict -` typed at a prompt waited in silence, like a hung run
            say("reading file names from standard input, one per line; end them with Ctrl-D")
    raw = getattr(sys.stdin, "buffer", None)
    data = _names_bytes(raw) if raw else None
    # a list saved with a UTF-8 byte order mark (Notepad, PowerShell 5's Out-File): its first name was 'file not found'
    text = (data.removeprefix(BOM_UTF8).decode(sys.stdin.encoding or "utf-8", "surrogateescape") if raw
            else sys.stdin.read().removeprefix("\ufeff"))
    if "\0" in text:
        names = [name for name in text.split("\0") if name]
    else:
        names = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    if not names or any(map(os.path.lexists, names[:_FIRST])):  # a list of names (one of them gone, perhaps)
        return names
    if data and (piped := _file_piped(data)):
        kind, pipe = piped
        raise UsageError(f"standard input holds {kind}, not file names: - reads the names of the files to predict "
                         f"(one per line); name the file instead (braintumor predict FILE){pipe}")
    if what := _not_text(names, sys.stdin.encoding or "utf-8"):
        n = min(len(names), _FIRST)
        none = "its one name is no file here" if n == 1 else f"none of the {n} names it begins with is a file here"
        raise UsageError(f"standard input is not a list of file names: it holds {what}, and {none}; - reads the names "
                         "of the files to predict (one per line, or NUL-separated); name a file itself instead "
                         "(braintumor predict FILE)")
    return names


#: The most bytes ``-`` reads as file names (about two million of them): an endless stream piped in (``yes``,
#: ``< /dev/zero``) was read until memory ran out, then told "out of memory (a smaller --batch-size ... needs less)".
MAX_NAMES_BYTES: int = 256 << 20


def _names_bytes(raw: BinaryIO) -> bytes:
    """All of standard input, read a MiB at a time up to :data:`MAX_NAMES_BYTES` (a UsageError past it)."""
    chunks, size = [], 0
    while chunk := raw.read(1 << 20):
        size += len(chunk)
        if size > MAX_NAMES_BYTES:
            raise UsageError(f"standard input holds more than {MAX_NAMES_BYTES >> 20} MiB, longer than a list of file "
                             "names would be (an endless stream, such as yes or /dev/zero?): - reads the names of the "
                             "files to predict; name their folder instead, or split the list")
        chunks.append(chunk)
    return b"".join(chunks)


#: Characters no list of names holds, though a name may (a newline between NULs does: ``find -print0``).
_CONTROLS = frozenset(map(chr, [*range(32), 127])) - {"\t", "\n", "\r"}
#: How many of the names piped to ``-`` are looked for before it is refused as no list of names.
_FIRST: int = 32


def _not_text(names: list[str], encoding: str) -> str | None:
    """What makes standard input no list of names, or None: control characters, or bytes that are not ``encoding``
    text (asked only where none of its first :data:`_FIRST` names exists: a real list of Latin-1 names from ``find`` is
    read). Binary data of no known format piped to ``-`` was a record 'file not found: <its bytes>' per line of it."""
    if any(not _CONTROLS.isdisjoint(name) for name in names):
        return "control characters (binary data?)"
    if any("\udc80" <= c <= "\udcff" for name in names for c in name):  # surrogate escapes: undecodable bytes
        return f"bytes that are not {encoding} text"
    return None


def _file_piped(data: bytes) -> tuple[str, str] | None:
    """What file standard input holds when it is one (``braintumor predict - < scan.png``), by its first bytes, and
    what else to do with it ("" but for an image, which /dev/stdin reads), or None: its bytes were taken for names, and
    each "line" of the image was a record 'file not found: <its bytes>'. Told apart from a list of names that starts
    as a format does ('BMW.png', '<html>.png', or '%PDF-' in a name) by one of its first :data:`_FIRST` names
    existing: a list whose first name was gone was refused as that file. A compressed file is named by what it holds
    where its first bytes tell (a page curl fetched gzip-encoded was "a gzip-compressed file")."""
    if scan := scan_kind_text(data[:4096]):  # before the image formats: a DICOM file's preamble may be a TIFF header
        return scan, ""  # (II*): it was "a TIFF image ... or give /dev/stdin", which reads no scan from a pipe
    kind = image_kind(data[:16])
    if kind == "BMP" and int.from_bytes(data[14:18], "little") not in HEADER_SIZES:  # 'BM' begins names too
        kind = None  # (BMissing.png): a BMP's info header size at byte 14 says it is one
    if kind:
        return f"a {kind} image", ", or give /dev/stdin to read one image from a pipe"
    # a document was "File name too long: <its bytes>", or a record per line of them
    what = document_kind(data) or compressed_kind(data)
    return (what, "") if what else None


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
