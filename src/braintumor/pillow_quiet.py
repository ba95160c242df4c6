"""Pillow's own warnings and log lines about a damaged file, kept off stderr while braintumor reads an image.

Why: reading a damaged file, Pillow warns ("Corrupt EXIF data", "Truncated File Read", "Metadata Warning, tag 259 had
too many entries") and logs ("More samples per pixel than can be decoded") on stderr, with its source lines, next to
the one line braintumor prints for that file: that line (an error, or the prediction when the pixels were read) says
what matters. Only Pillow's messages are dropped, and only while this thread reads: ours, numpy's and those of
the caller's other code are left alone, and the caller's warning filters and logging are as they were afterwards.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import warnings
from collections.abc import Iterator

#: The loggers of Pillow's modules that log while opening or decoding the formats we read (one ``getLogger(__name__)``
#: each; a filter on the "PIL" logger alone would not see its children's records).
PILLOW_LOGGERS: tuple[str, ...] = ("PIL", "PIL.Image", "PIL.ImageFile", "PIL.TiffImagePlugin", "PIL.PngImagePlugin",
                                   "PIL.JpegImagePlugin", "PIL.MpoImagePlugin", "PIL.BmpImagePlugin",
                                   "PIL.WebPImagePlugin")


class _WhileReading(logging.Filter):
    """Drops the records of Pillow's loggers while this thread is inside :func:`quiet_pillow` (a level set on the
    loggers would silence every thread's, for as long as it stayed set)."""

    local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self.local, "reading", False)


_FILTER = _WhileReading()
for _name in PILLOW_LOGGERS:
    logging.getLogger(_name).addFilter(_FILTER)


@contextlib.contextmanager
def quiet_pillow() -> Iterator[None]:
    """Pillow's warnings (those raised from its modules) ignored and its log records dropped inside; the warning
    filters are restored on the way out. A filter added inside (``simplefilter("error", DecompressionBombWarning)``)
    takes precedence over this one."""
    before = getattr(_WhileReading.local, "reading", False)
    _WhileReading.local.reading = True
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", module=r"PIL\.")
            yield
    finally:
        _WhileReading.local.reading = before
