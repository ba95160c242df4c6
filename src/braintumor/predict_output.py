"""What ``braintumor predict`` writes: its records in one of four formats (table, csv, json, jsonl) to stdout or to a
file that only appears complete (see :mod:`braintumor.predict_cli`, which runs the model over the inputs;
:mod:`braintumor.batch_predict` writes through these too; the heat maps: :mod:`braintumor.heatmap_files`).
"""

from __future__ import annotations

import argparse
import errno
import json
import os
import select
import shutil
import stat
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from .atomic_files import final_target, moved_into_place, settled, temp_beside
from .classes import display_name
from .csv_records import CsvRows, csv_columns, csv_row, csv_text
from .file_names import utf8_text
from .image_files import is_special_file
from .output_formats import FORMAT_BY_SUFFIX, OTHER_FORMATS, picture_ending
from .prediction import probability_text
from .resume_lock import hold_temp
from .series import record_name
from .terminal_columns import columns, fit, pad
from .wording import LOWER_CONFIDENCE, STRIPPED, STRIPPED_NOTE, printable


def output_format(fmt: str | None, output: str | None) -> str:
    """``--format`` when given, else what ``-o``'s extension names, else the table.

    ``-o results.csv`` without ``--format`` used to write the console table into a .csv file. An ending of a format
    not written here (:data:`OTHER_FORMATS`) is a UsageError, and an image's or scan's with any ``--format``
    (:func:`picture_ending`: ``-o result.png`` held the table's text, which a later ``predict DIR`` read as a broken
    image).
    """
    from .exit_errors import UsageError

    if output and (what := picture_ending(output)):
        raise UsageError(f"-o {output}: its ending names {what}, but -o takes the records, which are text: name it "
                         ".csv, .jsonl or .json; for pictures of what the model looked at, give --heatmap DIR")
    if fmt:
        return fmt
    suffix = Path(output).suffix.lower() if output else ""
    if suffix in OTHER_FORMATS:
        raise UsageError(f"-o {output}: its ending names {OTHER_FORMATS[suffix]}, which predict does not write: name "
                         "it .csv (a spreadsheet opens it), .jsonl or .json, or give --format (table, csv, json, "
                         "jsonl) to write one of those under this name")
    return FORMAT_BY_SUFFIX.get(suffix, "table")


#: The table's path column: as wide as the longest name among the first rows, up to this (and a terminal's width).
MAX_PATH_WIDTH = 100


class Formatter:
    """Writes records to a text stream in one of the output formats, streaming where it can."""

    def __init__(self, fmt: str, out: TextIO, classes: tuple[str, ...], header: bool = True, sample: int = 32,
                 slices: bool | None = None, extra: tuple[str, ...] = ()) -> None:
        """``slices``: whether any input is a scan, whose rows name their slice (the table's ``slice`` column; it was
        there, empty, for images alone); None when not known: then the column is shown unless the run ended within
        the rows held back to size the table (:meth:`settle` with ``final``), none of them a slice. ``extra``: csv
        columns of text after the usual ones (--resume's working folder)."""
        self.fmt, self.out, self.classes, self.sample, self.slices = fmt, out, classes, sample, slices
        self.extra = extra
        # json: every record; table: the first `sample` rows, which size the path column, and the stderr lines
        # (str) that follow some of them, held in their place
        self.buffer: list[dict | str] = []
        self.held = 0  # table: rows in the buffer
        self.width = 0  # table: the path column's, once known
        self.name_width = max(len("prediction"), *(len(display_name(c)) for c in classes))  # "Pituitary tumour"
        if fmt == "csv":
            self.csv = CsvRows(out)
        # none continuing a file (--resume); put with the first row: a --resume stopped at its first map left it alone
        self.header = [*csv_columns(self.classes), *extra] if fmt == "csv" and header else None

    @property
    def holding(self) -> bool:
        """Whether records written now are held back, not yet out: json's all (written at :meth:`close`), the
        table's first rows (until :meth:`settle`)."""
        return self.fmt == "json" or (self.fmt == "table" and not self.width)

    def _header(self) -> None:
        if self.header is not None:
            self.csv.writerow(self.header)
            self.header = None

    def write(self, rec: dict) -> None:
        if self.fmt in ("json", "jsonl"):  # the csv writes a name's bytes back; json would escape their surrogates
            rec = {k: utf8_text(v) if k in ("path", "file", "error", "reason") and isinstance(v, str) else v
                   for k, v in rec.items()}
        if self.fmt == "jsonl":
            self.out.write(json.dumps(rec) + "\n")
        elif self.fmt == "json":
            self.buffer.append(rec)
        elif self.fmt == "csv":
            self._header()
            self.csv.writerow(csv_row(rec, self.classes) + [csv_text(rec.get(k, "")) for k in self.extra])
        elif not self.width:
            self.buffer.append(rec)
            self.held += 1
            if self.held >= self.sample:
                self.settle()
            return
        else:  # table; a folder or zip of several series: which one, as its summary on stderr names it
            where = pad(fit(record_name(rec), self.width), self.width)
            where += f"  {rec.get('slice', ''):>5}" if self.slices else ""
            if "error" in rec:  # messages may quote a name
                self.out.write(f"{where}  error: {printable(rec['error'])}\n")
            elif rec.get("ood"):
                # the page's card's words ("Not classified: REASON"); the machine field stays "ood"
                self.out.write(f"{where}  not classified: {printable(rec['reason'])}\n")
            else:
                # the page's words: a flag on what the answer is, not the only rows to check (the disclaimer follows)
                note = f"  {LOWER_CONFIDENCE}" if rec.get("review") else ""
                note += f"  {STRIPPED}: confidence no guide" if rec.get("note") == STRIPPED_NOTE else ""
                self.out.write(f"{where}  {display_name(rec['label']):<{self.name_width}} "
                               f"{probability_text(rec['confidence']):>10}{note}\n")
        if self.fmt != "json":
            self.out.flush()

    def note(self, text: str) -> None:
        """A line for stderr after the rows written so far (a volume's summary, a scan's notes). The table holds it
        with the rows it holds back: printed ahead, it came before them on a terminal; printing them first sized the
        path column from them alone (``predict head.nii scans/``: every row of scans/ cut to 20 characters)."""
        if self.fmt == "table" and not self.width:
            self.buffer.append(text)
            return
        self.out.flush()
        print(text, file=sys.stderr)

    def settle(self, final: bool = False, stopped: bool = False) -> None:
        """Table: size the path column from the rows so far (folders are expanded as they are read, and a 10 000-image
        folder is not listed just for this), print the header and them; later rows stream, and a longer name is cut in
        the middle to fit (:func:`fit`; csv and json keep it whole). ``final``: no row follows those held.
        ``stopped``: the run ended in an error; with no row held only the notes are said (a model whose scores were
        not finite printed a bare header before its error line)."""
        if self.fmt != "table" or self.width:
            return
        if stopped and not self.held:
            notes, self.buffer = self.buffer, []
            for text in notes:
                print(text, file=sys.stderr)
            return
        rows = [r for r in self.buffer if isinstance(r, dict)]
        names = [record_name(r) for r in rows]
        self.slices = any("slice" in r for r in rows) or (self.slices is not False and not final)
        self.width = min(self._widest(), max([columns(n) for n in names] + [20]))
        slice_head = f"  {'slice':>5}" if self.slices else ""
        self.out.write(f"{'path':<{self.width}}{slice_head}  {'prediction':<{self.name_width}} {'confidence':>10}\n")
        held, self.buffer = self.buffer, []
        for item in held:
            if isinstance(item, str):
                self.note(item)
            else:
                self.write(item)
        self.out.flush()

    def _widest(self) -> int:
        """The widest the path column may be: :data:`MAX_PATH_WIDTH`, and on a terminal what leaves a row's other
        columns on its line (at least 20): a 100-column name ran every row of an 80-column terminal onto two lines,
        its answer under the next row's name."""
        if not (getattr(self.out, "isatty", None) and self.out.isatty()):
            return MAX_PATH_WIDTH  # a file or a pipe: a reader's own width
        others = 2 + self.name_width + 1 + 10 + (7 if self.slices else 0)  # see write(): prediction, confidence, slice
        return max(20, min(MAX_PATH_WIDTH, shutil.get_terminal_size().columns - others))

    def close(self) -> None:
        self.settle(final=True)
        self._header()  # a csv of no rows still has it
        if self.fmt == "json":
            json.dump(self.buffer, self.out, indent=2)
            self.out.write("\n")
        self.out.flush()  # a failed write (> /dev/full) is the run's error, not Python's at exit (status 120)


