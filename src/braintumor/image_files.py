"""Which files are images: those found walking folders, the ones named explicitly; and files not to open (pipes).

Why its own module: it is about the file system, not the pixels (:mod:`braintumor.image_io` decodes what these
name), and the command line's checks and the volume reader ask it without decoding anything.
"""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Callable, Collection, Iterable, Iterator
from pathlib import Path

from .missing_files import denied_text, missing_text, not_a_folder_text
from .wording import counted, listed

#: File endings looked for when walking folders (explicit files are sniffed instead). ``.jfif`` and ``.jpe`` are
#: JPEG's too (a browser saves a web image as .jfif): they were passed over, and noted as "images without an image
#: ending". static/folders.js TAKEN is a copy (tests/test_folder_wording.py checks the two agree).
IMAGE_EXTENSIONS: frozenset[str] = frozenset(
    {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".tif", ".tiff", ".webp"}
)
#: Endings of image formats braintumor does not read -> the format, as :func:`braintumor.image_headers.other_format`
#: names a file of it by its bytes. A folder walk passed them over without a word ("no image or scan found" of a
#: folder of GIFs); ``braintumor predict`` now names them in a note (:mod:`braintumor.folder_notes`, the page too),
#: and :func:`expand_inputs` yields them, for ``predict_many`` to refuse each in image_io's words.
OTHER_FORMAT_ENDINGS: dict[str, str] = {
    ".gif": "GIF", **dict.fromkeys((".jp2", ".j2k", ".j2c", ".jpc", ".jpf", ".jpx"), "JPEG 2000"), ".jxl": "JPEG XL",
    ".heic": "HEIC", ".heics": "HEIC", ".heif": "HEIF", ".hif": "HEIF", ".avif": "AVIF",
    **dict.fromkeys((".pgm", ".ppm", ".pbm", ".pam", ".pnm"), "Netpbm (PGM, PPM, PBM or PAM)"),
    ".ico": "Windows icon (ICO)", ".psd": "Photoshop (PSD)",
}
#: Names (lower case) that an operating system writes beside data: ``__MACOSX``, where unzipping a Mac's zip puts its
#: AppleDouble ``._name`` files (in a set of class folders it was "an unknown class folder"), and Windows Explorer's
#: thumbnail caches and folder settings, hidden files there (train and evaluate said of them "skipped 8 files that are
#: not images", and the report "not scored", as if data had been left out).
SYSTEM_NAMES: frozenset[str] = frozenset({"__macosx", "thumbs.db", "ehthumbs.db", "desktop.ini"})


class ListedFile(type(Path())):  # type: ignore[misc]  # PosixPath or WindowsPath: Path() picks the concrete class
    """A file's path as a folder's walk listed it (:func:`walk_images`, ``folder_scans.scan_folder``): a regular file
    then. Read (:func:`~braintumor.file_reads.read_limited`), one that has become a pipe or device since is refused
    at once, where a pipe the user named is waited on for a writer: a listed scan.jpg replaced by a FIFO held predict
    30 s."""

    __slots__ = ()


def is_hidden_name(name: str) -> bool:
    """A file or folder name that is never data: hidden (``.DS_Store``, AppleDouble ``._scan.dcm``,
    ``.ipynb_checkpoints``) or one of :data:`SYSTEM_NAMES`."""
    return name.startswith(".") or name.lower() in SYSTEM_NAMES


def hidden_files(folder: Path) -> list[Path]:
    """Files below ``folder`` that are hidden or inside a hidden folder (:func:`is_hidden_name`: ``__MACOSX`` too),
    in walking order: never data, but a folder holding only these is to be said so, not called empty (the audit
    lists them; train and evaluate said "no images" of a folder ``ls -a`` shows full)."""
    found = []
    for root, dirs, files in os.walk(folder):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if any(is_hidden_name(part) for part in path.relative_to(folder).parts):
                found.append(path)
    return found


def hidden_note(folder: Path) -> str | None:
    """What a folder without images held that is never data (:func:`hidden_files`), or None: "class 'meningioma' has
    no images" and "no images found in folder" of a folder of ``.scan.png`` and ``._scan.png`` did not say they were
    there and passed over."""
    found = sorted(p.relative_to(folder).as_posix() for p in hidden_files(folder))
    if not found:
        return None
    which = "which is" if len(found) == 1 else "which are"
    return f"skipped {counted(len(found), 'hidden file')}, {which} never data: {listed(found)}"


