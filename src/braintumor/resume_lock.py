"""One ``braintumor predict --resume`` run at a time per output file: an advisory lock on FILE itself.

Why: two runs at once each read what FILE lacked when they started and appended it, every input twice (measured: 2590
records for 1311 inputs). The lock is taken before FILE is read and held until the run ends (the system lets go of it
when the process dies, however); a second run is refused (within :data:`PROBE_GRACE`), FILE untouched. FILE itself is
locked, not a lock file beside it, which a killed run would leave behind. Its repair (a last line cut short) puts a new
file in its place: :func:`lock_replacement` locks that one before it is moved in, and a run that locked the file just
replaced opens it again. Devices and FIFOs are written through, never read: not locked. A file system without locks
(ENOLCK, EOPNOTSUPP on some NFS mounts) runs unlocked. A run without --resume, which writes FILE whole beside it and
then moves it into place, holds the temporary file it writes (:func:`hold_temp`), FILE once moved: a --resume run
started meanwhile is refused, as it would append to a file about to be replaced (or made) under it, its records lost;
so is another run without --resume, whose file would replace the first's or be replaced by it (the last rename won).
Windows is not locked: its locks bar reading the locked bytes, and a file held open there cannot be replaced by the
repair."""

from __future__ import annotations

import contextlib
import os
import stat
import time
from collections.abc import Iterator
from pathlib import Path

from .atomic_files import final_target
from .exit_errors import UsageError
from .file_names import temp_prefix
from .image_files import is_special_file
from .wording import printable

try:
    import fcntl
except ImportError:  # Windows
    fcntl = None  # type: ignore[assignment]

#: Seconds a --resume run tries again for a lock that is held: :func:`check_not_held` holds it for an instant.
PROBE_GRACE: float = 0.5

#: The descriptors locked by the run now in progress: its output file, and any file put in its place since.
_HELD: list[int] = []


@contextlib.contextmanager
def resume_lock(output: str | None) -> Iterator[None]:
    """Hold ``output`` (``-o FILE`` of a --resume run; None: nothing to lock) for the block, or raise UsageError where
    another run holds it. A file the lock made and the block left empty, ended by an error or a stop, is removed, as
    :func:`~braintumor.record_files.appended_records` removes one it made."""
    target = final_target(Path(output)) if output and output != "-" and fcntl is not None else None
    made, fd = _locked(target, output) if target else (False, None)  # a link's target: the file written
    if fd is not None:
        _HELD.append(fd)
        if _written_whole_by_another(target):  # a run without --resume
            os.close(_HELD.pop())
            if made:
                with contextlib.suppress(OSError):
                    os.unlink(target)
            raise _held_error(output, resuming=False)
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            if made and os.stat(target).st_size == 0 and _same_file(os.stat(target), _HELD):
                os.unlink(target)  # (still held: a run that opened it meanwhile is refused)
        raise
    finally:
        while _HELD:
            os.close(_HELD.pop())


def check_not_held(output: str | None) -> None:
    """Raise UsageError where a --resume run holds ``output``, which a run without --resume (``-o FILE``, written whole
    and moved into place) would replace: the --resume run went on appending to the file replaced, its later records
    lost, and still said they were kept in FILE. Only asked, not held; a FILE not there yet is not made. Asked with a
    shared lock, which only a run's exclusive one bars: two such runs asking at once refused each other (the exclusive
    probe), and a --resume run starting at that instant waits out the probe (:data:`PROBE_GRACE`)."""
    target = final_target(Path(output)) if output and output != "-" and fcntl is not None else None
    fd = _locked(target, output, make=False, shared=True)[1] if target else None
    if fd is not None:
        os.close(fd)


def hold_temp(fd: int, tmp: str, output: str) -> None:
    """Hold, to the end of the run, the temporary file ``fd`` (named ``tmp``) that a run without --resume writes
    ``output`` as (and so ``output`` once it is moved into place), then refuse (UsageError) where another run writes
    ``output``: a run without --resume (its temporary file held: two at once each replaced FILE, the last one's records
    kept, the other's lost and its heat maps named by no record), or a --resume run holding ``output``. Held first, so
    that of two runs started at once at least one sees the other; where each sees the other, the one whose temporary
    file's name sorts first waits for the other to be refused (:func:`_written_whole_by_another`)."""
    if fcntl is None:
        return
    held = os.dup(fd)  # its own lock's: the writer's descriptor is closed before the rename
    try:
        fcntl.flock(held, fcntl.LOCK_EX)  # waits only for another run's look at it (_written_whole_by_another)
    except OSError:  # a file system without locks
        os.close(held)
        return
    _HELD.append(held)
    if _written_whole_by_another(final_target(Path(output)), own=Path(tmp).name):
        raise _held_error(output, resuming=False)
    check_not_held(output)  # after: one moved into place meanwhile holds FILE


