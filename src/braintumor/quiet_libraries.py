"""The warnings and log lines of the libraries braintumor reads with (Pillow, pydicom, nibabel), kept off stderr while
it reads a file, on the reading thread only.

Why: reading a damaged file, Pillow warns ("Corrupt EXIF data", "Truncated File Read", "Metadata Warning, tag 259 had
too many entries") and logs ("More samples per pixel than can be decoded"), pydicom warns of a text's stray escape byte
or a decoder's doubts, nibabel of a header it fixes, each on stderr with its source line, next to the one line
braintumor prints for that file: that line (an error, or the prediction when the pixels were read) and the scan's notes
say what matters. Only the named libraries' messages are dropped, and only while this thread reads: ours, numpy's and
those of the caller's other code are left alone, those of the caller's other threads included (the web server's
request threads read at once). :func:`quiet_this_thread` drops every warning, but of its own thread only (torch's
exporter's, whatever module they name).

How: ``warnings.catch_warnings`` (what the readers used) swaps the process's one list of warning filters until
Python 3.14: while one thread read, another thread's warnings of that library were dropped too; two threads reading at
once could restore each other's lists, leaving the library's warnings ignored for good; and each swap made Python forget
which warnings it had already shown, so the caller's once-per-place warnings came back after every file. Instead, two
filters stay in the list (put back in front when something else went there): their module pattern is an object whose
``match`` asks this thread's state (the warnings machinery only calls ``match`` on it, in C and in Python), so they
match the modules a thread inside :func:`quiet_libraries` silences and nothing anywhere else.

C decoders (:func:`quiet_decoders`): GDCM's libjpeg and OpenJPEG write what they find wrong in a damaged stream
("Corrupt JPEG data: bad Huffman code", "A marker ID was expected", "Failed to decode tile 1/1"), and libtiff, Pillow's
TIFF decoder, what it finds wrong in a strip ("JPEGLib: Invalid component ID 82 in SOS.",
:func:`braintumor.tiff_strips.libtiff_lines_dropped`), on the process's stderr, where no warning filter reaches. A
process says what may be done about it (:func:`decoders_quiet`): nothing (a Python caller's: its stderr as it is);
:data:`SHARED` (serve's workers, whose request threads log on the same fd 2): libtiff's error handler unset and, while
GDCM decodes, the C library's ``stderr`` pointed at the null device, neither touching fd 2, so every Python log line
of every thread still arrives (:mod:`braintumor.decoder_stderr` says how and what else goes meanwhile); :data:`OWN` (the
CLI, its worker processes, serve's sync workers of ``--threads 1``, one request at a time on one thread): the same,
and fd 2 itself pointed away while a decoder runs where the C library's ``stderr`` cannot be (off glibc): that is
process-wide, every thread's stderr goes with it, so never where threads share it.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
import warnings
from collections.abc import Iterator

from PIL import Image

from .decoder_stderr import c_stderr_away, silence_libtiff_errors
from .stop_signals import signals_held

#: The loggers of Pillow's modules that log while opening or decoding the formats we read (one ``getLogger(__name__)``
#: each; a filter on the "PIL" logger alone would not see its children's records).
PILLOW_LOGGERS: tuple[str, ...] = ("PIL", "PIL.Image", "PIL.ImageFile", "PIL.TiffImagePlugin", "PIL.PngImagePlugin",
                                   "PIL.JpegImagePlugin", "PIL.MpoImagePlugin", "PIL.BmpImagePlugin",
                                   "PIL.WebPImagePlugin")

_local = threading.local()  # .quiet: the module prefixes silenced; .bombs: Pillow's DecompressionBombWarning an error


def _silenced(name: str) -> bool:
    """Whether module or logger ``name`` is one this thread silences now ("PIL" is under "PIL.")."""
    return f"{name}.".startswith(getattr(_local, "quiet", ()))


class _WhileReading(logging.Filter):
    """Drops the records of the silenced libraries' loggers while this thread is inside :func:`quiet_libraries` (a level
    set on the loggers would silence every thread's, for as long as it stayed set)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not _silenced(record.name)


_FILTER = _WhileReading()


def quiet_loggers(*names: str) -> None:
    """Let :func:`quiet_libraries` drop these loggers' records: a filter on a logger does not see the records of its
    children, so each logger a library logs to is named (once per process; adding it again changes nothing)."""
    for name in names:
        logging.getLogger(name).addFilter(_FILTER)


quiet_loggers(*PILLOW_LOGGERS)


class _WhileQuiet:
    """The module pattern of a warnings filter: the modules a thread inside :func:`quiet_libraries` silences (and, for
    ``bombs``, only on one that asked for Pillow's decompression-bomb warning as an error)."""

    def __init__(self, bombs: bool = False) -> None:
        self.bombs = bombs

    def match(self, module: str) -> bool:
        return (not self.bombs or getattr(_local, "bombs", False)) and _silenced(module)

    def __repr__(self) -> str:  # how warnings.filters shows it
        return f"<libraries' modules while braintumor reads{', bombs as errors' if self.bombs else ''}>"


