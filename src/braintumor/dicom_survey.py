"""The survey of a DICOM input's files before any pixel is decoded: each file's header parsed once, grouped by series
and counted (frames, pixels, bytes), its unusable files counted by why (used by :mod:`braintumor.dicom_series`).

Why its own module: how far the survey reads an input (its stops past the limits, so that a zip of thousands of tiny
files is not parsed whole to be refused) is one idea apart from decoding a series' pixels in anatomical order.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable

from pydicom.dataset import Dataset

from .dicom_checks import check_image, transfer_syntax
from .dicom_codestreams import excess_frames, excess_rows, sequential_scans
from .dicom_frames import (
    drop_unreadable,
    frame_view,
    header_number,
    modality_read,
    pixel_spacing,
    safe_meta,
    shown_pixels,
)
from .dicom_io import read_dataset
from .dicom_order import file_planes, is_localizer, localizer_images
from .image_io import ImageError
from .reason_counts import by_wording
from .slice_pixels import squared_shape
from .volume_io import MAX_SLICES
from .volume_objects import MIN_SCAN_SIDE
from .wording import counted, too_small_text

#: Most files of an input refused for its slices that are read up to MAX_SLICES slices, localizers aside (as many as
#: a zip may list); an input of more is read no further than its first file past the limit, localizers counted: a
#: folder of 100 000 files had each header parsed (and kept) to be refused.
MAX_FILES_COUNTED: int = 4096


@dataclasses.dataclass(frozen=True)
class SurveyFile:
    """What the survey of one usable file keeps (never its pixels): a study's files are read once to be grouped and
    counted, and again, one series at a time, to be decoded."""

    index: int  # in the input's items
    uid: str
    number: int
    frames: int
    pixels: int
    modality: tuple[str | None, tuple[str, str] | None]  # :func:`~braintumor.dicom_frames.modality_read`
    size: int  # bytes
    which: str  # the series as its scanner named it (:func:`series_named`)
    scout: bool  # Image Type says LOCALIZER: planned on, not diagnosed from
    planes: tuple[int | None, ...]  # :func:`~braintumor.dicom_order.file_planes`
    #: (rows, columns) of its frame of the largest smallest side, made square (:func:`shown_side`)
    side: tuple[int, int] = (MIN_SCAN_SIDE, MIN_SCAN_SIDE)


def parse_file(data: bytes, max_frames: int) -> tuple[Dataset, int, list[str], bool, bool]:
    """(dataset, frames, header values read without, more frames than declared, more rows than needed)."""
    ds = read_dataset(data)
    dropped = sorted(set(drop_unreadable(ds)))
    frames = check_image(ds, max_frames)
    sequential_scans(ds, transfer_syntax(ds))  # what GDCM's libjpeg would complain of on stderr, set right
    surplus = excess_frames(ds, frames)
    return ds, frames, dropped, surplus, not surplus and excess_rows(ds, frames)


def survey(items: list[tuple[str, Callable[[], bytes]]], max_slices: int, single: bool,
           keep: dict[int, tuple] | None = None, whole: bool = False,
           ) -> tuple[dict[str, list[SurveyFile]], Counter[str], int]:
    """The usable files grouped by series, why the others were skipped, and how many files were read; no pixel
    decoded, and no dataset kept unless ``keep`` is given (an input held whole anyway: one file, one web request):
    then each is put there, by its index, so that it is not parsed twice. ``whole``: ``max_slices`` holds for all the
    files together, and the survey stops at the first file past the larger of it and :data:`MAX_SLICES` (a count
    that still tells a scan past any input's limit), localizers aside (dicom_order.localizer_images), or of more
    than MAX_FILES_COUNTED files past ``max_slices``: the input is refused whatever the rest hold (a zip of 4000 tiny
    files had each header parsed, 12 s, to be refused). Its file of more frames than ``max_slices`` (what a web
    request's earlier scans left) but within MAX_SLICES is counted, and the input then refused whole: it was skipped
    ("DICOM file has 250 frames; the limit is 212") and the rest of its series classified without it. ``whole``: its
    files with no usable image (no pixel data: a report, a presentation state) count too, past the larger of
    ``max_slices`` and MAX_SLICES the input refused at the first (ImageError): they add no slice, and a zip of 4000
    pixel-less headers was parsed to its end (1.8 s) to say it holds no image."""
    groups: dict[str, list[SurveyFile]] = {}
    localizers: dict[str, tuple[int, int]] = {}  # (_past_limit's)
    skipped: Counter[str] = Counter()
    total, stop = 0, whole and len(items) > MAX_FILES_COUNTED
    bound = max(max_slices, MAX_SLICES)  # what any input may hold: its slices, or its files with no usable image
    most = max_slices if stop else bound  # the slices counted before the survey stops
    max_frames = bound if whole and not single else max_slices
    for k, (_, load) in enumerate(items):
        try:
            data = load()
            parsed = parse_file(data, max_frames)
            ds, frames = parsed[:2]
            if keep is not None:
                keep[k] = parsed
        except ImageError as exc:
            if single:
                raise
            skipped[str(exc)] += 1
            if whole and sum(skipped.values()) > bound:
                raise ImageError(_unusable_text(skipped, k + 1, len(items), bound)) from None
            continue
        uid = str(ds.get("SeriesInstanceUID", ""))
        number = header_number(ds.get("SeriesNumber"), int) or 0
        named = series_named({"dicom": safe_meta(ds, ds, 0, 1)})
        pixels = shown_pixels(ds, frames)  # as its slices will hold them, square: what a zip or request subtracts
        groups.setdefault(uid, []).append(SurveyFile(k, uid, number, frames, pixels, modality_read(ds), len(data),
                                                     named, is_localizer(ds), file_planes(ds, frames),
                                                     shown_side(ds, frames)))
        total += frames
        if whole and total > most and (stop or _past_limit(groups, uid, localizers, total, most)):
            return groups, skipped, k + 1
    return groups, skipped, len(items)


def _past_limit(groups: dict[str, list[SurveyFile]], uid: str, localizers: dict[str, tuple[int, int]], total: int,
                most: int) -> bool:
    """Whether a survey past ``most`` slices holds more than the limit, localizers aside (:func:`survey`). Each
    series' localizer images, now and possibly (dicom_order.localizer_images, which adds them up series by series),
    are kept in ``localizers`` and counted again for the series ``uid`` that just grew only: all series were counted
    again at each file, and a 1 MB zip of 1100 tiny files, each its own series, took 4.6 s to be refused (now 1.8)."""
    for key in groups if not localizers else (uid,):
        localizers[key] = (localizer_images([groups[key]]), localizer_images([groups[key]], MAX_SLICES))
    now, may = (sum(counts) for counts in zip(*localizers.values(), strict=True))
    return now > MAX_SLICES or total - min(may, MAX_SLICES) > most


def _unusable_text(skipped: Counter[str], read: int, files: int, limit: int) -> str:
    """The refusal of an input whose first ``read`` of its ``files`` files hold more than ``limit`` with no usable
    image (:func:`survey`), with why each was skipped."""
    why = "; ".join(f"{counted(n, 'file')}: {why}" for why, n in by_wording(skipped))
    return (f"the DICOM input's {files:,} files hold more than {limit:,} files with no usable image (of the first "
            f"{read:,} read: {why}); the limit is {limit:,} per input: send its image files only")


def shown_side(ds: Dataset, frames: int) -> tuple[int, int]:
    """The (rows, columns) of a checked file's frame whose smallest side is the largest, once resampled to square
    pixels (as :func:`braintumor.dicom_io.frame_slice` makes it), from its header: a file or series none of whose
    frames reaches MIN_SCAN_SIDE is refused once (:func:`small_text`), not each frame decoded to be refused."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    each = range(frames) if ds.get("PerFrameFunctionalGroupsSequence") else range(min(frames, 1))
    shapes = [squared_shape(rows, cols, *(pixel_spacing(frame_view(ds, i))[0] or (None, None))) for i in each]
    return max(shapes, key=min, default=(rows, cols))


def small_text(files: list[SurveyFile], single: bool) -> str | None:
    """The refusal of a DICOM file (``single``) or series whose every frame is under MIN_SCAN_SIDE, said once from
    the headers ('DICOM file of 3 frames: scan slice is 2x2 pixels; at least 32x32 needed: ...'), or None: each of
    its frames was decoded, then refused for its size. A series with a file large enough keeps its slices' answers, and
    so does a file of one frame, one answer either way (the slice's record, as before)."""
    frames = sum(f.frames for f in files)
    if frames < 2 or any(min(f.side) >= MIN_SCAN_SIDE for f in files):  # one frame: one answer either way
        return None
    rows, cols = max((f.side for f in files), key=min)
    if single or len(files) == 1:
        held = f"DICOM file of {counted(frames, 'frame')}"
    else:
        held = f"DICOM series of {counted(frames, 'image')}" + (f" in {counted(len(files), 'file')}"
                                                                 if frames != len(files) else "")
    alike = len({f.side for f in files}) == 1
    return f"{held}: {'' if alike else 'its largest '}{too_small_text(cols, rows, MIN_SCAN_SIDE, 'scan slice')}"


def series_named(meta: dict) -> str:
    """A series as its scanner named it, for the note that numbers it: "series 1" alone left a study folder's T1 and
    FLAIR, printed apart in the table, told apart only by their jsonl records."""
    dicom = meta.get("dicom", {})
    said = ([f"number {dicom['series_number']}"] if "series_number" in dicom else []) + \
        ([dicom["series_description"]] if dicom.get("series_description") else [])
    return f" ({', '.join(said)})" if said else ""
