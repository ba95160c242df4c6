"""The predict CLI's output contract, errors and exit codes, and that it never imports torch."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import encode, synthetic_head

from braintumor.cli import main
from braintumor.model_files import default_model_path
from braintumor.prediction import DISCLAIMER
from braintumor.predictor import Classifier

KEYS = {"path", "label", "confidence", "probabilities", "ood", "ood_score", "review"}


@pytest.fixture()
def inputs(tmp_path, test_images):
    good = test_images["glioma"][0]
    (tmp_path / "fake.jpg").write_text("I am text, not a JPEG")
    (tmp_path / "empty.png").write_bytes(b"")
    trunc = encode(synthetic_head(), "JPEG")
    (tmp_path / "trunc.jpg").write_bytes(trunc[: len(trunc) // 3])
    return [str(good), str(tmp_path / "fake.jpg"), str(tmp_path / "empty.png"), str(tmp_path / "trunc.jpg")]


def run_cli(args, capsys):
    rc = main(args)
    out, err = capsys.readouterr()
    return rc, out, err


def test_jsonl_contract_and_errors(tiny_model, inputs, capsys):
    rc, out, _ = run_cli(["predict", *inputs, "--format", "jsonl", "--model", str(tiny_model)], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 1 and len(rows) == 4
    assert set(rows[0]) == KEYS and rows[0]["path"] == inputs[0]
    assert set(rows[0]["probabilities"]) == {"glioma", "meningioma", "notumor", "pituitary"}
    assert all(set(r) == {"path", "error"} for r in rows[1:])
    assert "not a recognised image" in rows[1]["error"] and "empty" in rows[2]["error"]


def test_folders_are_recursive_and_skip_hidden(tiny_model, test_images, tmp_path, capsys):
    import shutil

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / ".ipynb_checkpoints").mkdir()
    shutil.copy(test_images["notumor"][0], tmp_path / "a" / "b" / "x.jpg")
    shutil.copy(test_images["notumor"][1], tmp_path / "a" / "y.jpg")
    shutil.copy(test_images["notumor"][1], tmp_path / "a" / ".ipynb_checkpoints" / "z.jpg")
    rc, out, _ = run_cli(["predict", str(tmp_path / "a"), "--format", "json", "--model", str(tiny_model)], capsys)
    rows = json.loads(out)
    assert rc == 0 and sorted(r["path"].rsplit("/", 1)[1] for r in rows) == ["x.jpg", "y.jpg"]


def test_csv_and_table_formats(tiny_model, inputs, capsys):
    rc, out, _ = run_cli(["predict", *inputs[:2], "--format", "csv", "--model", str(tiny_model)], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["label"] and float(rows[0]["glioma"]) >= 0 and rows[1]["error"]
    review = rows[0]["review"]
    assert review in ("True", "False") and review == str(Classifier.load(tiny_model).predict(inputs[0]).review)
    rc, out, _ = run_cli(["predict", inputs[0], "--model", str(tiny_model)], capsys)
    assert rc == 0 and out.splitlines()[0].startswith("path") and "%" in out.splitlines()[1]
    assert out.splitlines()[1].endswith("low confidence: review") == (review == "True")


def test_output_format_follows_the_file_extension_unless_asked(tiny_model, inputs, tmp_path, capsys):
    good = inputs[0]
    for name, parse in [("r.csv", lambda t: next(csv.DictReader(io.StringIO(t)))["label"]),
                        ("r.jsonl", lambda t: json.loads(t.splitlines()[0])["label"]),
                        ("r.JSON", lambda t: json.loads(t)[0]["label"])]:
        rc, out, _ = run_cli(["predict", good, "-o", str(tmp_path / name), "--model", str(tiny_model)], capsys)
        assert rc == 0 and out == "" and parse((tmp_path / name).read_text())
    run_cli(["predict", good, "-o", str(tmp_path / "t.txt"), "--model", str(tiny_model)], capsys)
    assert (tmp_path / "t.txt").read_text().startswith("path ")  # no known extension: the table
    run_cli(["predict", good, "-o", str(tmp_path / "asked.csv"), "--format", "jsonl", "--model", str(tiny_model)],
            capsys)
    assert json.loads((tmp_path / "asked.csv").read_text())["label"]  # --format wins over the extension
    # --resume needs an appendable format: the extension gives it one without --format
    rc, _, err = run_cli(["predict", good, "-o", str(tmp_path / "r.csv"), "--resume", "--model", str(tiny_model)],
                         capsys)
    assert rc == 0 and "works with" not in err
    assert len(list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text())))) == 1


def test_empty_folder_missing_model_broken_model(tiny_model, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    rc, out, _ = run_cli(["predict", str(tmp_path / "empty"), "--format", "jsonl", "--model", str(tiny_model)],
                         capsys)
    assert rc == 1 and json.loads(out)["error"] == "no images found in folder"
    rc, _, err = run_cli(["predict", "x.jpg", "--model", str(tmp_path / "none.onnx")], capsys)
    assert rc == 2 and err.startswith("error: model file not found")
    (tmp_path / "bad.onnx").write_text("nope")
    rc, _, err = run_cli(["predict", "x.jpg", "--model", str(tmp_path / "bad.onnx")], capsys)
    assert rc == 2 and "not a valid ONNX file" in err


def test_output_file_is_written_whole_or_not_at_all(tiny_model, inputs, tmp_path, capsys, monkeypatch):
    target = tmp_path / "out" / "results.jsonl"
    _, out, _ = run_cli(["predict", *inputs, "--format", "jsonl", "-o", str(target), "--model", str(tiny_model)],
                         capsys)
    assert out == "" and len(target.read_text().splitlines()) == 4
    import braintumor.predict_cli as pc

    def boom(*a, **k):
        yield {"path": "a", "error": "x"}
        raise RuntimeError("crash mid-run")

    monkeypatch.setattr(pc, "records", boom)
    target2 = tmp_path / "out" / "never.jsonl"
    with pytest.raises(RuntimeError):
        main(["predict", inputs[0], "--format", "jsonl", "-o", str(target2), "--model", str(tiny_model)])
    assert not target2.exists() and sorted(p.name for p in target.parent.iterdir()) == ["results.jsonl"]


def test_dataset_errors_are_one_line(tmp_path, capsys):
    rc, _, err = run_cli(["train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "r")], capsys)
    assert rc == 2 and err.strip() == f"error: dataset folder not found: {tmp_path / 'nope'}"


def test_a_missing_default_dataset_says_how_to_name_one(tmp_path, monkeypatch, capsys):
    """Outside this checkout (a pip install, a notebook folder) data check, evaluate and train said only "dataset
    folder not found: ../shared/datasets/brain-tumor-mri", a path the user never typed, and nothing of --data."""
    import braintumor.cli
    import braintumor.data

    monkeypatch.delenv("BRAINTUMOR_DATA", raising=False)  # the default as a user without it has it
    for module in (braintumor.cli, braintumor.data):
        monkeypatch.setattr(module, "DEFAULT_DATA_ROOT", "../shared/datasets/brain-tumor-mri")
    monkeypatch.chdir(tmp_path)
    for args in (["data", "check"], ["evaluate", "--out", "ev"], ["train", "--out", "run"]):
        rc, _, err = run_cli(args, capsys)
        assert rc == 2 and err.startswith("error: dataset folder not found: ") and err.count("\n") == 1, args
        assert err.rstrip().endswith(": pass --data ROOT, or fetch the dataset with 'braintumor data download'"), args


