"""``evaluate`` of a model a group trained on its own folder: a folder of class folders with no Training split (the
one-split layout ``train`` accepts) may be the very folder the model was trained on, and a model that is not the
shipped one was trained on other images than the Kaggle set. Synthetic images and the stand-in model of
test_evaluate_external."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from evaluate_fakes import needs_matplotlib
from test_evaluate_external import StubClassifier, put_images

from braintumor.data import load_dataset
from braintumor.data_fingerprint import fingerprint
from braintumor.evaluate import run_evaluate
from braintumor.predictor import Classifier

pytestmark = needs_matplotlib


def stub_trained_on(monkeypatch: pytest.MonkeyPatch, trained_on: str) -> None:
    def load(cls, path=None):
        clf = StubClassifier()
        clf.metadata = {**clf.metadata, "data_fingerprint": trained_on}
        return clf
    monkeypatch.setattr(Classifier, "load", classmethod(load))


@pytest.fixture
def own(tmp_path: Path) -> Path:
    """A group's one-split set: ROOT/<class>/ with all four classes."""
    root = tmp_path / "own"
    for k, name in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
        put_images(root / name, seed=10 * k)
    return root


def test_the_folder_the_model_was_trained_on_is_said_to_be_it(own: Path, tmp_path: Path, capsys, monkeypatch) -> None:
    """It was scored as if new: "has no Training split ... --reference <the Kaggle set> compares them with the images
    the shipped model was trained on", a reference that was not this model's."""
    stub_trained_on(monkeypatch, fingerprint(load_dataset(own)))
    import braintumor.evaluate as evaluate_module
    import braintumor.evaluation_scope as scope

    hashed = []
    for module in (evaluate_module, scope):  # every image read and hashed once: the note and metrics.json share it
        monkeypatch.setattr(module, "fingerprint", lambda d, f=module.fingerprint: hashed.append(d) or f(d))
    out = tmp_path / "out"
    assert run_evaluate(None, str(own), str(out), progress=False) == 0
    assert len(hashed) == 1
    printed = capsys.readouterr().out
    said = f"leak-free metrics: not computed: {own} holds the very images the model was trained on"
    assert said in printed and "evaluate a folder it was not trained on\n" in printed
    assert "shipped model" not in printed
    assert "holds the very images the model was trained on" in json.loads((out / "metrics.json").read_text())[
        "leak_free_note"]


def test_a_model_trained_elsewhere_is_pointed_at_its_own_training_folder(own: Path, tmp_path: Path, capsys,
                                                                         monkeypatch) -> None:
    stub_trained_on(monkeypatch, "0" * 64)  # not the shipped model's data, not this folder
    assert run_evaluate(None, str(own), str(tmp_path / "out"), progress=False) == 0
    printed = capsys.readouterr().out
    assert f"not computed: {own} has no Training split" in printed
    assert "--reference FOLDER compares them with the images the model was trained on (the --data it was trained " \
           "with)\n" in printed
    assert "shipped model" not in printed
