"""``braintumor predict --resume``: read, and repair, what an earlier (maybe interrupted) run left in its output.

Why its own module: resuming is a promise that a crash loses nothing and repeats nothing, so the file is checked
record by record (the csv header asked of the formatter itself, so the two never disagree), a last line cut short
and an unfinished multi-slice input are cut off atomically (temp file + rename), and only then appended to. Reading a
line back as a record is :mod:`braintumor.resume_records`'s.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, TextIO

from .atomic_files import written_whole
from .csv_records import csv_columns, csv_text_value
from .exit_errors import UsageError
from .file_names import os_text, utf8_text
from .heatmap_files import map_suffix
from .image_files import is_special_file
from .image_io import ImageError
from .model_scores import unscored
from .predict_output import HEATMAP_KEY
from .record_files import appended_records
from .resume_folders import NAMES_SAMPLED, ROOT_KEY
from .resume_lock import lock_replacement
from .resume_members import Members
from .resume_records import csv_header, cut_record, parse_record, record_lines
from .series import unread_part
from .volume_io import input_volumes
from .wording import counted, printable


class Previous:
    """What an earlier (maybe interrupted) run left in the output file."""

    def __init__(self) -> None:
        self.done: Counter[str] = Counter()  # record paths already written (a path may repeat)
        self.failed: Counter[str] = Counter()  # error records, by what was not read (series.unread_part)
        self.header = False  # csv: the header line is there
        self.relative: list[str] = []  # the first relative names of records that were read (not errors): a sample
        self.roots: dict[str, str] = {}  # the working folders records' relative names are from (ROOT_KEY): a name each
        self.columns: list[str] = []  # csv: its header's
        self.sample: dict | None = None  # the first 2-D input classified: the model is checked against it
        # the heat maps named by records dropped to be redone, with their inputs and slices (heatmap_files.drop_maps)
        self.maps: list[tuple[str, str, str]] = []

    def forget(self, rec: dict, fmt: str) -> None:
        """Take a record dropped from the file (its input redone) out of what was done, noting the heat map it named
        (whole: a relative one from the working folder the record says): no record names that now, and the input's map
        drawn again took another name beside it."""
        self.done[rec["path"]] -= 1
        if part := unread_part(rec):
            self.failed[part] -= 1
        self.note_map(rec, fmt == "csv")

    def note_map(self, rec: dict, cells: bool) -> None:
        """Note the heat map a dropped record names (``cells``: as a csv cell says it), to be removed (drop_maps)."""
        if isinstance(name := rec.get(HEATMAP_KEY), str) and name:
            name, root = (csv_text_value(name), csv_text_value(rec.get(ROOT_KEY) or "")) if cells else \
                (name, rec.get(ROOT_KEY))
            relative = not os.path.isabs(os_text(name))  # a relative DIR's: from the folder its run was started in
            whole = os.path.join(root, name) if relative and isinstance(root, str) and root else name
            self.maps.append((whole, rec["path"], map_suffix(rec)))  # what it was drawn for: only its map is removed


def read_previous(target: Path, fmt: str, classes: tuple[str, ...], summaries: bool = False,
                  check: Callable[[Previous], None] | None = None) -> Previous:
    """Records already in ``target``, after cutting off what an interruption may have left unfinished.

    ``summaries``: the run writes a summary record after each multi-slice volume (``--summary``, jsonl); ``check``:
    refuses (UsageError) what was read before ``target`` is repaired: a run refused after the repair (from another
    working folder) had cut records whose heat maps no run could find again."""

    prev = Previous()
    if not target.exists() or is_special_file(target):  # written through: reading /dev/zero never ended (out of
        return prev  # memory, or killed), and a FIFO's open waited for a writer that never came
    header = csv_columns(classes)
    keep = 0  # bytes of the file that stay
    tail: list[tuple[int, dict]] = []  # (offset, record) of the trailing records of scans: the last may be unfinished
    cut: dict | None = None  # the last line, cut short: what it says whole (resume_records.cut_record)
    retried: list[tuple[int, str]] = []  # (offset, path) of records the model failed on (model_scores.unscored)
    with open(target, "rb") as fh:
        for n, line, complete in record_lines(fh, fmt):
            if not complete:
                cut = cut_record(line, fmt, header)  # its heat map's name, where whole
                break
            if fmt == "csv" and n == 1:
                columns = csv_header(line)
                # (one from before records said their folder; one of a --heatmap run)
                extras = ((), (ROOT_KEY,), (HEATMAP_KEY,), (HEATMAP_KEY, ROOT_KEY))
                if columns in ([*header[:-1], *extra] for extra in extras) and header[-1] == "note":
                    # its rows have one column fewer than those this version writes: they would not line up
                    raise UsageError(f"cannot resume: {target} was begun by an older braintumor, without the csv's "
                                     "last column, note; write to a new file")
                if columns not in ([*header, *extra] for extra in extras):
                    raise UsageError(f"cannot resume: {target} has another csv header (another model or format?)")
                prev.header, prev.columns, header, keep = True, columns, columns, len(line)
                continue
            rec = parse_record(line, n, fmt, header, target)
            if any(k in rec for k in ("slice", "series", "summary")):
                tail.append((keep, rec))
            else:
                tail = []  # a 2-D image or an input's one error record: complete on its own line
                if prev.sample is None and rec.get("label"):
                    prev.sample = rec
            prev.done[rec["path"]] += 1
            if part := unread_part(rec):
                prev.failed[part] += 1
            if unscored(rec):
                retried.append((keep, rec["path"]))
            relative = not os.path.isabs(os_text(rec["path"]))
            root = rec.get(ROOT_KEY)
            if relative and isinstance(root, str) and root:
                prev.roots.setdefault(csv_text_value(root) if fmt == "csv" else root, rec["path"])
            elif relative and "error" not in rec and len(prev.relative) < NAMES_SAMPLED:
                prev.relative.append(rec["path"])
            keep += len(line)
    if check is not None:
        check(prev)
    if cut is not None:
        print(f"{printable(str(target))}: dropping an incomplete last line (interrupted run); it is redone",
              file=sys.stderr)
        _note_cut_map(target, cut, prev)
    unfinished = _unfinished_scan(tail, summaries)
    if unfinished is not None:
        name, start, records = unfinished
        print(printable(f"{target}: the last multi-slice input ({name}) is unfinished; it is redone"), file=sys.stderr)
        for rec in records:
            prev.forget(rec, fmt)
        keep = start
    if keep < target.stat().st_size:
        _rewrite_prefix(target, keep)
    # redone (_drop_retried), but for those the unfinished scan's cut took already: it said "dropping 0 records"
    if retry := {path for offset, path in retried if offset < keep}:
        _drop_retried(target, fmt, prev.columns or header, retry, prev)
    return prev


def _note_cut_map(target: Path, rec: dict, prev: Previous) -> None:
    """The heat map the cut last line names goes with it, as a dropped record's (drop_maps' rules); one whose name was
    cut too is kept, and said: no record names it."""
    if rec.get(HEATMAP_KEY) and isinstance(rec.get("path"), str):
        if ROOT_KEY not in rec and len(prev.roots) == 1:  # cut off: the folder the file's records say
            rec[ROOT_KEY] = next(iter(prev.roots))
        prev.note_map(rec, False)
    elif HEATMAP_KEY in rec:
        print(printable(f"warning: kept the heat map that {target}'s incomplete last line names ("
                        f"{rec.get('path', 'its input')}'s): its name was cut short too: remove it by hand"),
              file=sys.stderr)


def _drop_retried(target: Path, fmt: str, header: list[str], paths: set[str], prev: Previous) -> None:
    """Rewrite ``target`` without the records of the inputs the model failed on (``paths``: its scores not finite),
    each of its records (a scan's other slices, a zip's other series under its name) taken out of ``prev``, so that
    they are redone: their failure was the model file's, not theirs, and counted as done they were never retried once
    it was replaced (a zip's member ``zip:member`` is redone with its zip, by whose name --resume knows it; an image
    ``scans:a.jpg`` is none of a folder ``scans``'s: :mod:`~braintumor.resume_members`)."""
    members = Members()
    inputs = {members.input_of(path) for path in paths}
    dropped = 0
    with _rewriting(target) as (src, out):
        for n, line, _ in record_lines(src, fmt):
            rec = None if fmt == "csv" and n == 1 else parse_record(line, n, fmt, header, target)
            if rec is None or members.input_of(rec["path"]) not in inputs:
                out.write(line)
                continue
            dropped += 1
            prev.forget(rec, fmt)
    print(printable(f"{target}: dropping {counted(dropped, 'record')} of inputs the model failed on (scores not "
                    "finite); they are redone"), file=sys.stderr)


def holds_records(target: Path, fmt: str) -> bool:
    """Whether ``target``, a --resume run's output in ``fmt``, holds a record (a csv's header is none): a run stopped
    before its first, its file empty, said "the records so far are kept" of none."""
    with open(target, "rb") as fh:
        if fmt == "csv":
            fh.readline()  # the header
        return bool(fh.read(1))


def _unfinished_scan(tail: list[tuple[int, dict]], summaries: bool) -> tuple[str, int, list[dict]] | None:
    """(input, offset of its first record, its records) when the scan the file ends with lacks slices, else None.

    One scan input can give records under several paths (a zip's series under the zip's name, its NIfTI members
    as ``zip:member``) and several series under one path, so the input is read again (without the model) to learn
    which paths and how many records it gives; records are counted back from the end until they are all there."""
    if not tail:
        return None
    last = tail[-1][1]["path"]
    for name in dict.fromkeys([last, last.rsplit(":", 1)[0]]):
        expected = _record_counts(name, summaries)
        if expected is not None and last in expected:
            break
    else:  # unreadable now: what it gave under its last path is redone (its error record then says why)
        name, expected = last, None
    total = sum(expected.values()) if expected else 0
    found, start, records = 0, tail[-1][0], []
    for offset, rec in reversed(tail):
        if (rec["path"] not in expected if expected else rec["path"] != last) or (expected and found == total):
            break
        found += 1
        start = offset
        records.append(rec)
    return None if expected and found == total else (name, start, records)


def _record_counts(path: str, summaries: bool) -> Counter[str] | None:
    """Records per record path that a scan input gives (a slice's, and a volume's summary); read again, without
    running the model."""
    try:
        counts: Counter[str] = Counter()
        for volume in input_volumes(os_text(path)):  # a series refused on its own: one error record
            counts[utf8_text(volume.path)] += 1 if volume.error else len(volume.slices) + (
                summaries and len(volume.slices) > 1)
        return counts
    except (ImageError, OSError):
        return None


def _rewrite_prefix(target: Path, size: int) -> None:
    """Keep the first ``size`` bytes of ``target``."""
    with _rewriting(target) as (src, out):
        left = size
        while left:
            block = src.read(min(left, 1 << 20))
            out.write(block)
            left -= len(block)


@contextmanager
def _rewriting(target: Path) -> Iterator[tuple[BinaryIO, BinaryIO]]:
    """(``target`` to read, its new content to write): it replaces ``target`` atomically, so a crash now loses nothing
    (a link's target is rewritten, the link kept, as :func:`append_sink` appends to it)."""
    with written_whole(target) as tmp:
        shutil.copymode(target, tmp)  # the file keeps whatever permissions it had
        lock_replacement(target, tmp)  # the run's lock goes with it (resume_lock)
        with open(tmp, "wb") as out, open(target, "rb") as src:
            yield src, out
            out.flush()
            os.fsync(out.fileno())


@contextmanager
def append_sink(output: str) -> Iterator[TextIO]:
    """The output file opened for appending: what was written survives a crash, for the next --resume."""
    # in a folder that exists (cli_checks.check_destination: a file's folder is not made); a write that fails (a full
    # disk) leaves no record cut short
    with appended_records(Path(output)) as fh:
        yield fh