def test_predict_never_imports_torch(tiny_model, test_images):
    args = ["predict", str(test_images["glioma"][0]), "--format", "jsonl", "--model", str(tiny_model)]
    code = (
        f"import sys; from braintumor.cli import main; rc = main({args!r}); "
        "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["label"]


def test_data_download_explains_what_to_do_offline(monkeypatch, capsys):
    import types

    fake = types.ModuleType("kagglehub")

    def fail(_name):
        raise ConnectionError("network is unreachable")

    fake.dataset_download = fail
    monkeypatch.setitem(sys.modules, "kagglehub", fake)
    rc, _, err = run_cli(["data", "download"], capsys)
    assert rc == 2 and "Offline" in err and "kaggle.com/datasets/masoudnickparvar" in err
    monkeypatch.setitem(sys.modules, "kagglehub", None)  # not installed
    rc, _, err = run_cli(["data", "download"], capsys)
    assert rc == 2 and "pip install 'braintumor[download]'" in err


def test_data_check_lists_unreadable_files(tmp_path, capsys):
    from test_data import make_dataset

    root = make_dataset(tmp_path)
    (root / "glioma" / "broken.jpg").write_bytes(b"junk")
    rc, out, _ = run_cli(["data", "check", "--data", str(root)], capsys)
    assert rc == 1 and "broken.jpg" in out and "glioma 4" in out


def test_a_destination_that_cannot_be_written_is_refused_before_any_work(tmp_path, capsys):
    afile, adir = tmp_path / "afile", tmp_path / "adir"
    afile.write_text("x")
    adir.mkdir()
    nope = str(tmp_path / "nope")  # no model, run or dataset there: the destination is checked first
    cases = [
        (["predict", "x.jpg", "--model", nope, "-o", str(adir)], f"-o {adir} is a folder; -o takes a file name"),
        (["predict", "x.jpg", "--model", nope, "--heatmap", str(afile)],
         f"--heatmap {afile} is a file; --heatmap takes a folder"),
        (["predict", "x.jpg", "--model", nope, "-o", str(afile / "r.csv")],
         f"cannot write -o {afile / 'r.csv'}: {afile} is a file, not a folder"),
        (["evaluate", "--model", nope, "--data", nope, "--out", str(afile)],
         f"--out {afile} is a file; --out takes a folder"),
        (["train", "--data", nope, "--out", str(afile / "run")],
         f"cannot write --out {afile / 'run'}: {afile} is a file, not a folder"),
        (["export", nope, "--out", str(adir)], f"--out {adir} is a folder; --out takes a file name"),
        (["quantize", nope, "--run", nope, "--out", str(adir)], f"--out {adir} is a folder; --out takes a file name"),
        (["data", "audit", "--data", nope, "--out", str(adir)], f"--out {adir} is a folder; --out takes a file name"),
        (["data", "download", "--dest", str(afile)], f"--dest {afile} is a file; --dest takes a folder"),
    ]
    for argv, message in cases:
        rc, out, err = run_cli(argv, capsys)
        assert (rc, out, err) == (2, "", f"error: {message}\n"), argv
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile"] and not list(adir.iterdir())


def test_an_output_that_is_one_of_the_inputs_is_refused(tmp_path, capsys):
    """``predict scan.jpg -o scan.jpg`` (or ``-o *.jpg`` expanded by the shell) replaced the scan with the results."""
    scan, other = tmp_path / "scan.jpg", tmp_path / "other.jpg"
    scan.write_bytes(b"\xff\xd8\xff scan bytes")
    other.write_bytes(b"\xff\xd8\xff other bytes")
    (tmp_path / "link.jpg").symlink_to(scan)
    for target in (scan, tmp_path / "link.jpg"):
        rc, out, err = run_cli(["predict", str(other), str(scan), "-o", str(target)], capsys)
        assert (rc, out) == (2, "") and err == (f"error: -o {target} is one of the inputs; writing it would "
                                                "overwrite that file: choose another name\n")
    assert scan.read_bytes() == b"\xff\xd8\xff scan bytes" and other.read_bytes() == b"\xff\xd8\xff other bytes"


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_a_failing_calibrate_or_quantize_leaves_the_model_file_as_it_was(tmp_path, capsys):
    """calibrate --background-percentile wrote the new preprocessing into the file before the run was found: a failed
    command left a model whose preprocessing no longer matched its temperature and OOD fit. A bad --metrics file was a
    JSON traceback, after the work; quantize --out onto its own input replaced the float model without a word."""
    model = tmp_path / "m.onnx"
    shutil.copy(default_model_path(), model)
    before = model.read_bytes()
    (tmp_path / "bad.json").write_text("{not json")
    other = json.loads(Path("docs/evaluation/metrics.json").read_text())  # the shipped model's, as if of another one
    other["model"]["metadata"]["data_fingerprint"] = "f" * 64
    (tmp_path / "other.json").write_text(json.dumps(other))
    cases = [
        (["calibrate", str(model), "--run", "models", "--metrics", str(tmp_path / "other.json")],
         f"error: --metrics {tmp_path / 'other.json'} describes another model (its data_fingerprint is "
         "ffffffffffffffff, this model's 07f475aec64ef320): embed the metrics of this very network"),  # was taken
        (["quantize", str(model), "--run", "models", "--out", str(tmp_path / "q.onnx"), "--metrics",
          str(tmp_path / "other.json")], f"error: --metrics {tmp_path / 'other.json'} describes another model"),
        (["calibrate", str(model), "--run", str(tmp_path / "nowhere"), "--background-percentile", "2"],
         f"error: no split.json in {tmp_path / 'nowhere'}"),
        (["calibrate", str(model), "--run", "models", "--metrics", str(tmp_path / "bad.json")],
         f"error: --metrics {tmp_path / 'bad.json'} is not JSON"),
        (["quantize", str(model), "--run", "models", "--out", str(model)],
         f"error: --out {model} is one of the inputs"),
    ]
    for argv, message in cases:
        rc, out, err = run_cli(argv, capsys)
        assert (rc, out) == (2, "") and err.startswith(message) and err.count("\n") == 1, (argv, err)
        assert model.read_bytes() == before, argv
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.json", "m.onnx", "other.json"]  # no temporary copy left


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_calibrate_and_quantize_refuse_another_runs_split(tmp_path, capsys):
    """Another run's validation images can be this model's training images: a temperature and OOD fit on them was
    accepted without a word (export already refused an ensemble of members validated on different splits)."""
    split = json.loads(Path("models/split.json").read_text())
    config = json.loads(Path("models/training-config.json").read_text())
    other = tmp_path / "other"
    other.mkdir()
    (other / "split.json").write_text(json.dumps(split))
    (other / "config.json").write_text(json.dumps({**config, "seed": 1}))
    model = str(tmp_path / "braintumor-tumornet-s.onnx")  # a copy: were the check missing, calibrate would write it
    shutil.copy(default_model_path(), model)
    for argv in (["calibrate", model, "--run", str(other)],
                 ["quantize", model, "--run", str(other), "--out", str(tmp_path / "q.onnx")]):
        rc, out, err = run_cli(argv, capsys)
        assert (rc, out) == (2, "") and err.startswith(
            f"error: braintumor-tumornet-s.onnx was validated on another split than {other} (split seed, "
            "validation fraction, limit, hold-out, grouped: (0, 0.1, 0, None, False) against (1, 0.1, 0, None, False))"
        ), argv
    (other / "split.json").write_text(json.dumps({**split, "fingerprint": "0" * 64}))
    rc, _, err = run_cli(["calibrate", model, "--run", str(other)], capsys)
    assert rc == 2 and err.startswith("error: braintumor-tumornet-s.onnx was trained on other images than")
    assert not (tmp_path / "q.onnx").exists()


def test_a_checkpoint_export_cannot_read_is_one_line(tmp_path, capsys):
    """A truncated best.pt, or last.pt (the training state: the help says 'or a .pt checkpoint'), were tracebacks."""
    torch = pytest.importorskip("torch")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "best.pt").write_bytes(b"PK\x03\x04 cut short")
    torch.save({"model": {}, "epoch": 3}, tmp_path / "run" / "last.pt")
    out = tmp_path / "m.onnx"
    best, last = tmp_path / "run" / "best.pt", tmp_path / "run" / "last.pt"
    for source, message in ((tmp_path / "run", f"cannot read the checkpoint {best}: corrupt or truncated ("),
                            (last, f"{last} is not a best.pt of 'braintumor train': export the run folder (or its "
                                   "best.pt)")):
        rc, _, err = run_cli(["export", str(source), "--out", str(out)], capsys)
        assert rc == 2 and err.startswith(f"error: {message}") and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_an_io_error_mid_run_is_one_line_and_leaves_no_file(tmp_path, capsys, monkeypatch):
    import errno

    import braintumor.predict_cli as pc

    target = tmp_path / "out" / "results.csv"

    def disk_full(*a, **k):
        yield {"path": "a.jpg", "error": "x"}
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(pc, "records", disk_full)
    rc, out, err = run_cli(["predict", "a.jpg", "-o", str(target)], capsys)
    assert (rc, out, err) == (1, "", f"error: No space left on device: {target}\n")
    assert list((tmp_path / "out").iterdir()) == []

    def write_failed(*a, **k):  # a failed write() names no file: the output being written is named instead
        yield {"path": "a.jpg", "error": "x"}
        raise OSError(errno.EFBIG, "File too large")

    monkeypatch.setattr(pc, "records", write_failed)
    rc, out, err = run_cli(["predict", "a.jpg", "-o", str(target)], capsys)
    assert (rc, out, err) == (1, "", f"error: File too large (writing {target})\n")


