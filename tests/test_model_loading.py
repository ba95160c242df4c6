"""Model files that load must be usable: a graph that disagrees with its own metadata is refused at load time."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from braintumor.predictor import Classifier, ModelError


@pytest.mark.parametrize(("updates", "said"), [
    ({"classes": ["a", "b", "c", "d", "e"]}, "does not give 5 class scores"),
    ({"preprocess": {"image_size": 48}}, "does not take one (N, 1, 48, 48) image batch"),
    ({"preprocess": {"image_size": "x"}}, "does not take one (N, 1, x, x) image batch"),
])
def test_a_graph_unlike_its_metadata_is_refused_when_loaded(tiny_model, tmp_path, updates, said):
    """Such a file loaded, then every prediction failed inside ONNX Runtime ('Invalid rank for input', a bare
    TypeError) or came back with the wrong class names."""
    pytest.importorskip("onnx")
    from braintumor.calibrate import write_metadata

    assert Classifier.load(tiny_model).predict(np.full((64, 64), 100, np.uint8)).probabilities  # the original works
    model = tmp_path / "m.onnx"
    shutil.copy(tiny_model, model)
    write_metadata(model, updates)
    with pytest.raises(ModelError) as err:
        Classifier.load(model)
    assert str(err.value) == f"{model} cannot be used: its graph {said}, as its metadata says"
