"""predict's progress bar at a terminal: --help says "for 50 or more inputs"; with --workers or --resume, which do not
count the inputs first, it starts at the 50th record (without a total), not for any run at all."""

from __future__ import annotations

import re
import sys

import pytest
from conftest import encode, synthetic_head

from braintumor.cli import main
from braintumor.model_files import default_model_path

MODEL = default_model_path()
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")


@pytest.mark.parametrize("progress", [None, "--progress"])
def test_a_resumed_run_of_a_few_inputs_draws_no_bar_unless_asked(tmp_path, capsys, monkeypatch, progress):
    for k in range(3):
        (tmp_path / f"{k}.png").write_bytes(encode(synthetic_head(seed=k), "PNG"))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal
    argv = ["predict", str(tmp_path), "-o", str(tmp_path / "out.jsonl"), "--resume", *([progress] if progress else [])]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert ("3rec" in err) == bool(progress), err


def test_with_workers_or_resume_the_bar_starts_at_the_50th_record(tmp_path, capsys, monkeypatch):
    import braintumor.batch_predict as batch

    for k in range(60):
        (tmp_path / f"{k:02d}.png").write_bytes(b"")  # never read: scored by the stand-in below
    monkeypatch.setattr(batch, "score_unit", lambda clf, unit, *a: [
        {"path": p, "label": "glioma", "confidence": 1.0, "ood": False} for p in unit])
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    assert main(["predict", str(tmp_path), "-o", str(tmp_path / "out.jsonl"), "--resume"]) == 0
    err = capsys.readouterr().err
    drawn = re.findall(r"(\d+)rec \[", err)
    assert drawn[0] == "50" and drawn[-1] == "60", err
