"""Out-of-distribution refusal: "this does not look like a brain MRI slice".

A 4-class softmax always picks a class, even for a cat photo. Three cheap stages, numpy only:

1. Input checks before the network: a DICOM modality other than MR, colour (MRI is grayscale),
   near-blank frames, extreme aspect ratios. The colour limit is fitted on the training images.
2. Mahalanobis distance (Lee et al., 2018) to the nearest class mean, with one shared covariance,
   of a joint vector: the network's pooled features of the middle stages and of the last one
   (log1p, since they are post-ReLU and skewed) and five statistics of the model's input crop
   (dark fraction, corner and centre brightness, edge energy, histogram entropy) that describe
   "a head on a black background". The last, class-specific features alone let many grayscale
   photos through; the generic middle-stage features and the statistics catch them (measured on
   the OOD set of ``scripts/ood_eval.py``, see docs/RESULTS.md). The energy score (Liu et al.,
   2020) was dropped: max(Mahalanobis, energy) scored no better than Mahalanobis alone there.
3. Several slices in one image (side by side, a grid), which the head crop would cut down to one of them.

``ood_score`` is the distance divided by its 99.5th percentile on real validation slices; the
refusal threshold is set on the validation split so that at most ~1 % of real MRI slices are
refused. Everything is stored in the ONNX metadata (``"ood"``); the test split is never used.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

import numpy as np

from .image_io import InputInfo
from .ood_stats import histogram_std, image_stats, level_histograms, level_stats
from .refusal_wording import MRI_ONLY
from .wording import size_text

#: Images whose longer side is more than this many times the shorter one are refused.
MAX_ASPECT: float = 3.0
#: Standard deviation (0-255 scale) below which a prepared slice counts as blank.
MIN_STD: float = 2.0
#: Images with a second head at least this long beside the first (``preprocess.prepare_measured``) hold several slices
#: (none of the dataset's 7019 slices has one over 0.27; of two slices side by side, the median is 0.845:
#: ``python scripts/clinician_inputs.py``, docs/RESULTS.md "Inputs a clinician may send").
MAX_SECOND_HEAD: float = 0.5


#: Why an input is refused for its distance (:meth:`OODDetector.network_reason`).
FAR_FEATURES: str = "its features are far from every training slice"
#: What an image (not a scan's slice) refused for its distance or its colour is told to try: a screenshot of a viewer,
#: or a photo of its screen, is how a real slice often comes with panels, text and a frame around it, which the
#: distance measures too (one was refused so, and accepted cropped to the slice's edges), or a coloured toolbar or
#: measurement line, refused as a colour image. Said as a condition: the checks cannot tell a screenshot from any other
#: far or colour image. A scan's slice is no screenshot: it is told nothing more (:func:`with_crop_hint`).
CROP_HINT: str = ("if it is a screenshot or a photo of a screen, crop it to the edges of the slice, or send its DICOM "
                  "file")


def with_crop_hint(why: str, info: InputInfo | None) -> str:
    """``why`` and :data:`CROP_HINT`, but for a scan's slice (``info.scan``); a batch with no info is taken as images,
    as ``Classifier.predict`` makes them."""
    return why if info is not None and info.scan else f"{why}; {CROP_HINT}"


#: How far a uint8 crop's exact standard deviation must be from ``min_std`` for :meth:`OODDetector.blank_from_histogram`
#: to answer for the float crop: the two differ by less than 1e-4 (each float level is within 5e-5 of its integer,
#: numpy's float32 std is within ~1e-6 relative), so this leaves a hundredfold margin.
STD_MARGIN: float = 0.01


#: DICOM Modality codes left to the image checks: MR, and OT ("other": secondary captures, which may hold an MRI
#: slice). Any other code names an acquisition that is not MRI (CT, X-ray, ultrasound, PET, ...).
MRI_MODALITIES: frozenset[str] = frozenset({"MR", "OT"})
#: How a refusal names the commonest of those (others by their code).
MODALITY_NAMES: dict[str, str] = {"CT": "CT", "CR": "X-ray", "DX": "X-ray", "MG": "mammography", "US": "ultrasound",
                                  "PT": "PET", "NM": "nuclear medicine", "XA": "angiography", "RF": "fluoroscopy"}


def modality_words(read: Iterable[tuple[str, tuple[str, str] | None]]) -> str:
    """Where the modalities a refusal names were read (``read``: code and ``dicom_frames.modality_read``'s source):
    "DICOM modality CT, PT" from Modality elements, "DICOM SOP class CT Image Storage" or "DICOM Rescale Type HU"
    where a file has none, kinds apart by "; ". It said "DICOM modality CT" of a file with no Modality element."""
    said: dict[str, set[str]] = {"modality": set(), "SOP class": set(), "Rescale Type": set()}
    for code, source in read:
        kind, value = source or ("modality", code)
        said[kind].add(value)
    return "DICOM " + "; ".join(f"{kind} {', '.join(sorted(values))}" for kind, values in said.items() if values)


def foreign_modalities(read: Iterable[tuple[str | None, tuple[str, str] | None]]) -> str | None:
    """What DICOM images are, when their modalities (``dicom_frames.modality_read`` of each image) all name something
    other than MRI: "CT images (DICOM modality CT): the model reads MRI only"; None when any is MR or OT, or has none.
    For a refusal on the headers (a series past the input's limits), which would otherwise not say that the images
    could not be read."""
    read = [((code or "").strip().upper(), source) for code, source in read]
    said = {code for code, _ in read}
    if not said or "" in said or said & MRI_MODALITIES:
        return None
    names = " and ".join(dict.fromkeys(MODALITY_NAMES.get(code, code) for code in sorted(said)))
    return f"{names} images ({modality_words(read)}): {MRI_ONLY}"


#: Arrays are stored as little-endian float16 + base64: the 256x256 whitening matrix costs ~170 kB
#: of metadata instead of ~1 MB of JSON numbers, at a precision far finer than the threshold's.
ARRAY_DTYPE = "<f2"


def _encode(arr: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(arr, dtype=ARRAY_DTYPE).tobytes()).decode("ascii")


def _decode(text: str, shape: tuple[int, ...], dtype: str) -> np.ndarray:
    return np.frombuffer(base64.b64decode(text), dtype=dtype).reshape(shape).astype(np.float64)


def _log1p(x: np.ndarray) -> np.ndarray:
    """log1p(max(x, 0)) in float64, in place after the first step."""
    out = np.maximum(x, 0.0, dtype=np.float64)
    return np.log1p(out, out=out)


def joint_features(pooled: np.ndarray, prepared: np.ndarray | None, middle: np.ndarray | None = None,
                   stats: np.ndarray | None = None) -> np.ndarray:
    """What the Mahalanobis distance is measured on: log1p(pooled middle and last features) + crop statistics
    (``image_stats(prepared)``, or ``stats`` when the caller computed them already)."""
    stats = image_stats(prepared) if stats is None else stats
    parts = ([] if middle is None else [_log1p(middle)]) + [_log1p(pooled), stats]
    return np.concatenate(parts, axis=1)


class OODDetector:
    """Scores a batch; built from the metadata dict written by :func:`fit_ood`."""

    def __init__(self, params: dict) -> None:
        k, d = params["num_classes"], params["dim"]
        dtype = params.get("dtype", ARRAY_DTYPE)
        self.means = _decode(params["means"], (k, d), dtype)
        if params.get("whiten_layout") == "lower-triangle":  # Cholesky factor of the precision: half the bytes
            self.whiten = np.zeros((d, d))
            self.whiten[np.tril_indices(d)] = _decode(params["whiten"], (d * (d + 1) // 2,), dtype)
        else:
            self.whiten = _decode(params["whiten"], (d, d), dtype)
        # |(x - mu) @ W| = |x @ W - mu @ W|: one (d, d) product per image instead of one per class
        self.means_white = self.means @ self.whiten
        # float32 copies for scoring: half the bytes to stream per prediction (the matrix is ~0.8 MB even
        # so, and the network run before it has evicted it from cache); the stored values are float16
        self._whiten32 = self.whiten.astype(np.float32)
        self._means_white32 = self.means_white.astype(np.float32)
        self.maha_scale = float(params["maha_scale"])
        self.uses_middle = bool(params.get("uses_middle", False))
        self.threshold = float(params["threshold"])
        self.max_colourfulness = float(params["max_colourfulness"])
        self.max_aspect = float(params.get("max_aspect", MAX_ASPECT))
        self.min_std = float(params.get("min_std", MIN_STD))
        self.max_second_head = float(params.get("max_second_head", MAX_SECOND_HEAD))

    def network_scores(self, pooled: np.ndarray, prepared: np.ndarray | None, middle: np.ndarray | None = None,
                       stats: np.ndarray | None = None) -> np.ndarray:
        """Scaled Mahalanobis distance per row; > ``threshold`` means refuse. ``stats``: see joint_features."""
        x = joint_features(pooled, prepared, middle if self.uses_middle else None, stats)
        # einsum, not @: numpy's BLAS would start a spinning thread pool per process for this tiny
        # product, which cost a served prediction ~20 ms of CPU (benchmarks in docs/PERFORMANCE.md)
        white = np.einsum("nd,de->ne", x.astype(np.float32), self._whiten32)[:, None, :] - self._means_white32[None]
        return np.sqrt(np.square(white, dtype=np.float64).sum(axis=2).min(axis=1)) / self.maha_scale

    def network_reason(self, info: InputInfo | None, score: float) -> str | None:
        """Why an input that :meth:`input_reason` let through is refused after the network, or None: its distance
        (``score``, scaled as :meth:`network_scores`), then several slices in one image, said only of crops whose
        features pass (a document's lines and stripes form several runs too, and are refused for their features);
        an image's distance with :data:`CROP_HINT`."""
        if score > self.threshold:
            return with_crop_hint(FAR_FEATURES, info)
        if info is not None and info.second_head >= self.max_second_head:
            return "several images in one (side by side or in a grid): send each slice on its own"
        return None

    def input_reason(self, info: InputInfo | None, prepared: np.ndarray | None, blank: bool | None = None,
                     ) -> str | None:
        """Why the input alone already rules out a brain MRI slice, or None. ``blank``: :meth:`is_blank`'s answer
        when the caller has it (:meth:`blank_from_histogram`); else it is asked of ``prepared``."""
        if info is not None:
            code = (info.modality or "").strip().upper()
            if code and code not in MRI_MODALITIES:
                said = modality_words([(code, info.modality_source)])
                return f"{MODALITY_NAMES.get(code, code)} image ({said}); {MRI_ONLY}"
            long, short = max(info.width, info.height), max(1, min(info.width, info.height))
            if long / short > self.max_aspect:
                return f"extreme aspect ratio ({size_text(info.width, info.height)})"
            if info.colourfulness > self.max_colourfulness:
                return with_crop_hint("colour image (MRI slices are grayscale)", info)
        if self.is_blank(prepared) if blank is None else blank:
            return "blank or nearly uniform image"
        return None

    def check_inputs(self, batch: np.ndarray, infos: list[InputInfo | None], crops: np.ndarray | None = None,
                     counts: list[list[int]] | np.ndarray | None = None, tops: np.ndarray | None = None,
                     ) -> tuple[np.ndarray, list[str | None]]:
        """(:func:`image_stats`, :meth:`input_reason` of each) for a model-input batch (N, 1, S, S). ``crops``: the
        uint8 crops (N, S, S) it was made of, when the caller has them: the same answers then come from their
        levels and histograms (``counts``: :func:`level_histograms` of them, and ``tops``: ``crop_tops`` of those,
        when the caller has them too), with no pass over the floats."""
        if len(batch) == 0:  # no images (a list filtered to none): the statistics' array passes failed on no rows
            return np.zeros((0, 5)), []  # (the five statistics of ood_stats)
        if crops is None:
            prepared = batch[:, 0] * np.float32(255.0)
            return image_stats(prepared), [self.input_reason(i, x) for i, x in zip(infos, prepared, strict=True)]
        # once, for the blank check and the statistics
        counts = np.asarray(level_histograms(crops) if counts is None else counts, dtype=np.int64)
        reasons = []
        for k, (info, hist) in enumerate(zip(infos, counts, strict=True)):
            blank = self.blank_from_histogram(hist)
            if blank is None:  # too close to call from the levels: the float crop, as above
                blank = self.is_blank(batch[k, 0] * np.float32(255.0))
            reasons.append(self.input_reason(info, None, blank))
        return level_stats(crops, counts, tops), reasons

    def is_blank(self, prepared: np.ndarray) -> bool:
        """Whether a float crop (S, S) on the 0-255 scale is blank: its standard deviation is under ``min_std``."""
        return float(prepared.std()) < self.min_std

    def blank_from_histogram(self, counts: np.ndarray) -> bool | None:
        """:meth:`is_blank` of the float crop behind a uint8 crop, from the crop's 256-bin histogram (no pass over its
        pixels), or None when the two could differ: within :data:`STD_MARGIN` of ``min_std``, where the float
        crop's own rounding (uint8 / 255 * 255 in float32, numpy's float32 sums) could tip the comparison."""
        std = histogram_std(counts)
        return None if not abs(std - self.min_std) > STD_MARGIN else std < self.min_std


#: Where :func:`fit_temperature` searches; a fit that ends on either end found no minimum inside.
TEMPERATURE_RANGE = (0.05, 10.0)


def fit_temperature(logits: np.ndarray, labels: np.ndarray) -> float:
    """Temperature minimising the negative log-likelihood (golden-section search on log T in
    :data:`TEMPERATURE_RANGE`; see :func:`temperature_at_bound`)."""
    z = logits.astype(np.float64)

    def nll(log_t: float) -> float:
        s = z / np.exp(log_t)
        s = s - s.max(axis=1, keepdims=True)
        logp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        return float(-logp[np.arange(len(labels)), labels].mean())

    lo, hi = np.log(TEMPERATURE_RANGE)
    ratio = (np.sqrt(5) - 1) / 2
    a, b = hi - ratio * (hi - lo), lo + ratio * (hi - lo)
    for _ in range(80):
        if nll(a) <= nll(b):  # a tie (both 0 where exp underflows) goes to the lower end: T -> 0 is the fit
            hi, b = b, a
            a = hi - ratio * (hi - lo)
        else:
            lo, a = a, b
            b = lo + ratio * (hi - lo)
    return float(np.exp((lo + hi) / 2))


def temperature_at_bound(temperature: float) -> bool:
    """Whether a fitted temperature is an end of :data:`TEMPERATURE_RANGE`: the likelihood still fell there (4
    validation images gave "temperature 10.0000"), so the number is the search's limit, not a fitted value."""
    return any(abs(np.log(temperature / end)) < 1e-4 for end in TEMPERATURE_RANGE)


def temperature_bound_note(temperature: float) -> str:
    """What to print after a temperature that :func:`temperature_at_bound`: empty for a fitted one."""
    lo, hi = TEMPERATURE_RANGE
    return (f" (an end of its search range {lo:g}-{hi:g}, not a fitted minimum: too few or too alike validation "
            "images)") if temperature_at_bound(temperature) else ""


def fit_ood(train_pooled: np.ndarray, train_prepared: np.ndarray, train_labels: np.ndarray,
            val_pooled: np.ndarray, val_prepared: np.ndarray, max_colourfulness: float,
            train_middle: np.ndarray | None = None, val_middle: np.ndarray | None = None,
            refuse_fraction: float = 0.01, shrinkage: float = 1e-3) -> dict:
    """Class means and shared covariance on training images; scale and threshold on validation."""
    x = joint_features(train_pooled, train_prepared, train_middle)
    classes = np.unique(train_labels)
    means = np.stack([x[train_labels == c].mean(axis=0) for c in classes])
    centred = x - means[np.searchsorted(classes, train_labels)]
    cov = centred.T @ centred / len(x)
    cov += shrinkage * np.trace(cov) / len(cov) * np.eye(len(cov))
    # precision = L L^T, so |(x - mu) @ L|^2 is the squared Mahalanobis distance; L is lower triangular
    whiten = np.linalg.cholesky(np.linalg.inv(cov))
    tril = whiten[np.tril_indices(len(cov))]
    params = {"method": "mahalanobis(log1p(pooled middle + last features) + input-crop statistics)",
              "uses_middle": train_middle is not None,
              "num_classes": len(classes), "dim": x.shape[1], "dtype": ARRAY_DTYPE,
              "means": _encode(means), "whiten": _encode(tril), "whiten_layout": "lower-triangle",
              "maha_scale": 1.0, "threshold": 0.0,
              "max_colourfulness": round(float(max_colourfulness), 3), "max_aspect": MAX_ASPECT, "min_std": MIN_STD,
              "max_second_head": MAX_SECOND_HEAD}
    raw = OODDetector(params).network_scores(val_pooled, val_prepared, val_middle)
    params["maha_scale"] = float(np.percentile(raw, 99.5))
    scores = raw / params["maha_scale"]
    params["threshold"] = float(np.quantile(scores, 1.0 - refuse_fraction, method="higher"))
    params["val_refused"] = float(np.mean(scores > params["threshold"]))
    return params
