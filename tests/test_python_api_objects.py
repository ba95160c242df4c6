"""What a Python user sees of the API's objects: a Classifier's repr, a Prediction's equality and hash, the errors."""

from __future__ import annotations

from collections.abc import Hashable
from dataclasses import replace
from types import SimpleNamespace

import pytest
from conftest import synthetic_head
from PIL import Image

from braintumor import Classifier, ImageError, Prediction


def test_a_classifier_shows_what_was_loaded():
    """The default repr named only an address: <braintumor.predictor.Classifier object at 0x7f...>."""
    clf = Classifier.load(threads=1)
    assert repr(clf) == ("<Classifier braintumor-tumornet-s.onnx: image_size 160, classes glioma, meningioma, "
                         "notumor, pituitary; threads 1>")

    class InMemory:  # a session not from a file, nor ONNX Runtime's
        def get_inputs(self) -> list[SimpleNamespace]:
            return [SimpleNamespace(name="image")]

        get_outputs = get_inputs

    built = Classifier(InMemory(), {"classes": ["a", "b"], "preprocess": {"image_size": 48}})
    assert repr(built) == "<Classifier (no file): image_size 48, classes a, b; threads ?>"


def test_a_prediction_compares_by_value_and_says_it_is_unhashable():
    """A frozen dataclass whose probabilities are a dict: hash() raised "unhashable type: 'dict'" while
    isinstance(p, Hashable) said True. Unhashable on purpose, like the dict it holds."""
    p = Prediction("glioma", 0.999943, {"glioma": 0.999943, "meningioma": 1.7e-05, "notumor": 2.2e-05,
                                        "pituitary": 1.8e-05}, ood_score=0.5531)
    assert p == replace(p) and p != replace(p, review=True)
    assert not isinstance(p, Hashable)
    with pytest.raises(TypeError, match="unhashable type: 'Prediction'"):
        hash(p)


def test_a_missing_model_is_told_in_words_of_python_and_of_the_cli(tmp_path):
    """Classifier.load("nope.onnx") said "(train and export one, or pass --model)": a CLI flag in a Python error."""
    with pytest.raises(FileNotFoundError) as missing:
        Classifier.load(tmp_path / "nope.onnx")
    assert str(missing.value) == (f"model file not found: {tmp_path / 'nope.onnx'} (train and export one, or pass "
                                  "another path: --model in the CLI)")
    with pytest.raises(FileNotFoundError) as folder:
        Classifier.load(tmp_path)
    assert str(folder.value) == f"{tmp_path} is a folder: pass an ONNX model file (--model in the CLI)"


def test_a_closed_pil_image_is_told_as_closed(tmp_path):
    """`with Image.open(p) as im: pass` then predict(im) said "image cannot be read as grayscale (AssertionError)";
    im.close() after loading said "(ValueError)"."""
    path = tmp_path / "slice.png"
    Image.fromarray(synthetic_head()).save(path)
    with Image.open(path) as never_loaded:
        pass
    loaded = Image.open(path)
    loaded.load()
    loaded.close()
    clf = Classifier.load(threads=1)
    for closed in (never_loaded, loaded, Image.fromarray(synthetic_head())):
        closed.close()
        with pytest.raises(ImageError) as error:
            clf.predict(closed)
        assert str(error.value) == ("the PIL image is closed (its pixels were never read, or close() freed them): "
                                    "predict it inside its 'with Image.open(...)' block, or pass a .copy() made there")
    with Image.open(path) as im:
        kept = im.copy()
    assert clf.predict(kept).to_dict() == clf.predict(path).to_dict()
