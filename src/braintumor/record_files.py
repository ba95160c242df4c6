"""Text files appended to a record at a time (``predict --resume``'s records), each record whole or not there.

Apart from :mod:`braintumor.atomic_files` (at the 300-line limit), whose outputs appear whole by a rename: a file
appended to cannot be renamed into place, so it is flushed after each record and cut back to the last whole one.
"""

from __future__ import annotations

import contextlib
import io
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import TextIO

from .atomic_files import no_file_made
from .exit_errors import RunFailed
from .wording import printable


class _RecordFile(io.TextIOWrapper):
    """A text file appended to a record at a time, flushed after each: :attr:`whole` is its size at the last flush."""

    whole = 0
    path: Path | None = None  # the name it was opened by, which should still name it (:meth:`flush`)

    def flush(self) -> None:
        """Write the records so far, and raise RunFailed where the file no longer has its name: removed (or moved)
        under a --resume run, it took every later record with it, and the run ended with status 0 and no file."""
        super().flush()
        info = os.fstat(self.fileno())
        self.whole = info.st_size
        if self.path is not None and stat.S_ISREG(info.st_mode) and not _named(self.path, info):
            shown, self.path = printable(str(self.path)), None  # said once (close flushes again)
            raise RunFailed(f"{shown} was removed or moved away during the run, with the records written to it: run "
                            "the same command again to write them")


def _named(path: Path, info: os.stat_result) -> bool:
    """Whether ``path`` (a link: the file it leads to) is the open file ``info`` describes."""
    try:
        now = os.stat(path)
    except OSError:
        return False
    return (now.st_dev, now.st_ino) == (info.st_dev, info.st_ino)


@contextlib.contextmanager
def appended_records(path: Path) -> Iterator[TextIO]:
    """``path`` opened to append text records to, each written whole and flushed (``predict --resume``'s records): a
    block that ends in an error leaves whole records only. A write that failed (a full disk) left the record it was
    writing cut short in the file (``...,0.999928,3.2e-05,``: a row with columns missing, or a number cut to fewer
    digits, for whoever read it before a later --resume dropped it); now the file is cut back to its last flush, and
    one made here that holds nothing whole is removed."""
    made = not os.path.lexists(path)
    try:
        raw = open(path, "ab")  # noqa: SIM115 - closed below
    except OSError as exc:  # /proc's 'No such file or directory', of a folder that is there
        raise no_file_made(exc, path) from None
    fh = _RecordFile(raw, encoding="utf-8", errors="surrogateescape", newline="")
    opened = os.fstat(fh.fileno())
    fh.whole, fh.path = opened.st_size, path
    try:
        yield fh
    except BaseException:
        with contextlib.suppress(OSError):  # the cut-short record's rest fails again (or lands: then it is whole)
            fh.close()
        with contextlib.suppress(OSError):  # the file written to, not another under its name since (a log rotation's)
            if stat.S_ISREG(opened.st_mode) and _named(path, opened):  # not a FIFO or /dev/null, written through
                if made and not fh.whole:
                    os.unlink(path)
                elif os.path.getsize(path) > fh.whole:
                    os.truncate(path, fh.whole)
        raise
    fh.close()
