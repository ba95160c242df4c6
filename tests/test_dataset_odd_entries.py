"""``data audit``, ``evaluate`` and train's data loading given a class-folder dataset as a shared drive holds one:
a named pipe or a device named like an image, a class folder of hidden files only, links that lead nowhere, in a
loop or out of the dataset, empty files, text named .jpg, files removed between listing and reading. Each is named
once in the command's own notes, the counts add up, nothing hangs and nothing is a traceback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from conftest import encode, needs_torch, synthetic_head
from evaluate_fakes import needs_matplotlib

from braintumor import image_io
from braintumor.audit import audit_dataset
from braintumor.cli import main
from braintumor.data import load_dataset
from braintumor.model_files import default_model_path
from braintumor.prepared_images import load_prepared
from braintumor.preprocess import PreprocessConfig

CLASSES = ("glioma", "meningioma", "notumor", "pituitary")
MODEL = default_model_path()
needs_model = pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")
needs_fifo = pytest.mark.skipif(not hasattr(os, "mkfifo") or not Path("/dev/zero").exists(),
                                reason="no named pipes or /dev/zero on this system")


def _dataset(root: Path, per_class: int = 2, split: str = "Testing") -> Path:
    """ROOT/SPLIT/<class>/img<k>.png, ``per_class`` readable images each; returns the split folder."""
    for c, name in enumerate(CLASSES):
        (root / split / name).mkdir(parents=True)
        for k in range(per_class):
            (root / split / name / f"img{k}.png").write_bytes(encode(synthetic_head(96, seed=10 * c + k)))
    return root / split


def _special(split: Path) -> list[Path]:
    """A FIFO nothing writes to and a link to /dev/zero, both named like images, in the glioma folder."""
    fifo, zero = split / "glioma" / "fifo.jpg", split / "glioma" / "zero.png"
    os.mkfifo(fifo)
    os.symlink("/dev/zero", zero)
    return [fifo, zero]


@needs_fifo
def test_pipes_and_devices_in_class_folders_are_named_by_audit_and_train(tmp_path: Path, capsys) -> None:
    """The audit counted 8 of 10 files and listed neither the pipe nor the device anywhere; train said nothing."""
    split = _dataset(tmp_path)
    special = _special(split)
    dataset = load_dataset(tmp_path, "Testing", allow_missing=True)
    assert len(dataset) == 8 and dataset.special == special
    report = audit_dataset(tmp_path)
    assert report["special_files"] == ["Testing/glioma/fifo.jpg", "Testing/glioma/zero.png"]
    assert report["splits"]["Testing"]["n_images"] + len(report["special_files"]) == 10
    assert main(["data", "audit", "--data", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert ("pipes and devices (not read: reading one may never end): 2: Testing/glioma/fifo.jpg, "
            "Testing/glioma/zero.png") in printed
    from braintumor.evaluation_scope import dataset_notes

    _, kept = load_prepared(dataset, PreprocessConfig(image_size=32), tmp_path / "cache")  # train's decoding
    notes = dataset_notes(kept)
    assert notes == [f"skipped 2 files that are pipes or devices, not image files (reading one may never end): "
                     f"{special[0]}, {special[1]}"]


@needs_fifo
@needs_model
@needs_matplotlib
def test_evaluate_names_pipes_and_devices_in_class_folders(tmp_path: Path, capsys) -> None:
    split = _dataset(tmp_path, per_class=1)
    special = _special(split)
    rc = main(["evaluate", "--data", str(tmp_path), "--out", str(tmp_path / "out"), "--no-progress",
               "--no-leak-free", "--model", str(MODEL)])
    err = capsys.readouterr().err
    assert rc == 0
    assert (f"skipped 2 files that are pipes or devices, not image files (reading one may never end): "
            f"{special[0]}, {special[1]}") in err
    assert "Not scored: 2 pipes or devices" in (tmp_path / "out" / "report.html").read_text()


def _hidden_only(split: Path) -> Path:
    """The meningioma folder holding only what a Mac and Jupyter leave: no image a command reads."""
    folder = split / "meningioma"
    for p in folder.iterdir():
        p.unlink()
    (folder / ".scan.png").write_bytes(encode(synthetic_head(96)))
    (folder / "._scan.png").write_bytes(b"\0\5\26\7")
    (folder / ".ipynb_checkpoints").mkdir()
    (folder / ".ipynb_checkpoints" / "scan-checkpoint.png").write_bytes(encode(synthetic_head(96)))
    return folder


@needs_torch
def test_a_class_folder_of_hidden_files_only_says_they_were_skipped(tmp_path: Path, capsys) -> None:
    """train said "class 'meningioma' has no images in ..." of a folder whose three files ls -a lists, never that
    they were there and passed over as hidden."""
    folder = _hidden_only(_dataset(tmp_path, split="Training"))
    said = "skipped 3 hidden files, which are never data: ._scan.png, .ipynb_checkpoints/scan-checkpoint.png, .scan.png"
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "run")]) == 2  # stops at the listing
    assert capsys.readouterr().err == (f"error: class 'meningioma' has no images in {folder} ({said}): training a "
                                       "model of the 4 classes (glioma, meningioma, notumor, pituitary), or "
                                       "calibrating one, needs images of each\n")
    assert not (tmp_path / "run").exists()
    dataset = load_dataset(tmp_path, "Training", allow_missing=True)
    assert dataset.counts()["meningioma"] == 0 and dataset.hidden == {"meningioma": said}


@needs_torch
def test_a_class_folder_of_dicom_files_only_says_they_were_not_read(tmp_path: Path, capsys) -> None:
    """A class folder of a scanner's DICOM export was "class 'meningioma' has no images in ...", not a word of the
    files there nor that train reads image files only (the note that says so came only where some class had images)."""
    folder = _dataset(tmp_path, split="Training") / "meningioma"
    for p in folder.iterdir():
        p.unlink()
    for k in range(2):
        (folder / f"IM{k}.dcm").write_bytes(b"\0" * 128 + b"DICM")
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "run")]) == 2  # stops at the listing
    assert capsys.readouterr().err == (
        f"error: class 'meningioma' has no images in {folder} (skipped 2 files that are not images by their name "
        f"(.dcm), e.g. {folder / 'IM0.dcm'}; DICOM and NIfTI files are read by 'braintumor predict' only (see "
        "docs/SCANS.md), evaluate and train read image files): training a model of the 4 classes (glioma, meningioma, "
        "notumor, pituitary), or calibrating one, needs images of each\n")
    assert not (tmp_path / "run").exists()


def test_data_check_says_a_class_folder_held_hidden_files_only(tmp_path: Path, capsys) -> None:
    """data check counted "meningioma 0" without a word of the three files there, which evaluate and train name."""
    _hidden_only(_dataset(tmp_path))
    assert main(["data", "check", "--data", str(tmp_path)]) == 0
    assert capsys.readouterr().out == (
        "Testing: 6 images (glioma 2, meningioma 0, notumor 2, pituitary 2)\n"
        "  meningioma: skipped 3 hidden files, which are never data: ._scan.png, "
        ".ipynb_checkpoints/scan-checkpoint.png, .scan.png\nall images decode\n")


@needs_model
@needs_matplotlib
def test_evaluate_says_a_class_folder_held_hidden_files_only(tmp_path: Path, capsys) -> None:
    split = _dataset(tmp_path, per_class=1)
    _hidden_only(split)
    rc = main(["evaluate", "--data", str(tmp_path), "--out", str(tmp_path / "out"), "--no-progress",
               "--no-leak-free", "--model", str(MODEL)])
    out = capsys.readouterr().out
    assert rc == 0
    assert (f"no images of meningioma in {split} (meningioma: skipped 3 hidden files, which are never data: "
            "._scan.png, .ipynb_checkpoints/scan-checkpoint.png, .scan.png): their recall and AUC are n/a") in out


@needs_model
@needs_matplotlib
def test_evaluate_of_class_folders_holding_only_hidden_files_says_so_in_its_error(tmp_path: Path, capsys) -> None:
    """"no images in ROOT's class folders" of four folders of .scan.png files: as if they were empty."""
    split = _dataset(tmp_path, per_class=1)
    for name in CLASSES:
        (split / name / "img0.png").rename(split / name / ".img0.png")
    rc = main(["evaluate", "--data", str(tmp_path), "--out", str(tmp_path / "out"), "--no-progress",
               "--no-leak-free", "--model", str(MODEL)])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith(f"error: no images in {split}'s class folders (")
    assert err.endswith("; skipped 4 hidden files, which are never data: glioma/.img0.png, "
                        "meningioma/.img0.png, notumor/.img0.png and 1 more\n")


@needs_model
def test_predict_of_a_folder_of_hidden_files_only_says_they_were_skipped(tmp_path: Path, capsys) -> None:
    """"no images found in folder" of a class folder copied off a Mac: its ._scan.png and .scan.png went unsaid."""
    import json

    folder = _hidden_only(_dataset(tmp_path, per_class=1))
    assert main(["predict", str(folder), "--format", "jsonl", "--model", str(MODEL)]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records == [{"path": str(folder), "error": "no image or scan found in the folder (skipped 3 hidden files, "
                        "which are never data: ._scan.png, .ipynb_checkpoints/scan-checkpoint.png, .scan.png)"}]


def _odd_entries(split: Path, outside: Path) -> dict[str, str]:
    """Every odd entry a shared drive's class folder may hold, each with the reason it is not read (None: read)."""
    glioma = split / "glioma"
    os.symlink(glioma / "nowhere.png", glioma / "broken.png")
    os.symlink(glioma / "loop2.png", glioma / "loop1.png")
    os.symlink(glioma / "loop1.png", glioma / "loop2.png")
    (glioma / "empty.jpg").write_bytes(b"")
    (glioma / "text.jpg").write_text("scan of 3 May: see the PACS")
    outside.mkdir()
    (outside / "far.png").write_bytes(encode(synthetic_head(96, seed=77)))
    os.symlink(outside, glioma / "linked")  # a folder linked in from elsewhere: read, as its own images
    return {"glioma/broken.png": f"broken symbolic link: {glioma / 'broken.png'} -> {glioma / 'nowhere.png'}",
            "glioma/empty.jpg": "file is empty (0 bytes)",
            "glioma/loop1.png": f"symbolic link loop: {glioma / 'loop1.png'}",
            "glioma/loop2.png": f"symbolic link loop: {glioma / 'loop2.png'}",
            "glioma/text.jpg": "not a recognised image: expected JPEG, PNG, BMP, TIFF or WebP content"}


