"""End-to-end evaluation on a few real images with stand-in models (no ONNX file, no torch); the leak-free
subset's tests are in tests/test_evaluate_leak_free.py, run_evaluate's in tests/test_evaluate_cli.py; the stand-ins
they share are in tests/evaluate_fakes.py."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import numpy as np
import pytest
from conftest import drawn_titles
from evaluate_fakes import DATA, FIGURES, PER_CLASS, TESTING, FakeClassifier, _run_dir, needs_matplotlib

from braintumor import figures
from braintumor.classes import CLASSES
from braintumor.data import Dataset, load_dataset
from braintumor.evaluate import evaluate
from braintumor.predictor import Classifier

pytestmark = pytest.mark.skipif(not TESTING.is_dir(), reason=f"dataset not found at {DATA}")


@needs_matplotlib
def test_evaluate_writes_every_output(small_data: Path, tmp_path: Path):
    dataset = load_dataset(small_data, "Testing")
    out = tmp_path / "new" / "eval"  # does not exist yet
    result = evaluate(FakeClassifier(), dataset, out, run_dir=_run_dir(tmp_path), progress=False, gallery_size=4)

    n_good = PER_CLASS * len(CLASSES)
    assert result["n"] == n_good and result["accuracy"] == pytest.approx(8 / 12)
    assert [Path(p).name for p, _ in result["data"]["errors"]] == ["zz_broken.jpg"]
    assert result["data"]["n_images"] == n_good + 1 and len(result["data"]["fingerprint"]) == 64
    assert result["model"]["name"] == "fake-net" and "huge" not in result["model"]["metadata"]
    assert result["model"]["path"] == str(Path("models/fake.onnx"))  # relative to here: no machine's folders

    for name in ("metrics.json", "predictions.csv", "report.html", *(f"{f}.png" for f in FIGURES)):
        assert (out / name).is_file() and (out / name).stat().st_size > 0, name
    assert not list(out.glob("*.tmp")) and not list(out.glob(".*"))
    assert json.loads((out / "metrics.json").read_text()) == json.loads(json.dumps(result))
    assert set(result["figures"]) == set(FIGURES)

    with (out / "predictions.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == n_good
    assert list(rows[0]) == ["path", "true", "predicted", "confidence", *(f"prob_{c}" for c in CLASSES),
                             "refused", "ood_score", "review", "refused_turned", "note"]
    assert sum(r["true"] == r["predicted"] for r in rows) == 8
    # the 5th and 10th readable images were refused (k = 4, 9), with their scores; the others were not
    assert [r["refused"] for r in rows] == ["1" if k in (4, 9) else "0" for k in range(12)]
    scores = {4: "1.4000", 9: "1.9000"}
    assert [r["ood_score"] for r in rows] == [scores.get(k, "0.5000") for k in range(12)]
    assert result["ood_refused"] == 2  # one meningioma (k = 4) and one pituitary (k = 9) image
    assert result["ood_refused_per_class"] == {"glioma": 0, "meningioma": 1, "notumor": 0, "pituitary": 1}
    # flagged for review: accepted (not k = 4, 9) and unsure (k % 4 != 0); wrong answers are k = 2, 5, 8, 11
    assert [r["review"] for r in rows] == ["1" if k not in (4, 9) and k % 4 else "0" for k in range(12)]
    review = result["review"]
    assert (review["accepted"], review["flagged"], review["wrong_accepted"], review["wrong_flagged"]) == (10, 8, 4, 3)
    assert review["accuracy_flagged"] == pytest.approx(5 / 8) and review["accuracy_not_flagged"] == pytest.approx(1 / 2)

    html = (out / "report.html").read_text()
    linked = set(re.findall(r'<img src="([^"]+)"', html))
    assert linked == {f"{f}.png" for f in FIGURES}
    assert "zz_broken.jpg" in html and "not a medical device" in html.lower()
    assert "2 not classified (unlike brain MRI): users are shown no answer" in html
    assert "8 of the 10 accepted answers had lower confidence" in html
    assert "<script" not in html.lower() and "http://" not in html and "https://" not in html


@needs_matplotlib
def test_refusals_as_on_their_side_are_counted_apart_from_not_brain_mri(small_data: Path, tmp_path: Path, capsys):
    """The console and the report said "refused as not brain MRI" of slices the check took for turned (brain MRI, to
    be turned); metrics.json's ood_refused keeps its meaning, ood_refused_turned is the part of it."""
    from braintumor.evaluation_summary import print_summary

    dataset = load_dataset(small_data, "Testing")
    clf = FakeClassifier()
    clf.turn_at = 9
    result = evaluate(clf, dataset, tmp_path / "eval", progress=False, gallery_size=4)
    assert (result["ood_refused"], result["ood_refused_turned"]) == (2, 1)
    assert json.loads((tmp_path / "eval" / "metrics.json").read_text())["ood_refused_turned"] == 1
    html = (tmp_path / "eval" / "report.html").read_text()
    # worded as the CLI's last line, "its" for one (it said "1 as on their side (turned 90 degrees)")
    assert "1 not classified (unlike brain MRI), 1 not classified (turned: rotate upright and resend): " in html
    print_summary(result, dataset, tmp_path / "eval")
    assert ("; 12 scored: 1 not classified (unlike brain MRI), 1 not classified (turned: rotate upright "
            "and resend)\n") in capsys.readouterr().out


