"""Gray levels of any range (16-bit, float, wide integers) stretched onto 8 bits, for every reader.

Why its own module: files (image_io, image_frames), arrays a caller holds (image_arrays) and scans (volume_io) must
turn high bit depths into the same 8-bit levels, and the readers import one another.
"""

from __future__ import annotations

import numpy as np


def finite_or_darkest(arr: np.ndarray) -> np.ndarray:
    """NaN or inf pixels as the darkest finite level: one of them turned a whole float image black (min/max NaN),
    and NaN outside a brain mask is background, not 0 (mid-gray in z-scored data)."""
    finite = np.isfinite(arr)
    return arr if finite.all() else np.where(finite, arr, arr[finite].min() if finite.any() else 0.0)


#: Largest float32: a float32 image whose range (max - min) is wider than this is stretched in float64.
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def minmax_uint8(arr: np.ndarray) -> np.ndarray:
    """Gray levels of any range stretched onto 0-255 (how 16-bit and float images become 8-bit; flat: all 0). In
    float64 unless float32 holds every value: 2**40 + gray levels fell on one float32 level, 1e39 became inf; and
    in float64 when a float32 image's range is wider than float32's largest value (-3e38 to 3e38: its brightest
    pixels overflowed to inf and came out black); halved when the range is wider than float64's largest value."""
    arr = np.asarray(arr)
    if arr.dtype.kind in "iu" and arr.dtype.itemsize == 8 and arr.size:  # as offsets from the minimum (exact, modulo
        # 2**64): float64's steps near the ends of 64-bit integers are 2048 apart, and gray levels fell on one (blank)
        arr = arr.astype(np.uint64) - arr.min().astype(np.uint64)
    exact = arr.dtype == np.float32 or (arr.dtype.itemsize <= 2 and arr.dtype.kind in "uif")
    arr = finite_or_darkest(np.asarray(arr, dtype=np.float32 if exact else np.float64))
    lo, hi = float(arr.min()), float(arr.max())
    if hi <= lo:
        return np.zeros(arr.shape, dtype=np.uint8)
    if hi - lo > _FLOAT32_MAX:  # (exact in float64: every difference under it rounds to a finite float32)
        arr = arr.astype(np.float64)
    if hi - lo == np.inf:  # wider than float64's largest value: halved (exactly), or every pixel became NaN
        arr, lo, hi = arr * 0.5, lo * 0.5, hi * 0.5
    if 255.0 / (hi - lo) > _FLOAT32_MAX:  # a range of subnormal numbers: the factor overflowed (float32's, or 255 /
        # 1e-320 in float64) and every pixel became NaN (0 once cast, with numpy's warnings), so divided instead
        return np.round((arr.astype(np.float64) - lo) / (hi - lo) * 255.0).astype(np.uint8)
    return np.round((arr - lo) * (255.0 / (hi - lo))).astype(np.uint8)


def colour16_uint8(samples: np.ndarray) -> np.ndarray:
    """(H, W, 2, 3 or 4) uint16 gray + alpha or RGB(A) -> uint8: the gray or colour channels stretched together by
    their own range, as a 16-bit gray image is (12 bits of content were used as 12, not cut to their high byte), an
    alpha by its high byte."""
    out = (samples >> 8).astype(np.uint8)
    levels_in = 1 if samples.shape[-1] == 2 else 3
    colour = samples[..., :levels_in]
    lo, hi = int(colour.min()), int(colour.max())
    levels = minmax_uint8(np.arange(lo, hi + 1, dtype=np.uint16))  # each level once (a table: 5 times faster)
    out[..., :levels_in] = levels[colour - np.uint16(lo)]
    return out
