"""DICOM files -> one Volume per series, slices in anatomical order (pixels by :mod:`braintumor.dicom_io`).

Why its own module: a series is where one file's problem must cost that file only: unusable headers
and undecodable pixels are skipped and counted in the volume's notes, and only no usable file at all
is an error; a header value that cannot be read costs that value only, and is named in the notes.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from pydicom.dataset import Dataset

from .dicom_checks import check_image
from .dicom_codestreams import excess_frames, excess_rows
from .dicom_frames import drop_unreadable, header_number, modality
from .dicom_io import frame_slice, read_dataset
from .dicom_order import frame_order
from .dicom_orientation import turn_notes
from .image_io import ImageError
from .ood import foreign_modalities
from .volume_io import MAX_INPUT_PIXELS, MAX_SLICES, MAX_VOLUME_BYTES, BudgetError, Volume, read_path


def read_dicom_series(display: str, items: list[tuple[str, Callable[[], bytes]]], max_slices: int,
                      max_pixels: int = MAX_INPUT_PIXELS, single: bool = False) -> list[Volume]:
    """DICOM files (name, loader) -> one Volume per series, slices in anatomical order.

    ``single``: one file, whose problems are raised as they are; in a series, unusable files are
    skipped and counted in the volume's notes (never silently), and only no usable file is an error.
    """
    groups: dict[str, list[tuple[Dataset, str, int]]] = {}
    skipped: Counter[str] = Counter()
    unreadable: dict[int, list[str]] = {}  # id(ds) -> the names of the header values it was read without
    surplus: set[int] = set()  # id(ds) of files whose pixel data holds more frames than they declare
    longer: set[int] = set()  # id(ds) of files whose pixel data holds more rows than their image size needs
    for name, load in items:
        try:
            ds = read_dataset(load())
            unreadable[id(ds)] = sorted(set(drop_unreadable(ds)))
            frames = check_image(ds, max_slices)
            if excess_frames(ds, frames):
                surplus.add(id(ds))
            elif excess_rows(ds, frames):
                longer.add(id(ds))
        except ImageError as exc:
            if single:
                raise
            skipped[str(exc)] += 1
            continue
        groups.setdefault(str(ds.get("SeriesInstanceUID", "")), []).append((ds, name, frames))
    where = " in this input" if len(groups) > 1 else ""  # input-wide, not one series' own
    notes = tuple(f"skipped {n} file(s){where}: {why}" for why, n in sorted(skipped.items()))
    if not groups:
        raise ImageError("no DICOM image found" + (f" ({'; '.join(notes)})" if notes else ""))
    ordered = sorted(groups.values(), key=lambda g: (header_number(g[0][0].get("SeriesNumber"), int) or 0))
    total = sum(f for group in ordered for _, _, f in group)
    # a thin-slice CT series past the limits was told only to be split, and its parts' slices then refused one by one
    foreign = foreign_modalities(modality(ds) for group in ordered for ds, _, _ in group)
    besides = f", and they are {foreign}" if foreign else ""
    if total > max_slices:  # before any pixel is decoded
        where = f" in {len(ordered)} series" if len(ordered) > 1 else ""
        raise BudgetError(f"the DICOM input holds {total} slices{where}; the limit is {max_slices} per input{besides}")
    pixels = sum(int(ds.Rows) * int(ds.Columns) * f for group in ordered for ds, _, f in group)
    if pixels > max_pixels:  # 64 JPEG 2000 frames of 6000 x 6000 px are 17 kB: checked before any is decoded
        raise BudgetError(f"the DICOM input would decode to {pixels:,} pixels; the limit is {max_pixels:,}{besides}")
    volumes, lost = [], Counter()
    for j, group in enumerate(ordered):
        frames, doubts = frame_order(group)
        decoded, broken = [], {}
        for ds, _, i, n in frames:
            if id(ds) in broken:
                continue
            try:
                decoded.append((id(ds), *frame_slice(ds, i, n)))
            except ImageError as exc:  # one broken file costs its own slices (all of them), not its series'
                if single:
                    raise
                broken[id(ds)] = str(exc)
        kept = [(sl, turn, doubt) for owner, sl, turn, doubt in decoded if owner not in broken]
        slices = [sl for sl, _, _ in kept]
        turned = turn_notes([turn for _, turn, _ in kept])
        spacing = tuple(f"{n} image(s) with {doubt}: ignored, pixels taken as square"
                        for doubt, n in sorted(Counter(doubt for _, _, doubt in kept if doubt).items()))
        failed = Counter(broken.values())
        if not slices:
            lost.update(failed)
            continue
        series_note = (f"{len(ordered)} series found; this is series {j + 1}{_which(slices[0].meta)}",) \
            if len(ordered) > 1 else ()
        own = tuple(f"skipped {n} file(s) of this series: {why}" for why, n in sorted(failed.items()))
        ignored = _ignored_notes([unreadable[id(ds)] for ds, _, _ in group if id(ds) not in broken])
        if n_surplus := sum(id(ds) in surplus and id(ds) not in broken for ds, _, _ in group):
            ignored += (f"pixel data holding more frames than Number of Frames declares (absent or too small, or a "
                        f"wrong image size) in {n_surplus} file(s): only the declared frames read",)
        if n_longer := sum(id(ds) in longer and id(ds) not in broken for ds, _, _ in group):
            ignored += ("pixel data longer than Rows x Columns x Number of Frames need, by a row or more (a wrong "
                        f"image size?), in {n_longer} file(s): read as the header says, the rest ignored",)
        volumes.append(Volume(display, "dicom", slices, j if len(ordered) > 1 else None,
                              series_note + notes + doubts + turned + spacing + ignored + own))
    if not volumes:
        raise ImageError("no DICOM image could be decoded (" + "; ".join(
            notes + tuple(f"{n} file(s): {why}" for why, n in sorted(lost.items()))) + ")")
    if lost:  # a whole series undecodable: said on the series that remain
        gone = tuple(f"skipped a series whose {n} file(s) failed: {why}" for why, n in sorted(lost.items()))
        volumes = [dataclasses.replace(v, notes=v.notes + gone) for v in volumes]
    return volumes


def _ignored_notes(per_file: list[list[str]]) -> tuple[str, ...]:
    """A note per header element some files were read without (:func:`braintumor.dicom_frames.drop_unreadable`)."""
    counts = Counter(name for names in per_file for name in names)
    return tuple(f"{name} unreadable or invalid in {n} file(s): ignored, {_WITHOUT.get(name, 'as if absent')}"
                 for name, n in sorted(counts.items()))


#: What reading a file without an element means for its slices, where that matters.
_STRETCHED = "gray levels stretched by the image's own range"
_WITHOUT = {"Pixel Spacing": "pixels taken as square", "Window Center": _STRETCHED, "Window Width": _STRETCHED,
            "VOI LUT Sequence": _STRETCHED, "Rescale Slope": "stored values shown as they are",
            "Rescale Intercept": "stored values shown as they are",
            "Image Position (Patient)": "the image's place in the series unknown",
            "Image Orientation (Patient)": "the image's orientation unknown", "Bits Stored": "taken as Bits Allocated"}


def _which(meta: dict) -> str:
    """A series as its scanner named it, for the note that numbers it: "series 1" alone left a study folder's T1 and
    FLAIR, printed apart in the table, told apart only by their jsonl records."""
    dicom = meta.get("dicom", {})
    said = ([f"number {dicom['series_number']}"] if "series_number" in dicom else []) + \
        ([dicom["series_description"]] if dicom.get("series_description") else [])
    return f" ({', '.join(said)})" if said else ""


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # e.g. a broken link: reading it reports the problem
        return 0


def read_dicom_files(display: str, files: list[Path], max_slices: int = MAX_SLICES,
                     max_pixels: int = MAX_INPUT_PIXELS) -> list[Volume]:
    """The DICOM files found in a folder, read as series (their bytes together within MAX_VOLUME_BYTES)."""
    total = sum(_size(f) for f in files)
    if total > MAX_VOLUME_BYTES:
        raise ImageError(f"the DICOM files in this folder hold {total} bytes; the limit is {MAX_VOLUME_BYTES}")
    return read_dicom_series(display, [(str(f), lambda f=f: read_path(f)) for f in files], max_slices, max_pixels)
