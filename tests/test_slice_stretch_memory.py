"""A slice's percentile stretch (:func:`robust_uint8`) holds about one float64 copy of it (padding or not), not
3 to 5: a 6300 x 6300 int16 slice (40 M pixels, the most a reader takes) peaked at 1.3 GB in its temporaries, 1.5 GB
with -32768 padding (then 640 MB: the rest copied out beside the float64 copy). The gray levels are the same as ever,
to the bit."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from braintumor.slice_pixels import HIGH_PERCENTILE, LOW_PERCENTILE, robust_uint8, scale_to_uint8

SIDE = 2500


def _slice(kind: str) -> np.ndarray:
    rng = np.random.default_rng(0)
    if kind == "float64":
        return rng.normal(100.0, 30.0, (SIDE, SIDE))
    values = rng.integers(0, 1000, (SIDE, SIDE), dtype=np.int16)
    if kind == "padded int16":
        values[: SIDE // 4] = -32768
    return values


def _peak_bytes(values: np.ndarray) -> int:
    tracemalloc.start()
    try:
        robust_uint8(values)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize(("kind", "copies"), [("int16", 1.5), ("float64", 1.5), ("padded int16", 1.5)])
def test_the_stretch_peaks_near_one_float64_copy_of_the_slice(kind, copies):
    """Peaks were 4 float64 copies (int16), 3 (float64, beside the caller's own) and 4.9 (padded): whole-slice
    temporaries of the scaling, np.abs for the range check, the padding's rest copied, the percentiles' copy; then
    2.1 with padding: the rest (not the padding) was copied out of the float64 copy, kept beside it to be stretched."""
    values = _slice(kind)
    peak = _peak_bytes(values)
    assert peak < copies * 8 * values.size, f"peak {peak / (8 * values.size):.2f} float64 copies of the slice"


@pytest.mark.parametrize("dtype", [np.int16, np.float32, np.float64])
def test_the_stretch_is_the_plain_formulas_to_the_bit(dtype):
    """Against the percentiles and the scaling written out on a float64 copy: blocks of rows and a copy sorted in
    place change no gray level (a slice over several blocks, odd percentiles between values)."""
    rng = np.random.default_rng(1)
    values = (rng.normal(300.0, 90.0, (733, 701)) * (1 if dtype is np.int16 else 1.37)).astype(dtype)
    kept = values.copy()
    arr = values.astype(np.float64)
    lo, hi = np.percentile(arr, [LOW_PERCENTILE, HIGH_PERCENTILE])
    want = np.round(np.clip((arr - lo) * (255.0 / (hi - lo)), 0.0, 255.0)).astype(np.uint8)
    assert np.array_equal(robust_uint8(values), want)
    assert np.array_equal(values, kept)  # the caller's slice is never the one sorted
    inverted = np.round(np.clip((arr - hi) * (255.0 / (lo - hi)), 0.0, 255.0)).astype(np.uint8)
    assert np.array_equal(scale_to_uint8(values, hi, lo), inverted)  # lo > hi inverts


@pytest.mark.parametrize("dtype", [np.int16, np.float32, np.float64])
@pytest.mark.parametrize("head", ["ramp", "flat"])
def test_a_padded_stretch_is_the_plain_formulas_to_the_bit(dtype, head):
    """With padding, the percentiles are the rest's (a copy made of the caller's slice once the float64 copy is
    dropped, or of that copy where it is not the slice's own values) and a flat head is stretched over the slice's
    own ends: the same gray levels as those written out on a float64 copy."""
    rng = np.random.default_rng(2)
    values = rng.normal(300.0, 90.0, (733, 701)) if head == "ramp" else np.full((733, 701), 700.0)
    values[:200] = -32768
    values = values.astype(dtype)
    kept = values.copy()
    arr = values.astype(np.float64)
    rest = arr[arr > -32768]
    lo, hi = np.percentile(rest, [LOW_PERCENTILE, HIGH_PERCENTILE])
    if hi <= lo:
        lo, hi = arr.min(), arr.max()
    want = np.round(np.clip((arr - lo) * (255.0 / (hi - lo)), 0.0, 255.0)).astype(np.uint8)
    assert np.array_equal(robust_uint8(values), want)
    assert np.array_equal(values, kept)
