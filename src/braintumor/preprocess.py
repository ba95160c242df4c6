"""The one preprocessing pipeline: decode -> grayscale -> subtract the background -> crop to the head
-> resize -> scale.

Training (through its on-disk cache), evaluation, the CLI, the Python API and the web app
all call :func:`preprocess` (or its two halves, :func:`prepare` and :func:`to_model_input`),
with parameters read from the model's metadata, so what a model sees at serving time is
what it saw in training. Per-image standardisation is the first layer of the network
itself, so it cannot be forgotten or done differently by a caller.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import asdict, dataclass, replace

import numpy as np
from PIL import Image

from .image_arrays import InMemoryImage, gray_from_memory, is_in_memory
from .image_gray import GrayPlane
from .image_io import ImageSource, decode_plane
from .seams import seam_share

#: Bumped whenever the pipeline's output changes for the same parameters (invalidates caches).
PREPROCESS_VERSION: int = 1
#: Default side of the square model input, in pixels.
IMAGE_SIZE: int = 128
#: How many input pixels one cell of the networks' last feature maps steps over (stride-2 stem, max-pool, three
#: stride-2 stages): the smallest input training takes, and the heat map's cell spacing.
NETWORK_STRIDE: int = 32
#: Longest side of the padded head crop that is ever materialised. A thin strip (say 1 x 40 000 px,
#: a 100-byte PNG) would otherwise ask for a 40 000^2 px canvas; larger crops are box-reduced first.
MAX_CROP_SIDE: int = 4096


@dataclass(frozen=True)
class PreprocessConfig:
    """Parameters of :func:`preprocess`; stored in every exported model."""

    image_size: int = IMAGE_SIZE
    #: A pixel is "head" when brighter than this fraction of the image's 99th percentile.
    threshold: float = 0.1
    #: A row/column belongs to the head when at least this fraction of it is head pixels.
    min_fraction: float = 0.02
    #: Border added around the head box, as a fraction of its longer side.
    margin: float = 0.04
    #: This percentile of the image's gray levels counts as its background and is subtracted first (0: off).
    #: Scanners and viewers that lift the background off black (a lower contrast, a window level) then give
    #: the same head box, the same crop and, after the network's per-image standardisation, nearly the same
    #: input; on a black background (most slices) it is a no-op.
    background_percentile: float = 1.0
    #: Histogram-equalise the head after the resize (:func:`equalize_head`): the input then depends on the order of
    #: the gray levels, not on a scanner's contrast, window or gamma. Off in the shipped recipe.
    equalize: bool = False
    version: int = PREPROCESS_VERSION

    def __post_init__(self) -> None:
        if not 0.0 <= self.background_percentile < 50.0:  # 50 and above would subtract the head itself
            raise ValueError(f"background_percentile must be in [0, 50), got {self.background_percentile}")

    def to_dict(self) -> dict:
        """The parameters as stored in a model's metadata."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PreprocessConfig:
        """The parameters a model's metadata stores (unknown keys ignored; older files' defaults kept)."""
        known = {k: data[k] for k in cls.__dataclass_fields__ if k in data}
        known.setdefault("background_percentile", 0.0)  # models exported before it existed never subtracted
        return cls(**known)


def trained_preprocess(metadata: dict) -> PreprocessConfig:
    """The preprocessing an exported network was trained on: its file's, with the background subtraction that its
    training config records (``braintumor calibrate --background-percentile`` sets the file's for serving: the
    shipped file is served with 1 and was trained with 0). Teachers and ensemble members are matched on it."""
    pre = PreprocessConfig.from_dict(metadata.get("preprocess", {}))
    trained = (metadata.get("training") or {}).get("config")
    if trained is None:  # a checkpoint's meta, or a file without its training config: as recorded
        return pre
    return replace(pre, background_percentile=float(trained.get("background_percentile", 0.0)))


def _longest_run(mask: np.ndarray, max_gap: int) -> tuple[int, int] | None:
    """[start, stop) of the (first) longest run of True, bridging gaps of up to ``max_gap``."""
    return _runs(mask, max_gap)[0]


def _runs(mask: np.ndarray, max_gap: int) -> tuple[tuple[int, int] | None, int]:
    """(:func:`_longest_run`, the length of the second-longest run: 0 when there is one).

    A Python loop over the few hundred row/column indices: cheaper than the seven tiny array
    operations of the vectorised form for a single image (same result, tests/test_preprocess.py)."""
    idx = np.flatnonzero(mask).tolist()
    if not idx:
        return None, 0
    if idx[-1] - idx[0] == len(idx) - 1:  # one unbroken run: 9 in 10 head masks' rows and columns, without the loop
        return (idx[0], idx[-1] + 1), 0
    runs, start, prev = [], idx[0], idx[0]
    for i in idx[1:]:
        if i - prev > max_gap + 1:
            runs.append((start, prev + 1))
            start = i
        prev = i
    runs.append((start, prev + 1))
    best = max(runs, key=lambda r: r[1] - r[0])  # the first of the longest
    return best, sorted(b - a for a, b in runs)[-2] if len(runs) > 1 else 0


