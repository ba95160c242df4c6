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
import sys
from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .classes import CLASSES, DISPLAY_NAMES
    from .image_io import ImageError
    from .model_files import ModelError
    from .prediction import DISCLAIMER, Prediction
    from .predictor import Classifier

__version__ = "0.1.0"

# ONNX Runtime's telemetry, on by default in recent releases on Linux too, writes a device ID under ~/.cache at import
# and contacts Microsoft's event service: a tool for medical images sends nothing unasked, and the container's root
# file system stays read-only (compose.yaml). Set before onnxruntime is imported (every submodule imports this file
# first, and none of them imports onnxruntime before it); ORT_DISABLE_TELEMETRY=0 in the environment turns it back on.
os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")

# ONNX Runtime reads the variable once, at its own import: imported before this package, it has already written its
# device ID, and its later events (session creation, run errors) are turned off here (the values it reads as true)
if "onnxruntime" in sys.modules and os.environ["ORT_DISABLE_TELEMETRY"].strip().lower() in ("1", "true", "yes", "on"):
    sys.modules["onnxruntime"].disable_telemetry_events()

__all__ = ["CLASSES", "DISCLAIMER", "DISPLAY_NAMES", "Classifier", "ImageError", "ModelError", "Prediction",
           "__version__"]

#: The module each name of the API comes from, imported when the name is first used (PEP 562): importing the package
#: (which every submodule import does first) loads neither ONNX Runtime nor the predictor, so that ``braintumor
#: --help``, ``data check`` and ``data audit`` do not load them for nothing.
_HOMES = {"CLASSES": "classes", "DISPLAY_NAMES": "classes", "ImageError": "image_io", "DISCLAIMER": "prediction",
          "Classifier": "predictor", "ModelError": "model_files", "Prediction": "prediction"}


def __getattr__(name: str) -> object:
    """An API name (:data:`__all__`) from its module, imported now; any other name is missing, as it was."""
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_HOMES[name]}", __name__), name)
    globals()[name] = value  # found directly from now on
    return value


def __dir__() -> list[str]:
    """The package's names, the API's among them before they are imported (``dir``, ``help``, tab completion)."""
    return sorted(set(globals()) | set(__all__))
