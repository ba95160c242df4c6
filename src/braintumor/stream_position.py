"""Where a stream handed to a reader stands, for the advice it gets when it was read from partway or from its end
(an image saved into a BytesIO without ``seek(0)``, a file ``Image.open`` had read the header of).

Why its own module: image_io.py, which reads images, was at 300 lines; this is about the stream, not the image.
"""

from __future__ import annotations

from typing import BinaryIO


def position(source: BinaryIO) -> int:
    """Where a stream stands (0 where it cannot tell: a pipe)."""
    try:
        return int(source.tell())
    except (OSError, ValueError, AttributeError, TypeError):
        return 0


def rewind_advice(source: BinaryIO, seek: str = "seek(0)", reopen: str = "opening it again (it cannot seek)") -> str:
    """``seek`` where ``source`` can seek, else ``reopen``: a socket's (urllib3's ``response.raw``) tells its
    position but cannot seek, and seek(0) raises there. One with seek() and no seekable() (an mmap, before Python
    3.13) can: it was told "it cannot seek"."""
    try:
        seekable = bool(getattr(source, "seekable", lambda: callable(getattr(source, "seek", None)))())
    except (OSError, ValueError):  # a closed one
        seekable = False
    return seek if seekable else reopen
