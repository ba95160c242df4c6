"""A scan slice's raw values made into the uint8 gray levels a reader returns: by a display window, by robust
percentiles, and resampled to square pixels (when the header's pixel size is believable: :func:`far_from_square`).

Why its own module: the DICOM and NIfTI readers share these few numeric steps, and they need nothing of how scans
are found or read (:mod:`braintumor.volume_io`); high bit depths of 2-D images are :mod:`braintumor.gray_levels`.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image

from .gray_levels import finite_or_darkest
from .image_io import MAX_PIXELS, ImageError

#: Percentiles mapped to 0 and 255 when a slice has no display window of its own.
LOW_PERCENTILE, HIGH_PERCENTILE = 0.5, 99.5
#: Values :func:`scale_to_uint8` converts to float64 at a time (2 MB): its temporaries are a block's, not a slice's.
_BLOCK = 1 << 18


def scale_to_uint8(values: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """Map [lo, hi] linearly onto 0..255 (clipped); lo > hi inverts; lo == hi gives black. A range of subnormal
    numbers (a DICOM Rescale Slope of 1e-320) is divided by: its factor overflowed, and the slice came out in two
    levels (NaN and 255), as :func:`braintumor.gray_levels.minmax_uint8` once did. In float64 blocks of rows, each
    step in place: whole-slice temporaries took three float64 copies (a 6300 x 6300 slice peaked near 1.3 GB)."""
    values = np.asarray(values)
    if hi == lo or not np.isfinite(hi - lo):
        return np.zeros(values.shape, dtype=np.uint8)
    factor = 255.0 / (hi - lo)
    rows = values.reshape(1) if values.ndim == 0 else values
    out = np.empty(rows.shape, dtype=np.uint8)
    step = max(1, _BLOCK // max(1, math.prod(rows.shape[1:])))
    for i in range(0, len(rows), step):
        block = np.asarray(rows[i : i + step], dtype=np.float64) - lo
        if math.isfinite(factor):
            block *= factor
        else:
            block /= hi - lo
            block *= 255.0
        out[i : i + step] = np.round(np.clip(block, 0.0, 255.0, out=block), out=block)
    return out.reshape(values.shape)


def padding(values: np.ndarray) -> np.ndarray | None:
    """The pixels that pad a slice's background rather than image anything, or None: its lowest value when it is
    negative, held by more than LOW_PERCENTILE % of the pixels (fewer do not move the stretch), and farther below the
    next lowest value than the rest of the values span (int16's -32768 around a head of 0..1000). A background of 0,
    MRI's own, is never padding."""
    lowest = values.min()
    if not lowest < 0:
        return None
    pad = values == lowest
    n = int(np.count_nonzero(pad))
    if n * 100 <= LOW_PERCENTILE * values.size or n == values.size:
        return None
    rest = ~pad  # its ends without copying it (a float64 copy of a 40 M-pixel slice is 320 MB)
    low, high = values.min(where=rest, initial=values.max()), values.max(where=rest, initial=lowest)
    return pad if high > low and low - lowest > high - low else None


def robust_uint8(values: np.ndarray, pad: np.ndarray | None = None) -> np.ndarray:
    """0.5th..99.5th percentile -> 0..255, so a few extreme voxels do not darken the whole slice. The percentiles are
    those of the pixels that are not padding (``pad``, where the header says which, else :func:`padding`): a head on
    a -32768 background was stretched from -32768, and shown in a handful of gray levels; the padding shows black."""
    source = np.asarray(values)
    converted = np.asarray(source, dtype=np.float64)
    if converted.size == 0:
        raise ImageError("slice has no pixels")
    arr = finite_or_darkest(converted)
    if max(-float(arr.min()), float(arr.max())) > 2.0 ** 1000:  # a float64 slice out to +-1.5e308: hi - lo
        arr = np.ldexp(arr, -64)  # overflowed to inf, the slice came out black; a power of two scales exactly
    pad = padding(arr) if pad is None or not pad.any() else pad
    whole = pad is None or pad.all()
    # ``own``: arr is ``source`` in float64 as it is (finite, unscaled), a copy of our own: sorted in place, and then
    # ``source`` is what is stretched (no second float64 copy; a slice peaked at 3 to 4). With padding, that copy is
    # dropped before the rest is copied out, of ``source`` (made beside it, a padded slice peaked at 2.1 copies)
    own = converted is not source and arr is converted
    if own and not whole:
        converted = arr = source
    sample = arr if whole else np.asarray(arr[~pad], dtype=np.float64)
    ends = np.percentile(sample, [LOW_PERCENTILE, HIGH_PERCENTILE], overwrite_input=own or not whole)
    lo, hi = float(ends[0]), float(ends[1])
    if hi <= lo:  # nearly constant, e.g. a blank slice with a few bright voxels
        lo, hi = float(sample.min()), float(sample.max())
    if hi <= lo:  # a flat head on its padding: shown as before, bright on black
        lo, hi = float(arr.min()), float(arr.max())
    return scale_to_uint8(source if own else arr, lo, hi)


def falling_uint8(values: np.ndarray, stored: np.ndarray, pad: np.ndarray | None = None) -> np.ndarray:
    """:func:`robust_uint8` of ``values`` that fall as the values as ``stored`` rise (a negative rescale slope: DICOM's
    Rescale Slope, NIfTI's scl_slope), their padding (``pad``, where the header says which, else :func:`padding` of
    the stored values) put below the rest: int16's -32768 around a head is the brightest value once rescaled, and was
    stretched into the head's levels (a handful of them, under a white background). It is left out and shown black,
    as the same values under a positive slope are; the levels are the values' own, not inverted. Without padding:
    :func:`robust_uint8`'s, padding at the lowest value once rescaled (the stored highest) left out as ever."""
    if pad is None or not pad.any():
        pad = padding(np.asarray(stored, dtype=np.float64))  # (float: -32768's distance overflowed int16)
    if pad is None or pad.all():
        return robust_uint8(values, pad)
    arr = np.asarray(values, dtype=np.float64)
    below = float(arr[~pad].min())  # the padding put below the head: black
    return robust_uint8(np.where(pad, below - max(1.0, abs(below)), arr), pad)


#: Most times one side of a pixel may be longer than the other for a header's pixel size to be believed, when the
#: slice is the plane the scanner acquired (DICOM's Pixel Spacing): real MR pixels are square or nearly (a reduced
#: phase field of view gives 2:1 at most); 1 x 1e38 mm made every slice a one-pixel strip, refused as 'extreme aspect
#: ratio' with no word of why.
MAX_PIXEL_ASPECT: float = 4.0
#: The same for a plane cut from a NIfTI volume, which may hold the slice direction (a coronal stack too small to cut
#: in its own plane is cut axially): slices of up to ~7 mm (gap included) over pixels down to ~0.2 mm are real,
#: 1e5 x 0.001 mm is not.
MAX_VOXEL_ASPECT: float = 50.0


def far_from_square(row_mm: float, col_mm: float, limit: float) -> str | None:
    """Why pixels of ``row_mm`` x ``col_mm`` (both positive) are too far from square for the sizes to be believed, or
    None: the one rule by which a header's pixel size is ignored and the pixels taken as square."""
    if max(row_mm, col_mm) > limit * min(row_mm, col_mm):
        return f"over {limit:g} times as long as wide"
    return None


def squared_shape(h: int, w: int, row_mm: float | None, col_mm: float | None) -> tuple[int, int]:
    """The (rows, columns) :func:`square_pixels` makes of an ``h`` x ``w`` slice, known from a header before any
    pixel is decoded: the readers' pixel budget counts the pixels made (up to twice the voxels), not those stored."""
    if not (row_mm and col_mm and 0 < row_mm < math.inf and 0 < col_mm < math.inf) or abs(row_mm / col_mm - 1.0) < 0.01:
        return h, w
    step = min(row_mm, col_mm)
    if max(row_mm, col_mm) / step > 2:  # finer pixels merged, not coarser ones split: at most twice the pixels the
        step = max(row_mm, col_mm)  # headers declared (a spacing of 0.00017 x 1 mm made one slice 64 x 376 471)
    # the scale first: a spacing near the float limit (1e308 x 6e307 mm) overflowed h * row_mm to inf, an
    # OverflowError that made the scan 'could not be read'
    new_h, new_w = max(1, round(h * (row_mm / step))), max(1, round(w * (col_mm / step)))
    return (h, w) if new_h * new_w > MAX_PIXELS else (new_h, new_w)


def budget_pixels(h: int, w: int, row_mm: float | None, col_mm: float | None) -> int:
    """The pixels an ``h`` x ``w`` slice takes of a scan budget: those decoded or those :func:`squared_shape` makes,
    whichever more (merged to square pixels, a slice of 1 x 50 mm held a fiftieth of what was decoded for it)."""
    return max(h * w, math.prod(squared_shape(h, w, row_mm, col_mm)))


def square_pixels(gray: np.ndarray, row_mm: float | None, col_mm: float | None) -> np.ndarray:
    """Resample a slice with non-square pixels (row_mm != col_mm) so anatomy keeps its shape."""
    new_h, new_w = squared_shape(*gray.shape, row_mm, col_mm)
    if (new_h, new_w) == gray.shape:
        return gray
    return np.asarray(Image.fromarray(gray).resize((new_w, new_h), Image.Resampling.BILINEAR), dtype=np.uint8)