def _vanishing(monkeypatch: pytest.MonkeyPatch, victim: Path) -> None:
    """``victim`` is removed after the reader found it there and before it reads it (another user's clean-up)."""
    read = image_io.read_limited

    def removed_then(path: Path, limit: int, check: object = None) -> bytes:  # (check: read_file's refusals)
        if path == victim and os.path.lexists(victim):
            victim.unlink()
        return read(path, limit, check)

    monkeypatch.setattr(image_io, "read_limited", removed_then)


def test_odd_entries_are_each_named_once_by_audit_and_trains_loading(tmp_path: Path, monkeypatch) -> None:
    split = _dataset(tmp_path / "data")
    odd = _odd_entries(split, tmp_path / "elsewhere")
    gone = split / "notumor" / "img1.png"
    odd["notumor/img1.png"] = f"file not found: {gone}"
    _vanishing(monkeypatch, gone)
    report = audit_dataset(tmp_path / "data")
    unreadable = {u["path"].removeprefix("Testing/"): u["error"] for u in report["unreadable"]}
    assert unreadable == odd
    assert report["splits"]["Testing"]["n_images"] == 8 + 5 + 1  # the linked folder's image is read
    assert report["splits"]["Testing"]["n_readable"] == 8 + 1 - 1

    (split / "notumor" / "img1.png").write_bytes(encode(synthetic_head(96, seed=21)))
    _vanishing(monkeypatch, gone)
    dataset = load_dataset(tmp_path / "data", "Testing")
    _, kept = load_prepared(dataset, PreprocessConfig(image_size=32), tmp_path / "cache")  # train's decoding
    assert {p.relative_to(split).as_posix(): m for p, m in kept.skipped} == odd
    assert len(kept) + len(kept.skipped) == len(dataset) == 14


