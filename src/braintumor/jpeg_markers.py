"""A JPEG frame's header segments, and the markers in its coded data, walked before any decoder reads them: a damaged
header, or a marker no decoder reads there, is refused by name.

Why its own module: GDCM's libjpeg, pydicom's JPEG decoder after Pillow, writes what it finds wrong in a header to the
process's stderr, where the web server's threaded workers could not silence it until 2026-12-07 and a Python caller's
process does not (:mod:`braintumor.quiet_libraries` says why), and a header both with stray bytes between its segments
and missing a table it needs made GDCM throw a C++ exception that nothing catches, aborting the whole process. Damage
inside a scan's coded data ("Corrupt JPEG data: bad Huffman code", "premature end of data segment") is found only by
decoding it, and stays the decoder's to find and print, but for a marker there that no decoder here reads anywhere past
a frame's header (:data:`NEVER_IN_SCANS`): libjpeg (GDCM's, Pillow's libjpeg-turbo) stops the scan at it, warns, and
then fails ("Unsupported marker type 0x1f"), so the frame is refused by name instead. Each strip of a JPEG-compressed
TIFF is walked alike (:mod:`braintumor.tiff_strips`): libtiff's libjpeg prints the same lines. Where a JPEG's scans
start is found here too (:func:`jpeg_scans`).
"""

from __future__ import annotations

import re

from .image_headers import JPEG_MARKERS_WITHOUT_LENGTH, JPEG_SOF_MARKERS, MAX_JPEG_SEGMENTS
from .wording import counted

#: The start-of-image marker every JPEG (and JPEG-LS) stream starts with. A fragment that is no frame's first does not:
#: :func:`braintumor.dicom_codestreams.codestream_problem` checks each frame's start, where pydicom splits frames.
SOI: bytes = b"\xff\xd8"
#: JPEG's DCT frames (baseline, extended, progressive; Huffman or arithmetic coded): their samples need
#: quantization tables.
_DCT_FRAMES = frozenset({0xC0, 0xC1, 0xC2, 0xC5, 0xC6, 0xC9, 0xCA, 0xCD, 0xCE})
_NEXT_MARKER = re.compile(rb"\xff+[^\x00\xff]")  # where libjpeg, skipping bytes that are no marker, finds the next
#: Markers that end a scan's coded data: not a stuffed FF 00, a restart marker (RST0 to RST7) or TEM.
_SCAN_END = re.compile(rb"\xff[^\x00\xff\x01\xd0-\xd7]")  # (fill bytes, FF, before a marker: its last FF found)
#: Reserved marker codes: libjpeg skips them while it looks for a restart marker (a frame with restart intervals).
_RESERVED = frozenset(range(0x02, 0xC0))
#: Markers no decoder here reads after a frame's first scan header: reserved codes, a second SOF or SOI, JPG (0xC8),
#: hierarchical JPEG's DHP and EXP, and the JPGn extensions. Each made GDCM's libjpeg and libjpeg-turbo both fail.
NEVER_IN_SCANS: frozenset[int] = (_RESERVED | (frozenset(range(0xC0, 0xD0)) - {0xC4, 0xCC}) | {0xD8, 0xDE, 0xDF}
                                  | frozenset(range(0xF0, 0xFE)))


