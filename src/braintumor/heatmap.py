"""Class-activation heat maps in numpy alone (no torch, no matplotlib).

The network ends in global average pooling and one linear layer, so for class k
``logits_k = mean_hw(CAM_k) + bias_k`` with ``CAM_k = sum_c W[k, c] * F[c]``: the map is
exact, not an approximation. ``F`` is the model's ``features`` output and ``W``/``bias`` are
stored in its metadata. The overlay is drawn on the cropped grayscale image the model saw.
"""

from __future__ import annotations

import functools
import struct
import weakref
import zlib
from dataclasses import dataclass

import numpy as np

from .explanation_fields import NAN_HEAT, check_explanation
from .image_io import InputInfo
from .model_scores import UnscoredImage, scored_apart
from .prediction import Prediction
from .predictor import Classifier, Source
from .preprocess import NETWORK_STRIDE

#: Input pixels per cell of the last feature maps. Every stride-2 layer of the networks (3 x 3 convolutions and max
#: pooling with padding 1, 1 x 1 shortcuts) centres its output j on its input 2 j, so cell j of the map is centred
#: on input pixel 32 j (the patch stem: 32 j + 1.5), not on the middle of the image's j-th 32-pixel block.
FEATURE_STRIDE: int = NETWORK_STRIDE

#: Strongest weight of the colour over the grayscale image (at the hottest pixel).
DEFAULT_ALPHA: float = 0.6

#: The colour map's anchors as words, cold to hot: what the page's colour scale says to a screen reader.
COLOUR_NAMES: str = "dark blue, blue, cyan, green, yellow, orange, red"
#: Colour map anchors, cold to hot (:data:`COLOUR_NAMES`).
_ANCHORS = np.array(
    [[0, 0, 110], [0, 60, 255], [0, 210, 255], [40, 230, 80], [255, 235, 0], [255, 120, 0], [220, 0, 0]],
    dtype=np.float32,
)


def head_weights(clf: Classifier) -> tuple[np.ndarray, np.ndarray] | None:
    """(weight (K, C), bias (K,)) of the linear head, or None for a model exported without them."""
    head = clf.metadata.get("head")
    if not isinstance(head, dict) or "weight" not in head or "bias" not in head:
        return None
    return np.asarray(head["weight"], dtype=np.float64), np.asarray(head["bias"], dtype=np.float64)


#: Each classifier's head as arrays, with the metadata lists they were made of (see :func:`_head_arrays`).
_HEADS: weakref.WeakKeyDictionary[Classifier, tuple[object, object, tuple[np.ndarray, np.ndarray]]] = \
    weakref.WeakKeyDictionary()


def _head_arrays(clf: Classifier) -> tuple[np.ndarray, np.ndarray] | None:
    """:func:`head_weights`, converted once per classifier for as long as its metadata holds the same lists: the
    conversion of 4 x 256 JSON numbers took ~23 us of every explanation. Read-only: they are shared."""
    head = clf.metadata.get("head")
    if not isinstance(head, dict) or "weight" not in head or "bias" not in head:
        return None
    cached = _HEADS.get(clf)
    if cached is None or cached[0] is not head["weight"] or cached[1] is not head["bias"]:
        arrays = head_weights(clf)
        for arr in arrays:
            arr.setflags(write=False)
        cached = _HEADS[clf] = (head["weight"], head["bias"], arrays)
    return cached[2]


def supports_cam(clf: Classifier) -> bool:
    """Whether the model carries what a CAM needs: head weights and a ``features`` output."""
    return head_weights(clf) is not None and len(clf.session.get_outputs()) > 1


