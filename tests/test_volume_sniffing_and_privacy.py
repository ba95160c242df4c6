"""What every volume input goes through: sniffing by content, no patient field anywhere, strict-JSON metadata."""

from __future__ import annotations

import json
import logging
import warnings

import numpy as np
import pytest
from dicom_factory import (
    SECRETS,
    make_dicom,
    nifti_bytes,
    rescaled_windowed,
    zip_bytes,
)

from braintumor.image_io import ImageError
from braintumor.scan_sniff import sniff
from braintumor.volume_io import read_volumes


def test_content_decides_not_the_name(gray):
    from conftest import encode

    dicom = make_dicom(gray)
    assert sniff(dicom, "scan.jpg") == "dicom" and sniff(encode(gray), "scan.dcm") is None
    assert sniff(nifti_bytes(np.zeros((4, 4, 4), np.int16)), "x.bin") == "nifti"
    assert sniff(zip_bytes([("a", b"x")]), "x.bin") == "zip" and sniff(b"text", "x.txt") is None



def test_a_dicom_whose_preamble_starts_as_an_appledouble_file_is_still_read(gray):
    """The 128-byte preamble before 'DICM' may hold anything, the AppleDouble magic too: the file is a DICOM."""
    from braintumor.image_headers import APPLE_DOUBLE_MAGIC

    dicom = make_dicom(gray)
    assert dicom[128:132] == b"DICM"
    (volume,) = read_volumes(APPLE_DOUBLE_MAGIC + dicom[4:], name="scan.dcm")
    assert len(volume.slices) == 1

def test_no_patient_field_reaches_metadata_messages_logs_or_warnings(gray, caplog):
    """Patient values appear nowhere: not in slice metadata, notes, error messages, logs or warnings."""
    bad_name = make_dicom(gray, PatientName="SECRET^NAME" + "x" * 80)  # over-long: pydicom would warn with it
    texts = []
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        for data in (make_dicom(gray), bad_name, rescaled_windowed(gray)):
            (v,) = read_volumes(data, name="x.dcm")
            texts.append(json.dumps([s.meta for s in v.slices]) + json.dumps(v.notes))
        for data in (make_dicom(gray)[:1500], make_dicom(None), nifti_bytes(np.zeros((4, 4, 4), np.int16))):
            try:
                texts.append(json.dumps([s.meta for v in read_volumes(data, name="x.dcm") for s in v.slices]))
            except ImageError as exc:
                texts.append(str(exc))
    texts += [str(w.message) for w in caught] + [caplog.text]
    blob = "\n".join(texts)
    assert "AX T1" in blob and not any(secret in blob for secret in SECRETS)


def test_sniffing_a_jpeg_upload_does_not_import_nibabel_or_pydicom():
    """Every upload is sniffed; importing the volume readers for a JPEG cost the server's first request
    ~0.4 s and each worker ~17 MB of memory (docs/PERFORMANCE.md)."""
    import subprocess
    import sys

    code = ("import io, sys\n"
            "from PIL import Image\n"
            "from braintumor.volume_io import sniff\n"
            "buf = io.BytesIO(); Image.new('L', (8, 8)).save(buf, 'JPEG')\n"
            "assert sniff(buf.getvalue(), 'x.jpg') is None\n"
            "assert sniff(b'\\x1f\\x8b' + bytes(100), 'x.nii.gz') == 'nifti'\n"
            "print(sorted(m for m in ('nibabel', 'pydicom', 'scipy') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_unforeseen_reader_error_is_one_input_error_and_logs_no_value(gray, monkeypatch, caplog):
    """Whatever a reader did not foresee is that input's ImageError (the CLI's error record, the page's card), and
    the log names the exception's class and line, never its text (which can quote a header value)."""
    from braintumor import dicom_series

    def broken(*args, **kwargs):
        raise ValueError("could not convert string to float: 'SECRET^NAME'")

    monkeypatch.setattr(dicom_series, "read_dicom_series", broken)
    message = r"^this scan could not be read: the reader failed on it \(logged\); damaged, or written wrongly"  # not
    # "(ValueError)": the class name is the log's, not the user's
    with caplog.at_level(logging.DEBUG), pytest.raises(ImageError, match=message):
        read_volumes(make_dicom(gray), name="x.dcm")
    assert "ValueError" in caplog.text and "test_volume_sniffing_and_privacy.py" in caplog.text
    assert "SECRET" not in caplog.text


def test_slice_metadata_is_strict_json():
    """Every reader's metadata goes through Slice: a NaN or infinity anywhere in it becomes null."""
    from braintumor.volume_objects import Slice

    meta = {"dicom": {"slice_location": float("nan"), "image_position": [1.0, float("inf"), 2.5], "rows": 4},
            "nifti": {"voxel_mm": (float("-inf"), 1.0)}}
    sl = Slice(np.zeros((4, 4), np.uint8), meta)
    assert sl.meta == {"dicom": {"slice_location": None, "image_position": [1.0, None, 2.5], "rows": 4},
                       "nifti": {"voxel_mm": [None, 1.0]}}
    json.dumps(sl.meta, allow_nan=False)
