"""Reading a named file without waiting forever or reading without end: a named pipe no one writes to, a device.

Why its own module: it is about how bytes come off one file (:mod:`braintumor.image_files` says which files are
images, without reading them); image_io reads through :func:`read_limited`, the DICOM sniff and the data fingerprint
open through :func:`open_unblocked`.
"""

from __future__ import annotations

import errno
import os
import select
import stat
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

from .image_files import ListedFile

#: How long a named pipe given as an input may stay silent before it is given up on (seconds): a FIFO that nothing
#: wrote to blocked predict forever in open().
PIPE_WAIT_S: float = 30.0


def open_unblocked(path: Path) -> BinaryIO:
    """``path`` opened to read (unbuffered, binary) without waiting: open() of a named pipe blocks until a writer
    comes, maybe never. A pipe opened so reads without waiting too: the caller waits on it or refuses it by its
    fstat. OSError as open()'s."""
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    return open(fd, "rb", buffering=0)


def read_limited(path: Path, limit: int, check: Callable[[os.stat_result], None] | None = None) -> bytes:
    """At most ``limit + 1`` bytes of ``path`` (more than ``limit``: the caller refuses it), never waiting forever;
    ``check``: the caller's refusals, of the open file's fstat, before anything is read (no stat of its name first).

    A device says its size is 0, so a size check let ``read_bytes()`` read ``/dev/zero`` until the memory was full;
    here it stops past the limit. A named pipe is opened without waiting for a writer (open() blocked until one came),
    then waited on for :data:`PIPE_WAIT_S` at most (TimeoutError); one that is written to (``<(zcat scan.png.gz)``)
    is read as before. A regular file is read as it always was; a device (``/dev/zero`` was read to the limit, and
    said "larger than the limit"), or a pipe where a :class:`ListedFile` was, is refused by its fstat (OSError)."""
    # the descriptor itself (os.read), not a file object: open() of it took one more fstat, and setting a regular
    # file's descriptor blocking one more system call, for nothing (2 of a prediction's 8 calls into the system)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    try:
        info = os.fstat(fd)
        if check is not None:
            check(info)
        mode = info.st_mode
        if not stat.S_ISREG(mode) and (isinstance(path, ListedFile) or not stat.S_ISFIFO(mode)):
            kind = next((k for test, k in _NOT_FILES if test(mode)), "not a regular file")
            raise OSError(errno.EINVAL, f"it is {kind}, not a file" + (
                " (it was one when its folder was listed: replaced since?)" if isinstance(path, ListedFile) else ""))
        if stat.S_ISFIFO(mode):  # (O_NONBLOCK means nothing to a regular file)
            if hasattr(select, "poll"):
                waiting = select.poll()
                waiting.register(fd, select.POLLIN)
                if not waiting.poll(PIPE_WAIT_S * 1000):
                    raise TimeoutError(errno.ETIMEDOUT, f"nothing was written to this pipe in {PIPE_WAIT_S:g} s "
                                       "(is anything writing to it?)", str(path))
            if hasattr(os, "set_blocking"):
                os.set_blocking(fd, True)  # a writer may pause between writes: wait for it, as a pipe reader does
        chunks, left = [], limit + 1
        while left > 0 and (chunk := os.read(fd, min(left, 1 << 20))):
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


#: What :func:`read_limited` calls what it refuses to read, by its mode
_NOT_FILES = ((stat.S_ISFIFO, "a named pipe (FIFO)"), (stat.S_ISCHR, "a character device"),
              (stat.S_ISBLK, "a block device"), (stat.S_ISDIR, "a folder"))
