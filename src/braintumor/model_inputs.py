"""What the network and ``Classifier.classify_crops`` take (and the infos beside them), checked before either runs: a
wrong shape or type failed deep in ONNX Runtime, or was silently read at the wrong scale.

Why its own module: :mod:`braintumor.preprocess` makes the inputs, the predictor checks what it is handed.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from .image_io import InputInfo
from .wording import counted

#: How far past [0, 1] a model input may lie and still be taken: preprocess's own lie in [0, 1]; a caller's resize of
#: them (bicubic) overshoots a little. Levels 0-255, [-1, 1] or standardised inputs lie far past it.
INPUT_SLACK: float = 0.05


def check_model_input(batch: np.ndarray, size: int) -> np.ndarray:
    """``batch`` as an array, checked to be what the network takes: finite floats in [0, 1] (give or take
    :data:`INPUT_SLACK`) of shape (N, 1, size, size). Why: one image's (1, S, S) input (what
    :func:`braintumor.preprocess.preprocess` gives) failed deep in ONNX Runtime ("Invalid rank for input"); uint8
    crops, float levels 0-255 or a caller's own normalisation were answered as if in [0, 1], and a NaN with NaN
    probabilities: silently wrong answers. Not run on what ``to_model_input`` made of uint8 crops (in range by
    construction): ``Classifier.predict`` saves this pass over its input."""
    arr = _as_array(batch, "model inputs", (1, size, size))
    if arr.ndim != 4 or arr.shape[1:] != (1, size, size):
        raise ValueError(f"expected a batch of model inputs of shape (N, 1, {size}, {size}), got one of shape "
                         f"{arr.shape}: x[None] makes a batch of one preprocess(...) output, np.stack of several")
    if arr.dtype.kind != "f":
        raise ValueError(f"expected model inputs as floats in [0, 1] (what preprocess gives), not {arr.dtype}: "
                         "uint8 crops (N, S, S) go to Classifier.classify_crops")
    with np.errstate(over="ignore", invalid="ignore"):  # what the checks below find, not a warning
        if arr.dtype != np.float32:  # the network's type, checked as it will run: 1e39 in float64 is inf in float32
            arr = arr.astype(np.float32)
    if arr.size == 0:  # no images: nothing to check (min and max of none raise)
        return arr
    # a NaN or an infinity is the minimum or the maximum (numpy's carry NaN): no bool copy of the batch (a quarter of
    # its bytes) unless one is not finite
    low, high = float(np.minimum.reduce(arr, axis=None)), float(np.maximum.reduce(arr, axis=None))
    if not (math.isfinite(low) and math.isfinite(high)):
        # NaN probabilities, and classify's label the first class, ood False: a silent answer
        raise ValueError(f"model inputs must be finite floats in [0, 1] (what preprocess gives), not NaN or infinite "
                         f"values (image {_first(~np.isfinite(arr))} first): predict(array) reads them as "
                         "background, as a float file's")
    if low < -INPUT_SLACK or high > 1.0 + INPUT_SLACK:
        # levels 0-255 or a caller's own normalisation: predict_proba answered as surely as ever (the network
        # standardises each image), and classify refused every image as far from the training slices
        hint = "0-255 levels? divide by 255, or " if low >= -INPUT_SLACK and high > 2.0 else ""
        raise ValueError(f"model inputs must be in [0, 1] (what preprocess() gives), got values from {low:.4g} to "
                         f"{high:.4g} (image {_first((arr < -INPUT_SLACK) | (arr > 1.0 + INPUT_SLACK))} first): "
                         f"{hint}pass the images to predict or predict_many, which preprocess them")
    return arr


def _as_array(batch: object, what: str, item: tuple[int, ...]) -> np.ndarray:
    """``np.asarray(batch)``, or a TypeError saying how to convert an object numpy cannot read: a torch tensor that
    requires grad, or on a GPU, raised torch's RuntimeError from inside numpy; a list of items of different shapes
    (``item``: the shape each should have) a ValueError naming the first odd one, where numpy said "inhomogeneous"."""
    try:
        return np.asarray(batch)
    except (RuntimeError, TypeError) as exc:
        raise TypeError(f"expected a numpy array of {what}, not {type(batch).__name__}, which numpy cannot read "
                        f"({exc}): a torch tensor: x.detach().cpu().numpy()") from None
    except ValueError:
        if not isinstance(batch, (list, tuple)) or not batch:
            raise
        shapes = [_shape(x) for x in batch]
        k = next((k for k, shape in enumerate(shapes) if shape != str(item)), 0)
        first = f" (item 0: {shapes[0]})" if k else ""
        raise ValueError(f"expected {what} of one shape, {item} each, got a {type(batch).__name__} of "
                         f"{len(batch)} whose item {k} has shape {shapes[k]}{first}: each must be of the same shape "
                         "to make a batch") from None


def _shape(item: object) -> str:
    """An item's shape for :func:`_as_array`'s error, or "ragged" when it has none (rows of different lengths)."""
    try:
        return str(np.shape(item))
    except ValueError:
        return "ragged (rows of different lengths)"


def _first(bad: np.ndarray) -> int:
    """The index of the first image (N, ...) of a batch holding a True in ``bad``, for an error's words."""
    return int(np.flatnonzero(bad.reshape(len(bad), -1).any(axis=1))[0])


def check_crops(crops: np.ndarray, size: int) -> np.ndarray:
    """``crops`` checked to be uint8 (N, size, size), as ``Classifier.inspect_crop`` makes them: one crop (S, S)
    failed on "zip() argument 2 is longer than argument 1", and float crops in [0, 1] read as near black."""
    arr = _as_array(crops, "crops", (size, size))
    if arr.ndim != 3 or arr.shape[1:] != (size, size) or arr.dtype != np.uint8:
        raise ValueError(f"expected uint8 crops of shape (N, {size}, {size}), got {arr.dtype} of shape {arr.shape}"
                         ": crop[None] makes a stack of one inspect_crop(...) crop; float model inputs go to classify")
    return arr


def check_infos(infos: Sequence[InputInfo | None] | None, count: int) -> list[InputInfo | None]:
    """``classify``'s and ``classify_crops``' ``infos`` as a list of ``count``, one InputInfo or None per image (None:
    all None). A wrong count raised zip()'s "argument 2 is longer than argument 1", a dict or a str among them
    "'dict' object has no attribute 'modality'" from deep in the refusal checks, and a generator "has no len()"."""
    if infos is None:
        return [None] * count
    if not isinstance(infos, Sequence):
        raise TypeError(f"infos must be a list (one InputInfo or None per image), not {type(infos).__name__}")
    if len(infos) != count:
        raise ValueError(f"{counted(len(infos), 'info')} given for {counted(count, 'image')}: one per image")
    for k, info in enumerate(infos):
        if info is not None and not isinstance(info, InputInfo):
            raise TypeError(f"item {k} of infos is {type(info).__name__}: each is an InputInfo (what "
                            "Classifier.inspect_crop gives with its crop) or None")
    return list(infos)
