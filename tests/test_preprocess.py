"""The one preprocessing function: shape, range, determinism, and what the head crop buys."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import encode, synthetic_head
from PIL import Image, ImageEnhance

from braintumor.preprocess import (
    PreprocessConfig,
    equalize_head,
    head_box,
    histogram_percentile,
    prepare,
    preprocess,
    subtract_background,
)


def test_output_shape_dtype_range():
    x = preprocess(encode(synthetic_head()))
    assert x.shape == (1, 128, 128) and x.dtype == np.float32
    assert x.min() >= 0.0 and x.max() <= 1.0 and x.max() > 0.3
    # exactly the prepared 8-bit crop over 255 (the OOD statistics and the heat map's image undo it by * 255)
    np.testing.assert_array_equal(np.round(x[0] * 255), prepare(encode(synthetic_head())))


def test_image_size_comes_from_config():
    assert preprocess(synthetic_head(), PreprocessConfig(image_size=64)).shape == (1, 64, 64)


def test_deterministic_and_same_for_every_source_kind(tmp_path):
    arr = synthetic_head()
    path = tmp_path / "a.png"
    path.write_bytes(encode(arr))
    a, b, c = preprocess(arr), preprocess(path), preprocess(path.read_bytes())
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(b, c)
    with path.open("rb") as fh:
        np.testing.assert_array_equal(preprocess(fh), a)


def test_position_and_border_do_not_matter():
    """The same head, small in a big frame at another place, gives (almost) the same input."""
    centred = prepare(synthetic_head(200))
    shifted = prepare(synthetic_head(200, canvas=(500, 420), offset=(260, 30)))
    assert np.abs(centred.astype(float) - shifted.astype(float)).mean() < 2.0


def test_crop_fills_the_frame_with_the_head():
    img = synthetic_head(100, canvas=(400, 400), offset=(150, 150))
    left, top, right, bottom = head_box(img)
    assert 90 <= right - left <= 115 and right - left == bottom - top
    assert 140 <= left <= 160 and 140 <= top <= 160


def test_burned_in_text_apart_from_the_head_is_cut_off():
    img = synthetic_head(200, canvas=(260, 200), offset=(0, 0))
    img[235:245, 20:180:3] = 255  # a line of "text" below the head, separated by background
    _, _, _, bottom = head_box(img)
    assert bottom <= 215


def test_a_row_is_head_by_the_share_of_its_own_pixels():
    """min_fraction is a share of a row's pixels (the frame's width), not of the frame's height: on a frame twice as
    wide as tall, a 6 px stripe above the head is 1.5 % of its rows and stays out of the box."""
    img = np.zeros((200, 400), np.uint8)
    img[50:150, 100:300] = 120
    img[:50, 197:203] = 120
    # head rows 50-150, columns 100-300: side 200 * 1.08 = 216 around the centre (200, 100)
    assert head_box(img) == (92, -8, 308, 208)


def test_a_dark_slice_keeps_its_one_level_noise_out_of_the_head():
    """The head threshold is at least one gray level: on a slice whose 99th percentile is 8 (10 %: 0.8), a band of
    level-1 noise down its left side is background, not head."""
    img = np.zeros((100, 100), np.uint8)
    img[30:70, 30:70] = 8
    img[:, :10] = 1
    assert head_box(img) == (28, 28, 71, 71)  # the 40 px head, 8 % margin, centred on (50, 50)


def test_blank_and_tiny_images_do_not_crash():
    assert preprocess(np.zeros((50, 80), np.uint8)).max() == 0.0
    assert preprocess(np.full((1, 1), 200, np.uint8)).shape == (1, 128, 128)


def test_rgb_and_gray_versions_agree():
    gray = synthetic_head()
    rgb = np.stack([gray] * 3, axis=-1)
    np.testing.assert_array_equal(preprocess(encode(gray)), preprocess(encode(rgb)))


def test_16_bit_images_are_scaled_not_clipped():
    gray16 = (synthetic_head().astype(np.uint16) * 200)  # values up to ~40000
    img = Image.fromarray(gray16.astype(np.uint16))
    import io
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    x = preprocess(buf.getvalue())
    assert 0.9 <= x.max() <= 1.0


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP", "TIFF", "WEBP"])
def test_every_supported_format_decodes(fmt):
    assert preprocess(encode(synthetic_head(), fmt)).shape == (1, 128, 128)


def test_real_images_have_the_head_filling_the_frame(test_images):
    for paths in test_images.values():
        x = preprocess(paths[0])[0]
        # background border is thin: the head reaches close to at least two opposite edges
        cols = np.flatnonzero(x.mean(0) > 0.05)
        rows = np.flatnonzero(x.mean(1) > 0.05)
        assert max(cols[-1] - cols[0], rows[-1] - rows[0]) >= 0.85 * x.shape[0]


@pytest.mark.parametrize("q", [0.0, 1.0, 50.0, 99.0, 99.9, 100.0])
def test_histogram_percentile_equals_numpy(q: float) -> None:
    """The sort-free percentile behind head_box and the OOD statistics must be numpy's, bit for bit."""
    rng = np.random.default_rng(7)
    rows = [rng.integers(0, rng.integers(1, 257), rng.integers(1, 3000)) for _ in range(200)]
    rows.append(np.array([0] + [7] * 60))  # q = 1: 60 % of the way from 0 to 7, where numpy's two formulas differ
    counts = np.stack([np.bincount(r, minlength=256) for r in rows])
    expected = np.array([np.percentile(r, q) for r in rows])
    np.testing.assert_array_equal(histogram_percentile(counts, q), expected)
    # one row at a time: the single-image path (binary search) must agree too
    np.testing.assert_array_equal([histogram_percentile(c[None], q)[0] for c in counts], expected)
    # and from Pillow's histogram list, as head_box calls it
    from PIL import Image

    from braintumor.preprocess import histogram_percentile_one
    for r in rows[:20]:
        img = Image.fromarray(r.astype(np.uint8)[None])
        assert histogram_percentile_one(img.histogram(), q) == np.percentile(r, q)


