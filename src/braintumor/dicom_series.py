"""DICOM files -> one Volume per series, slices in anatomical order (pixels by :mod:`braintumor.dicom_io`).

Why its own module: a series is where one file's problem must cost that file only: unusable headers
and undecodable pixels are skipped and counted in the volume's notes, and only no usable file at all
is an error; a header value that cannot be read costs that value only, and is named in the notes.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset

from .dicom_checks import check_image
from .dicom_codestreams import excess_frames, excess_rows
from .dicom_frames import drop_unreadable, frame_view, header_number, header_numbers, modality
from .dicom_io import frame_slice, read_dataset
from .dicom_orientation import conventional_normal, display_turn, turn_notes
from .image_io import ImageError
from .ood import foreign_modalities
from .volume_io import MAX_INPUT_PIXELS, MAX_SLICES, MAX_VOLUME_BYTES, BudgetError, Volume, read_path

Frame = tuple[Dataset, str, int, int]  # (instance, file name, frame index, frames in the instance)


def _frame_order(group: list[tuple[Dataset, str, int]]) -> tuple[list[Frame], tuple[str, ...]]:
    """Every frame of one series in anatomical order, and notes on what was left out or is doubtful.

    Frames, not files: a multi-frame file's frames carry their own positions (they were kept in stored order).
    Along the slice normal, pointing as the conventional view's does (inferior to superior for axial slices, as
    NIfTI's), when every frame has a position and an orientation; frames of another orientation than the series'
    most common one (a localizer filed in the series: frames marked LOCALIZER count last, a tie goes to axial; a
    normal reversed is the same plane, so the same orientation) are left out and counted (they set the normal when
    they came first), and so are frames marked LOCALIZER in that orientation unless nothing else is there; frames
    that share a position (echoes, repeats, a duplicate file) are kept and said. Without full geometry: by Instance
    Number, then file name, then frame."""
    frames = [(ds, name, i, n) for ds, name, n in group for i in range(n)]
    views = [frame_view(ds, i) for ds, _, i, _ in frames]
    where = [header_numbers(v.get("ImagePositionPatient"), 3) for v in views]
    facing = [header_numbers(v.get("ImageOrientationPatient"), 6) for v in views]

    def by_number(k: int) -> tuple:
        ds, name, i, _ = frames[k]
        number = header_number(ds.get("InstanceNumber"), int)
        # names in natural order: IM2 before IM10 (as text, IM10 came first)
        natural = tuple((0, int(t), "") if t.isdigit() else (1, 0, t) for t in re.split(r"(\d+)", name) if t)
        return (number if number is not None else 0, natural, i)

    order = list(range(len(frames)))
    missing = sum(p is None or o is None for p, o in zip(where, facing, strict=True))
    if missing:
        said = (f"{missing} of {len(frames)} image(s) without a position or orientation: ordered by Instance Number",)
        return [frames[k] for k in sorted(order, key=by_number)], said if len(frames) > 1 else ()
    normals = np.array([np.cross(o[:3], o[3:]) for o in facing], dtype=np.float64)
    lengths = np.linalg.norm(normals, axis=1)
    if np.any(lengths < 1e-6):  # a degenerate orientation: no normal to sort along
        return [frames[k] for k in sorted(order, key=by_number)], ()
    units = normals / lengths[:, None]
    # within ~2.6 degrees (rounding the normals split near-equal ones), either way: a frame stored with its row or
    # column direction reversed lies in the same plane (it was left out as facing another way, "a localizer?")
    alike = np.abs(units @ units.T) > 0.999
    # the acquisition's plane: the one of the most frames not marked LOCALIZER, then of the most frames, then axial (a
    # localizer listed first kept a one-slice series' only image out)
    scout = np.array([_localizer(ds) for ds, _, _, _ in frames])
    real = alike @ ~scout
    axial = np.argmax(np.abs(units), axis=1) == 2
    main = max(order, key=lambda k: (int(real[k]), int(alike[k].sum()), bool(axial[k])))
    keep = [k for k in order if alike[main, k]]
    notes = []
    if len(keep) < len(frames):
        notes.append(f"left out {len(frames) - len(keep)} image(s) facing another way than the series' "
                     f"{len(keep)} (a localizer?)")
    if real[main] and scout[keep].any():  # a scout in the series' own plane: not a slice of it
        notes.append(f"left out {int(scout[keep].sum())} image(s) marked LOCALIZER in the series' plane")
        keep = [k for k in keep if not scout[k]]
    turn = display_turn(facing[main])  # ordered along the normal of the plane the slices are shown in
    same_way = units[keep] * np.sign(units[keep] @ units[main])[:, None]  # reversed normals must not cancel out
    normal = conventional_normal(same_way.mean(axis=0), turn.plane if turn else None)
    along = {k: round(float(np.dot(where[k], normal)), 4) for k in keep}
    keep.sort(key=lambda k: (along[k], *by_number(k)))
    shared = sum(n for n in Counter(along.values()).values() if n > 1)
    if shared:
        notes.append(f"{shared} images share a position with another (echoes, repeats or duplicate files?): each is "
                     "classified")
    return [frames[k] for k in keep], tuple(notes)


def _localizer(ds: Dataset) -> bool:
    """Whether Image Type marks the image as a localizer (a scout, planned on, not diagnosed from)."""
    try:
        value = ds.get("ImageType")
        values = [value] if isinstance(value, (str, bytes)) or value is None else value
        return any("LOCALIZER" in str(v).upper() for v in values)
    except Exception:  # an unreadable Image Type only breaks a tie: never the series
        return False


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
        frames, doubts = _frame_order(group)
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