def class_activation_maps(features: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Raw CAMs: features (..., C, h, w) and weight (K, C) -> (..., K, h, w). No ReLU, no scaling."""
    return np.einsum("kc,...chw->...khw", weight, np.asarray(features, dtype=np.float64))


def normalise(cam: np.ndarray) -> np.ndarray:
    """ReLU, then scale to [0, 1] by the maximum (an all-negative map becomes all zeros)."""
    pos = np.maximum(cam, 0.0)
    top = float(pos.max()) if pos.size else 0.0
    return (pos / top if top > 0 else pos).astype(np.float32)


@functools.lru_cache(maxsize=16)
def _bilinear_weights(cells: int, size: int, stride: int) -> np.ndarray:
    """(size, cells): pixel x reads the map at x / stride cells, linearly between neighbours, clamped to the grid."""
    pos = np.clip(np.arange(size) / stride, 0.0, cells - 1)
    lo = np.minimum(pos.astype(np.int64), max(cells - 2, 0))
    weights = np.zeros((size, cells), np.float32)
    weights[np.arange(size), lo] = 1.0 - (pos - lo)
    if cells > 1:
        weights[np.arange(size), lo + 1] = pos - lo
    return weights


def upsample(heat: np.ndarray, size: int, stride: int = FEATURE_STRIDE) -> np.ndarray:
    """(h, w) -> (size, size), bilinear, kept in [0, 1]: cell (i, j) lands on pixel (stride i, stride j), the centre
    of its receptive field. (A plain resize centres it on pixel stride (j + 1/2) - 1/2: half a cell, 15.5 pixels of
    the shipped 160, down and right of where the network looked.)"""
    heat = np.asarray(heat, dtype=np.float32)
    rows, cols = (_bilinear_weights(n, size, stride) for n in heat.shape)
    return np.clip(rows @ heat @ cols.T, 0.0, 1.0)


def colorize(heat: np.ndarray) -> np.ndarray:
    """Values in [0, 1] -> uint8 RGB (..., 3) by linear interpolation between the anchors: the colour map."""
    pos = np.clip(heat, 0.0, 1.0) * (len(_ANCHORS) - 1)
    if np.isnan(pos).any():  # an IndexError from deep in numpy
        raise ValueError(NAN_HEAT)
    lo = np.minimum(pos.astype(np.int64), len(_ANCHORS) - 2)
    frac = (pos - lo)[..., None]
    rgb = _ANCHORS[lo] * (1.0 - frac) + _ANCHORS[lo + 1] * frac
    return np.round(rgb).astype(np.uint8)


_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def colour_scale_png(steps: int = 64) -> bytes:
    """The colour map from cold to hot, ``steps`` pixels wide and one high: the key the page shows under each heat map
    (its caption said "warmer colours" with no scale to read them by)."""
    return encode_png(colorize(np.linspace(0.0, 1.0, steps, dtype=np.float32))[None])


@functools.lru_cache(maxsize=8)
def _overlay_table(alpha: float) -> np.ndarray:
    """(256 * 256, 3) uint8: every gray level (major) blended with every 8-bit heat level's colour."""
    heat = np.linspace(0.0, 1.0, 256)
    w = (alpha * heat)[None, :, None]
    gray = np.arange(256, dtype=np.float64)[:, None, None]
    return np.round(gray * (1.0 - w) + colorize(heat)[None] * w).astype(np.uint8).reshape(-1, 3)


def overlay(gray: np.ndarray, heat: np.ndarray, alpha: float = DEFAULT_ALPHA) -> np.ndarray:
    """Blend the colour map over a grayscale image, weighted by the heat: cold areas stay gray.

    ``gray * (1 - alpha * heat) + colour(heat) * alpha * heat``, looked up in a table of every gray level and
    every 8-bit heat level: one gather instead of a dozen array passes (4x faster; within 3 levels of the
    blend at full heat precision, tests/test_heatmap.py)."""
    if np.ndim(alpha) != 0 or np.asarray(alpha).dtype.kind not in "biuf":  # "'<=' not supported between ..."
        raise TypeError(f"alpha is the colour's weight at the hottest pixel, a number from 0 to 1, not "
                        f"{type(alpha).__name__}")
    if not 0.0 <= alpha <= 1.0:  # NaN too: -1, 1.5 and NaN drew inverted or garbled colours (NaN with a warning)
        raise ValueError(f"alpha is the colour's weight at the hottest pixel, from 0 to 1, got {alpha!r}")
    gray, heat = np.asarray(gray), np.asarray(heat)  # a float image in [0, 1] came out black, uint16 an IndexError
    if gray.dtype != np.uint8 or gray.shape != heat.shape:
        raise ValueError(f"expected a uint8 gray image and a heat map of its shape, got {gray.dtype} {gray.shape} "
                         f"and {heat.shape}: Explanation.image and .cam are such a pair")
    level = (np.clip(heat, 0.0, 1.0, dtype=np.float32) * np.float32(255) + np.float32(0.5)).astype(np.intp)
    try:  # (no pass over the map for NaN: this runs for every heat map)
        return np.take(_overlay_table(float(alpha)), np.asarray(gray, dtype=np.intp) * 256 + level, axis=0)
    except IndexError:  # a NaN, cast to the lowest intp: numpy's "index -9223372036854775808 is out of bounds"
        raise ValueError(NAN_HEAT) from None


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, CRC-32 of type and data."""
    body = tag + data
    return struct.pack(">I", len(body) - 4) + body + struct.pack(">I", zlib.crc32(body))


def encode_png(pixels: np.ndarray, *, strategy: int = zlib.Z_DEFAULT_STRATEGY) -> bytes:
    """uint8 gray (H, W) or RGB (H, W, 3) -> PNG bytes, in memory.

    Written here, not by Pillow, because it is most of a heat-map request's own work: every row gets PNG's
    "Up" filter (its difference from the row above: one numpy subtraction, wrapping mod 256 as the format
    says) and zlib level 1 compresses the result. Pillow's encoder at the same level took twice as long
    for files of the same size (``benchmarks/ab.py``, docs/PERFORMANCE.md). ``strategy``: zlib's; ``Z_RLE``
    compresses faster into larger files (measured there, not taken)."""
    px = np.ascontiguousarray(pixels, dtype=np.uint8)
    if px.ndim not in (2, 3) or (px.ndim == 3 and px.shape[2] != 3) or 0 in px.shape:
        raise ValueError(f"expected a non-empty (H, W) or (H, W, 3) image, got shape {px.shape}")
    h, w = px.shape[:2]
    rows = px.reshape(h, -1)
    filtered = np.empty((h, rows.shape[1] + 1), np.uint8)
    filtered[:, 0] = 2  # filter type "Up"; the first row's "row above" is zeros
    filtered[0, 1:] = rows[0]
    np.subtract(rows[1:], rows[:-1], out=filtered[1:, 1:])
    header = struct.pack(">IIBBBBB", w, h, 8, 2 if px.ndim == 3 else 0, 0, 0, 0)  # 8-bit RGB or gray
    deflate = zlib.compressobj(1, zlib.DEFLATED, zlib.MAX_WBITS, 8, strategy)
    idat = deflate.compress(filtered) + deflate.flush()
    return _PNG_SIGNATURE + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", idat) + _png_chunk(b"IEND", b"")


def model_view(x: np.ndarray) -> np.ndarray:
    """The cropped grayscale uint8 image behind a model input (1, S, S) in [0, 1] (exact inverse). Clipped: the
    slack check_model_input allows past [0, 1] (a caller's bicubic resize) wrapped round uint8, a background of -0.03
    drawn white (248) and a bright 1.04 black (9)."""
    return np.clip(np.round(np.asarray(x).reshape(x.shape[-2:]) * 255.0), 0, 255).astype(np.uint8)


@dataclass(frozen=True, eq=False)
class Explanation:
    """A prediction with the map of its class and the image the model saw.

    ``cam`` and ``image`` share the model's geometry: the head cropped, padded square and resized to ``S`` =
    ``Classifier.image_size`` pixels, not the input's own. ``cam`` is float32 (S, S): where the predicted class's
    evidence is, ReLU'd and divided by its maximum (1 = the strongest place in this image; not comparable across
    images); None for a refused input or a model exported without its head. ``image`` is uint8 (S, S).

    Compared by value, arrays too (the dataclass's own ``==`` raised "The truth value of an array ... is
    ambiguous"); not hashable, as a Prediction is not. Fields of a wrong type or value (a map of NaN or past 1, of
    another shape than the image, a map with a refused prediction) raise TypeError or ValueError as it is made."""

    prediction: Prediction
    cam: np.ndarray | None
    image: np.ndarray

    def __post_init__(self) -> None:  # Explanation("x", None, None) was kept, and failed when drawn or compared
        check_explanation(self.prediction, self.cam, self.image)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Explanation):
            return NotImplemented
        if self.cam is None or other.cam is None:
            same_cam = self.cam is None and other.cam is None
        else:
            same_cam = np.array_equal(self.cam, other.cam)
        return self.prediction == other.prediction and same_cam and np.array_equal(self.image, other.image)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:  # the arrays' sizes: numpy's summaries of them took 14 lines under the prediction
        def size(a: np.ndarray | None) -> str:
            return "None" if a is None else f"<{' x '.join(map(str, a.shape))} {a.dtype}>"
        return f"Explanation(prediction={self.prediction!r}, cam={size(self.cam)}, image={size(self.image)})"

    def heatmap_png(self, alpha: float = DEFAULT_ALPHA) -> bytes | None:
        """The overlay as PNG bytes (None when ``cam`` is: a refused input, or a model without its head)."""
        return None if self.cam is None else encode_png(overlay(self.image, self.cam, alpha))

    def image_png(self) -> bytes:
        """What the model saw, as grayscale PNG bytes."""
        return encode_png(self.image)


def explain_batch(clf: Classifier, batch: np.ndarray, infos: list[InputInfo | None] | None = None,
                  ) -> list[Explanation]:
    """Predictions and CAMs for a preprocessed batch (N, 1, S, S), in one network pass.

    A refused (out-of-distribution) input gets no heat map: there is no class to explain.
    """
    # Same path as Classifier.predict (rounding, labelling, OOD), so the API and the CLI agree exactly.
    preds, features = clf.classify(batch, infos)
    return _explanations(clf, preds, features, [model_view(x) for x in np.asarray(batch)])  # nested lists too


def explain_crops(clf: Classifier, crops: np.ndarray, infos: list[InputInfo | None] | None = None,
                  ) -> list[Explanation]:
    """:func:`explain_batch` of uint8 crops (N, S, S) (``Classifier.inspect_crop``), with the same explanations:
    the input checks and each ``image`` come from the crops, not from floats made of them (less work)."""
    preds, features = clf.classify_crops(crops, infos)
    return _explanations(clf, preds, features, [np.array(crop) for crop in crops])


def explain_apart(clf: Classifier, crops: list[np.ndarray], infos: list[InputInfo | None],
                  ) -> list[Explanation | UnscoredImage]:
    """:func:`explain_crops` of a list of crops, one whose scores are not finite answered by its
    :class:`~braintumor.model_scores.UnscoredImage` (numbered by its place in ``crops``), the others explained: one
    such crop lost every other answer of its batch (a web request's, a --heatmap run's)."""
    return scored_apart(lambda rows: explain_crops(clf, np.stack([crops[k] for k in rows]), [infos[k] for k in rows]),
                        len(crops))


def _explanations(clf: Classifier, preds: list[Prediction], features: np.ndarray | None,
                  images: list[np.ndarray]) -> list[Explanation]:
    head = _head_arrays(clf)
    out = []
    for i, pred in enumerate(preds):
        cam = None
        if head is not None and features is not None and pred.label is not None:
            k = clf.classes.index(pred.label)
            raw = class_activation_maps(features[i], head[0][k : k + 1])[0]
            cam = upsample(normalise(raw), clf.image_size)
        out.append(Explanation(pred, cam, images[i]))
    return out


def explain(clf: Classifier, source: Source) -> Explanation:
    """One image (path, bytes, binary file, numpy array, PIL image, or a scan's Slice: refused as ``predict`` refuses
    it, for its DICOM modality or colour) -> Explanation. Raises ImageError for unusable input, TypeError for a wrong
    kind of argument (a list, None), as ``predict`` does, or for a ``clf`` that is not a Classifier."""
    if not isinstance(clf, Classifier):  # said "'str' object has no attribute 'inspect_crop'"
        raise TypeError(f"explain(clf, source) takes a loaded Classifier first (Classifier.load()), not "
                        f"{type(clf).__name__}")
    crop, info = clf._one_crop(source)  # refused as predict refuses it, in the same words
    return explain_crops(clf, crop[None], [info])[0]
