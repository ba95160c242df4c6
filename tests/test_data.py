"""Class-folder loading: layouts, hidden files, clear errors, split, cache, unreadable files."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import numpy as np
import pytest
from conftest import encode, synthetic_head

from braintumor.classes import CLASSES
from braintumor.data import DatasetError, load_dataset
from braintumor.data_fingerprint import fingerprint
from braintumor.data_splits import split_by_mode, stratified_split
from braintumor.prepared_images import load_prepared
from braintumor.preprocess import PreprocessConfig


def make_dataset(root: Path, per_class: int = 3, classes=CLASSES) -> Path:
    for i, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for j in range(per_class):
            (root / name / f"img{j}.png").write_bytes(encode(synthetic_head(64, seed=i * 10 + j)))
    return root


def test_flat_and_kaggle_layouts(tmp_path):
    make_dataset(tmp_path / "flat")
    make_dataset(tmp_path / "kaggle" / "Training")
    flat = load_dataset(tmp_path / "flat")
    kaggle = load_dataset(tmp_path / "kaggle", "Training")
    assert len(flat) == len(kaggle) == 12
    assert flat.counts() == {c: 3 for c in CLASSES}
    assert load_dataset(tmp_path / "flat", "Training").root == tmp_path / "flat"  # falls back to ROOT/<class>


def test_labels_come_from_folders_and_hidden_files_are_ignored(tmp_path):
    root = make_dataset(tmp_path)
    (root / "glioma" / ".ipynb_checkpoints").mkdir()
    (root / "glioma" / ".ipynb_checkpoints" / "img0-checkpoint.png").write_bytes(b"x")
    (root / "glioma" / "._img0.png").write_bytes(b"x")
    (root / "meningioma" / "Te-glTr_0000.png").write_bytes(encode(synthetic_head(64)))
    ds = load_dataset(root)
    assert len(ds) == 13
    named_like_glioma = ds.paths.index(root / "meningioma" / "Te-glTr_0000.png")
    assert CLASSES[ds.labels[named_like_glioma]] == "meningioma"


def test_missing_root(tmp_path):
    with pytest.raises(DatasetError, match="not found"):
        load_dataset(tmp_path / "nope")


def test_a_missing_root_says_what_is_there_instead(tmp_path):
    """``--data Brain`` beside ``brain``, or a name with a space at its end from a pasted path: "dataset folder not
    found: ROOT/brain " hid the space, and neither said that the folder meant is there."""
    (tmp_path / "brain").mkdir()
    with pytest.raises(DatasetError) as caught:
        load_dataset(tmp_path / "Brain")
    assert str(caught.value) == (f"dataset folder not found: {tmp_path / 'Brain'} (names are case-sensitive here: "
                                 "brain is there)")
    with pytest.raises(DatasetError) as caught:
        load_dataset(f"{tmp_path / 'brain'} ")
    assert str(caught.value).startswith(f"dataset folder not found: {str(tmp_path / 'brain ')!r} (the name ends with "
                                        "' ', and without it the name is there")


def test_empty_class_is_an_error(tmp_path):
    root = make_dataset(tmp_path)
    for p in (root / "pituitary").iterdir():
        p.unlink()
    with pytest.raises(DatasetError, match="'pituitary' has no images"):
        load_dataset(root)


def test_missing_class_is_an_error(tmp_path, capsys):
    make_dataset(tmp_path, classes=CLASSES[:3])
    with pytest.raises(DatasetError, match=f"^no folder for class 'pituitary' in {tmp_path}: "):  # named tmp/pituitary
        load_dataset(tmp_path)
    from braintumor.cli import main

    # reports, not training: a hospital's folder of some classes is counted and audited, as evaluate scores it
    assert main(["data", "check", "--data", str(tmp_path)]) == 0
    assert "9 images (glioma 3, meningioma 3, notumor 3, pituitary 0)" in capsys.readouterr().out
    assert main(["data", "audit", "--data", str(tmp_path), "--no-progress"]) == 0