def test_permissions_are_checked_where_the_output_is_written(tmp_path, capsys, monkeypatch):
    """A regular file is written beside its target and moved over it: its folder must be writable. A device or
    FIFO (-o /dev/null) is written through: only it must be (as a non-root user /dev itself is not)."""
    import braintumor.cli_checks as checks

    writable = {"/dev/null"}
    monkeypatch.setattr(checks.os, "access", lambda p, mode: str(p) in writable)
    nope = str(tmp_path / "nope.onnx")
    rc, _, err = run_cli(["predict", "x.jpg", "--model", nope, "-o", str(tmp_path / "r.csv")], capsys)
    assert (rc, err) == (2, f"error: cannot write -o {tmp_path / 'r.csv'}: no permission to write in {tmp_path}\n")
    rc, _, err = run_cli(["predict", "x.jpg", "--model", nope, "-o", "/dev/null"], capsys)
    assert rc == 2 and "model file not found" in err  # past the destination check
    writable.clear()
    rc, _, err = run_cli(["predict", "x.jpg", "--model", nope, "-o", "/dev/null"], capsys)
    assert (rc, err) == (2, "error: cannot write -o /dev/null: no permission\n")


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_text_and_resume_reads_them_back(tmp_path, capsys,
                                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = ["=HYPERLINK(1).jpg", "'quoted.jpg", "+plus.jpg", "plain.jpg"]
    for i, name in enumerate(names):
        (tmp_path / name).write_bytes(encode(synthetic_head(seed=i), "JPEG"))
    assert main(["predict", *names, "-o", "all.csv"]) == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "all.csv").read_text())))
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(1).jpg", "''quoted.jpg", "'+plus.jpg", "plain.jpg"]
    lines = (tmp_path / "all.csv").read_text().splitlines(keepends=True)
    (tmp_path / "part.csv").write_text("".join(lines[:3]))  # interrupted after two records
    capsys.readouterr()
    assert main(["predict", *names, "-o", "part.csv", "--resume"]) == 0
    assert "2 record(s) already there" in capsys.readouterr().err
    assert (tmp_path / "part.csv").read_text() == (tmp_path / "all.csv").read_text()  # each input once, in order


