"""Counts in the lines users read agree in number with them: "1 epochs", "1 images" and "skipped 1 files" were said."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import encode, synthetic_head

from braintumor.cli import main
from braintumor.wording import counted


def test_counted_says_one_in_the_singular() -> None:
    assert [counted(n, "epoch") for n in (0, 1, 2)] == ["0 epochs", "1 epoch", "2 epochs"]
    assert counted(1, "series", "series") == "1 series" and counted(3, "copy", "copies") == "3 copies"


def test_orientation_with_one_epoch_says_one_epoch(monkeypatch) -> None:
    """``braintumor orientation --epochs 1`` printed "..., 1 epochs" (the fit itself is stopped before training)."""
    import braintumor.orientation_fit as fit

    class Stop(Exception):
        pass

    def stop(*_a, **_k):
        raise Stop

    monkeypatch.setattr(fit.Classifier, "load", lambda *_a, **_k: SimpleNamespace(preprocess_config=None))
    monkeypatch.setattr(fit, "prepared_run_images", lambda *_a: (np.zeros((2, 8, 8)), None, np.array([False, True])))
    monkeypatch.setattr(fit, "train_network", stop)
    said: list[str] = []
    with pytest.raises(Stop):
        fit.fit_orientation(["m.onnx"], "run", epochs=1, log=said.append)
    assert said == ["training the orientation check on 1 training image, 1 epoch"]


def test_training_curves_of_a_one_epoch_run_say_one_epoch(tmp_path: Path, monkeypatch) -> None:
    """A one-epoch run (a first try: train --epochs 1) had its curves titled "Training curves (1 epochs)"."""
    pytest.importorskip("matplotlib")
    import braintumor.figures as figures

    log = tmp_path / "metrics.jsonl"
    log.write_text(json.dumps({"epoch": 1, "train_loss": 1.0, "val_loss": 0.9, "lr": 1e-3}) + "\n")
    titles: list[str] = []
    monkeypatch.setattr(figures, "_save", lambda fig, out: titles.append(fig._suptitle.get_text()) or Path(out))
    figures.plot_training_curves(log, tmp_path / "curves.png")
    assert titles == ["Training curves (1 epoch)"]


def test_data_check_and_a_lone_note_in_a_class_folder_are_said_in_the_singular(tmp_path: Path, capsys) -> None:
    from braintumor.data import load_dataset

    (tmp_path / "glioma").mkdir()
    (tmp_path / "glioma" / "a.png").write_bytes(encode(synthetic_head(64)))
    (tmp_path / "glioma" / "notes.txt").write_text("seen by Dr X")
    assert main(["data", "check", "--data", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path}: 1 image (glioma 1, meningioma 0, ")
    note = load_dataset(tmp_path, allow_missing=True).ignored_note()
    assert note == f"skipped 1 file that is not an image by its name (.txt), e.g. {tmp_path / 'glioma' / 'notes.txt'}"


def test_evaluating_one_unreadable_image_names_it_and_why(tmp_path: Path, capsys) -> None:
    """It said "none of the 1 images in ROOT could be read": neither which one nor why."""
    root = tmp_path / "brain"
    (root / "glioma").mkdir(parents=True)
    (root / "glioma" / "x.png").write_text("not an image")
    assert main(["evaluate", "--data", str(root), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert capsys.readouterr().err == (f"error: the one image in {root} could not be read ({root}/glioma/x.png: not a "
                                       "recognised image: expected JPEG, PNG, BMP, TIFF or WebP content)\n")