def _written_whole_by_another(target: Path, own: str | None = None) -> bool:
    """Whether a run without --resume holds a temporary file it writes ``target`` as (:func:`hold_temp`). ``own``: the
    name of this run's (a run without --resume): where every other held sorts after it, each of those may be a run
    started at the same instant that sees this one and is refused; waited for, up to :data:`PROBE_GRACE`, so that of
    two such runs one goes on (else both were refused)."""
    end = time.monotonic() + PROBE_GRACE
    while (others := _held_temps(target)) and own is not None and own < min(others) and time.monotonic() < end:
        time.sleep(0.01)
    return bool(others)


def _held_temps(target: Path) -> list[str]:
    """The names of the temporary files of ``target``'s name beside it that another run holds."""
    prefix, held = temp_prefix(target.name), []
    with contextlib.suppress(OSError):
        for entry in os.scandir(target.parent):
            if not (entry.name.startswith(prefix) and len(entry.name) == len(prefix) + 8):
                continue
            try:
                fd = os.open(entry.path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:
                continue
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not _same_file(os.fstat(fd), _HELD):  # this run's own (a repair's, its output's) is not another's
                    held.append(entry.name)
            except OSError:
                pass
            finally:
                os.close(fd)
    return held


def _held_error(shown: str, resuming: bool = True) -> UsageError:
    """The refusal of a run on ``shown`` that another run holds: a lock on FILE itself (``resuming``), a --resume run's
    or a run without --resume's once its file is in place (its lock moved with it, to its end: the lock cannot tell
    which, and such a run was told "predict --resume is writing"), or a run without --resume writing it whole
    (:func:`_written_whole_by_another`), which a --resume run was told was a --resume run."""
    if not resuming:
        return UsageError(f"another braintumor predict is writing {printable(shown)} (without --resume: its file "
                          "replaces this one when it ends): wait for it to finish, or give -o another file")
    return UsageError(f"another braintumor predict is writing {printable(shown)} (one run at a time per file): "
                      "wait for it to end, or give -o another file")


def lock_replacement(target: Path, tmp: Path) -> None:
    """Lock ``tmp``, about to replace ``target``, where this run holds ``target``: a run started once it is in place
    would otherwise find it unlocked."""
    with contextlib.suppress(OSError):
        if _same_file(os.stat(target), _HELD):
            fd = os.open(tmp, os.O_WRONLY | os.O_APPEND)
            _HELD.append(fd)
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _locked(path: Path, shown: str, make: bool = True, shared: bool = False) -> tuple[bool, int | None]:
    """(whether it was made here, a descriptor holding its lock) of ``path`` (``shown``: as given), made where it is
    missing (unless not ``make``: then none), locked exclusively (``shared``: shared, to ask); None where it is not
    locked (a device or FIFO, a file system without locks, a file that cannot be opened: the run's own open of it says
    why). Opened to write: NFS's locks, emulated by byte-range locks, need it for an exclusive one."""
    for _ in range(100):
        if is_special_file(path):  # not even opened: closing a FIFO's writer ends its reader's stream
            return False, None
        made = not os.path.lexists(path)
        if made and not make:
            return False, None
        flags = os.O_WRONLY | os.O_APPEND | os.O_NONBLOCK | (os.O_CREAT | os.O_EXCL if made else 0)
        try:
            fd = os.open(path, flags, 0o666)  # non-blocking: a FIFO put there since waits for no reader
        except FileExistsError:  # made meanwhile (by another run): opened as it is, next time round
            continue
        except FileNotFoundError:  # removed meanwhile; or a folder that takes no new files (/proc's): said later
            if made:
                return False, None
            continue
        except OSError:
            return False, None
        try:
            if not stat.S_ISREG(os.fstat(fd).st_mode):
                os.close(fd)
                return False, None
            _flock(fd, shared)
        except BlockingIOError:
            os.close(fd)
            raise _held_error(shown) from None
        except OSError:  # ENOLCK, EOPNOTSUPP: a file system without locks (some NFS mounts) runs unlocked
            os.close(fd)
            return False, None
        with contextlib.suppress(OSError):
            if _same_file(os.stat(path), [fd]):
                return made, fd
        os.close(fd)  # replaced (or removed) before it was locked: its new file is the one to lock
    return False, None  # replaced a hundred times over: not by runs of this, which each replace it once at most


def _flock(fd: int, shared: bool) -> None:
    """Lock ``fd`` without waiting (BlockingIOError where it is held); an exclusive lock is tried again for up to
    :data:`PROBE_GRACE` seconds: a run without --resume asking (:func:`check_not_held`) holds a shared one for an
    instant, and a --resume run starting then was refused as if another were writing."""
    if shared:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        return
    end = time.monotonic() + PROBE_GRACE
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= end:
                raise
            time.sleep(0.01)


def _same_file(info: os.stat_result, fds: list[int]) -> bool:
    """Whether ``info`` is of the file one of ``fds`` is open on."""
    return any(os.path.samestat(info, os.fstat(fd)) for fd in fds)
