"""An :class:`~braintumor.heatmap.Explanation`'s fields checked as it is made: one built by hand with a wrong field
(``Explanation("x", None, None)``) was kept, and failed later, deep in numpy, where it was drawn or compared.

Apart from :mod:`braintumor.heatmap` so that the maps' module stays about making and drawing them, as
:mod:`braintumor.prediction_fields` is apart from the answer's.
"""

from __future__ import annotations

import numpy as np

from .prediction import Prediction

#: Said of a heat map holding a NaN (one built by hand: a model's NaN scores are a ModelError before any map).
NAN_HEAT = "a heat map's values are numbers from 0 to 1 (an Explanation's cam), not NaN"


def _kind(value: object) -> str:
    """A wrong array field for an error's words: "a float64 array of shape (3, 4)", or its type."""
    if isinstance(value, np.ndarray):
        return f"a {value.dtype} array of shape {value.shape}"
    return type(value).__name__


def check_explanation(prediction: object, cam: object, image: object) -> None:
    """TypeError or ValueError unless the fields are an Explanation's: a Prediction, None or a float32 map of the
    image's shape with values from 0 to 1 (None for a refused Prediction, as ``explain`` makes it: there is no class to
    explain), and the uint8 2-D image the model saw. The map's values cost two reductions (min and max: ~10 us for the
    shipped 160 x 160 one), not a pass per check."""
    if not isinstance(prediction, Prediction):
        raise TypeError(f"an Explanation's prediction is a Prediction, not {type(prediction).__name__}")
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise TypeError(f"an Explanation's image is the uint8 array the model saw, not {_kind(image)}")
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"an Explanation's image is a 2-D gray image (S, S), not {_kind(image)}")
    if cam is None:  # a refused input's, or a model's exported without its head
        return
    if prediction.ood:
        raise ValueError("a refused Prediction's Explanation has no heat map (cam None): there is no class to explain")
    if not isinstance(cam, np.ndarray) or cam.dtype != np.float32:
        raise TypeError(f"an Explanation's cam is a float32 array (cam.astype(np.float32)) or None, not {_kind(cam)}")
    if cam.shape != image.shape:
        raise ValueError(f"an Explanation's cam has its image's shape {image.shape}, not {cam.shape}")
    low, high = float(cam.min()), float(cam.max())  # (a NaN: both NaN, or one)
    if low != low or high != high:
        raise ValueError(NAN_HEAT)
    if not 0.0 <= low <= high <= 1.0:
        raise ValueError(f"a heat map's values are numbers from 0 to 1 (an Explanation's cam), not {low} to {high}")