def jpeg_header_problem(data: memoryview | bytes, what: str = "DICOM JPEG pixel data", image: bool = True,
                        ) -> str | None:
    """Why a JPEG frame's header (its segments before the first scan) is damaged, or None (also for a fragment that
    is no frame's first): bytes between its segments that are no marker, which libjpeg skips with a word on stderr
    ("Corrupt JPEG data: 69 extraneous bytes before marker 0xc0"), or a quantization table its DCT components use
    that no DQT segment defines, which no decoder reads; a JFIF header of another version than 1, which libjpeg
    warns of; or a frame of a precision that no decoder here reads (GDCM's libjpeg: 8, 12 or 16 bits for DCT, 2 to
    16 lossless). GDCM, given a header libjpeg warns of (stray bytes, a JFIF version of 233), threw a C++ exception
    nothing catches, and given a frame of 17 bits or more crashed (a segmentation fault): the process died, a web
    worker with its request. An end marker (EOI) before the first scan, after which libjpeg reads nothing ("JPEG
    datastream contains no image", printed by GDCM), unless the stream holds tables only (``image`` False: a TIFF's
    JPEGTables). Past the header, a marker of :data:`NEVER_IN_SCANS` (:func:`_scans_problem`). ``what`` starts each
    message: what the stream is (a TIFF strip's JPEG data, :mod:`braintumor.tiff_strips`)."""
    data = bytes(data)
    if not data.startswith(SOI):
        return None
    at, defined, frame, framed, restarts = 2, set(), None, False, False
    for _ in range(MAX_JPEG_SEGMENTS):
        if at + 4 > len(data) and data[at:at + 2] != b"\xff\xd9":  # (an EOI may end it)
            return None
        if data[at] != 0xFF or data[at + 1] in (0x00, 0xFF):  # where libjpeg skips to the next marker
            found = _NEXT_MARKER.search(data, at)
            if found is None:
                return None
            stray = found.start() - at  # (fill bytes, FF, before a marker are no stray bytes)
            if stray:
                return (f"{what} has {counted(stray, 'stray byte')} before its 0x{found[0][-1]:02x} "
                        "marker, where a header segment is due: damaged, not decoded")
            at = found.end() - 2
        marker, length = data[at + 1], int.from_bytes(data[at + 2:at + 4], "big")
        if marker == 0xD9:  # EOI: nothing after it is read, the bytes after it no length
            return (f"{what} ends (an EOI marker) before its {'first scan' if framed else 'frame header'}: "
                    "damaged, not decoded") if image else None
        if marker in JPEG_MARKERS_WITHOUT_LENGTH:
            at += 2
            continue
        if marker == 0xE0 and data[at + 4:at + 9] == b"JFIF\0" and at + 9 < len(data) and data[at + 9] != 1:
            return (f"{what}'s JFIF header says version {data[at + 9]} (JFIF is version 1): damaged, "
                    "not decoded")
        restarts = _restarts(data, at, restarts)
        if marker == 0xDB:  # tables of 1 + 64 or 1 + 128 bytes, each its precision and number first
            k = at + 4
            while k < min(at + 2 + length, len(data)):
                defined.add(data[k] & 0x0F)
                k += 1 + 64 * (2 if data[k] >> 4 else 1)
        elif marker in JPEG_SOF_MARKERS:
            bits, dct = (data[at + 4] if at + 4 < len(data) else 8), marker in _DCT_FRAMES
            if bits not in ((8, 12, 16) if dct else range(2, 17)):  # GDCM crashed on 17 bits and more
                return (f"{what}'s {'DCT' if dct else 'lossless'} frame (SOF{marker - 0xC0}) declares "
                        f"{bits}-bit samples (it may have {'8, 12 or 16' if dct else '2 to 16'}): damaged, not "
                        "decoded")
            frame, framed = (at if dct else None), True
        elif marker == 0xDA:
            components = data[frame + 9] if frame is not None and frame + 10 <= len(data) else 0
            used = {data[frame + 12 + 3 * c] for c in range(components) if frame + 12 + 3 * c < len(data)}
            if missing := sorted(used - defined):
                return (f"{what} uses quantization table {missing[0]}, which it does not define: "
                        "damaged, not decoded")
            return _scans_problem(data, at, restarts, what)
        at += 2 + length
    return None


