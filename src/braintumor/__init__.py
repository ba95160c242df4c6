"""braintumor: classify 2-D brain MRI slices (glioma, meningioma, pituitary tumour, no tumour).

Not a medical device: research software, not clinically validated; not for diagnosis, treatment or triage.
Predictions can be wrong; a qualified clinician must interpret every scan. (``braintumor.DISCLAIMER``: the words the
web page and the CLI's table show beside their answers, for an application built on this API to show beside its own.)

Predicting needs only numpy, Pillow and ONNX Runtime::

    from braintumor import Classifier
    Classifier.load().predict("scan.jpg")
"""

from __future__ import annotations

import os

__version__ = "0.1.0"

# ONNX Runtime's telemetry, on by default in recent releases on Linux too, writes a device ID under ~/.cache at import
# and contacts Microsoft's event service: a tool for medical images sends nothing unasked, and the container's root
# file system stays read-only (compose.yaml). Set before onnxruntime is imported (every submodule imports this file
# first); ORT_DISABLE_TELEMETRY=0 in the environment turns it back on.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

import onnxruntime as _ort

from .classes import CLASSES, DISPLAY_NAMES
from .image_io import ImageError
from .prediction import DISCLAIMER
from .predictor import Classifier, ModelError, Prediction

# ONNX Runtime reads the variable once, at its own import: imported before this package, it has already written its
# device ID, and its later events (session creation, run errors) are turned off here (the values it reads as true)
if os.environ["ORT_DISABLE_TELEMETRY"].strip().lower() in ("1", "true", "yes", "on"):
    _ort.disable_telemetry_events()

__all__ = ["CLASSES", "DISCLAIMER", "DISPLAY_NAMES", "Classifier", "ImageError", "ModelError", "Prediction",
           "__version__"]
