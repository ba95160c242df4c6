"""predict's progress bar at a terminal counts inputs (a scan is one, however many slice records it gives), with their
total where the inputs are known up front, and by default only for 50 or more inputs, as --help says: with --workers
or --resume too (it counted their records, without a total, from the 50th record)."""

from __future__ import annotations

import json
import re
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import encode, synthetic_head

from braintumor.cli import main
from braintumor.model_files import default_model_path

MODEL = default_model_path()
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")
SLICES = 20  # records the stand-in gives a scan


@pytest.mark.parametrize("progress", [None, "--progress"])
def test_a_resumed_run_of_a_few_inputs_draws_no_bar_unless_asked(tmp_path, capsys, monkeypatch, progress):
    for k in range(3):
        (tmp_path / f"{k}.png").write_bytes(encode(synthetic_head(seed=k), "PNG"))
    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal
    argv = ["predict", str(tmp_path), "-o", str(tmp_path / "out.jsonl"), "--resume", *([progress] if progress else [])]
    assert main(argv) == 0
    err = capsys.readouterr().err
    assert ("3input" in err) == bool(progress), err


def _score(unit) -> list[dict]:
    """A stand-in for the model: an image's record, or a scan's SLICES slice records."""
    if isinstance(unit, dict):
        return [unit]
    sure = {"label": "glioma", "confidence": 1.0, "ood": False,  # an answer --resume reads back as one
            "probabilities": {"glioma": 1.0, "meningioma": 0.0, "notumor": 0.0, "pituitary": 0.0}}
    if isinstance(unit, str):  # a scan's path
        return [{"path": unit, "slice": k, **sure} for k in range(SLICES)]
    return [{"path": p, **sure} for p in unit]


@pytest.fixture
def stand_in(monkeypatch):
    """Scoring without the model, in this process: --workers N's pool as threads running the stand-in; call it for a
    terminal."""
    import braintumor.batch_predict as batch
    import braintumor.batch_workers as workers

    monkeypatch.setattr(batch, "score_unit", lambda clf, unit, *a: _score(unit))
    monkeypatch.setattr(workers, "ProcessPoolExecutor", lambda n, **kw: ThreadPoolExecutor(n))
    monkeypatch.setattr(workers, "_work", _score)
    return lambda: monkeypatch.setattr(sys.stderr, "isatty", lambda: True)  # a terminal (capsys's stderr, in the test)


def _inputs(folder, images: int) -> list[str]:
    """``images`` images (never read: the stand-in scores them) and a NIfTI scan in the middle, as files."""
    folder.mkdir()
    names = [folder / f"{k:02d}.png" for k in range(images)]
    names.insert(images // 2, folder / "head.nii.gz")
    for name in names:
        name.write_bytes(b"")
    return [str(n) for n in names]


def _bars(err: str) -> list[str]:
    """What each drawing of the bar counted: ``56/56`` with a total, ``60`` without."""
    return ["".join(found) for found in re.findall(r"(\d+/\d+) \[|(\d+)input \[", err)]


@pytest.mark.parametrize("flag", [["--resume"], ["--workers", "2"]])
def test_with_workers_or_resume_named_inputs_are_counted_with_their_total(tmp_path, capsys, stand_in, flag):
    names = _inputs(tmp_path / "in", 55)  # 56 inputs, 75 records
    stand_in()
    assert main(["predict", *names, "-o", str(tmp_path / "out.jsonl"), *flag]) == 0
    err = capsys.readouterr().err
    assert len((tmp_path / "out.jsonl").read_text().splitlines()) == 55 + SLICES
    assert _bars(err)[-1] == "56/56" and "75" not in "".join(_bars(err)), err


def test_a_resumed_run_counts_the_inputs_left(tmp_path, capsys, stand_in):
    names, out = _inputs(tmp_path / "in", 70), tmp_path / "out.jsonl"
    stand_in()
    out.write_text("".join(json.dumps(r) + "\n" for r in _score(names[:10])))  # 10 done by an earlier run
    assert main(["predict", *names, "-o", str(out), "--resume"]) == 0
    err = capsys.readouterr().err
    assert _bars(err)[-1] == "61/61", err


def test_over_folders_listed_as_they_are_read_the_bar_starts_at_the_50th_input(tmp_path, capsys, stand_in):
    """No total (the folder is listed as it is read); a scan is one input: 45 inputs of 64 records draw no bar."""
    _inputs(tmp_path / "few", 44)
    stand_in()
    assert main(["predict", str(tmp_path / "few"), "-o", str(tmp_path / "few.jsonl"), "--workers", "2"]) == 0
    assert _bars(capsys.readouterr().err) == []
    _inputs(tmp_path / "many", 59)
    assert main(["predict", str(tmp_path / "many"), "-o", str(tmp_path / "many.jsonl"), "--resume"]) == 0
    drawn = _bars(capsys.readouterr().err)
    assert int(drawn[0]) >= 50 and drawn[-1] == "60", drawn
