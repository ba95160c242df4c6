"""predict --workers N and --resume: the records of one process, every input once and in order, bounded look-ahead."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import encode, synthetic_head
from PIL import Image

from braintumor.batch_workers import in_order
from braintumor.cli import main
from braintumor.image_io import read_image
from braintumor.model_files import default_model_path

MODEL = default_model_path()
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")
CLASSES = ("glioma", "meningioma", "notumor", "pituitary")


@pytest.fixture(scope="module")
def tree(data_root, tmp_path_factory) -> Path:
    """40 real test images in class folders, a text file and a truncated JPEG, and an 8-slice NIfTI."""
    from dicom_factory import axial_volume, nifti_bytes

    root = tmp_path_factory.mktemp("tree")
    for c in CLASSES:
        (root / c).mkdir()
        for p in sorted((data_root / "Testing" / c).glob("*.jpg"))[:10]:
            shutil.copy(p, root / c / p.name)
    (root / "glioma" / "notes.jpg").write_text("I am text, not a JPEG")
    jpeg = encode(synthetic_head(), "JPEG")
    (root / "notumor" / "cut.jpg").write_bytes(jpeg[: len(jpeg) // 3])
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((160, 160)), np.uint8)
             for p in sorted((root / "pituitary").glob("*.jpg"))[:8]]
    (root / "head.nii.gz").write_bytes(nifti_bytes(axial_volume(stack)))
    return root


def predict(args: list, capsys) -> tuple[int, str, str]:
    rc = main(["predict", *map(str, args)])
    out, err = capsys.readouterr()
    return rc, out, err


def rows(text: str, fmt: str = "jsonl") -> list[dict]:
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(text)))
    return [json.loads(line) for line in text.splitlines()]


def _number(v: object) -> float | None:
    try:
        return float(v) if isinstance(v, (int, float, str)) and not isinstance(v, bool) else None
    except ValueError:
        return None


def close(x: object, y: object) -> None:
    """Equal, but for float noise a different batch composition may cause in ONNX Runtime."""
    if isinstance(x, dict) and isinstance(y, dict):
        assert x.keys() == y.keys()
        for k in x:
            close(x[k], y[k])
    elif x != y and _number(x) is not None and _number(y) is not None:
        assert _number(x) == pytest.approx(_number(y), abs=1e-5)
    else:
        assert x == y


def same_records(a: list[dict], b: list[dict]) -> None:
    assert [r["path"] for r in a] == [r["path"] for r in b]
    for x, y in zip(a, b, strict=True):
        close(x, y)


@pytest.fixture(scope="module")
def reference(tree, tmp_path_factory) -> dict[str, str]:
    """One process, complete files (jsonl and csv): what every other way of running must reproduce."""
    out = tmp_path_factory.mktemp("ref")
    texts = {}
    for fmt in ("jsonl", "csv"):
        assert main(["predict", str(tree), "--format", fmt, "-o", str(out / f"all.{fmt}"), "--no-progress"]) == 1
        texts[fmt] = (out / f"all.{fmt}").read_text()
    return texts


def test_workers_give_the_same_records_as_one_process(tree, reference, capsys):
    rc, out, err = predict([tree, "--format", "jsonl", "--workers", "2", "--batch-size", "8"], capsys)
    ref = rows(reference["jsonl"])
    assert rc == 1 and "2 unreadable inputs" in err
    assert len(ref) == 40 + 2 + 8 and sum("error" in r for r in ref) == 2
    assert sum(r.get("slice") is not None for r in ref) == 8
    same_records(rows(out), ref)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_resume_after_an_interruption_gives_every_input_once_in_order(tree, reference, tmp_path, fmt, capsys):
    full = reference[fmt]
    lines = full.splitlines(keepends=True)
    target = tmp_path / f"part.{fmt}"
    target.write_text("".join(lines[:21]) + lines[21][: len(lines[21]) // 2])  # crashed mid-line
    rc, _, err = predict([tree, "--format", fmt, "-o", target, "--resume", "--workers", "2"], capsys)
    assert rc == 1  # the two bad files, written before the interruption or after, still count
    kept = 21 if fmt == "jsonl" else 20  # csv: the header is one of the 21 lines
    assert "dropping an incomplete last line" in err and f"{kept} records already there" in err
    assert "nothing left to do" not in err
    same_records(rows(target.read_text(), fmt), rows(full, fmt))
    assert target.read_text().splitlines()[:21] == full.splitlines()[:21]  # what was there is kept verbatim
    rc, _, err = predict([tree, "--format", fmt, "-o", target, "--resume"], capsys)  # nothing left to do
    assert rc == 1 and "nothing left to do" in err and len(rows(target.read_text(), fmt)) == len(rows(full, fmt))
    assert not [p for p in tmp_path.iterdir() if p.name != target.name]  # no temp file left behind


def test_resume_redoes_a_volume_that_may_be_unfinished(tree, reference, tmp_path, capsys):
    full = reference["jsonl"].splitlines(keepends=True)
    first_slice = next(i for i, line in enumerate(full) if '"slice": ' in line)
    target = tmp_path / "part.jsonl"
    target.write_text("".join(full[: first_slice + 3]))  # three of the volume's eight slices, whole lines
    rc, _, err = predict([tree, "--format", "jsonl", "-o", target, "--resume"], capsys)
    assert rc == 1 and "is unfinished; it is redone" in err
    same_records(rows(target.read_text()), rows("".join(full)))


@pytest.fixture(scope="module")
def scans(tree, tmp_path_factory) -> Path:
    """A folder of two DICOM series (3 + 2 slices) and a zip holding a DICOM series and a NIfTI member."""
    from dicom_factory import axial_volume, nifti_bytes, series, zip_bytes

    root = tmp_path_factory.mktemp("scans")
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((96, 96)), np.uint8)
             for p in sorted((tree / "glioma").glob("*.jpg"))[:5]]
    (root / "two").mkdir()
    for k, (name, data) in enumerate(series(stack[:3]) + series(stack[3:])):
        (root / "two" / f"{k}-{name}.dcm").write_bytes(data)
    members = [*series(stack[:2]), ("head.nii.gz", nifti_bytes(axial_volume(stack[2:])))]
    (root / "mixed.zip").write_bytes(zip_bytes(members))
    return root


@pytest.mark.parametrize("cut", range(1, 10))
def test_resume_redoes_a_scan_cut_anywhere_even_one_of_several_series_or_paths(scans, tmp_path, cut, capsys):
    """Cut after any whole line: the result is the uninterrupted file. Before, a folder of two series cut in its
    second series, or a zip cut in its NIfTI member (records under 'zip:member'), was announced as 'redone' and
    then skipped as done: those slices were lost for good."""
    args = [scans / "two", scans / "mixed.zip", "--summary", "--format", "jsonl"]
    assert main(["predict", *map(str, args), "-o", str(tmp_path / "full.jsonl"), "--no-progress"]) == 0
    full = (tmp_path / "full.jsonl").read_text().splitlines(keepends=True)
    assert len(full) == 5 + 2 + 2 + 1 + 3 + 1  # slices and summaries: 3 + 2 in two series, 2 + 3 in the zip
    capsys.readouterr()
    cuts = [1, 3, 4, 5, 7, 8, 10, 11, 13]  # inside a series, at its summary, between series, inside the zip's parts
    target = tmp_path / "part.jsonl"
    target.write_text("".join(full[: cuts[cut - 1]]))
    rc, _, err = predict([*args, "-o", target, "--resume"], capsys)
    assert rc == 0, err
    same_records(rows(target.read_text()), rows("".join(full)))


def test_csv_and_table_tell_the_series_of_one_folder_apart(scans, capsys):
    """Two series in one folder share its path: the csv's series column and the table's path say which is which
    (before, the two sets of rows 'two, slice 0, 1, 2' could not be told apart)."""
    rc, out, _ = predict([scans / "two", "--format", "csv"], capsys)
    table = list(csv.DictReader(io.StringIO(out)))
    assert rc == 0 and [(r["series"], r["slice"]) for r in table] == [("0", "0"), ("0", "1"), ("0", "2"),
                                                                        ("1", "0"), ("1", "1")]
    rc, out, _ = predict([scans / "two"], capsys)
    lines = out.splitlines()[1:]
    assert rc == 0 and [line.split()[1:3] for line in lines] == [["(series", "1)"]] * 3 + [["(series", "2)"]] * 2


def test_resume_reads_csv_records_whose_file_names_hold_newlines_and_quotes(tmp_path, capsys):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a\nb.png", 'say "hi"\n.png', "plain.png"):
        (folder / name).write_bytes(encode(synthetic_head(), "PNG"))
    full_path = tmp_path / "full.csv"
    assert predict([folder, "--format", "csv", "-o", full_path], capsys)[0] == 0
    full = full_path.read_text()
    assert len(full.splitlines()) == 6  # header + 3 records, two of them two lines long
    second = full.index('"' + str(folder / 'say'))
    for cut in (full.index("\n", second) + 1, second + 3, len(full)):  # inside a name after its newline, mid-record
        target = tmp_path / f"cut{cut}.csv"
        target.write_text(full[:cut])
        rc, _, err = predict([folder, "--format", "csv", "-o", target, "--resume"], capsys)
        assert rc == 0, err
        assert target.read_text() == full


def test_resume_refuses_a_file_it_did_not_write(tree, tmp_path, capsys):
    target = tmp_path / "notes.jsonl"
    target.write_text("my own notes\n")
    rc, _, err = predict([tree, "--format", "jsonl", "-o", target, "--resume"], capsys)
    assert rc == 2 and "cannot resume: line 1" in err and target.read_text() == "my own notes\n"
    target = tmp_path / "other.csv"
    target.write_text("a,b\n1,2\n")
    rc, _, err = predict([tree, "--format", "csv", "-o", target, "--resume", "--heatmap", tmp_path / "maps"], capsys)
    assert rc == 2 and "another csv header" in err and target.read_text() == "a,b\n1,2\n"
    assert not (tmp_path / "maps").exists()  # the refused run made its heat map folder first, and left it empty
    # a file begun before the csv's last column (note, braintumor.stripped's): named, not "another model or format?"
    target = tmp_path / "older.csv"
    assert predict([tree, "-o", target], capsys)[0] == 1  # (the tree's two unreadable files)
    header = target.read_text().split("\n", 1)[0]
    assert header.endswith(",series,note")
    target.write_text(header.removesuffix(",note") + "\n")
    rc, _, err = predict([tree, "-o", target, "--resume"], capsys)
    assert rc == 2 and "begun by an older braintumor, without the csv's last column, note" in err


def test_resume_refuses_a_csv_row_no_csv_reader_can_read(tree, tmp_path, capsys):
    """A bare carriage return in a cell (written so before csv_records.CsvRows, or left by an editor) is the usage error
    of any file not written by predict, not a csv.Error traceback."""
    target = tmp_path / "old.csv"
    assert predict([tree, "-o", target], capsys)[0] == 1  # (the tree's two unreadable files)
    header, first, rest = target.read_text().split("\n", 2)
    target.write_text(f"{header}\n{first[:3]}\r{first[3:]}\n{rest}", newline="")
    before = target.read_bytes()
    rc, out, err = predict([tree, "-o", target, "--resume"], capsys)
    assert (rc, out) == (2, "") and "cannot resume: line 2 of" in err and target.read_bytes() == before
    target.write_text(f"{header[:3]}\r{header[3:]}\n", newline="")
    rc, out, err = predict([tree, "-o", target, "--resume"], capsys)
    assert (rc, out) == (2, "") and "another csv header" in err


@pytest.mark.parametrize(("args", "message"), [
    (["--resume"], "--resume needs -o FILE"),
    (["--resume", "-o", "x.json", "--format", "json"], "--resume works with --format jsonl or csv"),
])
def test_bad_combinations_are_usage_errors(tree, args, message, capsys):
    rc, out, err = predict([tree, *args], capsys)
    assert rc == 2 and err.startswith(f"error: {message}") and out == ""


def test_empty_folder_is_a_clear_error_record(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    target = tmp_path / "out.jsonl"
    for _ in range(2):  # the second run finds it done, and still reports the failure
        rc, _, err = predict([tmp_path / "empty", "--format", "jsonl", "-o", target, "--resume", "--workers", "2"],
                             capsys)
        assert rc == 1 and "1 unreadable input" in err
    assert rows(target.read_text()) == [{"path": str(tmp_path / "empty"), "error": (
        "no image or scan found in the folder (JPEG, PNG, BMP, TIFF, WebP, DICOM or NIfTI)")}]


def test_workers_look_ahead_a_bounded_number_of_units(tree):
    images = [str(p) for c in CLASSES for p in sorted((tree / c).glob("*.jpg"))]
    pulled = []

    def units():
        for p in images:
            pulled.append(p)
            yield [p]

    stream = in_order(units(), 2, str(MODEL), 1, 8, False, False)
    first = next(stream)
    assert first["path"] == images[0] and len(pulled) <= 2 * 2 + 1  # not the whole input
    stream.close()  # stops the workers
    assert len(pulled) < len(images)


def test_output_files_get_the_permissions_new_files_get(data_root, tmp_path, capsys):
    """mkstemp made results and heat maps owner-only (0600) whatever the umask: a team could not read them."""
    image = tmp_path / "a.jpg"
    shutil.copy(sorted((data_root / "Testing" / "glioma").glob("*.jpg"))[0], image)
    old = os.umask(0o022)
    try:
        assert predict([image, "-o", tmp_path / "r.jsonl", "--heatmap", tmp_path / "maps"], capsys)[0] == 0
        assert (tmp_path / "r.jsonl").stat().st_mode & 0o777 == 0o644
        assert (tmp_path / "maps" / "a.heatmap.png").stat().st_mode & 0o777 == 0o644
        (tmp_path / "r.jsonl").chmod(0o600)  # chosen by its owner: a resume that rewrites it keeps it
        with open(tmp_path / "r.jsonl", "a") as fh:
            fh.write('{"path": "cut')
        assert predict([image, "-o", tmp_path / "r.jsonl", "--resume"], capsys)[0] == 0
        assert (tmp_path / "r.jsonl").stat().st_mode & 0o777 == 0o600
    finally:
        os.umask(old)


def test_file_names_that_are_not_utf8_are_written_as_their_bytes_and_resumed(tmp_path, capsys):
    """A name with byte 0xff: predict's csv was a UnicodeEncodeError traceback (every --resume too), and the
    dataset fingerprint of train and evaluate failed the same way."""
    from braintumor.data import load_dataset
    from braintumor.data_fingerprint import fingerprint

    folder = tmp_path / "in"
    (folder / "Testing" / "glioma").mkdir(parents=True)
    odd = os.path.join(os.fsencode(folder / "Testing" / "glioma"), b"x\xff.png")
    with open(odd, "wb") as fh:
        fh.write(encode(synthetic_head(), "PNG"))
    (folder / "Testing" / "glioma" / "y.png").write_bytes(encode(synthetic_head(seed=1), "PNG"))
    assert len(fingerprint(load_dataset(folder, "Testing", allow_missing=True))) == 64
    target = tmp_path / "r.csv"
    assert predict([folder / "Testing", "-o", target], capsys)[0] == 0
    assert b"x\xff.png" in target.read_bytes()  # the name's own bytes
    full = target.read_bytes()
    target.write_bytes(full[: full.index(b"y.png")])  # interrupted before the second record
    rc, _, err = predict([folder / "Testing", "-o", target, "--resume"], capsys)
    assert rc == 0 and "1 record already there" in err and target.read_bytes() == full
    table = subprocess.run([sys.executable, "-m", "braintumor", "predict", str(folder / "Testing"), "--format",
                            "table"], env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, capture_output=True)
    assert table.returncode == 0 and b"x\xff.png" in table.stdout, table.stderr  # printed as its bytes, as ls does


def test_a_folder_of_dicom_and_nifti_files_is_read_once_by_workers_and_resume(tmp_path, capsys):
    """``read_volumes`` of a folder reads its NIfTI files too, while a predict run plans each of them as an input of its
    own: workers, which read a folder's series again from its name alone, gave the NIfTI slices twice, the second time
    as the folder's. Workers and --resume read the folder's DICOM series alone, as one process does."""
    from dicom_factory import axial_volume, nifti_bytes, series

    folder = tmp_path / "mixed"
    folder.mkdir()
    stack = [synthetic_head(96, seed=k) for k in range(5)]
    for k, (name, data) in enumerate(series(stack[:2])):
        (folder / f"{k}-{name}.dcm").write_bytes(data)
    (folder / "head.nii.gz").write_bytes(nifti_bytes(axial_volume(stack[2:])))
    _, ref, _ = predict([folder, "--format", "jsonl", "--no-progress"], capsys)
    assert [(r["path"], r.get("slice")) for r in rows(ref) if "slice" in r] == [
        (str(folder), 0), (str(folder), 1)] + [(str(folder / "head.nii.gz"), k) for k in range(3)]
    _, out, _ = predict([folder, "--format", "jsonl", "--workers", "2", "--no-progress"], capsys)
    same_records(rows(out), rows(ref))
    target = tmp_path / "part.jsonl"
    for kept, unfinished in ((1, True), (2, False)):  # one of the folder's series' two slices, or both
        target.write_text("".join(ref.splitlines(keepends=True)[:kept]))
        _, _, err = predict([folder, "--format", "jsonl", "-o", target, "--resume", "--no-progress"], capsys)
        assert ("is unfinished; it is redone" in err) is unfinished  # both: its NIfTI file's slices were awaited too
        same_records(rows(target.read_text()), rows(ref))


def test_a_model_removed_during_a_run_is_told_by_name_not_as_a_broken_worker(tree, tmp_path, monkeypatch, capsys):
    """A worker started after the model file was removed could not load it: its error (MissingModelError, made from a
    lambda) could not be unpickled in the CLI, the pool broke, and the run said "a worker process stopped unexpectedly
    (out of memory?)" of a model file that is gone."""
    from braintumor import predict_cli

    model = tmp_path / "m.onnx"
    shutil.copy(MODEL, model)

    class Removed(predict_cli.Classifier):  # the CLI's load, then the file removed before any worker loads it
        @classmethod
        def load(cls, *args, **kwargs):
            clf = super().load(*args, **kwargs)
            model.unlink()
            return clf

    monkeypatch.setattr(predict_cli, "Classifier", Removed)
    rc, _, err = predict([tree / "glioma", "--model", model, "--workers", "2", "--format", "jsonl", "--no-progress"],
                         capsys)
    assert rc == 2 and err.startswith(f"error: model file not found: {model} ") and "--model FILE" in err, err
