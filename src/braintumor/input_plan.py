"""What ``braintumor predict`` is given, planned before anything is read: image paths, scans and error records.

Apart from the readers (:mod:`braintumor.volume_io` was at its 320-line cap; ``plan_inputs`` and ``VolumeInput`` are
imported from here): a folder's DICOM and NIfTI files are found by a listing (:mod:`braintumor.folder_scans`), never a
decode, and a volume found is read only when its :class:`VolumeInput` is loaded.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .folder_scans import scan_folder, unopened
from .image_files import hidden_note, walk_images
from .missing_files import denied_text, missing_url_text, not_a_folder_text, read_before_text
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
    from .scan_sniff import is_volume_file
    from .volume_io import iter_volumes  # (volume_io imports this module)

    pipes: dict[tuple[int, int], str] = {}  # the pipes named so far, by (device, inode): the name each was given by
    for raw in paths:
        path = Path(raw)
        if said := not_a_folder_text(raw):  # before Path()'s name is used: it dropped the / of scan.jpg/
            yield {"path": str(path), "error": said}
        elif said := missing_url_text(raw):  # and made the // of https://x.org/a.jpg one /
            yield {"path": os.fsdecode(raw), "error": said}
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
    yield from ({"path": str(Path(e.filename)), "error": f"cannot read folder: {denied_text(Path(e.filename), e)}"}
                for e in unreadable)
    yield from locked  # files that could not be opened to learn what they are (a DICOM slice, maybe)
    if dicoms:  # with the files not opened, as read_volumes (--resume, --workers) reads them: the same notes
        series = dicoms + unopened(left)
        yield VolumeInput(str(path), lambda d=series, p=str(path): _read_dicom_folder(p, d))
    for n in niftis:
        yield VolumeInput(str(n), lambda n=n: iter_volumes(n))


def _read_dicom_folder(display: str, files: list[Path]) -> Iterator[Volume]:
    """A folder's DICOM series, read when its VolumeInput is loaded: pydicom is imported then, not while planning."""
    from .dicom_series import read_dicom_files
    from .volume_io import MAX_INPUT_PIXELS, MAX_SLICES, guarded

    return guarded(read_dicom_files(display, files, MAX_SLICES, MAX_INPUT_PIXELS, False))
