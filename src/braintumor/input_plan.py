"""What ``braintumor predict`` is given, planned before anything is read: image paths, scans and error records.

Apart from the readers (:mod:`braintumor.volume_io` was at its 320-line cap; ``plan_inputs`` and ``VolumeInput`` are
imported from here): walking a folder for its DICOM and NIfTI files is a listing (one 132-byte read per file that could
be DICOM, 4 KiB of one that is compressed), never a decode, and a volume found is read only when its
:class:`VolumeInput` is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .compressed_files import MAGIC, PEEK
from .dicom_sniff import SNIFF_BYTES, file_head, is_dicom_head, worth_sniffing
from .image_files import (
    IMAGE_EXTENSIONS,
    hidden_note,
    is_hidden_name,
    is_special_file,
    unreadable_text,
    walk_folders,
    walk_images,
)
from .missing_files import not_a_folder_text, read_before_text
from .volume_objects import Volume
from .wording import INPUT_KINDS, NOTHING_FOUND, TOO_DEEP


@dataclass(frozen=True)
class VolumeInput:
    """A volume found on disk, read only when :meth:`load` is called (so planning stays cheap)."""

    path: str
    load: Callable[[], Iterable[Volume]]  # a study's series read one at a time as they are taken


def plan_inputs(paths: Iterable[str | os.PathLike], on_note: Callable[[str], None] | None = None,
                ) -> Iterator[Path | VolumeInput | dict]:
    """What ``braintumor predict`` classifies, in order: image paths, volumes, or error records.

    A folder yields its images (as before), one DICOM series per series found below it, and its
    NIfTI files; a file yields itself, as a volume when it is DICOM, NIfTI or zip content. ``on_note`` gets a line
    for each kind of file a folder holds that looks like an input but is not read (:mod:`braintumor.folder_notes`:
    a zip, which was skipped without a word beside other files).
    """
    from .volume_io import is_volume_file, iter_volumes  # (volume_io imports this module)

    pipes: dict[tuple[int, int], str] = {}  # the pipes named so far, by (device, inode): the name each was given by
    for raw in paths:
        path = Path(raw)
        if said := not_a_folder_text(raw):  # before Path()'s name is used: it dropped the / of scan.jpg/
            yield {"path": str(path), "error": said}
        elif os.path.isdir(path):  # os.path's: False for a name too long to be a file's (Path.is_dir raised)
            try:  # all of a folder's walk is done before its first item: one too deep is its own record, the rest read
                yield from list(_folder_inputs(path, on_note))
            except RecursionError:  # it ended the whole run (exit 2): the inputs beside it were never answered
                yield {"path": str(path), "error": TOO_DEEP}
        elif os.path.isfile(path) and is_volume_file(path):
            yield VolumeInput(str(path), lambda p=path: iter_volumes(p))
        elif said := read_before_text(path, pipes):
            yield {"path": str(path), "error": said}
        else:
            yield path


def _folder_inputs(path: Path, on_note: Callable[[str], None] | None) -> Iterator[Path | VolumeInput | dict]:
    """:func:`plan_inputs` of one folder."""
    from .folder_notes import LEFT_OUT_WHY, left_out_notes, only_compressed, only_other_formats
    from .volume_io import iter_volumes  # (volume_io imports this module)

    unreadable: list[OSError] = []  # a folder below that cannot be read is an error record, not skipped
    images = list(walk_images(path, unreadable.append))
    left: list[tuple[Path, str]] = []
    dicoms, niftis = scan_folder(path, left)
    for note in left_out_notes(path, left) if on_note else ():
        on_note(note)
    locked = [{"path": str(p), "error": k.partition(":")[2]} for p, k in left if k.startswith("unreadable:")]
    if not images and not dicoms and not niftis and not unreadable and not locked:
        zips = any(kind == "zip" for _, kind in left)  # and a folder of .scan.png: said, not 'empty'
        # the note's words (and the page's): it said "zips in folders are not opened" beside the note's
        why = LEFT_OUT_WHY["zip"].format(each="name the zip itself") if zips else hidden_note(path)
        only = None if zips else only_other_formats(left) or only_compressed(left)  # "only 3 GIF files..."
        yield {"path": str(path), "error": only or f"{NOTHING_FOUND} in the folder ({why or INPUT_KINDS})"}
    yield from images
    # Path(): named as its files are (os.walk's join named a folder of "." ./locked)
    yield from ({"path": str(Path(e.filename)), "error": f"cannot read folder: {e.strerror}"}
                for e in unreadable)
    yield from locked  # files that could not be opened to learn what they are (a DICOM slice, maybe)
    if dicoms:  # with the files not opened, as read_volumes (--resume, --workers) reads them: the same notes
        series = dicoms + unopened(left)
        yield VolumeInput(str(path), lambda d=series, p=str(path): _read_dicom_folder(p, d))
    for n in niftis:
        yield VolumeInput(str(n), lambda n=n: iter_volumes(n))


def unopened(left: list[tuple[Path, str]]) -> list[Path]:
    """The files a folder's walk could not open (a locked IM0002: maybe a slice), from its ``left``: read with its
    DICOM series, whose notes then count them ("skipped 1 file: cannot read file: Permission denied")."""
    return [p for p, kind in left if kind.startswith("unreadable:")]


def _read_dicom_folder(display: str, files: list[Path]) -> Iterator[Volume]:
    """A folder's DICOM series, read when its VolumeInput is loaded: pydicom is imported then, not while planning."""
    from .dicom_series import read_dicom_files
    from .volume_io import MAX_INPUT_PIXELS, MAX_SLICES, guarded

    return guarded(read_dicom_files(display, files, MAX_SLICES, MAX_INPUT_PIXELS, False))