def walk_folders(folder: Path, on_error: Callable[[OSError], None] | None = None,
                 ) -> Iterator[tuple[str, list[str], list[str]]]:
    """``os.walk(folder)``, sorted, without hidden folders (:func:`is_hidden_name`: ``__MACOSX`` too), into linked
    folders too, each real folder once.

    A labelled set built of symbolic links to an archive's patient folders (``glioma/p01 -> /archive/p01``) lost
    them without a word: os.walk does not enter a linked folder by default. A link up the tree (a loop, or into the
    other classes' folders) is not entered, nor a second link to a folder already walked, nor a bind mount of either
    (its real path is its own: each image below one was read twice; :func:`_folder_id` is its source's). ``on_error``
    gets each folder that cannot be read (os.walk's own default is to skip it without a word)."""
    start = os.path.realpath(folder)
    seen = {start}
    ids = {_folder_id(folder)}  # the walked folders' (device, inode): one set, as ``seen``
    ups = {_folder_id(up) for up in Path(start).parents}  # the folders holding this one
    reals = {}  # a folder to walk's real path, from its parent's: realpath at every level was quadratic in depth
    for root, dirs, files in os.walk(folder, onerror=on_error, followlinks=True):
        keep, real_root = [], reals.pop(root, None) or os.path.realpath(root)
        for name in sorted(dirs):
            path = os.path.join(root, name)  # os.walk's own name of it, when it is walked
            # a link (or, on Windows, a junction islink does not tell) is resolved; a plain folder is its parent's
            linked = os.name == "nt" or os.path.islink(path)
            real = os.path.realpath(path) if linked else os.path.join(real_root, name)
            up = start.startswith(real.rstrip(os.sep) + os.sep)  # a link to a folder holding this one: its siblings
            if is_hidden_name(name) or real in seen or up:  # (another class) are no part of it
                continue
            if (key := _folder_id(path)) is None or (key not in ids and key not in ups):
                seen.add(real)
                ids.add(key)
                keep.append(name)
                reals[path] = real
        dirs[:] = keep
        yield root, dirs, files


def _folder_id(path: str | os.PathLike) -> tuple[int, int] | None:
    """A folder's (device, inode), which a bind mount shares with its source; None where it cannot be told (its stat
    refused: os.walk reports the folder) or on Windows (no bind mounts; ReFS's 128-bit ids cut to 64 before 3.12)."""
    try:
        st = None if os.name == "nt" else os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino) if st and st.st_ino else None


def walk_images(folder: Path, on_error: Callable[[OSError], None] | None = None,
                on_special: Callable[[Path], None] | None = None,
                endings: Collection[str] = IMAGE_EXTENSIONS) -> Iterator[Path]:
    """Image files below ``folder``, recursively (:func:`walk_folders`), sorted, skipping hidden files and folders;
    ``endings``: the endings taken (:data:`IMAGE_EXTENSIONS`, lower case; of one part or more: ``.nii.gz``).

    A pipe or device named like an image is never yielded (reading one may never end); ``on_special`` gets each, so
    that a command can name it (data audit and evaluate passed over a FIFO scan.jpg without a word)."""
    taken = tuple(endings)
    for root, _dirs, files in walk_folders(folder, on_error):
        for name in sorted(files):
            path = ListedFile(root, name)
            if is_hidden_name(name) or not name.lower().endswith(taken):
                continue
            if not is_special_file(path):
                yield path
            elif on_special:
                on_special(path)


def not_images(folder: Path) -> list[Path]:
    """Files below ``folder`` that :func:`walk_images` leaves out by their name (a DICOM file, a note), sorted; hidden
    ones are not listed: they are never data."""
    found = []
    for root, _dirs, files in walk_folders(folder):  # the folders walk_images reads
        found += [Path(root) / n for n in files
                  if not is_hidden_name(n) and Path(n).suffix.lower() not in IMAGE_EXTENSIONS]
    return sorted(found)


def images_in(folder: Path, on_special: Callable[[Path], None] | None = None) -> list[Path]:
    """Image files directly in ``folder`` (not below it), sorted, as :func:`walk_images` names them. Of a folder of
    class folders, these are images in no class folder: unlabelled, so never scored, and to be said so.
    ``on_special``: as :func:`walk_images`'s."""
    try:
        names = sorted(os.listdir(folder))
    except OSError:  # the caller's own walk reports an unreadable folder
        return []
    found = [ListedFile(folder, n) for n in names
             if not is_hidden_name(n) and Path(n).suffix.lower() in IMAGE_EXTENSIONS]
    for path in found if on_special else ():
        if is_special_file(path):
            on_special(path)
    return [p for p in found if p.is_file() and not is_special_file(p)]


