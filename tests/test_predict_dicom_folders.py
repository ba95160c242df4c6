"""``braintumor predict`` on a folder as a PACS export or a CD lays it out: series in sub-folders, one series split
over two, two series in one folder, a DICOMDIR at the top. The folder's DICOM files are read together and grouped by
Series Instance UID wherever they sit; the DICOMDIR, an index of the images and none itself, is not read, and one
note on stderr says so. The page reads a dropped folder the same way (tests/test_browser_dicom_folders.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from conftest import synthetic_head
from dicom_factory import make_dataset, make_dicom
from PIL import Image

from braintumor.cli import main
from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes


def _series(folder: Path, slices: int, number: int, first: int = 0, uid: str | None = None) -> str:
    """``slices`` DICOM files of one series (IM0000...) in ``folder``, positions 5 mm apart; its UID."""
    from pydicom.uid import generate_uid

    uid = uid or generate_uid()
    folder.mkdir(parents=True, exist_ok=True)
    for k in range(first, first + slices):
        pixels = (np.arange(64, dtype=np.uint8)[None, :] + 20 * k + np.zeros((64, 1), np.uint8)).astype(np.uint8)
        (folder / f"IM{k:04d}").write_bytes(make_dicom(pixels, series_uid=uid, instance=k + 1, position=5.0 * k,
                                                       SeriesNumber=number, SeriesDescription=f"AX {number}"))
    return uid


def dicomdir(folder: Path) -> None:
    """A real DICOMDIR (pydicom's FileSet) at the top of ``folder``."""
    from pydicom.fileset import FileSet

    fs = FileSet()
    fs.add(make_dataset(np.zeros((8, 8), np.uint8), StudyDate="20200101", StudyTime="120000", StudyID="1"))
    fs.write(folder.parent / f"{folder.name}-export")
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "DICOMDIR").write_bytes((folder.parent / f"{folder.name}-export" / "DICOMDIR").read_bytes())


def split_series(root: Path) -> Path:
    """study/SER1/a/IM0000-1 and study/SER1/b/IM0002-3: one series of 4 slices over two sub-folders."""
    uid = _series(root / "study" / "SER1" / "a", 2, 1)
    _series(root / "study" / "SER1" / "b", 2, 1, first=2, uid=uid)
    return root / "study"


def two_series_and_index(root: Path) -> Path:
    """study/DICOMDIR, study/SER1 (3 slices, number 1) and study/SER2 (2 slices, number 2)."""
    _series(root / "study" / "SER1", 3, 1)
    _series(root / "study" / "SER2", 2, 2)
    dicomdir(root / "study")
    return root / "study"


def predict(folder: Path, capsys) -> tuple[int, list[dict], str]:
    rc = main(["predict", str(folder), "--format", "jsonl", "--summary"])
    out, err = capsys.readouterr()
    return rc, [json.loads(line) for line in out.splitlines()], err


def test_a_series_split_over_sub_folders_is_one_series(tmp_path, capsys):
    rc, records, err = predict(split_series(tmp_path), capsys)
    summaries = [r for r in records if "summary" in r]
    assert rc == 0 and len(summaries) == 1 and summaries[0]["summary"]["slices"] == 4
    assert "series" not in summaries[0] and "note" not in err


def test_a_dicomdir_is_not_read_and_one_note_says_so(tmp_path, capsys):
    """It was read as a scan and refused: "skipped 1 file(s) in this input: DICOM file is a Media Storage Directory
    Storage object" on each series of the study, while the page passed it over with one note."""
    folder = two_series_and_index(tmp_path)
    rc, records, err = predict(folder, capsys)
    summaries = [r for r in records if "summary" in r]
    assert rc == 0 and [(s["series"], s["summary"]["slices"]) for s in summaries] == [(0, 3), (1, 2)]
    assert [s["summary"]["notes"] for s in summaries] == [
        ["2 series found; this is series 1 (number 1, AX 1)"], ["2 series found; this is series 2 (number 2, AX 2)"]]
    assert err.splitlines()[0] == (f"note: 1 file in {folder} not read (a DICOMDIR is an index of a DICOM "
                                   f"export's images, not an image itself): {folder / 'DICOMDIR'}")
    assert [v.notes[-1] for v in read_volumes(folder)] == [  # the Python API's read of the folder says it too
        "not read: 1 DICOMDIR file (a DICOMDIR is an index of a DICOM export's images, not an image itself)"] * 2


