"""What a command loads before it does its work: ``braintumor --help``, the options of train and serve, ``data check``
and ``data audit`` classify nothing, so they load neither ONNX Runtime nor the predictor. They did, for a string
helper: ``printable`` lived in series.py (which imports the predictor), the package's ``__init__`` imported ONNX
Runtime and the predictor for every submodule, and the CLI's argument types and error handling imported two names
from the predictor's modules."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from conftest import REPO
from test_data import make_dataset

#: Modules only a command that classifies (or trains) needs.
HEAVY = ("onnxruntime", "braintumor.predictor", "braintumor.model_loading", "braintumor.series", "torch", "flask")


def _run(args: list[str], cwd) -> tuple[int, list[str]]:
    """``python -m braintumor ARGS`` in a fresh process: its exit code and which of :data:`HEAVY` it loaded."""
    code = ("import json, runpy, sys\n"
            f"sys.argv = ['braintumor', *{args!r}]\n"
            "try:\n"
            "    runpy.run_module('braintumor', run_name='__main__', alter_sys=True)\n"
            "except SystemExit as exc:\n"
            "    rc = exc.code\n"
            f"print(json.dumps([rc, [m for m in {HEAVY!r} if m in sys.modules]]))")
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.stdout, proc.stderr
    rc, loaded = json.loads(proc.stdout.splitlines()[-1])
    return rc, loaded


@pytest.mark.parametrize("args", [["--help"], ["train", "--help"], ["serve", "--help"], ["data", "audit", "--help"],
                                  ["data", "check", "--data", "ds"], ["data", "audit", "--data", "ds", "--no-progress",
                                                                     "--out", "audit.json"]])
def test_commands_that_classify_nothing_load_neither_onnx_runtime_nor_the_predictor(args, tmp_path):
    make_dataset(tmp_path / "ds")
    assert _run(args, tmp_path) == (0, [])


def test_serve_help_says_the_defaults_the_server_uses(monkeypatch):
    """``serve --help`` wrote "default 4" threads, "max 4" workers and "default 128" MiB as literals, apart from the
    constants serve and the web app use: its help now reads them from the light modules both import."""
    import argparse
    import importlib

    from braintumor import cli_serve, serve_settings, upload_limits

    monkeypatch.setattr(serve_settings, "THREADS_PER_WORKER", 7)
    monkeypatch.setattr(serve_settings, "MAX_DEFAULT_WORKERS", 9)
    monkeypatch.setattr(upload_limits, "DEFAULT_MAX_UPLOAD_MB", 99)
    try:
        sub = argparse.ArgumentParser(prog="braintumor").add_subparsers()
        importlib.reload(cli_serve).add_serve_parser(sub)
        said = " ".join(sub.choices["serve"].format_help().split())
    finally:
        monkeypatch.undo()
        importlib.reload(cli_serve)
    assert "threads per worker (default 7;" in said and "default: CPUs, max 9)" in said and "(default 99;" in said
    with monkeypatch.context() as m:
        m.setattr(serve_settings, "available_cpus", lambda: 64)
        assert serve_settings.default_workers() == serve_settings.MAX_DEFAULT_WORKERS


def test_the_python_api_loads_onnx_runtime_when_a_name_needs_it(tmp_path):
    """``import braintumor`` alone loads nothing heavy; ``braintumor.Classifier`` (and ``from braintumor import
    Classifier``) loads the predictor, and ``dir()`` lists the API's names before they are loaded."""
    code = ("import sys, braintumor\n"
            "before = 'onnxruntime' in sys.modules or 'braintumor.predictor' in sys.modules\n"
            "listed = set(braintumor.__all__) <= set(dir(braintumor))\n"
            "from braintumor import Classifier, ModelError\n"
            "from braintumor.model_files import ModelError as SameError\n"
            "from braintumor.predictor import Classifier as Same\n"
            "print(before, listed, 'onnxruntime' in sys.modules, Classifier is Same and ModelError is SameError)")
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.stdout.split() == ["False", "True", "True", "True"], proc.stderr
    with pytest.raises(AttributeError, match="no attribute 'Classifer'"):
        import braintumor

        braintumor.Classifer  # noqa: B018 - a misspelt name still fails as one
