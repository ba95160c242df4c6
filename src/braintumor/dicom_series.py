"""DICOM files -> one Volume per series, slices in anatomical order (pixels by :mod:`braintumor.dicom_io`).

Why its own module: a series is where one file's problem must cost that file only: unusable headers
and undecodable pixels are skipped and counted in the volume's notes, and only no usable file at all
is an error; a header value that cannot be read costs that value only, and is named in the notes.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

from pydicom.dataset import Dataset

from .dicom_frames import ignored_notes
from .dicom_io import NoFinitePixels, frame_slice, release_pixels
from .dicom_order import frame_order, leave_out_localizers
from .dicom_orientation import turn_notes
from .dicom_survey import SurveyFile, parse_file, series_named, small_text, survey
from .image_gray import NO_FINITE_PIXELS
from .image_io import ImageError
from .ood import foreign_modalities
from .reason_counts import by_wording
from .volume_io import MAX_INPUT_PIXELS, MAX_SLICES, MAX_VOLUME_BYTES, BudgetError, budget_error, read_path
from .volume_objects import Volume
from .wording import counted


def read_dicom_series(display: str, items: list[tuple[str, Callable[[], bytes]]], max_slices: int,
                      max_pixels: int = MAX_INPUT_PIXELS, single: bool = False, per_input: bool = True,
                      others: int = 0, besides: tuple[str, ...] = ()) -> list[Volume]:
    """DICOM files (name, loader) -> one Volume per series, slices in anatomical order (:func:`iter_dicom_series`)."""
    return list(iter_dicom_series(display, items, max_slices, max_pixels, single, per_input, others, besides))


def iter_dicom_series(display: str, items: list[tuple[str, Callable[[], bytes]]], max_slices: int,
                      max_pixels: int = MAX_INPUT_PIXELS, single: bool = False, per_input: bool = True,
                      others: int = 0, besides: tuple[str, ...] = (), name_files: bool = False) -> Iterator[Volume]:
    """DICOM files (name, loader) -> one Volume per series, slices in anatomical order, checked on headers first.

    ``single``: one file, whose problems are raised as they are; in a series, unusable files are
    skipped and counted in the volume's notes (never silently), and only no usable file is an error; so is a series
    of localizers only (:func:`~braintumor.dicom_order.leave_out_localizers`). ``per_input``: ``max_slices`` and
    ``max_pixels`` count all the series together (one web request's budget), past them the input is refused whole.
    Else they count each series on its own (a study's T1, FLAIR and diffusion are 1000 slices together): a series past
    them, or without a decodable image, comes as a Volume with no slices and its ``error``, the others are still read,
    each only when the one before has been taken (a study's memory is one series', not its sum); an input of one
    series (with ``others`` volumes besides, none) is still refused whole. ``besides``: the notes of the input's other
    files (a zip's GIF), said after the files' own where none is read: a zip's refusal named its DICOM file only.
    ``name_files`` (a folder's files): a series of one file names it (:attr:`Volume.file`).
    """
    parsed: dict[int, tuple] | None = {} if per_input or single else None
    groups, skipped, read = survey(items, max_slices, single, parsed, per_input)
    where = " in this input" if len(groups) > 1 else ""  # input-wide, not one series' own
    notes = tuple(f"skipped {counted(n, 'file')}{where}: {why}" for why, n in by_wording(skipped))
    if not groups:
        raise ImageError("no DICOM image found" + (f" ({'; '.join(notes + besides)})" if notes + besides else ""))
    ordered = sorted(groups.values(), key=lambda g: g[0].number)
    files = [items[g[0].index][0] if name_files and len(g) == 1 else None for g in ordered]  # Volume.file's
    if read < len(items):  # the survey stopped past the limit, localizers counted: refused whatever the rest hold
        _check_limits([f for group in ordered for f in group], len(ordered), max_slices, max_pixels, of=len(items))
    notes += leave_out_localizers(ordered, single, notes + besides)
    count = len(ordered)
    if per_input or count + others == 1:
        _check_limits([f for group in ordered for f in group], count, max_slices, max_pixels,
                      max_bytes=0 if per_input else MAX_VOLUME_BYTES, of=len(items) if read < len(items) else 0)
        volumes, lost = [], Counter()
        for j, group in enumerate(ordered):
            if small := small_text(group, single):  # once, no frame decoded: each was, then refused for its size
                if count == 1:
                    raise ImageError(small)
                said = f"{count} series found; this is series {j + 1}{group[0].which}"
                volumes.append(Volume(display, "dicom", [], j, (said, *notes), error=small, file=files[j]))
                continue
            volume = _decode_series(display, items, group, j, count, notes, max_slices, single, parsed, files[j])
            if isinstance(volume, Counter):
                lost.update(volume)
            else:
                volumes.append(volume)
        if not volumes:
            raise ImageError("no DICOM image could be decoded (" + "; ".join(
                notes + tuple(f"{counted(n, 'file')}: {why}" for why, n in by_wording(lost)) + besides) + ")")
        if lost:  # a whole series undecodable: said on the series that remain
            gone = tuple(f"skipped a series whose {counted(n, 'file')} failed: {why}"
                         for why, n in by_wording(lost))
            volumes = [dataclasses.replace(v, notes=v.notes + gone) for v in volumes]
        yield from volumes
        return
    for j, group in enumerate(ordered):
        said = (f"{count} series found; this is series {j + 1}{group[0].which}",) if count > 1 else ()
        named = f"series {j + 1} of {count}" if count > 1 else "the DICOM series"  # one beside a zip's NIfTI files
        try:
            _check_limits(group, count, max_slices, max_pixels, named + group[0].which, MAX_VOLUME_BYTES)
        except BudgetError as exc:
            yield Volume(display, "dicom", [], j if count > 1 else None, said + notes, error=str(exc), file=files[j])
            continue
        if small := small_text(group, single):
            yield Volume(display, "dicom", [], j if count > 1 else None, said + notes, error=small, file=files[j])
            continue
        volume = _decode_series(display, items, group, j, count, notes, max_slices, single, parsed, files[j])
        if isinstance(volume, Counter):
            why = "; ".join(f"{counted(n, 'file')}: {why}" for why, n in by_wording(volume))
            yield Volume(display, "dicom", [], j if count > 1 else None, said + notes,
                         error=f"no image of this series could be decoded ({why})", file=files[j])
        else:
            yield volume


def _check_limits(files: list[SurveyFile], count: int, max_slices: int, max_pixels: int, series: str = "",
                  max_bytes: int = 0, of: int = 0) -> None:
    """Refuse (BudgetError, its ``series`` the input's count) what would take past ``max_slices`` or ``max_pixels``:
    on the headers, before any pixel is decoded. ``series``: the one series checked, as its refusal names it. ``of``:
    how many files the input holds, when ``files`` are only those read before its slices were past the limit."""
    total = sum(f.frames for f in files)
    # a thin-slice CT series past the limits was told only to be split, and its parts' slices then refused one by one
    foreign = foreign_modalities(f.modality for f in files)
    besides = f", and they are {foreign}" if foreign else ""
    what, per = (series, "series") if series else ("the DICOM input", "input")
    error = None
    if total > max_slices and of:  # the files not read could not make it fewer
        where = f" (in {count} series or more)" if count > 1 else ""
        error = budget_error(f"{what}'s {of:,} files hold more than {max_slices} slices{where}",
                             total if series or count == 1 else 0, max_slices, per=f" per {per}", after=besides)
    elif total > max_slices:
        where = f" in {count} series" if count > 1 and not series else ""
        error = budget_error(f"{what} holds {total} slices{where}", total if series or count == 1 else 0,
                             max_slices, per=f" per {per}", after=besides)  # a study's series may each fit
    elif (pixels := sum(f.pixels for f in files)) > max_pixels:  # 64 JPEG 2000 frames of 6000 x 6000 px: 17 kB
        error = budget_error(f"{what} would decode to {pixels:,} pixels", pixels if series or count == 1 else 0,
                             max_pixels, "pixels", " per series" if series else "", besides)
    elif max_bytes and (size := sum(f.size for f in files)) > max_bytes:  # read one series at a time: its bytes
        error = budget_error(f"the files of {what} hold {size:,} bytes", size, max_bytes, "bytes",
                             " per series" if series else "")
    if error is not None:
        error.series = count
        raise error


def _decode_series(display: str, items: list[tuple[str, Callable[[], bytes]]], files: list[SurveyFile], j: int,
                   count: int, notes: tuple[str, ...], max_slices: int, single: bool,
                   parsed: dict[int, tuple] | None = None, file: str | None = None) -> Volume | Counter[str]:
    """One series read again (or taken from ``parsed``, the survey's) and decoded: its Volume, or why each of its
    files failed where none could be."""
    group: list[tuple[Dataset, str, int]] = []
    unreadable: dict[int, list[str]] = {}  # id(ds) -> the names of the header values it was read without
    surplus: set[int] = set()  # id(ds) of files whose pixel data holds more frames than they declare
    longer: set[int] = set()  # id(ds) of files whose pixel data holds more rows than their image size needs
    failed: Counter[str] = Counter()
    for f in files:
        name, load = items[f.index]
        try:  # read again where the survey kept no dataset (a file changed since is its own error)
            ds, frames, dropped, more, rows = (parsed.pop(f.index) if parsed and f.index in parsed
                                              else parse_file(load(), max_slices))
        except ImageError as exc:
            if single:
                raise
            failed[str(exc)] += 1
            continue
        group.append((ds, name, frames))
        unreadable[id(ds)] = dropped
        if more:
            surplus.add(id(ds))
        elif rows:
            longer.add(id(ds))
    frames, doubts = frame_order(group) if group else ([], ())
    decoded, broken, unfinite = [], {}, Counter()  # unfinite: frames of each file with no finite pixel, left out
    left = Counter(id(ds) for ds, _, _, _ in frames)  # frames of each file still to decode
    total = left.copy()
    for ds, _, i, n in frames:
        if id(ds) not in broken:
            try:
                decoded.append((id(ds), *frame_slice(ds, i, n)))
            except NoFinitePixels:  # that frame only: a file's other frames are images
                unfinite[id(ds)] += 1
            except ImageError as exc:  # one broken file costs its own slices (all of them), not its series'
                if single:
                    raise
                broken[id(ds)] = str(exc)
        left[id(ds)] -= 1
        if not left[id(ds)]:  # its pixels are slices now (or broken): freed as the series goes, not at its end
            release_pixels(ds)
            if unfinite[id(ds)] == total[id(ds)]:  # none of its frames is an image: refused as such a float TIFF is
                if single:
                    raise ImageError(NO_FINITE_PIXELS)
                broken[id(ds)] = NO_FINITE_PIXELS
    kept = [(sl, turn, doubt) for owner, sl, turn, doubt in decoded if owner not in broken]
    slices = [sl for sl, _, _ in kept]
    failed.update(broken.values())
    if not slices:
        return failed
    turned = turn_notes([turn for _, turn, _ in kept])
    spacing = tuple(f"{counted(n, 'image')} with {doubt}: ignored, pixels taken as square"
                    for doubt, n in sorted(Counter(doubt for _, _, doubt in kept if doubt).items()))
    series_note = (f"{count} series found; this is series {j + 1}{series_named(slices[0].meta)}",) if count > 1 else ()
    own = tuple(f"skipped {counted(n, 'file')} of this series: {why}" for why, n in by_wording(failed))
    if n_unfinite := sum(n for owner, n in unfinite.items() if owner not in broken):
        own += (f"left out {counted(n_unfinite, 'image')} with no finite pixel value (all NaN or infinite)",)
    ignored = ignored_notes([unreadable[id(ds)] for ds, _, _ in group if id(ds) not in broken])
    if n_surplus := sum(id(ds) in surplus and id(ds) not in broken for ds, _, _ in group):
        ignored += (f"pixel data holding more frames than Number of Frames declares (absent or too small, or a "
                    f"wrong image size) in {counted(n_surplus, 'file')}: only the declared frames read",)
    if n_longer := sum(id(ds) in longer and id(ds) not in broken for ds, _, _ in group):
        ignored += ("pixel data longer than Rows x Columns x Number of Frames need, by a row or more (a wrong "
                    f"image size?), in {counted(n_longer, 'file')}: read as the header says, the rest ignored",)
    return Volume(display, "dicom", slices, j if count > 1 else None,
                  series_note + notes + doubts + turned + spacing + ignored + own, file=file)


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:  # e.g. a broken link: reading it reports the problem
        return 0


def read_dicom_files(display: str, files: list[Path], max_slices: int = MAX_SLICES,
                     max_pixels: int = MAX_INPUT_PIXELS, per_input: bool = True, others: int = 0) -> Iterator[Volume]:
    """The DICOM files found in a folder, read as series (:func:`iter_dicom_series`), one at a time. ``per_input``:
    their bytes together within MAX_VOLUME_BYTES, checked before any is read; else each series' (a study's are more).
    ``others``: the folder's volumes besides (its NIfTI files): one series is then not refused whole."""
    total = sum(_size(f) for f in files)
    if per_input and total > MAX_VOLUME_BYTES:
        raise ImageError(f"the DICOM files in this folder hold {total} bytes; the limit is {MAX_VOLUME_BYTES}")
    return iter_dicom_series(display, [(str(f), lambda f=f: read_path(f)) for f in files], max_slices, max_pixels,
                             per_input=per_input, others=others, name_files=True)
