"""DICOM instances and series -> uint8 slices with safe metadata (see :mod:`braintumor.volume_io`).

Pixel values go through the modality LUT (Rescale Slope/Intercept), then the VOI LUT or the
window (Window Center/Width) when the file has one — the display the scanner chose — else a
robust percentile stretch, padding left out (under a negative slope or a falling Modality LUT, found in the values
as stored); MONOCHROME1 is inverted. A slice stored mirrored or transposed is turned to the conventional view by
its Image Orientation (Patient) (:mod:`braintumor.dicom_orientation`).
Compressed pixel data is decoded by pydicom's plugins: Pillow first for 8-bit JPEG (quiet on damaged coded data,
where GDCM prints), GDCM (python-gdcm) for what Pillow refuses and for JPEG Lossless, JPEG-LS and JPEG 2000 (Pillow
its second decoder), pydicom itself for RLE, and GDCM again for 12-bit JPEG Extended, which pydicom's GDCM plugin
refuses (:mod:`braintumor.dicom_jpeg12`).

Privacy: only the fields in :func:`braintumor.dicom_frames.safe_meta` ever leave this module; patient fields are never
read, and messages never quote a value from the file (pydicom's value validation, whose warnings
quote values, is switched off).
"""

from __future__ import annotations

import math
from contextlib import nullcontext

import numpy as np
from PIL import Image
from pydicom import config as _config
from pydicom.dataset import Dataset
from pydicom.errors import BytesLengthException
from pydicom.filereader import read_partial
from pydicom.pixels import apply_color_lut, apply_windowing, pixel_array
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

from .colour import colourfulness
from .compressed_files import compressed_text
from .dicom_bounds import (
    MAX_ELEMENTS,
    MAX_READ_PASSES,
    BoundedBytesIO,
    ReadTooMuch,
    TooManyElements,
    header_problem,
    truncation_problem,
)
from .dicom_checks import EXPORT_ADVICE, decoders_missing, decoders_tried, missing_pixel_text, transfer_syntax
from .dicom_ending import meta_transfer_syntax
from .dicom_frames import frame_view, header_number, header_numbers, modality_read, pixel_spacing, safe_meta
from .dicom_jpeg12 import register as _register_jpeg12
from .dicom_orientation import Turn, display_turn
from .dicom_rescale import RescaleUnusable, falling, modality_values, rescaled, unmappable_text
from .dicom_sniff import is_raw_dataset
from .dicom_voi import apply_table, voi_table
from .documents import document_text
from .image_gray import NO_FINITE_PIXELS
from .image_io import ImageError
from .quiet_libraries import quiet_decoders, quiet_libraries, quiet_loggers
from .slice_pixels import falling_uint8, robust_uint8, scale_to_uint8, square_pixels
from .volume_objects import Slice
from .wording import EXPORT_AGAIN

# Validation warnings quote element values (a patient's name among them): never produce them.
_config.settings.reading_validation_mode = _config.IGNORE
# pydicom logs what it warns (a header's character set, quoted) and each decoder's traceback for damaged pixel data to
# these loggers: dropped while a thread reads, as its warnings are (a logging setup with a root handler wrote them).
quiet_loggers("pydicom", "pydicom.pixels.decoders.base", "pydicom.pixels.utils")
_register_jpeg12()  # Pillow before GDCM; 12-bit JPEG Extended by GDCM, which pydicom's own GDCM plugin refuses

#: The Deflated Explicit VR Little Endian transfer syntax: pydicom inflates the whole dataset without a limit.
DEFLATED_UID = b"1.2.840.10008.1.2.1.99"