TOO_MANY = f"at most 256, got 5000 (this machine has {os.cpu_count()} CPUs)"


@pytest.mark.parametrize(("argv", "message"), [
    (["serve", "--workers", "0"], "argument --workers: must be at least 1, got 0"),
    (["serve", "--port", "70000"], "argument --port: a port is 1-65535, got 70000"),  # was gunicorn's traceback
    (["serve", "--max-upload-mb", "0"], "argument --max-upload-mb: must be a number more than 0, got 0"),
    (["serve", "--max-upload-mb", "inf"], "argument --max-upload-mb: must be a number more than 0, got inf"),
    (["serve", "--max-upload-mb", "1e-9"],  # was taken: a limit of 0 bytes, every upload refused
     "argument --max-upload-mb: must be at least 0.001 (about 1 kB), got 1e-9: a smaller limit refuses every upload"),
    (["predict", "x.jpg", "--batch-size", "0"], "argument --batch-size: must be at least 1, got 0"),
    (["predict", "x.jpg", "--threads", "-1"], "argument --threads: must be at least 1, got -1"),  # was taken
    (["predict", "x.jpg", "--threads", "5000"], f"argument --threads: {TOO_MANY}"),  # hung for half a minute per image
    (["serve", "--threads", "5000"], f"argument --threads: {TOO_MANY}"),
])
def test_out_of_range_numbers_are_usage_errors(argv, message, capsys):
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and capsys.readouterr().err.rstrip().endswith(message)


