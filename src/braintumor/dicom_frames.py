"""What a DICOM header says about one frame: its numbers read safely, the attributes its display needs (per-frame
functional groups of enhanced files, positions of a legacy multi-frame file's frames), and the only fields that reach
results (:func:`safe_meta`). Used by :mod:`braintumor.dicom_io` and :mod:`braintumor.dicom_series`.

Privacy: :func:`safe_meta` names every field that leaves; patient fields are never read here.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable

from pydicom.datadict import DicomDictionary, dictionary_description, tag_for_keyword
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.tag import BaseTag
from pydicom.uid import UID

from .dicom_orientation import along_normal
from .quiet_libraries import quiet_libraries
from .slice_pixels import MAX_PIXEL_ASPECT, budget_pixels, far_from_square
from .wording import counted

#: Attributes of the Image Pixel, Modality LUT and VOI LUT modules a frame's display needs.
_PIXEL_KEYWORDS = ("PhotometricInterpretation", "BitsStored", "BitsAllocated", "PixelRepresentation",
                   "SamplesPerPixel", "RescaleSlope", "RescaleIntercept", "ModalityLUTSequence",
                   "WindowCenter", "WindowWidth", "VOILUTFunction", "VOILUTSequence", "PixelSpacing",
                   "ImagePositionPatient", "ImageOrientationPatient", "SliceLocation", "PixelPaddingValue",
                   "PixelPaddingRangeLimit")


#: Elements outside group 0028 (Image Presentation: pixels, LUTs, windows, spacing) that this package or pydicom's
#: pixel handling read, the functional-group sequences and their macros included: checked by :func:`drop_unreadable`.
_READ_TAGS: frozenset[int] = frozenset(tag_for_keyword(kw) for kw in (
    "SOPClassUID", "Modality", "SeriesDescription", "SeriesNumber", "InstanceNumber", "SeriesInstanceUID", "ImageType",
    "SliceThickness", "SpacingBetweenSlices", "ImagePositionPatient", "ImageOrientationPatient", "SliceLocation",
    "SharedFunctionalGroupsSequence", "PerFrameFunctionalGroupsSequence", "PlanePositionSequence",
    "PlaneOrientationSequence"))
#: Numbers whose readers say themselves, in their own words, that text in them is ignored (pixels taken as square, an
#: orientation that cannot be read): :func:`drop_unreadable` leaves their text to them.
_OWN_NOTES: frozenset[int] = frozenset(tag_for_keyword(kw) for kw in ("PixelSpacing", "ImageOrientationPatient"))
#: How deep :func:`drop_unreadable` follows sequences (functional groups > macros > their elements).
_DEPTH = 3


def drop_unreadable(ds: Dataset, depth: int = 0) -> list[str]:
    """Remove, and name, the elements this package reads whose value pydicom cannot convert (an unknown VR, a binary
    value of the wrong length, a sequence that does not parse): each raised on first use, in whatever read it first,
    and one such value cost the whole input. Removed, the value is unknown, as an absent one is, and the file is read
    without it. Patient fields are not among them: only group 0028 and :data:`_READ_TAGS` are converted."""
    dropped = []
    for tag in sorted(ds.keys()):
        if not (tag in _READ_TAGS or (tag.group == 0x0028 and tag in DicomDictionary)):  # (others' VR is unknown in
            continue  # implicit-VR files: pydicom warns as it converts them, and nothing here reads them)
        try:
            with quiet_libraries("pydicom."):  # a text's stray escape byte: pydicom's charset warning, with its
                # source line, on stderr beside the results (the value is decoded the same)
                elem = ds[tag]  # converts a raw element
                items = list(elem.value) if elem.VR == "SQ" else []
            if elem.VR in ("DS", "IS") and tag not in _OWN_NOTES and _not_numbers(elem.value):
                raise ValueError  # text where a number is due, kept as text (validation is off): read as absent
        except Exception:  # pydicom raises many types; the element's name is enough
            del ds[tag]
            dropped.append(element_name(tag))
            continue
        if depth < _DEPTH:
            for item in items:
                dropped += drop_unreadable(item, depth + 1)
    if depth == 0 and _repair_bits_stored(ds, "Bits Stored" in dropped):
        dropped.append("Bits Stored")
    return dropped


def _not_numbers(value: object) -> bool:
    """Whether a DS or IS value holds text pydicom could not convert ('abc', 'two', '1\\abc'): with validation off
    it keeps such text as a str, which every reader here took for an absent value, unsaid (a Rescale Slope 'abc', a
    Number of Frames 'two' that refused the file as 'could not be decoded')."""
    values = value if isinstance(value, MultiValue) else [value]
    return any(isinstance(v, str) for v in values)


def ignored_notes(per_file: list[list[str]]) -> tuple[str, ...]:
    """A note per header element some files were read without (:func:`drop_unreadable`)."""
    counts = Counter(name for names in per_file for name in names)
    return tuple(f"{name} unreadable or invalid in {counted(n, 'file')}: ignored, {_WITHOUT.get(name, 'as if absent')}"
                 for name, n in sorted(counts.items()))


#: What reading a file without an element means for its slices, where that matters.
_STRETCHED = "gray levels stretched by the image's own range"
_WITHOUT = {"Pixel Spacing": "pixels taken as square", "Window Center": _STRETCHED, "Window Width": _STRETCHED,
            "VOI LUT Sequence": _STRETCHED, "Rescale Slope": "stored values shown as they are",
            "Rescale Intercept": "stored values shown as they are",
            "Image Position (Patient)": "the image's place in the series unknown",
            "Image Orientation (Patient)": "the image's orientation unknown", "Bits Stored": "taken as Bits Allocated"}


def _repair_bits_stored(ds: Dataset, dropped: bool) -> bool:
    """Bits Allocated for a Bits Stored that is unreadable or out of 1..Bits Allocated (pydicom refused the pixels as
    'corrupt or truncated'); only the mask of the stored bits depends on it. True when it was replaced."""
    allocated = header_number(ds.get("BitsAllocated"), int)
    if not isinstance(allocated, int) or not (allocated == 1 or (allocated % 8 == 0 and 8 <= allocated <= 64)):
        return False  # no value to fall back on: check_image refuses the file
    if not dropped and "BitsStored" not in ds:
        return False
    stored = header_number(ds.get("BitsStored"), int)
    if isinstance(stored, int) and 1 <= stored <= allocated:
        return False
    ds.BitsStored = allocated
    return True


def element_name(tag: BaseTag) -> str:
    """A tag as people read it: its dictionary name ("Pixel Spacing"), else its number."""
    try:
        return dictionary_description(tag)
    except KeyError:
        return f"({tag.group:04X},{tag.element:04X})"


def header_number(value: object, cast: Callable = float) -> float | int | str | None:
    """``cast(value)``, or None when the element is absent, unparsable or not finite (NaN and inf, which
    DS strings allow, would break sorting and resampling and are not valid JSON)."""
    try:
        number = cast(value) if value is not None and value != "" else None
    except (TypeError, ValueError, OverflowError):
        return None
    return number if not isinstance(number, float) or math.isfinite(number) else None


def header_numbers(values: object, n: int) -> list[float] | None:
    """A multi-valued numeric element (a position, an orientation) of exactly ``n`` finite numbers, else None."""
    try:
        out = [header_number(v) for v in values] if values is not None and len(values) == n else []
    except TypeError:  # a single value where several belong
        return None
    return out if out and all(v is not None for v in out) else None


def pixel_spacing(view: Dataset) -> tuple[tuple[float, float] | None, str | None]:
    """A frame's Pixel Spacing (row, column mm) when it is usable, and what was wrong with it when it is present and
    not (the frame's pixels are then taken as square). The spacing's values are never quoted."""
    if view.get("PixelSpacing") in (None, ""):
        return None, None
    spacing = header_numbers(view.get("PixelSpacing"), 2)
    if spacing is None or min(spacing) <= 0:
        return None, "a Pixel Spacing that is not two positive numbers"
    row_mm, col_mm = spacing
    if doubt := far_from_square(row_mm, col_mm, MAX_PIXEL_ASPECT):
        return None, f"a Pixel Spacing that makes pixels {doubt}"
    return (row_mm, col_mm), None


def shown_pixels(ds: Dataset, frames: int) -> int:
    """The pixels a checked file's ``frames`` make once resampled to square pixels by their usable Pixel Spacing (as
    :func:`braintumor.dicom_io.frame_slice` does), from the header before any is decoded: the pixel budget counts
    these, as a zip or web request subtracts its slices' pixels after (up to twice Rows x Columns x frames)."""
    rows, cols = int(ds.Rows), int(ds.Columns)
    each = range(frames) if ds.get("PerFrameFunctionalGroupsSequence") else range(min(frames, 1))  # frames alike
    made = [budget_pixels(rows, cols, *(pixel_spacing(frame_view(ds, i))[0] or (None, None))) for i in each]
    return sum(made) if len(made) == frames else made[0] * frames


