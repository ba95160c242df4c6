"""Arithmetic written as fewer numpy calls (in place, casts folded into the ufunc) gives the numbers of its plain form
bit for bit: each test keeps the plain form as the reference. Why: these run on every prediction, where each numpy
call costs microseconds, and their outputs (probabilities, colourfulness, scores) are compared across versions."""

from __future__ import annotations

import math

import numpy as np
from conftest import synthetic_head

from braintumor.colour import _RG_FROM_CHROMA, _YB_FROM_CHROMA, _hasler, chroma_colourfulness
from braintumor.ood import _log1p
from braintumor.ood_stats import histogram_std, level_histograms, level_stats
from braintumor.prediction import softmax
from braintumor.preprocess import INPUT_SCALE, PreprocessConfig, _head_box, _runs, to_model_input

RNG = np.random.default_rng(11)


def test_softmax_equals_its_plain_form():
    for _ in range(300):
        logits = RNG.normal(0, 10 ** RNG.uniform(-2, 3), (RNG.integers(1, 5), 4)).astype(np.float32)
        t = float(RNG.uniform(0.2, 3.0))
        z = logits.astype(np.float64) / t
        z -= z.max(axis=-1, keepdims=True)
        e = np.exp(z)
        want = e / e.sum(axis=-1, keepdims=True)
        got = softmax(logits, t)
        assert got.dtype == np.float64 and np.array_equal(got, want)
    assert np.array_equal(softmax(np.array([2.0, 1.0, 0.0])), softmax(np.array([[2.0, 1.0, 0.0]]))[0])  # one row


def _chroma_plain(ycc: np.ndarray) -> float:
    chroma = np.ascontiguousarray(ycc.reshape(-1, 3)[:, 1:].T).astype(np.float64) - 128.0
    n = chroma.shape[1]
    mean = chroma.sum(axis=1) / n
    cov = np.einsum("in,jn->ij", chroma, chroma) / n - np.outer(mean, mean)

    def moments(w: tuple[float, float]) -> tuple[float, float]:
        m = w[0] * mean[0] + w[1] * mean[1]
        var = w[0] ** 2 * cov[0, 0] + w[1] ** 2 * cov[1, 1] + 2 * w[0] * w[1] * cov[0, 1]
        return float(m), math.sqrt(max(float(var), 0.0))

    return _hasler(*moments(_RG_FROM_CHROMA), *moments(_YB_FROM_CHROMA))


def test_chroma_colourfulness_equals_its_plain_form():
    arrays = [RNG.integers(0, 256, (RNG.integers(1, 80), RNG.integers(1, 80), 3)).astype(np.uint8) for _ in range(200)]
    luma_only = np.dstack([RNG.integers(0, 256, (40, 40)), np.full((40, 40), 131), np.full((40, 40), 131)])
    arrays += [np.full((20, 30, 3), 128, np.uint8), luma_only.astype(np.uint8)]
    for ycc in arrays:
        assert chroma_colourfulness(ycc) == _chroma_plain(ycc)


def test_model_input_and_log1p_equal_their_plain_forms():
    for arr in (np.arange(256, dtype=np.uint8).reshape(16, 16), RNG.integers(0, 256, (3, 40, 40)).astype(np.uint8),
                RNG.normal(0, 100, (2, 9, 9))):
        want = (np.asarray(arr, dtype=np.float32) * np.float32(INPUT_SCALE))[..., None, :, :]
        got = to_model_input(arr)
        assert got.dtype == np.float32 and got.shape == want.shape and np.array_equal(got, want)
    x = np.concatenate([RNG.normal(0, 3, (4, 200)), [[np.nan, np.inf, -np.inf, -0.0] * 50]]).astype(np.float32)
    np.testing.assert_array_equal(_log1p(x), np.log1p(np.maximum(x.astype(np.float64), 0)))


def _std_plain(counts: list[int]) -> float:
    m = sum(counts)
    s1, s2 = sum(c * v for v, c in enumerate(counts)), sum(c * v * v for v, c in enumerate(counts))
    return math.sqrt((m * s2 - s1 * s1) / (m * m)) if m else math.nan


def test_histogram_std_equals_its_plain_python_form():
    """The blank check's standard deviation from one int64 product is the exact Python-integer one, for lists and
    arrays, crop-sized and huge counts (a 4096 px crop all at 255 and at two extremes: no int64 overflow)."""
    hists = [RNG.integers(0, 200, 256).tolist() for _ in range(100)]
    hists += [[0] * 255 + [4096 * 4096], [2**31] + [0] * 254 + [2**31], [0] * 256, [0] * 100 + [1] + [0] * 155,
              [508 if v == 32 else 6464222268 if v == 68 else 0 for v in range(256)]]  # float64 moments: 5e-12 off
    hists += [level_histograms(RNG.integers(0, k, (1, 160, 160)).astype(np.uint8))[0] for k in (2, 5, 256)]
    for hist in hists:
        want = _std_plain(hist)
        for given in (hist, np.asarray(hist, dtype=np.int64)):
            got = histogram_std(given)
            assert got == want or (math.isnan(got) and math.isnan(want))