def _longest_run_vectorised(mask: np.ndarray, max_gap: int) -> tuple[int, int] | None:
    """The reference: every run's start and stop from the gaps between True indices, first longest wins."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return None
    breaks = np.flatnonzero(np.diff(idx) > max_gap + 1)
    starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    stops = np.concatenate((idx[breaks], [idx[-1]])) + 1
    best = int(np.argmax(stops - starts))
    return int(starts[best]), int(stops[best])


def test_longest_run_equals_its_vectorised_definition() -> None:
    from braintumor.preprocess import _longest_run
    rng = np.random.default_rng(3)
    for _ in range(3000):
        mask = rng.random(int(rng.integers(0, 300))) < rng.random()
        gap = int(rng.integers(0, 8))
        assert _longest_run(mask, gap) == _longest_run_vectorised(mask, gap)
    ties = np.array([1, 1, 0, 0, 0, 1, 1], bool)  # two runs of equal length: the first one
    assert _longest_run(ties, 1) == (0, 2)


def _standardised(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    return (x - x.mean()) / x.std()


def test_a_lifted_background_gives_the_input_of_a_black_one():
    """A lower contrast lifts the black background to gray (other scanners, viewers' window levels). Without
    background subtraction the head box grows and the frame's fill no longer matches the background; with it
    the crop is the same and, after the network's per-image standardisation, so is the input."""
    head = synthetic_head(200, canvas=(260, 200), offset=(30, 0))
    lifted = np.asarray(ImageEnhance.Contrast(Image.fromarray(head)).enhance(0.6))
    assert np.percentile(lifted, 1) >= 10  # the background really was lifted
    off = PreprocessConfig(background_percentile=0.0)
    assert head_box(lifted, off) != head_box(head, off)  # the problem
    on = PreprocessConfig()
    a, b = prepare(head, on), prepare(lifted, on)
    assert np.abs(_standardised(a) - _standardised(b)).mean() < 0.05
    assert np.abs(_standardised(a) - _standardised(prepare(lifted, off))).mean() > 0.2


def test_background_subtraction_is_a_no_op_on_black_and_keeps_its_histogram_exact():
    head = synthetic_head()
    hist = Image.fromarray(head).histogram()
    same, same_hist = subtract_background(head, hist, 1.0)
    assert same is head and same_hist is hist
    lifted = np.full((40, 50), 1, np.uint8)  # the lowest lift there is: one gray level, still subtracted
    lifted[10:30, 10:40] = 100
    out, _ = subtract_background(lifted, Image.fromarray(lifted).histogram(), 1.0)
    assert out.min() == 0 and out.max() == 99
    rng = np.random.default_rng(3)
    for _ in range(20):
        img = rng.integers(rng.integers(1, 60), 256, (40, 50)).astype(np.uint8)
        out, out_hist = subtract_background(img, Image.fromarray(img).histogram(), 5.0)
        level = int(np.floor(np.percentile(img, 5)))
        assert level > 0
        np.testing.assert_array_equal(out, np.clip(img.astype(int) - level, 0, 255))
        assert out_hist == Image.fromarray(out).histogram()


def test_models_exported_before_background_subtraction_keep_their_preprocessing():
    legacy = PreprocessConfig.from_dict({"image_size": 160, "threshold": 0.1, "margin": 0.04, "version": 1})
    assert legacy.background_percentile == 0.0
    assert PreprocessConfig.from_dict(PreprocessConfig().to_dict()) == PreprocessConfig()
    assert PreprocessConfig().background_percentile == 1.0


def test_a_background_percentile_of_half_or_more_is_refused():
    from braintumor.train_config import ConfigError, TrainConfig

    with pytest.raises(ValueError, match="background_percentile"):
        PreprocessConfig(background_percentile=50.0)
    with pytest.raises(ConfigError, match="--background-percentile"):
        TrainConfig(data="", out="", background_percentile=-1.0)


def test_equalised_heads_do_not_depend_on_the_gray_scale():
    """A scanner's other contrast or gamma is an increasing curve on the head's gray levels: equalisation
    replaces levels by their rank, so the curve drops out (exactly, while no pixel crosses the head threshold and
    no two levels merge)."""
    head = synthetic_head(160)
    inside = head > 0
    head[inside] = np.maximum(head[inside], 40)  # the head well above its threshold (10 % of the 99th percentile)
    assert inside.mean() > 0.3
    eq = PreprocessConfig(equalize=True)
    levels = np.arange(256, dtype=np.float64)
    # increasing curves that keep distinct levels distinct (a curve that merges two levels merges their ranks)
    for curve in (1.5 * levels - 20, levels + 40 * (levels / 165) ** 2, levels + 30):
        curve = np.where(levels == 0, 0, curve).clip(0, 255).round().astype(np.uint8)
        bent = curve[head]
        assert np.abs(bent.astype(int) - head)[inside].mean() > 10  # the curve really changed the head
        a, b = (np.asarray(equalize_head(Image.fromarray(x), eq)) for x in (head, bent))
        np.testing.assert_array_equal(a, b)
    out = np.asarray(equalize_head(Image.fromarray(head), eq))
    assert (out[~inside] == 0).all() and out[inside].min() >= 26 and out.max() == 255
    # ranks: the head's levels come out spread evenly over 26-255 (a uniform histogram, up to ties)
    assert abs(np.median(out[inside]) - (26 + 255) / 2) < 12
    # at and below the head threshold (10 % of the 99th percentile: 20 here), levels are only rescaled onto 0-26
    steps = np.zeros((8, 64), np.uint8)
    steps[:, :32], steps[:, 32:40], steps[:, 40:48] = 200, 20, 10
    assert np.asarray(equalize_head(Image.fromarray(steps), eq))[0, ::8].tolist() == [255] * 4 + [26, 13, 0, 0]


def test_equalisation_is_off_unless_asked_for_and_recorded_in_the_model():
    from braintumor.train_config import TrainConfig

    assert PreprocessConfig().equalize is False
    assert PreprocessConfig.from_dict({"image_size": 160, "version": 1}).equalize is False  # older models
    on = PreprocessConfig(equalize=True)
    assert PreprocessConfig.from_dict(on.to_dict()) == on
    assert TrainConfig(data="", out="", equalize=True).preprocess_config().equalize is True
    head = synthetic_head(200, canvas=(240, 260), offset=(20, 30))
    assert not np.array_equal(prepare(head, on), prepare(head, PreprocessConfig()))
    blank = np.zeros((50, 60), dtype=np.uint8)  # no head: returned as it is
    np.testing.assert_array_equal(prepare(blank, on), prepare(blank, PreprocessConfig()))
