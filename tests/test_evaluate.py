"""End-to-end evaluation on a few real images with stand-in models (no ONNX file, no torch); the leak-free
subset's tests are in tests/test_evaluate_leak_free.py, run_evaluate's in tests/test_evaluate_cli.py; the stand-ins
they share are in tests/evaluate_fakes.py."""

from __future__ import annotations

import csv
import json
import os
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


def _files(folder: Path) -> dict[str, bytes]:
    """Every entry under ``folder``, hidden ones too, with its bytes (a folder's: b"")."""
    return {str(p.relative_to(folder)): p.read_bytes() if p.is_file() else b"" for p in sorted(folder.rglob("*"))}


@needs_matplotlib
@pytest.mark.parametrize("stop_at", ["write_figures", "write_report", "write_text_atomic"])
def test_a_rerun_stopped_while_writing_leaves_the_earlier_outputs_byte_for_byte(small_data: Path, tmp_path: Path,
                                                                                monkeypatch, stop_at):
    """A rerun into a used --out (docs/evaluation) stopped with Ctrl-C deleted the earlier run's predictions.csv,
    figures and report, which it had replaced, and a file another process wrote there meanwhile (`--out . 2> log`):
    now nothing in --out changes until every file is written, and a stop leaves it as it was."""
    import braintumor.evaluate as ev

    dataset = load_dataset(small_data, "Testing")
    out = tmp_path / "eval"
    evaluate(FakeClassifier(), dataset, out, progress=False, gallery_size=4)
    before = _files(out)
    assert {"predictions.csv", "report.html", "metrics.json", "roc.png"} <= set(before)
    writer = getattr(ev, stop_at)

    def stopped(*args, **kwargs):
        (out / "eval.log").write_text("another process's")
        if stop_at != "write_figures":  # write_figures: stopped after predictions.csv; the others after the figures
            writer(*args, **kwargs)
        raise KeyboardInterrupt

    monkeypatch.setattr(ev, stop_at, stopped)
    with pytest.raises(KeyboardInterrupt):
        evaluate(FakeClassifier(), dataset, out, progress=False, gallery_size=4)
    assert _files(out) == {**before, "eval.log": b"another process's"}  # and no hidden staging folder


@needs_matplotlib
def test_a_rerun_puts_the_same_files_in_place_and_leaves_no_staging_folder(small_data: Path, tmp_path: Path):
    """Written in a staging folder and moved into --out: the same names and content as written in place, the report's
    figures found beside it, and no staging path in what it says."""
    dataset = load_dataset(small_data, "Testing")
    fresh, used = tmp_path / "fresh", tmp_path / "used"
    first = evaluate(FakeClassifier(), dataset, fresh, progress=False, gallery_size=4)
    used.mkdir()
    (used / "notes.txt").write_text("mine")
    (used / "training_curves.png").write_bytes(b"an earlier run's")  # this run draws none: removed
    (used / "report.html").write_text("an earlier run's")
    second = evaluate(FakeClassifier(), dataset, used, progress=False, gallery_size=4)
    assert sorted(p.name for p in used.iterdir()) == sorted([p.name for p in fresh.iterdir()] + ["notes.txt"])
    assert "training_curves.png" not in {p.name for p in fresh.iterdir()}
    assert (used / "predictions.csv").read_bytes() == (fresh / "predictions.csv").read_bytes()
    assert {**second, "created": None} == {**first, "created": None}
    assert json.loads((used / "metrics.json").read_text()) == json.loads(json.dumps(second))
    html = (used / "report.html").read_text()
    linked = re.findall(r'src="([^"]+\.png)"', html)
    assert linked and all((used / name).is_file() for name in linked)
    for name in ("report.html", "metrics.json", "predictions.csv"):
        assert ".braintumor-staging" not in (used / name).read_text() and "staging" not in (used / name).read_text()
    assert (used / "notes.txt").read_text() == "mine" and not list(used.glob(".*"))  # no staging folder left


@needs_matplotlib
def test_a_stop_while_the_files_move_into_place_waits_until_all_are_there(small_data: Path, tmp_path: Path,
                                                                         monkeypatch):
    """Ctrl-C as the files move into --out is held until the last one is there: never an earlier run's report beside
    some of this run's figures."""
    import signal

    import braintumor.atomic_files as af

    dataset = load_dataset(small_data, "Testing")
    out = tmp_path / "eval"
    evaluate(FakeClassifier(), dataset, out, progress=False, gallery_size=4, run_dir=_run_dir(tmp_path))
    before = _files(out)
    moved = af.put_in_place

    def interrupted(tmp, target):
        if Path(target).parent == out:  # moving into --out (not a file written in the staging folder)
            os.kill(os.getpid(), signal.SIGINT)
        moved(tmp, target)

    monkeypatch.setattr(af, "put_in_place", interrupted)
    with pytest.raises(KeyboardInterrupt):
        evaluate(FakeClassifier(), dataset, out, progress=False, gallery_size=5)  # another gallery
    after = _files(out)
    assert set(after) == set(before) - {"training_curves.png"}  # all moved, and the stale curves removed
    assert after["metrics.json"] != before["metrics.json"] and after["report.html"] != before["report.html"]
    assert json.loads(after["metrics.json"])["figures"].keys() == set(FIGURES) - {"training_curves"}


@needs_matplotlib
def test_metrics_json_moves_into_place_last_where_the_file_clock_stamps_files_alike(small_data: Path, tmp_path: Path,
                                                                                   monkeypatch):
    """The files move in the order written, told by their modification times; where a coarse clock (a kernel's tick,
    FAT's two seconds) stamps them alike, names decided, and metrics.json moved before report.html and the figures: a
    move cut off there (killed, a file that cannot be replaced) left it describing files not there."""
    import braintumor.atomic_files as af
    import braintumor.evaluate as ev

    written, moved = ev.write_text_atomic, []

    def coarse(path, text):  # metrics.json is written last: every staged file stamped alike, as a coarse clock does
        written(path, text)
        for staged in Path(path).parent.iterdir():
            os.utime(staged, ns=(1_000_000_000, 1_000_000_000))

    monkeypatch.setattr(ev, "write_text_atomic", coarse)
    monkeypatch.setattr(af, "put_in_place", lambda tmp, target: moved.append(Path(target).name) or os.replace(tmp,
                                                                                                             target))
    evaluate(FakeClassifier(), load_dataset(small_data, "Testing"), tmp_path / "eval", progress=False, gallery_size=4)
    assert {"predictions.csv", "report.html", "roc.png"} < set(moved) and moved[-1] == "metrics.json", moved


@needs_matplotlib
def test_a_run_stopped_while_writing_removes_the_folders_it_made(small_data: Path, tmp_path: Path, monkeypatch):
    """A stopped run into a new --out left it, and its parents, made for it."""
    import braintumor.evaluate as ev

    def stopped(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(ev, "write_report", stopped)  # after predictions.csv and every figure
    with pytest.raises(KeyboardInterrupt):
        evaluate(FakeClassifier(), load_dataset(small_data, "Testing"), tmp_path / "runs" / "eval", progress=False,
                 gallery_size=4)
    assert list(tmp_path.iterdir()) == []


def test_a_score_short_of_perfect_never_reads_as_perfect():
    """The report showed ROC AUC 0.999997 as "1.0000" and the ROC legend 0.9998 as "AUC 1.000"."""
    from braintumor.report_tables import format_score

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
