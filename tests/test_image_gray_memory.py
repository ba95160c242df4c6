"""Making a large image's gray array holds about one copy of it, not two: ``np.asarray`` of a Pillow image takes
its bytes (chunks, then those joined into one), so a 36 Mpx gray plane peaked at 72 MB to return 36 MB. The
arrays are the same, byte for byte."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
from PIL import Image

from braintumor.image_gray import to_gray, ycc_gray

WIDTH, HEIGHT = 2400, 2000  # 4.8 Mpx: over the size below which one np.asarray is the faster


def _image(mode: str) -> Image.Image:
    """A ``mode`` image of WIDTH x HEIGHT pixels with varied levels (a tiled noise patch; a YCbCr one's chroma
    gray, a colour JPEG of a gray slice)."""
    tile = np.random.default_rng(0).integers(0, 256, (37, 41, 3), dtype=np.uint8)
    pixels = np.tile(tile, (HEIGHT // 37 + 1, WIDTH // 41 + 1, 1))[:HEIGHT, :WIDTH]
    if mode == "YCbCr":
        flat = Image.new("L", (WIDTH, HEIGHT), 128)
        return Image.merge("YCbCr", (Image.fromarray(pixels[..., 0]), flat, flat))
    if mode == "1":
        return Image.fromarray(pixels[..., 0] > 127)
    return Image.fromarray(pixels[..., 0] if mode == "L" else pixels)


@pytest.mark.parametrize("mode", ["L", "RGB", "1", "YCbCr"])
def test_a_large_images_gray_array_peaks_near_one_copy_of_its_bytes(mode):
    """to_gray of an 8-bit gray, RGB and bilevel image and ycc_gray of a colour JPEG's planes: the gray array is
    np.asarray of the gray image as ever (the same bytes), made a block of rows at a time (it peaked at twice)."""
    img = _image(mode)
    want = np.asarray(img.convert("L"))
    tracemalloc.start()
    try:
        gray = ycc_gray(img)[0] if mode == "YCbCr" else to_gray(img)[0]
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert gray.dtype == np.uint8 and np.array_equal(gray, want)
    assert peak < 1.5 * WIDTH * HEIGHT, f"peak {peak / (WIDTH * HEIGHT):.2f} times the gray bytes"
