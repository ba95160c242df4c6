"""calibrate, quantize and export: refusals that leave the model as it was, other runs' splits, repeated members."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from cli_runner import run_cli
from conftest import extra_reason, needs_onnx

from braintumor.cli import main
from braintumor.model_files import default_model_path


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
@needs_onnx
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
@needs_onnx
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
            f"error: braintumor-tumornet-s.onnx was validated on another split than {other}: split seed 0 (that "
            "run: 1); --run takes the model's own run folder\n"  # was two tuples of five values to compare
        ), argv
    (other / "split.json").write_text(json.dumps({**split, "fingerprint": "0" * 64}))
    rc, _, err = run_cli(["calibrate", model, "--run", str(other)], capsys)
    assert rc == 2 and err.startswith("error: braintumor-tumornet-s.onnx was trained on other images than")
    assert not (tmp_path / "q.onnx").exists()


def test_a_checkpoint_export_cannot_read_is_one_line(tmp_path, capsys):
    """A truncated best.pt, or last.pt (the training state: the help says 'or a .pt checkpoint'), were tracebacks."""
    torch = pytest.importorskip("torch", reason=extra_reason("torch"))
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "best.pt").write_bytes(b"PK\x03\x04 cut short")
    torch.save({"model": {}, "epoch": 3}, tmp_path / "run" / "last.pt")
    out = tmp_path / "m.onnx"
    best, last = tmp_path / "run" / "best.pt", tmp_path / "run" / "last.pt"
    for source, message in ((tmp_path / "run", f"cannot read the checkpoint {best}: corrupt or truncated, or not a "
                                               "PyTorch checkpoint; copy it again from where it was trained, export "
                                               "another run, or train this one again"),  # not "(UnpicklingError)"
                            (last, f"{last} is not a best.pt of 'braintumor train': export the run folder (or its "
                                   "best.pt)")):
        rc, _, err = run_cli(["export", str(source), "--out", str(out)], capsys)
        assert rc == 2 and err.startswith(f"error: {message}") and err.count("\n") == 1, err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_a_run_whose_best_pt_is_a_last_pt_is_not_told_to_export_the_run_folder(tmp_path, capsys):
    """`export RUN` whose best.pt is a copy of last.pt said "export the run folder (or its best.pt)": what was
    typed. It names the run's best.pt and how to get one back."""
    torch = pytest.importorskip("torch", reason=extra_reason("torch"))
    (tmp_path / "run").mkdir()
    torch.save({"model": {}, "epoch": 3}, tmp_path / "run" / "best.pt")
    rc, _, err = run_cli(["export", str(tmp_path / "run"), "--out", str(tmp_path / "m.onnx")], capsys)
    assert (rc, err) == (2, f"error: cannot export {tmp_path / 'run'}: its best.pt is not the best.pt 'braintumor "
                            "train' writes (a last.pt copied over it?); train it again (--overwrite), or remove it and "
                            "--resume with more --epochs\n")


@needs_onnx
def test_a_folder_that_is_not_a_run_is_named_as_such(tmp_path, capsys):
    from braintumor.model_files import default_model_path

    for argv in (["calibrate", str(default_model_path()), "--run", str(tmp_path)],
                 ["quantize", str(default_model_path()), "--run", str(tmp_path), "--out", str(tmp_path / "q.onnx")]):
        rc, _, err = run_cli(argv, capsys)
        assert (rc, err) == (2, f"error: no split.json in {tmp_path}: --run takes the run folder of 'braintumor "
                                "train' (models/ for the shipped files)\n"), argv


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
@needs_onnx
def test_a_damaged_split_json_is_one_line_not_a_traceback(tmp_path, capsys):
    """A truncated split.json was a JSONDecodeError traceback, one without "val" or "root" a KeyError, until
    2026-12-06 (calibrate, quantize, orientation and the scripts all read it through run_split.read_split)."""
    run = tmp_path / "run"
    run.mkdir()
    model = tmp_path / "m.onnx"
    shutil.copy(default_model_path(), model)
    not_a_split = f"error: {run / 'split.json'} is not the split of a 'braintumor train' run"
    cases = [("{not json", f"error: cannot read {run / 'split.json'}: Expecting property name"),
             ('{"train": []}', not_a_split), ('["val"]', not_a_split), ('{"val": [], "train": "all"}', not_a_split),
             ('{"val": []}', f"error: {run}/split.json records no data folder: give --data ROOT")]
    shutil.copy("models/training-config.json", run / "config.json")  # the model's own settings: no warning
    for text, message in cases:
        (run / "split.json").write_text(text)
        rc, _, err = run_cli(["calibrate", str(model), "--run", str(run)], capsys)
        assert rc == 2 and err.startswith(message) and err.count("\n") == 1, err
    assert model.read_bytes() == default_model_path().read_bytes()


