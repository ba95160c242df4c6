"""High bit depths become 8-bit gray levels that look like the image: float32 across its whole range, 16-bit colour
and gray + alpha files, and the same pixels held in memory."""

from __future__ import annotations

import io
import warnings

import numpy as np
from conftest import synthetic_head
from PIL import Image

from braintumor.gray_levels import minmax_uint8
from braintumor.image_arrays import gray_from_memory
from braintumor.image_io import read_image


def _tiff(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="TIFF")
    return buf.getvalue()


def test_a_float32_image_across_float32s_range_is_stretched_as_it_looks():
    """A float32 image from -3.4e38 to 3.4e38 was stretched in float32: each pixel minus the minimum overflowed to inf,
    so its brightest pixels came out black (inf cast to uint8, with a RuntimeWarning on stderr)."""
    gray = np.minimum(synthetic_head(96), 254)
    gray[0, 0] = 254  # levels 0-254: times 2**121, -127 and +127 are +-3.37e38, exact in float32
    wide = (gray.astype(np.float32) - 127) * np.float32(2.0**121)
    assert np.isfinite(wide).all() and wide.max() > 3.3e38 and wide.min() < -3.3e38
    want = minmax_uint8(gray.astype(np.float64))  # the same stretch, of the same levels (exactly: a power of 2)
    assert want.max() == 255 and want[gray == 254].min() == 255
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way
        assert np.array_equal(minmax_uint8(wide), want)
        assert np.array_equal(read_image(_tiff(wide)), want)  # a TIFF of mode F
        assert np.array_equal(gray_from_memory(wide)[0], want)  # Classifier.predict(array)
