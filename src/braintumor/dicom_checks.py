"""Whether a parsed DICOM dataset can be decoded into slices, refused with a precise reason before any pixel is read.

Why its own module: :mod:`braintumor.dicom_io` reads and decodes; the checks of what it is given (a non-image object,
no pixels, absurd sizes, odd pixel descriptions, too many frames, a transfer syntax nobody here can decode) are one
idea, asked once per file by :mod:`braintumor.dicom_series` before decoding.
"""

from __future__ import annotations

from pydicom.datadict import DicomDictionary, dictionary_VM, tag_for_keyword
from pydicom.dataelem import DataElement
from pydicom.dataset import Dataset
from pydicom.multival import MultiValue
from pydicom.pixels.decoders.base import Decoder, get_decoder
from pydicom.uid import UID, ImplicitVRLittleEndian

from .dicom_codestreams import PI_SAMPLES, codestream_problem, native_length_problem
from .dicom_frames import element_name, header_number, modality_read, sop_class
from .dicom_jpeg12 import LABEL as JPEG12_LABEL
from .dicom_offsets import drop_lying_tables
from .image_io import MAX_PIXELS, ImageError
from .ood import foreign_modalities
from .volume_io import budget_error
from .wording import EXPORT_AGAIN, either, too_many_pixels_text

#: SOP classes that are never images, by UID prefix (structured reports, RT objects, presentation
#: states, documents, waveforms, raw data/registration/segmentation, DICOMDIR, value mappings).
NON_IMAGE_SOP_PREFIXES: tuple[str, ...] = tuple(
    "1.2.840.10008." + p for p in ("5.1.4.1.1.88.", "5.1.4.1.1.481.", "5.1.4.1.1.11.", "5.1.4.1.1.104.",
                                   "5.1.4.1.1.9.", "5.1.4.1.1.66", "1.3.10", "5.1.4.1.1.67")
)


def transfer_syntax(ds: Dataset) -> UID:
    """The dataset's transfer syntax (implicit VR little endian when it names none, as DICOM defaults)."""
    meta = getattr(ds, "file_meta", None)
    ts = meta.get("TransferSyntaxUID") if meta is not None else None
    return UID(str(ts)) if ts else ImplicitVRLittleEndian


#: pydicom's decoding plugins as users know them.
_PLUGIN_NAMES = {"gdcm": "GDCM", "pillow": "Pillow", "pylibjpeg": "pylibjpeg", "pyjpegls": "pyjpegls",
                 "pydicom": "pydicom", JPEG12_LABEL: "GDCM"}
#: The way out for pixel data nothing here decodes, in the messages.
EXPORT_ADVICE = "export the file uncompressed (e.g. gdcmconv --raw in.dcm out.dcm) and send that"


def _decoder(ts: UID) -> Decoder | None:
    """pydicom's decoder of ``ts``, or None for a syntax it has none for (video, JPEG 2000 Part 2)."""
    try:
        return get_decoder(ts)
    except NotImplementedError:
        return None


def decoders_tried(ts: UID) -> str:
    """The installed decoders pydicom tries on ``ts`` ("GDCM or Pillow"), "" for none."""
    decoder = _decoder(ts)
    names = dict.fromkeys(_PLUGIN_NAMES.get(p, p) for p in (decoder.available_plugins if decoder else ()))
    return " or ".join(names)


def decoders_missing(ts: UID) -> str:
    """The packages pydicom names for its decoders of ``ts`` that are not installed ("pylibjpeg>=2.0 and
    pylibjpeg-openjpeg>=2.0"), "" for none: pydicom's words, never the file's."""
    decoder = _decoder(ts)
    needs = [m.split(" requires ", 1)[-1] for m in (decoder.missing_dependencies if decoder else [])]
    return " or ".join(needs)


def check_image(ds: Dataset, max_frames: int) -> int:
    """Refuse, with a precise reason, what cannot be decoded into slices; returns the frame count."""
    try:
        return _check_image(ds, max_frames)
    except ImageError:
        raise
    except Exception:  # a header value pydicom cannot convert: one file's error, never a traceback
        raise ImageError(header_value_problem(ds)) from None


