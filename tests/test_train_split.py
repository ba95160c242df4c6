"""The train/validation split of a run: fixed for its data, and kept when the run is resumed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from conftest import extra_reason

pytest.importorskip("torch", reason=extra_reason("torch"))

from braintumor.cli import main


def _small_dataset(data_root: Path, dest: Path, per_class: int = 6) -> Path:
    for c in ("glioma", "meningioma", "notumor", "pituitary"):
        (dest / "Training" / c).mkdir(parents=True)
        for p in sorted((data_root / "Training" / c).glob("*.jpg"))[:per_class]:
            shutil.copy(p, dest / "Training" / c / p.name)
    return dest


def _decodes(monkeypatch) -> list[int]:
    """How many images each load_prepared call of train was given: a refusal of other data must come before it."""
    import braintumor.train_data

    calls: list[int] = []
    real = braintumor.train_data.load_prepared

    def counting(dataset, *args, **kwargs):
        calls.append(len(dataset))
        return real(dataset, *args, **kwargs)

    monkeypatch.setattr(braintumor.train_data, "load_prepared", counting)
    return calls


def test_resume_on_other_data_is_refused_and_keeps_the_runs_split(data_root, tmp_path, capsys, monkeypatch):
    """One image gone before --resume: the split was drawn again, a validation image of the resumed run had been
    trained on in its first epoch, and split.json was overwritten without a word. It is refused before the decode
    (the files split.json names are not all there); an image edited in place, its size kept, after it (the
    fingerprint)."""
    data = _small_dataset(data_root, tmp_path / "data")
    run = tmp_path / "run"
    common = ["--data", str(data), "--out", str(run), "--image-size", "32", "--batch-size", "8",
              "--cache-dir", str(tmp_path / "cache")]
    assert main(["train", *common, "--epochs", "1"]) == 0
    before = (run / "split.json").read_text()
    first, second = sorted((data / "Training" / "pituitary").iterdir())[:2]
    first.unlink()
    capsys.readouterr()
    decoded = _decodes(monkeypatch)
    assert main(["train", *common, "--epochs", "2", "--resume"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {run} was trained on other images than {data / 'Training'} holds now (1 of its 24 "
                      f"images is not there, e.g. pituitary/{first.name}): restore that data to resume, or start a "
                      "new run"]
    assert decoded == []
    shutil.copy(data_root / "Training" / "pituitary" / first.name, first)
    content = bytearray(second.read_bytes())
    content[len(content) // 2] ^= 0xFF  # same name, same size, other content: only the fingerprint tells
    second.write_bytes(bytes(content))
    assert main(["train", *common, "--epochs", "2", "--resume"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    assert errors == [f"error: {run} was trained on other images than {data / 'Training'} holds now (the fingerprint "
                      "in its split.json differs): restore that data to resume, or start a new run"]
    assert decoded == [24]
    assert (run / "split.json").read_text() == before
    assert [json.loads(r)["epoch"] for r in (run / "metrics.jsonl").read_text().splitlines()] == [1]


def _trained_then_watched(data, run, tmp_path, capsys, monkeypatch) -> tuple[list[str], list[int]]:
    """A one-epoch run of ``data`` in ``run``: its shared train arguments, and the list the decodes of what follows
    are counted in (:func:`_decodes`), for a resume to be refused before any."""
    common = ["--out", str(run), "--image-size", "32", "--batch-size", "8", "--cache-dir", str(tmp_path / "cache")]
    assert main(["train", "--data", str(data), *common, "--epochs", "1"]) == 0
    capsys.readouterr()
    return common, _decodes(monkeypatch)


def test_a_run_resumed_on_another_data_folder_names_the_one_it_was_trained_with(data_root, tmp_path, capsys,
                                                                                  monkeypatch):
    """A run of --data X resumed without it (docs/TRAINING.md: "braintumor train --out RUN --resume is enough") read
    the default dataset and said "restore that data to resume", though the data were where they had been: the error
    names the --data of the run's config.json, and both folders. It came after every image of the other folder had
    been decoded (minutes on the real data): now before any is."""
    data = _small_dataset(data_root, tmp_path / "data")
    other = _small_dataset(data_root, tmp_path / "other", per_class=5)
    run = tmp_path / "run"
    common, decoded = _trained_then_watched(data, run, tmp_path, capsys, monkeypatch)
    assert main(["train", "--data", str(other), *common, "--epochs", "2", "--resume"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error:")]
    gone = sorted((data / "Training" / "glioma").iterdir())[-1].name
    assert errors == [f"error: {run} was trained on the images of {data / 'Training'}, not those of "
                      f"{other / 'Training'} (4 of its 24 images are not there, e.g. glioma/{gone}): it was trained "
                      f"with --data {data}; give that, or where its images are now to resume, or start a new run"]
    assert decoded == []


def test_a_relative_data_resumed_from_another_folder_is_not_called_another_folder(data_root, tmp_path, capsys,
                                                                                   monkeypatch):
    """split.json records --data as given: trained with --data data from tmp_path and resumed from elsewhere with the
    same folder by its absolute path, it read "the images of data/Training, not those of /abs/data/Training"."""
    data = _small_dataset(data_root, tmp_path / "data")
    other = _small_dataset(data_root, tmp_path / "other", per_class=5)
    run = tmp_path / "run"
    common = ["--out", str(run), "--image-size", "32", "--batch-size", "8", "--cache-dir", str(tmp_path / "cache")]
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--data", "data", *common, "--epochs", "1"]) == 0
    capsys.readouterr()
    gone = sorted((data / "Training" / "glioma").iterdir())[-1]
    gone.unlink()
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")
    assert main(["train", "--data", str(data), *common, "--epochs", "2", "--resume"]) == 2
    err = capsys.readouterr().err
    assert f"{run} was trained on other images than {data / 'Training'} holds now, if that is the " \
           f"{Path('data', 'Training')} it was trained on from {tmp_path} (1 of its 24 images is not there" in err
    assert main(["train", "--data", "../other", *common, "--epochs", "2", "--resume"]) == 2
    err = capsys.readouterr().err
    assert f"{run} was trained on the images of {Path('data', 'Training')} (relative to the folder it was trained " \
           f"in), not those of {other / 'Training'} (" in err


def test_a_resumed_run_refuses_files_of_its_names_in_other_sizes_before_the_decode(data_root, tmp_path, capsys,
                                                                                    monkeypatch):
    """A copy of the dataset with the same file names (re-saved, resized) was decoded whole before the fingerprint
    refused it; split.json records each image's size, compared first."""
    data = _small_dataset(data_root, tmp_path / "data")
    copy = shutil.copytree(data, tmp_path / "copy")
    resaved = sorted((copy / "Training" / "meningioma").iterdir())[3]
    resaved.write_bytes(resaved.read_bytes() + b"\0" * 10)  # bytes after the JPEG's end: it decodes as before
    common, decoded = _trained_then_watched(data, tmp_path / "run", tmp_path, capsys, monkeypatch)
    assert main(["train", "--data", str(copy), *common, "--epochs", "2", "--resume"]) == 2
    err = capsys.readouterr().err
    assert f"(1 of its images has another size there, e.g. meningioma/{resaved.name}): it was trained with --data " \
           f"{data};" in err and f"the images of {data / 'Training'}, not those of {copy / 'Training'}" in err
    assert decoded == []
    shutil.copy(data / "Training" / "meningioma" / resaved.name, resaved)  # the same images elsewhere: resumed
    assert main(["train", "--data", str(copy), *common, "--epochs", "2", "--resume"]) == 0
    assert decoded == [24]


