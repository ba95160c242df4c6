"""An image's size is said as it is seen, upright: a phone's photo stored 100 x 40 and turned by its EXIF orientation
is 40 x 100 on screen, and the too-small refusal said "image is 100 x 40 pixels" of it (JPEG, PNG, WebP; a TIFF was
said upright, Pillow turning it as it opens it)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import encode
from PIL import Image

from braintumor.image_arrays import gray_from_memory
from braintumor.image_io import ImageError, decode_image


def _stored_on_its_side(fmt: str, orientation: int = 6) -> bytes:
    """A 100 x 40 (wide) image whose EXIF says to show it turned a quarter: 40 x 100 (tall)."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    return encode(np.tile(np.arange(100, dtype=np.uint8), (40, 1)), fmt, exif=exif.tobytes())


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "TIFF"])
@pytest.mark.parametrize("orientation", [5, 6, 7, 8])
def test_the_size_said_is_the_upright_size(clf, fmt, orientation):
    data = _stored_on_its_side(fmt, orientation)
    gray, info = decode_image(data, draft_size=2 * clf.image_size)
    assert gray.shape == (100, 40) and (info.width, info.height) == (40, 100)
    with pytest.raises(ImageError, match=r"^image is 40x100 pixels; at least 64x64 needed"):
        clf.predict(data)
    gray, info = gray_from_memory(Image.open(io.BytesIO(data)))  # the same file opened with PIL: the same size
    assert gray.shape == (100, 40) and (info.width, info.height) == (40, 100)


def test_an_image_not_turned_keeps_its_size(clf):
    data = _stored_on_its_side("JPEG", 1)
    assert decode_image(data)[1].width == 100
    with pytest.raises(ImageError, match=r"^image is 100x40 pixels"):
        clf.predict(data)
