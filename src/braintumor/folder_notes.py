"""Files in a folder given to ``braintumor predict`` that look like inputs but are not read, said on stderr.

A zip in a folder is not opened (name it itself), nor half of a .hdr/.img pair, nor an image whose name has no image
ending (folders are walked by ending), nor a pipe or device named like an input (reading one may never end): each was
skipped without a word when the folder held anything else, and the user believed every scan had been read. Nor a
DICOMDIR (a PACS export's or CD's index of its images, none itself): read as a scan, it was a note on every series of
the folder and made a folder with no other DICOM file an error, while the page passes it over by its name. A note is
not an error record: nothing was tried and failed, so exit codes and the outputs' records stay as they were. Nor an
image of a format braintumor does not read, by its ending (a GIF, a phone's HEIC) or, a file read to look for DICOM,
by its first bytes: one note per format says how many and what to convert them to, and a folder holding only those
says so, not "no image or scan found". Nor a gzip-, bzip2- or xz-compressed file (but a .nii.gz), by its first bytes
(a PACS export's or anonymiser's ``IM0001.dcm.gz``): named by what it holds and the command that undoes it, in
:func:`~braintumor.compressed_files.compressed_text`'s words, where it was passed over unsaid. Other files (notes,
results) are not inputs anyone expects read, and stay unsaid.
"""

from __future__ import annotations

from pathlib import Path

from .compressed_files import compressed_text
from .image_files import OTHER_FORMAT_ENDINGS
from .image_headers import other_format
from .nifti_header import PAIR_IMAGE_ENDINGS
from .wording import command_word, counted, listed, pasteable, printable, unread_format_text

#: Leading bytes of image formats that :mod:`braintumor.image_io` reads, strict enough not to take a text for one.
_IMAGE_STARTS: tuple[bytes, ...] = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*")
#: How many names a note lists before "and N more".
SHOWN: int = 3
#: Why each kind of file left out of a folder was not read, and how to have it read: ``{each}`` is "name each one"
#: on the command line, "drop or choose each one itself" on the page (page_globals.py gives the page these words for
#: static/folders.js, whose notes on a dropped folder say what the CLI says).
LEFT_OUT_WHY: dict[str, str] = {
    "zip": "zips in a folder are not opened: {each}",
    "pair": "halves of .hdr + .img pairs are not read: save each pair as one .nii file",
    "image": "images without an image ending are not read in a folder: {each}, or rename it .jpg, .png, ...",
    "special": "pipes and devices in a folder are not read: {each}",
    "dicomdir": "a DICOMDIR is an index of a DICOM export's images, not an image itself",
}
#: The order the notes come in, the CLI's and the page's.
LEFT_OUT_KINDS: tuple[str, ...] = ("dicomdir", "zip", "pair", "image", "special")


def left_out_kind(name: str, head: bytes) -> str | None:
    """Why a file that a folder walk passed over (not hidden, no image ending, not DICOM nor NIfTI) is worth a note:
    ``"dicomdir"`` (by its name, which the standard fixes), ``"zip"``, ``"pair"``, ``"image"`` (bytes of a format we
    read), ``"other"`` (a format we do not: :func:`other_format_notes`), ``"compressed"`` (:func:`compressed_notes`),
    or None for a file no one expects read.
    ``head``: its first bytes (132). static/left-out.js leftOutAs is a copy, for a folder dropped on the page
    (tests/test_browser_folder_walk.py); it knows an unread format by its bytes with image_headers' own patterns."""
    kind = left_out_as(name, head)
    return kind and kind.partition(":")[0]


def left_out_as(name: str, head: bytes) -> str | None:
    """:func:`left_out_kind` as a folder's list of files left out holds it: a format not read with its name,
    ``"other:GIF"``, by its ending or else by its first bytes (:func:`braintumor.image_headers.other_format`: a GIF
    named IM0001, read to look for DICOM, was passed over without a word while one named .gif was noted); a compressed
    file with why it is not read, ``"compressed:a gzip-compressed file holding a DICOM file: ..."``."""
    lower = name.lower()
    if lower == "dicomdir":
        return "dicomdir"
    if lower.endswith(".zip"):
        return "zip"
    if head.startswith(_IMAGE_STARTS) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    if fmt := OTHER_FORMAT_ENDINGS.get(Path(lower).suffix):
        return f"other:{fmt}"
    if lower.endswith((".hdr", ".hdr.gz", *PAIR_IMAGE_ENDINGS)):
        return "pair"
    if said := compressed_text(head):
        return f"compressed:{said}"
    if fmt := other_format(head):
        return f"other:{fmt}"
    return None