def is_special_file(path: Path) -> bool:
    """A FIFO, socket or device: opening it to read can block forever (a FIFO hung 'data audit' and training), and
    replacing it as an output would swap /dev/null itself for a file. A folder or a broken link is not special
    (reading a broken link reports it)."""
    try:
        mode = path.stat().st_mode  # one stat per walked file (four is_* calls were four)
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def file_kind(path: Path) -> str:
    """What ``path``, not a folder, is, for a message that takes a folder: ``a named pipe (FIFO)``, ``a device``,
    ``a socket``, else ``a file`` (a FIFO given as ``--data`` was called "a file")."""
    try:
        mode = path.stat().st_mode
    except OSError:
        return "a file"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "a socket" if stat.S_ISSOCK(mode) else "a file"


#: What a socket named where a file goes is (input, output or model): no file opens one ('No such device or address').
SOCKET_TEXT: str = "a socket (a program's connection point), not a file"


def unreadable_text(path: Path, exc: OSError) -> str:
    """Why ``path`` could not be read, from the OSError its stat or open raised: one that was removed after it was
    found (another user's clean-up on a shared drive) is :func:`~braintumor.missing_files.missing_text`, as one never
    there is (its stat's FileNotFoundError was a traceback from training and cost evaluate the whole run)."""
    if exc.errno in (errno.ENOENT, errno.ELOOP, errno.ENOTDIR):  # (ENOTDIR: a path through a file, as scan.jpg/x)
        return missing_text(path)
    if exc.errno == errno.ENXIO and file_kind(path) == "a socket":  # was 'No such device or address'
        return f"cannot read file: it is {SOCKET_TEXT}"
    return f"cannot read file: {denied_text(path, exc)}"  # a folder on its way that may not be entered: named


def expand_inputs(paths: Iterable[str | os.PathLike | bytes]) -> Iterator[Path]:
    """Files named explicitly (whatever their ending) and the images found in folders, with those of a format not
    read (:data:`OTHER_FORMAT_ENDINGS`), compressed ones (``compressed_files.ENDINGS``: a ``.dcm.gz``) and scans
    (DICOM, NIfTI and zips by their ending: ``scan_sniff.VOLUME_SUFFIXES``): ``predict_many`` says of each what it is,
    and of a scan that read_volumes reads it, where dropping them said nothing (a folder of .dcm files gave no answer
    and no word). Raises ValueError for a name that names nothing usable: an empty one, or a file's as a folder's
    (``scan.jpg/``, in ``braintumor predict``'s words)."""
    if isinstance(paths, (str, bytes, os.PathLike)):  # a str iterates one 'path' per character
        raise TypeError("expand_inputs takes a list of files and folders: expand_inputs([folder])")
    if not isinstance(paths, Iterable) and not hasattr(type(paths), "__getitem__"):  # None: "not iterable", later
        raise TypeError(f"expand_inputs takes a list of files and folders, not {type(paths).__name__}")
    return _expand(paths)


def _expand(paths: Iterable[str | os.PathLike | bytes]) -> Iterator[Path]:
    for index, raw in enumerate(paths):
        if not isinstance(raw, (str, os.PathLike, bytes)):  # a NaN of an empty cell: pathlib's words named no item
            raise TypeError(f"expand_inputs: item {index} ({type(raw).__name__}) is not a file or folder name")
        if not os.fspath(raw):  # Path("") is ".": an empty cell of a column of paths walked this folder
            raise ValueError(f"expand_inputs: item {index} is an empty string, which names no file or folder")
        if said := not_a_folder_text(raw):  # Path() drops the / of scan.jpg/, whose file predict_many then scored
            raise ValueError(f"expand_inputs: item {index}: {said}")
        path = Path(os.fsdecode(raw))  # a name as bytes (os.listdir(b".")) was "argument should be a str object"
        if path.is_dir():
            from .compressed_files import ENDINGS  # (both import this module, through image_io)
            from .scan_sniff import VOLUME_SUFFIXES

            # a .dcm.gz was passed over unsaid, where predict's walk names it; a half of a .hdr + .img pair is not read
            found = walk_images(path, endings={*IMAGE_EXTENSIONS, *OTHER_FORMAT_ENDINGS, *VOLUME_SUFFIXES, *ENDINGS})
            yield from (p for p in found if not p.name.lower().endswith((".hdr.gz", ".img.gz")))
        else:
            yield path
