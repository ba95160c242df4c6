"""Output files that appear complete or not at all: written to a temporary file beside them, then renamed.

Why its own home: ``tempfile.mkstemp`` creates files readable by their owner only (0600), so results written
on a team server could not be read by the team; a new file here gets the permissions any new file gets (umask).
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import os
import secrets
import shutil
import tempfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from .file_names import temp_prefix
from .image_files import file_kind, is_special_file
from .stop_signals import signals_held

#: The temporary files being written now, and the output each is for: what a forced stop removes (:func:`remove_temps`).
_LIVE: dict[str, str] = {}
#: The staging folders of :func:`folder_replaced_whole` now in use, and the folder each is for.
_STAGING: dict[str, str] = {}


def temp_beside(target: Path) -> tuple[int, str]:
    """(descriptor, path) of a new, empty temporary file in ``target``'s folder, hidden, opened for writing; known to
    :func:`remove_temps` until :func:`settled`."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)  # Windows: not text mode
    output = str(target)
    for _ in range(100):
        tmp = str(target.parent / f"{temp_prefix(target.name)}{secrets.token_hex(4)}")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as exc:  # named by the output asked for, not the hidden temporary name nobody typed
            raise no_file_made(exc, target) from None
        except BaseException:  # Ctrl-C, its handler run as os.open returned: the file made (and its name never
            with contextlib.suppress(OSError):  # returned) was left, a hidden .scan.heatmap.png.1a2b3c4d in --heatmap
                os.unlink(tmp)
            raise
        _LIVE[tmp] = output  # (from os.open to the caller's try, no Python call that could run a signal's handler)
        return fd, tmp
    raise FileExistsError(f"no free temporary name beside {target}")


def no_file_made(exc: OSError, target: Path, what: str = "file", shown: Path | None = None) -> OSError:
    """The error of a file (or folder: ``what``) that could not be made at ``target``, named by it. A folder that
    exists but takes no new entries (/proc's: its file system answers 'No such file or directory') is said so:
    ``-o /proc/version`` was told 'No such file or directory: /proc/version' of a file that is there. ``shown``: the
    output asked for, where ``target`` is the first missing folder of its path."""
    where = target.parent
    if exc.errno == errno.ENOENT and where.is_dir():
        replaced = "it cannot be replaced: " if os.path.lexists(target) else ""
        return FileNotFoundError(f"cannot write {shown or target}: {replaced}no {what} can be made in {where} (its "
                                 "file system takes no new files, as /proc's does): write it in another folder")
    return OSError(exc.errno, exc.strerror, str(target))


