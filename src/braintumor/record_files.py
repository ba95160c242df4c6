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


class _RecordFile(io.TextIOWrapper):
    """A text file appended to a record at a time, flushed after each: :attr:`whole` is its size at the last flush."""

    whole = 0

    def flush(self) -> None:
        super().flush()
        self.whole = os.fstat(self.fileno()).st_size


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
    fh.whole = os.fstat(fh.fileno()).st_size
    try:
        yield fh
    except BaseException:
        with contextlib.suppress(OSError):  # the cut-short record's rest fails again (or lands: then it is whole)
            fh.close()
        with contextlib.suppress(OSError):
            if stat.S_ISREG(os.stat(path).st_mode):  # not a FIFO or /dev/null, written through
                if made and not fh.whole:
                    os.unlink(path)
                elif os.path.getsize(path) > fh.whole:
                    os.truncate(path, fh.whole)
        raise
    fh.close()
