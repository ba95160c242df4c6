"""An Explanation built by hand keeps the promises of the ones ``explain`` makes (its docstring): a Prediction, the
uint8 image the model saw and None or a float32 map of its shape from 0 to 1; ``Explanation("x", None, None)`` was
kept, and failed later where it was drawn (``image_png``) or compared."""

from __future__ import annotations

import numpy as np
import pytest

from braintumor import Prediction
from braintumor.heatmap import Explanation

PRED = Prediction("glioma", 0.97, {"glioma": 0.97, "meningioma": 0.01, "notumor": 0.01, "pituitary": 0.01})
REFUSED = Prediction(None, None, PRED.probabilities, ood=True, ood_score=1.5)
IMAGE = np.arange(64, dtype=np.uint8).reshape(8, 8)
CAM = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)


def _with(value: float) -> np.ndarray:
    cam = CAM.copy()
    cam[2, 3] = value
    return cam


@pytest.mark.parametrize(("fields", "error", "said"), [
    (("x", None, None), TypeError, r"^an Explanation's prediction is a Prediction, not str$"),
    ((PRED, None, None), TypeError, r"^an Explanation's image is the uint8 array the model saw, not NoneType$"),
    ((PRED, None, IMAGE / 255), TypeError, r"image is the uint8 array .*, not a float64 array of shape \(8, 8\)$"),
    ((PRED, None, IMAGE.tolist()), TypeError, r"image is the uint8 array the model saw, not list$"),
    ((PRED, None, IMAGE[None]), ValueError, r"^an Explanation's image is a 2-D gray image \(S, S\), not a uint8 array "
                                            r"of shape \(1, 8, 8\)$"),
    ((PRED, None, IMAGE[:0]), ValueError, r"image is a 2-D gray image \(S, S\), not a uint8 array of shape \(0, 8\)$"),
    ((PRED, CAM.astype(np.float64), IMAGE), TypeError, r"^an Explanation's cam is a float32 array \(cam\.astype\(np\."
                                                       r"float32\)\) or None, not a float64 array of shape \(8, 8\)$"),
    ((PRED, "cam", IMAGE), TypeError, r"cam is a float32 array .* or None, not str$"),
    ((PRED, CAM[:4], IMAGE), ValueError, r"^an Explanation's cam has its image's shape \(8, 8\), not \(4, 8\)$"),
    ((PRED, _with(np.nan), IMAGE), ValueError, r"^a heat map's values are numbers from 0 to 1 \(an Explanation's "
                                               r"cam\), not NaN$"),
    ((PRED, _with(1.5), IMAGE), ValueError, r"^a heat map's values are numbers from 0 to 1 \(an Explanation's cam\), "
                                            r"not 0\.0 to 1\.5$"),
    ((PRED, _with(-np.inf), IMAGE), ValueError, r"not -inf to 1\.0$"),
    ((REFUSED, CAM, IMAGE), ValueError, r"^a refused Prediction's Explanation has no heat map \(cam None\): there is "
                                        r"no class to explain$"),
], ids=["prediction", "no image", "float image", "list image", "3-D image", "empty image", "float64 map", "str map",
        "map of another shape", "NaN", "past 1", "infinite", "refused with a map"])
def test_an_explanation_of_wrong_fields_is_refused_when_made(fields, error, said):
    with pytest.raises(error, match=said):
        Explanation(*fields)


def test_the_fields_explain_makes_stay():
    """What ``explain`` makes (a map from 0 to 1, or None) and a map of zeros (a model whose evidence is nowhere)."""
    for cam in (CAM, None, np.zeros((8, 8), np.float32), np.ones((8, 8), np.float32)):
        explained = Explanation(PRED, cam, IMAGE)
        assert explained.image_png().startswith(b"\x89PNG") and explained == Explanation(PRED, cam, IMAGE.copy())
    assert Explanation(REFUSED, None, IMAGE).heatmap_png() is None  # a refused input's, as explain makes it
