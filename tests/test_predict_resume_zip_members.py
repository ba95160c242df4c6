"""--resume knows an input by its records' paths: a zip holding NIfTI files alone gives them under ``zip:member``."""

from __future__ import annotations

import pytest


def test_resume_skips_a_zip_whose_records_are_all_its_nifti_members(stack, tmp_path, capsys):
    """A zip of NIfTI files alone gives records under ``zip:member`` only: --resume looked for the zip's own name,
    found none, and scored it again, its records written twice."""
    import json

    from dicom_factory import axial_volume, nifti_bytes, zip_bytes

    from braintumor.cli import main

    (tmp_path / "n.zip").write_bytes(zip_bytes([("a.nii.gz", nifti_bytes(axial_volume(stack[:3])))]))
    out = tmp_path / "out.jsonl"
    command = ["predict", str(tmp_path / "n.zip"), "--no-progress", "-o", str(out), "--resume"]
    assert main(command) == 0 and main(command) == 0
    assert [json.loads(line)["path"] for line in out.read_text().splitlines()] == [f"{tmp_path}/n.zip:a.nii.gz"] * 3
    assert "nothing left to do: every input is already in" in capsys.readouterr().err


@pytest.mark.parametrize("kind", ["zip", "dicom folder"])
def test_resume_takes_a_file_named_input_colon_name_for_no_member(stack, test_images, tmp_path, kind):
    """A record ``X:NAME`` made every input X count as done: an image named ``scans:a.jpg`` scored before a DICOM
    folder or zip ``scans`` was, and --resume never scored that folder or zip. Only a NIfTI member its listing holds
    makes ``X:NAME`` X's."""
    import json
    import shutil

    from dicom_factory import axial_volume, nifti_bytes, series, zip_bytes

    from braintumor.cli import main

    scans = tmp_path / "scans"
    if kind == "zip":
        scans.write_bytes(zip_bytes([("a.nii.gz", nifti_bytes(axial_volume(stack[:3])))]))
    else:
        scans.mkdir()
        for name, data in series(stack[:3]):
            (scans / name).write_bytes(data)
    image = tmp_path / "scans:a.jpg"
    shutil.copy(test_images["glioma"][0], image)
    out = tmp_path / "out.jsonl"
    assert main(["predict", str(image), "--no-progress", "-o", str(out), "--resume"]) == 0
    assert main(["predict", str(scans), str(image), "--no-progress", "-o", str(out), "--resume"]) == 0
    paths = [json.loads(line)["path"] for line in out.read_text().splitlines()]
    scan = f"{scans}:a.nii.gz" if kind == "zip" else str(scans)
    assert paths == [str(image), scan, scan, scan], paths