@needs_matplotlib
def test_the_refused_gallery_and_predictions_csv_tell_refusals_on_their_side(small_data: Path, tmp_path: Path,
                                                                              monkeypatch):
    """The gallery was titled "Refused as not brain MRI" over a slice refused as on its side (a brain MRI to rotate
    and resend), and predictions.csv had no way to tell it: its refused_turned column (last, so the older columns keep
    their positions) does, and the gallery says it under the slice."""
    said = drawn_titles(monkeypatch)

    clf = FakeClassifier()
    clf.turn_at = 9
    out = tmp_path / "eval"
    evaluate(clf, load_dataset(small_data, "Testing"), out, progress=False, gallery_size=4)
    with (out / "predictions.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0])[-5:] == ["refused", "ood_score", "review", "refused_turned", "note"]
    assert [r["refused_turned"] for r in rows] == ["1" if k == 9 else "0" for k in range(12)]
    assert [r["refused"] for r in rows] == ["1" if k in (4, 9) else "0" for k in range(12)]  # as before
    gallery = said[said.index("Refused (farthest first): unlike brain MRI, or turned where said") - 2:][:2]
    assert gallery == ["true: Pituitary tumour\nrefused: turned\n(rotate upright and resend; score 1.90)",
                       "true: Meningioma\nrefused (score 1.40)"], said
    assert not any("not brain MRI" in t for t in said)
    html = (out / "report.html").read_text()
    assert "not brain MRI" not in html and "as turned (brain MRI to rotate upright" in html


@needs_matplotlib
def test_a_temperature_adds_the_uncalibrated_reliability_diagram(small_data: Path, tmp_path: Path):
    """A calibrated model gets a second reliability diagram, of the probabilities before its temperature, and the
    calibration block reports both; the same numbers feed the diagram and the block."""
    clf = FakeClassifier()
    clf.temperature = 2.0
    out = tmp_path / "eval"
    result = evaluate(clf, load_dataset(small_data, "Testing"), out, progress=False, gallery_size=4)
    assert result["figures"]["reliability_uncalibrated"] == "reliability_uncalibrated.png"
    assert (out / "reliability_uncalibrated.png").stat().st_size > 0
    assert 'src="reliability_uncalibrated.png"' in (out / "report.html").read_text()
    cal = result["calibration"]
    with (out / "predictions.csv").open() as f:
        rows = list(csv.DictReader(f))
    shown = np.array([[float(r[f"prob_{c}"]) for c in CLASSES] for r in rows])
    true = np.array([CLASSES.index(r["true"]) for r in rows])
    before = np.exp(2.0 * np.log(shown))  # p_T = softmax(log p_1 / T), so p_1 is proportional to p_T ** T
    before /= before.sum(axis=1, keepdims=True)
    nll = lambda p: float(-np.log(p[np.arange(len(true)), true]).mean())  # noqa: E731
    assert cal["temperature"] == 2.0
    assert cal["after"]["nll"] == pytest.approx(nll(shown), abs=1e-5)
    assert cal["before"]["nll"] == pytest.approx(nll(before), abs=1e-5) and nll(before) != pytest.approx(nll(shown))


@needs_matplotlib
def test_real_classifier_interface_and_no_wrong_predictions(small_data: Path, tmp_path: Path):
    """A real Classifier over a stub ONNX session, so evaluation is tied to the actual API."""

    class Named:
        def __init__(self, name: str) -> None:
            self.name = name

    class StubSession:
        def get_inputs(self):
            return [Named("image")]

        def get_outputs(self):
            return [Named("logits")]

        def run(self, _outputs, feeds):
            batch = feeds["image"]
            assert batch.shape[1:] == (1, 48, 48) and batch.dtype == np.float32
            return [np.tile(np.array([[3.0, 0.0, 0.0, 0.0]], dtype=np.float32), (len(batch), 1))]

    meta = {"classes": list(CLASSES), "model_name": "stub<&>", "preprocess": {"image_size": 48}}
    classifier = Classifier(StubSession(), meta, Path("stub.onnx"))
    gliomas = sorted((small_data / "Testing" / "glioma").iterdir())
    dataset = Dataset(small_data / "Testing", gliomas, np.zeros(len(gliomas), dtype=np.int64), CLASSES)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "training_curves.png").write_bytes(b"an earlier run's")  # left by another model's evaluate
    result = evaluate(classifier, dataset, tmp_path / "out", progress=False, gallery_size=2)
    assert result["accuracy"] == 1.0 and result["n"] == PER_CLASS and len(result["data"]["errors"]) == 1
    assert result["per_class"]["meningioma"]["roc_auc"] is None and result["macro_roc_auc"] is None
    assert "training_curves" not in result["figures"] and (tmp_path / "out" / "gallery_wrong.png").is_file()
    assert not (tmp_path / "out" / "training_curves.png").exists()
    html = (tmp_path / "out" / "report.html").read_text()
    assert "stub&lt;&amp;&gt;" in html and "stub<&>" not in html


