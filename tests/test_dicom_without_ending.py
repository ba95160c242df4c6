"""DICOM as hospitals and PACS export it: files named ``IM00001``, ``I0000123``, by their UID (whose last dot-part looks
like an ending of digits) or ``*.IMA``, in ``DICOM/PAT0001/STU0001/SER0001/`` folders, some of them raw datasets with
no preamble and no 'DICM'. Each is read as DICOM whatever its name; other files without an ending stay unread and
unsaid, and files of an obviously other type are not even opened to look."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from conftest import synthetic_head
from dicom_factory import SECRETS, make_dataset, make_dicom, zip_bytes

from braintumor import folder_scans
from braintumor.input_plan import VolumeInput, plan_inputs
from braintumor.scan_sniff import sniff
from braintumor.volume_io import read_volumes

#: How a raw dataset (no preamble, no 'DICM') may be written: (implicit VR, little endian, with its file meta group).
RAW_ENCODINGS = [(True, True, False), (False, True, False), (False, False, False), (False, True, True)]


def _gray(k: int = 0) -> np.ndarray:
    return synthetic_head(96, seed=k)


def _raw(pixels: np.ndarray, implicit: bool = True, little: bool = True, meta: bool = False, **kw) -> bytes:
    """A raw dataset as some PACS export it: no 128-byte preamble, no 'DICM'; ``meta``: its file meta group first."""
    from pydicom.filebase import DicomFileLike
    from pydicom.filewriter import write_dataset, write_file_meta_info

    ds = make_dataset(pixels, **kw)
    buf = io.BytesIO()
    out = DicomFileLike(buf)
    if meta:
        write_file_meta_info(out, ds.file_meta, enforce_standard=True)
    del ds.file_meta
    if not little and "PixelData" in ds:  # pydicom writes the other elements big-endian, the pixel data as it holds it
        ds.PixelData = pixels.astype(">u2" if pixels.dtype != np.uint8 else np.uint8).tobytes()
    out.is_implicit_VR, out.is_little_endian = implicit, little
    write_dataset(out, ds)
    data = buf.getvalue()
    assert b"DICM" not in data[:132]
    return data


def _series(n: int, raw: bool) -> list[tuple[str, bytes]]:
    from pydicom.uid import generate_uid

    uid = generate_uid()
    make = _raw if raw else make_dicom
    return [(f"I{k + 1:07d}", make(_gray(k), series_uid=uid, instance=k + 1, position=5.0 * k)) for k in range(n)]


@pytest.mark.parametrize(("implicit", "little", "meta"), RAW_ENCODINGS)
def test_a_raw_dataset_without_an_ending_is_read_as_dicom(tmp_path, implicit, little, meta):
    """A raw dataset named ``I0000123`` was "not a recognised image: expected JPEG, PNG, ..." from predict, and "not a
    recognised volume" from read_volumes: only a .dcm or .dicom ending made it DICOM."""
    path = tmp_path / "I0000123"
    path.write_bytes(_raw(_gray(), implicit, little, meta))
    assert sniff(path.read_bytes()[:132]) == "dicom"
    (planned,) = plan_inputs([path])
    assert isinstance(planned, VolumeInput)
    (volume,) = planned.load()
    assert volume.kind == "dicom" and len(volume.slices) == 1
    assert np.array_equal(volume.slices[0].pixels, _gray())


@pytest.mark.parametrize("raw", [False, True], ids=["part10", "raw"])
def test_a_pacs_export_folder_of_files_without_endings_is_one_series(tmp_path, raw):
    """``DICOM/PAT0001/STU0001/SER0001/I0000001``...: one series in anatomical order, nothing said of the README."""
    folder = tmp_path / "DICOM" / "PAT0001" / "STU0001" / "SER0001"
    folder.mkdir(parents=True)
    for name, data in reversed(_series(3, raw)):
        (folder / name).write_bytes(data)
    (tmp_path / "DICOM" / "README.txt").write_text("exported by PACS\n")
    (tmp_path / "DICOM" / "LICENSE").write_text("viewer licence\n")  # an unknown file without an ending: unsaid
    notes: list[str] = []
    planned = list(plan_inputs([tmp_path], on_note=notes.append))
    assert [type(p) for p in planned] == [VolumeInput] and notes == []
    (volume,) = planned[0].load()
    assert [np.array_equal(s.pixels, _gray(k)) for k, s in enumerate(volume.slices)] == [True] * 3
    assert volume.notes == ()
    (again,) = read_volumes(tmp_path / "DICOM")
    assert len(again.slices) == 3


