"""Predict with ONNX Runtime alone (no torch): the Python API behind the CLI and the web app.

The ONNX file carries its own metadata (classes, preprocessing parameters, temperature),
so a Classifier needs nothing but the file.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import replace
from pathlib import Path
from typing import Literal, TypeVar, overload

import numpy as np
import onnxruntime as ort

from .arguments import count
from .classes import CLASSES
from .image_arrays import InMemoryImage, check_many, check_one, gray_from_memory, is_in_memory
from .image_gray import GrayPlane
from .image_io import MIN_SIDE, ImageError, ImageSource, InputInfo, box_reduced, decode_plane
from .model_inputs import check_crops, check_infos, check_model_input
from .model_loading import load_classifier
from .model_scores import NonFiniteScores, check_scores
from .ood import OODDetector
from .ood_stats import crop_tops, level_histograms
from .orientation import NOT_ON_ITS_SIDE, QUARTER_TURN, turn_reasons
from .orientation import OUTPUT as ORIENTATION
from .prediction import Prediction, prediction_from_probs, softmax
from .prediction_stream import stream_predictions
from .preprocess import PreprocessConfig, prepare_measured, to_model_input
from .processes import keep_sessions_in_children, reduce_classifier
from .python_api_errors import one_image_error
from .stripped import crop_shares, with_notes
from .volume_objects import MIN_SCAN_SIDE, Slice
from .wording import too_small_text

#: One image as predict, predict_many and heatmap.explain take it.
Source = ImageSource | InMemoryImage | Slice
#: The images' own type, as predict_many gives each back (list[Path]: Paths; ``path.parent`` was a type error of Source)
SourceT = TypeVar("SourceT", bound=Source)


class Classifier:
    """A loaded model: ``Classifier.load()`` (the shipped one) or ``.load("my.onnx")``, then ``predict``,
    ``predict_many`` or :func:`braintumor.heatmap.explain`; ``path``, ``metadata`` (the model card) and ``classes``
    (the probabilities' order) say what was loaded. Threads may share one, and processes too (``processes``)."""

    def __init__(self, session: ort.InferenceSession, metadata: dict, path: Path | None = None) -> None:
        # None for either raised AttributeError: "'NoneType' object has no attribute 'get'" (or 'get_outputs')
        if not isinstance(metadata, dict) or not callable(getattr(session, "get_outputs", None)):
            raise TypeError("Classifier(session, metadata) takes an ONNX Runtime session and its model's metadata "
                            f"(a dict), not {type(session).__name__} and {type(metadata).__name__}: "
                            "Classifier.load(path) reads both from an exported model file")
        self.session = session
        self.metadata = metadata
        self.path = path
        self._file = Path(path).resolve() if path is not None else None  # for pickling, whatever the folder is then
        self.classes: tuple[str, ...] = tuple(metadata.get("classes", CLASSES))
        self.preprocess_config = PreprocessConfig.from_dict(metadata.get("preprocess", {}))
        self.temperature = float(metadata.get("temperature", 1.0))
        self.ood: OODDetector | None = OODDetector(metadata["ood"]) if "ood" in metadata else None
        self._outputs = [o.name for o in session.get_outputs()]
        if self.ood is not None and self.ood.uses_middle and "pooled_middle" not in self._outputs:
            raise ValueError("OOD statistics need the 'pooled_middle' output")
        self._input = session.get_inputs()[0].name
        #: the orientation check's (quarter turn, upside down) thresholds when the file carries one, else None
        turns = metadata.get("orientation") if ORIENTATION in self._outputs else None
        self.turn_thresholds: tuple[float, float | None] | None = (
            (float(turns["quarter_threshold"]), None if turns.get("half_threshold") is None
             else float(turns["half_threshold"])) if turns else None)
        keep_sessions_in_children(self)

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, threads: int | None = None) -> Classifier:
        """Open an exported ONNX model: a path, a shipped model's file name, or None ($BRAINTUMOR_MODEL, else the
        shipped one). ``threads``: ONNX Runtime's (default: the CPUs this process may use, a container's CPU quota
        counted, at most 4; in a server's worker, those CPUs divided among its workers, as ``serve`` divides them, at
        most 4 too: ``$BRAINTUMOR_SERVER_WORKERS``, which braintumor's gunicorn_config sets in each gunicorn worker).
        Raises FileNotFoundError or ModelError."""
        return load_classifier(cls, path, threads)

    def __reduce__(self) -> tuple:  # pickled as its model file, opened again on the other side
        return reduce_classifier(self, self._file)

    def __repr__(self) -> str:  # the default named only an address
        options = getattr(self.session, "get_session_options", None)  # a session built in memory need not have it
        threads = options().intra_op_num_threads if options else "?"
        return (f"<Classifier {self.path.name if self.path else '(no file)'}: image_size {self.image_size}, "
                f"classes {', '.join(self.classes)}; threads {threads}>")

    @property
    def image_size(self) -> int:
        """Side of the square model input in pixels (the heat map's too)."""
        return self.preprocess_config.image_size

    def preprocess(self, source: Source) -> np.ndarray:
        """Model input (1, S, S) for one image, with this model's parameters."""
        return self.inspect(source)[0]

    def inspect(self, source: Source) -> tuple[np.ndarray, InputInfo]:
        """Model input (1, S, S) plus what the decoder saw (size, colour) for the OOD checks."""
        crop, info = self.inspect_crop(source)
        return to_model_input(crop), info

    def inspect_crop(self, source: Source) -> tuple[np.ndarray, InputInfo]:
        """The uint8 crop (S, S) the model input is made of (:meth:`classify_crops` takes a stack of them), plus what
        the decoder saw; a scan's Slice brings its colour before it became gray and its DICOM modality
        (``predict(s.pixels)`` answered for CT slices)."""
        if isinstance(source, Slice):
            # MIN_SCAN_SIDE, not MIN_SIDE: a scan's slice has its acquisition matrix (64 x 64 EPI and diffusion, 128
            # x 128 perfusion), and a cut of a volume with thick slices, resampled to square pixels, can be 64 x 40:
            # the scan's real resolution, not a shrunk copy, and refusing it would refuse a series. The refusal check
            # and the review flag still apply.
            if source.error:  # known when it was read (a NIfTI slice of no finite value): not a blank image
                raise ImageError(source.error)
            gray, info, plane = self._decode(source.pixels)
            dicom = source.meta.get("dicom") or {}  # (a Slice made by hand may say {"dicom": None})
            info = replace(info, colourfulness=source.colourfulness, modality=dicom.get("modality"),
                           modality_source=source.modality_source, scan=True)
            minimum, what = MIN_SCAN_SIDE, "scan slice"
        else:
            gray, info, plane = self._decode(source)
            minimum, what = MIN_SIDE, "image"
        if info.width < minimum or info.height < minimum:  # before the crop: a 1 x 30000 strip is refused
            raise ImageError(too_small_text(info.width, info.height, minimum, what))
        prepared, second = prepare_measured(gray, self.preprocess_config, plane)
        return prepared, replace(info, second_head=second)

    def _decode(self, source: ImageSource | InMemoryImage) -> tuple[np.ndarray, InputInfo, GrayPlane | None]:
        """The grayscale image, what the decoder saw, whatever its size, and its GrayPlane where one came free."""
        if is_in_memory(source):  # reduced as a file of its pixels is: a 4000 px array was answered, its PNG refused
            gray, info = gray_from_memory(source)
            return box_reduced(gray, 2 * self.image_size), info, None
        check_one(source)  # named here, not by decode_image: predict takes in-memory images too
        return decode_plane(source, draft_size=2 * self.image_size)

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Raw (logits (N, K), last feature maps (N, C, h, w) or None) for a (N, 1, S, S) batch."""
        outs = self.run_all(batch)
        return outs[self._outputs[0]], outs.get("features")

    def run_all(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """Every graph output by name (``logits``, ``features``, ``pooled_middle`` where exported)."""
        return self._run_all(check_model_input(batch, self.image_size))  # was "Invalid rank", a uint8 or NaN answered

    def _run_all(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        """:meth:`run_all` of a checked batch or one made of crops (no second pass); a float32 one is not copied."""
        outs = self.session.run(None, {self._input: np.asarray(batch, dtype=np.float32)})
        return dict(zip(self._outputs, outs, strict=True))

    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities (N, K) for a preprocessed batch."""
        return softmax(self.run(batch)[0], self.temperature)

    def prediction_from_probs(self, probs: np.ndarray, ood_score: float | None = None,
                              reason: str | None = None) -> Prediction:
        """The Prediction for one row of probabilities (:func:`braintumor.prediction.prediction_from_probs`)."""
        return prediction_from_probs(self.classes, probs, ood_score, reason)

    def classify(self, batch: np.ndarray, infos: list[InputInfo | None] | None = None,
                 ) -> tuple[list[Prediction], np.ndarray | None]:
        """Predictions (with OOD refusal) and the feature maps for a preprocessed (N, 1, S, S) batch."""
        batch = check_model_input(batch, self.image_size)
        preds, features, _ = self._classify(batch, check_infos(infos, len(batch)))
        return preds, features

    def classify_crops(self, crops: np.ndarray, infos: list[InputInfo | None] | None = None,
                       ) -> tuple[list[Prediction], np.ndarray | None]:
        """:meth:`classify` of uint8 crops (N, S, S) (:meth:`inspect_crop`), with the same answers: the input checks
        then read the crops' integer levels, not the floats made of them (less work: no pass over the floats)."""
        crops = check_crops(crops, self.image_size)
        preds, features, _ = self._classify(to_model_input(crops), check_infos(infos, len(crops)), crops)
        return preds, features

    def _classify(self, batch: np.ndarray, infos: list[InputInfo | None], crops: np.ndarray | None = None,
                  turn_back: bool = True) -> tuple[list[Prediction], np.ndarray | None, np.ndarray]:
        """``crops``: the uint8 crops ``batch`` was made of, or None. ``turn_back``: whether a slice refused for its
        distance that looks turned is tried turned back (:meth:`_accepted_turned_back`)."""
        ood = self.ood if "features" in self._outputs else None  # the distance needs the feature maps
        # the input checks' and the stripped note's histograms and 99th percentiles, made once for both
        hists = None if crops is None else level_histograms(crops)
        counts = None if hists is None else np.asarray(hists, dtype=np.int64)
        tops = None if hists is None else crop_tops(hists)  # (one crop's: from its list, not the array)
        # a turned try's answers only say whether it was accepted: no note wanted (nor its cost)
        shares = crop_shares(batch, crops, counts, tops) if turn_back else None
        if ood is not None:
            # The crop statistics and input checks come before the network run, while the crops are
            # still in cache (the network's buffers evict them: afterwards the same work took longer)
            stats, reasons = ood.check_inputs(batch, infos, crops, counts, tops)
        outs = self._run_all(batch)  # checked by classify, or made of crops
        logits, features = outs[self._outputs[0]], outs.get("features")
        check_scores(logits, self.path)  # a broken model's NaN: a ModelError, not prediction_from_probs' ValueError
        probs = softmax(logits, self.temperature)
        turns = (turn_reasons(outs[ORIENTATION], *self.turn_thresholds) if self.turn_thresholds is not None
                 else [None] * len(probs))
        if ood is None:
            preds = [self.prediction_from_probs(p, None, turn) for p, turn in zip(probs, turns, strict=True)]
            return with_notes(preds, shares), features, probs
        # features.mean(axis=(2, 3)) as numpy's mean computes it (the sum, divided by an intp count), in two calls
        pooled = np.add.reduce(features, axis=(2, 3))
        np.true_divide(pooled, np.intp(features.shape[2] * features.shape[3]), out=pooled, casting="unsafe")
        scores = ood.network_scores(pooled, None, outs.get("pooled_middle"), stats=stats)
        preds, turned = [], []
        for k, (p, score, reason, info, turn) in enumerate(zip(probs, scores, reasons, infos, turns, strict=True)):
            # a turn is named where nothing else is wrong; the input's own faults and the distance come first (a
            # photo's or a document's "turn" means nothing), but see turned; never an upright slice let through
            reason = reason or ood.network_reason(info, score) or turn
            if turn is not None and turn_back and reasons[k] is None and (reason is turn or score > ood.threshold):
                turned.append(k)
            preds.append(self.prediction_from_probs(p, score / ood.threshold, reason))
        if turned:  # told to turn it only if it would be read turned back: a slice on its side far from every upright
            # training slice too was told only "unlike brain MRI" (a fifth of the turned test slices); a near one read
            # turned back neither way is not turned (upright skull-stripped slices: turned, refused again)
            halves = [QUARTER_TURN not in turns[k] for k in turned]
            for k, upright in zip(turned, self._accepted_turned_back(batch, infos, crops, turned, halves), strict=True):
                if upright or scores[k] <= ood.threshold:
                    preds[k] = self.prediction_from_probs(probs[k], scores[k] / ood.threshold,
                                                          turns[k] if upright else NOT_ON_ITS_SIDE)
        return with_notes(preds, shares), features, probs

    def _accepted_turned_back(self, batch: np.ndarray, infos: list[InputInfo | None], crops: np.ndarray | None,
                              rows: list[int], halves: list[bool]) -> list[bool]:
        """Whether each of ``rows`` is accepted (not refused for any reason) turned back: a quarter either way, or
        half a turn where ``halves`` says it looks upside down (a slice flipped upside down is then its mirror image,
        which the classifier reads as it reads the slice). Then it is a brain MRI slice turned, not a photo whose
        "turn" means nothing. On validation, 172 of the 179 quarter turns refused for their distance were accepted
        turned back, 2 of the 82 such non-MRI samples; of those near enough, 957 of 960, and 15 of the 25 upright
        skull-stripped slices that looked turned (docs/RESULTS.md, "Slices on their side or upside down"). Costs a
        network run only for inputs that look turned."""
        tries = [(row, k) for row, half in zip(rows, halves, strict=True) for k in ((2,) if half else (1, 3))]
        turned = np.ascontiguousarray(np.stack([np.rot90(batch[row], k, axes=(1, 2)) for row, k in tries]))
        turned_crops = None if crops is None else np.ascontiguousarray(
            np.stack([np.rot90(crops[row], k) for row, k in tries]))
        try:
            preds = self._classify(turned, [infos[row] for row, _ in tries], turned_crops, turn_back=False)[0]
        except NonFiniteScores as exc:  # named by the image it was a turned copy of
            raise exc.renumbered(tries[exc.row][0]) from None
        accepted = dict.fromkeys(rows, False)
        for (row, _), pred in zip(tries, preds, strict=True):
            accepted[row] = accepted[row] or not pred.ood
        return [accepted[row] for row in rows]

    def predict(self, source: Source) -> Prediction:
        """Classify one image (a path, bytes, binary file, array, PIL image, a scan's Slice). Raises ImageError."""
        crop, info = self._one_crop(source)
        return self.classify_crops(crop[None], [info])[0][0]

    def _one_crop(self, source: Source) -> tuple[np.ndarray, InputInfo]:
        """:meth:`inspect_crop`, its errors saying what to call instead: ``predict``'s and ``heatmap.explain``'s."""
        try:
            return self.inspect_crop(source)
        except (ImageError, TypeError) as exc:
            raise one_image_error(exc, source) from None

    # one return type each: a union of both, `for path, outcome in clf.predict_many(...)` was a 3-tuple to type checkers
    @overload
    def predict_many(self, sources: Iterable[SourceT], batch_size: int = ..., with_probabilities: Literal[False] = ...,
                     ) -> Iterator[tuple[SourceT, Prediction | ImageError]]: ...
    @overload
    def predict_many(self, sources: Iterable[SourceT], batch_size: int = ..., *, with_probabilities: Literal[True],
                     ) -> Iterator[tuple[SourceT, Prediction | ImageError, np.ndarray | None]]: ...
    @overload
    def predict_many(self, sources: Iterable[SourceT], batch_size: int = ..., with_probabilities: bool = ...,
                     ) -> Iterator[tuple[SourceT, Prediction | ImageError] | tuple[SourceT, Prediction | ImageError,
                                                                                  np.ndarray | None]]: ...

    def predict_many(self, sources: Iterable[Source], batch_size: int = 32, with_probabilities: bool = False,
                     ) -> Iterator[tuple[Source, Prediction | ImageError] | tuple[Source, Prediction | ImageError,
                                                                                np.ndarray | None]]:
        """Stream (source, Prediction or ImageError) in input order, batching the network; each source as
        :meth:`predict` takes it (a scan's Slice with its modality and colour); an image whose scores are not finite,
        its :class:`~braintumor.model_scores.UnscoredImage` (an ImageError and a ModelError), the others answered.
        ``with_probabilities``:
        (source, outcome, probabilities), the (K,) float64 row the Prediction shows to 6 decimals, unrounded (None
        for an ImageError): metrics from rounded ones tie where a model is very sure (evaluate's AUC and ECE)."""
        batch_size = count(batch_size, "batch_size")  # 0 and -1 were taken as 1, None failed on first use
        if not isinstance(with_probabilities, (bool, np.bool_)):  # "no" was true: 3-tuples that failed to unpack
            raise TypeError(f"with_probabilities is True or False, not {type(with_probabilities).__name__}")
        check_many(sources)  # before the first next(): a str, a file, one image or a scan's object
        stream = stream_predictions(self, sources, batch_size)
        return stream if with_probabilities else ((src, outcome) for src, outcome, _ in stream)
