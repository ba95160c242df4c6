"""End-to-end evaluation on a few real images with stand-in models (no ONNX file, no torch); the leak-free
subset's tests are in tests/test_evaluate_leak_free.py, which takes its fixtures from here."""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import drawn_titles

from braintumor import figures
from braintumor.classes import CLASSES
from braintumor.data import Dataset, load_dataset
from braintumor.evaluate import evaluate, run_evaluate
from braintumor.image_io import ImageError, read_image, walk_images
from braintumor.orientation import TURN_ADVICE
from braintumor.predictor import REVIEW_BELOW, Classifier, Prediction
from braintumor.preprocess import PreprocessConfig

REPO = Path(__file__).resolve().parents[1]
DATA = (REPO / os.environ.get("BRAINTUMOR_DATA", "../shared/datasets/brain-tumor-mri")).resolve()
TESTING = DATA / "Testing"
PER_CLASS = 3
FIGURES = ("confusion_matrix", "roc", "pr", "reliability", "confidence_hist", "training_curves", "samples",
           "gallery_correct", "gallery_wrong", "gallery_refused")

pytestmark = pytest.mark.skipif(not TESTING.is_dir(), reason=f"dataset not found at {DATA}")


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


@pytest.fixture(scope="module")
def small_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """ROOT/Testing/<class>/ with a few real images each, and one corrupt file among the gliomas."""
    root = tmp_path_factory.mktemp("data")
    for name in CLASSES:
        (root / "Testing" / name).mkdir(parents=True)
        for src in list(walk_images(TESTING / name))[:PER_CLASS]:
            shutil.copy(src, root / "Testing" / name / src.name)
    (root / "Testing" / "glioma" / "zz_broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    return root


def _run_dir(tmp_path: Path) -> Path:
    run = tmp_path / "run"
    run.mkdir()
    rows = [{"epoch": e, "lr": 1e-3 / e, "train_loss": 1.2 / e, "train_acc": 0.5 + e / 10, "val_loss": 1.3 / e,
             "val_acc": 0.45 + e / 10, "val_ema_loss": 1.4 / e, "val_ema_acc": 0.4 + e / 10} for e in (1, 2, 3)]
    (run / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows) + '{"epoch": 4, "lr')  # torn line
    return run


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
                             "refused", "ood_score", "review", "refused_turned"]
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
    assert "1 not classified (unlike brain MRI), 1 not classified (on its side: rotate and resend): " in html
    print_summary(result, dataset, tmp_path / "eval")
    assert ("; 12 scored: 1 not classified (unlike brain MRI), 1 not classified (on its side: rotate and "
            "resend)\n") in capsys.readouterr().out


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
    assert list(rows[0])[-4:] == ["refused", "ood_score", "review", "refused_turned"]
    assert [r["refused_turned"] for r in rows] == ["1" if k == 9 else "0" for k in range(12)]
    assert [r["refused"] for r in rows] == ["1" if k in (4, 9) else "0" for k in range(12)]  # as before
    gallery = said[said.index("Refused (farthest first): unlike brain MRI, or on its side where said") - 2:][:2]
    assert gallery == ["true: Pituitary tumour\nrefused: on its side\n(rotate and resend; score 1.90)",
                       "true: Meningioma\nrefused (score 1.40)"], said
    assert not any("not brain MRI" in t for t in said)
    html = (out / "report.html").read_text()
    assert "not brain MRI" not in html and "as on their side (brain MRI to rotate" in html


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


def test_run_evaluate_errors_are_one_line(small_data: Path, tmp_path: Path, capsys, monkeypatch):
    assert run_evaluate(None, str(tmp_path / "nowhere"), str(tmp_path / "out"), progress=False) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err

    assert run_evaluate(None, str(small_data), str(tmp_path / "out"), leak_threshold=999, progress=False) == 2
    assert capsys.readouterr().err == ("error: --leak-threshold is a distance between 256-bit hashes, 0 to 64 "
                                       "(unrelated images differ in about half the bits), got 999\n")
    nope = str(tmp_path / "nope")
    assert run_evaluate(None, str(small_data), str(tmp_path / "out"), run_dir=nope, progress=False) == 2
    assert capsys.readouterr().err == f"error: --run {tmp_path / 'nope'}: no such folder (the training run whose log " \
        "draws the curves)\n"  # was accepted, and the report silently had no training curves
    assert run_evaluate(str(tmp_path / "missing.onnx"), str(small_data), str(tmp_path / "out"), progress=False) == 2
    assert "model file not found" in capsys.readouterr().err

    (tmp_path / "junk.onnx").write_bytes(b"not a model")
    assert run_evaluate(str(tmp_path / "junk.onnx"), str(small_data), str(tmp_path / "out"), progress=False) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot load model") and err.count("cannot load model") == 1

    def no_matplotlib() -> None:
        raise figures.FiguresUnavailable(figures.MISSING_MATPLOTLIB)

    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    monkeypatch.setattr(figures, "require_matplotlib", no_matplotlib)
    assert run_evaluate(None, str(small_data), str(tmp_path / "out"), progress=False) == 2
    assert "pip install 'braintumor[eval]'" in capsys.readouterr().err
    assert not (tmp_path / "out" / "metrics.json").exists()


