"""Refusals say what is wrong in words, never a Python exception's class name: "DICOM header cannot be read
(TypeError)" and "image data is corrupt or truncated (OSError)" told a clinician nothing they could act on."""

from __future__ import annotations

import io
import re
import struct

import numpy as np
import pytest
from cli_runner import jsonl, run_predict
from conftest import extra_reason
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
    with pytest.raises(ImageError, match=r"^a gzip-compressed tar archive: archives are read as zips of DICOM or "
                                         r"NIfTI files; extract it and send the files in it, or a zip of them$"):
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


def _encoded(fmt: str) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray((HEAD % 251).astype(np.uint8)).save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("fmt", ["WEBP", "TIFF", "GIF", "PNG", "JPEG", "BMP"])
@pytest.mark.parametrize("kept", [0.3, 0.6])
def test_an_image_cut_short_is_refused_in_words(fmt, kept):
    from braintumor.image_io import read_image

    data = _encoded(fmt)
    with pytest.raises(ImageError) as caught:
        read_image(data[:int(len(data) * kept)])
    assert not CLASS_NAME.search(str(caught.value)), str(caught.value)


def test_a_webp_cut_short_says_so_with_both_sizes(tmp_path, capsys, tiny_classifier):
    """libwebp refused it unread ("could not create decoder object"): it was "...corrupt or truncated (OSError)"."""
    from braintumor.image_io import read_image

    data = _encoded("WEBP")
    cut = data[:len(data) // 2]
    said = f"WebP data is truncated: its header declares {len(data):,} bytes, and the file ends at byte {len(cut):,}"
    with pytest.raises(ImageError) as caught:
        read_image(cut)
    assert str(caught.value) == said
    app = create_app(classifier=tiny_classifier, max_upload_mb=8, max_files=6)
    r = app.test_client().post("/api/v1/predict", data={"file": [(io.BytesIO(cut), "x.webp")]},
                               content_type="multipart/form-data")
    assert r.get_json()["results"] == [{"path": "x.webp", "error": said}]
    (tmp_path / "x.webp").write_bytes(cut)
    rc, out, _ = run_predict([tmp_path / "x.webp", "--format", "jsonl"], capsys)
    assert rc == 1 and [r["error"] for r in jsonl(out)] == [said]


def test_a_webp_of_damaged_data_gets_a_plain_sentence():
    from braintumor.image_io import UNDECODABLE, read_image

    data = _encoded("WEBP")
    with pytest.raises(ImageError) as caught:
        read_image(data[:23] + bytes(4) + data[27:])  # its size kept, its VP8 frame's start code zeros
    assert str(caught.value) == UNDECODABLE


def test_a_lazily_loaded_pil_image_cut_short_is_said_to_be(clf):
    """A PIL image opened from a file cut short, decoded only when predicted: "image cannot be read as grayscale
    (OSError)"."""
    from PIL import Image

    from braintumor.image_io import TRUNCATED

    data = _encoded("PNG")
    with pytest.raises(ImageError) as caught:
        clf.predict(Image.open(io.BytesIO(data[:len(data) // 2])))
    assert str(caught.value) == TRUNCATED


def test_a_stream_that_breaks_off_is_said_to():
    from braintumor.image_io import read_image

    class Broken(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def read(self, _size: int = -1) -> bytes:
            raise ConnectionResetError("peer gone")

    with pytest.raises(ImageError, match=r"^cannot read the file: reading it failed partway \(a socket, pipe or "
                                         r"network file that broke off\?\)$"):
        read_image(Broken())


EXPORT_AGAIN_RE = r"damaged, or written wrongly by the software that exported it: export it again and send that$"


def test_a_dicom_without_an_attribute_its_pixels_need_names_it():
    """pydicom's "Missing required element" was "DICOM pixel data is corrupt or truncated (AttributeError)"."""
    from dicom_factory import make_dataset, to_bytes

    ds = make_dataset(HEAD)
    del ds.PixelRepresentation
    with pytest.raises(ImageError, match=r"^DICOM header has no Pixel Representation, which decoding its pixels "
                                         rf"needs: {EXPORT_AGAIN_RE}"):
        read_volumes(to_bytes(ds), name="x.dcm")


def test_a_dicom_file_meta_value_of_the_wrong_length_is_said_in_words():
    """Its group length (UL, 4 bytes) of 2 bytes was "DICOM data is corrupt or truncated (BytesLengthException)"."""
    data = make_dicom(HEAD)
    at = data.index(b"DICM") + 4
    assert data[at:at + 8] == b"\x02\x00\x00\x00UL\x04\x00"
    broken = data[:at + 6] + b"\x02\x00" + data[at + 8:at + 10] + data[at + 12:]
    with pytest.raises(ImageError, match=rf"^DICOM data is corrupt: a header value's length does not fit its type: "
                                         rf"{EXPORT_AGAIN_RE}"):
        read_volumes(broken, name="x.dcm")


@pytest.mark.parametrize(("where", "said"), [
    ("braintumor.dicom_io.frame_to_uint8", r"^DICOM pixel values cannot be mapped to gray levels \(a rescale or "
                                           r"lookup table in its header cannot be applied\): "),
    ("braintumor.nifti_io.ct_values", r"^NIfTI voxel data could not be read: "),
    ("braintumor.nifti_io.read_nifti", r"^this scan could not be read: the reader failed on it \(logged\); "),
])
def test_a_scan_reader_failing_for_no_known_reason_says_so_plainly(where, said, monkeypatch):
    from dicom_factory import axial_volume, nifti_bytes

    def broken(*_args, **_kwargs):
        raise struct.error("required argument is not an integer")

    monkeypatch.setattr(where, broken)
    data, name = (make_dicom(HEAD), "x.dcm") if "dicom" in where else (nifti_bytes(axial_volume([HEAD] * 4)), "x.nii")
    with pytest.raises(ImageError, match=said + EXPORT_AGAIN_RE):
        read_volumes(data, name=name)


def test_a_nifti_header_nibabel_refuses_for_no_known_reason_is_said_plainly():
    from braintumor.nifti_header import header_error

    assert str(header_error(struct.error("bad char in struct format"))) == (
        "NIfTI header could not be read by nibabel: damaged, or written wrongly by the software that exported it: "
        "export it again and send that")


def test_uncompressed_dicom_pixels_pydicom_fails_on_for_no_known_reason_are_said_plainly(monkeypatch):
    from pydicom.dataset import Dataset

    def broken(_self):
        raise struct.error("unpack requires a buffer")

    monkeypatch.setattr(Dataset, "pixel_array", property(broken))
    with pytest.raises(ImageError, match=rf"^DICOM pixel data could not be decoded: {EXPORT_AGAIN_RE}"):
        read_volumes(make_dicom(HEAD), name="x.dcm")


def test_a_model_file_that_cannot_be_loaded_is_said_in_words(tmp_path):
    """They were "not a valid ONNX file (InvalidProtobuf)" and "has broken 'braintumor' metadata (TypeError)"."""
    import shutil

    from braintumor.calibrate import write_metadata
    from braintumor.model_files import ModelError, default_model_path
    from braintumor.predictor import Classifier

    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelError) as caught:
        Classifier.load(junk)
    assert str(caught.value) == (f"cannot load model {junk}: not a valid ONNX file, or one this onnxruntime cannot "
                                 "run (damaged, cut short, or made for a newer version)")
    pytest.importorskip("onnx", reason=extra_reason("onnx"))
    model = tmp_path / "m.onnx"
    shutil.copy(default_model_path(), model)
    write_metadata(model, {"temperature": None})  # classes: None is named as such (test_model_loading.py)
    with pytest.raises(ModelError) as caught:
        Classifier.load(model)
    assert str(caught.value) == f"{model} has broken 'braintumor' metadata (a field that cannot be used): export " \
        "the model again"


def test_a_training_state_cut_short_is_said_in_words(tmp_path):
    pytest.importorskip("torch", reason=extra_reason("torch"))
    from braintumor.resume_state import load_training_state

    (tmp_path / "last.pt").write_bytes(b"PK\x03\x04 cut short")
    assert load_training_state(tmp_path / "last.pt") == (
        f"cannot resume {tmp_path}: its last.pt is corrupt or truncated (cut short in a copy, or written by a run "
        "that was killed); --overwrite starts the run again")


def test_a_nibabel_image_whose_file_is_gone_is_said_in_words(tmp_path):
    """It was "nibabel cannot write this image as a NIfTI file (FileNotFoundError)"."""
    import nibabel as nib
    from dicom_factory import axial_volume, nifti_bytes

    path = tmp_path / "head.nii"
    path.write_bytes(__import__("gzip").decompress(nifti_bytes(axial_volume([HEAD] * 4))))
    image = nib.load(path)
    path.unlink()
    with pytest.raises(ImageError, match=r"^nibabel cannot write this image as a NIfTI file \(its voxels' file is "
                                         r"gone, or its header holds values nibabel refuses to write\): load it again "
                                         r"from its file$"):
        read_volumes(image)


def _class_names_in_messages(source: str) -> list[int]:
    """Lines of ``source`` whose f-strings put an exception's class into text (``{exc.__class__.__name__}``,
    ``{type(exc).__name__}``, ``{exc!r}``, for a name an ``except`` binds or an ``exc`` parameter): what users read
    ends in words, never a class name. A log line names the class through %s arguments, not an f-string, and stays."""
    import ast

    tree = ast.parse(source)
    caught = {"exc", "err", "error"} | {h.name for h in ast.walk(tree) if isinstance(h, ast.ExceptHandler) and h.name}
    found = []
    for node in (n for n in ast.walk(tree) if isinstance(n, ast.FormattedValue)):
        value = node.value
        if isinstance(value, ast.Attribute) and value.attr == "__name__":
            value = value.value
            if isinstance(value, ast.Attribute) and value.attr == "__class__":
                value = value.value
            elif isinstance(value, ast.Call) and getattr(value.func, "id", None) == "type" and value.args:
                value = value.args[0]
        elif node.conversion != ord("r"):
            continue
        if isinstance(value, ast.Name) and value.id in caught:
            found.append(node.lineno)
    return found


def test_no_message_names_a_caught_exception_by_its_class():
    from pathlib import Path

    import braintumor

    caught = "try:\n    pass\nexcept ValueError as exc:\n    raise E(f'x ({type(exc).__name__})')\n"
    assert _class_names_in_messages(caught) == [4]  # the check finds what it looks for
    root = Path(braintumor.__file__).parent
    found = {str(p.relative_to(root)): lines for p in sorted(root.rglob("*.py"))
             if (lines := _class_names_in_messages(p.read_text(encoding="utf-8")))}
    assert found == {}


def test_a_nifti_gz_cut_short_says_so_wherever_it_is_cut(tiny_classifier):
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.nifti_header import GZIP_TRUNCATED

    data = nifti_bytes(axial_volume([HEAD.astype(np.int16)] * 4))
    for kept in (20, 100, len(data) // 2, len(data) - 10):
        with pytest.raises(ImageError) as caught:
            read_volumes(data[:kept], name="head.nii.gz")
        assert str(caught.value) == GZIP_TRUNCATED, kept
    app = create_app(classifier=tiny_classifier, max_upload_mb=8, max_files=6)
    r = app.test_client().post("/api/v1/predict", data={"file": [(io.BytesIO(data[:100]), "head.nii.gz")]},
                               content_type="multipart/form-data")
    assert r.get_json()["results"] == [{"path": "head.nii.gz", "error": GZIP_TRUNCATED}]
