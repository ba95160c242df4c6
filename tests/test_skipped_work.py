"""Work skipped where its answer is already known gives the numbers of the full computation bit for bit: each test
keeps the full computation as the reference. Why: these run on every prediction, and their outputs decide refusals
that are compared across versions (a sibling of test_fewer_calls.py)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from braintumor.colour import chroma_colourfulness
from braintumor.image_gray import ycc_colourfulness
from braintumor.image_io import decode_image

RNG = np.random.default_rng(12)


def _ycc(y: np.ndarray, cb: np.ndarray | int, cr: np.ndarray | int) -> Image.Image:
    planes = np.broadcast_arrays(y, cb, cr)
    return Image.frombytes("YCbCr", y.shape[::-1], np.dstack(planes).astype(np.uint8).tobytes())


def test_ycc_colourfulness_equals_the_numpy_pass():
    """Gray chroma (Cb = Cr = 128 everywhere, any luma) scores exactly the numpy pass's 0.0; one chroma level off,
    a constant tint, or colour noise take the numpy pass."""
    images = []
    for h, w in ((1, 1), (3, 70), (75, 75), (64, 200)):
        y = RNG.integers(0, 256, (h, w))
        images.append(_ycc(y, 128, 128))
        for plane in (1, 2):
            for level in (127, 129):
                off = np.dstack(np.broadcast_arrays(y, 128, 128)).astype(np.uint8)
                off[RNG.integers(0, h), RNG.integers(0, w), plane] = level
                images.append(Image.frombytes("YCbCr", (w, h), off.tobytes()))
        noise = RNG.integers(0, 256, (2, h, w))
        images += [_ycc(y, 130, 128), _ycc(y, 128, 90), _ycc(y, noise[0], noise[1])]
    for img in images:
        want = chroma_colourfulness(np.asarray(img))
        got = ycc_colourfulness(img)
        assert type(got) is float and got == want and str(got) == str(want)  # (0.0, never -0.0)


def test_gray_chroma_skips_the_numpy_pass(monkeypatch: pytest.MonkeyPatch):
    def not_called(ycc: np.ndarray) -> float:
        raise AssertionError("the numpy pass ran for gray chroma")

    monkeypatch.setattr("braintumor.image_gray.chroma_colourfulness", not_called)
    assert ycc_colourfulness(_ycc(RNG.integers(0, 256, (80, 90)), 128, 128)) == 0.0
    with pytest.raises(AssertionError):
        ycc_colourfulness(_ycc(RNG.integers(0, 256, (80, 90)), 129, 128))


@pytest.mark.parametrize("tint", [0, 12])
def test_a_colour_coded_jpeg_keeps_its_colourfulness(tint: int):
    """A gray slice saved as a colour JPEG (JFIF, YCbCr: decoded as YCbCr) and a tinted one: the colourfulness is the
    numpy pass's on the box-reduced image, as before."""
    gray = RNG.integers(0, 256, (224, 224)).astype(np.uint8)
    rgb = np.dstack([gray, gray, np.clip(gray.astype(int) + tint, 0, 255)]).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(rgb).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    img = Image.open(io.BytesIO(data))
    img.draft("YCbCr", (320, 320))
    img.load()
    want = chroma_colourfulness(np.asarray(img.reduce(max(1, min(img.size) // 64))))
    assert (want == 0.0) == (tint == 0)
    assert decode_image(data, draft_size=160)[1].colourfulness == want
