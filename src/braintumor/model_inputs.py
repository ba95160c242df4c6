"""What the network and ``Classifier.classify_crops`` take, checked before either runs: a wrong shape or type failed
deep in ONNX Runtime, or was silently read at the wrong scale.

Why its own module: :mod:`braintumor.preprocess` makes the inputs, the predictor checks what it is handed.
"""

from __future__ import annotations

import numpy as np


def check_model_input(batch: np.ndarray, size: int) -> np.ndarray:
    """``batch`` as an array, checked to be what the network takes: finite floats (N, 1, size, size). Why: one
    image's (1, S, S) input (what :func:`braintumor.preprocess.preprocess` gives) failed deep in ONNX Runtime ("Invalid
    rank for input"), and uint8 crops were taken as levels 0-255 where [0, 1] belong, and a NaN was answered with NaN
    probabilities: silently wrong answers. Not run on what ``to_model_input`` made of uint8 crops (finite by
    construction): ``Classifier.predict`` saves this pass over its input."""
    arr = np.asarray(batch)
    if arr.ndim != 4 or arr.shape[1:] != (1, size, size):
        raise ValueError(f"expected a batch of model inputs of shape (N, 1, {size}, {size}), got one of shape "
                         f"{arr.shape}: x[None] makes a batch of one preprocess(...) output, np.stack of several")
    if arr.dtype.kind != "f":
        raise ValueError(f"expected model inputs as floats in [0, 1] (what preprocess gives), not {arr.dtype}: "
                         "uint8 crops (N, S, S) go to Classifier.classify_crops")
    with np.errstate(over="ignore", invalid="ignore"):  # what the check below finds, not a warning
        if arr.dtype != np.float32:  # the network's type, checked as it will run: 1e39 in float64 is inf in float32
            arr = arr.astype(np.float32)
        # a finite sum is all finite (a NaN or an infinity carries through it): no bool copy of the batch (a quarter
        # of its bytes); the full check only where it is not (large finite values can sum past float32's range)
        total = np.add.reduce(arr, axis=None)
    if not np.isfinite(total) and not (finite := np.isfinite(arr)).all():
        # NaN probabilities, and classify's label the first class, ood False: a silent answer
        first = int(np.flatnonzero(~finite.reshape(len(arr), -1).all(axis=1))[0])
        raise ValueError(f"model inputs must be finite floats in [0, 1] (what preprocess gives), not NaN or infinite "
                         f"values (image {first} first): predict(array) reads them as background, as a float file's")
    return arr


def check_crops(crops: np.ndarray, size: int) -> np.ndarray:
    """``crops`` checked to be uint8 (N, size, size), as ``Classifier.inspect_crop`` makes them: one crop (S, S)
    failed on "zip() argument 2 is longer than argument 1", and float crops in [0, 1] read as near black."""
    arr = np.asarray(crops)
    if arr.ndim != 3 or arr.shape[1:] != (size, size) or arr.dtype != np.uint8:
        raise ValueError(f"expected uint8 crops of shape (N, {size}, {size}), got {arr.dtype} of shape {arr.shape}"
                         ": crop[None] makes a stack of one inspect_crop(...) crop; float model inputs go to classify")
    return arr