def jpeg_tables_end(tables: bytes) -> int | None:
    """Where libjpeg stops reading a TIFF's JPEGTables (tables only: SOI, DQT and DHT segments, EOI): at its EOI
    marker, found by walking the segments, as libtiff's libjpeg reads them, not by its last two bytes. A tag whose
    count runs past the EOI (padded) is read by libtiff as one that ends there, so a strip's data is joined to the
    tables before it, not after the padding. Tables with no EOI whose segments end where the tag does are read whole
    (libtiff gives libjpeg an EOI at their end): their length. None where the walk finds neither: a segment cut short,
    bytes that are no marker."""
    at = 2
    for _ in range(MAX_JPEG_SEGMENTS):
        if at + 2 > len(tables) or tables[at] != 0xFF:
            return at if at == len(tables) else None
        marker = tables[at + 1]
        if marker == 0xD9:
            return at
        at += (1 if marker == 0xFF else 2 if marker in JPEG_MARKERS_WITHOUT_LENGTH  # (FF: a fill byte)
               else 2 + int.from_bytes(tables[at + 2:at + 4], "big"))
    return None


def _restarts(data: bytes, at: int, restarts: bool) -> bool:
    """Whether restart intervals hold after the segment at ``at``: a DRI segment's interval (0 turns them off), else
    ``restarts`` as it was. A DRI may come in the header or between scans, and both walks read it so."""
    if data[at + 1] == 0xDD and at + 6 <= len(data):
        return int.from_bytes(data[at + 4:at + 6], "big") != 0
    return restarts


def _scans_problem(data: bytes, at: int, restarts: bool, what: str) -> str | None:
    """A marker of :data:`NEVER_IN_SCANS` after the first scan header (at ``at``), found as libjpeg finds markers
    there: the coded data runs to the first marker that is no restart marker, and table and other segments between
    scans are skipped by their lengths; None at the end marker (EOI), after which decoders read nothing. With restart
    intervals (``restarts``), libjpeg passes over reserved codes while it looks for a restart marker: only the others
    are refused then."""
    for _ in range(MAX_JPEG_SEGMENTS):
        if at + 4 > len(data):
            return None
        skip = 2 if data[at + 1] in _RESERVED else 2 + int.from_bytes(data[at + 2:at + 4], "big")
        restarts = _restarts(data, at, restarts)
        found = _SCAN_END.search(data, at + skip)  # past this segment: a scan's coded data, or nothing
        if found is None or found[0][-1] == 0xD9:
            return None
        at, marker = found.end() - 2, found[0][-1]
        if marker in NEVER_IN_SCANS and not (restarts and marker in _RESERVED):
            return (f"{what} holds a 0x{marker:02x} marker inside its coded data, where no decoder "
                    "here reads one: damaged, not decoded")
    return None


#: A marker inside entropy-coded data: 0xFF followed by neither a stuffed 0x00, a restart marker nor a fill byte.
_JPEG_NEXT_MARKER = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def jpeg_scans(data: bytes | memoryview, most: int) -> list[int] | None:
    """Where the scans (start-of-scan segments: their FF DA) of a JPEG's first image start, up to ``most + 1`` of
    them; None past :data:`MAX_JPEG_SEGMENTS` segments. Counted to refuse a file of too many (image_io), and found to
    set a sequential scan's header right (dicom_codestreams).

    Why walk the segments instead of counting FF DA bytes: an APP segment (an EXIF thumbnail is a whole JPEG)
    or a comment may hold those bytes, and so may a phone's extra images after the end marker; none of
    them is decoded, so none may cost the image a refusal."""
    i, n, scans, steps = 2, len(data), [], 0
    while i + 4 <= n:
        steps += 1
        if steps > MAX_JPEG_SEGMENTS:
            return None
        marker = data[i + 1] if data[i] == 0xFF and data[i + 1] else None  # libjpeg skips FF 00 as garbage
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker == 0xD9:  # end of image: what follows is not decoded
            break
        if marker in JPEG_MARKERS_WITHOUT_LENGTH:
            i += 2
            continue
        if marker is not None:
            if marker == 0xDA:
                scans.append(i)
                if len(scans) > most:  # (its entropy-coded data not searched through)
                    break
            i += 2 + int.from_bytes(data[i + 2:i + 4], "big")
            if marker != 0xDA:
                continue
        # entropy-coded data after a scan header (or a damaged file) may hold FF 00: go to the next real marker
        found = _JPEG_NEXT_MARKER.search(data, i)
        if found is None:
            break
        i = found.start()
    return scans
