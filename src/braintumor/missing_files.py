"""Why a file named is not there to read: a broken link or a loop, a shell pattern never expanded, a name whose file
is there in another case or without the white space at its ends, a ``~`` never expanded, a URL; "file not found" alone
said none of it.

Why its own module: these look at names and folders around a missing path, not at the file (which
:mod:`braintumor.image_files` finds and opens).
"""

from __future__ import annotations

import errno
import functools
import os
import re
import stat
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .documents import base64_image


def closed_folder_text(path: Path) -> str | None:
    """The first folder on ``path``'s way that this user may not enter (no x bit), named with its remedy, or None: a
    file there is 'Permission denied' however open its own permissions, and the folder is what to fix."""
    closed = next((p for p in reversed(Path(path).parents) if os.path.isdir(p) and not os.access(p, os.X_OK)), None)
    return f"no permission to enter the folder {closed} (chmod u+x)" if closed else None


def denied_text(path: Path, exc: OSError) -> str:
    """Why a stat, open or listing of ``path`` failed, as ``exc`` says, but a 'Permission denied' that a folder on its
    way causes names that folder (:func:`closed_folder_text`): ``predict p2`` of a folder that may be listed, not
    entered (chmod 444), said 'cannot read file: Permission denied' of each of its files."""
    said = closed_folder_text(path) if exc.errno == errno.EACCES else None
    return said or f"{exc.strerror or exc}"


def missing_text(path: Path) -> str:
    """Why ``path``, which does not exist to read, is not there: a link that leads nowhere or in a loop says so (both
    said 'file not found', while ``ls`` listed the file)."""
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return f"symbolic link loop: {shown_name(path)}"
    if os.path.islink(path):
        return f"broken symbolic link: {shown_name(path)} -> {os.readlink(path)}"
    gone = not os.path.isabs(path) and current_folder_gone()  # a relative name, in a folder deleted since
    why = f" ({gone})" if gone else tilde_text(path) or url_text(path) or near_name_text(path)
    return f"file not found: {shown_name(path)}{why}"


def shown_name(path: str | os.PathLike) -> str:
    """``path`` as a message shows it: as repr where it is empty, or where it starts or ends with white space or a
    character that prints nothing (a zero-width space, a byte-order mark, a newline), which the message hid
    (``predict " "`` said 'file not found:  ')."""
    text = os.fsdecode(path)
    ends = text[:1] + text[-1:]
    return repr(text) if not text or ends != ends.strip() or not ends.isprintable() else text


#: How a name that names a folder can end: pathlib drops these (``Path("scan.jpg/")`` is ``scan.jpg``).
_FOLDER_ENDINGS: tuple[str, ...] = tuple(dict.fromkeys(f"{sep}{dot}" for dot in (".", "") for sep in ("/", os.sep)))


def not_a_folder_text(name: str | os.PathLike | bytes) -> str | None:
    """Why ``name``, which ends as a folder's name does (``scan.jpg/``, ``scan.jpg/.``) and leads to a file, is not
    read, or None for any other name. pathlib drops that ending, so ``predict scan.jpg/`` scored scan.jpg, where the
    system (``ls scan.jpg/``, ``cat``) says "Not a directory"."""
    text = rest = os.fsdecode(name)
    if not text.endswith(_FOLDER_ENDINGS):  # every name read (a generator and a Path each were ~2 us a prediction)
        return None
    while cut := next((e for e in _FOLDER_ENDINGS if rest.endswith(e) and len(rest) > len(e)), ""):
        rest = rest[:-len(cut)]  # all of it: scan.jpg//, scan.jpg/./
    path, ending = Path(text), text[len(rest):]
    if not ending or str(path) == text or not os.path.exists(path) or os.path.isdir(path):
        return None  # (a broken link, a folder, or a name of nothing: reading it says why)
    return f"not a folder: {path} is a file, and {text} names it as a folder (the {ending} at its end): name it " \
           f"without the {ending}"