def make_folder(folder: Path) -> None:
    """``folder.mkdir(parents=True, exist_ok=True)``, its failure named as :func:`no_file_made` names a file's."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except FileNotFoundError as exc:
        raise _no_folder_made(exc, folder) from None


@contextlib.contextmanager
def folder_replaced_whole(folder: Path, owned: Iterable[str] = (), last: str = "") -> Iterator[Path]:
    """A hidden staging folder in ``folder`` (made, with its missing parents) that a run writes its files to; when the
    block ends without an error they are moved into ``folder`` at once, stop signals held, and each name in ``owned``
    not written this time is removed there (an earlier run's); ``last`` is moved last, the others in the order written.
    Failed or stopped, the moves too (:func:`_swap_in`): ``folder`` is as it was, the folders made for it removed. A
    stopped ``evaluate`` left predictions.csv and half its figures; removing what it had written lost an earlier run's
    files."""
    made = list(itertools.takewhile(lambda p: not p.exists(), (folder, *folder.parents)))  # deepest first
    make_folder(folder)
    staging = ""
    try:
        try:
            staging = tempfile.mkdtemp(prefix=".braintumor-staging-", dir=folder)
        except OSError as exc:  # /proc's 'No such file or directory', named by the folder asked for
            raise no_file_made(exc, folder / ".braintumor-staging", "folder", folder) from None
        _STAGING[staging] = str(folder)
        yield Path(staging)
        with signals_held():  # moved whole: no earlier run's report beside some of this run's figures
            entries = sorted(os.scandir(staging), key=lambda e: (e.name == last, e.stat().st_mtime_ns, e.name))
            for name in sorted({e.name for e in entries} | set(owned)):  # found before anything moves: nothing
                if (folder / name).is_dir():  # half replaced (an owned name too, which is removed after the moves)
                    raise IsADirectoryError(errno.EISDIR, "Is a directory", str(folder / name))
                if file_kind(folder / name).startswith("a named pipe"):  # opened to write, it waits for a reader:
                    raise OSError(errno.EINVAL, "A named pipe, not a file", str(folder / name))  # stops held
            _swap_in(Path(staging), folder, entries, set(owned) - {e.name for e in entries})
    finally:
        if staging:
            shutil.rmtree(staging, ignore_errors=True)
            _STAGING.pop(staging, None)
        with contextlib.suppress(OSError):  # not empty (it holds the files): it stays, and the folders above it
            for made_folder in made:
                made_folder.rmdir()


def _swap_in(staging: Path, folder: Path, entries: list[os.DirEntry], dropped: set[str]) -> None:
    """Move the staged ``entries`` into ``folder`` (a link's target gets its file, as written_whole's does) and set its
    ``dropped`` names aside; all or nothing: a failure part way (a full disk, a link to a read-only file) puts back
    what had changed. It left this run's predictions.csv beside an earlier run's metrics.json and report.html."""
    earlier = staging / ".earlier"  # in ``folder``: its files kept by a hard link or a rename, no copy
    earlier.mkdir()
    done: list[tuple[Path, Path | None]] = []  # (a name changed, its earlier file or None: it was not there)
    try:
        for entry in entries:
            target, kept = folder / entry.name, earlier / entry.name
            if target.is_symlink() or not target.is_file():  # written through: what it leads to is copied
                if target.is_file():
                    shutil.copyfile(target, kept)
                elif os.path.lexists(target):  # a device (a link to /dev/null): nothing to put back
                    put_in_place(entry.path, target)
                    continue
                else:
                    kept = None
            else:
                try:
                    os.link(target, kept)
                except OSError:  # a file system without hard links
                    shutil.copy2(target, kept)
            done.append((target, kept))
            put_in_place(entry.path, target)
        for name in dropped:
            if os.path.lexists(folder / name):
                os.replace(folder / name, earlier / name)
                done.append((folder / name, earlier / name))
    except BaseException:
        for target, kept in reversed(done):
            with contextlib.suppress(OSError):
                if kept is None:
                    target.unlink(missing_ok=True)
                else:
                    put_in_place(kept, target)
        raise


def check_folder_can_be_made(folder: Path) -> None:
    """Raise as :func:`make_folder` would where ``folder`` is missing and cannot be made, or as :func:`temp_beside`
    would where no file can be made in it, leaving nothing behind: what is tried is removed at once. For the commands
    that make their output folder only when they have something to write (evaluate, train): ``--out /proc/e`` was 'No
    such file or directory' after all the work."""
    if folder.is_dir():  # reused: a file made in it and removed (`--out /proc` took the whole evaluation to refuse)
        probe = folder / f".braintumor-{secrets.token_hex(4)}"
        try:
            os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            return
        except OSError as exc:
            raise no_file_made(exc, probe, shown=folder) from None
        os.unlink(probe)
        return
    nearest = next((p for p in folder.parents if p.is_dir()), None)
    if nearest is None:
        return
    first = nearest / folder.relative_to(nearest).parts[0]
    try:
        os.mkdir(first)
    except FileExistsError:  # made by another process meanwhile: it can be
        return
    except FileNotFoundError as exc:
        raise _no_folder_made(exc, folder) from None
    os.rmdir(first)


def _no_folder_made(exc: FileNotFoundError, folder: Path) -> OSError:
    """:func:`no_file_made` of ``folder``'s first missing folder, the one that could not be made."""
    nearest = next((p for p in folder.parents if p.is_dir()), None)
    if nearest is None or exc.errno != errno.ENOENT:
        return exc
    return no_file_made(exc, nearest / folder.relative_to(nearest).parts[0], "folder", folder)


def temp_for(target: Path) -> tuple[int, str]:
    """(descriptor, path) of the temporary file a whole output ``target`` is written to, for :func:`put_in_place`
    (with :func:`final_target`'s target): beside it, or, for a device or FIFO (``--out /dev/null``), which is written
    through, in the system's temporary folder: only root may create a file in /dev, and export's and quantize's
    ``/dev/null.tmp`` (a 252-byte name's ``.tmp``: 'File name too long') was an error naming that temporary file."""
    if is_special_file(target):
        fd, tmp = tempfile.mkstemp(prefix=".braintumor-", suffix=".tmp")  # copied into the device, then removed
        _LIVE[tmp] = str(target)
        return fd, tmp
    return temp_beside(final_target(target))


def final_target(path: Path) -> Path:
    """Where an output named ``path`` goes: a symbolic link's target, followed to its end (a dangling link's is
    created), so the link stays and what it points to gets the output; the temporary file goes beside that. Replacing
    the name itself swapped the link for a regular file: ``-o /dev/stdout``, standard output redirected to a file,
    replaced the machine's /dev/stdout (as root), and a link to a shared results file no longer led to the results."""
    if not path.is_symlink() or is_special_file(path):  # a link to a device or FIFO is written through, as they are
        return path
    return Path(os.path.realpath(path))


def missing_folder(path: str | os.PathLike) -> Path | None:
    """The folder an output file ``path`` goes in (:func:`final_target`'s, for a link) where it is not one, else None.
    A file's writer makes no folders: a mistyped path silently made a tree of them. The CLI's file destinations
    (:mod:`~braintumor.cli_checks`) and the Python API's file writers (:func:`require_file_destination`) ask here."""
    where = final_target(Path(path)).parent
    return None if where.is_dir() else where


def require_file_destination(path: str | os.PathLike) -> None:
    """Raise, before any work, where a file could not be written at ``path``: a folder there, or no folder for it.
    For the Python API's writers of a model (export, quantize), which made the missing folders, as the CLI's ``--out``
    does not, or found a folder at ``path`` only after minutes of work; and for the writers of a report or figure
    (:func:`~braintumor.report.write_text_atomic`, :mod:`~braintumor.figures`), which made them too."""
    if Path(path).is_dir():
        raise IsADirectoryError(f"cannot write {path}: it is a folder; a file name is wanted")
    where = missing_folder(path)
    if where is not None and where.exists():
        raise NotADirectoryError(f"cannot write {path}: {where} is {file_kind(where)}, not a folder")
    if where is not None:
        raise FileNotFoundError(f"cannot write {path}: there is no folder {where} (none is made: create it first, "
                                "or correct the path)")


def put_in_place(tmp: str | os.PathLike, target: str | os.PathLike) -> None:
    """Move the finished temporary file ``tmp`` to ``target``. A device or FIFO there is written through:
    ``os.replace`` would swap ``/dev/null`` itself for a regular file (as root, it did); so is a symbolic link whose
    writer did not put ``tmp`` beside its :func:`final_target` (replacing it lost the link)."""
    if is_special_file(Path(target)) or Path(target).is_symlink():
        with open(tmp, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.unlink(tmp)
    else:
        moved_into_place(tmp, target)
    settled(tmp)


def moved_into_place(tmp: str | os.PathLike, target: str | os.PathLike) -> None:
    """``os.replace(tmp, target)``, its failure named by ``target`` as the machine's (exit code 1): a folder removed
    during the run (a clean-up on a shared drive) was 'No such file or directory: .r.csv.1a2b3c4d', a name nobody
    typed, with exit code 2, as if the command line were wrong."""
    try:
        os.replace(tmp, target)
    except OSError as exc:
        why = f"{exc.strerror or exc}" + ("" if Path(target).parent.is_dir() else
                                          " (its folder was removed during the run)")
        failed = OSError(f"{why}: {target}")  # not FileNotFoundError, which the CLI takes for a missing input (2)
        failed.strerror, failed.filename = why, str(target)
        raise failed from None


@contextlib.contextmanager
def written_whole(path: str | os.PathLike) -> Iterator[Path]:
    """The temporary file (:func:`temp_for`) a writer that wants a file name (``torch.save``, ``savefig``) writes
    ``path`` to, put in place (:func:`put_in_place`) when the block ends without an error, else removed. For writers
    that built their own ``NAME.tmp`` beside the target: a 252-byte name's was 'File name too long', and a link was
    replaced by a regular file."""
    target = final_target(Path(path))
    fd, name = temp_for(target)
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        put_in_place(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)  # an error or an interruption: no half-written file is left behind
        settled(tmp)


def settled(tmp: str | os.PathLike) -> None:
    """``tmp`` was moved into place or removed: a forced stop has nothing left to remove there."""
    _LIVE.pop(str(tmp), None)


def remove_temps() -> list[str]:
    """Remove the temporary files still being written; the outputs they were for. For a second Ctrl-C or SIGTERM,
    which ends the process at once (no cleanup runs): it left the hidden ``.out.jsonl.1a2b3c4d`` of ``-o out.jsonl``
    behind. Plain ``os.unlink`` calls on names known in advance: fit for a signal handler."""
    removed = []
    for tmp, target in list(_LIVE.items()):
        with contextlib.suppress(OSError):  # already moved into place, or its folder gone
            os.unlink(tmp)
            staged = _STAGING.get(os.path.dirname(target))  # named where it was to go, not by the staging folder
            removed.append(os.path.join(staged, os.path.basename(target)) if staged else target)
        _LIVE.pop(tmp, None)
    for staging in list(_STAGING):  # the files written there, whole, and the folder: no hidden folder left
        with contextlib.suppress(OSError):
            for name in os.listdir(staging):
                os.unlink(os.path.join(staging, name))
            os.rmdir(staging)
        _STAGING.pop(staging, None)
    return removed