@contextmanager
def output_sink(output: str | None) -> Iterator[TextIO]:
    """stdout, or a file that only appears, complete, when everything was written."""
    if not output:
        yield sys.stdout
        return
    target = Path(output)
    if is_special_file(target):  # /dev/null, a FIFO: written through (streamed), never replaced
        with open(target, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
            yield fh
        return
    target = final_target(target)  # a link: where it leads gets the records, and the link stays (its folder exists:
    # cli_checks.check_destination; none is made)
    fd, tmp = temp_beside(target)
    try:
        hold_temp(fd, tmp, output)  # held to the run's end: another run started meanwhile is refused
        # surrogateescape: a file name that is not UTF-8 is written as its own bytes, and --resume reads it back
        with open(fd, "w", encoding="utf-8", errors="surrogateescape", newline="") as fh:
            yield fh
            fh.flush()  # on disk before the rename: a write the disk refuses only now (a full or failing disk, NFS)
            try:  # is the run's error, and a power cut cannot leave FILE there, empty or cut short
                os.fsync(fh.fileno())
            except OSError as exc:
                if exc.errno not in (errno.EINVAL, errno.ENOTSUP):  # a file system that cannot sync: as before
                    raise
        moved_into_place(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    finally:
        settled(tmp)


def results_reader_left(output: str | None) -> bool:
    """Whether ``-o`` names a pipe whose reader has left (``-o /dev/stdout | head -1``, a FIFO, ``-o >(head -1)``):
    the reader had what it wanted, as of ``predict DIR | head`` (exit status 0). It was 141, a log pipe closed under
    the job, which a pipe of the results still open (the log's reader gone) stays."""
    try:
        if not output or not hasattr(select, "poll") or not stat.S_ISFIFO(os.stat(output).st_mode):  # (Windows)
            return False
        fd = os.open(output, os.O_WRONLY | os.O_NONBLOCK)  # a FIFO with no reader: ENXIO
    except OSError as exc:
        return exc.errno == errno.ENXIO
    try:  # an anonymous pipe (/dev/stdout) opens whatever its readers: its write end polls POLLERR without them
        poller = select.poll()
        poller.register(fd, select.POLLOUT)
        return any(events & select.POLLERR for _, events in poller.poll(0))
    finally:
        os.close(fd)


#: The key of a --heatmap run's heat map file in each record (:class:`~braintumor.heatmap_files.HeatmapWriter` sets
#: it), and so the csv's column of it.
HEATMAP_KEY = "heatmap"


def heatmap_column(args: argparse.Namespace) -> tuple[str, ...]:
    """The csv's column of each row's heat map file: a --heatmap run's, else none (json and jsonl records hold it)."""
    return (HEATMAP_KEY,) if getattr(args, "heatmap", None) and args.format == "csv" else ()