@pytest.mark.parametrize(("flags", "message"), [
    (["--epochs", "0"], "--epochs must be at least 1, got 0"),  # was 'done' with no best.pt
    (["--batch-size", "1"], "--batch-size must be at least 2 (BatchNorm needs two images), got 1"),
    (["--image-size", "7"], "--image-size must be at least 32, got 7"),
    (["--val-fraction", "0"], "--val-fraction must be between 0 and 1, got 0.0"),  # tracebacks, after decoding all
    (["--val-fraction", "1.5"], "--val-fraction must be between 0 and 1, got 1.5"),
    (["--lr", "-1"], "--lr must be a finite number > 0, got -1.0"),
    (["--seed", "-1"], "--seed must be >= 0, got -1"),
    (["--limit-per-class", "-3"], "--limit-per-class must be >= 0, got -3"),  # trained on 5 images per class
    (["--model", "foo"], "unknown --model 'foo'; choose from tumornet-s, tumornet-xs, tumornet-s24, tumornet-s-patch, "
                         "tumornet-s-deep, tumornet-s-se"),
    (["--device", "gpu"], "unknown --device 'gpu': auto, cpu, cuda, cuda:1 ..."),
    (["--resume"], "nothing to resume in {r}: no last.pt (a run writes it at the end of its first epoch); start it "
                   "without --resume"),  # it started a new run, over any best.pt there
    (["--out", "{d}/Training/run"], "--out {d}/Training/run is inside the dataset {d}: its files would be read as "
                                    "data; choose a folder outside it"),  # the dataset then had a class 'run'
])
def test_training_settings_that_cannot_train_are_refused(flags, message, tmp_path, capsys):
    data = tmp_path / "d"
    flags = [f.format(d=data) for f in flags]
    rc, _, err = run_cli(["train", "--data", str(data), "--out", str(tmp_path / "r"), *flags], capsys)
    assert (rc, err) == (2, f"error: {message.format(r=tmp_path / 'r', d=data)}\n")
    assert list(tmp_path.iterdir()) == []  # nothing created: no run folder, no class folder in the dataset