def near_name_text(path: str | os.PathLike) -> str:
    """What to add to "file not found" of a name a user meant otherwise: white space at its start or end where the name
    without it is there (``open("list.txt").readlines()`` keeps each name's newline: "file not found" of a name that
    looked right), a shell pattern that matched no file (a
    shell passes ``scans/*.dcm`` on as it is; quoted, it is never expanded), in its name or in a folder's that is not
    there (``scans/*/IM*``), or a name whose file is there in another case (``Scan.JPG`` for ``scan.jpg``, which macOS
    and Windows open, Linux not); "" for any other name."""
    name, text = os.path.basename(os.fspath(path)), os.fspath(path)
    if text != text.strip() and text.strip() and os.path.lexists(text.strip()):  # (shown as repr: a newline is unseen)
        end = f"ends with {text[len(text.rstrip()):]!r}" if text != text.rstrip() else \
            f"starts with {text[:len(text) - len(text.lstrip())]!r}"
        why = ("lines read from a file keep their newline, which str.strip() removes" if text[-1:] in "\r\n" else
               "str.strip() removes white space at a name's ends")  # (a pasted or typed space: no file's lines)
        return f" (the name {end}, and without it the name is there: {why})"
    if any(c in part for part in _parts_not_there(path) for c in "*?["):
        return " (a pattern: braintumor does not expand *, ? or [ itself; a shell does, unquoted, where a file matches)"
    folder = os.path.dirname(os.fspath(path)) or "."
    try:
        other = _names_by_case(folder, os.stat(folder).st_mtime_ns).get(name.lower())
    except OSError:
        return ""
    return f" (names are case-sensitive here: {other} is there)" if other and other != name else ""


@functools.lru_cache(maxsize=2)
def _names_by_case(folder: str, changed: int) -> dict[str, str]:
    """``folder``'s entries by their names in lower case, listed once while it is unchanged (``changed``: its
    modification time): a list of 20,000 names gone from a folder of 20,000 files listed the folder for each, 9
    minutes of a run."""
    with os.scandir(folder) as entries:
        return {entry.name.lower(): entry.name for entry in entries}


def _parts_not_there(path: str | os.PathLike) -> list[str]:
    """The parts of ``path`` from the first that does not exist on: a pattern there was never expanded (a folder
    really named ``a[1]`` is there, and no pattern)."""
    parts = Path(path).parts
    there = next((k for k in range(len(parts), 0, -1) if os.path.lexists(os.path.join(*parts[:k]))), 0)
    return list(parts[there:])


#: A URL's scheme as pathlib leaves it (``https://a/b.jpg`` becomes ``https:/a/b.jpg``); two letters at least, so that a
#: Windows drive (``C:/``) is none.
_URL = re.compile(r"[A-Za-z][A-Za-z0-9+.-]+:/")


def url_text(path: str | os.PathLike) -> str:
    """What to add to "not found" of a URL (``predict("https://.../scan.jpg")``, ``s3://``, ``file://``): it was told
    only "file not found: https:/..." (its // made one / by pathlib), as if a file of that name were missing; "" for
    any other name. A ``file:`` URL of a file on this disk is told its path: "download it first" was no help."""
    text = os.fspath(path)
    if not _URL.match(text):
        return ""
    if text[:5].lower() == "file:" and (local := _url_path(text)) is not None and os.path.lexists(local):
        return f" (a file: URL: pass its path, {shown_name(local)})"
    return " (a URL: braintumor reads files, not URLs: download it first)"


def _url_path(url: str) -> str | None:
    """The local path of a ``file:`` URL (%20 decoded; ``C:`` on Windows), or None for one of another host
    (``file://server/scans/a.png``: its /scans/a.png is no path here). A name that is not UTF-8 is its bytes again
    (``Path.as_uri`` writes them %E9; decoded as UTF-8 they became U+FFFD, no file's name). urllib.request is
    imported on Windows only: it loads http and email, which a command's start-up has no need of."""
    parts = urlsplit(url)
    if parts.netloc.lower() not in ("", "localhost"):
        return None
    if os.name != "nt":
        return unquote(parts.path, errors="surrogateescape")
    from urllib.request import url2pathname

    return url2pathname(parts.path)


#: The longest name of one file or folder on the usual file systems: a longer name can be no file's (ENAMETOOLONG).
_NAME_MAX = 255