def test_groups_fall_on_one_side_whole_and_the_split_keeps_its_class_shares():
    from braintumor.data_splits import stratified_split

    labels = np.repeat(np.arange(4), [100, 200, 50, 150])
    groups = np.arange(len(labels))
    for start in range(0, len(labels) - 3, 7):  # groups of three within a class, every seventh image
        if labels[start] == labels[start + 2]:
            groups[start:start + 3] = start
    for seed in range(5):
        tr, va = stratified_split(labels, 0.1, seed, groups)
        assert not set(tr) & set(va) and len(tr) + len(va) == len(labels)
        assert not set(groups[tr]) & set(groups[va])  # no group on both sides
        assert np.abs(np.bincount(labels[va], minlength=4) - [10, 20, 5, 15]).max() <= 2
        assert np.array_equal(va, stratified_split(labels, 0.1, seed, groups)[1])  # seeded
    one_group = np.zeros(10, dtype=np.int64)  # a class that is one group trains, not validates
    assert stratified_split(np.zeros(10, dtype=np.int64), 0.5, 0, one_group)[1].tolist() == []


def test_one_large_group_does_not_swamp_the_validation_split():
    """Groups were taken in drawn order until the target was reached, so a group of 40 drawn early put 44 of 120
    images in validation instead of 12: a group that does not fit is passed over."""
    from braintumor.data_splits import stratified_split

    labels = np.zeros(120, dtype=np.int64)
    groups = np.arange(120)
    groups[:40] = 0
    sizes = {len(stratified_split(labels, 0.1, seed, groups)[1]) for seed in range(20)}
    assert sizes == {12}


