"""Datasets laid out as other public sets and hospitals lay them out, through the commands a researcher runs on
their own labelled data (train, evaluate, data check): each mistake is one line naming what is wrong."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import encode, needs_torch, synthetic_head

from braintumor.cli import main


def put(folder: Path, n: int = 2, seed: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        (folder / f"img{k}.png").write_bytes(encode(synthetic_head(64, seed=seed + k)))


@pytest.mark.parametrize("command", [pytest.param("train", marks=needs_torch), "evaluate"])
def test_class_folders_of_other_names_are_named_as_unknown_classes(command: str, tmp_path: Path, capsys) -> None:
    """A yes/no set (ROOT/yes, ROOT/no) was told "no 'Training' folder in ROOT (it holds no, yes)", as if its class
    folders were splits; ``data check`` named them as the unknown classes they are."""
    root = tmp_path / "brain"
    put(root / "yes")
    put(root / "no", seed=5)
    out = tmp_path / "out"
    assert main([command, "--data", str(root), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: unknown class folders in {root}: no, yes; expected only glioma, meningioma, notumor, "
                   f"pituitary; rename each to one of them or move it out of {root}\n")
    assert not out.exists()


def test_a_missing_split_beside_another_split_is_named_with_what_to_do(tmp_path: Path, capsys) -> None:
    """"no 'Testing' folder in ROOT (it holds Training)" was all: right, but no word of --split or of --data."""
    root = tmp_path / "brain"
    put(root / "Training" / "glioma")
    assert main(["evaluate", "--data", str(root), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        f"error: no 'Testing' folder in {root} (it holds Training): --split Training evaluates those images (scores "
        "too high if the model was trained on them), or point --data at a folder holding Testing or the class folders "
        "themselves\n")
    put(root / "Validation" / "glioma")
    assert main(["evaluate", "--data", str(root), "--out", str(tmp_path / "out")]) == 2
    assert "(it holds Training, Validation): --split NAME evaluates one of them (" in capsys.readouterr().err


@needs_torch
def test_train_names_its_missing_split_beside_another(tmp_path: Path, capsys) -> None:
    put(tmp_path / "other" / "Testing" / "glioma")
    assert main(["train", "--data", str(tmp_path / "other"), "--out", str(tmp_path / "run")]) == 2
    assert capsys.readouterr().err == f"error: no 'Training' folder in {tmp_path / 'other'} (it holds Testing)\n"


def test_a_missing_split_beside_a_split_and_a_folder_of_loose_images_is_still_named(tmp_path: Path, capsys) -> None:
    """ROOT/Training (class folders) beside ROOT/examples (loose images) was told "unknown class folder(s) in ROOT:
    Training, examples", calling a split a class, since a folder holding images was taken for a class folder."""
    root = tmp_path / "brain"
    put(root / "Training" / "glioma")
    put(root / "examples")
    assert main(["evaluate", "--data", str(root), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err.startswith(f"error: no 'Testing' folder in {root} (it holds Training, examples)")


@pytest.mark.parametrize("empty", [False, True])
@needs_torch
def test_a_set_of_fewer_classes_is_told_training_needs_all_four(empty: bool, tmp_path: Path, capsys) -> None:
    """A three-class set ("Glioma Tumor", "No Tumor", "Pituitary Tumor") was told only "no folder for class
    'meningioma'"; an empty folder made for it then "class 'meningioma' has no images": never that the model is
    four-class, so no folder of theirs could do."""
    root = tmp_path / "brain" / "Training"
    for k, name in enumerate(("Glioma Tumor", "No Tumor", "Pituitary Tumor")):
        put(root / name, seed=10 * k)
    if empty:
        (root / "meningioma").mkdir()
    assert main(["train", "--data", str(root.parent), "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    said = f"class 'meningioma' has no images in {root / 'meningioma'}" if empty else \
        f"no folder for class 'meningioma' in {root}"
    assert err == (f"error: {said}: training a model of the 4 classes (glioma, meningioma, notumor, pituitary), or "
                   "calibrating one, needs images of each\n")
    assert not (tmp_path / "run").exists()


def _mac_unzipped(root: Path, split: str) -> None:
    """A set as unzipping a Mac's zip leaves it: ``__MACOSX`` mirrors the tree with AppleDouble ``._name`` files, at
    the top (the zip's) and inside the split (a zip of its class folders)."""
    for k, name in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
        put(root / split / name, seed=10 * k)
        for mac in (root / "__MACOSX" / split / name, root / split / "__MACOSX" / name):
            mac.mkdir(parents=True, exist_ok=True)
            (mac / "._img0.png").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")


@pytest.mark.parametrize("split", ["", "Training"])
def test_a_macosx_folder_is_passed_over_as_hidden_folders_are(split: str, tmp_path: Path, capsys) -> None:
    """``__MACOSX`` was "an unknown class folder" to train, evaluate and data check/audit, and "no 'Testing' folder
    (it holds Training, __MACOSX)"; it holds no data, as ``.ipynb_checkpoints`` holds none."""
    from braintumor.audit import audit_dataset
    from braintumor.data import load_dataset
    from braintumor.input_plan import plan_inputs
    from braintumor.root_splits import data_folders

    root = tmp_path / "brain"
    _mac_unzipped(root, split)
    dataset = load_dataset(root, split or None)
    assert len(dataset) == 8 and not dataset.ignored and not dataset.loose
    assert data_folders(root, split or None) == [root / split if split else root]
    assert main(["data", "check", "--data", str(root)]) == 0
    assert "__MACOSX" not in capsys.readouterr().err
    assert len(list(plan_inputs([root]))) == 8  # predict FOLDER: the images, no AppleDouble file
    report = audit_dataset(root)
    assert not report["not_images"]
    assert len(report["hidden_files"]) == (8 if split else 4)  # said as hidden files, not data
    if split:
        assert main(["evaluate", "--data", str(root), "--out", str(tmp_path / "out")]) == 2
        assert capsys.readouterr().err.startswith(f"error: no 'Testing' folder in {root} (it holds Training)")


def test_windows_thumbnail_caches_and_folder_settings_are_not_counted_as_files_left_out(tmp_path: Path) -> None:
    """Explorer writes Thumbs.db and desktop.ini (hidden there) into image folders: evaluate and train said "skipped 8
    files that are not images by their name (.db, .ini)" and the report "Not scored: 8 file(s)", as if data had been
    left out. They are passed over as .DS_Store is, and audit lists them as hidden files."""
    from braintumor.audit import audit_dataset
    from braintumor.data import load_dataset

    root = tmp_path / "brain"
    for k, name in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
        put(root / name, seed=10 * k)
        for system in ("Thumbs.db", "desktop.ini", ".DS_Store"):
            (root / name / system).write_bytes(b"\xd0\xcf\x11\xe0")
    (root / "desktop.ini").write_text("[.ShellClassInfo]")
    dataset = load_dataset(root)
    assert len(dataset) == 8 and not dataset.ignored
    report = audit_dataset(root)
    assert not report["not_images"] and len(report["hidden_files"]) == 13


@pytest.mark.parametrize("command", ["data check", "data audit", "evaluate", pytest.param("train", marks=needs_torch)])
def test_a_dataset_one_folder_down_is_named_as_the_folder_to_pass(command: str, tmp_path: Path, capsys) -> None:
    """The Kaggle zip unzipped into a folder of its own (``downloads/archive/Training``) and ``--data downloads`` given:
    data check, audit and train said "unknown class folder in downloads: archive", and evaluate advised ``--split
    archive``, which fails too. Each names the folder holding the splits."""
    root = tmp_path / "downloads"
    for split in ("Training", "Testing"):
        put(root / "archive" / split / "glioma")
    (root / "notes").mkdir()  # another folder beside it, holding no dataset: not named
    out = tmp_path / "out"
    args = [*command.split(), "--data", str(root)] + ([] if command.startswith("data") else ["--out", str(out)])
    assert main(args) == 2
    assert capsys.readouterr().err == (f"error: no class folders in {root}, but {root / 'archive'} holds Testing, "
                                       "Training: pass that folder instead\n")
    assert not out.exists()


def test_a_missing_split_beside_folders_that_are_no_splits_is_not_told_to_read_them(tmp_path: Path, capsys) -> None:
    """``evaluate --data ../shared`` (which holds datasets/brain-tumor-mri/Testing, two levels down) was told "--split
    datasets evaluates those images", which fails too: a folder holding no class folders is no split to name. Only
    the folders that are splits are offered (ROOT/examples of loose images beside ROOT/Training: Training only)."""
    root = tmp_path / "shared"
    put(root / "datasets" / "brain" / "Testing" / "glioma")
    (root / "notes").mkdir()
    assert main(["evaluate", "--data", str(root), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (f"error: no 'Testing' folder in {root} (it holds datasets, notes): point --data "
                                       "at a folder holding Testing or the class folders themselves\n")
    other = tmp_path / "brain"
    put(other / "Training" / "glioma")
    put(other / "examples")
    assert main(["evaluate", "--data", str(other), "--out", str(tmp_path / "out")]) == 2
    assert capsys.readouterr().err == (
        f"error: no 'Testing' folder in {other} (it holds Training, examples): --split Training evaluates those images "
        "(scores too high if the model was trained on them), or point --data at a folder holding Testing or the class "
        "folders themselves\n")
    assert not (tmp_path / "out").exists()


def test_split_folders_in_lower_case_are_read_by_data_check_audit_and_the_leak_check(tmp_path: Path, capsys) -> None:
    """A set unzipped as ROOT/training and ROOT/testing: train and evaluate read them (a split is found as Training or
    training), but data check and data audit called them "unknown class folders in ROOT: testing, training", and
    evaluate said "ROOT has no Training split to look for near duplicates in", leaving out its leak-free metrics."""
    import json

    from braintumor.data import load_dataset
    from braintumor.evaluation_scope import leak_reference

    root = tmp_path / "brain"
    for s, split in enumerate(("training", "testing")):
        for k, name in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
            put(root / split / name, seed=100 * s + 10 * k)
    assert main(["data", "check", "--data", str(root)]) == 0
    assert capsys.readouterr().out == ("Training: 8 images (glioma 2, meningioma 2, notumor 2, pituitary 2)\n"
                                       "Testing: 8 images (glioma 2, meningioma 2, notumor 2, pituitary 2)\n"
                                       "all images decode\n")
    report = tmp_path / "audit.json"
    assert main(["data", "audit", "--data", str(root), "--out", str(report), "--no-progress"]) == 0
    summary = json.loads(report.read_text())["summary"]
    assert summary["leakage"]["test_readable"] == 8
    testing = load_dataset(root, "Testing", allow_missing=True)
    training, note = leak_reference(str(root), testing)
    assert note is None and training is not None and training.root == root / "training" and len(training) == 8
    assert leak_reference(str(root / "testing"), testing)[1] == (
        f"not computed: --data names the split folder itself; --data {root} --split testing compares it with the "
        "Training split beside it")


@pytest.mark.parametrize("nested", [False, True])
@pytest.mark.parametrize("command", ["data check", "data audit", "evaluate"])
def test_a_class_folder_given_as_the_dataset_names_the_folder_to_pass(command: str, nested: bool, tmp_path: Path,
                                                                     capsys) -> None:
    """``--data ROOT/Testing/glioma``: data check and audit said "no class folders in ROOT/Testing/glioma; expected
    glioma, meningioma, ...", its own name among them (of one with a patient's subfolder: "unknown class folder
    ...: patient1"), and evaluate told where labelled images go, never that this is one class's folder and which
    folder to pass instead."""
    glioma = tmp_path / "brain" / "Testing" / "glioma"
    put(glioma / "patient1" if nested else glioma)
    out = tmp_path / "out"
    args = [*command.split(), "--data", str(glioma)] + ([] if command.startswith("data") else ["--out", str(out)])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: unknown class folder in " if nested else "error: no ") and err.endswith(
        f": {glioma} is the folder of class 'glioma' itself: pass the folder holding the class folders, "
        f"{glioma.parent}\n")
    assert not out.exists()


@pytest.mark.parametrize("names", [("train", "test"), ("Training", "Testing", "Validation")])
def test_data_check_and_audit_read_every_split_folder(names: tuple[str, ...], tmp_path: Path, capsys) -> None:
    """A set split as ROOT/train and ROOT/test: evaluate names them as splits ("--split NAME evaluates one of them"),
    but data check and audit called them "unknown class folders in ROOT: test, train"; a ROOT/Validation beside
    Training and Testing was neither counted nor audited, and nothing said it was left out."""
    import json

    root = tmp_path / "brain"
    for s, split in enumerate(names):
        for k, name in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
            put(root / split / name, seed=100 * s + 10 * k)
    expected = ["test", "train"] if names[0] == "train" else list(names)
    assert main(["data", "check", "--data", str(root)]) == 0
    assert capsys.readouterr().out == "".join(
        f"{split}: 8 images (glioma 2, meningioma 2, notumor 2, pituitary 2)\n" for split in expected
    ) + "all images decode\n"
    report = tmp_path / "audit.json"
    assert main(["data", "audit", "--data", str(root), "--out", str(report), "--no-progress"]) == 0
    splits = json.loads(report.read_text())["splits"]
    assert list(splits) == expected and all(split["n_images"] == 8 for split in splits.values())


@pytest.mark.parametrize("command", ["data check", "data audit", "evaluate"])
def test_class_folders_one_folder_too_deep_are_named_with_what_to_do(command: str, tmp_path: Path, capsys) -> None:
    """Testing.zip unzipped into ROOT/Testing (ROOT/Testing/Testing/glioma): "unknown class folder in ROOT/Testing:
    Testing" was all, never that the class folders are there, a folder down."""
    root = tmp_path / "brain"
    for k, name in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
        put(root / "Testing" / "Testing" / name, seed=10 * k)
    out = tmp_path / "out"
    args = [*command.split(), "--data", str(root)] + ([] if command.startswith("data") else ["--out", str(out)])
    assert main(args) == 2
    split = root / "Testing"
    assert capsys.readouterr().err == (
        f"error: unknown class folder in {split}: Testing; expected only glioma, meningioma, notumor, pituitary; "
        f"{split / 'Testing'} holds the class folders (one folder too deep): move them up into {split}, or pass "
        "that folder\n")
    assert not out.exists()


@pytest.mark.parametrize("link", ["training", "Validation"])
def test_a_link_to_a_split_beside_it_is_not_read_as_another_split(link: str, tmp_path: Path, capsys) -> None:
    """ROOT/training -> Training (a link for a tool that wants lower-case names): data check counted Training's
    images twice, once as a split 'training', and data audit called each of them an exact duplicate across splits."""
    root = tmp_path / "brain"
    for s, split in enumerate(("Training", "Testing")):
        for k, name in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
            put(root / split / name, seed=100 * s + 10 * k)
    (root / link).symlink_to("Training")
    assert main(["data", "check", "--data", str(root)]) == 0
    assert capsys.readouterr().out == "".join(
        f"{split}: 8 images (glioma 2, meningioma 2, notumor 2, pituitary 2)\n" for split in ("Training", "Testing")
    ) + "all images decode\n"


@pytest.mark.parametrize("command", ["check", "audit"])
def test_a_folder_of_class_folders_beside_the_class_folders_is_not_read_in_their_place(command: str, tmp_path: Path,
                                                                                        capsys) -> None:
    """ROOT/glioma, ... and a second batch ROOT/batch2/glioma: data check counted batch2 alone, 'all images decode',
    and ROOT's own images were left out without a word (evaluate and train name batch2 as an unknown class folder)."""
    root = tmp_path / "brain"
    for k, name in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
        put(root / name, seed=10 * k)
    put(root / "batch2" / "glioma", seed=50)
    assert main(["data", command, "--data", str(root), "--no-progress"][: 4 if command == "check" else 5]) == 2
    assert capsys.readouterr().err.startswith(f"error: unknown class folder in {root}: batch2; expected only ")


def test_a_split_read_by_its_folder_name_is_printed_as_every_name_is(tmp_path: Path, capsys) -> None:
    """Any folder of class folders is a split to data check and audit, its name printed as it was: a newline in
    it broke their lines in two (and an escape sequence reached the terminal), where every other name is escaped."""
    root = tmp_path / "brain"
    for split in ("Training", "val\nx"):
        for k, name in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
            put(root / split / name, seed=10 * k)
    assert main(["data", "check", "--data", str(root)]) == 0
    assert "val\\nx: 8 images (glioma 2, meningioma 2, notumor 2, pituitary 2)\n" in capsys.readouterr().out
    assert main(["data", "audit", "--data", str(root), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "val\n" not in out and "\nval\\nx: 8 images" in out and "within val\\nx 0" in out
    assert out.endswith("holds Training, val\\nx\n")


@pytest.mark.parametrize("command", ["check", "audit"])
def test_a_folder_of_datasets_names_the_one_holding_the_splits_not_reads_another(command: str, tmp_path: Path,
                                                                                   capsys) -> None:
    """A folder holding the Kaggle set (kaggle/Training, kaggle/Testing) and a hospital's class folders
    (hospital/glioma): data check counted "hospital" as a split of it, exit 0, and the Kaggle set was left out
    without a word; evaluate (and data check before) said which folder to pass."""
    parent = tmp_path / "sets"
    for k, name in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
        put(parent / "kaggle" / "Training" / name, seed=10 * k)
        put(parent / "kaggle" / "Testing" / name, seed=10 * k + 5)
        put(parent / "hospital" / name, seed=10 * k + 7)
    assert main(["data", command, "--data", str(parent), "--no-progress"][: 4 if command == "check" else 5]) == 2
    assert capsys.readouterr().err == (f"error: no class folders in {parent}, but {parent / 'kaggle'} holds Testing, "
                                       "Training: pass that folder instead\n")


def test_a_broken_link_and_a_class_folder_beside_the_splits_are_named_not_passed_over(tmp_path: Path,
                                                                                     capsys) -> None:
    """ROOT/Validation a link leading nowhere, ROOT/glioma beside ROOT/Training and ROOT/Testing, and ROOT/extra (a
    folder of class folders, not read as a split beside ROOT/glioma): data check and audit counted the two splits
    without a word of them, as if those were every image there."""
    from braintumor.audit import audit_dataset

    root = tmp_path / "brain"
    for split in ("Training", "Testing"):
        for c, name in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
            put(root / split / name, n=1, seed=c)
    put(root / "glioma", n=1, seed=7)
    put(root / "extra" / "notumor", n=1, seed=8)
    (root / "Validation").symlink_to(tmp_path / "gone")
    beside = "beside the splits Training, Testing"
    said = [f"not read: {root / 'Validation'} is a broken symbolic link (-> {tmp_path / 'gone'}); fix the link or "
            "remove it",
            f"not read: {root / 'extra'} holds class folders, but {beside} and a class folder it is not read as a "
            "split; move the class folder into a split",
            f"not read: {root / 'glioma'}, a class folder {beside}: its images are in no split; move them into one"]
    assert main(["data", "check", "--data", str(root)]) == 0
    assert "".join(f"{line}\n" for line in said) in capsys.readouterr().out
    assert audit_dataset(root)["not_read"] == said
    assert main(["data", "audit", "--data", str(root), "--no-progress"]) == 0
    assert "".join(f"{line}\n" for line in said) in capsys.readouterr().out
    (root / "Validation").unlink()  # beside ROOT's own class folders: a link of another name is named there too
    root = tmp_path / "own"
    put(root / "glioma", n=1)
    (root / "Validation").symlink_to(tmp_path / "gone")
    assert main(["data", "check", "--data", str(root)]) == 0
    assert f"not read: {root / 'Validation'} is a broken symbolic link" in capsys.readouterr().out


def test_a_link_at_root_into_a_split_is_read_there_not_named_as_not_read(tmp_path: Path, capsys) -> None:
    """ROOT/glioma -> ROOT/Training/glioma (a shortcut beside the splits): data check and audit counted its images in
    Training and yet said "not read: ROOT/glioma, a class folder ...: its images are in no split", which was false."""
    from braintumor.audit import audit_dataset

    root = tmp_path / "brain"
    for s, split in enumerate(("Training", "Testing")):
        for c, name in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
            put(root / split / name, n=1, seed=10 * s + c)
    (root / "glioma").symlink_to(root / "Training" / "glioma")
    (root / "extra").symlink_to(root / "Testing" / "notumor")
    assert main(["data", "check", "--data", str(root)]) == 0
    out = capsys.readouterr().out
    assert "not read" not in out and "Training: 4 images (glioma 1, meningioma 1, notumor 1, pituitary 1)" in out
    assert audit_dataset(root)["not_read"] == []


def test_data_checks_last_line_counts_the_entries_not_read(tmp_path: Path, capsys) -> None:
    """The "not read:" lines came before a last line of "all images decode" alone: a user reading only the end of
    the output (``| tail -1``) saw no sign of images left out. The exit code stays 0: they are notes, not failures."""
    root = tmp_path / "brain"
    for s, split in enumerate(("Training", "Testing")):
        for c, name in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
            put(root / split / name, n=1, seed=10 * s + c)
    put(root / "glioma", n=1, seed=7)
    assert main(["data", "check", "--data", str(root)]) == 0
    last = f"all images decode; 1 entry in {root} not read (the 'not read:' line above)\n"
    assert capsys.readouterr().out.endswith(last)
    (root / "Validation").symlink_to(tmp_path / "gone")
    (root / "Testing" / "notumor" / "bad.png").write_bytes(b"not a png")
    assert main(["data", "check", "--data", str(root)]) == 1
    assert capsys.readouterr().out.endswith(f"1 unreadable image: it is skipped in training; 2 entries in {root} not "
                                            "read (the 'not read:' lines above)\n")


def test_a_link_at_root_into_a_split_does_not_stop_a_validation_split_being_read(tmp_path: Path, capsys) -> None:
    """ROOT/glioma -> ROOT/Training/glioma beside Training, Testing and Validation: the link's class name made ROOT
    look like a folder of its own class folders, so Validation was not read as a split (and was named "not read")."""
    root = tmp_path / "brain"
    for s, split in enumerate(("Training", "Testing", "Validation")):
        for c, name in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
            put(root / split / name, n=1, seed=10 * s + c)
    (root / "glioma").symlink_to(root / "Training" / "glioma")
    assert main(["data", "check", "--data", str(root)]) == 0
    out = capsys.readouterr().out
    assert "Validation: 4 images (glioma 1, meningioma 1, notumor 1, pituitary 1)\n" in out and "not read" not in out