#: Checked in this order: first match wins.
_WARNING_FILTERS = (("error", None, Image.DecompressionBombWarning, _WhileQuiet(bombs=True), 0),
                    ("ignore", None, Warning, _WhileQuiet(), 0))
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
def quiet_libraries(*prefixes: str, bombs_raise: bool = False) -> Iterator[None]:
    """The warnings raised from the modules whose names start with ``prefixes`` ("pydicom.", "nibabel.") ignored
    inside, and the records of those of their loggers named to :func:`quiet_loggers` dropped, on this thread only;
    ``bombs_raise``: Pillow's ``DecompressionBombWarning`` raised instead (an image between Pillow's limit and twice
    it, refused rather than decoded). Add no warning filter inside: nothing is restored on the way out."""
    _filters_in_front()
    before = getattr(_local, "quiet", ()), getattr(_local, "bombs", False)
    _local.quiet, _local.bombs = before[0] + prefixes, bombs_raise or before[1]
    try:
        yield
    finally:
        _local.quiet, _local.bombs = before


def quiet_pillow(bombs_raise: bool = False) -> contextlib.AbstractContextManager[None]:
    """:func:`quiet_libraries` for Pillow, whose readers call it around each image they open or decode."""
    return quiet_libraries("PIL.", bombs_raise=bombs_raise)


def quiet_this_thread() -> contextlib.AbstractContextManager[None]:
    """Every warning raised on this thread ignored inside, whatever module it is attributed to (the empty prefix starts
    every name): ``catch_warnings`` with ``simplefilter("ignore")`` for this thread alone. For torch's ONNX exporter,
    whose warnings name modules no prefix foresees (its pytree's FutureWarning is attributed to ``copyreg``)."""
    return quiet_libraries("")


#: What a process whose request threads share its stderr lets :func:`quiet_decoders` do (serve's threaded workers).
SHARED = "shared"
#: What a process whose stderr is its own lets it do (a CLI command, a batch worker, serve's sync worker).
OWN = "own"


class _Descriptor2:
    """What this process lets :func:`quiet_decoders` do (None, :data:`SHARED`, :data:`OWN`); where fd 2 is pointed
    while C decoders run there: how many are inside now (the last one out puts it back) and the real stderr's
    duplicate meanwhile."""

    def __init__(self) -> None:
        self.how: str | None = None
        self.inside, self.saved = 0, -1
        self.lock = threading.Lock()


_fd2 = _Descriptor2()


def set_decoders_quiet(how: str | None) -> str | None:
    """Let :func:`quiet_decoders` drop the C decoders' lines in this process (:data:`SHARED`, :data:`OWN`), or not
    (None: libtiff's error handler put back); what was allowed before."""
    before, _fd2.how = _fd2.how, how
    silence_libtiff_errors(how is not None)
    return before


@contextlib.contextmanager
def decoders_quiet(how: str | None = OWN) -> Iterator[None]:
    """:func:`set_decoders_quiet` inside, and as it was again after (a CLI command run in-process, as the tests do)."""
    before = set_decoders_quiet(how)
    try:
        yield
    finally:
        set_decoders_quiet(before)


def _point_fd2_away() -> bool:
    """fd 2 at the null device (the first thread in; the others count), or False where it cannot be (closed)."""
    with _fd2.lock:
        if _fd2.inside == 0:
            try:
                saved = os.dup(2)
            except OSError:  # started with 2>&-: nothing to quiet
                return False
            try:
                null = os.open(os.devnull, os.O_WRONLY)
            except OSError:
                os.close(saved)
                return False
            os.dup2(null, 2)
            os.close(null)
            _fd2.saved = saved
        _fd2.inside += 1
        return True


def _put_fd2_back() -> None:
    with _fd2.lock:
        _fd2.inside -= 1
        if _fd2.inside == 0:
            os.dup2(_fd2.saved, 2)
            os.close(_fd2.saved)
            _fd2.saved = -1


@contextlib.contextmanager
def quiet_decoders() -> Iterator[None]:
    """What C decoders print inside dropped, where the process said so (:func:`decoders_quiet`); elsewhere nothing
    changes. Our message for a file they fail on says what matters (which decoders, what to do)."""
    how = _fd2.how
    if how is None:
        yield
        return
    with c_stderr_away() as dropped:
        if dropped or how != OWN:  # the C library's stderr away; or fd 2 shared, left alone
            yield
            return
    away = False
    try:
        with contextlib.suppress(Exception):  # what Python buffered goes where it was meant to
            sys.stderr.flush()
        with signals_held():  # Ctrl-C's KeyboardInterrupt between two steps left fd 2 away
            away = _point_fd2_away()
        yield
    finally:
        if away:
            with signals_held():  # Ctrl-C's KeyboardInterrupt between two steps left fd 2 away
                _put_fd2_back()