def header_value_problem(ds: Dataset) -> str:
    """Which header element the checks read holds several values where one belongs (a Rows of 8 bytes: 4 values), by
    its dictionary name, never its values: it said "DICOM header cannot be read (TypeError)", a Python class name.
    Only elements already converted are looked at (those with values pydicom cannot convert were dropped before,
    :func:`braintumor.dicom_frames.drop_unreadable`); none found, a plain sentence says what is known."""
    for tag in sorted(ds.keys()):
        elem = ds.get_item(tag)
        if isinstance(elem, DataElement) and isinstance(elem.value, (list, MultiValue)) \
                and len(elem.value) > 1 and tag in DicomDictionary and dictionary_VM(tag) == "1":
            return f"DICOM header's {element_name(tag)} holds {len(elem.value)} values where one belongs: " \
                + EXPORT_AGAIN
    return f"DICOM header holds a value this reader cannot interpret: {EXPORT_AGAIN}"


#: The Image Pixel attributes pydicom needs to decode pixels, besides Rows and Columns (checked before).
_PIXEL_NEEDS = ("BitsAllocated", "BitsStored", "PhotometricInterpretation", "PixelRepresentation", "SamplesPerPixel")


def missing_pixel_text(ds: Dataset) -> str | None:
    """What decoding the pixels needs that the header lacks (absent, or dropped as unreadable), by name, or None: asked
    where decoding failed, pydicom's "Missing required element" came out as "DICOM pixel data is corrupt or truncated
    (AttributeError)" of pixels that were whole."""
    missing = [element_name(tag_for_keyword(k)) for k in _PIXEL_NEEDS if ds.get(k) in (None, "")]
    return missing and f"DICOM header has no {either(missing)}, which decoding its pixels needs: {EXPORT_AGAIN}"


def _sop_name(sop: str) -> str | None:
    """The registered name of a SOP class, else None: never the header's own text (UID.name returns an unknown
    UID as it is, and a malformed header can hold anything, a patient's name included)."""
    name = UID(sop).name if sop else ""
    return name if name and name != sop else None


def _article(name: str) -> str:
    """'a' or 'an' before a SOP class's name, as it is read aloud: an Encapsulated PDF, an RT Structure Set, an X-Ray
    dose report ('a RT Structure Set Storage object' read wrong)."""
    first = name.split(" ", 1)[0]
    spelled = first.isupper() and len(first) <= 4  # an initialism: RT, SR, MR are read letter by letter
    return "an" if name[:1] in "AEIOUX" or (spelled and name[:1] in "FHLMNRS") else "a"


def _no_pixels(sop: str, name: str | None) -> str:
    """Why a file without pixel data is refused, saying what it holds. One whose dataset holds a stray delimiter or
    item where an element belongs (pydicom reads no further, or reads the rest as one element's value) is told so
    before (:func:`braintumor.dicom_bounds.truncation_problem`): it was 'has no pixel data (unregistered SOP class)'."""
    return f"DICOM file has no pixel data ({name or ('unregistered SOP class' if sop else 'and no SOP Class UID')})"