def test_without_duplicates_the_split_is_the_shipped_runs(data_root):
    """Groups of one image each, or none, give the split drawn before groups existed: --no-group-duplicates
    reproduces the shipped run's validation split, image for image."""
    from braintumor.data import load_dataset
    from braintumor.data_splits import stratified_split

    full = load_dataset(data_root, "Training")
    shipped = json.loads(Path("models/split.json").read_text())
    rel = [p.relative_to(full.root).as_posix() for p in full.paths]
    for groups in (None, np.arange(len(full))):
        tr, va = stratified_split(full.labels, 0.1, 0, groups)
        assert [rel[i] for i in va] == shipped["val"] and [rel[i] for i in tr] == shipped["train"]


def _near_pairs_across(run: Path) -> int:
    """Validation images of a run with a near duplicate among its training images (the audit's definition)."""
    from braintumor.image_hashes import close_pairs, hash_images

    split = json.loads((run / "split.json").read_text())
    root = Path(split["root"])
    val, train = (hash_images([root / r for r in split[k]]).hashes for k in ("val", "train"))
    return len(np.unique(close_pairs(val, train, 8)[0]))


def test_a_run_keeps_near_duplicates_on_one_side_of_its_split(data_root, tmp_path):
    """The dataset has near duplicates inside Training: the shipped split put 113 of its 571 validation images
    beside a near duplicate in the training part, so validation accuracy (model selection) was optimistic."""
    from PIL import Image

    data = _small_dataset(data_root, tmp_path / "data", per_class=5)
    for folder in sorted((data / "Training").iterdir()):
        for p in sorted(folder.iterdir())[:3]:  # a recompressed copy of three images per class
            Image.open(p).save(folder / f"copy-{p.name}", quality=85)
    common = ["--data", str(data), "--image-size", "32", "--batch-size", "8", "--epochs", "1",
              "--val-fraction", "0.5", "--cache-dir", str(tmp_path / "cache")]
    assert main(["train", *common, "--out", str(tmp_path / "grouped")]) == 0
    assert _near_pairs_across(tmp_path / "grouped") == 0
    assert main(["train", *common, "--out", str(tmp_path / "plain"), "--no-group-duplicates"]) == 0
    assert _near_pairs_across(tmp_path / "plain") > 0  # the check can see a leak
    assert json.loads((tmp_path / "plain" / "config.json").read_text())["group_duplicates"] is False