def frame_view(ds: Dataset, index: int) -> Dataset:
    """The pixel attributes of frame ``index``: the top level, overridden by the shared and per-frame
    functional groups of enhanced (multi-frame) objects."""
    view = Dataset()
    if hasattr(ds, "file_meta"):
        view.file_meta = ds.file_meta
    for kw in _PIXEL_KEYWORDS:
        if kw in ds:
            view[kw] = ds[kw]
    groups = []
    for seq_kw, i in (("SharedFunctionalGroupsSequence", 0), ("PerFrameFunctionalGroupsSequence", index)):
        seq = ds.get(seq_kw)
        if seq and len(seq) > i:
            groups.append(seq[i])
    placed = False  # whether a functional group gives the frame's position
    for group in groups:
        for macro in ("PixelValueTransformationSequence", "FrameVOILUTSequence", "PlanePositionSequence",
                      "PlaneOrientationSequence", "PixelMeasuresSequence"):
            items = group.get(macro)
            if items:
                placed = placed or "ImagePositionPatient" in items[0]
                for kw in _PIXEL_KEYWORDS:
                    if kw in items[0]:
                        view[kw] = items[0][kw]
    if index > 0 and not placed and _place_legacy_frame(ds, view, index):
        view.PositionReferenceIndicator = DERIVED_POSITION  # a marker safe_meta reads; never leaves the view
    return view