def histogram_percentile(counts: np.ndarray, q: float) -> np.ndarray:
    """``np.percentile(..., q)`` (linear) of integer samples given as per-row histograms (N, V).

    Same ranks and the same interpolation formula as numpy, without sorting: O(V) per row, and
    vectorised over rows (``cum <= r`` counted = ``searchsorted(cum, r, side="right")``)."""
    if len(counts) == 1:  # one image (every single prediction): plain Python beats ten tiny array passes
        return np.array([histogram_percentile_one(counts[0].tolist(), q)])
    m = counts.sum(axis=1)
    pos = (q / 100.0) * (m - 1)
    lo = np.floor(pos)
    t = pos - lo
    cum = np.cumsum(counts, axis=1)
    ranks = lo.astype(np.int64)[:, None]
    a = np.count_nonzero(cum <= ranks, axis=1).astype(np.float64)
    b = np.minimum(np.count_nonzero(cum <= ranks + 1, axis=1), counts.shape[1] - 1).astype(np.float64)
    return _lerp(a, b, t)


def histogram_percentile_one(counts: list[int], q: float) -> float:
    """:func:`histogram_percentile` of one histogram given as a list (Pillow's ``Image.histogram()``)."""
    cum = list(itertools.accumulate(counts))
    pos = (q / 100.0) * (cum[-1] - 1)
    lo = math.floor(pos)
    a = float(bisect.bisect_right(cum, lo))
    b = float(min(bisect.bisect_right(cum, lo + 1), len(counts) - 1))
    return _lerp(a, b, pos - lo)


def _lerp(a: np.ndarray | float, b: np.ndarray | float, t: np.ndarray | float) -> np.ndarray | float:
    """numpy's percentile interpolation between neighbours a and b, in its exact rounding (arrays, or
    Python floats for one image: the same IEEE arithmetic without an array round trip)."""
    diff = b - a
    if isinstance(t, float):
        return b - diff * (1.0 - t) if t >= 0.5 else a + diff * t
    return np.where(t >= 0.5, b - diff * (1.0 - t), a + diff * t)


def subtract_background(gray: np.ndarray, histogram: list[int], percentile: float) -> tuple[np.ndarray, list[int]]:
    """(gray minus its ``percentile`` gray level, clipped at 0; the histogram of the result).

    ``histogram`` is Pillow's 256-bin histogram of ``gray``; when the level is 0 both come back unchanged."""
    # a black background of more than ``percentile`` % of the pixels (most slices) is level 0, told without the
    # cumulative sums: when bin 0 holds more pixels than the percentile's rank plus one, both levels that
    # histogram_percentile_one interpolates between are 0
    if percentile <= 0 or histogram[0] > percentile / 100.0 * (sum(histogram) - 1) + 1:
        return gray, histogram
    level = math.floor(histogram_percentile_one(histogram, percentile))
    if level <= 0:
        return gray, histogram
    shifted = [sum(histogram[: level + 1])] + histogram[level + 1:] + [0] * level
    return np.subtract(np.maximum(gray, np.uint8(level)), np.uint8(level), dtype=np.uint8), shifted


def head_box(gray: np.ndarray, config: PreprocessConfig = PreprocessConfig(),
             histogram: list[int] | None = None) -> tuple[int, int, int, int]:
    """Square (left, top, right, bottom) box around the head; may extend past the image.

    Rows and columns count as head when enough of their pixels are bright; the longest
    contiguous run wins, so burned-in text separated from the head by background is left out.
    A blank image gets the whole frame. ``histogram``: Pillow's histogram of ``gray``, if the caller has it.
    """
    return _head_box(gray, config, histogram)[0]


