"""An exported file's version: a run exported without --model-version must not pass for the shipped model."""

from __future__ import annotations

import pytest
from conftest import extra_reason

from braintumor.cli import main
from braintumor.model_files import DEV_VERSION, default_model_path
from braintumor.predictor import Classifier

pytest.importorskip("torch", reason=extra_reason("torch", what="export"))


def test_an_export_without_a_version_is_not_labelled_as_the_shipped_model(tiny_model):
    """Every export was 'braintumor-tumornet-s 1.0.0' unless told otherwise: a 2-epoch smoke model, served, showed
    the shipped model's name and version on the page, /healthz and the metrics, and a reader could not tell them
    apart. Unversioned exports are development builds now."""
    version = Classifier.load(tiny_model, threads=1).metadata["model_version"]
    assert version == DEV_VERSION == "0.0.0-dev"
    if default_model_path().exists():
        assert version != Classifier.load(threads=1).metadata["model_version"]


def test_a_version_given_is_recorded(tiny_run, tmp_path):
    out = tmp_path / "m.onnx"
    assert main(["export", str(tiny_run), "--out", str(out), "--no-calibrate", "--model-version", "2.1.0"]) == 0
    assert Classifier.load(out, threads=1).metadata["model_version"] == "2.1.0"


@pytest.mark.parametrize("version", ["", "   ", "\t"])
def test_an_empty_version_is_a_usage_error(version, tmp_path, monkeypatch, capsys):
    """``--model-version "$VERSION"`` unset recorded an empty version: the page and /healthz showed none."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(["export", "run", "--out", "m.onnx", "--model-version", version])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.rstrip().endswith(
        f"argument --model-version: expected a version such as 1.0.0, got {version!r}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("version", ["", "   ", None])
def test_the_python_api_refuses_an_empty_version_in_the_cli_s_words(version, tmp_path):
    """Only the CLI refused an empty version: ``export_onnx(..., model_version="")`` wrote a model whose page and
    /healthz showed none. Refused before any work, and nothing written."""
    from braintumor.export import export_onnx

    with pytest.raises(ValueError) as exc:
        export_onnx(tmp_path / "no-run", tmp_path / "m.onnx", model_version=version, calibrate=False)
    assert str(exc.value) == f"model_version: expected a version such as 1.0.0, got {version!r}"
    assert list(tmp_path.iterdir()) == []
