"""What a decoded picture holds besides its 8-bit pixels: how many frames, which way up (EXIF), the low bytes of
16-bit colour and gray + alpha, which Pillow drops (and 16-bit colour TIFF planes, which it misreads: read by
tiff_planes), and a deep gray TIFF's WhiteIsZero, which Pillow ignores.

Why its own module: files (image_io) and pictures a caller opened (image_arrays) must be read alike, and both
import these from here.
"""

from __future__ import annotations

import io
import sys

import numpy as np
from PIL import ExifTags, Image

from .gray_levels import colour16_uint8
from .tiff_planes import data_end, plane_samples, readable_planes
from .wording import bits_text

#: What a file of several slices (a multi-page TIFF, an ImageJ stack, an animation) is told after what it is.
STACK_ADVICE: str = ("braintumor reads one slice per image file (save each slice as its own image; a stack of slices: "
                     "DICOM or NIfTI)")


def several_frames(img: Image.Image) -> str | None:
    """Why a multi-page TIFF or animated PNG/WebP/GIF is refused (its first frame alone would drop the rest unsaid),
    or None. Not counted: Pillow walks every page of a TIFF to count them, in quadratic time (64 000 took 39 s)."""
    if not getattr(img, "is_animated", False) or img.format == "MPO":  # a phone JPEG's MPF extras (gain map,
        return None  # preview) are not slices: its first image is the picture, as every viewer shows it
    if img.format == "TIFF" and _copies_only(img):
        return None
    kind = "a multi-page TIFF" if img.format == "TIFF" else f"an animated {img.format or 'image'}"
    return f"{kind}: {STACK_ADVICE}"


#: Most pages after a TIFF's first that :func:`_copies_only` looks at: past them it is a stack, whatever they are.
_MOST_COPIES = 4


def _copies_only(img: Image.Image) -> bool:
    """Whether every page after a TIFF's first is a reduced-resolution copy of it or a mask (NewSubfileType bit 0 or
    2, no larger than the first page, which is no copy itself), as scanners, cameras and tifffile's
    ``subfiletype=1`` write a thumbnail: one slice, refused as "a multi-page TIFF" with "save each slice as its own
    image". A few pages are looked at, never all (see :func:`several_frames`); the image is left at its page."""
    at = img.tell()
    try:
        copies = _later_pages_are_copies(img)
    except Exception:  # a damaged directory past the first: a stack as far as we can tell (refused, as before)
        copies = False
    try:
        img.seek(at)
    except Exception:  # the page it was at cannot be read again: refused, never read as another page
        return False
    return copies


def _later_pages_are_copies(img: Image.Image) -> bool:
    img.seek(0)
    width, height = img.size
    if int(img.tag_v2.get(254, 0)) & 0b001:  # the first page is itself a reduced copy: of which page?
        return False
    for page in range(1, _MOST_COPIES + 1):
        try:
            img.seek(page)
        except EOFError:  # no page past the copies (page 1 exists: the image is animated)
            return True
        if img.size[0] > width or img.size[1] > height or not int(img.tag_v2.get(254, 0)) & 0b101:
            return False
    try:
        img.seek(_MOST_COPIES + 1)
    except EOFError:
        return True
    return False


def deep_planes(img: Image.Image) -> str | None:
    """Why a TIFF of more than 8 bits per sample, or of 8-bit gray + alpha, stored plane by plane (PlanarConfiguration
    2: each colour's plane after the other's, as some microscopes and scanners write, and tifffile a (3, height, width)
    array) is refused, or None. Pillow reads each plane's samples as 8-bit (raw strips) or mixes their bytes (through
    libtiff): it came out as noise, unsaid. 16-bit RGB(A) and 8-bit gray + alpha are read plane by plane
    (:func:`wide_colour`); gray planes, of any depth, are said to be slices (:func:`gray_samples`: 8-bit WhiteIsZero
    ones failed to decode, "damaged"); the rest is refused."""
    tags = getattr(img, "tag_v2", None) if img.format == "TIFF" else None
    if tags is None or tags.get(284) != 2 or tags.get(277, 1) < 2:
        return None
    bits, planes = max(tags.get(258, (8,)), default=8), int(tags[277])
    if tags.get(262) in (0, 1) and planes > 2:  # gray, not gray + alpha
        return gray_samples(bits, planes, True)
    gray_alpha = tags.get(262) == 1  # (of 2 samples, here; Pillow opens no other gray + alpha TIFF)
    if (bits <= 8 and not gray_alpha) or readable_planes(tags):
        return None
    if gray_alpha:  # libtiff read it with alpha 0: blank, unsaid
        return ("an 8-bit gray + alpha TIFF stored plane by plane (PlanarConfiguration 2), of a kind not read here "
                "(8-bit unsigned, uncompressed, LZW, deflate or PackBits, is): save it as grayscale, or with its "
                "samples interleaved (the usual layout)")
    return (f"a {bits}-bit colour TIFF stored plane by plane (PlanarConfiguration 2), of a kind not read here (16-bit "
            "unsigned RGB or RGBA, uncompressed, LZW, deflate or PackBits, is): save it with its samples interleaved "
            "(the usual layout), or as 16-bit grayscale")