def test_a_dicomdir_beside_no_dicom_image_is_not_an_error(tmp_path, capsys):
    """A folder of a PNG and a DICOMDIR was an error record ("no DICOM image found (skipped 1 file(s): ...)") and a
    failed run; the page classified the PNG and noted the DICOMDIR."""
    folder = tmp_path / "export"
    dicomdir(folder)
    Image.fromarray(np.tile(np.arange(64, dtype=np.uint8), (64, 1))).save(folder / "a.png")
    rc, records, err = predict(folder, capsys)
    assert rc == 0 and [r["path"] for r in records] == [str(folder / "a.png")] and "error" not in records[0]
    said = [line for line in err.splitlines() if "DICOMDIR" in line]
    assert len(said) == 1 and said[0].startswith(f"note: 1 file in {folder} not read (a DICOMDIR is an index")


def test_a_slice_file_that_cannot_be_opened_is_an_error_record_not_left_out(tmp_path, capsys, monkeypatch):
    """A scanner's files have no ending, so a walk opens each to tell DICOM by its bytes; one it could not open (locked:
    Permission denied, simulated, as root is not refused) was taken for no scan and dropped from its series without a
    word (3 slices for 4, exit 0), and a folder of such files said 'no image or scan found'."""

    _series(tmp_path / "SER1", 4, 1)
    _series(tmp_path / "SER2", 2, 2)
    locked = [tmp_path / "SER1" / "IM0002", tmp_path / "SER2" / "IM0000", tmp_path / "SER2" / "IM0001"]
    _lock(monkeypatch, locked)
    for folder, slices in (("SER1", 3), ("SER2", 0)):
        rc, records, _ = predict(tmp_path / folder, capsys)
        errors = [r for r in records if "error" in r]
        assert rc == 1 and sum("slice" in r for r in records) == slices
        assert errors == [{"path": str(p), "error": "cannot read file: Permission denied"} for p in locked
                          if p.parent.name == folder]


def test_a_series_notes_reach_stderr_in_every_format_not_only_with_summaries(tmp_path, capsys):
    """A file of a series that was skipped (here not DICOM, named .dcm) is said in the series' notes, which only a
    summary carried: the table's, or --summary's. ``-o out.csv`` and ``--format jsonl`` said it nowhere, exit 0."""
    _series(tmp_path / "SER1", 3, 1)
    (tmp_path / "SER1" / "IM0009.dcm").write_bytes(b"not a scan")
    said = "note: skipped 1 file: not a DICOM file"
    for args in (["-o", str(tmp_path / "out.csv")], ["--format", "jsonl"], ["--format", "csv"], []):
        assert main(["predict", str(tmp_path / "SER1"), *args]) == 0
        out, err = capsys.readouterr()
        assert err.count(said) == 1 and said not in out, args
    assert main(["predict", str(tmp_path / "SER1"), "--format", "jsonl", "--summary"]) == 0
    out, err = capsys.readouterr()
    assert said not in err and "skipped 1 file" in json.loads(out.splitlines()[-1])["summary"]["notes"][0]


def _lock(monkeypatch, locked: list[Path]) -> None:
    """``locked`` refuse to be opened (Permission denied), as files without read permission do for anyone but root."""
    import os

    real = os.open

    def refusing(path, *args, **kwargs):
        if Path(os.fsdecode(path)) in locked:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", refusing)


