"""Hand-made damaged headers of the 2-D formats (negative or zero sizes, ...): each is refused saying what its header
holds that is wrong, never as too large, as no image at all, or with a traceback."""

from __future__ import annotations

import re
import struct

import numpy as np
import pytest
from conftest import encode, synthetic_head

from braintumor.image_io import ImageError, read_image


def _bmp(width: int, height: int, header: int = 40) -> bytes:
    """A good 64 x 64 8-bit BMP (Pillow's, BITMAPINFOHEADER; ``header`` 12: OS/2's) declaring ``width`` x ``height``."""
    data = bytearray(encode(synthetic_head(64), "BMP"))
    if header == 12:  # the same pixels under a 12-byte core header: sizes unsigned 16-bit, a palette of 3-byte entries
        palette = b"".join(data[54 + 4 * i:57 + 4 * i] for i in range(256))
        core = struct.pack("<IHHHH", 12, width, height, 1, 8)
        pixels = data[struct.unpack_from("<I", data, 10)[0]:]
        return b"BM" + struct.pack("<IHHI", 26 + len(palette) + len(pixels), 0, 0, 26 + len(palette)) + core \
            + palette + pixels
    struct.pack_into("<ii", data, 18, width, height)
    return bytes(data)


def test_the_hand_made_bmps_are_read_as_declared():
    """The BMPs themselves are right: as written, and top-down (a negative height, rows stored top to bottom)."""
    want = read_image(encode(synthetic_head(64), "BMP"))
    assert np.array_equal(read_image(_bmp(64, 64)), want)
    assert np.array_equal(read_image(_bmp(64, -64)), want[::-1])
    assert np.array_equal(read_image(_bmp(64, 64, header=12)), want)


@pytest.mark.parametrize(("data", "said"), [
    (_bmp(-64, 64), "a width of -64 pixels (it must be positive)"),
    (_bmp(-64, -64), "a width of -64 pixels (it must be positive)"),
    (_bmp(-(2 ** 31), 64), "a width of -2,147,483,648 pixels (it must be positive)"),
    (_bmp(0, 64), "a width of 0 pixels (it must be positive)"),
    (_bmp(64, 0), "a height of 0 pixels (it must not be 0: negative for rows stored top-down)"),
    (_bmp(0, 64, header=12), "a width of 0 pixels (it must be positive)"),
], ids=["negative-width", "negative-both", "most-negative-width", "zero-width", "zero-height", "os2-zero-width"])
def test_a_bmp_of_no_width_or_height_is_said_to_have_a_damaged_header(data, said):
    """Pillow reads a BMP's width unsigned: -64 was 4,294,967,232 pixels wide, and the file "image is too large to
    decode safely"; a width or height of 0 was "not a recognised image". Both are a damaged header."""
    with pytest.raises(ImageError, match=f"^a BMP file whose header is damaged: it declares {re.escape(said)}$"):
        read_image(data)
