"""The progress bar of ``braintumor predict``, one for every way it runs (one process, ``--workers N``, ``--resume``).

Why its own module: the bar counts *inputs* (an image; a scan, however many series and slice records it gives; a
name that could not be read), with their total where the inputs are known up front, and by default only for
:data:`DEFAULT_FROM` or more of them, as ``--help`` says. With ``--workers`` or ``--resume`` it counted output records
instead, without a total: a 40-slice NIfTI moved it by 40 and a folder of 30 such scans drew a bar of 1200.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")

#: What the bar counts (tqdm's unit).
UNIT = "input"
#: By default no bar for fewer inputs than this: a short run at a terminal stays clean.
DEFAULT_FROM = 50


def shown_by_default(total: int) -> bool:
    """Whether a run of ``total`` inputs draws a bar when neither --progress nor --no-progress is given."""
    return total >= DEFAULT_FROM and sys.stderr.isatty()


def say(note: str) -> None:
    """A note on stderr before the results (a file in a folder that is not read), whatever the format: stdout holds
    only records, and the user would otherwise believe every file was read. Through tqdm: a bar drawn stays whole."""
    tqdm.write(note, file=sys.stderr)


class InputBar:
    """A bar over a run's inputs; ``total`` None where they are listed as they are read (folders, with --workers or
    --resume: a tree of millions is never listed whole), and then drawn by default from the :data:`DEFAULT_FROM`-th.

    It opens at :meth:`start`, once the first input to score was planned: a resumed run's inputs already in its file,
    taken off the total (:meth:`skipped`) as planning passes them, are then known; they are not this run's."""

    def __init__(self, progress: bool | None, total: int | None) -> None:
        self.progress, self.total, self.done = progress, total, 0
        self.bar: tqdm | None = None

    def _show(self) -> bool:
        if self.progress is not None:
            return self.progress
        return shown_by_default(self.total if self.total is not None else self.done)

    def _open(self) -> None:
        if self.bar is None and self._show():
            self.bar = tqdm(total=self.total, initial=self.done, unit=UNIT, file=sys.stderr)

    def start(self) -> None:
        """The first input to score is planned: draw the bar, where it is drawn from the start."""
        if self.total is not None or self.progress:
            self._open()

    def skipped(self) -> None:
        """One input left out (--resume: its records are already in the file)."""
        if self.total is not None:
            self.total -= 1
            if self.bar is not None:
                self.bar.total = self.total
                self.bar.refresh()

    def update(self, n: int) -> None:
        """``n`` more inputs scored, their records written."""
        self.done += n
        if self.bar is not None:
            self.bar.update(n)
        elif self.total is None:
            self._open()  # the DEFAULT_FROM-th input, without a total

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def input_count(paths: list[str], planned: list | None) -> int | None:
    """How many inputs a run has, where that is known without listing a folder: each planned input, or each name
    when none is a folder (``find ... | braintumor predict - --workers 8``: a name is one input, an image or a scan);
    None otherwise (folders are listed as they are read)."""
    if planned is not None:
        return len(planned)
    return None if any(os.path.isdir(p) for p in paths) else len(paths)


def started(units: Iterable[T], bar: InputBar) -> Iterator[T]:
    """``units`` of work (:mod:`braintumor.batch_predict`), the bar drawn once the first is planned: a resumed run's
    inputs before it, already in its file, are then taken off its total."""
    for k, unit in enumerate(units):
        if not k:
            bar.start()
        yield unit
