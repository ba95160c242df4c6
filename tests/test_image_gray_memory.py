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


def test_a_colour_strips_colour_is_measured_on_rows_sampled_along_its_length():
    """A colour JPEG strip (150 x 40 000, as fuzzed ones are) was box-reduced by its short side alone, 2x, to 75 x
    20 000: 1.5 Mpx, 24 MB of float chroma to measure its colour. Now every so many of those rows are measured, at
    most 65 536 px (sampled: a box along its length evened its colour out, 107 to 18); the colourfulness is the
    numpy pass's on them, within 5 % of all the rows', the gray plane the Y band as ever."""
    from braintumor.colour import chroma_colourfulness
    from braintumor.image_gray import _colour_copy

    width, height = 150, 40_000
    rng = np.random.default_rng(1)
    bands = [Image.fromarray(np.tile(rng.integers(0, 256, (53, 47), dtype=np.uint8), (755, 4))[:height, :width])
             for _ in range(3)]
    img = Image.merge("YCbCr", bands)
    reduced = np.asarray(img.reduce(2))
    sampled = np.asarray(_colour_copy(img))
    assert sampled.shape == (65_536 // 75, 75, 3)
    centres = ((np.arange(len(sampled)) + 0.5) * len(reduced) / len(sampled)).astype(int)
    # each a row of the reduced copy, not a blend: the one at its centre (or just before, where Pillow's float sum
    # of the steps falls short of a whole number)
    assert all(np.array_equal(row, reduced[i]) or np.array_equal(row, reduced[i - 1])
               for row, i in zip(sampled, centres, strict=True))
    want = chroma_colourfulness(sampled)
    tracemalloc.start()
    try:
        gray, colour, _ = ycc_gray(img)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert colour == want and abs(colour / chroma_colourfulness(reduced) - 1) < 0.05
    assert np.array_equal(gray, np.asarray(bands[0]))
    assert peak < 1.5 * width * height, f"peak {peak / (width * height):.2f} times the gray bytes"


def test_images_of_normal_shape_have_their_colour_measured_on_the_whole_reduced_copy():
    """Up to 4 times as long as wide (MAX_ASPECT refuses over 3), every size reduced by its short side // 64 (Pillow
    rounds up) is measured whole, as before: the colourfulness of every photo and slice whose colour is asked is the
    same to the bit."""
    from braintumor.image_gray import _colour_copy, _sampled_size

    for short in range(1, 4097):
        factor = max(1, short // 64)
        reduced = -(-short // factor), -(-4 * short // factor)
        assert _sampled_size(*reduced) == reduced and _sampled_size(*reduced[::-1]) == reduced[::-1], short
    for size in ((127, 508), (128, 512), (191, 764), (4 * 191, 191), (3, 12)):
        img = Image.new("YCbCr", size, (10, 20, 30))
        factor = max(1, min(size) // 64)
        assert _colour_copy(img).tobytes() == (img.reduce(factor) if factor > 1 else img).tobytes()
