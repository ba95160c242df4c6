"""More of the training-side commands' refusals (tests/test_train_bad_inputs.py holds the first ones): a --cache-dir
that is a file or below one, a run's hand-edited config.json, a dataset short of a class, another model's --metrics."""

from __future__ import annotations

import pytest
from cli_runner import run_cli
from conftest import extra_reason
from test_train_bad_inputs import _dataset, _one_error, _train

pytest.importorskip("torch", reason=extra_reason("torch"))


def test_a_cache_dir_that_is_a_file_is_refused_before_any_work(tmp_path, capsys):
    """--cache-dir FILE trained, decoding every image, and cached none of them (a warning at the end of decoding at
    best); the next run decoded them all again."""
    data = _dataset(tmp_path / "d")
    cache = tmp_path / "cache.npz"
    cache.write_bytes(b"a file")
    rc, _, err = run_cli(_train(data, tmp_path / "run", cache), capsys)
    assert rc == 2 and _one_error(err) == f"error: --cache-dir {cache} is a file, not a folder: nothing could be " \
                                          "cached in it; name a folder (made if missing)"
    assert not (tmp_path / "run").exists() and cache.read_bytes() == b"a file"


def test_a_cache_dir_below_a_file_is_refused_before_any_work(tmp_path, capsys):
    """--cache-dir FILE/cache trained, decoding every image, and cached none of them: "warning: decoded images not
    cached (Not a directory)" at the end of decoding, and the next run decoded them all again."""
    data = _dataset(tmp_path / "d")
    (tmp_path / "notes.txt").write_text("a file")
    cache = tmp_path / "notes.txt" / "sub" / "cache"
    rc, _, err = run_cli(_train(data, tmp_path / "run", cache), capsys)
    assert rc == 2 and _one_error(err) == f"error: --cache-dir {cache} lies below the file {tmp_path / 'notes.txt'}: " \
                                          "no folder can be made there; name a folder (made if missing)"
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(("edit", "said"), [
    ({"image_size": 5000}, "image_size must be in [32, 1024], got 5000"),
    ({"epochs": 0}, "epochs must be in [1, 10000], got 0"),
    ({"distill_temperature": float("nan")}, "distill_temperature must be in (0, 100], got nan"),
    ({"model": "tumornet-z"}, "model 'tumornet-z' is no network this version builds (tumornet-s, tumornet-xs, "
                              "tumornet-s24, tumornet-s-patch, tumornet-s-deep, tumornet-s-se)")])
@pytest.mark.parametrize("command", ["export", "calibrate", "quantize", "orientation"])
def test_a_runs_config_json_setting_train_refuses_is_one_error_line(command, edit, said, tiny_run, tiny_model,
                                                                     tmp_path, capsys):
    """A value of the right type that 'braintumor train' refuses (image_size 5000, epochs 0, NaN, a network that does
    not exist) went without a word into an exported model's metadata, and into calibrate's augmented copies (erase 5:
    every copy erased), exit code 0; it is refused with train's own bounds, named as config.json names it."""
    import json

    from test_train_bad_inputs import _command_on_edited_run

    rc, line, run, out, model, before = _command_on_edited_run(
        command, lambda text: json.dumps({**json.loads(text), **edit}), tiny_run, tiny_model, tmp_path, capsys)
    assert rc == 2 and line == f"error: cannot read {run / 'config.json'}: its {said}; 'braintumor " \
                                          "train' writes no such value"
    assert not out.exists() and model.read_bytes() == before


def test_the_shipped_runs_settings_are_not_refused_and_need_no_torch(monkeypatch):
    """The check reads the shipped models/training-config.json too (calibrate --run models); without torch (quantize
    --no-calibrate) the network's name goes unchecked, not the command refused."""
    import json
    import sys
    from pathlib import Path

    from braintumor.run_config import refused_setting

    shipped = json.loads(Path("models/training-config.json").read_text())
    assert refused_setting(shipped) is None
    assert refused_setting({**shipped, "model": "tumornet-z"}).startswith("model 'tumornet-z' is no network")
    monkeypatch.setitem(sys.modules, "braintumor.model", None)  # `from .model import` raises ImportError
    assert refused_setting({**shipped, "model": "tumornet-z"}) is None
    assert refused_setting({**shipped, "lr": 0.0}) == "lr must be in (0, 1], got 0.0"


@pytest.mark.parametrize(("edit", "said"), [({"image_size": "160"}, "image_size '160'"),
                                            ({"background_percentile": [1]}, "background_percentile [1]")])
