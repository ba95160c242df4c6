"""A DICOM frame's modality LUT stage (Rescale Slope and Intercept, or a Modality LUT Sequence): whether it applies,
its values, whether they fall as the stored ones rise, and a refusal where a rescale leaves nothing to show.

Why its own module: :mod:`braintumor.dicom_io` turns the values into gray levels; what the header's rescale makes of
the stored values, and when it is unusable, is one idea, and kept that module within its size.
"""

from __future__ import annotations

import math

import numpy as np
from pydicom.dataset import Dataset
from pydicom.pixels import apply_modality_lut

from .dicom_frames import header_number
from .image_io import ImageError
from .wording import EXPORT_AGAIN


class RescaleUnusable(ImageError):
    """A Rescale Slope and Intercept that leave nothing to show (:func:`modality_values`): the file's refusal."""


def unmappable_text(why: str) -> str:
    """Why a frame's values cannot become gray levels, ``why`` naming what in its header stops them: one wording."""
    return f"DICOM pixel values cannot be mapped to gray levels ({why}): {EXPORT_AGAIN}"


def rescaled(view: Dataset) -> bool:
    """Whether the modality LUT changes the stored values; so does a Rescale Slope or Intercept that is NaN or
    infinite, beside the other (header_number's None: a NaN slope with a 0 intercept was shown as stored, with a 1
    intercept blank). pydicom rescales only with both: a slope alone leaves the stored values as they are."""
    given = [view.get("RescaleSlope"), view.get("RescaleIntercept")]
    slope, intercept = (header_number(v) for v in given)
    unfinite = None not in given and any(isinstance(v, float) and not math.isfinite(v) for v in given)
    return "ModalityLUTSequence" in view or (slope not in (None, 1.0)) or (intercept not in (None, 0.0)) or unfinite


def modality_values(arr: np.ndarray, view: Dataset) -> np.ndarray:
    """The frame's values through its modality LUT (pydicom's, in float64), ``arr`` itself where none applies.
    Raises RescaleUnusable where the rescale leaves nothing to show (:func:`_rescale_problem`)."""
    if not rescaled(view):
        return arr
    values = apply_modality_lut(arr, view)
    if values is not arr and (problem := _rescale_problem(view, arr, values)):
        raise RescaleUnusable(unmappable_text(problem))
    return values


def _rescale_problem(view: Dataset, stored: np.ndarray, values: np.ndarray) -> str | None:
    """Why the Rescale Slope and Intercept are unusable on these ``stored`` values (rescaled: ``values``), or None:
    values past float64's largest or NaN (a slope of 1e308 left two gray levels, a NaN one a blank slice), or one
    value for all where the stored differ (an intercept of 1e308 swamps them): they were classified as they came out.
    Pixels stored not finite (float pixel data's NaN) are left to the stretch, as they were."""
    if view.get("ModalityLUTSequence"):  # its table's entries: integers
        return None
    if stored.dtype.kind == "f":
        finite = np.isfinite(stored)
        stored, values = stored[finite], values[finite]
    if not np.isfinite(values).all():
        return "its Rescale Slope and Intercept give values that are not finite: too large to hold, or NaN"
    if values.size and values.min() == values.max() and stored.min() != stored.max():
        return "its Rescale Slope and Intercept give every pixel the same value"
    return None


def falling(view: Dataset, stored: np.ndarray, values: np.ndarray) -> bool:
    """Whether the rescaled ``values`` fall as the ``stored`` ones rise (a negative Rescale Slope, or a Modality LUT
    Sequence whose table falls: the stored lowest, int16's -32768 padding, maps to its first entry, its highest):
    padding is then looked for in the values as stored (:func:`braintumor.slice_pixels.falling_uint8`). A falling
    table's padding was shown white, where a negative slope's was black."""
    if view.get("ModalityLUTSequence"):  # the table, as pydicom's apply_modality_lut prefers it: at the stored ends
        return stored.size > 0 and bool(values.flat[int(np.argmax(stored))] < values.flat[int(np.argmin(stored))])
    slope = header_number(view.get("RescaleSlope"))
    return slope is not None and slope < 0
