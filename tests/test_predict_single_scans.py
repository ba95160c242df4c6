"""``braintumor predict`` on single DICOM files and small scans with the shipped model: a DICOM copy of a test JPEG
gets the JPEG's label, a colour DICOM, another modality or a scan through a pipe is refused and says why, and a
one-slice scan keeps its notes (in its record and after its table row). The scan series, folders and NIfTI volumes
read with the tiny model are in tests/test_predict_volumes.py."""

from __future__ import annotations

import numpy as np
import pytest
from cli_runner import jsonl
from cli_runner import run_predict as run
from conftest import encode
from dicom_factory import axial_volume, jpeg_baseline, make_dicom, nifti_bytes, rescaled_windowed, zip_bytes

from braintumor.image_io import read_image
from braintumor.model_files import default_model_path
from braintumor.ood import CROP_HINT


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_a_one_slice_scan_keeps_its_notes(test_images, tmp_path, capsys):
    """No summary follows a single slice, so its notes (a file skipped in its zip) ride on its record; before, the
    skipped file was said nowhere."""
    one = make_dicom(read_image(test_images["glioma"][0]))
    (tmp_path / "one.zip").write_bytes(zip_bytes([("IM0001", one), ("readme.txt", b"not a scan")]))
    rc, out, _ = run([tmp_path / "one.zip", "--format", "jsonl"], capsys)
    (rec,) = jsonl(out)
    assert rc == 0 and rec["notes"] == ["skipped 1 file in the zip: not DICOM or NIfTI"] and "slice" not in rec


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_the_table_shows_a_one_slice_scans_notes_after_its_row(test_images, tmp_path, capsys, monkeypatch):
    """A one-slice scan's notes rode on its json record only: the table (no summary follows one slice) said nothing
    of an absurd Pixel Spacing ignored or of a file skipped in its zip. They follow its row on stderr, as a
    summary's notes follow a series' rows, its name escaped as the table's are."""
    import sys

    gray = read_image(test_images["glioma"][0])
    (tmp_path / "wide.dcm").write_bytes(make_dicom(gray, PixelSpacing=[1, 1e38]))
    volume = nifti_bytes(axial_volume([gray[:128, :128]]))
    (tmp_path / "one.zip").write_bytes(zip_bytes([("x\u202e\n.nii.gz", volume), ("readme.txt", b"not a scan")]))
    monkeypatch.setattr(sys, "stderr", sys.stdout)  # one stream: the notes' place among the rows
    rc, out, _ = run([tmp_path / "wide.dcm", tmp_path / "one.zip"], capsys)
    lines = out.splitlines()
    assert rc == 0 and all(line.isprintable() for line in lines), out
    wide, zipped = str(tmp_path / "wide.dcm"), str(tmp_path / "one.zip") + ":x\\u202e\\n.nii.gz"
    # whole: the notes after the first row no longer size the path column from that row alone (it cut this one)
    assert lines[1].startswith(wide + " ") and lines[4].startswith(zipped + " "), out
    assert lines[2:4] == [f"{wide}:", "  note: 1 image with a Pixel Spacing that makes pixels over 4 times as long "
                                      "as wide: ignored, pixels taken as square"]
    assert lines[5:7] == [f"{zipped}:", "  note: skipped 1 file in the zip: not DICOM or NIfTI"]
    rc, out, err = run([tmp_path / "wide.dcm", "--format", "jsonl"], capsys)
    assert rc == 0 and "note:" not in out + err and jsonl(out)[0]["notes"]  # the record carries them


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_dicom_made_from_a_test_jpeg_gets_the_jpegs_label(test_images, tmp_path, capsys):
    """The shipped model: plain, rescaled + windowed, MONOCHROME1 and JPEG-compressed DICOM copies of
    real test JPEGs get the label the JPEG gets."""
    inputs, groups = [], []
    for cls, paths in test_images.items():
        jpg = paths[0]
        gray = read_image(jpg)
        variants = {"plain": make_dicom(gray), "windowed": rescaled_windowed(gray),
                    "mono1": make_dicom(255 - gray, photometric="MONOCHROME1"), "jpeg": jpeg_baseline(gray)}
        group = [str(jpg)]
        for name, data in variants.items():
            target = tmp_path / f"{cls}-{name}.dcm"
            target.write_bytes(data)
            group.append(str(target))
        inputs += group
        groups.append(group)
    rc, out, _ = run([*inputs, "--format", "jsonl"], capsys)
    labels = {r["path"]: r["label"] for r in jsonl(out)}
    assert rc == 0
    for group in groups:
        assert {labels[p] for p in group} == {labels[group[0]]}, group


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_a_scan_through_a_pipe_is_an_error_that_says_so(tmp_path, capsys):
    """``braintumor predict <(zcat scan.nii.gz)`` names a pipe: peeking at its content to sniff a scan would
    consume it, so it is read as a 2-D image; the error says what to do (it said 'read_volumes', a Python hint)."""
    import os
    import threading

    from conftest import synthetic_head

    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    data = nifti_bytes(axial_volume([synthetic_head(64, seed=i) for i in range(3)]))
    threading.Thread(target=fifo.write_bytes, args=(data,), daemon=True).start()
    rc, out, _ = run([fifo, "--format", "jsonl"], capsys)
    (rec,) = jsonl(out)
    assert rc == 1 and rec["error"] == ("a NIfTI volume read from a pipe or device: scans are read from files "
                                        "(save it to a file and name that)")


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_a_colour_dicom_is_refused_for_its_colour_as_the_same_pixels_in_a_png(test_images, tmp_path, capsys):
    """A colour-mapped slice (a "hot" map, as a viewer's colour overlay or a secondary capture holds it): its PNG is
    refused as a colour image, but an RGB DICOM of the same pixels became gray before the input checks and was
    classified (glioma, 99.99 %)."""
    gray = read_image(test_images["glioma"][0]).astype(np.int32)
    hot = np.stack([np.clip(3 * gray - k * 255, 0, 255) for k in range(3)], axis=-1).astype(np.uint8)
    (tmp_path / "hot.png").write_bytes(encode(hot))
    (tmp_path / "hot.dcm").write_bytes(make_dicom(hot, photometric="RGB"))
    (tmp_path / "gray-rgb.dcm").write_bytes(make_dicom(np.repeat(gray.astype(np.uint8)[..., None], 3, axis=2),
                                                       photometric="RGB"))
    rc, out, _ = run([tmp_path / "hot.png", tmp_path / "hot.dcm", tmp_path / "gray-rgb.dcm", "--format", "jsonl"],
                     capsys)
    png, dcm, gray_rgb = jsonl(out)
    assert rc == 0 and dcm["ood"] and dcm["reason"].endswith("colour image (MRI slices are grayscale)")
    assert png["ood"] and png["reason"] == f"{dcm['reason']}; {CROP_HINT}" and dcm["label"] is None  # image: a hint
    assert not gray_rgb["ood"] and gray_rgb["label"] == "glioma"  # gray pixels stored as RGB: not colour


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_a_dicom_of_another_modality_is_refused_and_says_which(test_images, tmp_path, capsys):
    """A CT (or X-ray, ultrasound, PET...) DICOM says what it is in its Modality; a CT slice like the MRI ones was
    classified (glioma, 99.99 %) with "modality": "CT" in its own record. MR and OT (other: secondary captures) are
    left to the image checks."""
    from pydicom.uid import CTImageStorage, SecondaryCaptureImageStorage

    gray = read_image(test_images["glioma"][0])
    (tmp_path / "ct.dcm").write_bytes(make_dicom(gray, Modality="CT", sop_class=CTImageStorage))
    (tmp_path / "ot.dcm").write_bytes(make_dicom(gray, Modality="OT", sop_class=SecondaryCaptureImageStorage))
    rc, out, _ = run([tmp_path / "ct.dcm", tmp_path / "ot.dcm", "--format", "jsonl"], capsys)
    ct, ot = jsonl(out)
    assert rc == 0 and ct["ood"] and ct["label"] is None and ct["dicom"]["modality"] == "CT"
    assert ct["reason"].endswith(": CT image (DICOM modality CT); the model reads MRI only")
    assert not ot["ood"] and ot["label"] == "glioma"
