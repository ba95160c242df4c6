"""Leakage audit: hashing, pair search, exact counts on a built tree, and the real dataset's overlap."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO, encode
from PIL import Image

from braintumor.audit import audit_dataset
from braintumor.cli import main
from braintumor.data import load_dataset
from braintumor.image_hashes import close_pairs, hash_images, leak_free_mask, perceptual_hash


def blob(seed: int, size: int = 128) -> np.ndarray:
    """A smooth random image (upsampled noise): unrelated seeds give unrelated hashes."""
    small = np.random.default_rng(seed).integers(0, 256, (8, 8), dtype=np.uint8)
    return np.asarray(Image.fromarray(small).resize((size, size), Image.Resampling.BICUBIC))


def recompressed(arr: np.ndarray) -> bytes:
    """The same picture, resized a little and saved as a JPEG: not pixel-identical, still a near duplicate."""
    buf = io.BytesIO()
    Image.fromarray(arr).resize((120, 120), Image.Resampling.BILINEAR).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def build_tree(root: Path) -> Path:
    """9 Training and 8 Testing files with every trap the real dataset has, and a label conflict it has not."""
    seeds = {"glioma": (1, 2), "meningioma": (3, 4), "notumor": (5, 6), "pituitary": (7, 8)}
    for name, pair in seeds.items():
        (root / "Training" / name).mkdir(parents=True)
        (root / "Testing" / name).mkdir(parents=True)
        for s in pair:
            arr = blob(s)
            img = np.stack([arr] * 3, axis=-1) if name == "pituitary" else arr  # 2 RGB among 7 L
            (root / "Training" / name / f"tr{s}.png").write_bytes(encode(img))
    train, test = root / "Training", root / "Testing"
    shutil.copy(train / "glioma" / "tr2.png", train / "glioma" / "tr2-copy.png")  # exact, within Training
    for name, seed in (("glioma", 11), ("meningioma", 12), ("notumor", 13), ("pituitary", 14)):
        (test / name / f"te{seed}.png").write_bytes(encode(blob(seed)))
    shutil.copy(train / "glioma" / "tr1.png", test / "glioma" / "tr1.png")  # exact, across splits
    (test / "meningioma" / "tr3-small.jpg").write_bytes(recompressed(blob(3)))  # near, across splits
    shutil.copy(train / "notumor" / "tr5.png", test / "pituitary" / "tr5.png")  # exact, across, label conflict
    (test / "notumor" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")  # unreadable
    (test / "meningioma" / ".ipynb_checkpoints").mkdir()
    shutil.copy(test / "meningioma" / "te12.png", test / "meningioma" / ".ipynb_checkpoints" / "te12-checkpoint.png")
    (train / ".DS_Store").write_bytes(b"\0")
    return root


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tree(tmp_path_factory.mktemp("audit"))


def test_hashes_see_through_recompression_not_across_images():
    a, b = blob(3), blob(4)
    near = np.asarray(Image.open(io.BytesIO(recompressed(a))).convert("L"))
    for kind in ("phash", "dhash"):
        ha, hb, hn = (perceptual_hash(x, kind) for x in (a, b, near))
        assert ha.shape == (32,) and ha.dtype == np.uint8
        d = lambda x, y: int(np.unpackbits(x ^ y).sum())  # noqa: E731
        assert d(ha, hn) <= 8 < 60 < d(ha, hb), kind
    with pytest.raises(ValueError, match="unknown hash"):
        perceptual_hash(a, "ahash")


def test_close_pairs_agrees_with_brute_force():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 256, (40, 32), dtype=np.uint8)
    h = np.concatenate([base, base[:10] ^ np.uint8(1)])  # rows 40..49: 0 to 32 bits from rows 0..9
    h[45:, :4] ^= np.uint8(0xFF)  # rows 45..49: a further 32 bits away
    bits = np.unpackbits(h, axis=1).astype(int)
    brute = np.abs(bits[:, None, :] - bits[None, :, :]).sum(-1)
    for threshold in (0, 32, 64, 130):
        i, j, d = close_pairs(h, None, threshold)
        want = {(a, b) for a in range(50) for b in range(a + 1, 50) if brute[a, b] <= threshold}
        assert set(zip(i.tolist(), j.tolist(), strict=True)) == want
        assert all(brute[a, b] == dist for a, b, dist in zip(i, j, d, strict=True))
        i, j, _ = close_pairs(h[:40], h[40:], threshold)
        assert set(zip(i.tolist(), j.tolist(), strict=True)) == {
            (a, b - 40) for a in range(40) for b in range(40, 50) if brute[a, b] <= threshold}
    assert len(close_pairs(h[:0], None, 8)[0]) == 0


def test_audit_counts_on_a_built_tree(tree: Path):
    report = audit_dataset(tree)
    s = report["summary"]
    assert report["splits"]["Training"]["n_images"] == 9 and report["splits"]["Testing"]["n_images"] == 8
    assert report["splits"]["Training"]["modes"] == {"L": 7, "RGB": 2}
    assert report["splits"]["Testing"]["sizes"] == {"128x128": 6, "120x120": 1}
    testing = report["splits"]["Testing"]
    assert testing["min_size"] == [120, 120] and testing["max_size"] == [128, 128] and testing["n_readable"] == 7
    assert report["hidden_files"] == ["Testing/meningioma/.ipynb_checkpoints/te12-checkpoint.png", "Training/.DS_Store"]
    assert [u["path"] for u in report["unreadable"]] == ["Testing/notumor/broken.jpg"]
    assert s["exact_groups"] == {"Training": 1, "Testing": 0, "cross-split": 2}
    assert s["near_pairs"] == {"Training": 1, "Testing": 0, "cross-split": 3}
    assert s["label_conflicts"] == {"exact": 1, "near": 1}
    assert report["label_conflicts"]["exact"][0]["paths"] == ["Training/notumor/tr5.png", "Testing/pituitary/tr5.png"]
    near = [p for p in report["near_duplicates"] if not p["exact"]]
    assert [(p["a"], p["b"]) for p in near] == [("Training/meningioma/tr3.png", "Testing/meningioma/tr3-small.jpg")]
    leak = s["leakage"]
    assert (leak["test_readable"], leak["test_with_train_near_duplicate"], leak["test_with_train_exact_duplicate"],
            leak["test_leak_free"]) == (7, 3, 2, 4)
    assert {c: v["with_train_near_duplicate"] for c, v in leak["per_class"].items()} == {
        "glioma": 1, "meningioma": 1, "notumor": 0, "pituitary": 1}

    # per class out of the readable test images, as the headline count: the broken notumor file has no duplicate
    assert {c: v["total"] for c, v in leak["per_class"].items()} == {
        "glioma": 2, "meningioma": 2, "notumor": 1, "pituitary": 2}

    # A threshold of 0 keeps only the pixel-identical pairs.
    assert audit_dataset(tree, threshold=0)["summary"]["leakage"]["test_with_train_near_duplicate"] == 2


def test_leak_free_mask_matches_the_audit(tree: Path, tmp_path: Path):
    test, train = load_dataset(tree, "Testing"), load_dataset(tree, "Training")
    mask = leak_free_mask(test, train, cache_dir=tmp_path)
    names = {p.name: bool(m) for p, m in zip(test.paths, mask, strict=True)}
    assert names == {"te11.png": True, "tr1.png": False, "te12.png": True, "tr3-small.jpg": False,
                     "broken.jpg": False, "te13.png": True, "te14.png": True, "tr5.png": False}
    assert len(list(tmp_path.glob("hashes-*.npz"))) == 2 and not list(tmp_path.glob("*.tmp*"))
    assert np.array_equal(leak_free_mask(test, train, cache_dir=tmp_path), mask)  # from the cache
    (tmp_path / "a-file").write_text("not a folder")
    assert np.array_equal(leak_free_mask(test, train, cache_dir=tmp_path / "a-file"), mask)  # cache not writable
    broken = hash_images([tree / "Testing" / "notumor" / "broken.jpg"])
    assert not broken.ok[0] and broken.errors[0] and broken.digests[0] == ""


def test_the_hash_cache_follows_the_order_of_the_images(tree: Path, tmp_path: Path):
    """The cache key named the files but not their order: the same test images in another order got the first
    order's hashes back, and so another image's leak-free flag."""
    test, train = load_dataset(tree, "Testing"), load_dataset(tree, "Training")
    leak_free_mask(test, train, cache_dir=tmp_path)  # fills the cache in the listed order
    reverse = test.subset(np.arange(len(test))[::-1])
    assert np.array_equal(leak_free_mask(reverse, train, cache_dir=tmp_path),
                          leak_free_mask(reverse, train, cache_dir=tmp_path / "fresh"))


def test_files_in_class_folders_that_are_not_read_as_images_are_listed(tmp_path: Path, capsys):
    """A DICOM file or a .gif in a class folder was neither audited nor listed: the audit looked complete."""
    for name in ("glioma", "notumor"):
        (tmp_path / "Testing" / name).mkdir(parents=True)
    (tmp_path / "Testing" / "glioma" / "a.png").write_bytes(encode(blob(1)))
    (tmp_path / "Testing" / "glioma" / "scan.dcm").write_bytes(b"\0" * 132 + b"DICM")
    (tmp_path / "Testing" / "notumor" / "b.gif").write_bytes(b"GIF89a")
    (tmp_path / "README.md").write_text("about the data")  # beside the splits: not in a class folder
    (tmp_path / "Testing" / "unsorted.png").write_bytes(encode(blob(2)))  # beside the class folders: no class
    report = audit_dataset(tmp_path)
    assert report["not_images"] == ["Testing/glioma/scan.dcm", "Testing/notumor/b.gif"]
    assert report["outside_class_folders"] == ["Testing/unsorted.png"]
    assert main(["data", "audit", "--data", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert ("not read as images (.bmp, .jfif, .jpe, .jpeg, .jpg, .png, .tif, .tiff, .webp only): 2: "
            "Testing/glioma/scan.dcm, Testing/notumor/b.gif") in printed
    assert "images beside the class folders (no class, not audited): 1: Testing/unsorted.png" in printed


def test_a_split_without_readable_images_shows_no_invented_size(tmp_path: Path, capsys):
    """It printed "0 sizes, 0x0 .. 0x0" for class folders holding nothing readable."""
    (tmp_path / "Testing" / "glioma").mkdir(parents=True)
    (tmp_path / "Testing" / "glioma" / "broken.jpg").write_bytes(b"\xff\xd8\xff\xe0 not a jpeg")
    assert main(["data", "audit", "--data", str(tmp_path), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert ("Testing: 1 file (glioma 1, meningioma 0, notumor 0, pituitary 0), 1 unreadable; no readable image"
            in printed)
    assert "0x0" not in printed


def test_a_split_with_unreadable_files_counts_them_as_files_not_images(tree: Path, tmp_path: Path, capsys):
    """"Testing: 8 images (...)" counted an unreadable file as an image, and "unreadable: 1" followed: the line says
    "8 files (...), 1 unreadable" and the JSON gives each split's n_unreadable beside n_images (files) and n_readable;
    a split with every file readable keeps "N images"."""
    out = tmp_path / "audit.json"
    assert main(["data", "audit", "--data", str(tree), "--out", str(out), "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("Training: 9 images (")
    assert lines[2].startswith("Testing: 8 files (glioma 2, meningioma 2, notumor 2, pituitary 2), 1 unreadable; ")
    testing = json.loads(out.read_text())["splits"]["Testing"]
    assert (testing["n_images"], testing["n_readable"], testing["n_unreadable"]) == (8, 7, 1)


def test_cli_prints_a_summary_and_writes_json(tree: Path, tmp_path: Path, capsys):
    out = tmp_path / "audit.json"
    assert main(["data", "audit", "--data", str(tree), "--out", str(out), "--no-progress"]) == 0
    printed = capsys.readouterr().out
    assert "leakage: 3 of 7 Testing images have a near duplicate in Training (2 pixel-identical)" in printed
    assert "hidden files (not data): 2" in printed and "unreadable: 1" in printed
    assert "label conflicts (same image, different class): 1 exact group, 1 near pair" in printed
    report = json.loads(out.read_text())
    assert report["threshold"] == 8 and report["hash"] == "phash" and len(report["near_duplicates"]) == 4
    assert not list(tmp_path.glob(".*tmp"))

    assert main(["data", "audit", "--data", str(tmp_path / "missing"), "--no-progress"]) == 2
    assert capsys.readouterr().err.startswith("error: dataset folder not found")
    assert main(["data", "audit", "--data", str(tree)]) == 0  # not a terminal: no progress bar redrawn into a log
    assert "img/s" not in capsys.readouterr().err
    for taken in ("300", "65"):  # 300: every pair a near duplicate; 200: ~25 M pairs of the dataset, tens of GB
        assert main(["data", "audit", "--data", str(tree), "--threshold", taken, "--no-progress"]) == 2
        assert capsys.readouterr().err == ("error: --threshold is a distance between 256-bit hashes, 0 to 64 "
                                           f"(unrelated images differ in about half the bits), got {taken}\n")
    assert main(["data", "audit", "--data", str(tree), "--threshold", "64", "--no-progress"]) == 0
    capsys.readouterr()


@pytest.mark.parametrize(("name", "what"), [("audit.csv", "a CSV file"), ("audit.XLSX", "an Excel workbook"),
                                            ("audit.jsonl", "JSON lines"), ("audit.png", "an image"),
                                            ("audit.nii.gz", "a NIfTI volume")])
def test_an_audit_out_named_as_another_format_is_refused_before_the_audit(tree: Path, tmp_path: Path, name, what,
                                                                          capsys):
    """``--out audit.csv`` was given the JSON report without a word, which a spreadsheet then misread."""
    out = tmp_path / name
    assert main(["data", "audit", "--data", str(tree), "--out", str(out), "--no-progress"]) == 2
    assert capsys.readouterr() == ("", f"error: --out {out}: its ending names {what}, but the audit's report is one "
                                       "JSON document: name it .json\n")
    assert not out.exists()


def test_the_audit_of_one_split_names_its_folder_and_no_figures_across_splits(tree: Path, tmp_path: Path, capsys):
    """``data audit --data ROOT/Testing`` printed ``all: 32 images`` (the JSON's name for a folder of class folders)
    and then "across splits 0", of a folder holding one split. The console names the folder as data check does and
    gives one figure; the JSON keeps its keys."""
    testing = tree / "Testing"
    out = tmp_path / "audit.json"
    assert main(["data", "audit", "--data", str(testing), "--out", str(out), "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    report = json.loads(out.read_text())
    s = report["summary"]
    assert set(report["splits"]) == {"all"} and set(s["exact_groups"]) == {"all", "cross-split"}
    assert lines[1].startswith(f"{testing}: 8 files (glioma 2, meningioma 2, notumor 2, pituitary 2), 1 unreadable; ")
    assert f"exact duplicate groups: {s['exact_groups']['all']}" in lines
    assert f"near duplicate pairs: {s['near_pairs']['all']}" in lines
    assert not [line for line in lines if "across splits" in line or "all" in line.split(":")[0]]
    assert main(["data", "audit", "--data", str(tree), "--no-progress"]) == 0  # two splits: as before
    assert "exact duplicate groups: within Training 1, within Testing 0, across splits 2" in capsys.readouterr().out


def test_real_dataset_overlap_agrees_with_its_readme(data_root: Path):
    """The dataset README: 189 pixel-identical groups span both splits; 473 of 1311 test images
    have a near duplicate in Training (pHash 256-bit, distance <= 8), none of them glioma; and our README's "Data" block
    is this audit's summary, line for line."""
    report = audit_dataset(data_root)
    s = report["summary"]
    assert s["exact_groups"]["cross-split"] == 189
    leak = s["leakage"]
    assert (leak["test_readable"], leak["test_with_train_near_duplicate"], leak["test_leak_free"]) == (1311, 473, 838)
    assert {c: v["with_train_near_duplicate"] for c, v in leak["per_class"].items()} == {
        "glioma": 0, "meningioma": 109, "notumor": 359, "pituitary": 5}
    assert report["hidden_files"] == ["Testing/meningioma/.ipynb_checkpoints/Te-me_0011-checkpoint.jpg"]
    modes = [report["splits"][s]["modes"] for s in ("Training", "Testing")]
    assert sum(m["RGB"] for m in modes) == 3926 and sum(m["L"] for m in modes) == 3093
    # README's "Data" block shows this audit's console summary: every line but the first (the path and the time it
    # took) and the report's name is what format_audit prints for it
    from braintumor.datasets_cli import format_audit

    shown = (REPO / "README.md").read_text().split("$ braintumor data audit", 1)[1].split("```", 1)[0].splitlines()
    assert shown[2:-1] == format_audit(report).splitlines()[1:]


def test_audit_out_is_written_through_a_fifo_and_into_a_new_folder(tree: Path, tmp_path: Path, capsys):
    """--out /dev/null or a named pipe was replaced by a regular file (as root, /dev/full itself); a missing
    folder failed only after the whole audit ('No such file or directory: .audit.json.NNN.tmp'): now before it."""
    import os
    import threading

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    assert main(["data", "audit", "--data", str(tree), "--out", str(fifo), "--no-progress"]) == 0
    reader.join(timeout=30)
    assert json.loads(got[0])["threshold"] == 8 and fifo.is_fifo()  # still the pipe, and its reader got it all
    # a missing folder is refused before the audit (not made: a mistyped path made a tree of folders)
    assert main(["data", "audit", "--data", str(tree), "--out", str(tmp_path / "new" / "a.json"), "--no-progress"]) == 2
    assert "there is no folder" in capsys.readouterr().err and not (tmp_path / "new").exists()
    (tmp_path / "new").mkdir()
    assert main(["data", "audit", "--data", str(tree), "--out", str(tmp_path / "new" / "a.json"), "--no-progress"]) == 0
    assert json.loads((tmp_path / "new" / "a.json").read_text())["threshold"] == 8
    capsys.readouterr()


def test_a_reader_that_leaves_early_costs_neither_the_report_nor_the_exit_code(tree: Path, tmp_path: Path):
    """`data audit --out r.json | true` exited 0 and never wrote r.json (the summary's print broke first)."""
    import os
    import subprocess
    import sys

    out = tmp_path / "r.json"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "braintumor", "data", "audit", "--data", str(tree), "--out",
                             str(out), "--no-progress"], stdout=subprocess.PIPE, env=env)
    proc.stdout.close()  # the reader left before the first line
    assert proc.wait(timeout=120) == 0 and json.loads(out.read_text())["threshold"] == 8