def long_name_text(name: str | os.PathLike | bytes) -> str | None:
    """Why ``name`` cannot be read, where it is too long to name a file (base64 text or a data: URL of an image, held
    as a str, a file name to every reader: "File name too long", and to read_volumes "the reader failed on it ...
    damaged"), saying how to get its bytes; None for a shorter name (no system call: a name's length is enough)."""
    text = os.fsdecode(name)
    if len(text) <= _NAME_MAX:
        return None
    try:
        os.stat(text)
        return None
    except OSError as exc:  # a part over 255 is no name either: 'data:image/png;base64,...' under 4096 characters
        # was "file not found: " and all its text (its folder 'data:image' not there: ENOENT before that part's length)
        if exc.errno != errno.ENAMETOOLONG and max(map(len, re.split(r"[\\/]", text))) <= _NAME_MAX:
            return None
    except ValueError:  # a NUL: reading it says so
        return None
    found = base64_image(text[:4096].encode("utf-8", "surrogateescape"))  # decoded to an image's start: no other
    url = bool(found and found[1])
    payload = text.partition(",")[2] if url else text  # base64url: b64decode drops its '-' and '_' (damaged bytes)
    decode = "urlsafe_b64decode" if "-" in payload or "_" in payload else "b64decode"
    hint = "" if not found else f"; a data: URL? base64.{decode}(url.partition(',')[2])" if url else (
        f"; base64 text? base64.{decode}(text)")
    return (f"not a file name: {len(text)} characters ({text[:20]}...), longer than any file name"
            + (f"{hint} gives the image's bytes, which predict takes" if hint else ""))


def missing_url_text(name: str | os.PathLike | bytes) -> str | None:
    """"file not found: NAME (a URL: ...)" of a name, as typed, that is a URL and no file; None for any other name.
    Asked before ``Path(name)``: its "https://x.org/a.jpg" was echoed "https:/x.org/a.jpg", a name nobody typed."""
    text = os.fsdecode(name)
    if not url_text(text) or os.path.lexists(text):
        return None
    return f"file not found: {shown_name(text)}{url_text(text)}"


def tilde_text(path: str | os.PathLike) -> str:
    """What to add to "not found" of a name starting with ~ that names a file once expanded (``predict("~/a.jpg")``,
    ``Classifier.load("~/m.onnx")``: Python, unlike a shell, does not expand it); "" for any other name."""
    if str(path).startswith("~") and os.path.lexists(os.path.expanduser(path)):
        return " (~ is not expanded: os.path.expanduser(name) in Python, ~ unquoted in a shell)"
    return ""


def read_before_text(path: str | os.PathLike, pipes: dict[tuple[int, int], str]) -> str | None:
    """Why ``path`` is not read, where it is a pipe named earlier in the run (``pipes``: those named so far), or None:
    ``braintumor predict``'s and ``Classifier.predict_many``'s.

    A file named twice is read twice, and answered twice; a pipe's bytes can be read only once: the second name of it
    (``producer | predict /dev/stdin /dev/stdin``) was "file is empty (0 bytes)", as if it held nothing."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):  # not there, a NUL in its name: reading it says why
        return None
    if not stat.S_ISFIFO(info.st_mode):
        return None
    key = (info.st_dev, info.st_ino)
    if key not in pipes:
        pipes[key] = str(path)
        return None
    what = "standard input" if key == stdin_key() else "this named pipe"
    return (f"{what} was already read, as {pipes[key]}: a pipe can be read only once (name it once, or save what it "
            "holds to a file and name that)")


def stdin_key() -> tuple[int, int] | None:
    """Standard input's (device, inode), what ``os.stat`` of a name of it (``/dev/stdin``) gives, or None where it is
    closed."""
    try:
        info = os.fstat(0)
    except OSError:
        return None
    return info.st_dev, info.st_ino


def current_folder_gone() -> str | None:
    """Why a command started in a folder deleted (or moved away) since the shell entered it fails, or None where the
    folder is there: such a start said only ``error: [Errno 2] No such file or directory``, naming nothing (serve:
    gunicorn's settings ask for the folder; ``predict -o`` and the like resolve names against it)."""
    try:
        os.getcwd()
    except FileNotFoundError:
        return ("the current folder no longer exists (deleted or moved since the shell entered it): cd to a folder "
                "that exists, then run the command again")
    return None