@pytest.mark.parametrize("command", ["export", "calibrate", "quantize"])
def test_a_runs_config_json_setting_of_the_wrong_type_is_one_error_line(command, edit, said, tiny_run, tiny_model,
                                                                         tmp_path, capsys):
    """A hand-edited value of the wrong type was checked on train --resume only: export stored it in the model's
    metadata, calibrate and quantize went on with it, all three without a word (exit code 0)."""
    import json

    from test_train_bad_inputs import _command_on_edited_run

    rc, line, run, out, model, before = _command_on_edited_run(
        command, lambda text: json.dumps({**json.loads(text), **edit}), tiny_run, tiny_model, tmp_path, capsys)
    assert rc == 2 and line == f"error: cannot read {run / 'config.json'}: it has {said}, not a value " \
                                          "'braintumor train' writes"
    assert not out.exists() and model.read_bytes() == before


@pytest.mark.parametrize("command", ["export", "calibrate"])
def test_data_without_a_class_says_what_calibration_needs_too(command, tiny_run, tiny_model, tmp_path, capsys):
    """export/calibrate --data ROOT short of a class said "training needs images of all 4 classes", as if they
    trained: the message is one for both."""
    import shutil

    from test_train_bad_inputs import _copy_run

    run = _copy_run(tiny_run, tmp_path / "run")
    data = _dataset(tmp_path / "d", per_class=1)
    shutil.rmtree(data / "Training" / "pituitary")
    model = shutil.copy(tiny_model, tmp_path / "model.onnx")
    out = tmp_path / "out.onnx"
    args = {"export": ["export", str(run), "--out", str(out), "--data", str(data)],
            "calibrate": ["calibrate", str(model), "--run", str(run), "--data", str(data)]}[command]
    rc, _, err = run_cli(args, capsys)
    assert rc == 2 and _one_error(err) == f"error: no folder for class 'pituitary' in {data / 'Training'}: training " \
                                          "a model of the 4 classes (glioma, meningioma, notumor, pituitary), or " \
                                          "calibrating one, needs images of each"
    assert not out.exists()


def _metrics_of(model, **training) -> dict:
    """A metrics.json as 'braintumor evaluate' writes it of ``model``, its recorded training changed by ``training``
    (``config`` merged): what the metrics of another run on the same data look like."""
    from braintumor.predictor import Classifier

    meta = Classifier.load(model, threads=1).metadata
    config = {**meta["training"]["config"], **training.pop("config", {})}
    scored = {k: meta[k] for k in ("model_name", "data_fingerprint", "classes")}
    return {"accuracy": 0.5, "n": 4, "model": {"metadata": {**scored, "training": {**meta["training"], **training,
                                                                                  "config": config}}}}


@pytest.mark.parametrize(("other", "said"), [({"config": {"seed": 7}}, "training seed is 7, this model's 0"),
                                             ({"best_epoch": 9}, "training best_epoch is 9, this model's 1")])
@pytest.mark.parametrize("command", ["export", "calibrate"])
def test_metrics_of_another_run_on_the_same_data_are_refused(command, other, said, tiny_run, tiny_model, tmp_path,
                                                             capsys):
    """--metrics of a model trained on the same data with another seed (same architecture, same fingerprint) was
    embedded without a word: the file then carried another network's test results. Its own metrics still go in."""
    import json
    import shutil

    from braintumor.predictor import Classifier

    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps(_metrics_of(tiny_model, **other)))
    model = shutil.copy(tiny_model, tmp_path / "model.onnx")
    before = model.read_bytes()
    out = tmp_path / "out.onnx"
    args = {"export": ["export", str(tiny_run), "--out", str(out), "--no-calibrate"],
            "calibrate": ["calibrate", str(model), "--run", str(tiny_run)]}[command] + ["--metrics", str(metrics)]
    rc, _, err = run_cli(args, capsys)
    assert rc == 2 and _one_error(err) == f"error: --metrics {metrics} describes another model (its {said}): " \
                                          "embed the metrics of this very network"
    assert not out.exists() and model.read_bytes() == before
    if command == "export":
        metrics.write_text(json.dumps(_metrics_of(tiny_model)))
        assert run_cli(args, capsys)[0] == 0 and Classifier.load(out).metadata["metrics"]["accuracy"] == 0.5