@needs_model
@needs_matplotlib
def test_evaluate_names_each_odd_entry_once_and_scores_the_rest(tmp_path: Path, capsys, monkeypatch) -> None:
    import json

    split = _dataset(tmp_path / "data", per_class=1)
    odd = _odd_entries(split, tmp_path / "elsewhere")
    gone = split / "notumor" / "img0.png"
    odd["notumor/img0.png"] = f"file not found: {gone}"
    _vanishing(monkeypatch, gone)
    rc = main(["evaluate", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--no-progress",
               "--no-leak-free", "--model", str(MODEL)])
    out, err = capsys.readouterr()
    assert rc == 0 and "Traceback" not in err
    assert "n 4 (6 unreadable, skipped)" in out
    data = json.loads((tmp_path / "out" / "metrics.json").read_text())["data"]
    assert {Path(p).relative_to(split).as_posix(): m for p, m in data["errors"]} == odd
    assert data["n_images"] == 10


@pytest.fixture
def locked(monkeypatch):
    """Folders named ``locked`` can be neither listed nor searched (no permissions), as for anyone but root (the tests
    may run as root, so the refusal is simulated): what a dataset on a share of another group's gives."""
    real_stat, real_scandir, real_listdir = os.stat, os.scandir, os.listdir

    def refused(path) -> None:
        raise PermissionError(13, "Permission denied", os.fspath(path))

    def stat(path, *args, **kwargs):
        if not isinstance(path, int) and Path(os.fspath(path)).parent.name == "locked":
            refused(path)
        return real_stat(path, *args, **kwargs)

    def scandir(path="."):
        if not isinstance(path, int) and Path(os.fspath(path)).name == "locked":
            refused(path)
        return real_scandir(path)

    def listdir(path="."):  # (Path.iterdir's, before Python 3.13)
        if not isinstance(path, int) and Path(os.fspath(path)).name == "locked":
            refused(path)
        return real_listdir(path)

    monkeypatch.setattr(os, "stat", stat)
    monkeypatch.setattr(os, "scandir", scandir)
    monkeypatch.setattr(os, "listdir", listdir)


