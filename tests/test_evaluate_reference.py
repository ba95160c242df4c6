"""``evaluate --reference``: a public set (figshare, Br35H, SARTAJ: the Kaggle set's own sources) evaluated with the
shipped model must be compared with the images the MODEL trained on, not with a Training split of its own. Synthetic
images (blocky noise: no two of them near duplicates) and the stand-in model of test_evaluate_external."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import encode
from evaluate_fakes import needs_matplotlib
from test_evaluate_external import stub  # noqa: F401 - the fixture

from braintumor.cli import main
from braintumor.evaluate import run_evaluate


def put_distinct(folder: Path, seeds: range) -> None:
    """One image per seed, each far (in pHash) from every other seed's."""
    folder.mkdir(parents=True, exist_ok=True)
    for seed in seeds:
        rng = np.random.default_rng(seed)
        (folder / f"img{seed}.png").write_bytes(encode(np.kron(rng.integers(0, 256, (8, 8)), np.ones((12, 12)))
                                                       .astype(np.uint8)))


@pytest.fixture
def sets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """(EXT: a public set with a Training split of its own, KAGGLE: the model's training set, holding copies of
    EXT's two test gliomas)."""
    monkeypatch.setenv("BRAINTUMOR_CACHE", str(tmp_path / "cache"))
    ext, kaggle = tmp_path / "ext", tmp_path / "kaggle"
    put_distinct(ext / "Testing" / "glioma", range(0, 2))
    put_distinct(ext / "Testing" / "notumor", range(10, 13))
    put_distinct(ext / "Training" / "glioma", range(20, 23))  # none of EXT's own test images
    put_distinct(kaggle / "Training" / "notumor", range(30, 33))
    put_distinct(kaggle / "Testing" / "notumor", range(40, 42))
    (kaggle / "Training" / "glioma").mkdir()
    for image in (ext / "Testing" / "glioma").iterdir():  # the set the model was trained on holds EXT's gliomas
        shutil.copy(image, kaggle / "Training" / "glioma" / f"Tr-{image.name}")
    return ext, kaggle


@needs_matplotlib
def test_reference_is_compared_with_instead_of_the_folders_own_training_split(sets: tuple[Path, Path], tmp_path: Path,
                                                                             capsys, stub):  # noqa: F811
    """EXT's own Training split is not what the model trained on: its 5 test images were all called leak-free."""
    ext, kaggle = sets
    out = tmp_path / "out"
    assert run_evaluate(None, str(ext), str(out), progress=False) == 0  # without: EXT's own Training split
    assert json.loads((out / "metrics.json").read_text())["leak_free"]["n_excluded"] == 0
    capsys.readouterr()
    for given in (kaggle, kaggle / "Training"):  # the dataset root, or the split folder itself
        assert run_evaluate(None, str(ext), str(out), progress=False, reference=str(given)) == 0
        printed = capsys.readouterr().out
        assert f"leak-free subset (no near duplicate in {kaggle / 'Training'}, pHash distance > 8): " in printed
        assert "n 3 (2 excluded)" in printed
        lf = json.loads((out / "metrics.json").read_text())["leak_free"]
        assert (lf["n"], lf["n_excluded"], lf["reference"]) == (3, 2, str(kaggle / "Training"))
        assert f"<p>Compared with {kaggle / 'Training'}: a test image" in (out / "report.html").read_text()
    shutil.rmtree(kaggle / "Testing")
    (kaggle / "Training").rename(tmp_path / "classes")  # a folder of class folders, no split
    assert main(["evaluate", "--data", str(ext), "--out", str(out), "--reference", str(tmp_path / "classes"),
                 "--no-progress"]) == 0
    assert f"no near duplicate in {tmp_path / 'classes'}, " in capsys.readouterr().out


@needs_matplotlib
def test_the_note_for_a_folder_without_a_training_split_names_the_flag(sets: tuple[Path, Path], tmp_path: Path,
                                                                      capsys, monkeypatch, stub):  # noqa: F811
    """It said "not computed: ... including any the model may have been trained on" and nothing of how to compute."""
    from braintumor import evaluation_scope

    ext, kaggle = sets
    shutil.rmtree(ext / "Training")
    monkeypatch.setattr(evaluation_scope, "DEFAULT_DATA_ROOT", str(kaggle))  # where the Kaggle set is found
    assert run_evaluate(None, str(ext), str(tmp_path / "out"), progress=False) == 0
    hint = "compares them with the images the shipped model was trained on"
    assert f"including any the model may have been trained on; --reference {kaggle} {hint}\n" in \
        capsys.readouterr().out
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["leak_free_note"].endswith(hint)
    monkeypatch.setattr(evaluation_scope, "DEFAULT_DATA_ROOT", str(tmp_path / "not-fetched"))
    assert run_evaluate(None, str(ext), str(tmp_path / "out"), progress=False) == 0
    assert f"--reference ROOT (the Kaggle set: 'braintumor data download') {hint}" in capsys.readouterr().out


@pytest.mark.parametrize("case", ["missing", "file", "empty", "itself", "links", "no-leak-free", "out-inside"])
def test_a_reference_that_cannot_serve_is_one_line_and_exit_code_2(case: str, sets: tuple[Path, Path],
                                                                  tmp_path: Path, capsys, stub):  # noqa: F811
    ext, kaggle = sets
    out = tmp_path / "out"
    reference, extra, said = str(kaggle), [], ""
    if case == "missing":
        reference, said = str(tmp_path / "nowhere"), f"--reference {tmp_path / 'nowhere'}: no such folder"
    elif case == "file":
        reference, said = str(ext / "Testing" / "glioma" / "img0.png"), ": a file; it takes a folder"
    elif case == "empty":
        (tmp_path / "empty" / "Training" / "glioma").mkdir(parents=True)
        reference, said = str(tmp_path / "empty"), "no images in "
    elif case == "itself":
        reference, said = str(ext / "Testing"), f"holds the evaluated images themselves ({ext / 'Testing'})"
    elif case == "links":  # another folder, the same files
        for image in (ext / "Testing").glob("*/*.png"):
            (tmp_path / "links" / image.parent.name).mkdir(parents=True, exist_ok=True)
            (tmp_path / "links" / image.parent.name / image.name).symlink_to(image)
        reference, said = str(tmp_path / "links"), "holds the evaluated images themselves"
    elif case == "no-leak-free":
        extra, said = ["--no-leak-free"], "that --no-leak-free skips: give one or the other"
    else:  # the output folder written into the reference's Training split: a class 'eval' of it next time
        out, said = kaggle / "Training" / "eval", "is inside the --reference dataset"
    assert main(["evaluate", "--data", str(ext), "--out", str(out), "--reference", reference, "--no-progress",
                 *extra]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and said in err, err
    assert not (out / "metrics.json").exists()
