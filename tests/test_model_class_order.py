"""A model file's scores are labelled by its metadata's ``classes``, in their order, whatever that order is: a model
whose network gives its scores in another order than :data:`braintumor.classes.CLASSES` (and whose metadata says so)
gives the same answers by class name, heat maps, evaluation and calibration as the same network in the usual order."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import encode, extra_reason, synthetic_head

from braintumor.classes import CLASSES
from braintumor.model_files import default_model_path
from braintumor.model_loading import METADATA_KEY
from braintumor.predictor import Classifier

onnx = pytest.importorskip("onnx", reason=extra_reason("onnx"))

#: the reordered model's class j is the original's class ORDER[j]: pituitary, glioma, notumor, meningioma
ORDER = [3, 0, 2, 1]


def reordered(model: Path, out: Path) -> Path:
    """``model`` with its scores given in :data:`ORDER` (a Gather after the logits) and its metadata to match (the
    classes, and the head's rows, which the heat map weighs the features with): what an export from a run that
    listed its classes in that order holds."""
    from onnx import helper, numpy_helper

    proto = onnx.load_model(str(model))
    graph = proto.graph
    for node in graph.node:  # the network's own scores get another name; "logits" is the reordered ones
        node.output[:] = ["logits_as_trained" if name == "logits" else name for name in node.output]
        node.input[:] = ["logits_as_trained" if name == "logits" else name for name in node.input]
    graph.initializer.append(numpy_helper.from_array(np.asarray(ORDER, dtype=np.int64), "class_order"))
    graph.node.append(helper.make_node("Gather", ["logits_as_trained", "class_order"], ["logits"], axis=1))
    entry = next(p for p in proto.metadata_props if p.key == METADATA_KEY)
    meta = json.loads(entry.value)
    meta["classes"] = [meta["classes"][k] for k in ORDER]
    if "head" in meta:
        meta["head"] = {**meta["head"], "weight": [meta["head"]["weight"][k] for k in ORDER],
                        "bias": [meta["head"]["bias"][k] for k in ORDER]}
    entry.value = json.dumps(meta)
    onnx.save_model(proto, str(out))
    return out


def same_answer(a, b) -> None:
    assert (a.label, a.confidence, a.ood, a.ood_score, a.reason, a.review) == \
           (b.label, b.confidence, b.ood, b.ood_score, b.reason, b.review)
    assert dict(a.probabilities) == dict(b.probabilities)  # by class name


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_a_model_giving_its_scores_in_another_class_order_answers_the_same(tmp_path, test_images):
    from braintumor.heatmap import explain

    usual = Classifier.load(threads=1)
    other = Classifier.load(reordered(default_model_path(), tmp_path / "reordered.onnx"), threads=1)
    assert other.classes == ("pituitary", "glioma", "notumor", "meningioma")
    images = [test_images[c][0] for c in CLASSES] + [encode(synthetic_head(seed=1)), encode(synthetic_head(seed=2))]
    labels = set()
    for image in images:
        a, b = usual.predict(image), other.predict(image)
        same_answer(a, b)
        assert list(b.probabilities) == list(other.classes)  # in the model's own order, as documented
        labels.add(a.label)
        ea, eb = explain(usual, image), explain(other, image)
        same_answer(ea.prediction, eb.prediction)
        assert (ea.cam is None) == (eb.cam is None)
        if ea.cam is not None:  # the heat map of the same class, not of the class at the same index
            np.testing.assert_allclose(ea.cam, eb.cam, atol=1e-5)
    assert len(labels - {None}) >= 3  # the answers differ: an order mix-up would show


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_an_evaluation_of_a_reordered_model_scores_the_same(small_data, tmp_path):
    from braintumor.data import load_dataset
    from braintumor.evaluate import evaluate

    other = Classifier.load(reordered(default_model_path(), tmp_path / "reordered.onnx"), threads=1)
    dataset = load_dataset(small_data, "Testing")
    got = [evaluate(clf, dataset, tmp_path / name, progress=False, gallery_size=2)
           for name, clf in (("usual", Classifier.load(threads=1)), ("other", other))]
    for key in ("accuracy", "macro_f1", "ece", "counts"):
        assert got[0][key] == pytest.approx(got[1][key]), key


def test_a_calibration_of_a_reordered_model_fits_the_same_temperature(tiny_run, tiny_model, tmp_path):
    """calibrate (and quantize's fit, export's) took the run's labels in CLASSES' order against the model's scores
    in its own: a model listing its classes in another order had its temperature fitted, and its validation accuracy
    counted, against labels naming other classes."""
    from braintumor.calibrate import calibrate

    usual, other = tmp_path / "usual.onnx", reordered(tiny_model, tmp_path / "other.onnx")
    shutil.copy(tiny_model, usual)
    for model in (usual, other):
        calibrate(model, tiny_run)
    a, b = Classifier.load(usual), Classifier.load(other)
    assert b.classes != a.classes
    assert b.temperature == pytest.approx(a.temperature, rel=1e-3)
    assert b.metadata["calibration"]["val_accuracy"] == a.metadata["calibration"]["val_accuracy"]
    assert b.metadata["calibration"]["val_after"] == pytest.approx(a.metadata["calibration"]["val_after"], abs=1e-4)
