"""Evaluating labelled folders from elsewhere (a hospital's, another public set): their layout is not this
dataset's, and whatever the evaluation cannot do there is said, never left out without a word. Synthetic images and
a stand-in model: no dataset, no ONNX file needed."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import encode, synthetic_head
from evaluate_fakes import needs_matplotlib

from braintumor.classes import CLASSES
from braintumor.evaluate import run_evaluate
from braintumor.image_io import ImageError, read_image
from braintumor.prediction import Prediction
from braintumor.predictor import Classifier
from braintumor.preprocess import PreprocessConfig


class StubClassifier:
    """The part of Classifier evaluate uses: every readable image is called glioma, sure of it."""

    def __init__(self) -> None:
        self.classes = CLASSES
        self.metadata = {"model_name": "stub", "classes": list(CLASSES)}
        self.path = None
        self.preprocess_config = PreprocessConfig(image_size=32)

    def predict_many(self, sources: Iterable, batch_size: int = 32,
                     with_probabilities: bool = False) -> Iterator[tuple[object, ...]]:
        probs = np.asarray([0.997, 0.001, 0.001, 0.001])
        for src in sources:
            try:
                read_image(src)
            except ImageError as exc:
                yield src, exc, None
                continue
            yield src, Prediction("glioma", 0.997, dict(zip(CLASSES, probs.tolist(), strict=True))), probs


def put_images(folder: Path, n: int = 2, seed: int = 0) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(n):
        (folder / f"slice{k}.png").write_bytes(encode(synthetic_head(96, seed=seed + k)))


@pytest.fixture
def stub(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(Classifier, "load", classmethod(lambda cls, path=None: StubClassifier()))


@needs_matplotlib
def test_a_folder_without_a_training_split_says_the_leak_free_metrics_are_not_computed(tmp_path: Path, capsys, stub):
    """A hospital's test folder has no Training split: there was no leak-free line and no report section, nothing
    told the reader that the numbers include any image the model may have been trained on."""
    root = tmp_path / "hospital"
    put_images(root / "Testing" / "glioma")
    put_images(root / "Testing" / "notumor", seed=5)
    out = tmp_path / "out"
    assert run_evaluate(None, str(root), str(out), progress=False) == 0
    printed = capsys.readouterr().out
    assert f"leak-free metrics: not computed: {root} has no Training split" in printed
    doc = json.loads((out / "metrics.json").read_text())
    assert doc["leak_free"] is None and doc["leak_free_note"].startswith("not computed: ")
    html = (out / "report.html").read_text()
    assert "<h2>Leak-free subset</h2>\n<p>Not computed: " in html

    assert run_evaluate(None, str(root / "Testing"), str(out), progress=False) == 0  # the split named as the root
    assert "not computed: " in capsys.readouterr().out  # no Training beside it either

    put_images(root / "Training" / "glioma", seed=9)
    for name in ("meningioma", "notumor", "pituitary"):
        put_images(root / "Training" / name, seed=20 + len(name))
    assert run_evaluate(None, str(root / "Testing"), str(out), progress=False) == 0
    assert f"--data {root} --split Testing compares it with the Training split beside it" in capsys.readouterr().out
    assert run_evaluate(None, str(root), str(out), split="Training", progress=False) == 0
    assert "not computed: the evaluated images are the Training split itself" in capsys.readouterr().out
    assert run_evaluate(None, str(root), str(out), progress=False, leak_free=False) == 0  # asked for: no note
    assert "leak-free" not in capsys.readouterr().out and "Leak-free" not in (out / "report.html").read_text()


@needs_matplotlib
def test_a_training_split_of_some_classes_serves_the_leak_check(tmp_path: Path, capsys, stub,
                                                                 monkeypatch: pytest.MonkeyPatch):
    """A set of gliomas and normal scans in Training/ and Testing/: the test folder was evaluated with the other two
    classes n/a, but its Training split was required to hold all four ("no folder for class 'meningioma' in
    .../Training (needed for the leak-free metrics...)") and the whole evaluation stopped."""
    monkeypatch.setenv("BRAINTUMOR_CACHE", str(tmp_path / "cache"))
    root = tmp_path / "two-classes"
    for split, seed in (("Training", 0), ("Testing", 0)):  # Testing's images are copies of Training's: all leaked
        put_images(root / split / "glioma", seed=seed)
        put_images(root / split / "notumor", seed=seed + 10)
    out = tmp_path / "out"
    assert run_evaluate(None, str(root), str(out), progress=False) == 0, capsys.readouterr().err
    assert f"leak-free subset: none (all 4 have a near duplicate in {root / 'Training'}, " in capsys.readouterr().out
    doc = json.loads((out / "metrics.json").read_text())
    assert doc["leak_free"]["n_excluded"] == 4 and doc["leak_free_note"] is None


@needs_matplotlib
def test_an_empty_training_split_gives_no_leak_free_subset_equal_to_everything(tmp_path: Path, capsys, stub):
    """Empty class folders in Training: every test image was reported leak-free ("n 4 (0 excluded)")."""
    root = tmp_path / "empty-training"
    (root / "Training" / "glioma").mkdir(parents=True)
    put_images(root / "Testing" / "glioma")
    put_images(root / "Testing" / "notumor", seed=10)
    out = tmp_path / "out"
    assert run_evaluate(None, str(root), str(out), progress=False) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert f"leak-free metrics: not computed: {root / 'Training'} holds no images" in printed
    assert "leak-free subset" not in printed
    assert json.loads((out / "metrics.json").read_text())["leak_free"] is None


@needs_matplotlib
def test_dicom_and_nifti_files_left_out_are_named_in_the_report_and_told_where_they_are_read(tmp_path: Path, capsys,
                                                                                                stub):
    """A hospital's class folders hold DICOM and NIfTI files beside PNGs: evaluate scores the PNGs only. The console
    said "skipped 3 files that are not images by their name" (not where they can be read) and the report, the page
    that is shared, said "Every listed image could be read" without a word of them."""
    root = tmp_path / "mixed"
    put_images(root / "glioma")
    (root / "glioma" / "IM0001.dcm").write_bytes(b"\0" * 128 + b"DICM")
    (root / "glioma" / "IM0002").write_bytes(b"\0" * 128 + b"DICM")  # as scanners name them
    (root / "glioma" / "head.nii.gz").write_bytes(b"\x1f\x8b")
    out = tmp_path / "out"
    assert run_evaluate(None, str(root), str(out), progress=False) == 0
    err = capsys.readouterr().err
    assert "DICOM and NIfTI files are read by 'braintumor predict' only" in err
    # where they are read is told by the doc that holds it (it named a README section now cut to a summary)
    told = re.search(r"\(see (docs/\w+\.md)\)", err)
    assert told and told.group(1) == "docs/SCANS.md" and (Path(__file__).parents[1] / told.group(1)).is_file()
    doc = json.loads((out / "metrics.json").read_text())
    assert doc["n"] == 2 and doc["data"]["n_not_images"] == 3
    assert doc["data"]["not_image_endings"] == [".dcm", ".gz", "no ending"]
    html = (out / "report.html").read_text()
    assert ("Not scored: 3 files in the class folders that are not images by their name (.dcm, .gz, no ending). "
            "Evaluate reads image files (JPEG, PNG, BMP, TIFF, WebP); DICOM and NIfTI files are read by "
            "&#x27;braintumor predict&#x27; only.") in html


def test_linked_patient_folders_are_read_once_each_and_a_loop_is_not_followed(tmp_path: Path):
    """A labelled set made of symbolic links to an archive's patient folders lost every linked folder without a word
    (os.walk does not enter links): the gliomas below were "no images of glioma", their DICOM file unmentioned."""
    from braintumor.data import load_dataset
    from braintumor.input_plan import plan_inputs

    archive = tmp_path / "archive" / "p01"
    put_images(archive, n=3)
    (archive / "IM0001.dcm").write_bytes(b"\0" * 128 + b"DICM")
    root = tmp_path / "labelled"
    put_images(root / "notumor", seed=10)
    (root / "glioma").mkdir()
    (root / "glioma" / "p01").symlink_to(archive, target_is_directory=True)
    (root / "glioma" / "p01-again").symlink_to(archive, target_is_directory=True)  # the same folder twice: once
    (root / "glioma" / "loop").symlink_to(root, target_is_directory=True)  # a loop up the tree: not entered
    dataset = load_dataset(root, allow_missing=True)
    assert dataset.counts() == {"glioma": 3, "meningioma": 0, "notumor": 2, "pituitary": 0}
    assert [p.relative_to(root).as_posix() for p in dataset.paths[:3]] == [f"glioma/p01/slice{k}.png" for k in range(3)]
    assert [p.name for p in dataset.ignored] == ["IM0001.dcm"]
    planned = [str(x) for x in plan_inputs([root / "glioma"]) if isinstance(x, Path)]  # predict reads the same
    assert planned == [str(p) for p in dataset.paths[:3]]


@needs_matplotlib
def test_images_beside_the_class_folders_are_said_to_be_left_out(tmp_path: Path, capsys, stub):
    """EXT/Testing/scan.jpg next to EXT/Testing/glioma/ has no class: it was left out without a word, and the report's
    count read as every image of the folder."""
    root = tmp_path / "ext"
    put_images(root / "Testing" / "glioma")
    put_images(root / "Testing", n=3, seed=7)  # slice0..2.png beside the class folder
    (root / "Testing" / ".hidden.png").write_bytes(b"x")  # never data
    (root / "Testing" / "labels.csv").write_text("file,class\n")  # not an image
    put_images(root, n=1, seed=9)  # beside the splits, not the class folders: no part of the evaluated folder
    out = tmp_path / "out"
    assert run_evaluate(None, str(root), str(out), progress=False) == 0
    err = capsys.readouterr().err
    line = (f"skipped 3 images beside the class folders in {root / 'Testing'}, e.g. slice0.png: an image's class is "
            "the class folder it is in, and these are in none\n")
    assert err.count(line) == 1 and err.count("beside the class folders") == 1, err
    doc = json.loads((out / "metrics.json").read_text())
    assert doc["n"] == 2 and doc["data"]["n_outside_class_folders"] == 3
    assert (f"<p>Not scored: 3 images beside the class folders in {root / 'Testing'}: an image's class is the "
            "class folder it is in, and these are in none.</p>") in (out / "report.html").read_text()

    for image in (root / "Testing" / "glioma").iterdir():  # only the loose ones left: the error says where they are
        image.unlink()
    assert run_evaluate(None, str(root), str(out), progress=False) == 2
    assert "; 3 lie beside them, in no class folder" in capsys.readouterr().err


def test_the_training_split_named_as_the_root_is_said_to_be_training(tmp_path: Path) -> None:
    """``--data ROOT/Training`` (ROOT/Testing beside it) was told "ROOT/Training has no Training split to look for near
    duplicates in": it is the Training split, as ``--data ROOT --split Training`` is told."""
    from braintumor.data import load_dataset
    from braintumor.data_fingerprint import fingerprint
    from braintumor.evaluation_scope import leak_reference

    root = tmp_path / "set"
    for split, seed in (("Training", 0), ("Testing", 50)):
        put_images(root / split / "glioma", seed=seed)
    training = load_dataset(root / "Training", allow_missing=True)
    assert leak_reference(str(root / "Training"), training) == (
        None, "not computed: the evaluated images are the Training split itself")
    trained_on = fingerprint(training)  # the model's own training images: that note says more, and comes first
    assert leak_reference(str(root / "Training"), training, trained_on)[1].startswith(
        f"not computed: {root / 'Training'} holds the very images the model was trained on")
