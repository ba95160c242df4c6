"""A decoded PIL image -> 8-bit gray and the colourfulness it had (photos and screenshots are refused by it).

Why its own module: every reader (files, bytes and streams in :mod:`braintumor.image_io`, caller's arrays and PIL
images in :mod:`braintumor.image_arrays`) turns what Pillow decoded into the one gray plane the model reads the same
way: high bit depths min-max scaled, a YCbCr JPEG's Y plane as it is, transparency on black, palettes expanded.
"""

from __future__ import annotations

from typing import BinaryIO, NamedTuple

import numpy as np
from PIL import Image

from .colour import chroma_colourfulness, colourfulness
from .gray_levels import minmax_uint8
from .image_frames import shown_levels
from .tiff_planes import tag_numbers
from .wording import no_finite_values_text

#: Why a float image none of whose pixels holds a number (all NaN or infinite) is refused.
NO_FINITE_PIXELS: str = no_finite_values_text("the image")


#: Pixels above which :func:`_colour_of` copies out only the rows it samples: np.asarray of a whole RGB image held it
#: twice over as bytes (Pillow's chunks joined), 216 MB for a 36 Mpx PNG, to measure some 16 000 of its pixels; and
#: above which :func:`_gray_array` copies a gray image out a block of rows at a time.
_WHOLE_IMAGE_PIXELS = 1 << 21  # (below it one array is the faster: some 4 ms for the rows)


