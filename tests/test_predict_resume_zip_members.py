"""--resume knows an input by its records' paths: a zip holding NIfTI files alone gives them under ``zip:member``."""

from __future__ import annotations


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