def test_predict_reads_a_folder_and_a_file_of_raw_datasets_without_endings(tmp_path, capsys):
    """``braintumor predict DICOM/`` said "error: no images found in folder" of raw datasets named I0000001..., and
    ``braintumor predict DICOM/.../I0000001`` "not a recognised image"; exit code 1 for both."""
    import json

    from cli_runner import run_cli

    folder = tmp_path / "DICOM" / "PAT0001" / "STU0001" / "SER0001"
    folder.mkdir(parents=True)
    for name, data in _series(2, raw=True):
        (folder / name).write_bytes(data)
    rc, out, err = run_cli(["predict", str(tmp_path / "DICOM"), str(folder / "I0000001"), "--format", "jsonl"], capsys)
    records = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and err == ""
    top, one = str(tmp_path / "DICOM"), str(folder / "I0000001")
    assert [(r["path"], r.get("slice"), "error" in r) for r in records] == \
        [(top, 0, False), (top, 1, False), (one, None, False)]


@pytest.mark.parametrize("name", ["IM00001", "1.2.840.113619.2.55.3.604688119.969.1268071029.320", "SCAN.IMA",
                                  "scan.dicom", "1.3.12.2.1107.5.2.32.35162.2010"])
@pytest.mark.parametrize("raw", [False, True], ids=["part10", "raw"])
def test_exports_names_are_dicom_in_a_folder_and_alone(tmp_path, name, raw):
    data = (_raw if raw else make_dicom)(_gray())
    (tmp_path / name).write_bytes(data)
    (volume,) = read_volumes(tmp_path)
    (alone,) = read_volumes(tmp_path / name)
    assert len(volume.slices) == len(alone.slices) == 1


def test_a_zip_of_raw_datasets_without_endings_is_read():
    """A zipped PACS export of raw datasets: each member was "skipped ... not DICOM or NIfTI"."""
    (volume,) = read_volumes(zip_bytes([(f"SER0001/{n}", d) for n, d in _series(2, raw=True)]), name="export.zip")
    assert len(volume.slices) == 2 and volume.notes == ()


@pytest.mark.parametrize("head", [
    b"", b"hello world, a README without an ending\n" * 4, bytes(200), b"\xff" * 200,
    b'{"group": 8, "json": true}', b"\x08\x00" + bytes(130),  # group 8, element 0, no VR, length 0, then zeros
    b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100" + b"\x00" * 20,  # one element, then nothing DICOM-like
    b"\x02\x00\x01\x00OB\x00\x00\x02\x00\x00\x00\x00\x01" + b"text" * 30,  # a valid first element, then text
], ids=["empty", "text", "zeros", "ones", "json", "group8-zeros", "one-element", "then-text"])
def test_files_that_only_start_like_a_dataset_are_not_dicom(head):
    """Conservative: a raw dataset is recognised by two well-formed elements of its first groups, in order."""
    assert sniff(head) is None and sniff(head, "IM00001") is None


def test_random_bytes_are_never_taken_for_a_raw_dataset():
    rng = np.random.default_rng(0)
    heads = [rng.integers(0, 256, 132, dtype=np.uint8).tobytes() for _ in range(2000)]
    heads += [b"\x08\x00" + h[2:] for h in heads[:500]] + [b"\x02\x00" + h[2:] for h in heads[500:1000]]
    assert [h for h in heads if sniff(h) == "dicom"] == []


