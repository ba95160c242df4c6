"""DICOM files -> one Volume per series, slices in anatomical order (pixels by :mod:`braintumor.dicom_io`).

Why its own module: a series is where one file's problem must cost that file only: unusable headers
and undecodable pixels are skipped and counted in the volume's notes, and only no usable file at all
is an error.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable

import numpy as np
from pydicom.dataset import Dataset

from .dicom_io import check_image, frame_view, header_number, header_numbers, instance_slices, read_dataset
from .image_io import ImageError
from .volume_io import Volume


def _sort_key_factory(instances: list[tuple[Dataset, str]]) -> Callable[[tuple[Dataset, str]], tuple]:
    """Order along the slice normal when every instance has a position, else by Instance Number."""
    def position(ds: Dataset):
        view = frame_view(ds, 0)
        ipp = header_numbers(view.get("ImagePositionPatient"), 3)
        iop = header_numbers(view.get("ImageOrientationPatient"), 6)
        if ipp is None or iop is None:
            return None, None
        return np.asarray(ipp), np.asarray(iop)

    geometry = [position(ds) for ds, _ in instances]
    normal = None
    if all(p is not None for p, _ in geometry) and geometry:
        iop = geometry[0][1]
        normal = np.cross(iop[:3], iop[3:])

    def key(item: tuple[Dataset, str]) -> tuple:
        ds, name = item
        number = header_number(ds.get("InstanceNumber"), int)
        along = float(np.dot(position(ds)[0], normal)) if normal is not None else 0.0
        return (round(along, 4), number if number is not None else 0, name)

    return key


def read_dicom_series(display: str, items: list[tuple[str, Callable[[], bytes]]], max_slices: int,
                      single: bool = False) -> list[Volume]:
    """DICOM files (name, loader) -> one Volume per series, slices in anatomical order.

    ``single``: one file, whose problems are raised as they are; in a series, unusable files are
    skipped and counted in the volume's notes (never silently), and only no usable file is an error.
    """
    groups: dict[str, list[tuple[Dataset, str, int]]] = {}
    skipped: Counter[str] = Counter()
    for name, load in items:
        try:
            ds = read_dataset(load())
            frames = check_image(ds, max_slices)
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
    if total > max_slices:  # before any pixel is decoded
        where = f" in {len(ordered)} series" if len(ordered) > 1 else ""
        raise ImageError(f"the DICOM input holds {total} slices{where}; the limit is {max_slices} per input")
    volumes, lost = [], Counter()
    for j, group in enumerate(ordered):
        instances = [(ds, name) for ds, name, _ in group]
        frames_of = {id(ds): f for ds, _, f in group}
        slices, failed = [], Counter()
        for ds, _ in sorted(instances, key=_sort_key_factory(instances)):
            try:
                slices.extend(instance_slices(ds, frames_of[id(ds)]))
            except ImageError as exc:  # one broken file costs its own slices, not its series'
                if single:
                    raise
                failed[str(exc)] += 1
        if not slices:
            lost.update(failed)
            continue
        series_note = (f"{len(ordered)} series found; this is series {j + 1}",) if len(ordered) > 1 else ()
        own = tuple(f"skipped {n} file(s) of this series: {why}" for why, n in sorted(failed.items()))
        volumes.append(Volume(display, "dicom", slices, j if len(ordered) > 1 else None, series_note + notes + own))
    if not volumes:
        raise ImageError("no DICOM image could be decoded (" + "; ".join(
            notes + tuple(f"{n} file(s): {why}" for why, n in sorted(lost.items()))) + ")")
    if lost:  # a whole series undecodable: said on the series that remain
        gone = tuple(f"skipped a series whose {n} file(s) failed: {why}" for why, n in sorted(lost.items()))
        volumes = [dataclasses.replace(v, notes=v.notes + gone) for v in volumes]
    return volumes