#: Marks a frame view whose Image Position was computed here, not read (Position Reference Indicator is a
#: frame-of-reference attribute no pixel code reads, so the marker cannot be mistaken for a header value).
DERIVED_POSITION = "BRAINTUMOR-DERIVED"


def _place_legacy_frame(ds: Dataset, view: Dataset, index: int) -> bool:
    """Frame ``index`` of a legacy multi-frame file, whose top level gives frame 0's position: ``index`` slice
    spacings (Spacing Between Slices, else Slice Thickness) further along the normal; unknown without them (it was
    frame 0's for every frame), and its Slice Location, frame 0's, dropped. Unless the Frame Increment Pointer names
    Frame Time or Frame Time Vector: then the frames are times at one place. True when a position was derived."""
    pointer = ds.get("FrameIncrementPointer")
    if any(p in (0x00181063, 0x00181065) for p in (pointer if isinstance(pointer, (list, MultiValue)) else [pointer])):
        return False
    first = header_numbers(view.get("ImagePositionPatient"), 3)
    facing = header_numbers(view.get("ImageOrientationPatient"), 6)
    spacing = header_number(ds.get("SpacingBetweenSlices")) or abs(header_number(ds.get("SliceThickness")) or 0.0)
    for kw in ("ImagePositionPatient", "SliceLocation"):
        if kw in view:
            del view[kw]
    at = along_normal(first, facing, index * spacing) if first and facing and spacing else None
    if at is not None:
        view.ImagePositionPatient = at
    return at is not None


