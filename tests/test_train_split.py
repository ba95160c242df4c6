"""The train/validation split of a run: fixed for its data, and kept when the run is resumed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

pytest.importorskip("torch")

from braintumor.cli import main


def _small_dataset(data_root: Path, dest: Path, per_class: int = 6) -> Path:
    for c in ("glioma", "meningioma", "notumor", "pituitary"):
        (dest / "Training" / c).mkdir(parents=True)
        for p in sorted((data_root / "Training" / c).glob("*.jpg"))[:per_class]:
            shutil.copy(p, dest / "Training" / c / p.name)
    return dest


def test_resume_on_other_data_is_refused_and_keeps_the_runs_split(data_root, tmp_path, capsys):
    """One image gone before --resume: the split was drawn again, a validation image of the resumed run had been
    trained on in its first epoch, and split.json was overwritten without a word."""
    data = _small_dataset(data_root, tmp_path / "data")
    run = tmp_path / "run"
    common = ["--data", str(data), "--out", str(run), "--image-size", "32", "--batch-size", "8",
              "--cache-dir", str(tmp_path / "cache")]
    assert main(["train", *common, "--epochs", "1"]) == 0
    before = (run / "split.json").read_text()
    first = sorted((data / "Training" / "pituitary").iterdir())[0]
    first.unlink()
    capsys.readouterr()
    assert main(["train", *common, "--epochs", "2", "--resume"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and errors[0].startswith(
        f"error: {run} was trained on other images than {data / 'Training'} holds now")
    assert (run / "split.json").read_text() == before
    assert [json.loads(r)["epoch"] for r in (run / "metrics.jsonl").read_text().splitlines()] == [1]