def read_dataset(data: bytes) -> Dataset:
    """Parse DICOM bytes (with or without the Part 10 preamble). Raises ImageError."""
    has_preamble = len(data) >= 132 and data[128:132] == b"DICM"
    if has_preamble and meta_transfer_syntax(data) == DEFLATED_UID:  # 1 MB of it inflated to 3 GB in a web worker
        raise ImageError("DICOM file uses the Deflated transfer syntax, which is not read (it can expand without "
                         "limit): export it uncompressed or with a pixel compression")
    if not has_preamble and not is_raw_dataset(data) and (
            said := document_text(data) or compressed_text(data, named=True)):  # a zip's or folder's x.dcm that is a
        raise ImageError(said)  # page or a gzip of a DICOM file: "not a DICOM file: no 'DICM' marker", as scan.dcm was
    if problem := header_problem(data, has_preamble):
        raise ImageError(problem)
    seen, stream = 0, BoundedBytesIO(data)

    def count(_tag: int, _vr: object, _length: int) -> bool:  # pydicom asks before each top-level element's value
        nonlocal seen
        seen += 1
        if seen > MAX_ELEMENTS:
            raise TooManyElements
        return False

    try:
        with quiet_libraries("pydicom."):  # e.g. "Expected explicit VR, but found implicit VR"
            ds = read_partial(stream, stop_when=count, force=not has_preamble)  # dcmread, counted
    except TooManyElements:
        raise ImageError(f"DICOM data holds over {MAX_ELEMENTS:,} elements at its top level: not an image header "
                         "(zeros or a crafted file)") from None
    except ReadTooMuch:
        raise ImageError("DICOM data is corrupt: undefined-length values without their delimiters (it would be read "
                         f"more than {MAX_READ_PASSES} times over to parse)") from None
    except BytesLengthException:  # its text quotes the value's bytes
        raise ImageError(truncation_problem(data, None) or f"DICOM data is corrupt: a header value's length does not "
                         f"fit its type: {EXPORT_AGAIN}") from None
    except Exception:  # pydicom raises many types for broken files, with texts that quote them: not shown
        raise ImageError(truncation_problem(data, None) or "DICOM data is corrupt or truncated: it could not be "
                         f"parsed; {EXPORT_AGAIN}") from None  # a file cut short in a long element's length, say
    if problem := truncation_problem(data, ds):
        raise ImageError(problem)
    ds.buffer = None  # pydicom kept the whole file's bytes, beside the values it copied out of them: twice the data
    if not has_preamble and "SOPClassUID" not in ds and "PixelData" not in ds:
        raise ImageError("not a DICOM file: no 'DICM' marker and no DICOM image attributes")
    _name_encoding(ds)
    return ds


def release_pixels(ds: Dataset) -> None:
    """Drop a dataset's pixel data and pydicom's cached decode of it once its frames are slices: a series held each
    file's stored pixels and their decoded array until its last slice was made (4 times its pixel bytes at peak)."""
    for keyword in ("PixelData", "FloatPixelData", "DoubleFloatPixelData"):
        if keyword in ds:
            del ds[keyword]
    ds._pixel_array = None


def _name_encoding(ds: Dataset) -> None:
    """Give a dataset read without a Transfer Syntax UID (a raw dataset: no file meta) the one it was parsed in:
    pydicom decodes pixels only by that UID, and refused such a file as 'corrupt or truncated (AttributeError)'."""
    meta = getattr(ds, "file_meta", None)
    if meta is not None and meta.get("TransferSyntaxUID"):
        return
    implicit, little = ds.original_encoding
    if implicit is None or little is None:
        return
    ds.ensure_file_meta()
    ds.file_meta.TransferSyntaxUID = ImplicitVRLittleEndian if implicit else \
        ExplicitVRLittleEndian if little else ExplicitVRBigEndian


def _display_range(view: Dataset, lut: tuple[np.ndarray, int] | None) -> tuple[float, float] | None:
    """Where the VOI LUT (``lut``: the view's :func:`~braintumor.dicom_voi.voi_table`) or window sends the lowest and
    highest input: the output's black and white."""
    with np.errstate(all="ignore"):
        if lut is not None:
            ends = lut[0].min(), lut[0].max()  # a falling table shows low values bright: its ends, reversed, did not
        elif view.get("WindowCenter") is not None and view.get("WindowWidth") is not None:
            ends = apply_windowing(np.array([-1e30, 1e30]), view)
        else:
            return None
    lo, hi = float(ends[0]), float(ends[1])
    return (lo, hi) if lo != hi and math.isfinite(lo) and math.isfinite(hi) else None  # NaN/inf window: stretch


