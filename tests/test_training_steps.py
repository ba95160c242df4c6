"""The steps after ``train`` (export, then calibrate, quantize, orientation) taken out of order or given the wrong
path: one line that names the step that writes what is missing."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import extra_reason

from braintumor.cli import main


@pytest.mark.parametrize("command", ["calibrate", "quantize", "orientation"])
def test_a_model_not_yet_exported_is_one_line_naming_export(command: str, tmp_path: Path, capsys) -> None:
    """They said "(train and export one, or pass another path: --model in the CLI)": these commands have no --model."""
    if command == "orientation":  # it fits a model: without torch, that is said first
        pytest.importorskip("torch", reason=extra_reason("torch"))
    run = tmp_path / "run"
    run.mkdir()
    model = tmp_path / "model.onnx"
    extra = ["--out", str(tmp_path / "q.onnx")] if command == "quantize" else []
    assert main([command, str(model), "--run", str(run), *extra]) == 2
    err = capsys.readouterr().err
    assert err == f"error: model file not found: {model} (write it first: braintumor export RUN_DIR --out {model})\n"
    assert "--model" not in err and not (tmp_path / "q.onnx").exists()


@pytest.mark.parametrize("command", ["calibrate", "quantize", "orientation"])
def test_a_run_folder_given_as_the_model_is_named_as_one(command: str, tmp_path: Path, capsys) -> None:
    if command == "orientation":
        pytest.importorskip("torch", reason=extra_reason("torch"))
    run = tmp_path / "run"
    run.mkdir()
    extra = ["--out", str(tmp_path / "q.onnx")] if command == "quantize" else []
    assert main([command, str(run), "--run", str(run), *extra]) == 2
    assert capsys.readouterr().err == (f"error: {run} is a folder: name the ONNX file that 'braintumor export' "
                                       "wrote (its --out)\n")
