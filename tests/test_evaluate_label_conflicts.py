"""The same image filed under two classes of the evaluated folder: one of its scores is wrong whatever the model says,
and evaluate said nothing of it (only ``data audit`` did). Synthetic images and the stand-in model of
test_evaluate_external: no dataset, no ONNX file needed."""

from __future__ import annotations

import json
from html import escape
from pathlib import Path

import numpy as np
from conftest import encode
from evaluate_fakes import needs_matplotlib
from PIL import Image
from test_evaluate_external import StubClassifier

from braintumor.evaluate import run_evaluate
from braintumor.predictor import Classifier

pytestmark = needs_matplotlib


def smooth(seed: int, brighter: int = 0) -> np.ndarray:
    """A smooth random image: unlike every other seed's by pHash (synthetic heads are all near duplicates);
    ``brighter`` makes a near duplicate that is not pixel-identical (seed 3, 1 brighter: pHash distance 4)."""
    small = np.random.default_rng(seed).integers(0, 256, (8, 8), dtype=np.uint8)
    big = np.asarray(Image.fromarray(small).resize((96, 96), Image.Resampling.BICUBIC), dtype=np.int64)
    return np.clip(big + brighter, 0, 255).astype(np.uint8)


def put(path: Path, image: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(encode(image))


def test_images_filed_under_two_classes_are_named_without_changing_a_metric(tmp_path: Path, capsys, monkeypatch):
    root = tmp_path / "data"
    put(root / "Training" / "glioma" / "t.png", smooth(100))
    put(root / "Training" / "notumor" / "t.png", smooth(101))
    test = root / "Testing"
    put(test / "glioma" / "g0.png", smooth(0))
    put(test / "glioma" / "g1.png", smooth(1))
    put(test / "glioma" / "g1-copy.png", smooth(1))  # a duplicate within one class: no conflict
    put(test / "meningioma" / "m0.png", smooth(0))  # glioma's g0, pixel for pixel
    put(test / "notumor" / "n0.png", smooth(2))
    put(test / "notumor" / "n1.png", smooth(3))
    put(test / "pituitary" / "p0.png", smooth(3, brighter=1))  # notumor's n1, a near duplicate
    monkeypatch.setenv("BRAINTUMOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: StubClassifier()))

    out = tmp_path / "out"
    assert run_evaluate(None, str(root), str(out), progress=False) == 0
    printed = capsys.readouterr().out
    said = (f"4 images have a duplicate labelled as another class (e.g. {test / 'glioma' / 'g0.png'} and "
            f"{test / 'meningioma' / 'm0.png'}): their scores cannot all be right; see data audit")
    assert said in printed.splitlines()
    doc = json.loads((out / "metrics.json").read_text())
    conflicts = doc["data"]["label_conflicts"]
    assert {k: conflicts[k] for k in ("n_images", "n_pairs", "threshold")} == {"n_images": 4, "n_pairs": 2,
                                                                               "threshold": 8}
    assert [[Path(p).relative_to(test).as_posix() for p in pair] for pair in conflicts["examples"]] == [
        ["glioma/g0.png", "meningioma/m0.png"], ["notumor/n1.png", "pituitary/p0.png"]]
    assert escape(said[:1].upper() + said[1:]) in (out / "report.html").read_text()

    # no extra decoding pass: without the leak check's hashes, none are looked for (and nothing is said)
    assert run_evaluate(None, str(root), str(tmp_path / "plain"), progress=False, leak_free=False) == 0
    assert "duplicate labelled as another class" not in capsys.readouterr().out
    plain = json.loads((tmp_path / "plain" / "metrics.json").read_text())
    assert plain["data"]["label_conflicts"] is None
    volatile = {"created", "data", "leak_free", "leak_free_note", "figures"}
    assert {k: v for k, v in plain.items() if k not in volatile} == {k: v for k, v in doc.items() if k not in volatile}


def test_a_folder_without_label_conflicts_says_nothing_of_them(tmp_path: Path, capsys, monkeypatch):
    root = tmp_path / "data"
    put(root / "Training" / "glioma" / "t.png", smooth(100))
    for k, name in enumerate(("glioma", "glioma", "notumor")):
        put(root / "Testing" / name / f"i{k}.png", smooth(k))
    monkeypatch.setenv("BRAINTUMOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: StubClassifier()))
    assert run_evaluate(None, str(root), str(tmp_path / "out"), progress=False) == 0
    assert "labelled as another class" not in capsys.readouterr().out
    conflicts = json.loads((tmp_path / "out" / "metrics.json").read_text())["data"]["label_conflicts"]
    assert conflicts == {"n_images": 0, "n_pairs": 0, "threshold": 8, "examples": []}


def test_a_folder_without_a_training_split_is_still_looked_at_for_label_conflicts(tmp_path: Path, capsys,
                                                                                  monkeypatch):
    """A hospital's ROOT/Testing with no Training beside it: no leak check could run, so no hashes were made and the
    same image under two of its classes went unsaid (``label_conflicts`` null), where beside Training it was named."""
    root = tmp_path / "data"
    test = root / "Testing"
    put(test / "glioma" / "g0.png", smooth(0))
    put(test / "meningioma" / "m0.png", smooth(0))  # glioma's g0, pixel for pixel
    put(test / "notumor" / "n0.png", smooth(2))
    monkeypatch.setenv("BRAINTUMOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: StubClassifier()))
    assert run_evaluate(None, str(root), str(tmp_path / "out"), progress=False) == 0
    said = (f"2 images have a duplicate labelled as another class (e.g. {test / 'glioma' / 'g0.png'} and "
            f"{test / 'meningioma' / 'm0.png'}): their scores cannot all be right; see data audit")
    assert said in capsys.readouterr().out.splitlines()
    doc = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert doc["leak_free"] is None and doc["leak_free_note"].startswith("not computed: ")
    assert {k: doc["data"]["label_conflicts"][k] for k in ("n_images", "n_pairs")} == {"n_images": 2, "n_pairs": 1}
    # --no-leak-free: no image decoded twice, as beside a Training split
    assert run_evaluate(None, str(root), str(tmp_path / "plain"), progress=False, leak_free=False) == 0
    assert json.loads((tmp_path / "plain" / "metrics.json").read_text())["data"]["label_conflicts"] is None