def _voi(values: np.ndarray, view: Dataset, lut: tuple[np.ndarray, int] | None) -> np.ndarray:
    """The VOI LUT's levels of ``values`` (:mod:`braintumor.dicom_voi`), else the window's (a LUT that cannot be
    used is passed over for the window: pydicom's apply_voi_lut preferred it whatever it held)."""
    if lut is not None:
        return apply_table(values, *lut)
    return apply_windowing(values, view)


def _padded(arr: np.ndarray, view: Dataset) -> np.ndarray | None:
    """The stored pixels the header names padding (Pixel Padding Value, through Pixel Padding Range Limit when given),
    left out of the stretch's percentiles; None without it, or with one that cannot be read (never the slice's loss)."""
    try:
        value = header_number(view.get("PixelPaddingValue"), int)
        if value is None:
            return None
        limit = header_number(view.get("PixelPaddingRangeLimit"), int)
        ends = [value, value if limit is None else limit]
        if arr.dtype.kind == "i":  # written unsigned (US 32768) for signed pixels (-32768)
            ends = [v - (1 << 8 * arr.dtype.itemsize) if v > np.iinfo(arr.dtype).max else v for v in ends]
        return (arr >= min(ends)) & (arr <= max(ends))
    except Exception:  # e.g. several values where one belongs
        return None


def frame_to_uint8(arr: np.ndarray, view: Dataset) -> np.ndarray:
    """Decoded frame -> display uint8: modality LUT, VOI LUT/window (or percentile stretch), MONOCHROME1."""
    pi = str(view.get("PhotometricInterpretation", "MONOCHROME2")).upper()
    if arr.ndim == 3:  # colour (RGB after pydicom's YBR conversion): luma, as Pillow's convert("L")
        if arr.dtype == np.uint8:
            return np.asarray(Image.fromarray(arr[..., :3]).convert("L"), dtype=np.uint8)
        luma = arr[..., :3].astype(np.float64) @ np.array([0.299, 0.587, 0.114])
        if arr.dtype == np.uint16:  # absolute levels, as 8-bit colour's: a palette's 16-bit entries, 16-bit RGB
            bits = 16 if pi == "PALETTE COLOR" else header_number(view.get("BitsStored"), int)
            return scale_to_uint8(luma, 0.0, 2.0 ** (bits if isinstance(bits, int) and 8 < bits <= 16 else 16) - 1)
        return robust_uint8(luma)
    with quiet_libraries("pydicom."), np.errstate(all="ignore"):  # its LUT functions' doubts; numpy's overflows
        try:  # the table read once, for its ends and its levels (it was read twice a frame)
            lut = voi_table(view, transfer_syntax(view).is_little_endian)
            window = _display_range(view, lut)
        except (ValueError, NotImplementedError, AttributeError, IndexError, TypeError):
            lut, window = None, None  # a broken window (e.g. width 0): fall back to the percentile stretch
        if not rescaled(view) and window is None and int(view.get("BitsStored") or 8) <= 8 and arr.dtype == np.uint8:
            out = arr  # 8-bit data without a window: the pixels are the display (as a JPEG's are)
        else:
            values = modality_values(arr, view)  # RescaleUnusable where the rescale leaves nothing to show
            if window:
                out = scale_to_uint8(_voi(values, view, lut), *window)
            else:
                pad = _padded(arr, view)
                out = falling_uint8(values, arr, pad) if falling(view, arr, values) else robust_uint8(values, pad)
    if pi == "MONOCHROME1":
        out = 255 - out
    return np.ascontiguousarray(out, dtype=np.uint8)