def test_a_folder_without_images_says_so_and_makes_no_output_folder(tmp_path: Path, capsys, monkeypatch):
    """It said "none of the 0 images in ... could be read" (nothing was unreadable) and left an empty --out."""
    (tmp_path / "data" / "Testing" / "glioma").mkdir(parents=True)
    (tmp_path / "data" / "Testing" / "glioma" / "scan.dcm").write_bytes(b"\0" * 132 + b"DICM")
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    assert run_evaluate(None, str(tmp_path / "data"), str(tmp_path / "out"), progress=False) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: no images in {tmp_path / 'data' / 'Testing'}'s class folders (") and ".png" in err
    assert "none of the 0" not in err and err.count("\n") == 1 and not (tmp_path / "out").exists()


def test_the_shipped_folder_log_draws_training_curves(small_data: Path, tmp_path: Path):
    """``--run models`` (the README's command) must draw the curves from the log under the name models/ holds."""
    run = _run_dir(tmp_path)
    (run / "metrics.jsonl").rename(run / "training-log.jsonl")
    dataset = load_dataset(small_data, "Testing")
    result = evaluate(FakeClassifier(), dataset, tmp_path / "out", run_dir=run, progress=False, gallery_size=2)
    assert result["figures"]["training_curves"] == "training_curves.png"
    assert (tmp_path / "out" / "training_curves.png").stat().st_size > 0


def test_run_evaluate_prints_a_summary(small_data: Path, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    out = tmp_path / "eval"
    assert run_evaluate(None, str(small_data), str(out), run_dir=str(_run_dir(tmp_path)), progress=False) == 0
    captured = capsys.readouterr()
    assert "accuracy 0.6667" in captured.out and "1 unreadable" in captured.out
    assert str(out / "report.html") in captured.out and captured.err == ""
    assert json.loads((out / "metrics.json").read_text())["figures"]["training_curves"] == "training_curves.png"


def test_a_folder_with_some_classes_only_is_evaluated_with_the_others_n_a(small_data: Path, tmp_path: Path,
                                                                          capsys, monkeypatch):
    """A hospital's labelled folder may hold only gliomas and normal scans: evaluated, nothing invented."""
    root = tmp_path / "two"
    for name in ("glioma", "notumor"):
        shutil.copytree(small_data / "Testing" / name, root / name)
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    assert run_evaluate(None, str(root), str(tmp_path / "out"), progress=False) == 0
    printed = capsys.readouterr().out
    assert f"no images of meningioma, pituitary in {root}: their recall and AUC are n/a" in printed
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())
    assert metrics["counts"] == {"glioma": PER_CLASS, "meningioma": 0, "notumor": PER_CLASS, "pituitary": 0}
    for name in ("meningioma", "pituitary"):
        got = metrics["per_class"][name]
        assert got["recall"] is None and got["roc_auc"] is None and got["support"] == 0
    assert "n/a" in (tmp_path / "out" / "report.html").read_text()


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


def test_a_score_short_of_perfect_never_reads_as_perfect():
    """The report showed ROC AUC 0.999997 as "1.0000" and the ROC legend 0.9998 as "AUC 1.000"."""
    from braintumor.report import format_score

    assert [format_score(v) for v in (0.999997, 1.0, 0.99466, None)] == [">0.9999", "1.0000", "0.9947", "n/a"]
    assert [figures.auc_text(v) for v in (0.9998, 1.0, 0.99949, 0.9)] == [">0.999", "1.000", "0.999", "0.900"]


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
