"""The workers' metrics folder of ``braintumor serve`` under gunicorn (prometheus-client's multiprocess mode): made
fresh for each start, given to the workers' user, and removed when the server ends (gunicorn_config.on_exit, else a
watcher process started here)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

from .exit_errors import UsageError
from .gunicorn_config import METRICS_DIR_PREFIX


def metrics_dir() -> str:
    """A fresh, empty directory for the workers' metric files: under $TMPDIR when set, else in memory
    (/dev/shm) where there is one. Named from the root: a relative $TMPDIR was looked for from gunicorn's --chdir;
    by where it leads (``realpath``): ``os.path.abspath`` (and Python 3.12's mkdtemp) fold ``link/..`` away as text,
    naming a folder other than the one made, or none."""
    parent = os.environ.get("TMPDIR") or ("/dev/shm" if os.access("/dev/shm", os.W_OK) else None)
    return tempfile.mkdtemp(prefix=METRICS_DIR_PREFIX, dir=os.path.realpath(parent) if parent else None)


def new_metrics_dir(owner: tuple[int, int] | None = None) -> str:
    """``owner``: the workers' (uid, gid) when gunicorn switches to them (GUNICORN_CMD_ARGS's ``--user``, ``--group``):
    the folder is given to them, else made 0700 by this user and every worker failed to boot (PermissionError)."""
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
