"""Pillow's own warnings and log lines about a damaged file, kept off stderr while braintumor reads an image.

Why: reading a damaged file, Pillow warns ("Corrupt EXIF data", "Truncated File Read", "Metadata Warning, tag 259 had
too many entries") and logs ("More samples per pixel than can be decoded") on stderr, with its source lines, next to
the one line braintumor prints for that file: that line (an error, or the prediction when the pixels were read) says
what matters. Only Pillow's messages are dropped, and only while this thread reads: ours, numpy's and those of
the caller's other code are left alone, those of the caller's other threads included.

How: ``warnings.catch_warnings`` (what this module used) swaps the process's one list of warning filters until
Python 3.14: while one thread read, another thread's Pillow warnings were dropped too; two threads reading at once
could restore each other's lists, leaving Pillow's warnings ignored for good; and each swap made Python forget which
warnings it had already shown, so the caller's once-per-place warnings came back after every image. Instead, two
filters stay in the list (put back in front when something else went there): their module pattern is an object whose
``match`` asks this thread's state (the warnings machinery only calls ``match`` on it, in C and in Python), so they
match Pillow's modules on a thread inside :func:`quiet_pillow` and nothing anywhere else.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Iterator

from PIL import Image

#: The loggers of Pillow's modules that log while opening or decoding the formats we read (one ``getLogger(__name__)``
#: each; a filter on the "PIL" logger alone would not see its children's records).
PILLOW_LOGGERS: tuple[str, ...] = ("PIL", "PIL.Image", "PIL.ImageFile", "PIL.TiffImagePlugin", "PIL.PngImagePlugin",
                                   "PIL.JpegImagePlugin", "PIL.MpoImagePlugin", "PIL.BmpImagePlugin",
                                   "PIL.WebPImagePlugin")

_local = threading.local()  # .reading: inside quiet_pillow; .bombs: Pillow's DecompressionBombWarning an error there


class _WhileReading(logging.Filter):
    """Drops the records of Pillow's loggers while this thread is inside :func:`quiet_pillow` (a level set on the
    loggers would silence every thread's, for as long as it stayed set)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(_local, "reading", False)


_FILTER = _WhileReading()
for _name in PILLOW_LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)


class _PillowWhileReading:
    """The module pattern of a warnings filter: Pillow's modules, on a thread inside :func:`quiet_pillow` (and, for
    ``bombs``, one that asked for its decompression-bomb warning as an error)."""

    def __init__(self, bombs: bool = False) -> None:
        self.bombs = bombs

    def match(self, module: str) -> bool:
        return (getattr(_local, "reading", False) and (not self.bombs or getattr(_local, "bombs", False))
                and module.startswith("PIL."))

    def __repr__(self) -> str:  # how warnings.filters shows it
        return f"<Pillow's modules while braintumor reads{', bombs as errors' if self.bombs else ''}>"


#: Checked in this order: first match wins.
_WARNING_FILTERS = (("error", None, Image.DecompressionBombWarning, _PillowWhileReading(bombs=True), 0),
                    ("ignore", None, Warning, _PillowWhileReading(), 0))
_moving = threading.Lock()


def _filters_in_front() -> None:
    """Our filters first in the list, where they take effect: once per process, and again after a caller's filter
    (or a ``catch_warnings`` of its own, which swaps in a copy) put something before them."""
    if warnings.filters[:len(_WARNING_FILTERS)] == list(_WARNING_FILTERS):
        return
    with _moving:  # two threads at once: one moves them
        filters = warnings.filters
        if filters[:len(_WARNING_FILTERS)] != list(_WARNING_FILTERS):
            filters[:] = [*_WARNING_FILTERS, *(f for f in filters if f not in _WARNING_FILTERS)]
            mutated = getattr(warnings, "_filters_mutated", None)  # CPython: forget what was shown under the old order
            if mutated is not None:
                mutated()


@contextlib.contextmanager
def quiet_pillow(bombs_raise: bool = False) -> Iterator[None]:
    """Pillow's warnings (those raised from its modules) ignored and its log records dropped inside, on this thread
    only; ``bombs_raise``: its ``DecompressionBombWarning`` raised instead (an image between Pillow's limit and twice
    it, refused rather than decoded). Add no warning filter inside: nothing is restored on the way out."""
    _filters_in_front()
    before = getattr(_local, "reading", False), getattr(_local, "bombs", False)
    _local.reading, _local.bombs = True, bombs_raise or before[1]
    try:
        yield
    finally:
        _local.reading, _local.bombs = before