def frame_colourfulness(arr: np.ndarray, view: Dataset) -> float:
    """:func:`braintumor.colour.colourfulness` of a decoded colour frame on the 0-255 scale of its gray levels, at
    most ~128 pixels a side, as a colour image file's is measured; 0 for a gray frame."""
    if arr.ndim != 3:
        return 0.0
    step = max(1, max(arr.shape[:2]) // 128)
    rgb = arr[::step, ::step, :3]
    if arr.dtype == np.uint16:  # as frame_to_uint8 scales 16-bit colour
        bits = 16 if str(view.get("PhotometricInterpretation", "")).upper() == "PALETTE COLOR" \
            else header_number(view.get("BitsStored"), int)
        rgb = scale_to_uint8(rgb, 0.0, 2.0 ** (bits if isinstance(bits, int) and 8 < bits <= 16 else 16) - 1)
    elif arr.dtype != np.uint8:
        rgb = robust_uint8(rgb)
    return colourfulness(rgb)


class NoFinitePixels(ImageError):
    """A decoded float frame none of whose pixels holds a number (all NaN or infinite): nothing to classify, where it
    was answered 'blank or nearly uniform image' with probabilities. Its own type: a multi-frame file's other frames
    are still read (:mod:`braintumor.dicom_series` leaves such frames out, and says so)."""


def frame_slice(ds: Dataset, i: int, frames: int) -> tuple[Slice, Turn | None, str | None]:
    """Frame ``i`` of one checked instance of ``frames`` frames as a Slice in the conventional view, the turn that
    took it there and what was wrong with its Pixel Spacing, if anything (for the volume's notes). Raises ImageError
    when decoding fails."""
    view = frame_view(ds, i)
    try:
        # pydicom's doubts ("excess padding") and Pillow's, one of its decoders; GDCM's libjpeg and OpenJPEG print
        # their own, dropped where the process said so (the CLI, serve's workers: quiet_libraries.decoders_quiet)
        decoders = quiet_decoders() if transfer_syntax(ds).is_compressed else nullcontext()
        with quiet_libraries("pydicom.", "PIL."), decoders:
            if frames == 1 and not transfer_syntax(ds).is_encapsulated:  # data of 3 frames made 1 a 3-row strip
                ds.pixel_array_options(allow_excess_frames=False)  # the declared frame, as a multi-frame file's
            arr = pixel_array(ds, index=i) if frames > 1 else ds.pixel_array
    except MemoryError:
        raise ImageError("DICOM image is too large to decode") from None
    except Exception:  # decoders raise many types; never echo their text
        if said := missing_pixel_text(ds):
            raise ImageError(said) from None
        ts = transfer_syntax(ds)
        if ts.is_compressed:  # each decoder's reason is pydicom's text: not shown, and none a user could act on
            missing, tried = decoders_missing(ts), decoders_tried(ts)
            raise ImageError(f"DICOM pixel data ({ts.name}) could not be decoded by {tried}: damaged, or a variant "
                             + ("they do" if " or " in tried else "it does") + " not read; "
                             + (f"{missing} (not installed) might read it, or " if missing else "")
                             + f"if a viewer opens it, {EXPORT_ADVICE}") from None
        raise ImageError(f"DICOM pixel data could not be decoded: {EXPORT_AGAIN}") from None  # (was a class name)
    if str(view.get("PhotometricInterpretation", "")).upper() == "PALETTE COLOR":
        try:
            arr = apply_color_lut(arr, ds)
        except Exception:  # a table of another length than its descriptor says: was 'pixel data could not be decoded'
            raise ImageError("DICOM palette (its Palette Color Lookup Table Descriptor and Data) cannot be read: "
                             f"{EXPORT_AGAIN}") from None
    if arr.ndim not in (2, 3):
        raise ImageError("DICOM pixel data has an unsupported layout")
    if arr.dtype.kind == "f" and not np.isfinite(arr).any():  # Float or Double Float Pixel Data (as a float TIFF's)
        raise NoFinitePixels(NO_FINITE_PIXELS)
    try:
        gray, colour = frame_to_uint8(arr, view), frame_colourfulness(arr, view)
    except RescaleUnusable:
        raise
    except Exception:  # e.g. a malformed Modality LUT Sequence
        raise ImageError(unmappable_text("a rescale or lookup table in its header cannot be applied")) from None
    spacing, spacing_doubt = pixel_spacing(view)
    stored = gray.size  # what was decoded: the budget counts it where square pixels are fewer (slice_pixels)
    if spacing is not None:
        gray = square_pixels(gray, *spacing)
    turn = display_turn(header_numbers(view.get("ImageOrientationPatient"), 6))
    if turn is not None and turn.changes:  # stored mirrored or transposed: the conventional view, as NIfTI's
        gray = turn.apply(gray)
    return (Slice(gray, {"dicom": safe_meta(ds, view, i, frames)}, colour, stored=stored,
                  modality_source=modality_read(ds)[1]), turn, spacing_doubt)