def test_an_ensemble_member_given_twice_is_refused(tiny_run, tmp_path, capsys):
    """``export RUN RUN`` wrote a 2-member ensemble of one network (twice the file, the same answers)."""
    out = tmp_path / "e.onnx"
    assert main(["export", str(tiny_run), str(tiny_run / "best.pt"), "--out", str(out), "--no-calibrate"]) == 2
    assert capsys.readouterr().err == f"error: ensemble member {tiny_run} is given twice: choose different runs\n"
    assert not out.exists()


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
@needs_onnx
def test_calibrate_quantize_and_evaluate_refuse_another_run_of_the_same_split(data_root, tmp_path, capsys):
    """A run of the same data and split but another network (another --lr, --image-size...) passed the split check:
    calibrate took its augmentation settings for the OOD copies, and evaluate --run drew its training curves into the
    model's report, without a word. A split.json of other image counts (another version's split) passed too."""
    split = json.loads(Path("models/split.json").read_text())
    config = json.loads(Path("models/training-config.json").read_text())
    other = tmp_path / "other"
    other.mkdir()
    (other / "split.json").write_text(json.dumps(split))
    (other / "config.json").write_text(json.dumps({**config, "lr": 0.001, "epochs": 30}))  # epochs: a resumed run's
    shutil.copy("models/training-log.jsonl", other / "metrics.jsonl")
    model = str(tmp_path / "braintumor-tumornet-s.onnx")
    shutil.copy(default_model_path(), model)
    data = tmp_path / "data"
    for c in ("glioma", "meningioma", "notumor", "pituitary"):
        (data / c).mkdir(parents=True)
        shutil.copy(sorted((data_root / "Testing" / c).glob("*.jpg"))[0], data / c)
    runs = (["calibrate", model, "--run", str(other)],
            ["quantize", model, "--run", str(other), "--out", str(tmp_path / "q.onnx")],
            ["evaluate", "--model", model, "--data", str(data), "--out", str(tmp_path / "e"), "--run", str(other)])
    for argv in runs:
        rc, out, err = run_cli(argv, capsys)
        assert (rc, out, err) == (2, "", f"error: braintumor-tumornet-s.onnx was trained with other settings than "
                                         f"{other} records: --lr 0.003 (that run: 0.001); --run takes the model's "
                                         "own run folder\n"), argv
    (other / "config.json").write_text(json.dumps(config))
    (other / "split.json").write_text(json.dumps({**split, "val": split["val"][1:]}))
    for argv in runs:
        rc, out, err = run_cli(argv, capsys)
        assert (rc, out, err) == (2, "", f"error: braintumor-tumornet-s.onnx was trained with 571 validation "
                                         f"images, {other}/split.json lists 570; --run takes the model's own run "
                                         "folder\n"), argv
    assert Path(model).read_bytes() == default_model_path().read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["braintumor-tumornet-s.onnx", "data", "other"]


def test_calibrate_warns_where_nothing_links_the_model_to_the_run(tiny_run, tiny_model, tmp_path, capsys):
    """A run folder without config.json (copied without it, or of an older version): the split settings could not
    be compared, and nothing said so."""
    other = tmp_path / "run"
    other.mkdir()
    shutil.copy(tiny_run / "split.json", other / "split.json")
    model = tmp_path / "m.onnx"
    shutil.copy(tiny_model, model)
    rc, _, err = run_cli(["calibrate", str(model), "--run", str(other)], capsys)
    assert rc == 0 and err.startswith(f"warning: {other} has no config.json: that {other} is the run it was "
                                           "trained in is checked only by its data and image counts\n"), err


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
@needs_onnx
def test_a_device_or_pipe_given_as_metrics_is_named_as_such_not_read(tmp_path):
    """``--metrics /dev/zero`` was read until memory ran out ('out of memory', or killed by the kernel), and a FIFO
    waited for good for a writer: neither is a metrics.json."""
    import os
    import subprocess
    import sys

    resource = pytest.importorskip("resource")
    fifo = tmp_path / "metrics.json"
    os.mkfifo(fifo)
    model = tmp_path / "m.onnx"
    shutil.copy(default_model_path(), model)

    def bounded() -> None:  # a failing run ends in MemoryError here, not in the machine's OOM killer
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    for metrics, kind in [("/dev/zero", "a device"), (str(fifo), "a named pipe (FIFO)")]:
        if not os.path.exists(metrics):
            continue
        for command in (["calibrate", str(model), "--run", "models"],
                        ["quantize", str(model), "--run", "models", "--out", str(tmp_path / "q.onnx")]):
            done = subprocess.run([sys.executable, "-m", "braintumor", *command, "--metrics", metrics],
                                  env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, capture_output=True,
                                  text=True, preexec_fn=bounded, timeout=60)
            assert (done.returncode, done.stderr) == (2, f"error: --metrics {metrics} is {kind}: give the metrics.json "
                                                         "'braintumor evaluate' wrote\n"), command
    assert model.read_bytes() == default_model_path().read_bytes()
