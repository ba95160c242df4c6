"""What evaluate's outputs say beside the numbers: the console's notes and the figures' titles must describe
exactly what was measured (stand-in models and a few real images, as tests/test_evaluate.py)."""

from __future__ import annotations

import math
import shutil
from pathlib import Path

import pytest
from conftest import drawn_titles
from evaluate_fakes import DATA, TESTING, FakeClassifier, needs_matplotlib

from braintumor.evaluate import run_evaluate
from braintumor.predictor import Classifier

pytestmark = pytest.mark.skipif(not TESTING.is_dir(), reason=f"dataset not found at {DATA}")


@needs_matplotlib
def test_a_class_whose_every_image_is_unreadable_is_said_to_have_none_scored(small_data: Path, tmp_path: Path,
                                                                             capsys, monkeypatch):
    """A class folder of corrupt files only: its recall and AUC are n/a in metrics.json and the report, but the
    console's "no images of ..." line looked at the files listed, not those read, and said nothing."""
    root = tmp_path / "data"
    for name in ("glioma", "notumor", "pituitary"):
        shutil.copytree(small_data / "Testing" / name, root / name)
    (root / "glioma" / "zz_broken.jpg").unlink()
    (root / "meningioma").mkdir()
    (root / "meningioma" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 this is not a jpeg")
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    assert run_evaluate(None, str(root), str(tmp_path / "out"), progress=False, leak_free=False) == 0
    printed = capsys.readouterr().out
    assert f"no readable images of meningioma in {root}: their recall and AUC are n/a" in printed


@needs_matplotlib
def test_the_uncalibrated_reliability_diagram_says_it_is_before_the_temperature(small_data: Path,
                                                                               tmp_path: Path, monkeypatch):
    """reliability.png and reliability_uncalibrated.png had the same title ("Reliability of top-1 confidence
    (ECE ...)"): opened alone, or attached to an issue, the diagram of the probabilities users never see read as
    the model's calibration."""
    from braintumor import figures
    from braintumor.data import load_dataset
    from braintumor.evaluate import evaluate

    said = drawn_titles(monkeypatch)
    drawn = []
    real = figures.save_png
    monkeypatch.setattr(figures, "save_png", lambda fig, out: (drawn.append((fig, Path(out).name)), real(fig, out))[1])
    clf = FakeClassifier()
    clf.temperature = 2.0
    result = evaluate(clf, load_dataset(small_data, "Testing"), tmp_path / "eval", progress=False, gallery_size=4)
    cal = result["calibration"]
    reliability = [t for t in said if "Reliability" in t]
    assert reliability == [f"Reliability of top-1 confidence (ECE {cal['after']['ece']:.4f}, 15 bins)",
                           "Reliability before temperature scaling\n(temperature 1; ECE "
                           f"{cal['before']['ece']:.4f}, 15 bins)"]
    fig = next(f for f, name in drawn if name == "reliability_uncalibrated.png")
    box = fig.axes[0].title.get_window_extent(fig.canvas.get_renderer())
    assert box.x0 >= 0 and box.x1 <= fig.bbox.width, (box, fig.bbox)  # the whole title shows


@pytest.mark.parametrize("n", [1, 2, 3])
@needs_matplotlib
def test_a_small_gallery_or_sample_grid_shows_its_whole_title(tmp_path: Path, monkeypatch, n: int):
    """A gallery of one or two images was as narrow as its images, and its title was cut at both edges: one refused
    slice on a folder of 23 read "ed as not brain MRI (farthes", so the figure no longer said what it shows; the
    sample grid of a folder with an image or two per class read "t samples, as the model see"."""
    import numpy as np

    from braintumor import figures

    drawn = []
    real = figures.save_png
    monkeypatch.setattr(figures, "save_png", lambda fig, out: (drawn.append(fig), real(fig, out))[1])
    img = np.zeros((32, 32), np.uint8)
    title = "Refused (farthest first): unlike brain MRI, or turned where said"
    figures.plot_gallery([(img, "notumor", None, 1.16)] * n, tmp_path / "g.png", title)
    figures.plot_sample_grid({"glioma": [img] * n, "notumor": [img]}, tmp_path / "s.png")
    assert [fig._suptitle.get_text() for fig in drawn] == [title, "Dataset samples, as the model sees them"]
    for fig in drawn:
        box = fig._suptitle.get_window_extent(fig.canvas.get_renderer())
        assert box.x0 >= 0 and box.x1 <= fig.bbox.width, (box, fig.bbox)


def _pr_curves(tmp_path: Path, monkeypatch) -> dict:
    """pr.png's lines by label, of 3000 gliomas ranked above 1000 normal scans but for one normal scan ranked above
    the last glioma: both APs short of 1 by under 0.0005."""
    import numpy as np

    from braintumor import figures

    drawn = []
    real = figures.save_png
    monkeypatch.setattr(figures, "save_png", lambda fig, out: (drawn.append(fig), real(fig, out))[1])
    glioma = np.r_[np.linspace(0.99, 0.6, 2999), 0.45, 0.5, np.linspace(0.4, 0.01, 999)]
    y = np.r_[np.zeros(3000, int), np.ones(1000, int)]
    figures.plot_pr(y, np.c_[glioma, 1 - glioma], ["glioma", "notumor"], tmp_path / "pr.png")
    return {line.get_label(): line for line in drawn[0].axes[0].lines}


@needs_matplotlib
def test_an_average_precision_short_of_perfect_never_reads_as_perfect(tmp_path: Path, monkeypatch):
    """pr.png's legend said "AP 1.000" of an AP of 0.99973 (the shipped model's gliomas), as the ROC legend did of
    AUCs before."""
    assert list(_pr_curves(tmp_path, monkeypatch)) == ["Glioma (AP >0.999)", "No tumour (AP >0.999)"]


@needs_matplotlib
def test_the_precision_recall_curves_end_at_full_recall(tmp_path: Path, monkeypatch):
    """pr.png drew every class falling straight down to its share of the images at recall 1: the thresholds below
    the last positive add only false positives, and the line read as a collapse of precision."""
    for label, line in _pr_curves(tmp_path, monkeypatch).items():
        assert min(line.get_ydata()) > 0.99, label  # not down to 0.75 or 0.25 at recall 1
        assert max(line.get_xdata()) == 1.0


@needs_matplotlib
def test_the_report_and_the_curves_say_which_classes_had_no_images(small_data: Path, tmp_path: Path,
                                                                   capsys, monkeypatch):
    """The console said "no images of meningioma, pituitary in ROOT: their recall and AUC are n/a"; report.html only
    showed support 0 and n/a, and roc.png and pr.png left those classes out without a word."""
    from html import escape

    from braintumor import figures

    root = tmp_path / "two"
    for name in ("glioma", "notumor"):
        shutil.copytree(small_data / "Testing" / name, root / name)
    legends: dict[str, list[str]] = {}
    save = figures.save_png

    def recording(fig, out):
        legend = fig.axes[0].get_legend() if fig.axes else None
        legends[Path(out).name] = [t.get_text() for t in legend.get_texts()] if legend else []
        return save(fig, out)

    monkeypatch.setattr(figures, "save_png", recording)
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    assert run_evaluate(None, str(root), str(tmp_path / "out"), progress=False, leak_free=False) == 0
    said = f"no images of meningioma, pituitary in {root}: their recall and AUC are n/a"
    assert said in capsys.readouterr().out
    html = (tmp_path / "out" / "report.html").read_text()
    per_class = html.index("<h2>Per class</h2>")
    assert per_class < html.index(escape(said[:1].upper() + said[1:])) < html.index("<h2>Confusion matrix</h2>")
    for name in ("roc.png", "pr.png"):
        assert legends[name][-2:] == ["Meningioma: no images, no curve",
                                     "Pituitary tumour: no images, no curve"]
    assert html.count("No curve for Meningioma, Pituitary tumour: no images of them were scored.</figcaption>") == 2


@pytest.mark.parametrize("plot", ["plot_roc", "plot_pr"])
@needs_matplotlib
def test_the_curves_name_the_one_class_with_images_too(tmp_path: Path, monkeypatch, plot: str):
    """A folder of gliomas only: roc.png's legend named the three classes with no images, "no curve", and not glioma,
    whose curve is undefined as well (no image of another class: no false positive rate), so its absence went
    unexplained."""
    import numpy as np

    from braintumor import figures
    from braintumor.classes import CLASSES

    legends: list[list[str]] = []
    save = figures.save_png
    monkeypatch.setattr(figures, "save_png", lambda fig, out: (legends.append(
        [t.get_text() for t in fig.axes[0].get_legend().get_texts()]), save(fig, out))[1])
    probs = np.tile([0.7, 0.1, 0.1, 0.1], (5, 1))
    getattr(figures, plot)(np.zeros(5, dtype=int), probs, CLASSES, tmp_path / "curves.png")
    assert legends[0][-4:] == ["Glioma: no images of another class, no curve", "Meningioma: no images, no curve",
                               "No tumour: no images, no curve", "Pituitary tumour: no images, no curve"]


@needs_matplotlib
def test_the_captions_name_the_one_class_with_images_too(small_data: Path, tmp_path: Path, monkeypatch):
    """report.html's ROC and PR captions said "No curve for Meningioma, No tumour, Pituitary tumour" of a folder of
    gliomas, and nothing of glioma's curve, which is not there either."""
    root = tmp_path / "one"
    shutil.copytree(small_data / "Testing" / "glioma", root / "glioma")
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    assert run_evaluate(None, str(root), str(tmp_path / "out"), progress=False, leak_free=False) == 0
    said = ("No curve for Meningioma, No tumour, Pituitary tumour: no images of them were scored. Nor for Glioma: no "
            "image of another class was scored.</figcaption>")
    assert (tmp_path / "out" / "report.html").read_text().count(said) == 2


@pytest.mark.parametrize("temperature", [0.5, 3.0])
@needs_matplotlib
def test_the_uncalibrated_diagrams_caption_says_what_the_temperature_did_here(small_data: Path, tmp_path: Path,
                                                                               temperature: float):
    """Its caption said "the gap the validation-fitted temperature closes" whatever the numbers: a smoke run's
    temperature, fitted on 8 validation images, took Testing's ECE from 0.0383 to 0.0497 under that caption. It now
    gives both ECEs and whether the gap narrowed on the images evaluated."""
    from braintumor.data import load_dataset
    from braintumor.evaluate import evaluate

    clf = FakeClassifier()
    clf.temperature = temperature
    result = evaluate(clf, load_dataset(small_data, "Testing"), tmp_path / "eval", progress=False, gallery_size=4)
    before, after = result["calibration"]["before"]["ece"], result["calibration"]["after"]["ece"]
    html = (tmp_path / "eval" / "report.html").read_text()
    caption = html.split('<img src="reliability_uncalibrated.png"')[1].split("<figcaption>")[1].split("<")[0]
    assert caption == (f"The same diagram before temperature scaling (temperature 1). ECE {before:.4f} there, "
                       f"{after:.4f} with the temperature ({temperature:.4f}, fitted on validation): it "
                       f"{'narrowed' if after < before else 'did not narrow'} the gap on these images.")


def test_a_temperature_that_widened_the_gap_is_not_said_to_close_it():
    """The smoke run's numbers (docs/TRAINING.md, "A first run"): its temperature took Testing's ECE up."""
    from braintumor.report import render_report

    calibration = {"temperature": 0.6066, "before": {"ece": 0.0383}, "after": {"ece": 0.0497}}
    html = render_report({}, {"reliability_uncalibrated": "reliability_uncalibrated.png"},
                         {"calibration": calibration})
    assert ("ECE 0.0383 there, 0.0497 with the temperature (0.6066, fitted on validation): it did not narrow the gap "
            "on these images.</figcaption>") in html and "closes" not in html


@pytest.mark.parametrize("epochs", [2, 3, 100])
@needs_matplotlib
def test_the_training_curves_mark_whole_epochs_only(tmp_path: Path, monkeypatch, epochs: int):
    """The first run of docs/TRAINING.md (2 epochs) drew its curves over an epoch axis marked 1.0, 1.2, 1.4, ...: epochs
    that no run has. Every tick inside each panel is a whole epoch, at any length."""
    import json

    from braintumor import training_curves

    rows = [{"epoch": e, "train_loss": 1 / e, "val_loss": 1 / e, "train_acc": e / 200, "val_acc": e / 200,
             "lr": 1e-3 / e} for e in range(1, epochs + 1)]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    drawn = []
    monkeypatch.setattr(training_curves, "save_png", lambda fig, out: drawn.append(fig) or Path(out))
    training_curves.plot_training_curves(tmp_path / "metrics.jsonl", tmp_path / "curves.png")
    for ax in drawn[0].axes:
        low, high = ax.get_xlim()
        ticks = [t for t in ax.get_xticks() if low <= t <= high]
        assert len(ticks) >= 2 and all(float(t).is_integer() for t in ticks), ticks


@needs_matplotlib
def test_the_training_curves_leave_out_a_hand_edited_logs_values_that_are_not_numbers(tmp_path: Path, monkeypatch):
    """``evaluate --run`` on a run whose metrics.jsonl had a value edited into an object ({"a": 1}) was matplotlib's
    "unhashable type: 'dict'" traceback; a string was drawn as a category on the loss axis. Such values, and rows
    whose epoch is no number, are left out, as an unparsable line is."""
    import json

    from braintumor import training_curves

    rows = [{"epoch": 1, "train_loss": 0.5, "lr": 1e-3}, {"epoch": 2, "train_loss": {"a": 1}, "lr": [1]},
            {"epoch": "3", "train_loss": 0.4}, {"epoch": 4, "train_loss": "x"}, {"epoch": 5, "train_loss": True}]
    (tmp_path / "metrics.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    drawn = []
    monkeypatch.setattr(training_curves, "save_png", lambda fig, out: drawn.append(fig) or Path(out))
    training_curves.plot_training_curves(tmp_path / "metrics.jsonl", tmp_path / "curves.png")
    loss, _, lr = drawn[0].axes
    assert [list(line.get_xdata()) for line in loss.lines] == [[1]]
    assert [list(line.get_ydata()) for line in loss.lines] == [[0.5]]
    assert [list(line.get_xdata()) for line in lr.lines] == [[1]]


@needs_matplotlib
def test_the_training_curves_leave_out_numbers_no_axis_can_span_and_keep_nan_as_a_gap(tmp_path: Path, monkeypatch):
    """A hand-edited value float64 cannot hold (an integer of 400 digits: "int too large to convert to float") or
    losses of +-1e308 (a span that overflows: "arange: cannot compute length") were a traceback after evaluate's work.
    They are left out; a NaN (a diverged run's loss) is still drawn, as a gap."""
    from braintumor import training_curves

    lines = ['{"epoch": 1, "train_loss": 0.5, "val_loss": 1e308}',
             '{"epoch": 2, "train_loss": 1' + "0" * 400 + ', "val_loss": -1e308}',
             '{"epoch": 3, "train_loss": NaN, "val_loss": 0.3}', '{"epoch": 4, "train_loss": 0.4}']
    (tmp_path / "metrics.jsonl").write_text("".join(line + "\n" for line in lines))
    drawn, save = [], training_curves.save_png
    monkeypatch.setattr(training_curves, "save_png", lambda fig, out: drawn.append(fig) or save(fig, out))
    training_curves.plot_training_curves(tmp_path / "metrics.jsonl", tmp_path / "curves.png")
    train, val = drawn[0].axes[0].lines
    assert list(train.get_xdata()) == [1, 3, 4] and list(val.get_xdata()) == [3]
    assert math.isnan(train.get_ydata()[1]) and (tmp_path / "curves.png").stat().st_size > 0


@needs_matplotlib
def test_the_confusion_matrix_says_a_class_with_no_images_has_no_share(tmp_path: Path, monkeypatch):
    """A test folder without meningioma: its row read "0 / 0.0%" in each cell, a recall of 0 % for a class that was
    never there, while metrics.json, the console and the report say its recall is n/a."""
    from braintumor import figures

    drawn = []
    real = figures.save_png
    monkeypatch.setattr(figures, "save_png", lambda fig, out: (drawn.append(fig), real(fig, out))[1])
    cm = [[5, 0, 0, 0], [0, 0, 0, 0], [0, 0, 5, 0], [0, 1, 0, 4]]
    figures.plot_confusion_matrix(cm, ("glioma", "meningioma", "notumor", "pituitary"), tmp_path / "cm.png")
    ax = drawn[0].axes[0]
    cells = [t.get_text() for t in ax.texts]
    assert cells[4:8] == ["0\nn/a"] * 4 and cells[:2] == ["5\n100.0%", "0\n0.0%"] and cells[13] == "1\n20.0%"
    assert [t.get_text() for t in ax.get_yticklabels()][:2] == ["Glioma", "Meningioma\n(no images)"]


def test_the_reports_confusion_table_says_a_class_with_no_images_has_no_share():
    """report.html's table read "0 (0.0%)" across the row of a class the folder does not hold, as the figure did."""
    from braintumor.report_tables import confusion_table

    table = confusion_table({"classes": ["glioma", "meningioma"], "confusion_matrix": [[3, 1], [0, 0]]})
    rows = table.split("<tr>")[2:]
    assert "3 <span class=\"muted\">(75.0%)</span>" in rows[0] and rows[1].count("(n/a)") == 2
    assert "<th class=\"l\">Meningioma (no images)</th>" in rows[1] and "(0.0%)" not in rows[1]
