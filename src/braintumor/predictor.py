"""Predict with ONNX Runtime alone (no torch): the Python API behind the CLI and the web app.

The ONNX file carries its own metadata (classes, preprocessing parameters, temperature),
so a Classifier needs nothing but the file.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnxruntime as ort

from .classes import CLASSES
from .image_io import ImageError, ImageSource
from .preprocess import PreprocessConfig, preprocess

#: Key of the JSON metadata blob inside the ONNX file.
METADATA_KEY = "braintumor"
#: File name of the shipped model, in ``models/`` (repo) or ``braintumor/models/`` (wheel).
MODEL_FILENAME = "braintumor-tumornet-s.onnx"


def default_model_path() -> Path:
    """The model used when none is given: $BRAINTUMOR_MODEL, else the shipped one."""
    env = os.environ.get("BRAINTUMOR_MODEL")
    if env:
        return Path(env)
    here = Path(__file__).resolve().parent
    for candidate in (here / "models" / MODEL_FILENAME, here.parents[1] / "models" / MODEL_FILENAME):
        if candidate.exists():
            return candidate
    return here.parents[1] / "models" / MODEL_FILENAME


class ModelError(ValueError):
    """A model file that cannot be used (not ONNX, not ours, or broken)."""


@dataclass(frozen=True)
class Prediction:
    """One image's answer. ``probabilities`` follows the model's class order."""

    label: str
    confidence: float
    probabilities: dict[str, float]

    def to_dict(self) -> dict:
        return {"label": self.label, "confidence": self.confidence, "probabilities": dict(self.probabilities)}


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    z = logits.astype(np.float64) / temperature
    z -= z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=-1, keepdims=True)


class Classifier:
    """A loaded model. Thread-safe: ONNX Runtime sessions may be run concurrently."""

    def __init__(self, session: ort.InferenceSession, metadata: dict, path: Path | None = None) -> None:
        self.session = session
        self.metadata = metadata
        self.path = path
        self.classes: tuple[str, ...] = tuple(metadata.get("classes", CLASSES))
        self.preprocess_config = PreprocessConfig.from_dict(metadata.get("preprocess", {}))
        self.temperature = float(metadata.get("temperature", 1.0))
        self._outputs = [o.name for o in session.get_outputs()]
        self._input = session.get_inputs()[0].name

    @classmethod
    def load(cls, path: str | os.PathLike | None = None, threads: int | None = None) -> Classifier:
        """Open an exported ONNX model (default: the shipped one)."""
        model_path = Path(path) if path else default_model_path()
        if not model_path.is_file():
            raise FileNotFoundError(
                f"model file not found: {model_path} (train and export one, or pass --model)"
            )
        opts = ort.SessionOptions()
        opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        opts.intra_op_num_threads = threads or min(os.cpu_count() or 1, 4)
        opts.inter_op_num_threads = 1
        opts.log_severity_level = 3
        # Idle pool threads sleep instead of spinning: on a shared or busy CPU (gunicorn workers, a load
        # generator, training) spinning steals cores; benchmarks/ab.py measured 1.3-1.6x at 2 threads.
        opts.add_session_config_entry("session.intra_op.allow_spinning", "0")
        try:
            session = ort.InferenceSession(str(model_path), opts, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own exception types for broken files
            kind = exc.__class__.__name__
            raise ModelError(f"cannot load model {model_path}: not a valid ONNX file ({kind})") from None
        raw = session.get_modelmeta().custom_metadata_map.get(METADATA_KEY)
        if raw is None:
            raise ModelError(f"{model_path} is not a braintumor model (no '{METADATA_KEY}' metadata)")
        return cls(session, json.loads(raw), model_path)

    @property
    def image_size(self) -> int:
        return self.preprocess_config.image_size

    def preprocess(self, source: ImageSource | np.ndarray) -> np.ndarray:
        """Model input (1, S, S) for one image, with this model's parameters."""
        return preprocess(source, self.preprocess_config)

    def run(self, batch: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """Raw (logits (N, K), last feature maps (N, C, h, w) or None) for a (N, 1, S, S) batch."""
        # no copy when the batch is already float32 (preprocess and np.stack make it so)
        outs = self.session.run(None, {self._input: np.asarray(batch, dtype=np.float32)})
        return outs[0], (outs[1] if len(outs) > 1 else None)

    def predict_proba(self, batch: np.ndarray) -> np.ndarray:
        """Calibrated class probabilities (N, K) for a preprocessed batch."""
        return softmax(self.run(batch)[0], self.temperature)

    def prediction_from_probs(self, probs: np.ndarray) -> Prediction:
        """The Prediction for one row of probabilities (rounded the same way everywhere)."""
        k = int(np.argmax(probs))
        return Prediction(
            label=self.classes[k],
            confidence=round(float(probs[k]), 6),
            probabilities={c: round(float(p), 6) for c, p in zip(self.classes, probs, strict=True)},
        )

    def predict(self, source: ImageSource | np.ndarray) -> Prediction:
        """Classify one image (path, bytes, file object or grayscale array). Raises ImageError."""
        return self.prediction_from_probs(self.predict_proba(self.preprocess(source)[None])[0])

    def predict_many(
        self, sources: Iterable[ImageSource], batch_size: int = 32
    ) -> Iterator[tuple[ImageSource, Prediction | ImageError]]:
        """Stream (source, Prediction or ImageError) in input order, batching the network."""
        pending: list[tuple[ImageSource, np.ndarray | ImageError]] = []

        def flush() -> Iterator[tuple[ImageSource, Prediction | ImageError]]:
            good = [x for _, x in pending if isinstance(x, np.ndarray)]
            probs = iter(self.predict_proba(np.stack(good)) if good else [])
            for src, x in pending:
                yield src, (x if isinstance(x, ImageError) else self.prediction_from_probs(next(probs)))
            pending.clear()

        for src in sources:
            try:
                pending.append((src, self.preprocess(src)))
            except ImageError as exc:
                pending.append((src, exc))
            if len(pending) >= batch_size:
                yield from flush()
        yield from flush()