def scan_folder(folder: Path, left: list[tuple[Path, str]] | None = None) -> tuple[list[Path], list[Path]]:
    """DICOM files (by content, whatever their name, or ending) and NIfTI files below ``folder``; hidden ones and
    those of an obviously other type (:data:`~braintumor.dicom_sniff.NOT_SCAN_SUFFIXES`) skipped. ``left`` gets the
    files passed over that look like inputs, with their kind (:func:`braintumor.folder_notes.left_out_as`)."""
    from .folder_notes import left_out_as
    from .volume_io import VOLUME_SUFFIXES  # (volume_io imports this module)

    dicoms, niftis = [], []
    for root, _dirs, files in walk_folders(folder):  # the folders walk_images reads
        for name in sorted(files):
            path = Path(root) / name
            lower = name.lower()
            image = path.suffix.lower() in IMAGE_EXTENSIONS
            if is_hidden_name(name) or (image and not is_special_file(path)):
                continue
            if is_special_file(path):  # a FIFO named 'pipe' hung predict in the sniff below; one named like an input
                if left is not None and (image or lower.endswith(VOLUME_SUFFIXES)):  # was passed over without a word
                    left.append((path, "special"))
                continue
            if lower == "dicomdir":  # an index, never an image: not read (folder_notes)
                if left is not None:
                    left.append((path, "dicomdir"))
            elif lower.endswith((".nii", ".nii.gz")):
                niftis.append(path)
            elif lower.endswith((".dcm", ".dicom")):  # opened, not read: a locked one was only a stderr note
                if _opens(path, left):
                    dicoms.append(path)
            # else by content (IM00001, a UID, .IMA); a .txt or .pdf is not opened to look (a listing, not reads)
            elif is_dicom_head(head := _head(path, left)):
                dicoms.append(path)
            elif left is not None and (kind := left_out_as(name, _peek(path, head))):
                left.append((path, kind))
    return dicoms, niftis


def _peek(path: Path, head: bytes) -> bytes:
    """``head``, or a compressed file's first :data:`~braintumor.compressed_files.PEEK` bytes, to name what it holds
    by (a gzipped DICOM file's 132 are too few to say so): read again only of a file that begins so."""
    return file_head(path, PEEK) if len(head) == SNIFF_BYTES and head.startswith(MAGIC) else head


def _head(path: Path, left: list[tuple[Path, str]] | None = None) -> bytes:
    """A walked file's first bytes, to tell DICOM by; b"" for a name of another type, never opened. One that cannot
    be opened goes to ``left`` as ``"unreadable:WHY"``: a scanner's locked IM0002 was dropped from its series unsaid."""
    return file_head(path, on_error=_unreadable(path, left)) if worth_sniffing(path.name) else b""


def _opens(path: Path, left: list[tuple[Path, str]] | None = None) -> bool:
    """Whether a walked .dcm can be opened (nothing read): one that cannot goes to ``left`` as :func:`_head` says, and
    predict makes it an error record, as it does a locked IM0002 (it was only a stderr note, in no output file)."""
    failed: list[OSError] = []
    file_head(path, 0, failed.append)
    if failed:
        _unreadable(path, left)(failed[0])
    return not failed or left is None  # with no ``left`` to say it, reading it says why


def _unreadable(path: Path, left: list[tuple[Path, str]] | None) -> Callable[[OSError], None]:
    """What notes in ``left`` that ``path`` could not be opened, and why."""
    def unreadable(exc: OSError) -> None:
        if left is not None:
            left.append((path, "unreadable:" + unreadable_text(path, exc)))

    return unreadable
