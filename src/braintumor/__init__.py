"""braintumor: classify 2-D brain MRI slices (glioma, meningioma, no tumour, pituitary).

Predicting needs only numpy, Pillow and ONNX Runtime::

    from braintumor import Classifier
    Classifier.load().predict("scan.jpg")
"""

from __future__ import annotations

__version__ = "0.1.0"

from .classes import CLASSES, DISPLAY_NAMES
from .image_io import ImageError
from .predictor import Classifier, ModelError, Prediction

__all__ = ["CLASSES", "DISPLAY_NAMES", "Classifier", "ImageError", "ModelError", "Prediction", "__version__"]