def left_out_notes(folder: Path, left: list[tuple[Path, str]]) -> list[str]:
    """One stderr line per kind of file left out of ``folder``, naming them and how to have them read."""
    notes = []
    for kind in LEFT_OUT_KINDS:
        paths = [p for p, k in left if k == kind]
        if not paths:
            continue
        each = zip_example(paths[0]) if kind == "zip" else "name each one"
        why = LEFT_OUT_WHY[kind].format(each=each)
        names = listed([printable(str(p)) for p in paths], SHOWN)
        notes.append(f"note: {counted(len(paths), 'file')} in {printable(str(folder))} not read ({why}): {names}")
    return notes + compressed_notes(folder, left) + other_format_notes(folder, left)


def _compressed(left: list[tuple[Path, str]]) -> dict[str, list[Path]]:
    """The compressed files among ``left``, by why each is not read (what it holds: left_out_as), in the walk's order
    (the first file's first: the page's walk, static/folders.js, finds them in the same order)."""
    found: dict[str, list[Path]] = {}
    for path, kind in left:
        if kind.startswith("compressed:"):
            found.setdefault(kind.partition(":")[2], []).append(path)
    return found


def compressed_notes(folder: Path, left: list[tuple[Path, str]]) -> list[str]:
    """One stderr line per kind of compressed file ``folder`` holds: what they hold, how to undo it, which they are."""
    return [f"note: {counted(len(paths), 'file')} in {printable(str(folder))} not read "
            f"({'each ' if len(paths) > 1 else ''}{why}): {listed([printable(str(p)) for p in paths], SHOWN)}"
            for why, paths in _compressed(left).items()]


def only_compressed(left: list[tuple[Path, str]], where: str = " in the folder") -> str | None:
    """What a folder with nothing to read holds when all it held worth a note is compressed files (a folder of
    ``IM0001.dcm.gz`` said "no image or scan found", no word of gzip), or None; ``where`` follows the count. Each kind
    with the files it names (the first :data:`SHOWN`, as the notes list them): it named the first file alone."""
    found = _compressed(left)
    if not found or any(not kind.startswith("compressed:") for _, kind in left):
        return None
    said = [f"{'and ' if k and k == len(found) - 1 else ''}{listed([printable(str(p)) for p in paths], SHOWN)} "
            f"{'are each' if len(paths) > 1 else 'is'} {why}" for k, (why, paths) in enumerate(found.items())]
    return f"only {counted(len(left), 'compressed file')}{where}: " + "; ".join(said)


def zip_example(path: Path) -> str:
    """How to have a zip of a folder read: a command to paste, quoted so that a name with spaces stays one argument (a
    name starting with '-' as ./-name, not an option). A name a terminal cannot show as it is (an escape, a byte not
    UTF-8) has no such command: its escaped form (``'z\\x1b[2J.zip'``) named no file when pasted."""
    name = str(path)
    if not pasteable(name):
        return "name each one (the first's name holds characters this note cannot show as they are: no command to copy)"
    return f"name each one, e.g. braintumor predict {command_word(name)}"


def _by_format(left: list[tuple[Path, str]]) -> dict[str, list[Path]]:
    """The files of formats not read among ``left``, by format (as other_format names it), formats in name order."""
    found: dict[str, list[Path]] = {}
    for path, kind in left:
        if kind.startswith("other:"):  # (left_out_as)
            found.setdefault(kind.partition(":")[2], []).append(path)
    return dict(sorted(found.items()))


def other_format_notes(folder: Path, left: list[tuple[Path, str]]) -> list[str]:
    """One stderr line per image format not read that ``folder`` holds: how many, which, what to convert them to, in
    image_io's words (static/folders.js says the same of a dropped folder)."""
    return [f"note: skipped {counted(len(paths), fmt + ' file')} in {printable(str(folder))} "
            f"({listed([printable(str(p)) for p in paths], SHOWN)}), {unread_format_text(len(paths))}"
            for fmt, paths in _by_format(left).items()]


def only_other_formats(left: list[tuple[Path, str]], where: str = " in the folder") -> str | None:
    """What a folder with nothing to read holds when all it held worth a note is images of formats not read (a folder
    of GIFs said "no image or scan found"), or None; ``where`` follows the counts."""
    found = _by_format(left)
    if not found or any(not kind.startswith("other:") for _, kind in left):
        return None
    files = [counted(len(paths), fmt + " file") for fmt, paths in found.items()]
    listing = ", ".join(files[:-1]) + " and " + files[-1] if len(files) > 1 else files[0]
    return f"only {listing}{where}, {unread_format_text(sum(map(len, found.values())), len(found))}"


def index_notes(left: list[tuple[Path, str]]) -> tuple[str, ...]:
    """What a folder's series say of its DICOMDIR files where no stderr hears (``read_volumes`` of a folder)."""
    indexes = sum(kind == "dicomdir" for _, kind in left)
    return (f"not read: {counted(indexes, 'DICOMDIR file')} ({LEFT_OUT_WHY['dicomdir']})",) if indexes else ()