def _colour_of(img: Image.Image) -> float:
    """Colourfulness measured on at most ~128x128 pixels (cheap; exact enough to tell photos from MRI): every
    ``step``-th pixel of every ``step``-th row, those rows copied one by one from a large image."""
    step = max(1, max(img.size) // 128)
    if img.width * img.height <= _WHOLE_IMAGE_PIXELS:
        return colourfulness(np.asarray(img)[::step, ::step, :3])
    rows = [np.asarray(img.crop((0, y, img.width, y + 1)))[0, ::step, :3] for y in range(0, img.height, step)]
    return colourfulness(np.stack(rows))


#: Pixels of a large gray image :func:`_gray_array` copies out at a time (256 KB).
_BLOCK_PIXELS = 1 << 18


def _gray_array(img: Image.Image) -> np.ndarray:
    """``np.asarray(img)`` of an "L" image, a large one's copied a block of rows at a time into one array: Pillow's
    bytes of the whole image (its chunks, then them joined) held it twice over (72 MB for a 36 Mpx gray plane)."""
    if img.width * img.height <= _WHOLE_IMAGE_PIXELS:
        return np.asarray(img)
    out = np.empty((img.height, img.width), dtype=np.uint8)
    step = max(1, _BLOCK_PIXELS // img.width)
    for y in range(0, img.height, step):
        out[y : y + step] = np.asarray(img.crop((0, y, img.width, min(y + step, img.height))))
    return out


def reduced_jpeg_colour(buffer: BinaryIO) -> float:
    """Colourfulness from a second, reduced-size RGB decode (colour JPEGs not coded as YCbCr: rare)."""
    pos = buffer.tell()
    buffer.seek(0)
    with Image.open(buffer, formats=["JPEG"]) as small:
        small.draft("RGB", (64, 64))
        colour = _colour_of(small.convert("RGB"))
    buffer.seek(pos)
    return colour


def ycc_colourfulness(img: Image.Image) -> float:
    """:func:`chroma_colourfulness` of a YCbCr image. A gray picture stored in colour (Cb = Cr = 128 everywhere: 665 of
    the 690 colour-coded Testing JPEGs, box-reduced) scores exactly 0, which its bands' extremes tell at a fraction of
    the cost of the numpy pass (an array of the image and a float copy of its chroma)."""
    if img.getextrema()[1:] == ((128, 128), (128, 128)):
        return 0.0
    return chroma_colourfulness(np.asarray(img))


#: Most pixels :func:`ycc_gray` measures colour on. Reduced by its short side to >= 64 px, an image of normal shape
#: (its long side at most 4 times the short: MAX_ASPECT refuses over 3) keeps at most 128 x 512, this many; a strip
#: kept far more (224 x 64 233 px: 75 x 21 411, 1.6 Mpx, 26 MB of float chroma).
_COLOUR_PIXELS = 128 * 512


def _sampled_size(width: int, height: int) -> tuple[int, int]:
    """The size of the copy :func:`_colour_copy` measures of a ``width`` x ``height`` reduced one: its own, or its
    rows (columns) along its length thinned to within _COLOUR_PIXELS."""
    if width * height <= _COLOUR_PIXELS:
        return width, height
    return (width, _COLOUR_PIXELS // width) if width <= height else (_COLOUR_PIXELS // height, height)


def _colour_copy(img: Image.Image) -> Image.Image:
    """The copy of a YCbCr image whose colour :func:`ycc_gray` measures: box-reduced by its short side to >= 64 px,
    then a strip's rows along its length sampled (nearest, not averaged: a box over hundreds of rows evened a
    strip's colour out), to at most _COLOUR_PIXELS."""
    factor = max(1, min(img.size) // 64)
    small = img.reduce(factor) if factor > 1 else img
    size = _sampled_size(*small.size)
    return small if size == small.size else small.resize(size, Image.Resampling.NEAREST)


class GrayPlane(NamedTuple):
    """A decoder's gray array as the Pillow "L" image it was made from (the same pixels), and that image's 256-bin
    histogram where decoding made it anyway (a colour JPEG's), else None: ``preprocess.prepare_measured`` takes them
    instead of making an image of the array and its histogram again."""

    image: Image.Image
    histogram: list[int] | None


def ycc_gray(img: Image.Image) -> tuple[np.ndarray, float, GrayPlane]:
    """A YCbCr image's Y plane, its colourfulness measured on a copy box-reduced to >= 64 px (as the old reduced-size
    RGB decode measured it; a strip's then sampled: :func:`_colour_copy`) and the plane as a :class:`GrayPlane`. One
    Pillow histogram of the image gives the plane's histogram and tells gray chroma, Cb = Cr = 128 everywhere: then
    the reduced copy's is gray too, and its colourfulness 0 (:func:`ycc_colourfulness`), told without making the copy
    (which costs more than the histogram). tests/test_skipped_work.py checks each against the computation it
    replaces."""
    counts = img.histogram()  # the Y band's 256 bins, then Cb's, then Cr's
    if counts[256 + 128] == counts[512 + 128] == img.width * img.height:
        colour = 0.0
    else:
        colour = ycc_colourfulness(_colour_copy(img))
    plane = img.convert("L")  # "L" of YCbCr: the Y byte as it is
    return _gray_array(plane), colour, GrayPlane(plane, counts[:256])


def gray_plane(img: Image.Image) -> tuple[np.ndarray, float, GrayPlane | None]:
    """:func:`to_gray`, and the gray array's :class:`GrayPlane` where it came free: a YCbCr image's (:func:`ycc_gray`),
    or an 8-bit gray image's, which is its own; None for the rest (converted, scaled)."""
    if img.mode == "YCbCr":
        return ycc_gray(img)
    gray, colour = to_gray(img)
    return gray, colour, GrayPlane(img, None) if img.mode == "L" and not _signed_bytes(img) else None


def jpeg_is_ycc(img: Image.Image) -> bool:
    """Whether libjpeg will read this 3-component JPEG as YCbCr (its own rule, jdapimin.c): a JFIF
    marker says so; else an Adobe marker's transform (0 = RGB); else component ids 'R', 'G', 'B' mean RGB."""
    if "jfif" in img.info:
        return True
    if "adobe" in img.info:
        return img.info.get("adobe_transform") != 0
    return tuple(layer[0] for layer in getattr(img, "layer", ())) != (82, 71, 66)


def _signed_bytes(img: Image.Image) -> bool:
    """Whether ``img`` is a TIFF of signed 8-bit gray samples (SampleFormat 2)."""
    tags = getattr(img, "tag_v2", None) if img.format == "TIFF" else None
    return tags is not None and 2 in tag_numbers(tags.get(339, 1))


def to_gray(img: Image.Image) -> tuple[np.ndarray, float]:
    """8-bit grayscale and the colourfulness it had; high-bit-depth images are min-max scaled."""
    if img.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N", "F"):
        levels = shown_levels(img)  # a WhiteIsZero TIFF's levels as it shows them
        if levels.dtype.kind == "f" and not np.isfinite(levels).any():  # was 'blank or nearly uniform image', where
            from .image_io import ImageError  # its array and a NIfTI volume of such voxels are refused (image_io
            raise ImageError(NO_FINITE_PIXELS)  # imports this module)
        return minmax_uint8(levels), 0.0
    if img.mode == "L" and _signed_bytes(img):  # Pillow reads them unsigned: -1 as 255, a head's dark half bright
        return minmax_uint8(np.asarray(img).view(np.int8)), 0.0  # the levels it holds, stretched as deeper ones are
    if img.mode == "YCbCr":  # a colour JPEG decoded once, without colour conversion (see decode_image)
        return ycc_gray(img)[:2]
    if img.mode == "1":  # bilevel: 0/255, not 0/1 (which read as a blank image)
        return _gray_array(img.convert("L")), 0.0
    if img.mode == "P":
        img = img.convert("RGBA")
    if img.mode == "La":  # premultiplied gray + alpha: Pillow converts it to LA only ("cannot be read as grayscale")
        img = img.convert("LA")
    if img.mode in ("RGBA", "LA", "PA"):
        # Transparent pixels become black background, like the rest of an MRI frame.
        background = Image.new("RGBA", img.size, (0, 0, 0, 255))
        img = Image.alpha_composite(background, img.convert("RGBA"))
    colour = 0.0
    if img.mode not in ("L", "1"):
        img = img.convert("RGB")
        colour = _colour_of(img)
        img = img.convert("L")
    return _gray_array(img), colour
