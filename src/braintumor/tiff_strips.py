"""A compressed TIFF's strips (or tiles) checked before libtiff decodes them, and a damaged one refused by name:
each strip sized from the TIFF's layout, a deflate one inflated in Python here, a PackBits one's runs counted here,
an LZW one's codes checked by :mod:`braintumor.tiff_lzw`.

Why: libtiff, Pillow's decoder of a compressed TIFF, writes what it finds wrong in a deflate stream ("ZIPDecode:
Decoding error at scanline 0, invalid block type.", "ZIPDecode: Not enough data at scanline 0 (short 1096 bytes).") to
the process's stderr, through the error handler Pillow leaves set: the CLI and serve's workers unset it
(:func:`braintumor.decoder_stderr.silence_libtiff_errors`), a Python caller's process prints it, and so did the threaded
web workers' log for each such upload until 2026-12-07. Python's zlib reads the same stream and raises what libtiff
would have printed, so the file is refused here, its message saying which strip and why, and libtiff never reads it.
Each strip is inflated no further than the bytes its rows need, a MiB at a time, as libtiff inflates it; a PackBits
strip's runs are counted as libtiff reads them ("PackBitsDecode: Not enough data for scanline 30." when they end short).
A RowsPerStrip that does not match the strips (or offsets and byte counts not as many) is read as libtiff reads it: the
first of more strips, those missing empty ("TIFFFillStrip: Invalid strip byte count 0, strip 4."). A JPEG-compressed
TIFF's strips are walked as a DICOM JPEG frame is (:mod:`braintumor.jpeg_markers`: an SOI marker first, a scan, a header
whose damage can be told, no marker inside coded data that no decoder reads). What is not checked here (other damage to
a JPEG strip's header, an LZW strip past :data:`braintumor.tiff_lzw.MAX_RUNS`, YCbCr subsampled, overlapping strips past
the file's length: :func:`_length`) libtiff may still print of, where its error handler is still set
(:func:`libtiff_lines_dropped`).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import re
import zlib
from collections.abc import Callable, Mapping
from typing import Any

from PIL import Image

from .decoder_stderr import libtiff_errors_silent
from .quiet_libraries import quiet_decoders
from .tiff_lzw import lzw_checker
from .tiff_planes import tag_numbers
from .wording import in_number

#: TIFF's two codes for deflate (Adobe's, and the older one).
DEFLATE: tuple[int, int] = (8, 32946)
#: TIFF's code for LZW.
LZW: int = 5
#: TIFF's code for PackBits.
PACKBITS: int = 32773
#: TIFF's code for JPEG (the "new-style" JPEG-in-TIFF, each strip or tile a JPEG stream, tables in JPEGTables).
JPEG: int = 7
#: Most markers of a JPEG strip checked, and most strips: a strip of more markers (an intact one has a few: SOI, SOF,
#: SOS, EOI, its tables), and the strips past these, are left to libtiff unchecked. Each marker is a Python step of the
#: walk: at most about a tenth of a second for a crafted file of many strips and segments (it cost seconds), where a
#: 2048 x 2048 slice of 256 strips takes 8 ms.
MAX_JPEG_MARKERS, MAX_JPEG_STRIPS = 32, 1024
_MARKER = re.compile(rb"\xff[^\x00\xff\xd0-\xd7]")
#: Most PackBits runs read for one image: past them its strips are left to libtiff unchecked. A 512 x 512 slice has a
#: few thousand (a run is up to 128 bytes, about 2 ms); 1 M runs of a crafted strip take about a third of a second.
MAX_PACKBITS_RUNS = 1 << 20
#: A PackBits run's bytes, and the bytes it makes, by its first byte n: n + 1 bytes as they are (n < 128), none (128),
#: the next byte 257 - n times (n > 128).
_RUN_BYTES = [n + 2 for n in range(128)] + [1] + [2] * 127
_RUN_MAKES = [n + 1 for n in range(128)] + [0] + [257 - n for n in range(129, 256)]
_STEP = 1 << 20  # bytes inflated at a time: a strip's whole image is never held
#: Each byte with its bits in reverse order: a strip of FillOrder 2 (least significant bit first), as libtiff reverses
#: it before a deflate, LZW or PackBits decoder reads it (not a JPEG one's: libjpeg reads the bytes as they are).
_REVERSED = bytes(int(f"{b:08b}"[::-1], 2) for b in range(256))


def libtiff_lines_dropped(img: Image.Image) -> contextlib.AbstractContextManager[None]:
    """:func:`braintumor.quiet_libraries.quiet_decoders` around decoding a TIFF's pixels where libtiff's error handler
    could not be unset (:func:`braintumor.decoder_stderr.silence_libtiff_errors`), nothing where it was, or for another
    format (a JPEG or a PNG pays nothing): what the checks here do not foresee, libtiff prints as it decodes
    ("tempfile.tif: Using code not yet in table." past the LZW check's limit, a JPEG-in-TIFF's "JPEGLib: Invalid
    component ID 82 in SOS."), beside the file's one line, where the process did not silence it (a Python caller)."""
    return quiet_decoders() if img.format == "TIFF" and not libtiff_errors_silent() else contextlib.nullcontext()


def damaged_strips(img: Image.Image) -> str | None:
    """Why a deflate, LZW, PackBits or JPEG TIFF's strip or tile would make libtiff fail (and print), or None: a deflate
    stream that does not inflate (zlib's reason quoted: "invalid block type", "incorrect data check"), or inflates to
    fewer bytes than its rows need; LZW codes that end short, run out, or name an entry not yet made
    (:mod:`braintumor.tiff_lzw`); PackBits runs that end short; fewer strips (offsets or byte counts) than its size and
    RowsPerStrip make. None too for a TIFF of another compression, or whose layout is not plain enough to size each
    strip (YCbCr subsampled): libtiff reads those as before."""
    tags = getattr(img, "tag_v2", None) if img.format == "TIFF" else None
    fp = getattr(img, "fp", None)
    if tags is not None and fp is not None and tags.get(259) == JPEG:
        return _jpeg_problem(tags, fp)
    if tags is None or fp is None or tags.get(259) not in (*DEFLATE, LZW, PACKBITS):
        return None
    check, name = {LZW: (lzw_checker(), "LZW"), PACKBITS: (_packbits_checker(), "PackBits")}.get(
        tags.get(259), (_inflate_problem, "deflate"))
    layout = _layout(tags)
    if layout is None:
        return None
    kind, spans, needs, count, (places, counts) = layout
    if len(spans) < count:  # libtiff: "TIFFFillStrip: Invalid strip byte count 0, strip 4."
        planes = f" in {tags.get(277)} planes" if tags.get(284) == 2 and tags.get(277, 1) > 1 else ""
        made = (f"its height ({tags.get(257):,} rows) and RowsPerStrip ({tags.get(278, 'none')}){planes}"
                if kind == "strip" else f"its size and tile size{planes}")
        has = (f"{places:,} {in_number(places, kind)}" if places == counts else  # "1 strip", not "1 strips"
               f"{places:,} {in_number(places, kind + ' offset')} and {counts:,} {in_number(counts, 'byte count')}")
        return f"TIFF is damaged: it has {has} where {made} make {count:,}"
    at, reverse = fp.tell(), tags.get(266) == 2  # FillOrder 2: valid ones were refused as damaged ("incorrect header")
    try:
        left = _length(fp)
        for k, ((offset, size), need) in enumerate(zip(spans, needs, strict=False)):  # more: libtiff reads the first
            if (left := left - size) < 0:  # strips that overlap, each read again: past the file's bytes, libtiff's
                return None
            fp.seek(offset)
            raw = fp.read(size)
            if problem := check(raw.translate(_REVERSED) if reverse else raw, need):
                return f"TIFF {kind} {k + 1:,} of {len(spans):,} is damaged: its {name} data {problem}"
    finally:
        fp.seek(at)
    return None


def _jpeg_problem(tags: Mapping[int, Any], fp: Any) -> str | None:
    """Why a JPEG-compressed TIFF's strip or tile would make libjpeg, inside libtiff, fail (and print), as
    :func:`braintumor.jpeg_markers.jpeg_header_problem` finds a DICOM JPEG frame's: no SOI marker first ("JPEGLib: Not a
    JPEG file: starts with 0x00 0x00."), no scan ("missing SOS marker"), a damaged header, or a marker no decoder reads
    inside its coded data ("JPEGLib: Unsupported marker type 0x5a.", after which the strip's last rows were read wrong,
    unsaid). Each is read as libjpeg reads it: after the tables of JPEGTables, themselves checked first. Damage the
    decoding alone finds stays libtiff's (and libjpeg warns of bad Huffman codes without a word from Pillow)."""
    # (jpeg_markers's import of image_headers imports image_io, and this)
    from .jpeg_markers import SOI, jpeg_header_problem, jpeg_tables_end

    kind, tiled = ("tile", True) if 324 in tags else ("strip", False)
    offsets, sizes = (tag_numbers(tags.get(t, ())) for t in ((324, 325) if tiled else (273, 279)))
    tables = tags.get(347)
    tables = bytes(tables) if isinstance(tables, (bytes, bytearray)) and tables[:2] == SOI else b""
    if tables and (problem := jpeg_header_problem(tables, "TIFF's JPEG tables (JPEGTables)", image=False)):
        return problem
    end = jpeg_tables_end(tables) if tables else None  # (a tag's count may run past its EOI: libtiff reads to it)
    at = fp.tell()
    try:
        left = _length(fp)
        for k, (offset, size) in enumerate(zip(offsets[:MAX_JPEG_STRIPS], sizes, strict=False)):
            if (left := left - int(size)) < 0:  # overlapping strips: as in damaged_strips
                return None
            fp.seek(int(offset))
            raw, what = fp.read(int(size)), f"TIFF {kind} {k + 1:,} of {len(offsets):,}'s JPEG data"
            if raw[:2] != SOI:
                return f"{what} does not start with JPEG's SOI marker: damaged, not decoded"
            if next(itertools.islice(_MARKER.finditer(raw), MAX_JPEG_MARKERS, None), None) is not None:
                continue
            stream = tables[:end] + raw[2:] if end is not None else raw  # as libjpeg reads the two
            if b"\xff\xda" not in stream:  # libjpeg: "Invalid JPEG file structure: missing SOS marker."
                return f"{what} has no scan (no SOS marker): damaged, not decoded"
            if problem := jpeg_header_problem(stream, what):
                return problem
    finally:
        fp.seek(at)
    return None


def _length(fp: Any) -> int:
    """The file's length in bytes, which a TIFF's strips, never overlapping, add up to no more than: a check reads
    no more. A 10 MB file of 1024 strips, each the whole of one JPEG stream, had it walk 10 GB (10 s of a web worker,
    where libtiff refuses the file at once); 2000 PackBits strips of one 10 MB run, 20 GB."""
    fp.seek(0, 2)
    return fp.tell()


def _inflate_problem(raw: bytes, need: int) -> str | None:
    """What is wrong with one strip's deflate stream ``raw`` whose rows need ``need`` bytes, or None."""
    stream, got, rest = zlib.decompressobj(), 0, raw
    try:
        while got < need:
            chunk = stream.decompress(rest, min(need - got, _STEP))
            got, rest = got + len(chunk), stream.unconsumed_tail
            if not chunk:  # (zlib checks a stream's Adler-32 in the call that inflates its last byte, as libtiff's)
                break
    except zlib.error as exc:  # "Error -3 while decompressing data: invalid block type": the reason alone
        return f"does not inflate ({str(exc).rpartition(': ')[2]})"
    if got < need:
        return f"inflates to {got:,} bytes where its rows need {need:,}"
    return None


def _packbits_checker() -> Callable[[bytes, int], str | None]:
    """Whether a PackBits strip's runs make as many bytes as its rows need, read by libtiff's rules: a run whose bytes
    the strip does not hold ends it (libtiff stops there, taking of a run of literal bytes what the rows still need),
    and it fails, printing "PackBitsDecode: Not enough data for scanline 60.", when its runs ended short; None for
    every strip once :data:`MAX_PACKBITS_RUNS` runs were read."""
    left = MAX_PACKBITS_RUNS

    def check(raw: bytes, need: int) -> str | None:
        nonlocal left
        at, got, end, runs = 0, 0, len(raw), 0
        while got < need and at < end and runs < left:
            n = raw[at]
            if at + _RUN_BYTES[n] > end:
                if n < 128 and at + 1 + need - got <= end:
                    got = need
                break
            got, at, runs = got + _RUN_MAKES[n], at + _RUN_BYTES[n], runs + 1
        left -= runs
        if left <= 0 and got < need:
            return None
        return f"ends after {got:,} of the {need:,} bytes its rows need" if got < need else None

    return check


def _layout(tags: Mapping[int, Any]) -> tuple[str, list[tuple[int, int]], list[int], int, tuple[int, int]] | None:
    """("strip" or "tile", each one's (offset, byte count) as the file holds them, the bytes each of those its layout
    makes inflates to (libtiff reads that many, the first of more, and takes those missing for empty), how many strips
    its layout makes, and how many offsets and byte counts the file holds), or None where they cannot be told apart
    from a damaged header (libtiff's to refuse, as before). Sizes only for the strips the file holds: a 250-byte TIFF
    of 1 x 40,000,000 pixels, a row a strip and one strip held, took 10 s and 300 MB to size the 40 M it lacked."""
    get = tags.get
    width, height = int(get(256, 0)), int(get(257, 0))
    bits = tag_numbers(get(258, (1,)))
    samples, planar = int(get(277, 1)), int(get(284, 1))
    if get(262) == 6 and tag_numbers(get(530, (2, 2))) != (1, 1):  # YCbCr subsampled: libtiff sizes it otherwise
        return None
    if width < 1 or height < 1 or len(set(bits)) != 1 or planar not in (1, 2):
        return None
    per_pixel = bits[0] * (samples if planar == 1 else 1)
    planes = samples if planar == 2 else 1
    tiled = 324 in tags
    offsets, sizes = (tag_numbers(get(t, ())) for t in ((324, 325) if tiled else (273, 279)))
    spans = [(int(o), int(n)) for o, n in zip(offsets, sizes, strict=False)]
    if tiled:
        across, down = int(get(322, 0)), int(get(323, 0))
        if across < 1 or down < 1:
            return None
        count = math.ceil(width / across) * math.ceil(height / down) * planes
        needs = [math.ceil(across * per_pixel / 8) * down] * min(count, len(spans))
    else:
        rows = min(int(get(278, height)), height) or height
        each = math.ceil(height / rows)
        count = each * planes
        needs = [math.ceil(width * per_pixel / 8) * min(rows, height - (k % each) * rows)
                 for k in range(min(count, len(spans)))]
    return ("tile" if tiled else "strip"), spans, needs, count, (len(offsets), len(sizes))