@pytest.mark.parametrize("command", [["data", "audit", "--no-progress"], ["data", "check"], ["evaluate", "--out", "ev"],
                                     ["evaluate", "--out", "ev", "--split", "locked"]])
def test_a_dataset_folder_that_cannot_be_read_is_named_in_one_line(tmp_path: Path, capsys, locked, monkeypatch,
                                                                   command) -> None:
    """--data naming a folder without permissions was "error: Permission denied: ROOT/Training" (a folder that is not
    there; exit status 1), and evaluate of an unreadable split "error: [Errno 13] Permission denied: 'ROOT/...'"."""
    monkeypatch.chdir(tmp_path)
    if "--split" in command:
        root, folder = Path("ds"), Path("ds") / "locked"
        _dataset(root)
        folder.mkdir()
    else:
        root = folder = Path("locked")
        _dataset(root)
    assert main([*command, "--data", str(root)]) == 2
    assert capsys.readouterr().err == f"error: cannot read folder {folder}: Permission denied\n"
    assert not Path("ev").exists()


@pytest.mark.parametrize("which", ["class", "split"])
@pytest.mark.parametrize("command", ["data audit --no-progress", "data check", "evaluate --out ev"])
def test_a_class_or_split_folder_that_is_a_broken_link_is_named_not_passed_over(tmp_path: Path, capsys, command: str,
                                                                                which: str, monkeypatch) -> None:
    """Testing/glioma a link whose folder has moved: no folder, so it was passed over, and evaluate scored the other
    classes with "no images of glioma", data check and audit counted "glioma 0", while ``ls`` listed glioma. So was
    a Testing split linked so: data check and audit counted Training alone, evaluate said "it holds Training"."""
    split = _dataset(tmp_path / "ds")
    _dataset(tmp_path / "ds", split="Training")
    moved = split / "glioma" if which == "class" else split
    moved.rename(tmp_path / "moved")
    moved.symlink_to(tmp_path / "gone")
    monkeypatch.chdir(tmp_path)
    assert main([*command.split(), "--data", str(tmp_path / "ds")]) == 2
    assert capsys.readouterr().err == (f"error: {which} folder {moved} is a broken symbolic link (-> "
                                       f"{tmp_path / 'gone'}): its images cannot be read; fix the link or remove it\n")
    assert not (tmp_path / "ev").exists()


def _oversized(split: Path) -> tuple[Path, str]:
    """A 10000x10000 PNG (its header only: refused before any pixel) in the glioma folder, and what it is told."""
    from test_image_refusals import _png_header_only

    from braintumor.wording import DATASET_DOWNSCALE

    big = split / "glioma" / "big.png"
    big.write_bytes(_png_header_only(10_000, 10_000))
    return big, f"image is 10000x10000 pixels; the limit is 40,000,000 pixels: {DATASET_DOWNSCALE}"


def test_an_image_past_the_pixel_limit_in_a_dataset_is_told_to_downscale_or_remove_it(tmp_path: Path,
                                                                                     capsys) -> None:
    """A dataset's image past the pixel limit was told "... downscale it ... and send it again", an upload's advice,
    by train, data check and audit: there is nothing to send; it is downscaled or removed from the dataset."""
    big, said = _oversized(_dataset(tmp_path))
    assert said.endswith(" or remove it from the dataset")
    dataset = load_dataset(tmp_path, "Testing", allow_missing=True)
    for _ in range(2):  # decoded, then read back from the cache (which holds the readers' own words)
        _, kept = load_prepared(dataset, PreprocessConfig(image_size=32), tmp_path / "cache")  # train's decoding
        assert kept.skipped == [(big, said)]
    assert audit_dataset(tmp_path)["unreadable"] == [{"path": "Testing/glioma/big.png", "error": said}]
    assert main(["data", "check", "--data", str(tmp_path)]) == 1
    assert f"  unreadable: {big}: {said}\n" in capsys.readouterr().out