def test_data_check_names_the_files_it_leaves_out_as_evaluate_does(tmp_path, capsys):
    """``data check`` of a folder holding g.gif, notes.txt and series.zip said nothing of them (an image beside the
    class folders neither), while evaluate says "skipped 3 files that are not images by their name": the same lines,
    from the same function, under the split they are in."""
    from braintumor.cli import main
    from braintumor.evaluation_scope import dataset_notes

    root = make_dataset(tmp_path / "data" / "Testing", per_class=1)
    (root / "glioma" / "g.gif").write_bytes(b"GIF89a")
    (root / "glioma" / "notes.txt").write_text("seen")
    (root / "notumor" / "series.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    (root / "loose.png").write_bytes(encode(synthetic_head(64)))
    notes = dataset_notes(load_dataset(root))
    assert len(notes) == 2 and notes[0].startswith("skipped 3 files that are not images by their name (.gif, .txt, ")
    assert main(["data", "check", "--data", str(tmp_path / "data")]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"Testing: 4 images ({', '.join(f'{c} 1' for c in CLASSES)})", *(f"  {n}" for n in notes),
                   "all images decode"]


def test_unknown_class_folder_is_an_error_that_says_what_to_do(tmp_path):
    """It listed the names expected, never what to do with the folder that has none of them."""
    root = make_dataset(tmp_path)
    (root / "tumour").mkdir()
    with pytest.raises(DatasetError) as refused:
        load_dataset(root)
    assert str(refused.value) == (f"unknown class folder in {root}: tumour; expected only glioma, meningioma, notumor, "
                                  f"pituitary; rename it to one of them or move it out of {root}")


def test_other_datasets_folder_names_are_read_as_their_classes(tmp_path):
    """glioma_tumor, no_tumor, ...: the older Kaggle set's names; case, spaces and hyphens do not matter."""
    make_dataset(tmp_path / "a", per_class=1, classes=("glioma_tumor", "Meningioma-Tumor", "No Tumor", "pituitary"))
    ds = load_dataset(tmp_path / "a")
    assert ds.counts() == {c: 1 for c in CLASSES}
    assert [(p.parent.name, CLASSES[k]) for p, k in zip(ds.paths, ds.labels, strict=True)] == [
        ("glioma_tumor", "glioma"), ("Meningioma-Tumor", "meningioma"), ("No Tumor", "notumor"),
        ("pituitary", "pituitary")]
    make_dataset(tmp_path / "b", per_class=1, classes=(*CLASSES, "no_tumor"))
    with pytest.raises(DatasetError, match=r"two folders in .* hold class 'notumor': no_tumor and notumor; move the "
                       r"images of one into the other"):  # what to do, not only what is wrong
        load_dataset(tmp_path / "b")
    make_dataset(tmp_path / "c", per_class=1, classes=("glioma_tumor",))
    with pytest.raises(DatasetError, match=r"no folder for class 'meningioma' in "):
        load_dataset(tmp_path / "c")
    assert load_dataset(tmp_path / "c", allow_missing=True).counts() == {"glioma": 1, "meningioma": 0, "notumor": 0,
                                                                         "pituitary": 0}


def test_no_class_folders(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(DatasetError, match="no class folders"):
        load_dataset(tmp_path / "empty")


def test_a_split_that_is_not_there_is_named(tmp_path):
    """``evaluate --split Nope`` on a Kaggle layout said 'unknown class folder(s): Testing, Training'."""
    make_dataset(tmp_path / "kaggle" / "Training")
    (tmp_path / "kaggle" / "Testing").mkdir()
    with pytest.raises(DatasetError, match=r"^no 'Nope' folder in .*kaggle \(it holds Testing, Training\)$"):
        load_dataset(tmp_path / "kaggle", "Nope")


def test_stratified_split_is_seeded_and_keeps_proportions():
    labels = np.repeat(np.arange(4), [100, 200, 50, 150])
    tr, va = stratified_split(labels, 0.1, seed=3)
    _, va2 = stratified_split(labels, 0.1, seed=3)
    np.testing.assert_array_equal(va, va2)
    assert not set(tr) & set(va) and len(tr) + len(va) == len(labels)
    assert np.bincount(labels[va]).tolist() == [10, 20, 5, 15]
    assert not np.array_equal(stratified_split(labels, 0.1, seed=4)[1], va)


def test_unreadable_files_are_skipped_reported_and_cached(tmp_path):
    root = make_dataset(tmp_path / "d")
    (root / "glioma" / "broken.jpg").write_bytes(b"not an image")
    (root / "glioma" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")  # 'data check' said skipped; train stopped
    ds = load_dataset(root)
    cfg = PreprocessConfig(image_size=32)
    images, kept = load_prepared(ds, cfg, cache_dir=tmp_path / "cache")
    assert images.shape == (12, 32, 32) and images.dtype == np.uint8
    assert [p.name for p, _ in kept.skipped] == ["broken.jpg", "gone.jpg"]
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 1
    again, kept2 = load_prepared(ds, cfg, cache_dir=tmp_path / "cache")  # from the cache
    np.testing.assert_array_equal(images, again)
    np.testing.assert_array_equal(kept.labels, kept2.labels)
    assert [p.name for p, _ in kept2.skipped] == ["broken.jpg", "gone.jpg"]
    load_prepared(ds, PreprocessConfig(image_size=40), cache_dir=tmp_path / "cache")  # new params, new cache
    assert len(list((tmp_path / "cache").glob("*.npz"))) == 2


def test_fingerprint_changes_with_content(tmp_path):
    root = make_dataset(tmp_path)
    before = fingerprint(load_dataset(root))
    (root / "notumor" / "img0.png").write_bytes(encode(synthetic_head(64, seed=99)))
    assert fingerprint(load_dataset(root)) != before


def test_real_dataset_counts_match_its_readme(data_root):
    train = load_dataset(data_root, "Training")
    test = load_dataset(data_root, "Testing")
    assert train.counts() == {"glioma": 1321, "meningioma": 1339, "notumor": 1591, "pituitary": 1457}
    assert len(test) == 1311  # the hidden .ipynb_checkpoints copy is not data


def test_split_by_mode_reads_the_stored_mode_and_keeps_unreadable_files_with_the_others(tmp_path):
    root = make_dataset(tmp_path)  # grayscale PNGs
    rgb = np.repeat(synthetic_head(64, seed=5)[..., None], 3, axis=2)  # gray content stored as RGB, as SARTAJ's
    (root / "glioma" / "rgb.jpg").write_bytes(encode(rgb, "JPEG"))
    (root / "glioma" / "broken.jpg").write_bytes(b"not an image")
    gray, other = split_by_mode(load_dataset(root), "L")
    assert len(gray) == 12 and all(p.suffix == ".png" for p in gray.paths)
    assert sorted(p.name for p in other.paths) == ["broken.jpg", "rgb.jpg"]
    assert list(other.labels) == [0, 0]


def test_storage_mode_separates_the_figshare_source(data_root):
    """The 3093 grayscale files: per tumour class exactly figshare's counts (1426, 708, 930), plus 29 notumor."""
    train, test = load_dataset(data_root, "Training"), load_dataset(data_root, "Testing")
    gray_train, gray_test = split_by_mode(train, "L")[0], split_by_mode(test, "L")[0]
    assert len(gray_train) + len(gray_test) == 3093
    assert gray_train.counts() == {"glioma": 1200, "meningioma": 548, "notumor": 27, "pituitary": 697}
    both = {c: gray_train.counts()[c] + gray_test.counts()[c] for c in gray_train.classes}
    assert both == {"glioma": 1426, "meningioma": 708, "notumor": 29, "pituitary": 930}


def test_an_empty_dataset_variable_counts_as_unset():
    """BRAINTUMOR_DATA= (set, empty) made every --data default an empty path: 'argument --data: expected a file or
    folder name' for an option nobody typed."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "BRAINTUMOR_DATA": ""}
    code = "from braintumor.data import DEFAULT_DATA_ROOT; print(DEFAULT_DATA_ROOT)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == "../shared/datasets/brain-tumor-mri"


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_fingerprint_never_waits_on_a_pipe_swapped_in_after_listing(tmp_path):
    """The fingerprint read each file with read_bytes(): a named pipe put in an image's place after the listing
    blocked it for ever (no writer). A file that is not a regular one now hashes as an unreadable one does."""
    root = make_dataset(tmp_path)
    dataset = load_dataset(root)
    swapped = root / "notumor" / "img0.png"
    swapped.unlink()
    removed = fingerprint(dataset)  # unreadable
    os.mkfifo(swapped)
    result: list[str] = []
    worker = threading.Thread(target=lambda: result.append(fingerprint(dataset)), daemon=True)
    worker.start()
    worker.join(10)
    if worker.is_alive():  # blocked opening the pipe: a writer's open lets it go, and closing gives it an end
        os.close(os.open(swapped, os.O_WRONLY))
        worker.join(10)
        pytest.fail("fingerprint waited for a writer to the pipe")
    assert result == [removed]


def test_the_shipped_splits_fingerprint_is_that_of_the_training_data(data_root):
    """How the fingerprint reads files may change; its value for the same files may not (models/split.json and the
    shipped model name their training data by it)."""
    split = json.loads((Path(__file__).resolve().parents[1] / "models" / "split.json").read_text())
    assert fingerprint(load_dataset(data_root / "Training")) == split["fingerprint"]


@pytest.mark.parametrize("which", ["prepared", "hashes"])
def test_a_cache_write_stopped_midway_leaves_no_temporary_file(tmp_path, monkeypatch, which):
    """Ctrl-C or SIGTERM while a cache was written left its ``NAME.PID.tmp.npz`` (only an OSError removed it): both
    caches are written through atomic_files now, which removes it on any error and on a forced stop."""
    from braintumor import image_hashes, prepared_images

    root = make_dataset(tmp_path / "d")
    ds = load_dataset(root)

    def stopped(file, **arrays):  # a file object, or a name (as the caches were written before)
        if hasattr(file, "write"):
            file.write(b"PK half a cache")
        else:
            Path(file).write_bytes(b"PK half a cache")
        raise KeyboardInterrupt

    monkeypatch.setattr(np, "savez", stopped)
    with pytest.raises(KeyboardInterrupt):
        if which == "prepared":
            prepared_images.load_prepared(ds, PreprocessConfig(image_size=32), cache_dir=tmp_path / "cache")
        else:
            image_hashes.cached_hashes(ds, cache_dir=tmp_path / "cache")
    assert list((tmp_path / "cache").iterdir()) == []


def test_a_cache_folder_that_cannot_be_written_is_named_escaped(tmp_path, capsys):
    """'warning: decoded images not cached (...: CACHE)' printed the --cache-dir name raw: its escape sequence
    cleared the terminal, where every other line of the CLI shows a name escaped (wording.printable)."""
    ds = load_dataset(make_dataset(tmp_path / "d"))
    cache = tmp_path / "c\x1b[2J"
    cache.write_bytes(b"")  # a file where the cache folder goes: it cannot be made
    load_prepared(ds, PreprocessConfig(image_size=32), cache_dir=cache)
    err = capsys.readouterr().err
    assert "warning: decoded images not cached" in err and "c\\x1b[2J" in err and "\x1b" not in err, err
