"""Work skipped where its answer is already known gives the numbers of the full computation bit for bit: each test
keeps the full computation as the reference. Why: these run on every prediction, and their outputs decide refusals
that are compared across versions (a sibling of test_fewer_calls.py)."""

from __future__ import annotations

import io
import math

import numpy as np
import pytest
from PIL import Image

from braintumor.colour import chroma_colourfulness
from braintumor.image_gray import GrayPlane, ycc_colourfulness, ycc_gray
from braintumor.image_io import decode_image, decode_plane, read_image
from braintumor.preprocess import PreprocessConfig, histogram_percentile_one, prepare_measured, subtract_background

RNG = np.random.default_rng(12)


def _ycc(y: np.ndarray, cb: np.ndarray | int, cr: np.ndarray | int) -> Image.Image:
    planes = np.broadcast_arrays(y, cb, cr)
    return Image.frombytes("YCbCr", y.shape[::-1], np.dstack(planes).astype(np.uint8).tobytes())


def _one_chroma_pixel_off(y: np.ndarray) -> list[Image.Image]:
    """Gray YCbCr images of luma ``y`` but for one pixel's Cb or Cr, one level off 128 either way."""
    (h, w), images = y.shape, []
    for plane in (1, 2):
        for level in (127, 129):
            off = np.dstack(np.broadcast_arrays(y, 128, 128)).astype(np.uint8)
            off[RNG.integers(0, h), RNG.integers(0, w), plane] = level
            images.append(Image.frombytes("YCbCr", (w, h), off.tobytes()))
    return images


def test_ycc_colourfulness_equals_the_numpy_pass():
    """Gray chroma (Cb = Cr = 128 everywhere, any luma) scores exactly the numpy pass's 0.0; one chroma level off,
    a constant tint, or colour noise take the numpy pass."""
    images = []
    for h, w in ((1, 1), (3, 70), (75, 75), (64, 200)):
        y = RNG.integers(0, 256, (h, w))
        images.append(_ycc(y, 128, 128))
        images += _one_chroma_pixel_off(y)
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


def test_ycc_gray_is_the_y_plane_the_reduced_copys_colourfulness_and_the_planes_histogram():
    """The Y plane (as an array and as an image), the colourfulness of the copy box-reduced to >= 64 px and the plane's
    histogram, as each was made on its own before (getchannel, reduce, a second histogram), for gray chroma (any
    luma; the reduced copy is then never made), one chroma level off in one pixel (which a box reduction may round
    away), a tint and colour noise, at sizes reduced by 1 to 4."""
    for h, w in ((1, 1), (3, 70), (75, 75), (130, 200), (224, 224), (300, 256)):
        y = RNG.integers(0, 256, (h, w))
        images = [_ycc(y, 128, 128), _ycc(y, 130, 128), _ycc(y, 128, 90), _ycc(y, *RNG.integers(0, 256, (2, h, w)))]
        images += _one_chroma_pixel_off(y)
        for img in images:
            gray, colour, plane = ycc_gray(img)
            factor = max(1, min(img.size) // 64)
            want = chroma_colourfulness(np.asarray(img.reduce(factor) if factor > 1 else img))
            assert np.array_equal(gray, np.asarray(img.getchannel(0))) and gray.dtype == np.uint8
            assert type(colour) is float and colour == want and str(colour) == str(want)  # (0.0, never -0.0)
            assert plane.image.mode == "L" and np.array_equal(np.asarray(plane.image), gray)
            assert plane.histogram == Image.fromarray(gray).histogram()


@pytest.mark.parametrize("tint", [0, 12, None])
def test_a_decoded_plane_gives_the_crop_of_the_array_alone(tint: int | None):
    """A JPEG's decoder hands the gray array on as the image it was made from (a colour one's with its histogram), and
    the crop made with them is the crop made from the gray array alone; one not of the array as given is not used."""
    gray = np.clip(RNG.normal(90, 60, (224, 224)), 0, 255).astype(np.uint8)
    gray[:20] = gray[:, :16] = 0  # a black border: a head box smaller than the frame
    blue = gray if tint is None else np.clip(gray.astype(int) + tint, 0, 255).astype(np.uint8)
    pixels = gray if tint is None else np.dstack([gray, gray, blue])
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=90)
    data = buf.getvalue()
    decoded, _, plane = decode_plane(data, draft_size=320)
    assert plane.image.mode == "L" and np.array_equal(np.asarray(plane.image), decoded)
    assert (plane.histogram is None) == (tint is None)
    if plane.histogram is not None:
        assert plane.histogram == Image.fromarray(decoded).histogram()
    config = PreprocessConfig(image_size=160, background_percentile=1.0)
    crop, second = prepare_measured(data, config)
    want = prepare_measured(read_image(data, draft_size=320), config)
    assert np.array_equal(crop, want[0]) and second == want[1]
    handed = prepare_measured(decoded, config, plane)  # as Classifier.inspect_crop hands them on
    assert np.array_equal(handed[0], want[0]) and handed[1] == want[1]
    other = GrayPlane(Image.new("L", decoded.shape[::-1]), [0] * 256)  # not the gray array prepare makes of it
    unused = prepare_measured(decoded[..., None], config, other)
    assert np.array_equal(unused[0], want[0]) and unused[1] == want[1]


def _subtract_background_plain(gray: np.ndarray, histogram: list[int], percentile: float):
    """preprocess.subtract_background as first written: the percentile's cumulative sums on every image."""
    level = math.floor(histogram_percentile_one(histogram, percentile)) if percentile > 0 else 0
    if level <= 0:
        return gray, histogram
    shifted = [sum(histogram[: level + 1])] + histogram[level + 1:] + [0] * level
    return np.subtract(np.maximum(gray, np.uint8(level)), np.uint8(level), dtype=np.uint8), shifted


def test_a_black_background_is_level_0_without_the_cumulative_sums():
    """Images whose black pixels are just above, at and just below the percentile's rank (and none, and all): the
    same level, pixels and histogram, and the very same objects where nothing is subtracted."""
    grays = []
    for side in (8, 64, 101):
        m = side * side
        for q in (0.5, 1.0, 5.0, 30.0, 49.9):
            rank = q / 100.0 * (m - 1)
            for black in {0, max(0, math.floor(rank) - 1), math.floor(rank), math.floor(rank) + 1,
                          math.floor(rank) + 2, math.floor(rank) + 3, m}:
                flat = RNG.integers(1, 256, m)
                flat[RNG.permutation(m)[:black]] = 0
                grays.append((flat.reshape(side, side).astype(np.uint8), q))
    for gray, q in grays:
        histogram = Image.fromarray(gray).histogram()
        got, want = subtract_background(gray, histogram, q), _subtract_background_plain(gray, histogram, q)
        assert got[1] == want[1] and np.array_equal(got[0], want[0]) and (got[0] is gray) == (want[0] is gray)
        assert (got[1] is histogram) == (want[1] is histogram)