def test_a_run_recorded_before_groups_resumes_on_its_ungrouped_split(tmp_path):
    from braintumor.train_config import TrainConfig, resumed_config

    run = tmp_path / "old"
    run.mkdir()
    (run / "last.pt").write_bytes(b"")
    old = {k: v for k, v in json.loads(Path("models/training-config.json").read_text()).items() if k != "world_size"}
    (run / "config.json").write_text(json.dumps(old))  # written before group_duplicates existed
    assert "group_duplicates" not in old
    assert resumed_config(TrainConfig(data="d", out=str(run))).group_duplicates is False
    assert TrainConfig(data="d", out="o").group_duplicates is True  # a new run groups


def test_files_that_are_not_images_are_named_not_dropped_without_a_word(data_root, tmp_path, capsys):
    """A DICOM file or a note in a class folder was left out of training silently (only unreadable images were
    reported); hidden files stay unmentioned: they are never data."""
    data = _small_dataset(data_root, tmp_path / "data", per_class=4)
    folder = data / "Training" / "glioma"
    (folder / "notes.txt").write_text("scanner settings")
    (folder / "scan.dcm").write_bytes(b"\0" * 132 + b"DICM")
    (folder / ".DS_Store").write_bytes(b"\0")
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    shutil.copy(next(folder.glob("*.jpg")), data / "Training" / "unsorted.jpg")  # beside the class folders: no class
    capsys.readouterr()
    assert main(["train", "--data", str(data), "--out", str(tmp_path / "run"), "--image-size", "32", "--batch-size",
                 "8", "--epochs", "1", "--cache-dir", str(tmp_path / "cache")]) == 0
    err = capsys.readouterr().err
    assert f"skipped 2 files that are not images by their name (.dcm, .txt), e.g. {folder / 'notes.txt'}" in err
    assert f"skipped unreadable file {folder / 'broken.jpg'}" in err and ".DS_Store" not in err
    assert "skipped 1 image beside the class folders in" in err and "unsorted.jpg" in err


def test_an_interrupted_start_leaves_the_runs_config_and_split_whole(data_root, tmp_path, monkeypatch):
    """config.json and split.json are rewritten on every start and resume; a plain write_text cut short (the disk
    filled, Ctrl-C) left them truncated, and --resume then refused the run: "config.json missing or unreadable"."""
    data = _small_dataset(data_root, tmp_path / "data", per_class=4)
    run = tmp_path / "run"
    common = ["--data", str(data), "--out", str(run), "--image-size", "32", "--batch-size", "8",
              "--cache-dir", str(tmp_path / "cache")]
    assert main(["train", *common, "--epochs", "1"]) == 0
    before = {n: (run / n).read_text() for n in ("config.json", "split.json")}
    plain_write = Path.write_text

    def cut_short(self: Path, text: str, *args, **kwargs) -> int:
        plain_write(self, text[: len(text) // 2], *args, **kwargs)
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "write_text", cut_short)
    assert main(["train", *common, "--epochs", "2", "--resume"]) != 0
    monkeypatch.undo()
    assert {n: (run / n).read_text() for n in before} == before
    assert sorted(p.name for p in run.iterdir() if p.name.startswith(".")) == []  # no temporary file left


def test_a_resume_that_asks_for_the_other_split_names_the_switch_as_typed(tmp_path):
    """It said "--group-duplicates False (the run has True)": a flag that does not exist, for --no-group-duplicates."""
    from braintumor.train_config import ConfigError, TrainConfig, resumed_config

    run = tmp_path / "grouped"
    run.mkdir()
    (run / "last.pt").write_bytes(b"")
    (run / "config.json").write_text(json.dumps({"group_duplicates": True, "equalize": False}))
    for asked, said in (({"group_duplicates": False}, "--no-group-duplicates"), ({"equalize": True}, "--equalize")):
        with pytest.raises(ConfigError, match=rf"other settings: {said} \(the run was started without it\)\. "):
            resumed_config(TrainConfig(data="d", out=str(run), **asked))
