"""``run_evaluate``, the command line's evaluate: its one-line errors, its printed summary and a folder with some
classes only (stand-in models and a few real images, as tests/test_evaluate.py)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from evaluate_fakes import DATA, PER_CLASS, TESTING, FakeClassifier, _run_dir, needs_matplotlib

from braintumor import figures
from braintumor.evaluate import run_evaluate
from braintumor.metrics import accuracy_interval
from braintumor.predictor import Classifier

pytestmark = pytest.mark.skipif(not TESTING.is_dir(), reason=f"dataset not found at {DATA}")


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


@needs_matplotlib
def test_a_full_disk_is_the_machine_s_failure_naming_the_output_not_a_usage_error(small_data: Path, tmp_path: Path,
                                                                                  capsys, monkeypatch):
    """``evaluate --out`` on a full disk said ``error: [Errno 28] No space left on device`` with exit code 2, a usage
    error, where every other command says what it was writing, with 1 (the same command may work once there is room)."""
    import errno

    from braintumor.cli import main

    def full(path, text):
        raise OSError(errno.ENOSPC, "No space left on device")  # as a write's flush raises it: no file named

    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    monkeypatch.setattr("braintumor.evaluate.write_text_atomic", full)
    out = tmp_path / "out"
    assert main(["evaluate", "--data", str(small_data), "--out", str(out), "--no-leak-free", "--no-progress"]) == 1
    assert capsys.readouterr().err.endswith(f"error: No space left on device (writing {out})\n")
    assert not (out / "metrics.json").exists()


@needs_matplotlib
def test_a_folder_without_images_says_so_and_makes_no_output_folder(tmp_path: Path, capsys, monkeypatch):
    """It said "none of the 0 images in ... could be read" (nothing was unreadable) and left an empty --out."""
    (tmp_path / "data" / "Testing" / "glioma").mkdir(parents=True)
    (tmp_path / "data" / "Testing" / "glioma" / "scan.dcm").write_bytes(b"\0" * 132 + b"DICM")
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    assert run_evaluate(None, str(tmp_path / "data"), str(tmp_path / "out"), progress=False) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: no images in {tmp_path / 'data' / 'Testing'}'s class folders (") and ".png" in err
    assert "none of the 0" not in err and err.count("\n") == 1 and not (tmp_path / "out").exists()


@needs_matplotlib
def test_images_none_of_which_can_be_read_make_no_output_folder(tmp_path: Path, capsys, monkeypatch):
    """The folder was made before the images were read: a dataset of broken images (and Ctrl-C while they were being
    scored) left an empty --out behind the one-line error."""
    (tmp_path / "data" / "Testing" / "glioma").mkdir(parents=True)
    (tmp_path / "data" / "Testing" / "glioma" / "a.jpg").write_bytes(b"junk")
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    assert run_evaluate(None, str(tmp_path / "data"), str(tmp_path / "out"), progress=False, leak_free=False) == 2
    assert "could not be read" in capsys.readouterr().err and not (tmp_path / "out").exists()



@needs_matplotlib
def test_run_evaluate_prints_a_summary(small_data: Path, tmp_path: Path, capsys, monkeypatch):
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    out = tmp_path / "eval"
    assert run_evaluate(None, str(small_data), str(out), run_dir=str(_run_dir(tmp_path)), progress=False) == 0
    captured = capsys.readouterr()
    assert "accuracy 0.6667" in captured.out and "1 unreadable" in captured.out
    assert str(out / "report.html") in captured.out  # and the curves drawn, with one warning: nothing links them
    assert captured.err == (f"warning: fake.onnx records no training settings: nothing confirms that "
                            f"{tmp_path / 'run'} is the run fake.onnx was trained in\n")
    assert "smoke run" not in captured.out  # a model trained on every image: no such note
    assert json.loads((out / "metrics.json").read_text())["figures"]["training_curves"] == "training_curves.png"


@needs_matplotlib
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


@pytest.mark.parametrize("split", ["..", "../data", "Testing/glioma"])
def test_a_split_that_is_a_path_is_refused(split, tmp_path: Path, capsys, monkeypatch):
    """``--split ..`` read the folder above --data as the split (then said '--out is inside the dataset' of an --out
    beside it), and ``--split Testing/glioma`` a class folder as a split of one class."""
    (tmp_path / "data" / "Testing" / "glioma").mkdir(parents=True)
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: FakeClassifier()))
    assert run_evaluate(None, str(tmp_path / "data"), str(tmp_path / "out"), split=split, progress=False) == 2
    assert capsys.readouterr().err == (f"error: --split {split} is a path: it takes the name of a folder in the "
                                       "dataset (Testing, Training)\n")


@needs_matplotlib
def test_a_smoke_run_and_a_few_images_are_said_so(small_data: Path, tmp_path: Path, capsys, monkeypatch):
    """A --limit-per-class model scored on a dozen images printed "accuracy 0.6667" and an ECE to four decimals, as
    the shipped model's 1311 do, and "(fitted on validation)" of a temperature fitted on 8 images: nothing said that
    these numbers measure nothing. The accuracy's 95 % interval, the smoke run and the validation count are said on
    the console and in report.html alike."""
    fake = FakeClassifier()
    fake.metadata.update(training={"config": {"limit_per_class": 16}, "train_images": 56, "val_images": 8},
                         calibration={"n_val": 8})
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: fake))
    out = tmp_path / "eval"
    assert run_evaluate(None, str(small_data), str(out), progress=False, leak_free=False) == 0
    printed = capsys.readouterr().out
    doc = json.loads((out / "metrics.json").read_text())
    low, high = accuracy_interval(round(doc["accuracy"] * doc["n"]), doc["n"])
    assert doc["accuracy_interval"] == [low, high] and high - low > 0.4  # 8 of 12: 0.39 to 0.86
    said = [f"95% interval of the accuracy (Wilson score): {low:.4f}-{high:.4f} on {doc['n']} images",
            "the model is a smoke run (--limit-per-class 16: trained on 56 images, validated on 8): its scores check "
            "a setup, not a recipe"]
    assert all(line in printed.splitlines() for line in said) and "(fitted on 8 validation images)" in printed
    report = (out / "report.html").read_text()
    assert all(f"<p>{line[:1].upper() + line[1:]}.</p>" in report for line in said)


def test_evaluate_run_warns_where_nothing_links_the_model_to_the_run(tiny_run: Path, tiny_model: Path,
                                                                     small_data: Path, tmp_path: Path, capsys):
    """``evaluate --run`` drew a run's training curves into the model's report without a word where nothing could
    link the two (a folder holding the log alone: no config.json to compare the model's training settings with, no
    split.json for its data and image counts). Now one warning line, and the curves still drawn (the user may know
    the run); none for the model's own run, whose settings, data and counts are compared."""
    log_only = tmp_path / "log-only"
    log_only.mkdir()
    shutil.copy(tiny_run / "metrics.jsonl", log_only)
    for run, warning in ((tiny_run, ""),
                         (log_only, f"warning: {log_only} has no config.json: nothing confirms that {log_only} is the "
                                    "run model.onnx was trained in\n")):
        out = tmp_path / f"eval-{run.name}"
        assert run_evaluate(str(tiny_model), str(small_data), str(out), run_dir=str(run), progress=False,
                            leak_free=False) == 0
        assert capsys.readouterr().err == warning
        assert json.loads((out / "metrics.json").read_text())["figures"]["training_curves"] == "training_curves.png"


