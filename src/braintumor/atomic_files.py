"""Output files that appear complete or not at all: written to a temporary file beside them, then renamed.

Why its own home: ``tempfile.mkstemp`` creates files readable by their owner only (0600), so results written
on a team server could not be read by the team; a new file here gets the permissions any new file gets (umask).
"""

from __future__ import annotations

import os
import secrets
import shutil
from pathlib import Path

from .file_names import MAX_NAME_BYTES, fit_name
from .image_files import is_special_file


def temp_beside(target: Path) -> tuple[int, str]:
    """(descriptor, path) of a new, empty temporary file in ``target``'s folder, hidden, opened for writing."""
    for _ in range(100):
        # cut to fit: a name of 250 bytes is a file name; 260 with the dot and the token are not
        tmp = target.parent / f".{fit_name(target.name, '', MAX_NAME_BYTES - 10)}.{secrets.token_hex(4)}"
        try:
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)  # Windows: not text mode
            return os.open(tmp, flags, 0o666), str(tmp)
        except FileExistsError:
            continue
        except OSError as exc:  # named by the output asked for, not the hidden temporary name nobody typed
            raise OSError(exc.errno, exc.strerror, str(target)) from None
    raise FileExistsError(f"no free temporary name beside {target}")


def put_in_place(tmp: str | os.PathLike, target: str | os.PathLike) -> None:
    """Move the finished temporary file ``tmp`` to ``target``. A device or FIFO there is written through:
    ``os.replace`` would swap ``/dev/null`` itself for a regular file (as root, it did)."""
    if is_special_file(Path(target)):
        with open(tmp, "rb") as src, open(target, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.unlink(tmp)
    else:
        os.replace(tmp, target)