def test_training_data_that_cannot_make_a_run_is_refused_before_training(tmp_path, capsys):
    from conftest import encode, synthetic_head

    from braintumor.classes import CLASSES

    for k, c in enumerate(CLASSES):  # one image per class: nothing left to validate on
        (tmp_path / "d" / c).mkdir(parents=True)
        (tmp_path / "d" / c / "a.png").write_bytes(encode(synthetic_head(64, seed=k)))
    base = ["train", "--data", str(tmp_path / "d"), "--image-size", "32", "--cache-dir", str(tmp_path / "c")]
    rc, _, err = run_cli([*base, "--out", str(tmp_path / "r1")], capsys)  # was a torch.cat traceback after epoch 1
    assert rc == 2 and err.endswith("\nerror: 4 images give 4 to train and 0 to validate (--val-fraction 0.1): too "
                                    "few for a validation split\n") and "Traceback" not in err
    rc, _, err = run_cli([*base, "--out", str(tmp_path / "r2"), "--hold-out-mode", "l"], capsys)  # held out nothing
    assert rc == 2 and err.endswith("error: no training image is stored as 'l' (Pillow modes are case sensitive: L, "
                                    "RGB, ...): nothing would be held out\n")
    assert not (tmp_path / "r1").exists() and not (tmp_path / "r2").exists()  # no empty run folder left behind