@needs_model
@needs_matplotlib
def test_evaluate_tells_an_image_past_the_pixel_limit_to_downscale_or_remove_it(tmp_path: Path, capsys) -> None:
    import json

    big, said = _oversized(_dataset(tmp_path / "data", per_class=1))
    rc = main(["evaluate", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "out"), "--no-progress",
               "--no-leak-free", "--model", str(MODEL)])
    assert rc == 0 and "send it again" not in capsys.readouterr().err
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["data"]["errors"] == [[str(big), said]]


@needs_model
@needs_matplotlib
def test_a_training_split_that_is_a_broken_link_says_the_leak_check_can_be_skipped(tmp_path: Path, capsys,
                                                                                  monkeypatch) -> None:
    """ROOT/Training a link whose folder has moved, ROOT/Testing evaluated: the error named the link, but not that
    only the leak-free metrics need it (an unreadable Training split says "--no-leak-free skips them"); beside --data
    ROOT/Testing, which never reads it, it stopped the evaluation."""
    _dataset(tmp_path / "ds")
    (tmp_path / "ds" / "Training").symlink_to(tmp_path / "gone")
    monkeypatch.chdir(tmp_path)
    assert main(["evaluate", "--out", "ev", "--data", "ds"]) == 2
    assert capsys.readouterr().err.endswith("fix the link or remove it (needed for the leak-free metrics; "
                                            "--no-leak-free skips them)\n")
    assert main(["evaluate", "--out", "ev", "--data", "ds", "--no-leak-free", "--no-progress"]) == 0
    assert main(["evaluate", "--out", "ev2", "--data", "ds/Testing", "--no-progress"]) == 0  # Training is not read


def _undecodable(split: Path) -> tuple[Path, str]:
    """A WEBP of damaged data (its VP8 frame's start code zeros) in the glioma folder, and what it is told."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(synthetic_head(96, seed=3)).save(buf, "WEBP")
    data = buf.getvalue()
    bad = split / "glioma" / "bad.webp"
    bad.write_bytes(data[:23] + bytes(4) + data[27:])
    return bad, image_io.UNDECODABLE.replace("save it again as PNG and send that",
                                             "save it again as PNG or remove it from the dataset")


def test_an_undecodable_dataset_file_is_told_to_save_it_again_or_remove_it(tmp_path: Path, capsys) -> None:
    """A dataset's file no decoder reads was told "... save it again as PNG and send that", an upload's advice, by
    train, data check and audit (the pixel limit's words were already a dataset's): there is nothing to send."""
    bad, said = _undecodable(_dataset(tmp_path))
    assert image_io.UNDECODABLE.endswith("and send that") and said.endswith("or remove it from the dataset")
    dataset = load_dataset(tmp_path, "Testing", allow_missing=True)
    for _ in range(2):  # decoded, then read back from the cache
        _, kept = load_prepared(dataset, PreprocessConfig(image_size=32), tmp_path / "cache")
        assert kept.skipped == [(bad, said)]
    assert audit_dataset(tmp_path)["unreadable"] == [{"path": "Testing/glioma/bad.webp", "error": said}]
    assert main(["data", "check", "--data", str(tmp_path)]) == 1
    assert f"  unreadable: {bad}: {said}\n" in capsys.readouterr().out


def test_data_check_tells_a_too_small_dataset_image_to_use_the_original_or_remove_it(tmp_path: Path, capsys) -> None:
    """data check's "too small" lines said "(send the original slice, not a thumbnail)", an upload's advice, of a
    dataset's file: there is nothing to send; the original slice is used instead or the file removed."""
    from braintumor.wording import too_small_text

    small = _dataset(tmp_path) / "glioma" / "small.png"
    small.write_bytes(encode(synthetic_head(32, seed=5)))
    assert too_small_text(32, 32, 64).endswith("(send the original slice, not a thumbnail)")  # predict keeps it
    assert main(["data", "check", "--data", str(tmp_path)]) == 1
    assert (f"  too small: {small}: image is 32x32 pixels; at least 64x64 needed: smaller images lose the detail the "
            "model reads (use the original slice, or remove it from the dataset)\n") in capsys.readouterr().out
