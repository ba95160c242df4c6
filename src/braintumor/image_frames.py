"""What a decoded picture holds besides its 8-bit pixels: how many frames, which way up (EXIF), and the low bytes of
16-bit colour, which Pillow drops.

Why its own module: files (image_io) and pictures a caller opened (image_arrays) must be read alike, and both
import these from here.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import ExifTags, Image

from .gray_levels import colour16_uint8


def several_frames(img: Image.Image) -> str | None:
    """Why a multi-page TIFF or animated PNG/WebP/GIF is refused (its first frame alone would drop the rest unsaid),
    or None. Not counted: Pillow walks every page of a TIFF to count them, in quadratic time (64 000 took 39 s)."""
    if not getattr(img, "is_animated", False) or img.format == "MPO":  # a phone JPEG's MPF extras (gain map,
        return None  # preview) are not slices: its first image is the picture, as every viewer shows it
    kind = "a multi-page TIFF" if img.format == "TIFF" else f"an animated {img.format or 'image'}"
    return (f"{kind}: braintumor reads one slice per image file (save each slice as its own image; a stack of "
            "slices: DICOM or NIfTI)")


#: EXIF orientation -> the transpose that shows the image upright.
_UPRIGHT = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
            5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
            8: Image.Transpose.ROTATE_90}


def upright(img: Image.Image) -> Image.Image:
    """The image as its EXIF orientation says to show it (a copy only of rotated ones). Not ImageOps.exif_transpose:
    it also rewrites the EXIF block, which fails (struct.error) on a malformed tag after transposing."""
    try:
        method = _UPRIGHT.get(img.getexif().get(ExifTags.Base.Orientation))
    except Exception:  # EXIF Pillow cannot parse: the pixels are read as stored
        return img
    return img.transpose(method) if method is not None else img


#: Pillow's raw mode for a 16-bit colour PNG, which keeps each sample's high byte -> the one that keeps its low byte.
_LOW_BYTES = {"RGB;16B": "RGB;16L", "RGBA;16B": "RGBA;16L"}


def wide_colour(img: Image.Image) -> Image.Image | None:
    """A 16-bit colour PNG, opened and not yet loaded, as 8-bit, scaled as :func:`colour16_uint8` scales it; None for
    any other image (nothing decoded). Pillow has no 16-bit colour mode: it kept each sample's high byte, so a 12-bit
    one (0-4095) was nearly black (0-15). Its file is decoded twice: as Pillow does, then for the low bytes."""
    fp = getattr(img, "fp", None)
    if img.format != "PNG" or fp is None or len(img.tile) != 1 or (low := _LOW_BYTES.get(img.tile[0][3])) is None:
        return None
    at = fp.tell()
    try:
        fp.seek(0)  # where Image.open read it from
        twin = Image.open(io.BytesIO(fp.read()), formats=["PNG"])
    finally:
        fp.seek(at)
    twin.tile = [(*twin.tile[0][:3], low)]
    samples = np.asarray(img).astype(np.uint16) << 8 | np.asarray(twin)
    out = Image.fromarray(colour16_uint8(samples))
    out.info = dict(img.info)  # its EXIF orientation, for upright()
    return out