def test_a_run_whose_weights_stop_being_numbers_stops_with_one_error_line(tmp_path, capsys, monkeypatch):
    """--lr 1e30 trained on NaN losses to exit code 0, and best.pt held a network that answers NaN to everything (export
    wrote it as it was): the run stops in the epoch it diverged, before that epoch's checkpoints. (--lr now stops at 1,
    so a step that leaves a weight infinite stands for such a rate here.)"""
    import math

    import torch

    from braintumor.checkpoints import check_finite
    from braintumor.train_config import ConfigError

    real = torch.optim.AdamW.step

    def diverging(self, *args, **kwargs):
        done = real(self, *args, **kwargs)
        with torch.no_grad():
            self.param_groups[0]["params"][0].view(-1)[0] = math.inf
        return done

    monkeypatch.setattr(torch.optim.AdamW, "step", diverging)
    data = _dataset(tmp_path / "d")
    rc, _, err = run_cli(_train(data, tmp_path / "run", tmp_path / "cache", "--lr", "1"), capsys)
    assert rc == 2 and _one_error(err) == "error: training diverged in epoch 1: the network's weights are no longer " \
                                          "numbers (NaN or infinite); no checkpoint was written; start the run again " \
                                          "with a lower --lr than 1"
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.json", "split.json"]
    net = torch.nn.Linear(2, 2)
    check_finite(net, 4, 0.5, kept=True)  # numbers: the run goes on
    with torch.no_grad():
        net.bias[1] = float("inf")
    with pytest.raises(ConfigError, match=r"in epoch 4: .*; best\.pt and last\.pt keep an earlier epoch's; start the "
                                          r"run again \(--overwrite\) with a lower --lr than 0\.5$"):
        check_finite(net, 4, 0.5, kept=True)


def test_a_run_whose_validation_loss_stops_being_a_number_stops_with_one_error_line(tmp_path, capsys, monkeypatch):
    """--lr 100 on 72 images kept its weights finite but made them so large that the logits overflowed: val_loss NaN
    (train loss 185882), logged as NaN into metrics.jsonl, which is not JSON, and the run went on to exit code 0 with
    a best.pt. The run stops in that epoch, before its row and checkpoints, as for weights that are not numbers."""
    import math

    import torch

    from braintumor import train
    from braintumor.checkpoints import check_validation_losses
    from braintumor.train_config import ConfigError

    real = train.evaluate_logits
    monkeypatch.setattr(train, "evaluate_logits", lambda *a, **k: real(*a, **k) * math.inf)  # inf - inf: NaN logits
    data = _dataset(tmp_path / "d")
    rc, _, err = run_cli(_train(data, tmp_path / "run", tmp_path / "cache", "--lr", "1"), capsys)
    assert rc == 2 and _one_error(err) == "error: training diverged in epoch 1: its val_loss and val_ema_loss are no " \
                                          "longer a number (NaN or infinite); no checkpoint was written; start the " \
                                          "run again with a lower --lr than 1"
    assert sorted(p.name for p in (tmp_path / "run").iterdir()) == ["config.json", "split.json"]
    row = {"epoch": 7, "val_loss": 2.5e30, "val_ema_loss": 0.3}
    check_validation_losses(row, 10, kept=True)  # numbers, however large: the run goes on
    with pytest.raises(ConfigError, match=r"in epoch 7: its val_ema_loss is no longer a number \(NaN or infinite\); "
                                          r"best\.pt and last\.pt keep an earlier epoch's; start the run again "
                                          r"\(--overwrite\) with a lower --lr than 10$"):
        check_validation_losses({**row, "val_ema_loss": float(torch.tensor(float("nan")))}, 10, kept=True)


def test_export_data_beside_no_calibrate_is_a_usage_error(tmp_path, capsys):
    """--data names the calibration's dataset: with --no-calibrate it was dropped without a word."""
    from braintumor.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["export", str(tmp_path / "run"), "--out", str(tmp_path / "m.onnx"), "--no-calibrate", "--data", "d"])
    assert exc.value.code == 2 and capsys.readouterr().err.rstrip().endswith(
        "argument --data: not allowed with argument --no-calibrate")


def test_resume_continues_the_loss_scale_of_fp16_training(tmp_path, capsys, monkeypatch):
    """fp16 on a GPU scales the loss (GradScaler), and last.pt did not keep the scale reached: --resume began again at
    torch's first scale, so a resumed run was not the run trained through (docs/TRAINING.md: --resume continues
    exactly). Here a scaler that doubles every step stands in for the GPU's, on the CPU."""
    import torch

    real = torch.amp.GradScaler
    monkeypatch.setattr(torch.amp, "GradScaler",
                        lambda enabled=False: real("cpu", init_scale=256.0, growth_interval=1, enabled=True))
    data = _dataset(tmp_path / "d")
    args = _train(data, tmp_path / "run", tmp_path / "cache")
    assert run_cli(args, capsys)[0] == 0
    first = torch.load(tmp_path / "run" / "last.pt", weights_only=False)["scaler"]["scale"]
    assert first > 256.0  # it grew
    assert run_cli([*args, "--resume", "--epochs", "2"], capsys)[0] == 0
    assert torch.load(tmp_path / "run" / "last.pt", weights_only=False)["scaler"]["scale"] == first * first / 256.0
