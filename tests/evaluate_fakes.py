"""The stand-ins the evaluation tests share (tests/test_evaluate*.py): a fake classifier and a training run's log
(their few real images per class are conftest.py's small_data); a plain module, so that test files import from it."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
from conftest import needs

from braintumor import evaluation_figures
from braintumor.classes import CLASSES
from braintumor.image_io import ImageError, read_image
from braintumor.orientation import TURN_ADVICE
from braintumor.prediction import REVIEW_BELOW, Prediction
from braintumor.preprocess import PreprocessConfig

REPO = Path(__file__).resolve().parents[1]
DATA = (REPO / os.environ.get("BRAINTUMOR_DATA", "../shared/datasets/brain-tumor-mri")).resolve()
TESTING = DATA / "Testing"
PER_CLASS = 3
#: evaluate draws its figures with matplotlib (the [eval] extra) and says it is missing before reading any image:
#: its tests skip without it, as the core install with [dev] leaves it out
needs_matplotlib = needs("evaluate", "matplotlib")
#: the figures a run with a training log and no temperature draws (the package's list: what --out is checked for)
FIGURES = tuple(name for name in evaluation_figures.FIGURES if name != "reliability_uncalibrated")


class FakeClassifier:
    """Implements the part of Classifier that evaluation uses; every third image is misread."""

    def __init__(self) -> None:
        self.classes = CLASSES
        self.metadata = {"model_name": "fake-net", "package_version": "0.0-test", "classes": list(CLASSES),
                         "temperature": 1.0, "huge": "x" * 10_000}
        self.path = Path.cwd() / "models" / "fake.onnx"  # as Classifier.load gives it: absolute
        self.preprocess_config = PreprocessConfig(image_size=64)
        self.seen = 0
        self.turn_at: int | None = None  # the k whose refusal is as on its side (the orientation check's advice)

    def predict_many(self, sources: Iterable, batch_size: int = 32,
                     with_probabilities: bool = False) -> Iterator[tuple[object, ...]]:
        for src, outcome in self._answers(sources):
            probs = None if isinstance(outcome, ImageError) else np.asarray(list(outcome.probabilities.values()))
            yield (src, outcome, probs) if with_probabilities else (src, outcome)

    def _answers(self, sources: Iterable) -> Iterator[tuple[object, object]]:
        for src in sources:
            try:
                read_image(src)
            except ImageError as exc:
                yield src, exc
                continue
            true = CLASSES.index(Path(src).parent.name)
            k = self.seen
            guess = (true + 1) % len(CLASSES) if k % 3 == 2 else true
            self.seen += 1
            probs = np.full(len(CLASSES), 0.001 if k % 4 == 0 else 0.1)  # every 4th answer sure, the others not
            probs[guess] = 1.0 - probs.sum() + probs[guess]
            as_dict = dict(zip(CLASSES, probs.tolist(), strict=True))
            if k % 5 == 4:  # refused as unlike brain MRI: answer withheld, probabilities kept
                reason = f"far; it looks turned 90 degrees, on its side; {TURN_ADVICE}" if k == self.turn_at else "far"
                yield src, Prediction(None, None, as_dict, ood=True, ood_score=1.0 + k / 10, reason=reason)
            else:
                yield src, Prediction(CLASSES[guess], float(probs[guess]), as_dict, ood=False, ood_score=0.5,
                                      review=bool(probs[guess] < REVIEW_BELOW))


def _run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    rows = [{"epoch": e, "lr": 1e-3 / e, "train_loss": 1.2 / e, "train_acc": 0.5 + e / 10, "val_loss": 1.3 / e,
             "val_acc": 0.45 + e / 10, "val_ema_loss": 1.4 / e, "val_ema_acc": 0.4 + e / 10} for e in (1, 2, 3)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"epoch": 4, "lr')  # torn line
    return run
