"""Five statistics of a model-input crop that describe "a head on a black background" (dark fraction, corner and
centre brightness, edge energy, histogram entropy), for the out-of-distribution distance (:mod:`braintumor.ood`).

Crops are 8-bit images, so everything is computed on their integer levels: from the uint8 crops themselves where the
caller has them (``Classifier.classify_crops``), else from the float model input (:func:`image_stats`).
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from .preprocess import histogram_percentile, histogram_percentile_one


def image_stats(prepared: np.ndarray) -> np.ndarray:
    """(N, 5) statistics of model-input crops (N, S, S) on the 0-255 scale.

    Crops are 8-bit images (the float input times 255 is within 2e-5 of an integer), so everything is
    computed on the integer levels (:func:`crop_levels`, then :func:`level_stats`)."""
    return level_stats(crop_levels(prepared))


def crop_levels(prepared: np.ndarray) -> np.ndarray:
    """The uint8 levels (N, S, S) of float crops on the 0-255 scale: for the crops behind a model input (uint8 / 255
    * 255 in float32) exactly the uint8 crops (``tests/test_ood_crops.py``), which callers that have them pass."""
    x = np.asarray(prepared, dtype=np.float32)
    # +0.5 and truncation = np.rint for values this close to integers, in one cheaper pass
    return np.clip(x + np.float32(0.5), 0, 255).astype(np.uint8)


def level_histograms(levels: np.ndarray) -> list[list[int]]:
    """The 256-bin histogram of each uint8 crop (N, S, S), as Pillow gives it (a list): a third less time than
    ``np.bincount``, which first widens every pixel to int64 (41 against 59 us per 160 px test crop, interleaved)."""
    return [Image.fromarray(np.ascontiguousarray(crop)).histogram() for crop in levels]


def crop_tops(counts: list[list[int]] | np.ndarray) -> np.ndarray:
    """Each crop's 99th percentile + 1, from its 256-bin histogram (N, 256): the scale of :func:`level_stats` and of
    the skull-stripped note's head pixels (``stripped.ringless_share``), made once for both on the prediction path.
    One crop's list, as :func:`level_histograms` gives it, is read as it is: the array of it, made and turned back into
    a list (``histogram_percentile``'s way for one row), cost every single prediction some 5 us for the same number."""
    if isinstance(counts, list) and len(counts) == 1 and isinstance(counts[0], list):
        return np.array([histogram_percentile_one(counts[0], 99) + 1.0])
    return histogram_percentile(np.asarray(counts, dtype=np.int64).reshape(-1, 256), 99) + 1.0  # (no crops: (0, 256))


def level_stats(levels: np.ndarray, counts: list[list[int]] | np.ndarray | None = None,
                tops: np.ndarray | None = None) -> np.ndarray:
    """:func:`image_stats` of uint8 crops (N, S, S), from one 256-bin histogram per crop (``counts``:
    :func:`level_histograms`, when the caller has them; ``tops``: :func:`crop_tops` of them, likewise) and exact
    integer sums.

    One histogram gives both the 99th percentile and the 16-bin intensity histogram (~10x cheaper than sorting),
    and the region means and edge energy are integer sums of uint8 pixels (about half the time of the same sums
    in float32), in int32 where no sum can overflow it (twice as fast as int64)."""
    counts = level_histograms(levels) if counts is None else counts
    n, size = levels.shape[0], levels.shape[-1]
    npx = size * size
    counts = np.asarray(counts, dtype=np.int64)
    wide = np.int32 if 255 * npx < 2**31 else np.int64
    top = crop_tops(counts) if tops is None else tops
    # share of pixels darker than 0.1 * top: integer levels v < t fill the first ceil(t) bins (t > 0)
    below = np.minimum(np.ceil(0.1 * top), 256).astype(np.int64)
    dark = np.cumsum(counts, axis=1)[np.arange(n), below - 1] / npx
    img = levels.reshape(n, size, size)

    def total(region: np.ndarray) -> np.ndarray:
        return region.sum(axis=(1, 2), dtype=wide)

    c = max(1, size // 10)
    corners = (total(img[:, :c, :c]) + total(img[:, :c, -c:]) + total(img[:, -c:, :c])
               + total(img[:, -c:, -c:])) / (4 * c * c)
    lo, hi = size * 5 // 16, size * 11 // 16
    centre = total(img[:, lo:hi, lo:hi]) / (hi - lo) ** 2 / top
    left, right = img[:, :, :-1], img[:, :, 1:]
    diff = np.maximum(left, right)
    diff -= np.minimum(left, right)  # |diff| in uint8
    edges = diff.reshape(n, -1).sum(axis=1, dtype=wide) / (size * (size - 1)) / top
    hist = counts.reshape(n, 16, 16).sum(axis=2) / npx
    entropy = -(hist * np.log(hist + 1e-9)).sum(axis=1)
    # (N, 5), one column per statistic: np.stack(..., axis=1) makes the same array at ~4x the cost (9 against 2.5 us)
    return np.array([dark, corners / top, centre, edges, entropy]).T


def histogram_std(counts: list[int] | np.ndarray) -> float:
    """The standard deviation of the levels a 256-bin histogram counts, from exact integer moments (to 1 ulp).

    The moments are one int64 product (exact: 255^2 times any pixel count up to 2^40 fits; no BLAS for integers),
    ~15x cheaper than summing 256 Python products twice; the formula then runs on Python ints, which cannot
    overflow."""
    m, s1, s2 = (np.asarray(counts, dtype=np.int64) @ _POWERS).tolist()
    return math.sqrt((m * s2 - s1 * s1) / (m * m)) if m else math.nan


#: (1, v, v^2) for each level v: a histogram times this is (pixel count, sum of levels, sum of squared levels).
_POWERS = np.array([[1, v, v * v] for v in range(256)], dtype=np.int64)