def test_with_stdout_closed_data_commands_say_where_results_can_go(tree: Path, tmp_path: Path):
    """`braintumor data audit >&-` printed its summary into /dev/null and exited 0."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}

    def closed(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "braintumor", "data", *args, "--data", str(tree)], env=env,
                              stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(1))

    audit = closed("audit", "--no-progress")
    assert (audit.returncode, audit.stderr) == (2, "error: standard output is closed: give --out FILE for the report\n")
    check = closed("check")
    assert check.returncode == 2 and check.stderr.startswith("error: standard output is closed: run it with")
    written = closed("audit", "--no-progress", "--out", str(tmp_path / "a.json"))
    assert written.returncode == 0 and json.loads((tmp_path / "a.json").read_text())["threshold"] == 8


def test_an_image_removed_between_its_two_reads_is_file_not_found(tmp_path: Path, monkeypatch):
    """hash_images opens each image a second time for its mode: one removed in between was recorded as
    "[Errno 2] No such file or directory: '...'", where every other removed file says ``file not found: PATH``."""
    from braintumor import image_hashes

    image = tmp_path / "a.png"
    image.write_bytes(encode(np.full((32, 32), 90, np.uint8)))
    read = image_hashes.read_image

    def read_then_removed(path: Path) -> np.ndarray:
        gray = read(path)
        path.unlink()
        return gray

    monkeypatch.setattr(image_hashes, "read_image", read_then_removed)
    hashed = hash_images([image])
    assert not hashed.ok[0] and hashed.errors == [f"file not found: {image}"]


def test_the_audit_lists_a_long_kind_of_file_as_the_other_notes_do(tmp_path: Path):
    """Its four lists (hidden, not images, beside the class folders, pipes) ended "a, b, c, d, e ..." while every
    other note that cuts a list says how many it left out ("... and 2 more")."""
    from braintumor.datasets_cli import format_audit

    hidden = [f"Testing/glioma/.h{k}.png" for k in range(7)]
    report = {"summary": {"exact_groups": {}, "near_pairs": {}, "label_conflicts": {"exact": 0, "near": 0}},
              "root": str(tmp_path), "hash": "phash", "hash_bits": 64, "threshold": 8, "splits": {},
              "hidden_files": hidden, "not_images": [], "unreadable": []}
    assert f"hidden files (not data): 7: {', '.join(hidden[:5])} and 2 more" in format_audit(report).splitlines()


@pytest.mark.parametrize(("splits", "hint"), [
    (("Testing",), ""),
    (("train", "test"), "; only folders named Training and Testing (or training and testing) are read as the "
                        "training and test splits: rename yours to compute it"),
    (("Training", "Test"), "; only a folder named Testing (or testing) is read as the test split: rename yours to "
                           "compute it")])
def test_an_audit_without_training_and_testing_says_why_there_is_no_leakage(splits, hint, tree: Path,
                                                                            tmp_path: Path, capsys):
    """A hospital's ROOT/Testing alone, or a set split as train/ and test/: the summary ended with the label conflicts,
    and nothing said that the leakage lines, the audit's headline, were left out, or why; of train/ and test/ it said
    "it holds test, train", and not that those names are not read as Training and Testing (by any command)."""
    root = tmp_path / "set"
    for name in splits:
        shutil.copytree(tree / ("Testing" if name.lower().startswith("test") else "Training"), root / name)
    assert main(["data", "audit", "--data", str(root), "--no-progress"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[-1] == (f"leakage: not computed: it looks for Testing images in Training, and {root} holds "
                         f"{', '.join(sorted(splits, key=lambda s: (s != 'Training', s)))}{hint}")
    assert main(["data", "audit", "--data", str(root / splits[0]), "--no-progress"]) == 0  # one folder: nothing said
    assert "leakage" not in capsys.readouterr().out


def test_the_leakage_counts_testing_images_found_in_training_alone_beside_a_validation_split(tree: Path,
                                                                                             tmp_path: Path):
    """A Validation split read beside Training and Testing: its pairs with Training (and with Testing) are across
    splits too, and were counted as Testing images with a near duplicate in Training (a copy of Training as
    Validation made every Testing image 'leaked' and left a leak-free subset of none)."""
    root = tmp_path / "set"
    shutil.copytree(tree / "Training", root / "Training")
    shutil.copytree(tree / "Testing", root / "Testing")
    alone = audit_dataset(root)["summary"]["leakage"]
    shutil.copytree(tree / "Training", root / "Validation")  # Training's near duplicates: none of them in Testing
    shutil.copy(tree / "Testing" / "notumor" / "te13.png", root / "Validation" / "notumor" / "te13.png")
    assert audit_dataset(root)["summary"]["leakage"] == alone


@pytest.mark.parametrize("name", ["cross-split", "all"])
def test_a_split_named_as_the_reports_own_keys_is_refused(name: str, tree: Path, tmp_path: Path, capsys):
    """ROOT/cross-split/glioma beside ROOT/Training (any folder of class folders is a split): its within-split
    duplicates were summed into the report's "cross-split" counts, and a split named "all" was printed as ROOT."""
    root = tmp_path / "set"
    shutil.copytree(tree / "Training", root / "Training")
    shutil.copytree(tree / "Training", root / name)
    assert main(["data", "audit", "--data", str(root), "--no-progress", "--out", str(tmp_path / "a.json")]) == 2
    assert capsys.readouterr().err.startswith(f"error: split folder {root / name}: data audit's report calls ")
    assert not (tmp_path / "a.json").exists()
    assert main(["data", "audit", "--data", str(root / name), "--no-progress"]) == 0  # alone, as the error says
    assert main(["data", "check", "--data", str(root)]) == 0  # a count: no keys to collide with
