"""Refusals say what is wrong in words, never a Python exception's class name: "DICOM header cannot be read
(TypeError)" and "image data is corrupt or truncated (OSError)" told a clinician nothing they could act on."""

from __future__ import annotations

import io
import re
import struct

import numpy as np
import pytest
from cli_runner import jsonl, run_predict
from dicom_factory import SECRETS, make_dicom, with_raw_element

from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes
from braintumor.web import create_app

#: A class name in parentheses, as the messages ended: "(TypeError)", "(error)", "(BytesLengthException)".
CLASS_NAME = re.compile(r"\((?:[A-Z][A-Za-z]*(?:Error|Exception|Warning)|error)\)")
HEAD = (np.arange(64 * 64).reshape(64, 64) % 200).astype(np.uint16)


def _rows_of(length: int) -> bytes:
    """A DICOM whose Rows (US, one value of 2 bytes) is ``length`` bytes long."""
    data = with_raw_element(make_dicom(HEAD), "Rows", b"US", b"\x40\x00" + bytes(6))  # 8 bytes: 4 values
    at = data.index(struct.pack("<HH", 0x28, 0x10), data.index(b"DICM"))
    return data[:at + 6] + struct.pack("<H", length) + data[at + 8:at + 8 + length] + data[at + 16:]


@pytest.mark.parametrize(("length", "said"), [
    (8, "DICOM header's Rows holds 4 values where one belongs: damaged, or written wrongly by the software"),
    (4, "DICOM header's Rows holds 2 values where one belongs: damaged, or written wrongly by the software"),
    (7, "DICOM file has pixel data but no valid Rows/Columns")])  # (7 bytes: no value at all, the Rows dropped)
def test_a_dicom_header_value_that_cannot_be_read_is_named(length, said):
    with pytest.raises(ImageError) as caught:
        read_volumes(_rows_of(length), name="x.dcm")
    message = str(caught.value)
    assert message.startswith(said), message
    assert not CLASS_NAME.search(message) and not any(s in message for s in SECRETS)


def test_a_header_the_checks_fail_on_for_no_known_reason_says_so_plainly(monkeypatch):
    from braintumor import dicom_checks
    from braintumor.dicom_io import read_dataset

    def broken(*_args):
        raise KeyError("no such key")

    monkeypatch.setattr(dicom_checks, "_pixel_description_problem", broken)
    with pytest.raises(ImageError, match=r"^DICOM header holds a value this reader cannot interpret: damaged, or "
                                         r"written wrongly by the software that exported it: export it again and "
                                         r"send that$"):
        dicom_checks.check_image(read_dataset(make_dicom(HEAD)), 10)


def test_a_dicom_header_value_is_named_by_the_api_and_the_cli(tmp_path, capsys, tiny_classifier):
    app = create_app(classifier=tiny_classifier, max_upload_mb=8, max_files=6)
    r = app.test_client().post("/api/v1/predict", data={"file": [(io.BytesIO(_rows_of(8)), "x.dcm")]},
                               content_type="multipart/form-data")
    (record,) = r.get_json()["results"]
    assert record["error"].startswith("DICOM header's Rows holds 4 values where"), record
    (tmp_path / "x.dcm").write_bytes(_rows_of(8))
    rc, out, _ = run_predict([tmp_path / "x.dcm", "--format", "jsonl"], capsys)
    (record,) = jsonl(out)
    assert rc == 1 and record["error"].startswith("DICOM header's Rows holds 4 values"), record


def _packed(kind: str, data: bytes) -> bytes:
    import bz2
    import gzip
    import lzma

    return {"gzip": gzip.compress, "bzip2": bz2.compress, "xz": lzma.compress}[kind](data)


@pytest.mark.parametrize(("kind", "tool"), [("gzip", "gunzip"), ("bzip2", "bunzip2"), ("xz", "unxz")])
def test_a_compressed_image_is_told_to_be_decompressed(kind, tool):
    """It was "not a recognised image or scan", with no word of the compression."""
    from conftest import encode, synthetic_head

    from braintumor.image_io import read_image

    article = "an" if kind == "xz" else "a"
    with pytest.raises(ImageError, match=rf"^{article} {kind}-compressed file holding a JPEG image: compressed files "
                                         rf"are not read \(but for a NIfTI volume, \.nii\.gz\); decompress it "
                                         rf"\({tool}\) and send what it holds$"):
        read_image(_packed(kind, encode(synthetic_head(), "JPEG")))
    with pytest.raises(ImageError, match=rf"^{article} {kind}-compressed file: compressed files are not read"):
        read_image(_packed(kind, bytes(range(256)) * 4))  # what it holds: nothing named


def test_a_gzipped_tar_of_dicom_files_is_told_to_be_sent_as_files_or_a_zip():
    import tarfile

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        info = tarfile.TarInfo("IM1.dcm")
        data = make_dicom(HEAD)
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(ImageError, match=r"^a gzip-compressed tar archive: archives are read as zips of DICOM files; "
                                         r"extract it and send the files in it, or a zip of them$"):
        read_volumes(_packed("gzip", buf.getvalue()), name="series.tar.gz")


def test_a_gzipped_image_is_named_as_such_by_the_api_and_the_cli(tmp_path, capsys, tiny_classifier):
    from conftest import encode, synthetic_head

    packed = _packed("gzip", encode(synthetic_head(), "PNG"))
    app = create_app(classifier=tiny_classifier, max_upload_mb=8, max_files=6)
    r = app.test_client().post("/api/v1/predict", data={"file": [(io.BytesIO(packed), "scan.gz", "application/gzip")]},
                               content_type="multipart/form-data")
    said = "a gzip-compressed file holding a PNG image: compressed files are not read"
    assert r.get_json()["results"][0]["error"].startswith(said), r.get_json()
    (tmp_path / "scan.png.gz").write_bytes(packed)
    rc, out, _ = run_predict([tmp_path / "scan.png.gz", "--format", "jsonl"], capsys)
    (record,) = jsonl(out)
    assert rc == 1 and record["error"].startswith(said), record