def test_read_volumes_counts_a_locked_file_of_a_folder_as_it_counts_a_locked_dcm(tmp_path, monkeypatch):
    """``read_volumes(folder)`` said a locked IM0001.dcm in the series' notes ("skipped 1 file: cannot read file:
    Permission denied") but dropped a locked IM0002 (no ending: the walk could not open it to look) without a word,
    and a folder of only locked files was "no DICOM files found in folder"."""
    import pytest

    _series(tmp_path / "SER1", 4, 1)
    (tmp_path / "SER1" / "IM0001").rename(tmp_path / "SER1" / "IM0001.dcm")
    _lock(monkeypatch, [tmp_path / "SER1" / "IM0001.dcm", tmp_path / "SER1" / "IM0002"])
    (volume,) = read_volumes(tmp_path / "SER1")
    assert [s.meta["dicom"]["instance_number"] for s in volume.slices] == [1, 4]
    assert volume.notes == ("skipped 2 files: cannot read file: Permission denied",)
    _series(tmp_path / "SER2", 2, 2)
    _lock(monkeypatch, [tmp_path / "SER2" / "IM0000", tmp_path / "SER2" / "IM0001"])
    with pytest.raises(ImageError, match=r"^no DICOM image found \(skipped 2 files: cannot read file: Permission "
                                         r"denied\)$"):
        read_volumes(tmp_path / "SER2")


def test_a_locked_file_is_said_alike_with_and_without_resume(tmp_path, capsys, monkeypatch):
    """--resume (and --workers) read a folder's series as read_volumes does: once read_volumes counted a locked
    IM0002 in the series' notes, the summary of a --resume run said "skipped 1 file" and a plain run's did not."""
    _series(tmp_path / "SER1", 4, 1)
    _lock(monkeypatch, [tmp_path / "SER1" / "IM0002"])
    runs = []
    for extra in ([], ["--resume"]):
        target = tmp_path / f"out{len(extra)}.jsonl"
        assert main(["predict", str(tmp_path / "SER1"), "--format", "jsonl", "--summary", "-o", str(target),
                     *extra]) == 1
        runs.append([json.loads(line) for line in target.read_text().splitlines()])
    assert runs[0] == runs[1]
    assert runs[0][-1]["summary"]["notes"] == ["skipped 1 file: cannot read file: Permission denied"]


def test_a_locked_dcm_file_of_a_series_is_an_error_record_in_every_format(tmp_path, capsys, monkeypatch):
    """A locked IM0001.dcm (its ending made the walk take it for DICOM unopened) was only a stderr note, "skipped 1
    file: cannot read file: Permission denied": the csv or jsonl held no record of it (exit 0), where a locked IM0002
    was an error record. Now it is one too, and --resume neither repeats nor loses it."""
    import csv

    _series(tmp_path / "SER1", 3, 1)
    (tmp_path / "SER1" / "IM0001").rename(tmp_path / "SER1" / "IM0001.dcm")
    locked = str(tmp_path / "SER1" / "IM0001.dcm")
    _lock(monkeypatch, [Path(locked)])
    record = {"path": locked, "error": "cannot read file: Permission denied"}
    rc, records, err = predict(tmp_path / "SER1", capsys)
    assert rc == 1 and records[0] == record and sum("slice" in r for r in records) == 2
    assert "Permission denied" not in err.replace(locked, "")  # the record says it, and the summary: not stderr
    assert records[-1]["summary"]["notes"] == ["skipped 1 file: cannot read file: Permission denied"]
    for fmt in ("json", "csv", "table"):
        assert main(["predict", str(tmp_path / "SER1"), "--format", fmt, "-o", str(tmp_path / f"out.{fmt}")]) == 1
        text = (tmp_path / f"out.{fmt}").read_text()
        if fmt == "json":
            assert record in json.loads(text)
        elif fmt == "csv":
            first = next(csv.DictReader(text.splitlines()))
            assert {"path": first["path"], "error": first["error"]} == record
        else:
            assert locked in text and "cannot read file: Permission denied" in text
    capsys.readouterr()
    target = tmp_path / "r.jsonl"
    for _ in range(2):
        assert main(["predict", str(tmp_path / "SER1"), "--format", "jsonl", "-o", str(target), "--resume"]) == 1
        written = [json.loads(line) for line in target.read_text().splitlines()]
        assert written.count(record) == 1 and sum("slice" in r for r in written) == 2


