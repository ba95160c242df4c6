"""The workers' metrics folder of ``braintumor serve`` under gunicorn (prometheus-client's multiprocess mode): made
fresh for each start, given to the workers' user, and removed when the server ends (gunicorn_config.on_exit, else a
watcher process started here)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

from .exit_errors import UsageError
from .gunicorn_config import METRICS_DIR_PREFIX

#: A folder this tool made: the prefix, the pid of the ``serve`` that made it (gunicorn's master after the exec), then
#: mkdtemp's 8 characters. Any other name is never removed as stale, those of earlier versions (no pid) included.
_OURS = re.compile(re.escape(METRICS_DIR_PREFIX) + r"([0-9]+)-[a-z0-9_]{8}")


def _metrics_parent() -> str:
    """Where the folder is made: $TMPDIR when set, else memory (/dev/shm) where there is one, else the system's
    temporary folder. By where it leads (``realpath``): ``os.path.abspath`` (and Python 3.12's mkdtemp) fold
    ``link/..`` away as text, naming a folder other than the one made, or none."""
    parent = os.environ.get("TMPDIR") or ("/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    return os.path.realpath(parent) if parent else tempfile.gettempdir()


def metrics_dir() -> str:
    """A fresh, empty directory for the workers' metric files (:func:`_metrics_parent`), named from the root: a
    relative $TMPDIR was looked for from gunicorn's --chdir."""
    return tempfile.mkdtemp(prefix=f"{METRICS_DIR_PREFIX}{os.getpid()}-", dir=_metrics_parent())


def hold_metrics_dir(path: str, owner: tuple[int, int] | None = None) -> int:
    """A descriptor of ``path`` with a shared lock (flock), inherited through the exec by gunicorn's master and its
    workers: while any of them lives, :func:`remove_stale_metrics_dirs` of another start leaves the folder alone, even
    one whose pid it cannot see (another container sharing /dev/shm) or whose master died before its workers. Such a
    start may remove it between mkdtemp and this lock: it is then made again, empty, under its name (0700, given to
    ``owner`` as :func:`new_metrics_dir` did), else the workers had no folder."""
    import fcntl

    while True:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except FileNotFoundError:
            fd = None
        else:
            fcntl.flock(fd, fcntl.LOCK_SH)  # waits while another start's removal (LOCK_EX) runs
            if os.fstat(fd).st_nlink:  # still there: from here no other start removes it
                os.set_inheritable(fd, True)
                return fd
            os.close(fd)
        with contextlib.suppress(FileExistsError):
            os.mkdir(path, 0o700)
            if owner is not None:
                os.chown(path, *owner)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's process (PermissionError): alive
        return True
    return True


def remove_stale_metrics_dirs(parent: str, uids: set[int]) -> list[str]:
    """Remove the folders a server killed outright left in ``parent`` (SIGKILL, a cgroup's OOM kill that took the
    watcher too: /dev/shm filled up, start after start). Only a folder named as this tool names them
    (:data:`_OURS`), not a link, owned by one of ``uids``, its pid gone and no process holding its lock
    (:func:`hold_metrics_dir`); anything else is left as it is. Returns the names removed."""
    import fcntl

    removed = []
    try:
        names = os.listdir(parent)
    except OSError:
        return removed
    for name in names:
        match = _OURS.fullmatch(name)
        if not match or _alive(int(match[1])):
            continue
        path = os.path.join(parent, name)
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) | os.O_NOFOLLOW)
        except OSError:  # a file, a link, or not ours to read
            continue
        try:
            if os.fstat(fd).st_uid in uids:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # BlockingIOError while a server process holds it
                shutil.rmtree(path)
                removed.append(name)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


def new_metrics_dir(owner: tuple[int, int] | None = None) -> str:
    """``owner``: the workers' (uid, gid) when gunicorn switches to them (GUNICORN_CMD_ARGS's ``--user``, ``--group``):
    the folder is given to them, else made 0700 by this user and every worker failed to boot (PermissionError).
    First the folders of servers killed outright are removed (:func:`remove_stale_metrics_dirs`)."""
    remove_stale_metrics_dirs(_metrics_parent(), {os.geteuid(), *(owner[:1] if owner else ())})
    try:
        path = metrics_dir()
    except OSError as exc:  # e.g. TMPDIR names a folder that is not there: it said "serving ...", then errno 2
        where = os.path.dirname(exc.filename) if exc.filename else "TMPDIR"
        raise UsageError(f"cannot create the workers' metrics folder in {where}: "
                         f"{exc.strerror or exc} (set TMPDIR to a writable folder)") from None
    try:
        if owner is not None:
            os.chown(path, *owner)
    except OSError as exc:
        shutil.rmtree(path, ignore_errors=True)
        raise UsageError(f"GUNICORN_CMD_ARGS --user/--group: cannot give the workers' metrics folder to them: "
                         f"{exc.strerror or exc} (only root can switch users)") from None
    return path


#: The watcher's program: wait for the end of a pipe (its stdin; nothing is written) whose other end only the server's
#: processes hold, then remove the one directory it was given. ``-I -S``: no site packages, nothing of the project.
_REMOVE_WHEN_DONE = "import os, shutil, sys\nos.read(0, 1)\nshutil.rmtree(sys.argv[1], ignore_errors=True)"


def remove_when_server_ends(path: str) -> int | None:
    """Start the watcher that removes ``path`` when the server is gone; the pipe's write end it returns is inherited
    through the exec by gunicorn's master and its workers. In its own session, so Ctrl+C does not end it first.
    None when it could not start (gunicorn's on_exit still removes the directory on a normal stop)."""
    read, write = os.pipe()
    try:
        subprocess.Popen([sys.executable, "-I", "-S", "-c", _REMOVE_WHEN_DONE, path], stdin=read,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    except OSError:
        os.close(write)
        return None
    finally:
        os.close(read)
    os.set_inheritable(write, True)
    return write