def _head_box_plain(gray: np.ndarray, config: PreprocessConfig) -> tuple[tuple[int, int, int, int], float]:
    """preprocess._head_box as first written: np.percentile, float masks and their means."""
    h, w = gray.shape
    mask = gray > max(np.percentile(gray, 99) * config.threshold, 1.0)
    rows, second_rows = _runs(mask.mean(axis=1) >= config.min_fraction, max(1, h // 50))
    if rows is None:
        side = max(h, w)
        return ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side), 0.0
    top, bottom = rows
    cols, second_cols = _runs(mask[top:bottom].mean(axis=0) >= config.min_fraction, max(1, w // 50))
    left, right = cols if cols is not None else (0, w)
    second = max(second_rows / (bottom - top), second_cols / (right - left))
    side = round(max(bottom - top, right - left) * (1.0 + 2.0 * config.margin))
    left, top = round((left + right) / 2.0 - side / 2.0), round((top + bottom) / 2.0 - side / 2.0)
    return (left, top, left + side, top + side), second


def test_head_box_equals_its_plain_form():
    """The head box counts its rows and columns in uint16 (int64 past 65535 px): the box and the second head are
    those of the float means, on heads, noise, several heads, a blank frame and strips wider than uint16 counts."""
    config = PreprocessConfig()
    grays = [synthetic_head(200, canvas=(300, 260), offset=(40, 30), seed=s) for s in range(5)]
    grays += [RNG.integers(0, 256, (90, 333)).astype(np.uint8), np.zeros((64, 64), np.uint8)]
    grays += [np.hstack([synthetic_head(120, seed=1), np.zeros((120, 30), np.uint8), synthetic_head(120, seed=2)])]
    strip = np.zeros((3, 70_000), np.uint8)
    strip[:, :65_600] = 200  # 65 600 head pixels a row: 64 in uint16, under the 2 % of a head row
    grays += [strip, np.ascontiguousarray(strip.T)]
    for gray in grays:
        assert _head_box(gray, config, None) == _head_box_plain(gray, config)


def _runs_vectorised(mask: np.ndarray, max_gap: int) -> tuple[tuple[int, int] | None, int]:
    """preprocess._runs from the gaps between True indices: (first longest run, second-longest length or 0)."""
    idx = np.flatnonzero(mask)
    if idx.size == 0:
        return None, 0
    breaks = np.flatnonzero(np.diff(idx) > max_gap + 1)
    starts = np.concatenate(([idx[0]], idx[breaks + 1]))
    lengths = np.concatenate((idx[breaks], [idx[-1]])) + 1 - starts
    best = int(np.argmax(lengths))
    return (int(starts[best]), int(starts[best] + lengths[best])), int(np.sort(lengths)[-2]) if len(lengths) > 1 else 0


def test_runs_equal_their_vectorised_form_for_unbroken_and_broken_masks():
    """The shortcut for one unbroken run (most head masks) answers as the loop does: the run, and 0 for the second."""
    for _ in range(2000):
        mask = np.zeros(int(RNG.integers(1, 300)), bool)
        start = int(RNG.integers(0, len(mask)))
        mask[start:start + int(RNG.integers(0, len(mask)))] = True  # one block, maybe empty, maybe to the end
        if RNG.random() < 0.5:
            mask[RNG.integers(0, len(mask), int(RNG.integers(1, 4)))] ^= True  # stray pixels and holes
        gap = int(RNG.integers(0, 6))
        assert _runs(mask, gap) == _runs_vectorised(mask, gap)


def _level_stats_plain(levels: np.ndarray) -> np.ndarray:
    """ood_stats.level_stats as plain int64 counts and sums, in the same float operations, stacked by np.stack."""
    n, size = levels.shape[0], levels.shape[-1]
    flat, img = levels.reshape(n, -1).astype(np.int64), levels.astype(np.int64)
    top = np.percentile(flat, 99, axis=1) + 1.0
    dark = (flat < 0.1 * top[:, None]).sum(axis=1) / size ** 2
    c, lo, hi = max(1, size // 10), size * 5 // 16, size * 11 // 16
    ends = (slice(c), slice(-c, None))
    corners = sum(img[:, r, k].sum(axis=(1, 2)) for r in ends for k in ends)
    edges = np.abs(np.diff(img, axis=2)).sum(axis=(1, 2)) / (size * (size - 1)) / top
    hist = np.stack([np.bincount(row // 16, minlength=16) for row in flat]) / size ** 2
    return np.stack([dark, corners / (4 * c * c) / top, img[:, lo:hi, lo:hi].sum(axis=(1, 2)) / (hi - lo) ** 2 / top,
                     edges, -(hist * np.log(hist + 1e-9)).sum(axis=1)], axis=1)


def test_crop_statistics_equal_their_plain_integer_form():
    heads = np.stack([synthetic_head(128, seed=s) for s in (1, 2)])
    crops = [RNG.integers(0, 256, (3, 160, 160)), RNG.integers(0, 9, (2, 48, 48)), np.zeros((1, 16, 16)),
             np.full((1, 16, 16), 255), synthetic_head(160)[None], heads]
    for levels in crops:
        levels = levels.astype(np.uint8)
        want = _level_stats_plain(levels)
        assert np.array_equal(level_stats(levels), want)
        assert np.array_equal(np.concatenate([level_stats(c[None]) for c in levels]), want)  # one crop's path
