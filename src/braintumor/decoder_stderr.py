"""What the C decoders under Pillow and GDCM print for a damaged file, kept off the process's stderr without pointing
file descriptor 2 away: so also in a process whose threads share it (serve's threaded workers), whose other threads'
log lines go on arriving meanwhile.

libtiff (Pillow's TIFF decoder) reports through handlers. Pillow unsets its warning handler before each decode, not
its error handler, whose default prints ("JPEGLib: Invalid component ID 82 in SOS.", "tempfile.tif: Using code not
yet in table."). :func:`silence_libtiff_errors` unsets that one too, process-wide, in the very libtiff Pillow's
``_imaging`` uses (looked up through that module, as the dynamic linker bound it; nothing else is loaded), and only
while it is libtiff's own default: a handler someone else set is left alone.

GDCM has no such switch: its libjpeg keeps the IJG default message routine, its OpenJPEG error callback is GDCM's
``gdcm_error_callback``, and both ``fprintf`` to the C library's ``stderr`` (``gdcm.Trace`` governs GDCM's own macros
only, which python-gdcm's release build compiles out). Python never writes through that ``FILE`` pointer: sys.stderr,
logging and so gunicorn's error log write to fd 2 themselves. glibc documents ``stderr`` as a variable a program may
set, so :func:`c_stderr_away` points it at the null device while a decoder runs (the first thread in; the last one out
puts it back; the null device's ``FILE`` is never closed, so a thread that read the pointer before it came back writes
nowhere harmful). Only what C code writes through stdio's ``stderr`` meanwhile is dropped, from any thread: a C
assertion's message, C++'s "terminate called ...", Python's own fatal error text; never a Python log line. Elsewhere
(musl's ``stderr`` is a constant, macOS names it ``__stderrp``, Windows) it yields False and the caller falls back
(:func:`braintumor.quiet_libraries.quiet_decoders`).
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import threading
from collections.abc import Iterator

from .stop_signals import signals_held


class _CStderr:
    """glibc's ``stderr`` variable (once found), the null device's ``FILE``, how many threads are inside
    :func:`c_stderr_away` now and the pointer they put back."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.looked = False
        self.variable: ctypes.c_void_p | None = None
        self.null: int | None = None
        self.inside, self.saved = 0, None


_c = _CStderr()


def _glibc() -> bool:
    try:
        return bool(os.confstr("CS_GNU_LIBC_VERSION"))
    except (AttributeError, ValueError, OSError):  # not glibc, or no confstr (Windows)
        return False


def _variable() -> ctypes.c_void_p | None:
    """The ``stderr`` every library of the process uses (the program's copy, where it has one: the global scope's first
    definition), with the null device's ``FILE`` opened; None off glibc. Called under the lock."""
    if not _c.looked:
        _c.looked = True
        if _glibc():
            try:
                libc = ctypes.CDLL(None)
                fopen = libc.fopen
                fopen.restype, fopen.argtypes = ctypes.c_void_p, [ctypes.c_char_p, ctypes.c_char_p]
                variable, null = ctypes.c_void_p.in_dll(libc, "stderr"), fopen(os.fsencode(os.devnull), b"w")
            except (OSError, AttributeError, ValueError):
                variable, null = None, None
            if variable is not None and null:
                _c.variable, _c.null = variable, null
    return _c.variable


def _point_away() -> bool:
    with _c.lock:
        variable = _variable()
        if variable is None:
            return False
        if _c.inside == 0:
            _c.saved, variable.value = variable.value, _c.null
        _c.inside += 1
        return True


def _put_back() -> None:
    with _c.lock:
        _c.inside -= 1
        if _c.inside == 0 and _c.variable is not None:
            _c.variable.value = _c.saved


@contextlib.contextmanager
def c_stderr_away() -> Iterator[bool]:
    """Yields whether what C code writes through stdio's ``stderr`` inside is dropped (False off glibc: nothing
    changed)."""
    away = False
    try:
        with signals_held():  # Ctrl-C's KeyboardInterrupt between two steps left the pointer away
            away = _point_away()
        yield away
    finally:
        if away:
            with signals_held():
                _put_back()


class _Libtiff:
    """libtiff's ``TIFFSetErrorHandler`` as Pillow's ``_imaging`` binds it (once found), and the handler it had."""

    def __init__(self) -> None:
        self.looked, self.setter, self.before, self.silent = False, None, None, False


_tiff = _Libtiff()


class _DlInfo(ctypes.Structure):
    _fields_ = [("dli_fname", ctypes.c_char_p), ("dli_fbase", ctypes.c_void_p), ("dli_sname", ctypes.c_char_p),
                ("dli_saddr", ctypes.c_void_p)]


def _object_base(address: int | None) -> int | None:
    """The load address of the shared object that holds ``address`` (dladdr), or None."""
    info = _DlInfo()
    try:
        found = ctypes.CDLL(None).dladdr(ctypes.c_void_p(address), ctypes.byref(info))
    except (OSError, AttributeError):
        return None
    return info.dli_fbase if found else None


def _setter():
    """``TIFFSetErrorHandler`` of the libtiff ``PIL._imaging`` is linked to, or None (Pillow built without libtiff, a
    platform without ``RTLD_NOLOAD``)."""
    if not _tiff.looked:
        _tiff.looked = True
        try:
            from PIL import Image

            imaging = ctypes.CDLL(Image.core.__file__, mode=os.RTLD_NOLOAD | os.RTLD_LAZY)  # the one loaded, not a copy
            setter = imaging.TIFFSetErrorHandler  # dlsym from it: found in the libraries it was linked with
        except (OSError, AttributeError, ImportError):
            return None
        setter.restype, setter.argtypes = ctypes.c_void_p, [ctypes.c_void_p]
        _tiff.setter = setter
    return _tiff.setter


def silence_libtiff_errors(silent: bool) -> bool:
    """libtiff's error handler unset (``silent``), or put back as it was; whether libtiff prints nothing now. Unset only
    where it was libtiff's own default (a function of libtiff's own library) or already unset."""
    setter = _setter()
    if setter is None:
        return False
    if silent and not _tiff.silent:
        before = setter(None)
        if before and _object_base(before) != _object_base(ctypes.cast(setter, ctypes.c_void_p).value):
            setter(before)  # someone else's handler (Pillow's, some day): theirs to keep
            return False
        _tiff.before, _tiff.silent = before, True
    elif not silent and _tiff.silent:
        setter(_tiff.before)
        _tiff.before, _tiff.silent = None, False
    return _tiff.silent


def libtiff_errors_silent() -> bool:
    """Whether :func:`silence_libtiff_errors` has libtiff printing nothing now."""
    return _tiff.silent