#: The Modality the IOD of each image storage SOP class requires (PS3.3), for a file without its Modality element: a CT
#: Image Storage file stripped of it was classified as MRI. MR classes, secondary captures (which may hold an MRI
#: slice) and classes that allow several modalities are not here: such a file is read as it was.
SOP_CLASS_MODALITIES: dict[str, str] = {
    "1.2.840.10008.5.1.4.1.1." + uid: code for code, uids in (
        ("CT", ("2", "2.1", "2.2")), ("CR", ("1",)), ("DX", ("1.1", "1.1.1")),
        ("MG", ("1.2", "1.2.1", "13.1.3", "13.1.4", "13.1.5")), ("IO", ("1.3", "1.3.1")),
        ("US", ("3.1", "6.1", "6.2")), ("XA", ("12.1", "12.1.1", "13.1.1")), ("RF", ("12.2", "12.2.1")),
        ("NM", ("20",)), ("PT", ("128", "128.1", "130")))
    for uid in uids}


def sop_class(ds: Dataset) -> str:
    """The file's SOP class UID: the dataset's, else its file meta's (a DICOMDIR's class is there only); "" for none."""
    meta = getattr(ds, "file_meta", None)
    return str(ds.get("SOPClassUID") or (meta.get("MediaStorageSOPClassUID") if meta is not None else None) or "")


def _sop_class_modality(ds: Dataset) -> str | None:
    """The Modality :data:`SOP_CLASS_MODALITIES` gives the file's SOP class (:func:`sop_class`), or None."""
    return SOP_CLASS_MODALITIES.get(sop_class(ds).strip())


def modality(ds: Dataset) -> str | None:
    """The file's modality: its Modality element, else the one its SOP class requires (:data:`SOP_CLASS_MODALITIES`),
    else CT where its values are Hounsfield units (Rescale Type "HU": a CT slice kept as Secondary Capture), else
    None."""
    return modality_read(ds)[0]


def modality_read(ds: Dataset) -> tuple[str | None, tuple[str, str] | None]:
    """(:func:`modality`, where it was read when not from the Modality element: ("SOP class", "CT Image Storage") or
    ("Rescale Type", "HU"), else None), for a refusal to say so (``ood.modality_words``): it said "(DICOM modality
    CT)" of a file with no Modality element."""
    with quiet_libraries("pydicom."):  # a text's stray escape byte: pydicom's charset warning, its source line on
        value = header_number(ds.get("Modality"), str)  # stderr beside the results ("Found unknown escape ...")
        rescale = header_number(ds.get("RescaleType"), str)
    if code := value.strip()[:64] if isinstance(value, str) else "":
        return code, None
    if code := _sop_class_modality(ds):
        return code, ("SOP class", UID(sop_class(ds).strip()).name)
    hounsfield = isinstance(rescale, str) and rescale.strip().upper() == "HU"
    return ("CT", ("Rescale Type", "HU")) if hounsfield else (None, None)


def safe_meta(ds: Dataset, view: Dataset, frame: int, frames: int) -> dict:
    """The only DICOM fields that reach results: modality (where the Modality element is absent or empty, the one
    the SOP class requires, if it requires one), series, instance and slice geometry."""
    code = modality(ds)
    meta: dict = {"modality": code} if code else {}
    for key, kw, cast in (("series_description", "SeriesDescription", str), ("series_number", "SeriesNumber", int),
                          ("instance_number", "InstanceNumber", int)):
        with quiet_libraries("pydicom."):  # as modality's
            value = header_number(ds.get(kw), cast)
        if value not in (None, ""):
            meta[key] = value.strip()[:64] if isinstance(value, str) else value
    if frames > 1:
        meta["frame"] = frame
    location = header_number(view.get("SliceLocation"))
    if location is not None:
        meta["slice_location"] = round(location, 4)
    position = header_numbers(view.get("ImagePositionPatient"), 3)
    if position is not None:
        meta["image_position"] = [round(v, 4) for v in position]
        if view.get("PositionReferenceIndicator") == DERIVED_POSITION:
            meta["image_position_derived"] = True  # frame 0's position + k slice spacings, not in the file
    meta["rows"], meta["columns"], meta["frames"] = int(ds.Rows), int(ds.Columns), frames
    return meta