def test_a_resumed_run_keeps_its_own_settings(tmp_path):
    """--resume used the flags as typed: without the original --image-size 160 it went on at 128 px; another --seed
    drew a new split (validation images that had been trained on); another --model was a traceback after config.json
    was rewritten. Flags left at their defaults now take the run's values; one that asks for another is refused."""
    from dataclasses import asdict

    from braintumor.train_config import ConfigError, TrainConfig, resumed_config

    run = tmp_path / "run"
    run.mkdir()
    original = TrainConfig(data="d", out=str(run), image_size=160, epochs=100, augment_intensity=0.5, seed=3)
    (run / "config.json").write_text(json.dumps({**asdict(original), "world_size": 1}))
    (run / "last.pt").write_bytes(b"")
    # --epochs left at its default is the run's own too (it took the default, 110: a 1-epoch run went on to 110)
    assert resumed_config(TrainConfig(data="d", out=str(run))) == original
    assert resumed_config(TrainConfig(data="d", out=str(run), epochs=120)).epochs == 120  # a length may change
    moved = resumed_config(TrainConfig(data="elsewhere/d", out=str(run), cache_dir="c", precision="fp32"))
    assert (moved.data, moved.cache_dir, moved.precision, moved.image_size) == ("elsewhere/d", "c", "fp32", 160)
    with pytest.raises(ConfigError, match=r"other settings: --model tumornet-xs \(the run has tumornet-s\); --seed 5 "
                                          r"\(the run has 3\)\. A resumed run keeps its own$"):
        resumed_config(TrainConfig(data="d", out=str(run), model="tumornet-xs", seed=5))
    (run / "config.json").write_text("{cut")
    with pytest.raises(ConfigError, match=r"config\.json is missing or unreadable"):
        resumed_config(TrainConfig(data="d", out=str(run)))


def test_a_folder_that_is_not_a_run_is_named_as_such(tmp_path, capsys):
    from braintumor.model_files import default_model_path

    for argv in (["calibrate", str(default_model_path()), "--run", str(tmp_path)],
                 ["quantize", str(default_model_path()), "--run", str(tmp_path), "--out", str(tmp_path / "q.onnx")]):
        rc, _, err = run_cli(argv, capsys)
        assert (rc, err) == (2, f"error: no split.json in {tmp_path}: --run takes the run folder of 'braintumor "
                                "train' (models/ for the shipped files)\n"), argv


def test_dash_reads_file_names_from_standard_input(tmp_path, capsys, monkeypatch):
    """`find ... | braintumor predict -`: one run for any number of names, in the order given, - among other paths."""
    names = []
    for i in range(3):
        (tmp_path / f"s{i}.png").write_bytes(encode(synthetic_head(seed=i)))
        names.append(str(tmp_path / f"s{i}.png"))
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{names[1]}\n\n{names[2]}\r\n"))
    rc, out, _ = run_cli(["predict", names[0], "-", "--format", "jsonl"], capsys)
    assert rc == 0 and [json.loads(line)["path"] for line in out.splitlines()] == names
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    rc, out, err = run_cli(["predict", "-"], capsys)
    assert (rc, out, err) == (2, "", "error: no inputs: standard input held no file names (one per line)\n")