def test_a_folder_walk_opens_no_file_of_an_obviously_other_type(tmp_path, monkeypatch):
    """A folder of 10 000 files is walked by reading 132 bytes of those that could be DICOM only: a .txt, .json,
    .csv, .xml, .html, .pdf or .zip is never opened to look (a .zip is still named in its note)."""
    opened: list[str] = []
    real = folder_scans.file_head

    def spy(path, n=132, **kwargs):
        opened.append(path.name)
        return real(path, n, **kwargs)

    monkeypatch.setattr(folder_scans, "file_head", spy)
    others = ["notes.txt", "meta.json", "list.csv", "study.xml", "index.html", "report.pdf", "more.zip", "a.md"]
    for name in others:
        (tmp_path / name).write_bytes(make_dicom(_gray()))  # even DICOM content: the name says it is not a scan
    (tmp_path / "IM00001").write_bytes(make_dicom(_gray()))
    (tmp_path / "scan.png").write_bytes(b"not read here")
    notes: list[str] = []
    planned = list(plan_inputs([tmp_path], on_note=notes.append))
    assert opened == ["IM00001"]
    assert [p.name if isinstance(p, Path) else type(p) for p in planned] == ["scan.png", VolumeInput]
    assert len(notes) == 1 and "more.zip" in notes[0]


def test_hidden_files_and_a_dicomdir_beside_extensionless_images(tmp_path):
    """Hidden files stay unread (an AppleDouble ``._IM00001`` is not a scan), and a DICOMDIR is named as such."""
    from pydicom.fileset import FileSet

    fs = FileSet()
    fs.add(make_dataset(_gray(), StudyDate="20200101", StudyTime="120000", StudyID="1"))
    fs.write(tmp_path / "export")
    files = sorted(p for p in (tmp_path / "export").rglob("*") if p.is_file())
    assert all(p.suffix == "" for p in files)  # DICOMDIR and PT000000/ST000000/SE000000/IM000000
    image = next(p for p in files if p.name != "DICOMDIR")
    (image.parent / f"._{image.name}").write_bytes(b"\x00\x05\x16\x07" + bytes(128))
    (volume,) = read_volumes(tmp_path / "export")
    assert len(volume.slices) == 1
    assert volume.notes == ("not read: 1 DICOMDIR file (a DICOMDIR is an index of a DICOM export's images, not an "
                            "image itself)",)


def test_the_python_api_tells_an_extensionless_raw_dataset_for_a_scan(tmp_path):
    """Classifier.predict reads 2-D images: a raw dataset named IM00001 was "not a recognised image"; now it is told
    for what it is, and how to read it."""
    from braintumor import Classifier, ImageError

    path = tmp_path / "IM00001"
    path.write_bytes(_raw(_gray()))
    with pytest.raises(ImageError, match=r"a DICOM file, not a 2-D image: braintumor\.volume_io\.read_volumes"):
        Classifier.load().predict(path)


def test_no_patient_field_is_logged_or_returned_for_a_raw_dataset(tmp_path, caplog):
    path = tmp_path / "I0000001"
    path.write_bytes(_raw(_gray()))
    with caplog.at_level("DEBUG"):
        (volume,) = read_volumes(path)
    said = repr(volume) + repr(volume.slices) + caplog.text  # a Volume's repr counts its slices, each shows its meta
    assert not [s for s in SECRETS if s in said]


@pytest.mark.parametrize("raw", [False, True], ids=["part10", "raw"])
def test_the_api_reads_an_upload_named_without_an_ending_as_dicom(raw):
    """A part named ``IM00001``, a browser's generic ``blob``, or no name at all: DICOM by its content. A raw one was
    sent down the 2-D image path: "not a recognised image"."""
    from braintumor import Classifier
    from braintumor.web import create_app

    app = create_app(classifier=Classifier.load(threads=1), max_upload_mb=8, max_files=6)
    data = (_raw if raw else make_dicom)(_gray())
    files = {"file": [(io.BytesIO(data), "IM00001"), (io.BytesIO(data), "blob"),
                      (io.BytesIO(data), "1.2.840.113619.2.55.3.604688119")]}
    r = app.test_client().post("/api/v1/predict", data=files, content_type="multipart/form-data")
    assert r.status_code == 200
    results = r.get_json()["results"]
    assert [(x["path"], "error" in x, x.get("dicom", {}).get("modality")) for x in results] == \
        [("IM00001", False, "MR"), ("blob", False, "MR"), ("1.2.840.113619.2.55.3.604688119", False, "MR")]
    body = app.test_client().post("/api/v1/predict", data=data, content_type="application/octet-stream")
    assert body.status_code == 200 and body.get_json()["results"][0]["dicom"]["modality"] == "MR"
    assert not [s for s in SECRETS if s in r.get_data(as_text=True) + body.get_data(as_text=True)]