def test_evaluate_run_help_says_the_run_is_checked_against_the_model():
    """``evaluate --help`` called --run a folder "for training curves", where another run's is refused and one nothing
    links to the model is warned of (the test above): a user reading it took any run's log to do."""
    from braintumor.cli import build_parser

    parser = build_parser()
    evaluate = next(a for a in parser._actions if a.dest == "command").choices["evaluate"]
    said = " ".join(evaluate.format_help().split())
    assert "another run's is refused" in said and "warned" in said, said


def test_a_split_given_that_data_does_not_hold_is_refused_not_ignored(tmp_path: Path, capsys, monkeypatch):
    """``evaluate --data ROOT/Testing --split Training`` scored ROOT/Testing's class folders without a word: --split
    is read where --data holds it, the default's rule, and a --split given was dropped."""
    from test_data import make_dataset

    from braintumor import evaluate
    from braintumor.cli import main

    for split in ("Training", "Testing"):
        make_dataset(tmp_path / "data" / split, per_class=1)
    given: list = []
    monkeypatch.setattr(evaluate, "run_evaluate", lambda *args, **kw: given.append(kw["split"]) or 0)
    testing, out = tmp_path / "data" / "Testing", str(tmp_path / "out")
    assert main(["evaluate", "--data", str(testing), "--split", "Training", "--out", out]) == 2
    assert capsys.readouterr().err == (
        f"error: --split Training: {testing} holds no Training folder, but class folders: --data {testing} alone "
        f"evaluates them; --data {tmp_path / 'data'} --split Training evaluates {tmp_path / 'data' / 'Training'}\n")
    assert not given and not (tmp_path / "out").exists()
    for argv in ([], ["--split", "Testing"], ["--split", "testing"]):  # the default, or the folder --data names
        assert main(["evaluate", "--data", str(testing), *argv, "--out", out]) == 0
    assert main(["evaluate", "--data", str(tmp_path / "data"), "--split", "Training", "--out", out]) == 0
    assert given == ["Testing", "Testing", "testing", "Training"]