def cut_short(img: Image.Image) -> str | None:
    """Why a TIFF whose strips or tiles run past the end of its file is refused before it is decoded, or None. libtiff
    (Pillow's decoder of a compressed TIFF, and of the planes :func:`plane_samples` reads) refuses it too, but prints
    "TIFFFillStrip: Read error on strip 0; got 1336 bytes, expected 2672." on stderr, which Pillow has no setting to
    turn off (it sets libtiff's warning handler, not its error handler), beside the file's one line. Uncompressed
    strips are Pillow's own to read: it reads what it needs of an overstated count, and says nothing of a short one
    ("image file is truncated")."""
    tags = getattr(img, "tag_v2", None) if img.format == "TIFF" else None
    fp = getattr(img, "fp", None)
    if tags is None or fp is None or not (any(t[0] == "libtiff" for t in img.tile) or readable_planes(tags)):
        return None
    at = fp.tell()
    try:
        size = fp.seek(0, io.SEEK_END)
    finally:
        fp.seek(at)
    if (end := data_end(tags)) <= size:
        return None
    return (f"TIFF data is truncated: its header places pixel data up to byte {end:,}, and the file ends at byte "
            f"{size:,}")


def webp_cut_short(data: bytes) -> str | None:
    """Why a WebP whose RIFF header declares more bytes than the file holds is refused, or None: libwebp refused it
    unread, and Pillow's "could not create decoder object" (an OSError) was said as "corrupt or truncated (OSError)"."""
    declared = int.from_bytes(data[4:8], "little") + 8  # the RIFF chunk's size, after its 8-byte head
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP" or declared <= len(data):
        return None
    return f"WebP data is truncated: its header declares {declared:,} bytes, and the file ends at byte {len(data):,}"


def gray_samples(bits: int, count: int, planar: bool) -> str:
    """What a gray TIFF of ``count`` (3 or more) samples per pixel is told: slices in one page (tifffile saves a gray
    stack of 3 or 4 so when told it is gray), not the colour image its sample count suggested ("a 16-bit colour
    TIFF")."""
    return (f"{bits_text(bits)} gray TIFF of {count} samples per pixel (SamplesPerPixel {count}, "
            f"{'stored plane by plane' if planar else 'interleaved'}: {count} slices in one page?), which is not "
            "supported: braintumor reads one slice per image file (save each slice as its own image; a stack of "
            "slices: DICOM or NIfTI)")


def shown_levels(img: Image.Image) -> np.ndarray:
    """The gray levels of a loaded image of more than 8 bits (modes I;16*, I, F) as it shows them: a TIFF's WhiteIsZero
    (PhotometricInterpretation 0, as scanners and film digitisers write) stores a slice as its negative, and Pillow
    turns a 1- or 8-bit one upright as it decodes it, not a deeper one: those were read as their negative (a white
    background around a dark head). Inverted exactly, in the samples' own type (``~`` maps 65535 - v back to v)."""
    levels = np.asarray(img)
    tags = getattr(img, "tag_v2", None) if img.format == "TIFF" else None
    if tags is None or tags.get(262) != 0:
        return levels
    return -levels if levels.dtype.kind == "f" else ~levels


#: EXIF orientation -> the transpose that shows the image upright.
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}


def upright(img: Image.Image) -> Image.Image:
    """The image as its EXIF orientation says to show it (a copy only of rotated ones). Not ImageOps.exif_transpose:
    it also rewrites the EXIF block, which fails (struct.error) on a malformed tag after transposing. Loaded first:
    Pillow turns a TIFF upright as it loads it, so a caller's image not loaded yet was turned twice (upside down)."""
    img.load()
    try:
        method = _UPRIGHT.get(img.getexif().get(ExifTags.Base.Orientation))
    except Exception:  # EXIF Pillow cannot parse: the pixels are read as stored
        return img
    return img.transpose(method) if method is not None else img


