"""What evaluate takes in: the network's probabilities unrounded (not the 6 decimals a Prediction shows)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from braintumor.classes import CLASSES
from braintumor.data import load_dataset
from braintumor.evaluate import evaluate
from braintumor.image_io import walk_images
from braintumor.predictor import Classifier

REPO = Path(__file__).resolve().parents[1]
TESTING = (REPO / os.environ.get("BRAINTUMOR_DATA", "../shared/datasets/brain-tumor-mri")).resolve() / "Testing"

pytestmark = pytest.mark.skipif(not TESTING.is_dir(), reason=f"dataset not found at {TESTING}")


class _Named:
    def __init__(self, name: str) -> None:
        self.name = name


class SureSession:
    """Glioma logits 15.5 for the two glioma images, 15 for the two meningiomas (dataset order): every answer is
    glioma at 0.9999994 or 0.9999991, both 0.999999 to 6 decimals."""

    def get_inputs(self) -> list[_Named]:
        return [_Named("image")]

    def get_outputs(self) -> list[_Named]:
        return [_Named("logits")]

    def run(self, _outputs: object, feeds: dict) -> list[np.ndarray]:
        assert len(feeds["image"]) == 4
        return [np.array([[a, 0, 0, 0] for a in (15.5, 15.5, 15.0, 15.0)], dtype=np.float32)]


def _data(root: Path, per_class: int = 2) -> Path:
    for name in CLASSES:
        (root / "Testing" / name).mkdir(parents=True)
    for name in ("glioma", "meningioma"):
        for src in list(walk_images(TESTING / name))[:per_class]:
            shutil.copy(src, root / "Testing" / name / src.name)
    return root


def test_metrics_come_from_the_unrounded_probabilities(tmp_path: Path):
    """Rounded to the Predictions' 6 decimals, the glioma scores of all four images tied and the glioma AUC was
    0.5; the network ranks every glioma above every meningioma (AUC 1). ECE before the temperature moved too."""
    meta = {"classes": list(CLASSES), "model_name": "sure", "preprocess": {"image_size": 48}}
    classifier = Classifier(SureSession(), meta, Path("sure.onnx"))
    dataset = load_dataset(_data(tmp_path / "data"), "Testing", allow_missing=True)
    result = evaluate(classifier, dataset, tmp_path / "out", progress=False, gallery_size=2)
    assert result["accuracy"] == 0.5  # every answer glioma
    assert result["per_class"]["glioma"]["roc_auc"] == 1.0 and result["per_class"]["meningioma"]["roc_auc"] == 1.0
    assert result["review"]["flagged"] == 0  # the review flag still reads the confidence as shown
    rows = (tmp_path / "out" / "predictions.csv").read_text().splitlines()[1:]
    assert {r.split(",")[3] for r in rows} == {"0.999999"}  # and the CSV shows 6 decimals
