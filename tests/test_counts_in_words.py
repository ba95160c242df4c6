"""Counts in the lines users read agree in number with them: "1 epochs", "1 images" and "skipped 1 files" were said."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from conftest import encode, extra_reason, needs_torch, synthetic_head
from evaluate_fakes import needs_matplotlib

from braintumor.cli import main
from braintumor.wording import counted


def test_counted_says_one_in_the_singular() -> None:
    assert [counted(n, "epoch") for n in (0, 1, 2)] == ["0 epochs", "1 epoch", "2 epochs"]
    assert counted(1, "series", "series") == "1 series" and counted(3, "copy", "copies") == "3 copies"


@needs_torch
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
    pytest.importorskip("matplotlib", reason=extra_reason("matplotlib"))
    import braintumor.training_curves as training_curves

    log = tmp_path / "metrics.jsonl"
    log.write_text(json.dumps({"epoch": 1, "train_loss": 1.0, "val_loss": 0.9, "lr": 1e-3}) + "\n")
    titles: list[str] = []
    monkeypatch.setattr(training_curves, "save_png",
                        lambda fig, out: titles.append(fig._suptitle.get_text()) or Path(out))
    training_curves.plot_training_curves(log, tmp_path / "curves.png")
    assert titles == ["Training curves (1 epoch)"]


def test_data_check_and_a_lone_note_in_a_class_folder_are_said_in_the_singular(tmp_path: Path, capsys) -> None:
    from braintumor.data import load_dataset
    from braintumor.evaluation_scope import ignored_note

    (tmp_path / "glioma").mkdir()
    (tmp_path / "glioma" / "a.png").write_bytes(encode(synthetic_head(64)))
    (tmp_path / "glioma" / "notes.txt").write_text("seen by Dr X")
    assert main(["data", "check", "--data", str(tmp_path)]) == 0
    assert capsys.readouterr().out.startswith(f"{tmp_path}: 1 image (glioma 1, meningioma 0, ")
    note = ignored_note(load_dataset(tmp_path, allow_missing=True))
    assert note == f"skipped 1 file that is not an image by its name (.txt), e.g. {tmp_path / 'glioma' / 'notes.txt'}"


@needs_matplotlib
def test_evaluating_one_unreadable_image_names_it_and_why(tmp_path: Path, capsys) -> None:
    """It said "none of the 1 images in ROOT could be read": neither which one nor why."""
    root = tmp_path / "brain"
    (root / "glioma").mkdir(parents=True)
    (root / "glioma" / "x.png").write_text("not an image")
    assert main(["evaluate", "--data", str(root), "--out", str(tmp_path / "out"), "--no-progress"]) == 2
    assert capsys.readouterr().err == (f"error: the one image in {root} could not be read ({root}/glioma/x.png: not a "
                                       "recognised image: expected JPEG, PNG, BMP, TIFF or WebP content)\n")


def test_no_user_facing_string_writes_a_plural_as_s_in_brackets():
    """Notes, messages, the report and the CLI said "skipped 1 file(s) in the zip", "1 axial image(s) stored
    flipped", "3 slice(s)", "1 record(s) already there": each count now says its noun through wording.counted (or
    in_number where no count is said). Docstrings and comments may quote what was said; strings may not."""
    import ast
    import re

    import braintumor

    bracketed = re.compile(r"[a-z]\((?:s|es)\)")
    package = Path(braintumor.__file__).parent
    found = []
    for path in package.rglob("*.py"):
        tree = ast.parse(path.read_text())
        docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                      if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
                      and node.body and isinstance(node.body[0], ast.Expr)}
        found += [f"{path.name}:{node.lineno}: {node.value}" for node in ast.walk(tree)
                  if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
                  and bracketed.search(node.value)]
    quoted = re.compile(r""""(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'""")  # the page's strings, not its code
    for path in package.rglob("*.js"):
        found += [f"{path.name}: {line.strip()}" for line in path.read_text().splitlines()
                  if any(bracketed.search(text) for text in quoted.findall(line.split("//")[0]))]
    for path in package.rglob("*.html"):  # its text, not its template expressions
        found += [f"{path.name}: {line.strip()}" for line in path.read_text().splitlines()
                  if bracketed.search(re.sub(r"\{[{%#].*?[}%#]\}", "", line))]
    assert found == []


def test_one_file_skipped_or_not_scored_is_said_in_the_singular(tmp_path: Path) -> None:
    """A zip's note said "skipped 1 file(s) in the zip", a DICOM refusal "Rows 64 x Columns 64 x 1 frame(s) at 16
    bits", evaluate's report "Not scored: 1 file(s) in the class folders that are not images by their name"."""
    from dicom_factory import axial_volume, nifti_bytes, zip_bytes

    from braintumor.report import _data_section
    from braintumor.volume_io import read_volumes
    from braintumor.wording import in_number

    volume = nifti_bytes(axial_volume([np.full((48, 48), 40 * (i + 1), np.uint8) for i in range(3)]))
    (read,) = read_volumes(zip_bytes([("head.nii.gz", volume), ("notes.txt", b"notes")]), name="x.zip")
    assert read.notes == ("skipped 1 file in the zip: not DICOM or NIfTI",)
    one = _data_section({"n_not_images": 1, "not_image_endings": [".dcm"], "n_outside_class_folders": 1,
                         "n_special_files": 1, "errors": [("a.png", "unreadable")], "root": "ROOT"})
    assert "Not scored: 1 file in the class folders that is not an image by its name (.dcm)." in one
    assert "Not scored: 1 image beside the class folders in ROOT: " in one and "and it is in none." in one
    assert "Not scored: 1 pipe or device named like an image in the data folder" in one
    assert "<h3>Skipped: 1 unreadable file</h3>" in one
    two = _data_section({"n_not_images": 2, "n_outside_class_folders": 2, "n_special_files": 2, "root": "ROOT"})
    assert "2 files in the class folders that are not images by their name." in two and "these are in none" in two
    assert "2 pipes or devices named like images" in two
    assert [in_number(n, "class", "classes") for n in (1, 2)] == ["class", "classes"]