def _check_image(ds: Dataset, max_frames: int) -> int:
    sop = sop_class(ds)
    name = _sop_name(sop)
    if sop.startswith(NON_IMAGE_SOP_PREFIXES):
        what = f"{_article(name)} {name} object" if name else "an object of an unregistered SOP class"
        raise ImageError(f"DICOM file is {what}, not an image: nothing to classify")
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        raise ImageError(_no_pixels(sop, name))
    rows, cols = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
    if rows < 1 or cols < 1:
        raise ImageError("DICOM file has pixel data but no valid Rows/Columns")
    if rows * cols > MAX_PIXELS:
        raise ImageError(too_many_pixels_text(cols, rows, MAX_PIXELS, "DICOM image"))
    if problem := _pixel_description_problem(ds):
        raise ImageError(problem)
    try:
        declared = ds.get("NumberOfFrames")  # absent or empty is one frame; a 0 is as damaged as a -3, not absent
        frames = 1 if declared is None or declared == "" else int(declared)
    except (TypeError, ValueError):
        frames = 1
    if frames < 1:  # a damaged header, not a scan too long ("has -1 frames; the limit is 512": send it on its own)
        raise ImageError(f"DICOM header declares {frames} frames (Number of Frames): {EXPORT_AGAIN}")
    if frames > max_frames:
        # a cine loop past the limit: what it is
        foreign = foreign_modalities([modality_read(ds)]) if frames > 1 else None
        raise budget_error(f"DICOM file has {frames} frames", frames, max_frames,
                           after=f", and they are {foreign}" if foreign else "")
    ts = transfer_syntax(ds)
    if not ts.is_transfer_syntax:  # a private or mistyped UID: pydicom cannot say how the pixels are stored
        raise ImageError("DICOM file declares a transfer syntax this reader does not know; it cannot be decoded")
    if ts.is_compressed:
        if not decoders_tried(ts):
            missing = decoders_missing(ts)
            raise ImageError(f"DICOM pixel data is compressed with {ts.name}, which this installation cannot decode "
                             "(it reads JPEG, JPEG Lossless, JPEG-LS, JPEG 2000 and RLE): "
                             + (f"installing {missing} would let it, or " if missing else "") + EXPORT_ADVICE)
        drop_lying_tables(ds, frames)  # split by what its fragments are, not by a table that lies
        if problem := codestream_problem(ds, ts, frames):  # what would abort GDCM's process, or take minutes
            raise ImageError(problem)
    elif problem := native_length_problem(ds, frames):
        raise ImageError(problem)
    return frames


def _pixel_description_problem(ds: Dataset) -> str | None:
    """Why the Image Pixel attributes do not describe pixels that can be decoded, or None. pydicom's own refusal came
    out as 'pixel data is corrupt or truncated (ValueError)', its text (which quotes the values) not shown."""
    said = {kw: ds.get(kw) for kw in ("BitsAllocated", "SamplesPerPixel", "PixelRepresentation")}
    allocated, samples, signed = (header_number(v, int) if v is not None else "absent" for v in said.values())
    if allocated != "absent" and not (allocated == 1 or (isinstance(allocated, int) and allocated % 8 == 0
                                                          and 8 <= allocated <= 64)):
        return "DICOM header's Bits Allocated is not 1 or a multiple of 8 up to 64: the pixels cannot be decoded"
    if samples not in ("absent", 1, 3):
        return "DICOM header's Samples per Pixel is neither 1 nor 3: the pixels cannot be decoded"
    if signed not in ("absent", 0, 1):
        return "DICOM header's Pixel Representation is neither 0 nor 1: the pixels cannot be decoded"
    if "PhotometricInterpretation" in ds and \
            str(ds.get("PhotometricInterpretation") or "").strip().upper() not in PI_SAMPLES:
        return "DICOM header's Photometric Interpretation is not one DICOM defines: the pixels cannot be decoded"
    if str(ds.get("PhotometricInterpretation") or "").strip().upper() == "PALETTE COLOR" and not _has_palette(ds):
        return ("DICOM header says PALETTE COLOR but holds no palette (its Red, Green and Blue Palette Color Lookup "
                f"Table Descriptor and Data), which gives its pixels their colours: {EXPORT_AGAIN}")
    return None


def _has_palette(ds: Dataset) -> bool:
    """Whether the Palette Color Lookup Table module pydicom's apply_color_lut reads is there (a table's descriptor,
    and its data, plain or segmented, for each colour): without it a palette image was 'DICOM pixel data could not
    be decoded', of pixels that were whole."""
    return all(f"{c}PaletteColorLookupTableDescriptor" in ds and (f"{c}PaletteColorLookupTableData" in ds
                                                                   or f"Segmented{c}PaletteColorLookupTableData" in ds)
               for c in ("Red", "Green", "Blue"))