def _head_box(gray: np.ndarray, config: PreprocessConfig,
              histogram: list[int] | None) -> tuple[tuple[int, int, int, int], float]:
    """(:func:`head_box`, the second-longest run of head rows, or of head columns in the head's rows, as a share of
    the one kept, or the shorter part of the head where a seam cuts it (:func:`seams.seam_share`): about 1 for two
    slices side by side or a grid of them, 0 for one head)."""
    h, w = gray.shape
    # = np.percentile(gray, 99), without a sort; Pillow's histogram is ~2x np.bincount (which widens to int64)
    histogram = Image.fromarray(gray).histogram() if histogram is None else histogram
    level = max(histogram_percentile_one(histogram, 99) * config.threshold, 1.0)
    # integer pixels: gray > level <=> gray > floor(level); an integer compare and uint8 sums are ~3x cheaper
    mask = (gray > min(math.floor(level), 255)).view(np.uint8)
    # counted in uint16 where no count can pass 65535: numpy sums uint8 into uint16 ~1.5x faster than into int32
    count = np.uint16 if max(h, w) <= 65535 else np.int64
    head_rows = mask.sum(axis=1, dtype=count) / w >= config.min_fraction
    rows, second_rows = _runs(head_rows, max_gap=max(1, h // 50))
    if rows is None:
        side = max(h, w)
        left, top = (w - side) // 2, (h - side) // 2
        return (left, top, left + side, top + side), 0.0
    top, bottom = rows
    head_cols = mask[top:bottom].sum(axis=0, dtype=count) / (bottom - top) >= config.min_fraction
    cols, second_cols = _runs(head_cols, max_gap=max(1, w // 50))
    left, right = cols if cols is not None else (0, w)
    # tiles that abut leave a gap too thin to tell apart (bridged): a line without head at a seam (seams.py) cuts it
    second = max(second_rows / (bottom - top), second_cols / (right - left), seam_share(head_rows, rows),
                 0.0 if cols is None else seam_share(head_cols, cols))
    side = max(bottom - top, right - left)
    side = round(side * (1.0 + 2.0 * config.margin))
    cy, cx = (top + bottom) / 2.0, (left + right) / 2.0
    left = round(cx - side / 2.0)
    top = round(cy - side / 2.0)
    return (left, top, left + side, top + side), second


def prepare(source: ImageSource | InMemoryImage, config: PreprocessConfig = PreprocessConfig()) -> np.ndarray:
    """Decode (unless given an image in memory), crop to the head and resize: uint8 (size, size).

    This is the part of the pipeline that training caches on disk and reports display.
    Raises ``ImageError`` for anything that is not a decodable image.
    """
    return prepare_measured(source, config)[0]


def prepare_measured(source: ImageSource | InMemoryImage, config: PreprocessConfig = PreprocessConfig(),
                     plane: GrayPlane | None = None) -> tuple[np.ndarray, float]:
    """(:func:`prepare`, how long a second head beside the one cropped (or beyond a seam across it) is, as a share of
    it): the crop keeps one run of head rows and columns, so of several slices in one image the model sees one.
    ``plane``: ``source``, a gray array, as the Pillow image it was made from (and its histogram), where the caller
    has it (``image_io.decode_plane`` gives it)."""
    if is_in_memory(source):
        gray = gray_from_memory(source)[0]
        plane = plane if gray is source else None  # (of the array as given, not of a converted copy)
    else:  # draft: JPEG decoding may skip resolution the resize would throw away anyway
        gray, _, plane = decode_plane(source, draft_size=2 * config.image_size)
    img = Image.fromarray(gray, mode="L") if plane is None else plane.image
    histogram = img.histogram() if plane is None or plane.histogram is None else plane.histogram
    subtracted, histogram = subtract_background(gray, histogram, config.background_percentile)
    if subtracted is not gray:  # a background level was subtracted (on a black one, most slices, nothing is)
        gray, img = subtracted, Image.fromarray(subtracted, mode="L")
    box, second = _head_box(gray, config, histogram)
    side = box[2] - box[0]
    if side > MAX_CROP_SIDE:  # memory bound; never reached by images under ~3800 px
        factor = math.ceil(side / MAX_CROP_SIDE)
        img = img.reduce(factor)
        left, top, side = round(box[0] / factor), round(box[1] / factor), math.ceil(side / factor)
        box = (left, top, left + side, top + side)
    img = img.crop(box)  # outside the frame fills with black
    size = config.image_size
    img = img.resize((size, size), Image.Resampling.BILINEAR)
    if config.equalize:
        img = equalize_head(img, config)
    return np.asarray(img, dtype=np.uint8), second


def equalize_head(img: Image.Image, config: PreprocessConfig = PreprocessConfig()) -> Image.Image:
    """Histogram equalisation of the head alone, as a 256-entry lookup table on an "L" image.

    Why: two scanners (or windowings) that differ by any increasing gray-level curve give the same output, up to
    rounding, because the head's levels are replaced by their rank. Head pixels are those above ``threshold`` of the
    99th percentile (as in :func:`head_box`), and they are spread over (low, 255] with ``low = 255 * threshold``;
    darker pixels (background, and the threshold level itself) are only rescaled onto [0, low], so the noise of
    the background is not stretched over the range."""
    hist = img.histogram()
    level = min(math.floor(max(histogram_percentile_one(hist, 99) * config.threshold, 1.0)), 254)
    head = list(itertools.accumulate(hist[level + 1:]))
    if not head or head[-1] == 0:
        return img
    low = round(255 * config.threshold)
    lut = [round(v * low / level) for v in range(level + 1)]
    lut += [round(low + (255 - low) * c / head[-1]) for c in head]
    return img.point(lut)


#: Multiplier from uint8 pixels to the model's [0, 1] input range.
INPUT_SCALE: float = 1.0 / 255.0


def to_model_input(prepared: np.ndarray) -> np.ndarray:
    """uint8 (..., H, W) -> float32 (..., 1, H, W) in [0, 1]: what the network takes."""
    # one call: the cast to float32 and the product, as asarray(float32) * scale computes them, without the cast's copy
    arr = np.multiply(prepared, np.float32(INPUT_SCALE), dtype=np.float32, casting="unsafe")
    return arr[..., None, :, :]


def preprocess(source: ImageSource | InMemoryImage, config: PreprocessConfig = PreprocessConfig()) -> np.ndarray:
    """Any image source -> float32 (1, size, size) model input. Raises ``ImageError``."""
    return to_model_input(prepare(source, config))
