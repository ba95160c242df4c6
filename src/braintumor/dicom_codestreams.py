"""DICOM pixel data checked against its header before any decoder sees it: native data's length
(:func:`native_length_problem`) and compressed data's codestreams (:func:`codestream_problem`).

Why its own module: GDCM, the only JPEG-LS decoder here and one pydicom tries for JPEG (after Pillow) and JPEG 2000,
aborts the whole process when a header and its pixel data disagree in ways a damaged or crafted file easily does: a
C++ exception nothing catches, not a Python error, so a web worker dies with its request and a CLI batch with every
file after it. Each such disagreement found is refused here, before decoding, as that file's error. Messages quote
numbers, never the header's text.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

from pydicom.dataset import Dataset
from pydicom.encaps import generate_fragmented_frames
from pydicom.uid import (
    UID,
    JPEG2000TransferSyntaxes,
    JPEGBaseline8Bit,
    JPEGExtended12Bit,
    JPEGLSTransferSyntaxes,
    JPEGTransferSyntaxes,
)

from .image_headers import jpeg_frame, jpeg_frame_of
from .j2k_markers import j2k_header_problem
from .jpeg_markers import SOI, jpeg_header_problem, jpeg_scans
from .wording import counted, size_text

#: Samples per pixel of each photometric interpretation, as GDCM counts them when it checks a JPEG 2000 codestream.
PI_SAMPLES: dict[str, int] = {
    "MONOCHROME1": 1, "MONOCHROME2": 1, "PALETTE COLOR": 1, "RGB": 3, "HSV": 3, "YBR_FULL": 3, "YBR_FULL_422": 3,
    "YBR_PARTIAL_422": 3, "YBR_PARTIAL_420": 3, "YBR_ICT": 3, "YBR_RCT": 3, "ARGB": 4, "CMYK": 4,
}


#: Most JPEG scans (SOS markers) a frame may hold. DICOM's JPEG processes are sequential: one scan per component, or
#: one for all; a progressive stream (not DICOM's, but decoded) has ten or so. libjpeg passes over the whole image for
#: each scan, empty ones too: 5 000 of them (90 kB) took 6.4 s on a 2048 x 2048 slice.
MAX_JPEG_SCANS: int = 100


def codestream_problem(ds: Dataset, ts: UID, frames: int = 1) -> str | None:
    """Why ``ds``'s compressed pixel data must not be decoded, or None. GDCM aborted on each of these:
    JPEG with 1 or 32 bits allocated, or fewer than 8 stored in 8; JPEG 2000 with another number of components than
    the header's samples per pixel or photometric interpretation; JPEG-LS of another size or number of components
    than the header's. And JPEG or JPEG 2000 of another size than the header's, which no decoder reads (a damaged
    SIZ or SOF), and JPEG of more scans than :data:`MAX_JPEG_SCANS` a frame, which would take minutes."""
    if ts in JPEGTransferSyntaxes:
        allocated, stored = int(ds.get("BitsAllocated") or 0), int(ds.get("BitsStored") or 0)
        if allocated not in (8, 16) or (allocated == 8 and stored != 8):
            return (f"DICOM JPEG pixel data with {allocated} bits allocated and {stored} stored is not decoded (JPEG "
                    "DICOM has 8 or 16 bits allocated, and 8 stored in 8)")
        if (k := _frame_without_soi(ds, frames)) is not None:
            return (f"DICOM JPEG pixel data is damaged (frame {k}): it does not start with JPEG's SOI marker; not "
                    "decoded")
        size = int(ds.get("Columns") or 0), int(ds.get("Rows") or 0)
        for fragment in fragments(ds):  # a frame's first fragment starts with its SOI; others give None
            found = jpeg_frame(fragment)
            if found is not None and found[1:3] != size:  # GDCM and Pillow fail on it; said, as JPEG-LS's is
                return (f"DICOM JPEG pixel data is {size_text(*found[1:3])} pixels where its header says "
                        f"{size_text(*size)}: damaged, not decoded")
        for fragment in fragments(ds):
            if problem := jpeg_header_problem(fragment):
                return problem
        # SOS markers: entropy-coded data never holds FF DA (an FF there is followed by 00 or a restart marker)
        scans = sum(bytes(fragment).count(b"\xff\xda") for fragment in fragments(ds))
        if scans > MAX_JPEG_SCANS * frames:
            return (f"DICOM JPEG pixel data holds {scans:,} scans for {counted(frames, 'frame')}: over "
                    f"{MAX_JPEG_SCANS} a frame (a sequential JPEG has one per component), not decoded")
    elif ts in JPEG2000TransferSyntaxes:
        samples = int(ds.get("SamplesPerPixel") or 0)
        implied = PI_SAMPLES.get(str(ds.get("PhotometricInterpretation", "")).strip().upper())
        size = int(ds.get("Columns") or 0), int(ds.get("Rows") or 0)
        for fragment in fragments(ds):
            siz = j2k_size(fragment)
            if siz is None:
                continue
            if siz[:2] != size:  # OpenJPEG tiled, and Pillow refused, trillions of pixels for a header's thousands
                return (f"DICOM JPEG 2000 pixel data is {size_text(*siz[:2])} pixels where its header says "
                        f"{size_text(*size)}: damaged, not decoded")
            if not siz[2] == samples == implied:
                said = f"{implied} by its photometric interpretation" if implied else "an unknown photometric one"
                return (f"DICOM JPEG 2000 pixel data has {counted(siz[2], 'component')} where its header says "
                        f"{counted(samples, 'sample')} per pixel ({said}): not decoded")
        for k, stream in enumerate(_j2k_frames(ds)):  # OpenJPEG prints what it finds wrong in these on stderr
            if problem := j2k_header_problem(stream):
                return f"DICOM JPEG 2000 pixel data is damaged (frame {k + 1}): {problem}; not decoded"
    elif ts in JPEGLSTransferSyntaxes:
        if (k := _frame_without_soi(ds, frames)) is not None:  # CharLS says nothing, but failed as "damaged, or a
            return (f"DICOM JPEG-LS pixel data is damaged (frame {k}): it does not start with JPEG-LS's SOI marker; "
                    "not decoded")  # variant it does not read", where the JPEG processes are refused by name
        said = int(ds.get("Columns") or 0), int(ds.get("Rows") or 0), int(ds.get("SamplesPerPixel") or 0)
        for fragment in fragments(ds):
            found = jpeg_ls_frame(fragment)
            if found is not None and found != said:
                return (f"DICOM JPEG-LS pixel data is {size_text(*found[:2])} pixels of "
                        f"{counted(found[2], 'component')} where its header says {size_text(*said[:2])} of "
                        f"{said[2]}: not decoded")
    return None


def _native_layout(ds: Dataset) -> tuple[str, float, int] | None:
    """Uncompressed pixel data's element keyword, bytes a frame needs (1-bit frames are packed without padding between
    them: a fraction of a byte) and bytes held; None without a Bits Allocated (pydicom's to refuse), or for compressed
    (encapsulated) data."""
    meta = getattr(ds, "file_meta", None)
    syntax = meta.get("TransferSyntaxUID") if meta is not None else None
    if syntax and UID(str(syntax)).is_encapsulated:  # fragments: their length says nothing of frames or rows
        return None
    keyword = next((k for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData") if k in ds), None)
    rows, cols = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
    bits, samples = ds.get("BitsAllocated"), ds.get("SamplesPerPixel", 1)
    if keyword is None or not isinstance(bits, int) or not isinstance(samples, int):
        return None  # invalid values were refused before
    frame_bytes = rows * cols * samples * bits / 8
    if _ybr_422(ds) and bits > 1:  # two of every pixel pair's chroma samples shared (PS3.3 C.7.6.3.1.2)
        frame_bytes = frame_bytes // 3 * 2
    return keyword, frame_bytes, len(ds.get(keyword) or b"")


def _ybr_422(ds: Dataset) -> bool:
    return str(ds.get("PhotometricInterpretation", "")).strip().upper() == "YBR_FULL_422"


def native_length_problem(ds: Dataset, frames: int) -> str | None:
    """Why uncompressed pixel data cannot hold the pixels its header describes, or None: fewer bytes than Rows x
    Columns x frames x samples x Bits Allocated need (pydicom's refusal came out as 'corrupt or truncated
    (ValueError)'), or YBR_FULL_422 data a third longer (stored as full YBR or RGB). More bytes than needed are read
    as before: an odd length's padding byte is the standard's, and other excess padding is ignored (PS3.5 8.1.1)."""
    if (layout := _native_layout(ds)) is None:
        return None
    _, frame_bytes, held = layout
    need = math.ceil(frame_bytes * frames)
    samples, bits = ds.get("SamplesPerPixel", 1), ds.BitsAllocated
    said = (f"Rows {ds.Rows} x Columns {ds.Columns} x {counted(frames, 'frame')}"
            + (f" x {samples} samples" if samples > 1 else "") + f" at {counted(bits, 'bit')}"
            + (" (YBR_FULL_422)" if _ybr_422(ds) else ""))
    if held < need:
        return (f"DICOM pixel data holds {held:,} bytes but {said} need {need:,}: {need - held:,} bytes short "
                "(truncated, or the header's image size is wrong)")
    full = math.ceil(frame_bytes * 3 / 2 * frames)
    if _ybr_422(ds) and bits > 1 and held >= full + full % 2:
        return (f"DICOM pixel data holds {held:,} bytes but {said} need {need:,}: a third more, as full YBR or RGB "
                "data (the header's Photometric Interpretation is wrong)")
    return None


def excess_frames(ds: Dataset, frames: int) -> int:
    """How many whole frames uncompressed pixel data holds beyond the ``frames`` its header declares (Number of Frames
    absent or too small, or Rows or Columns too small): pydicom decodes them too, and one declared frame came out as
    a strip of as many pixel rows as frames. Only the declared frames are read (:mod:`braintumor.dicom_io`)."""
    layout = _native_layout(ds)
    if layout is None or layout[1] <= 0:
        return 0
    return max(0, int(layout[2] // layout[1]) - frames)


def excess_rows(ds: Dataset, frames: int) -> int:
    """How many whole pixel rows uncompressed pixel data holds past its declared frames and any whole surplus frames
    (:func:`excess_frames`), an odd length's padding byte aside: a Rows or Columns too small, which pydicom reads as a
    crop or a sheared picture with no word (padding short of a row is not counted)."""
    layout = _native_layout(ds)
    rows = int(ds.get("Rows") or 0)
    if layout is None or layout[1] <= 0 or rows < 1:
        return 0
    _, frame_bytes, held = layout
    need = math.ceil(frame_bytes * frames)
    beyond = (held - need - need % 2) % frame_bytes if held > need + need % 2 else 0
    return int(beyond // (frame_bytes / rows))


def fragments(ds: Dataset) -> Iterator[memoryview]:
    """The fragments of encapsulated Pixel Data after its offset table, without copying them; stops where the items
    end or go wrong (the decoder reports that)."""
    data = memoryview(ds.get("PixelData") or b"")
    return (data[start:end] for start, end in fragment_spans(data))


def _frame_without_soi(ds: Dataset, frames: int) -> int | None:
    """The number (from 1) of the first frame whose data, as pydicom splits the fragments into frames, does not start
    with the SOI marker every JPEG and JPEG-LS stream starts with (:data:`~braintumor.jpeg_markers.SOI`), or None. Why
    before decoding: given such a frame, GDCM's libjpeg writes "Not a JPEG file: starts with 0x6e 0x6f" on the
    process's stderr, the frame's first two bytes in the web server's log. Fragments pydicom cannot split into frames
    are left to the decoder, which reports them."""
    extended = (ds.get("ExtendedOffsetTable"), ds.get("ExtendedOffsetTableLengths"))
    try:
        split = generate_fragmented_frames(ds.get("PixelData") or b"", number_of_frames=frames,
                                           extended_offsets=extended if all(extended) else None)
        for k, frame in enumerate(split):
            if k == frames:
                break
            if b"".join(fragment[:2] for fragment in frame[:2])[:2] != SOI:  # (its fragments may be of 1 byte)
                return k + 1
    except Exception:  # pydicom raises several types for items it cannot split; never quoted
        return None
    return None


def _j2k_frames(ds: Dataset) -> Iterator[bytes]:
    """Each JPEG 2000 frame's codestream, its fragments joined: a frame starts at a fragment that starts with SOC and
    SIZ, and runs on through the fragments that do not."""
    frame: list[bytes] = []
    for fragment in fragments(ds):
        if bytes(fragment[:4]) == b"\xff\x4f\xff\x51" and frame:
            yield b"".join(frame)
            frame = []
        frame.append(bytes(fragment))
    if frame:
        yield b"".join(frame)


def fragment_spans(data: memoryview) -> Iterator[tuple[int, int]]:
    """Where each fragment of :func:`fragments` starts and ends in the Pixel Data's bytes."""
    at, first = 0, True
    while at + 8 <= len(data) and bytes(data[at:at + 4]) == b"\xfe\xff\x00\xe0":  # an item, (FFFE,E000)
        length = int.from_bytes(data[at + 4:at + 8], "little")
        if not first:
            yield at + 8, min(at + 8 + length, len(data))
        at, first = at + 8 + length, False


#: A sequential DCT scan header's spectral selection start and end, and successive approximation (Ss 0, Se 63, Ah
#: and Al 0): the only values ITU T.81 allows there (B.2.3).
SEQUENTIAL_SCAN = b"\x00\x3f\x00"


def sequential_scans(ds: Dataset, ts: UID) -> None:
    """Each scan header of a baseline or extended (sequential DCT: SOF0, SOF1) JPEG frame in ``ds``'s Pixel Data set
    to :data:`SEQUENTIAL_SCAN` where it says otherwise, before any decoder reads it.

    Why: GDCM's libjpeg (12-bit JPEG's decoder, and Pillow's fallback) writes "Invalid SOS parameters for sequential
    JPEG" straight to the process's stderr for such a scan (pydicom's JPEG-lossy.dcm says Se 0), where a Python caller's
    process keeps it (:func:`braintumor.quiet_libraries.quiet_decoders`), and a threaded web server's log got it for
    each upload until 2026-12-07. It is a warning only: a sequential decoder reads these bytes for nothing else
    (libjpeg's, Pillow's), so the pixels are the same. Lossless (SOF3) scans, whose Ss is the predictor, are left
    alone."""
    if ts not in (JPEGBaseline8Bit, JPEGExtended12Bit):
        return
    data = memoryview(ds.get("PixelData") or b"")
    fixed: bytearray | None = None
    for start, end in fragment_spans(data):
        frame = jpeg_frame_of(data[start:end])
        if frame is None or frame[0] not in (0xC0, 0xC1):  # a frame's first fragment starts with its SOI and SOF
            continue
        for at in jpeg_scans(data[start:end], frame[4] - 1) or ():  # a component's scan each at most
            at += start
            tail = at + 5 + 2 * data[at + 4] if at + 5 <= end else end  # FF DA, length, Ns, its Ns selectors
            if tail + 3 <= end and bytes(data[tail:tail + 3]) != SEQUENTIAL_SCAN:
                fixed = bytearray(data) if fixed is None else fixed
                fixed[tail:tail + 3] = SEQUENTIAL_SCAN
    if fixed is not None:
        ds["PixelData"].value = bytes(fixed)


def j2k_size(data: memoryview | bytes) -> tuple[int, int, int] | None:
    """(width, height, components) from the SIZ segment of a JPEG 2000 codestream (bare, or in a JP2 file's jp2c box)
    starting ``data``: Xsiz - XOsiz, Ysiz - YOsiz and Csiz; else None."""
    at = 0
    if bytes(data[:8]) == b"\x00\x00\x00\x0cjP  ":  # a JP2 file: find its codestream box
        while at + 8 <= len(data):
            length, box = int.from_bytes(data[at:at + 4], "big"), bytes(data[at + 4:at + 8])
            if box == b"jp2c":
                at += 8
                break
            if length == 1 and at + 16 <= len(data):  # a 64-bit length
                length = int.from_bytes(data[at + 8:at + 16], "big")
            if length < 8:
                return None
            at += length
    if bytes(data[at:at + 4]) != b"\xff\x4f\xff\x51" or len(data) < at + 42:  # SOC, then SIZ
        return None
    x, y, x0, y0 = (int.from_bytes(data[at + k:at + k + 4], "big") for k in (8, 12, 16, 20))
    return x - x0, y - y0, int.from_bytes(data[at + 40:at + 42], "big")


def jpeg_ls_frame(data: memoryview | bytes) -> tuple[int, int, int] | None:
    """(width, height, components) from the JPEG-LS frame header (SOF55) of the stream starting ``data``, else None."""
    found = jpeg_frame(data, (0xF7,))
    return found[1:] if found else None

