"""How big an encoded image says it is, read from its header without decoding a pixel; what a file whose header
cannot be read at all starts as.

Why: a web request's images are budgeted by their pixels before any is decoded (compression makes pixels cheap
to send, not to decode); see ``image_io.MAX_REQUEST_PIXELS``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Collection

from PIL import Image

from .bmp_header import bmp_header_problem
from .image_frames import gray_samples, webp_cut_short
from .image_io import ALLOWED_FORMATS, TRUNCATED, UNDECODABLE
from .png_header import png_header_problem
from .quiet_libraries import quiet_pillow
from .wording import unread_format_text

#: JPEG start-of-frame markers (baseline, progressive, lossless, ...): their segment holds the size.
JPEG_SOF_MARKERS: frozenset[int] = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
#: JPEG markers that have no length field after them: TEM, RST0 to RST7 and SOI. EOI (FF D9) has none either, but no
#: decoder reads past it, so a walk stops there: taken for a segment, the bytes after it were read as a length.
JPEG_MARKERS_WITHOUT_LENGTH: frozenset[int] = frozenset(range(0xD0, 0xD9)) | {0x01}


#: First bytes of each 2-D format image_io reads, and its name: one list for what such content is called wherever it
#: turns up (a scan reader handed an image, a zip's members, a compressed file's contents). A RIFF is a WebP only
#: with "WEBP" at byte 8 (:func:`image_kind`).
IMAGE_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\xff\xd8\xff", "JPEG"), (b"\x89PNG", "PNG"), (b"BM", "BMP"), (b"II*\x00", "TIFF"), (b"MM\x00*", "TIFF"),
    (b"RIFF", "WebP"))


def image_kind(head: bytes) -> str | None:
    """The name of the 2-D format ``head`` starts as (:data:`IMAGE_SIGNATURES`), or None."""
    kind = next((name for magic, name in IMAGE_SIGNATURES if head.startswith(magic)), None)
    return None if kind == "WebP" and head[8:12] != b"WEBP" else kind

#: First bytes of the formats we decode whose damaged header leaves Pillow unable to identify them (a BMP's or a
#: WebP's reaches its own plugin, which says it is corrupt); BigTIFF's too.
_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"II*\0", "TIFF"), (b"MM\0*", "TIFF"), (b"II+\0", "TIFF"), (b"MM\0+", "TIFF"), (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"))


#: First bytes of an AppleDouble file: the resource fork and Finder info a Mac writes beside ``scan.dcm`` as
#: ``._scan.dcm`` on disks and in zips that do not keep them (folders and zips skip them by their '._' name).
APPLE_DOUBLE_MAGIC = b"\x00\x05\x16\x07"


def apple_double(data: bytes) -> str | None:
    """What an AppleDouble file named or uploaded on its own is, or None: it was "not a recognised image" (or "not a
    DICOM file" as ``._scan.dcm``), which sent people looking for what was wrong with their scan."""
    if not data.startswith(APPLE_DOUBLE_MAGIC) or data[128:132] == b"DICM":  # a DICOM's preamble may hold anything
        return None
    return "a macOS metadata file (AppleDouble '._' file), not the scan: use the file of the same name without '._'"


def damaged_header(data: bytes) -> str | None:
    """Why a file that starts as one of our formats but that Pillow cannot open is refused, or None when it starts as
    none: a TIFF with a truncated directory (or SamplesPerPixel 1000) was "not a recognised image: expected JPEG, PNG,
    BMP, TIFF or WebP content", of a file that is a TIFF."""
    if said := image_header_problem(data):
        return said
    kind = next((name for magic, name in _SIGNATURES if data.startswith(magic)), None)
    if (kind == "TIFF" and (variant := _tiff_variant(data))) or (kind == "JPEG" and (variant := _jpeg_variant(data))):
        return variant
    return kind and (f"a {kind} file whose header cannot be read: damaged, truncated, or a {kind} variant this "
                     "decoder does not support")


#: A TIFF's SampleFormat -> the samples' type, in words.
_SAMPLE_TYPES = {1: "unsigned-integer", 2: "signed-integer", 3: "floating-point"}
_LAYOUTS = {1: "grayscale", 2: "gray + alpha", 3: "colour", 4: "colour + alpha"}


def _tiff_variant(data: bytes) -> str | None:
    """What a TIFF holds that Pillow has no mode for (64- or 16-bit floats, as numpy's default float64 saved by
    tifffile; 16-bit gray + alpha, as GIMP exports): "damaged, truncated, or a variant" left a good file's owner
    guessing. A gray TIFF of 3 or more samples per pixel is slices in one page whatever Pillow failed with (8-bit ones
    that tifffile saves with ExtraSamples: an IndexError, so "damaged"). None for anything else, or where Pillow failed
    for another reason (a damaged file)."""
    from PIL import TiffImagePlugin  # on this error path only

    try:
        with quiet_pillow():
            TiffImagePlugin.TiffImageFile(io.BytesIO(data))
        return None
    except SyntaxError as exc:
        no_mode = str(exc) == "unknown pixel mode"  # Pillow's words for a good directory of samples it has no mode for
    except Exception:
        return None
    try:  # the directory Pillow read, read again for its tags (never a traceback from this error path)
        with quiet_pillow():
            ifd = TiffImagePlugin.ImageFileDirectory_v2(data[:16] if data[2] == 43 else data[:8])  # (BigTIFF: 16)
            fp = io.BytesIO(data)
            fp.seek(ifd.next)
            ifd.load(fp)
        bits, samples = tuple(ifd.get(258, (1,))), int(ifd.get(277, 1))
        sample_type = _SAMPLE_TYPES.get(max(ifd.get(339, (1,)), default=1))
    except Exception:
        return None
    if sample_type is None or len(set(bits)) != 1 or not 1 <= bits[0] <= 64:  # 0 or 255 bits: damaged, no variant
        return None
    photometric = ifd.get(262, 0)  # (Pillow's default: WhiteIsZero)
    if photometric in (0, 1) and samples > 2:  # gray, not gray + alpha: slices in one page, not colour
        return gray_samples(bits[0], samples, ifd.get(284) == 2)
    if not no_mode or samples not in _LAYOUTS or photometric not in ((0, 1) if samples < 3 else (2, 6)):  # 6: YCbCr
        return None  # one 8-bit sample of CIELab or CMYK was 'a TIFF of 8-bit grayscale samples ...: save it as 8-bit'
    planes = ", stored plane by plane" if ifd.get(284) == 2 and samples > 1 else ""
    return (f"a TIFF of {bits[0]}-bit {sample_type} {_LAYOUTS[samples]} samples{planes}, which this decoder does not "
            "read: save it as 8- or 16-bit grayscale, or as 32-bit floating-point grayscale")


#: ISO base media (HEIF) brands -> the format a file of that brand is, as its user knows it.
_HEIF_BRANDS: dict[bytes, str] = {b"avif": "AVIF", b"avis": "AVIF", b"heic": "HEIC", b"heix": "HEIC", b"heim": "HEIC",
                                  b"heis": "HEIC", b"hevc": "HEIC", b"hevx": "HEIC", b"mif1": "HEIF", b"msf1": "HEIF"}
#: Whitespace as Python's bytes ``\s`` means it, spelled out: JavaScript's ``\s`` also takes byte A0 (no-break space).
_SPACE = rb"[ \t\n\r\x0b\x0c]"

#: Image formats we do not read, by their first bytes: (format, pattern matched at the start of the file's first 256
#: bytes), the first that matches naming it. Strict enough not to take a damaged file or a text for one: a GIF's
#: screen has a size, a Netpbm header (after comments) a width, an icon 1 to 256 images.
#: One list for the CLI and the page: the page's folder walk (static/folders.js) gets these patterns from the server
#: (web/page_globals.py) and runs them over the same bytes, so they are written in the syntax Python's and JavaScript's
#: regular expressions read alike (bytes as \xNN escapes; no ``.``, ``\s``, ``\d`` nor flags), and
#: tests/test_browser_folder_walk.py runs them through both.
OTHER_FORMAT_SIGNATURES: tuple[tuple[str, bytes], ...] = (
    ("GIF", rb"GIF8[79]a(?!\x00\x00|[\x00-\xff]{2}\x00\x00)"),
    ("JPEG 2000", rb"\x00\x00\x00\x0cjP  \r\n\x87\n|\xff\x4f\xff\x51"),
    ("JPEG XL", rb"\x00\x00\x00\x0cJXL \r\n\x87\n|\xff\x0a"),
    *((name, rb"[\x00-\xff]{4}ftyp(?:" + b"|".join(b for b, n in _HEIF_BRANDS.items() if n == name) + b")")
      for name in dict.fromkeys(_HEIF_BRANDS.values())),
    ("Netpbm (PGM, PPM, PBM or PAM)", rb"P[1-6](?:" + _SPACE + rb"|#[^\n]*\n)+[0-9]|P7" + _SPACE),
    ("Windows icon (ICO)", rb"\x00\x00\x01\x00(?:[\x01-\xff]\x00|\x00\x01)[\x00-\xff]{3}\x00"),
    ("Photoshop (PSD)", rb"8BPS\x00\x01"),
)
_OTHER_FORMATS = tuple((name, re.compile(pattern)) for name, pattern in OTHER_FORMAT_SIGNATURES)


def other_format(data: bytes) -> str | None:
    """Which image format we do not read a file is, by its first bytes (:data:`OTHER_FORMAT_SIGNATURES`), or None: a
    GIF, a JPEG 2000, a phone's HEIC, a PGM were all "not a recognised image", which left the user wondering what was
    wrong with a good file. A folder walk names them by their ending first
    (:data:`braintumor.image_files.OTHER_FORMAT_ENDINGS`, in these names)."""
    head = data[:256]
    return next((name for name, signature in _OTHER_FORMATS if signature.match(head)), None)


def other_format_text(data: bytes) -> str | None:
    """Why a file of an image format we do not read is refused, and what to do (:func:`other_format`), or None."""
    name = other_format(data)
    return name and f"{name} image, {unread_format_text()}"


#: A frame header's marker -> its process, in words, and the sample precisions it allows (ITU-T T.81, B.2.2): baseline
#: 8 bits only, the other DCT processes 8 or 12, lossless 2 to 16. A baseline frame of 12 or 16 bits is damaged.
_JPEG_PRECISIONS: dict[int, tuple[str, tuple[int, ...], str]] = {
    0xC0: ("baseline", (8,), "8"),
    **{m: ("lossless", tuple(range(2, 17)), "2 to 16") for m in (0xC3, 0xC7, 0xCB, 0xCF)},
    **{m: ("DCT", (8, 12), "8 or 12") for m in JPEG_SOF_MARKERS - {0xC0, 0xC3, 0xC7, 0xCB, 0xCF}}}


def _jpeg_variant(data: bytes) -> str | None:
    """What a JPEG of a kind Pillow does not open is, by its frame header: JPEG-LS, or a precision of other than
    8 bits (12-bit JPEGs are how DICOM stores deeper slices; one saved from a DICOM frame was "damaged, truncated, or a
    JPEG variant"), or a precision its process does not allow (a baseline frame's 16 bits were "a 16-bit JPEG (as
    DICOM stores deeper slices)": damaged). None for anything else."""
    if jpeg_frame(data, (0xF7,)):  # JPEG-LS's frame header (SOF55)
        return ("a JPEG-LS image, which this decoder does not read: save it as PNG or TIFF (8- or 16-bit grayscale, "
                "lossless)")
    found = jpeg_frame_of(data)
    if found is None or found[1] == 8:
        return None
    marker, bits = found[:2]
    kind, allowed, said = _JPEG_PRECISIONS[marker]
    if bits not in allowed:  # baseline's 12 or 16 bits, 0 or 255 anywhere: damaged, not a deeper JPEG
        return (f"a JPEG file whose header is damaged: its {kind} frame (SOF{marker - 0xC0}) declares {bits}-bit "
                f"samples (it allows {said})")
    return (f"a {bits}-bit JPEG (as DICOM stores deeper slices), which this decoder does not read: it reads 8-bit "
            "JPEGs; save it as PNG or TIFF (16-bit grayscale, lossless)")


def jpeg_frame(data: memoryview | bytes, markers: Collection[int] = JPEG_SOF_MARKERS,
               ) -> tuple[int, int, int, int] | None:
    """(precision, width, height, components) from the frame header (one of ``markers``: JPEG's, or JPEG-LS's SOF55)
    of the stream starting ``data``, else None; at most :data:`MAX_JPEG_SEGMENTS` segments are walked. The one walker
    for a refused JPEG file's words, the pixel budget's sizes (:func:`declared_size`) and DICOM's JPEG checks
    (dicom_codestreams, dicom_jpeg12)."""
    found = jpeg_frame_of(data, markers)
    return None if found is None else found[1:]


def jpeg_frame_of(data: memoryview | bytes, markers: Collection[int] = JPEG_SOF_MARKERS,
                  ) -> tuple[int, int, int, int, int] | None:
    """:func:`jpeg_frame` with the frame's marker first: which process (baseline, lossless, ...) says which precisions
    are allowed (:data:`_JPEG_PRECISIONS`)."""
    if bytes(data[:2]) != b"\xff\xd8":
        return None
    at = 2
    for _ in range(MAX_JPEG_SEGMENTS):
        if at + 10 > len(data) or data[at] != 0xFF or data[at + 1] == 0x00:  # libjpeg and Pillow skip FF 00 as
            break  # junk: no segment whose length to jump (onto a frame header hidden in one they skip)
        marker = data[at + 1]
        if marker in markers:  # FF Cn, length, precision, height, width, components
            width, height = int.from_bytes(data[at + 7:at + 9], "big"), int.from_bytes(data[at + 5:at + 7], "big")
            return marker, data[at + 4], width, height, data[at + 9]
        if marker == 0xFF:  # fill byte
            at += 1
        elif marker in JPEG_MARKERS_WITHOUT_LENGTH:
            at += 2
        elif marker in (0xD9, 0xDA):  # the image's end, or a scan, before any frame header
            break
        else:
            at += 2 + int.from_bytes(data[at + 2:at + 4], "big")
    return None


#: Most segments a JPEG's walk reads before it gives up (a normal file has tens): a Python step per segment made 64 MB
#: of empty comments cost seconds.
MAX_JPEG_SEGMENTS: int = 10_000


def declared_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) an encoded image's header declares, without decoding pixels; None if unknown.

    PNG and JPEG headers are read directly (no second Pillow open of every upload just for this);
    other formats, and anything odd, go through Pillow."""
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR" and len(data) >= 24:
        return int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    if data[:2] == b"\xff\xd8" and (frame := jpeg_frame(data)) is not None:  # a walk gone wrong: Pillow's
        return frame[1], frame[2]
    try:
        # its warnings and log lines too (a server's log): decode_image reports what is wrong
        with quiet_pillow(), Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS) as img:
            return img.size
    except Exception:  # anything unreadable is left to decode_image and its precise message
        return None


def image_header_problem(data: bytes) -> str | None:
    """What a BMP's, a PNG's or a WebP's header declares that is wrong, for a file Pillow refused or found too large
    (and for :func:`braintumor.image_headers.damaged_header`'s words)."""
    return bmp_header_problem(data[:64]) or png_header_problem(data[:64]) or webp_cut_short(data)


def decode_failure_text(exc: BaseException, data: bytes = b"") -> str:
    """What an image whose decoder raised ``exc`` is told: its header's damage (a JPEG's walked only here, on failure:
    an EOI before its frame header), cut short where Pillow says so, else :data:`UNDECODABLE`. One home for the file
    reader and a lazily loaded PIL image's (:mod:`braintumor.image_arrays`), whose messages ended in "(OSError)"."""
    from .jpeg_markers import jpeg_header_problem as jpeg_problem  # (it imports this module)

    truncated = str(exc).startswith("image file is truncated")  # Pillow's words for pixels that stop short
    return image_header_problem(data) or (TRUNCATED if truncated else jpeg_problem(data, "JPEG file") or UNDECODABLE)