def test_a_table_or_file_run_ends_with_a_tally_and_a_pipe_stays_quiet(tmp_path, capsys):
    for i in range(2):
        (tmp_path / f"s{i}.png").write_bytes(encode(synthetic_head(seed=i)))  # the shipped model refuses these
    (tmp_path / "notes.jpg").write_text("not an image")
    rc, _, err = run_cli(["predict", str(tmp_path)], capsys)
    tally = err.splitlines()[0]
    got = re.fullmatch(r"3 scored: (\d) classified, (\d) of them flagged for review, (\d) refused as not brain MRI, "
                       r"1 failed", tally)
    assert rc == 1 and got and int(got[1]) + int(got[3]) == 2 and int(got[2]) <= int(got[1])
    assert err.splitlines()[1:] == ["1 input(s) could not be classified", DISCLAIMER]  # the table's last words
    rc, _, err = run_cli(["predict", str(tmp_path), "-o", str(tmp_path / "r.csv")], capsys)
    assert err.splitlines()[0] == tally
    rc, out, err = run_cli(["predict", str(tmp_path), "--format", "jsonl"], capsys)
    assert len(out.splitlines()) == 3 and err.splitlines() == ["1 input(s) could not be classified"]


def test_predict_with_stdout_closed_says_where_results_can_go(tmp_path):
    """`braintumor predict scan.jpg >&-` was "AttributeError: 'NoneType' object has no attribute 'write'"."""
    import os
    import subprocess
    import sys

    image = tmp_path / "a.png"
    image.write_bytes(encode(synthetic_head(), "PNG"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    closed = subprocess.run([sys.executable, "-m", "braintumor", "predict", str(image)], env=env,
                            capture_output=False, stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(1))
    assert closed.returncode == 2
    assert closed.stderr == "error: standard output is closed: give -o FILE for the results\n"
    to_file = subprocess.run([sys.executable, "-m", "braintumor", "predict", str(image), "-o", str(tmp_path / "r.csv")],
                             env=env, stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(1))
    assert to_file.returncode == 0 and (tmp_path / "r.csv").read_text().startswith("path,label")


def test_folders_nested_too_deep_are_one_error_line(tmp_path, monkeypatch, capsys):
    """A tree ~1000 folders deep: os.walk (recursive before Python 3.12) raised RecursionError, a long traceback."""
    def too_deep(*args, **kwargs):
        raise RecursionError("maximum recursion depth exceeded")

    monkeypatch.setattr("braintumor.volume_io.walk_images", too_deep)
    rc, _, err = run_cli(["predict", str(tmp_path)], capsys)
    assert (rc, err) == (2, "error: folders nested too deep to walk (about 1000 levels)\n")


def test_a_resumed_run_takes_a_typed_setting_even_when_it_equals_the_default(tmp_path):
    """--epochs 110 typed on a 50-epoch run was taken for 'not given' (110 is the default) and ignored."""
    from dataclasses import asdict

    from braintumor.train_config import TrainConfig, resumed_config

    run = tmp_path / "run"
    run.mkdir()
    original = TrainConfig(data="d", out=str(run), epochs=50, device="cpu", precision="fp32")
    (run / "config.json").write_text(json.dumps({**asdict(original), "world_size": 1}))
    (run / "last.pt").write_bytes(b"")
    typed = resumed_config(TrainConfig(data="d", out=str(run), epochs=110, device="auto"),
                           typed=frozenset({"epochs", "device"}))
    assert (typed.epochs, typed.device, typed.precision) == (110, "auto", "fp32")
    assert resumed_config(TrainConfig(data="d", out=str(run)), typed=frozenset()) == original
