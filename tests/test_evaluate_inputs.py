"""What evaluate takes in: the network's probabilities unrounded (not the 6 decimals a Prediction shows), and every
file of the class folders, images or not."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
from evaluate_fakes import needs_matplotlib

from braintumor.classes import CLASSES
from braintumor.data import load_dataset
from braintumor.evaluate import evaluate, run_evaluate
from braintumor.image_files import walk_images
from braintumor.predictor import Classifier

REPO = Path(__file__).resolve().parents[1]
TESTING = (REPO / os.environ.get("BRAINTUMOR_DATA", "../shared/datasets/brain-tumor-mri")).resolve() / "Testing"

pytestmark = [pytest.mark.skipif(not TESTING.is_dir(), reason=f"dataset not found at {TESTING}"), needs_matplotlib]


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


def test_files_that_are_not_images_are_counted_and_named(tmp_path: Path, capsys, monkeypatch):
    """A DICOM file or a note in a class folder was left out of the evaluation without a word (train and data audit
    name them): now one line says how many and which endings, and metrics.json counts them."""
    data = _data(tmp_path / "data")
    folder = data / "Testing" / "glioma"
    (folder / "notes.txt").write_text("scanner settings")
    (folder / "scan.dcm").write_bytes(b"\0" * 132 + b"DICM")
    (folder / ".DS_Store").write_bytes(b"\0")  # hidden: never data, never mentioned
    meta = {"classes": list(CLASSES), "model_name": "sure", "preprocess": {"image_size": 48}}
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: cls(SureSession(), meta, None)))
    assert run_evaluate(None, str(data), str(tmp_path / "out"), progress=False) == 0
    err = capsys.readouterr().err
    assert f"skipped 2 files that are not images by their name (.dcm, .txt), e.g. {folder / 'notes.txt'}; DICOM and " \
        "NIfTI files are read by 'braintumor predict' only" in err
    assert ".DS_Store" not in err
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["data"]["n_not_images"] == 2


def test_predictions_csv_quotes_a_carriage_return_and_guards_a_formula(tmp_path: Path, monkeypatch):
    """predictions.csv wrote a name holding "\\r" bare (a CSV reader ended the row there) and a path starting like a
    formula (a relative --data such as ``=scans``) as it was; it now writes them as predict's csv does."""
    import csv

    from braintumor.csv_records import csv_text_value

    monkeypatch.chdir(tmp_path)
    data = _data(tmp_path / "=scans")
    first = sorted((data / "Testing" / "glioma").iterdir())[0]
    first.rename(first.with_name("a\rb.jpg"))
    meta = {"classes": list(CLASSES), "model_name": "sure", "preprocess": {"image_size": 48}}
    dataset = load_dataset(Path("=scans"), "Testing", allow_missing=True)
    evaluate(Classifier(SureSession(), meta, Path("sure.onnx")), dataset, tmp_path / "out", progress=False,
             gallery_size=2)
    with open(tmp_path / "out" / "predictions.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert {len(r) for r in rows} == {len(rows[0])} and len(rows) == 5
    assert all(r[0].startswith("'=scans") for r in rows[1:])
    assert sorted(Path(csv_text_value(r[0])) for r in rows[1:]) == sorted(dataset.paths)