#: ";16B" (big-endian samples), ";16L" and ";16N" (native order: TIFF through libtiff) -> the ending that reads each
#: sample's other byte.
_OTHER_BYTE = {"B": "L", "L": "B", "N": "B" if sys.byteorder == "little" else "L"}
#: Pillow's raw modes for 16-bit colour (PNG, TIFF) and a PNG's 16-bit gray + alpha, which keep each sample's high
#: byte -> (a raw mode of as many bytes per pixel that decodes the low bytes, Pillow's channels that hold the high
#: bytes, the second decode's that hold the low bytes).
_LOW_BYTES: dict[str, tuple[str, tuple[int, ...], tuple[int, ...]]] = {
    f"{mode};16{end}": (f"{mode};16{other}", channels, channels)
    for mode, channels in (("RGB", (0, 1, 2)), ("RGBX", (0, 1, 2)), ("RGBA", (0, 1, 2, 3)))
    for end, other in _OTHER_BYTE.items()
} | {"LA;16B": ("RGBA", (0, 3), (1, 3))}  # Pillow: its gray's high byte as R, G and B; each byte as stored: L, l, A, a


def _rawmode(tile: tuple) -> str:
    args = tile[3]  # a PNG's tile holds its raw mode; a TIFF's, a tuple that starts with it
    return args[0] if isinstance(args, tuple) else args


def _with_rawmode(tile: tuple, rawmode: str) -> tuple:
    args = (rawmode, *tile[3][1:]) if isinstance(tile[3], tuple) else rawmode
    return tile._replace(args=args) if hasattr(tile, "_replace") else (*tile[:3], args)  # (Pillow < 11: a tuple)


def wide_colour(img: Image.Image) -> Image.Image | None:
    """A 16-bit colour PNG or TIFF or a 16-bit gray + alpha PNG, opened and not yet loaded, as 8-bit, scaled as
    :func:`colour16_uint8` scales it; None for any other image (nothing decoded). Pillow has no 16-bit colour mode: it
    kept each sample's high byte, so a 12-bit one (0-4095) was nearly black (0-15). Its file is decoded twice, as
    Pillow does, then for the low bytes, into two new images: ``img`` itself is left unloaded, with its file (loading a
    caller's image dropped its file: predicted again, it was its high bytes alone, another image). A 16-bit RGB(A)
    TIFF stored plane by plane, or an 8-bit gray + alpha one, is decoded a plane at a time (:func:`plane_samples`)."""
    fp = getattr(img, "fp", None)
    if img.format not in ("PNG", "TIFF") or fp is None:  # (a picture made in memory has neither fp nor tiles)
        return None
    tags = getattr(img, "tag_v2", None) if img.format == "TIFF" else None
    if tags is not None and readable_planes(tags):
        samples = plane_samples(_file_bytes(fp), tags)  # 8-bit gray + alpha: Pillow's mode, LA or premultiplied La
        out = (Image.frombytes(img.mode, img.size, samples.tobytes()) if samples.dtype == np.uint8
               else Image.fromarray(colour16_uint8(samples)))
        out.info = dict(img.info)
        return out
    modes = {_rawmode(tile) for tile in img.tile}
    if len(modes) != 1 or (found := _LOW_BYTES.get(modes.pop())) is None:
        return None
    low, high_channels, low_channels = found
    data = _file_bytes(fp)
    high, twin = (Image.open(io.BytesIO(data), formats=[img.format]) for _ in range(2))
    twin.tile = [_with_rawmode(tile, low) for tile in twin.tile]
    high_bytes = np.asarray(high)[..., list(high_channels)].astype(np.uint16)
    samples = high_bytes << 8 | np.asarray(twin)[..., list(low_channels)]
    out = Image.fromarray(colour16_uint8(samples))
    # a PNG's EXIF orientation, for upright(), as the loaded file has it: an eXIf chunk after the pixels is read only
    # as they are (``img`` itself is not loaded; Pillow turns a TIFF upright as it loads it)
    out.info = dict(high.info if img.format == "PNG" else img.info)
    return out


def _file_bytes(fp: io.IOBase) -> bytes:
    """An opened image's file from where Image.open read it, the file left where it stood."""
    at = fp.tell()
    try:
        fp.seek(0)
        return fp.read()
    finally:
        fp.seek(at)
