"""Evaluation's leak-free subset: images with a near duplicate in Training are scored apart, with every metric,
refusal and review flag (stand-in models and a few real images, as tests/test_evaluate.py)."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from evaluate_fakes import DATA, TESTING, FakeClassifier, needs_matplotlib

from braintumor.classes import CLASSES
from braintumor.evaluate import run_evaluate
from braintumor.image_files import walk_images
from braintumor.prediction import REVIEW_BELOW
from braintumor.predictor import Classifier

pytestmark = [pytest.mark.skipif(not TESTING.is_dir(), reason=f"dataset not found at {DATA}"), needs_matplotlib]


def every_one_leaked(monkeypatch) -> None:
    """Every test image with a near duplicate in Training (a threshold that does it, 255, is refused now)."""
    import braintumor.evaluate as evaluate_module

    monkeypatch.setattr(evaluate_module, "leak_free_mask", lambda test, *a, **k: np.zeros(len(test), dtype=bool))


@pytest.fixture(scope="module")
def leaky_data(small_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """small_data plus a Training split holding a pixel copy of one test glioma and a recompressed
    copy of one test notumor image, next to one real training image per class."""
    from PIL import Image

    root = tmp_path_factory.mktemp("leaky")
    shutil.copytree(small_data / "Testing", root / "Testing")
    for name in CLASSES:
        (root / "Training" / name).mkdir(parents=True)
        first = next(walk_images(DATA / "Training" / name))
        shutil.copy(first, root / "Training" / name / first.name)
    shutil.copy(sorted((root / "Testing" / "glioma").glob("*.jpg"))[0], root / "Training" / "glioma" / "copy.jpg")
    notumor = sorted((root / "Testing" / "notumor").glob("*.jpg"))[1]
    Image.open(notumor).convert("L").resize((200, 200)).save(root / "Training" / "notumor" / "resaved.jpg", quality=85)
    return root


def test_leak_free_metrics_match_the_audit(leaky_data: Path, tmp_path: Path, capsys, monkeypatch):
    from braintumor.audit import audit_dataset
    from braintumor.metrics import compute_metrics

    monkeypatch.setenv("BRAINTUMOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    out = tmp_path / "eval"
    assert run_evaluate(None, str(leaky_data), str(out), progress=False) == 0
    assert f"leak-free subset (no near duplicate in {leaky_data / 'Training'}, " in capsys.readouterr().out
    doc = json.loads((out / "metrics.json").read_text())
    lf = doc["leak_free"]
    leakage = audit_dataset(leaky_data)["summary"]["leakage"]
    assert lf["n"] == leakage["test_leak_free"] and lf["n_excluded"] == leakage["test_with_train_near_duplicate"]
    assert lf["n_excluded"] >= 2 and lf["n"] + lf["n_excluded"] == doc["n"] == 12
    assert lf["threshold"] == 8 and lf["hash"] == "phash" and set(doc) >= {"accuracy", "per_class"}
    assert list(tmp_path.glob("cache/hashes-*.npz"))

    with (out / "predictions.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[-3:] == ["leak_free", "refused_turned", "note"]
    assert sum(r["leak_free"] == "1" for r in rows) == lf["n"]
    flags = {Path(r["path"]).name: r["leak_free"] for r in rows}
    assert flags[sorted((leaky_data / "Testing" / "glioma").glob("*.jpg"))[0].name] == "0"
    assert flags[sorted((leaky_data / "Testing" / "notumor").glob("*.jpg"))[1].name] == "0"
    keep = [r for r in rows if r["leak_free"] == "1"]
    y = np.asarray([CLASSES.index(r["true"]) for r in keep])
    probs = np.asarray([[float(r[f"prob_{c}"]) for c in CLASSES] for r in keep])
    assert lf["accuracy"] == pytest.approx(compute_metrics(y, probs, CLASSES)["accuracy"])

    html = (out / "report.html").read_text()
    assert "<h2>Leak-free subset</h2>" in html and f"{lf['n']} of 12 test images" in html

    assert run_evaluate(None, str(leaky_data), str(tmp_path / "plain"), progress=False, leak_free=False) == 0
    plain = json.loads((tmp_path / "plain" / "metrics.json").read_text())
    assert plain["leak_free"] is None and "Leak-free" not in (tmp_path / "plain" / "report.html").read_text()
    assert "leak_free" not in (tmp_path / "plain" / "predictions.csv").read_text().splitlines()[0]


def test_refusals_flags_and_calibration_are_reported_on_the_leak_free_subset_too(leaky_data: Path, tmp_path: Path,
                                                                                  monkeypatch):
    """"Every metric is reported twice", but refusals, review flags and calibration (NLL, ECE before temperature)
    were computed on the whole split only."""
    from braintumor.metrics import expected_calibration_error, review_summary

    monkeypatch.setenv("BRAINTUMOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    out = tmp_path / "eval"
    assert run_evaluate(None, str(leaky_data), str(out), progress=False) == 0
    doc = json.loads((out / "metrics.json").read_text())
    lf = doc["leak_free"]
    with (out / "predictions.csv").open() as f:
        keep = [r for r in csv.DictReader(f) if r["leak_free"] == "1"]
    y = np.asarray([CLASSES.index(r["true"]) for r in keep])
    probs = np.asarray([[float(r[f"prob_{c}"]) for c in CLASSES] for r in keep])
    refused = np.asarray([r["refused"] == "1" for r in keep])
    assert refused.any() and lf["ood_refused"] == refused.sum()
    assert lf["ood_refused_per_class"] == {c: int(refused[y == k].sum()) for k, c in enumerate(CLASSES)}
    assert lf["review"] == review_summary(probs.max(1), probs.argmax(1) == y, ~refused, REVIEW_BELOW)
    assert lf["calibration"]["before"]["ece"] == pytest.approx(expected_calibration_error(probs.max(1),
                                                                                          probs.argmax(1) == y))
    nll = -np.log(probs[np.arange(len(y)), y]).mean()
    assert lf["calibration"]["after"]["nll"] == pytest.approx(nll) != doc["calibration"]["after"]["nll"]
    html = (out / "report.html").read_text().split("<h2>Leak-free subset</h2>")[1].split("<h2>")[0]
    assert f"{lf['ood_refused']} not classified (unlike brain MRI): users are shown" in html

    every_one_leaked(monkeypatch)
    assert run_evaluate(None, str(leaky_data), str(out), progress=False) == 0  # none left
    lf = json.loads((out / "metrics.json").read_text())["leak_free"]
    assert lf["n"] == 0 and lf["ood_refused"] == 0 and lf["calibration"]["after"]["nll"] is None


def test_an_empty_leak_free_subset_is_reported_as_none_not_as_zero(leaky_data: Path, tmp_path: Path, capsys,
                                                                    monkeypatch):
    monkeypatch.setenv("BRAINTUMOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    out = tmp_path / "eval"
    every_one_leaked(monkeypatch)
    assert run_evaluate(None, str(leaky_data), str(out), progress=False) == 0  # all are near
    n = len(list(walk_images(leaky_data / "Testing"))) - 1  # the broken file is not scored
    training = leaky_data / "Training"  # the folder compared with, named
    assert f"leak-free subset: none (all {n} have a near duplicate in {training}, pHash distance <= 8)" in \
        capsys.readouterr().out
    assert f"None: all {n} test images have a near duplicate in {training} (" in (out / "report.html").read_text()


def test_the_printed_summary_never_shows_a_score_short_of_perfect_as_perfect(leaky_data: Path, tmp_path: Path,
                                                                             capsys, monkeypatch):
    """The report showed ">0.9999" where the command's own summary line printed "macro AUC 1.0000"."""
    import braintumor.evaluate as ev

    real = ev.evaluate

    def nearly_perfect(*args, **kwargs) -> dict:
        doc = real(*args, **kwargs)
        doc.update(accuracy=0.99996, macro_f1=0.99997, macro_roc_auc=0.99998)
        doc["leak_free"].update(accuracy=0.99995, macro_f1=0.99999)
        return doc

    monkeypatch.setenv("BRAINTUMOR_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    monkeypatch.setattr(ev, "evaluate", nearly_perfect)
    assert run_evaluate(None, str(leaky_data), str(tmp_path / "eval"), progress=False) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("accuracy >0.9999  macro-F1 >0.9999  macro AUC >0.9999  ECE ")
    assert "accuracy >0.9999  macro-F1 >0.9999  n " in lines[1]