@needs_matplotlib
def test_the_shipped_folder_log_draws_training_curves(small_data: Path, tmp_path: Path):
    """``--run models`` (the README's command) must draw the curves from the log under the name models/ holds."""
    run = _run_dir(tmp_path)
    (run / "metrics.jsonl").rename(run / "training-log.jsonl")
    dataset = load_dataset(small_data, "Testing")
    result = evaluate(FakeClassifier(), dataset, tmp_path / "out", run_dir=run, progress=False, gallery_size=2)
    assert result["figures"]["training_curves"] == "training_curves.png"
    assert (tmp_path / "out" / "training_curves.png").stat().st_size > 0


@needs_matplotlib
def test_a_rerun_that_stops_midway_leaves_no_earlier_report_beside_its_files(small_data: Path, tmp_path: Path,
                                                                               monkeypatch):
    """An interrupted evaluate into a used --out left the old metrics.json and report.html beside new figures."""
    import braintumor.evaluate as ev

    dataset = load_dataset(small_data, "Testing")
    out = tmp_path / "eval"
    evaluate(FakeClassifier(), dataset, out, progress=False, gallery_size=4)
    assert (out / "metrics.json").exists() and (out / "report.html").exists()

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ev, "write_figures", stopped)
    with pytest.raises(KeyboardInterrupt):
        evaluate(FakeClassifier(), dataset, out, progress=False, gallery_size=4)
    assert not (out / "metrics.json").exists() and not (out / "report.html").exists()


@needs_matplotlib
@pytest.mark.parametrize("reused", [False, True])
def test_a_run_stopped_while_writing_leaves_none_of_its_files(small_data: Path, tmp_path: Path, monkeypatch, reused):
    """Ctrl-C (or a full disk) at the report left predictions.csv and the figures in --out, made by the run: the
    partial output every command promises not to leave. A reused --out keeps the files the run did not write."""
    import braintumor.evaluate as ev

    dataset = load_dataset(small_data, "Testing")
    out = tmp_path / "runs" / "eval"
    if reused:
        out.mkdir(parents=True)
        (out / "notes.txt").write_text("mine")

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ev, "write_report", stopped)  # after predictions.csv and every figure
    with pytest.raises(KeyboardInterrupt):
        evaluate(FakeClassifier(), dataset, out, progress=False, gallery_size=4)
    if reused:
        assert [p.name for p in out.iterdir()] == ["notes.txt"]
    else:
        assert list(tmp_path.iterdir()) == []  # and the folder above it, made for it


def test_a_score_short_of_perfect_never_reads_as_perfect():
    """The report showed ROC AUC 0.999997 as "1.0000" and the ROC legend 0.9998 as "AUC 1.000"."""
    from braintumor.report import format_score

    assert [format_score(v) for v in (0.999997, 1.0, 0.99466, None)] == [">0.9999", "1.0000", "0.9947", "n/a"]
    assert [figures.auc_text(v) for v in (0.9998, 1.0, 0.99949, 0.9)] == [">0.999", "1.000", "0.999", "0.900"]


@needs_matplotlib
def test_a_refused_wrong_answer_is_marked_as_not_shown_in_the_gallery(tmp_path: Path, monkeypatch):
    """gallery_wrong showed a refused slice's withheld answer ('pred: No tumor (79.2%)') like one users saw."""
    import matplotlib.axes

    titles: list[str] = []
    real = matplotlib.axes.Axes.set_title
    def record(ax, text, *args, **kwargs):
        titles.append(text)
        return real(ax, text, *args, **kwargs)

    monkeypatch.setattr(matplotlib.axes.Axes, "set_title", record)
    img = np.zeros((32, 32), np.uint8)
    figures.plot_gallery([(img, "meningioma", "notumor", 0.792), (img, "glioma", "meningioma", 0.9)],
                         tmp_path / "g.png", "Wrong", withheld=[True, False])
    assert titles == ["true: Meningioma\npred: No tumour (79.2%)\nrefused: not shown to users",
                      "true: Glioma\npred: Meningioma (90.0%)"]
