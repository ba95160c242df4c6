"""How colourful a picture is: an MRI slice is gray, a photo is not (one of the out-of-distribution checks).

Its own home so that the decoder (:mod:`braintumor.image_io`) and the tests share one definition.
"""

from __future__ import annotations

import math

import numpy as np


def colourfulness(rgb: np.ndarray) -> float:
    """Hasler & Suesstrunk (2003) colourfulness of an (H, W, 3) array: 0 for gray, ~20+ for photos."""
    # one conversion to contiguous channel planes: the statistics then run on unit-stride arrays
    r, g, b = np.ascontiguousarray(rgb[..., :3].reshape(-1, 3).T, dtype=np.float32)
    rg, yb = r - g, 0.5 * (r + g) - b
    return _hasler(float(rg.mean()), float(rg.std()), float(yb.mean()), float(yb.std()))


def _hasler(mean_rg: float, std_rg: float, mean_yb: float, std_yb: float) -> float:
    """The colourfulness formula from the opponent channels' means and standard deviations."""
    return math.hypot(std_rg, std_yb) + 0.3 * math.hypot(mean_rg, mean_yb)


#: R - G and (R + G) / 2 - B as linear functions of (Cb - 128, Cr - 128) in the JFIF YCbCr -> RGB conversion.
_RG_FROM_CHROMA = (0.344136, 2.116136)
_YB_FROM_CHROMA = (-1.944068, 0.343932)


def chroma_colourfulness(ycc: np.ndarray) -> float:
    """:func:`colourfulness` of (H, W, 3) YCbCr pixels (a JPEG's own colour space), from Cb and Cr alone.

    In the JFIF conversion to RGB the luma cancels out of both opponent channels (R - G and
    (R + G) / 2 - B are linear in Cb and Cr), so no RGB image is needed, and their means and standard
    deviations follow from the first and second moments of (Cb, Cr): two numpy passes instead of a dozen.
    Gray content (Cb = Cr = 128) scores exactly 0. RGB's clipping to 0-255 is left out (saturated photos)."""
    # (2, n) contiguous planes (numpy's reductions over an (n, 2) layout are ~20x slower), made in one call
    chroma = np.subtract(ycc.reshape(-1, 3)[:, 1:].T, 128.0, dtype=np.float64, order="C")
    n = chroma.shape[1]
    mean_arr = chroma.sum(axis=1) / n
    cov_arr = np.einsum("in,jn->ij", chroma, chroma) / n - np.outer(mean_arr, mean_arr)  # einsum: no BLAS threads
    mean, cov = mean_arr.tolist(), cov_arr.tolist()  # Python floats: the same double arithmetic, without numpy scalars

    def moments(w: tuple[float, float]) -> tuple[float, float]:
        m = w[0] * mean[0] + w[1] * mean[1]
        var = w[0] ** 2 * cov[0][0] + w[1] ** 2 * cov[1][1] + 2 * w[0] * w[1] * cov[0][1]
        return m, math.sqrt(max(var, 0.0))

    return _hasler(*moments(_RG_FROM_CHROMA), *moments(_YB_FROM_CHROMA))