def test_a_single_dicom_slice_below_the_folder_given_names_its_file_and_is_scored_by_its_class(tmp_path, capsys):
    """``braintumor predict DATA --format jsonl | python scripts/score_jsonl.py`` left a dataset's single DICOM slices
    unscored: each is a series of one file, recorded under the folder predict was given (DATA: no class folder), and
    nothing named the file. The record keeps that path (--resume knows the input by it) and names the file under
    ``file``; a series of several files names none: its slices are counted apart, as volumes' slices (they were
    said to be in no class folder, and predict to be given each class folder, which left them unscored all the
    same)."""
    root = tmp_path / "Testing"
    singles = [root / "glioma" / "patient1" / "one.dcm", root / "glioma" / "single.dcm", root / "meningioma" / "a.dcm"]
    for k, file in enumerate(singles):
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(make_dicom(synthetic_head(128, seed=k), SeriesNumber=k + 1))  # each a series of its own
    _series(root / "notumor" / "patient2", 3, 9)
    rc, records, _ = predict(tmp_path, capsys)
    answers = [r for r in records if "summary" not in r]
    assert rc == 0 and len(answers) == 6 and {r["path"] for r in answers} == {str(tmp_path)}
    assert sorted(r["file"] for r in answers if "slice" not in r) == sorted(map(str, singles))
    assert [r.get("file") for r in answers if "slice" in r] == [None] * 3
    text = "".join(json.dumps(r) + "\n" for r in records)
    scored = subprocess.run([sys.executable, str(Path(__file__).parents[1] / "scripts" / "score_jsonl.py")],
                            input=text, capture_output=True, text=True, timeout=60)
    lines = scored.stdout.splitlines()
    assert scored.returncode == 0 and lines[0].startswith("not scored: 3 slices of 1 volume or series"), scored
    assert lines[1].startswith("accuracy ") and "/3 = " in lines[1], lines  # no record left in no class folder
    assert [line.split()[0] for line in lines[3:]] == ["glioma", "meningioma"] and "/2 = " in lines[3], lines
    target = tmp_path / "r.jsonl"
    for _ in range(2):  # resumed: nothing of the folder redone, nothing lost
        assert main(["predict", str(tmp_path), "--format", "jsonl", "-o", str(target), "--resume"]) == 0
        assert [json.loads(line) for line in target.read_text().splitlines()] == answers


def test_the_table_names_a_single_dicom_slice_below_the_folder_given_by_its_file(tmp_path, capsys):
    """The table showed such a slice as ``FOLDER (series 2)``, where its json record names the file (``file``): a reader
    was left to find which of the folder's files that was. Its row, and its notes' heading on stderr, name the file; a
    series of several files is still the folder and its series."""
    singles = [tmp_path / "glioma" / "patient1" / "one.dcm", tmp_path / "meningioma" / "a.dcm"]
    for k, file in enumerate(singles):
        file.parent.mkdir(parents=True, exist_ok=True)
        file.write_bytes(make_dicom(synthetic_head(128, seed=k), SeriesNumber=k + 1))
    _series(tmp_path / "notumor" / "patient2", 2, 9)
    assert main(["predict", str(tmp_path), "--format", "table"]) == 0
    out, err = capsys.readouterr()
    names = [line.split()[0] for line in out.splitlines()[1:]]
    assert names[:2] == [str(f) for f in singles] and names[2:] == [str(tmp_path)] * 2, out
    assert out.splitlines()[3].startswith(f"{tmp_path} (series 3) "), out
    assert [line for line in err.splitlines() if line.endswith(".dcm:")] == [f"{f}:" for f in singles], err
