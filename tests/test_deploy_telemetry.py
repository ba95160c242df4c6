"""The image runs with a read-only root file system: importing the package and predicting write nothing under the
home folder, and ONNX Runtime's telemetry stays off even when it was imported first. The container files themselves
are checked in tests/test_deploy.py."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

import pytest
from conftest import REPO


def test_predicting_writes_nothing_to_the_home_folder(tmp_path):
    """The image runs with a read-only root file system: importing the package and predicting write no file (ONNX
    Runtime's telemetry wrote a device ID under ~/.cache at import, and warned on a read-only one)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("XDG_CACHE_HOME", "ORT_DISABLE_TELEMETRY", "CI")}
    env.update(HOME=str(home), PYTHONPATH=str(REPO / "src"), PYTHONDONTWRITEBYTECODE="1")
    code = "import numpy as np; from braintumor import Classifier; Classifier.load().predict(np.zeros((64, 64), 'u1'))"
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert [str(p.relative_to(home)) for p in home.rglob("*")] == []
    assert "telemetry" not in result.stderr


def test_telemetry_stays_off_when_onnxruntime_was_imported_first(tmp_path):
    """ONNX Runtime reads ORT_DISABLE_TELEMETRY once, at its own import: imported before braintumor it has already
    written its device ID, but the package still turns its events off (a failed run was stored as a RuntimeError
    event, for upload, in its ~/.cache database)."""
    home = tmp_path / "home"
    home.mkdir()
    # ONNX Runtime keeps no telemetry under CI=true (as .ci/run sets), so the variable is dropped here.
    dropped = ("XDG_CACHE_HOME", "ORT_DISABLE_TELEMETRY", "CI")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    env.update(HOME=str(home), PYTHONPATH=str(REPO / "src"), PYTHONDONTWRITEBYTECODE="1")
    code = ("import onnxruntime, numpy as np; from braintumor import Classifier; clf = Classifier.load()\n"
            "try: clf.run(np.zeros((1, 2, 8, 8), 'f4'))\nexcept Exception: pass")
    result = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path, capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    databases = list(home.rglob("onnxruntime.db"))
    if not databases:
        pytest.skip("this ONNX Runtime keeps no telemetry database")
    db = sqlite3.connect(databases[0])
    try:
        events = [payload for (payload,) in db.execute("SELECT payload FROM events")]
    finally:
        db.close()
    assert not [p for p in events if b"RuntimeError" in p]
