"""``braintumor predict`` on DICOM files, DICOM series (folder, zip) and NIfTI volumes: per-slice records,
summaries, and no patient field in any output. Single DICOM files and small scans read with the shipped model (the
JPEG's label for its DICOM copies, the refusals, a one-slice scan's notes) are in tests/test_predict_single_scans.py."""

from __future__ import annotations

import csv
import io
import re

import numpy as np
import pytest
from cli_runner import jsonl
from cli_runner import run_predict as run
from conftest import encode
from dicom_factory import SECRETS, axial_volume, make_dicom, nifti_bytes, series, zip_bytes
from PIL import Image

from braintumor.image_io import read_image


def test_a_zip_in_a_folder_with_other_images_is_named_on_stderr_in_every_format(tmp_path, stack, capsys):
    """``predict scans/`` classified scans/a.png and skipped scans/series.zip without a word: the user believed every
    file was read. A note on stderr names it (a note, not an error record: the exit code stays 0), with --resume too."""
    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "a.png").write_bytes(encode(stack[0]))
    (scans / "series.zip").write_bytes(zip_bytes(series(stack[:2])))
    note = (f"note: 1 file in {scans} not read (zips in a folder are not opened: name each one, e.g. braintumor "
            f"predict {scans / 'series.zip'}): {scans / 'series.zip'}")
    for extra in ([], ["--format", "jsonl"], ["--format", "csv"], ["-o", tmp_path / "out.jsonl", "--resume"]):
        rc, out, err = run([scans, *extra], capsys)
        assert rc == 0 and err.splitlines()[0] == note, (extra, err)
        assert "series.zip" not in out
    rc, out, err = run([scans / "series.zip", "--format", "jsonl"], capsys)  # named itself, it is read
    assert rc == 0 and len(jsonl(out)) == 2 and "note:" not in err


@pytest.fixture(scope="module")
def stack(test_images) -> list[np.ndarray]:
    paths = [p for c in ("glioma", "meningioma", "notumor", "pituitary") for p in test_images[c][:2]]
    return [np.asarray(Image.fromarray(read_image(p)).resize((192, 192)), dtype=np.uint8) for p in paths]


@pytest.fixture()
def scans(tmp_path, stack, test_images):
    """A NIfTI volume, a series folder, the same series zipped, a single DICOM, and a structured report."""
    from pydicom.uid import ComprehensiveSRStorage

    (tmp_path / "head.nii.gz").write_bytes(nifti_bytes(axial_volume(stack)))
    folder = tmp_path / "series"
    folder.mkdir()
    files = series(stack)
    for name, data in files:
        (folder / name).write_bytes(data)
    (tmp_path / "series.zip").write_bytes(zip_bytes(files))
    (tmp_path / "one.dcm").write_bytes(make_dicom(read_image(test_images["glioma"][0])))
    (tmp_path / "report.dcm").write_bytes(make_dicom(None, sop_class=ComprehensiveSRStorage))
    return tmp_path


def test_jsonl_has_one_record_per_slice_with_safe_metadata(tiny_model, tiny_classifier, scans, stack, capsys):
    rc, out, _ = run([scans / "head.nii.gz", scans / "series", scans / "series.zip", scans / "one.dcm",
                        scans / "series" / "IM0004", "--format", "jsonl", "--model", tiny_model], capsys)
    rows = jsonl(out)
    assert rc == 0 and len(rows) == 3 * 8 + 2
    no_ending = rows.pop()  # DICOM without a file ending: recognised by its 'DICM' marker
    assert no_ending["dicom"]["instance_number"] == 5 and "slice" not in no_ending
    expected = [tiny_classifier.predict(s).label for s in stack]  # slices are the very same pixels (DICOM)
    for k, path in enumerate(("head.nii.gz", "series", "series.zip")):
        group = rows[8 * k: 8 * (k + 1)]
        assert {r["path"] for r in group} == {str(scans / path)}
        assert [r["slice"] for r in group] == list(range(8))
        assert all({"label", "confidence", "probabilities"} <= set(r) for r in group)
    nifti, folder, zipped = rows[:8], rows[8:16], rows[16:24]
    assert all(r["nifti"]["orientation"] == "RAS" and "dicom" not in r for r in nifti)
    assert [r["dicom"]["instance_number"] for r in folder] == list(range(1, 9))
    assert [r["label"] for r in folder] == [r["label"] for r in zipped] == expected
    single = rows[-1]
    assert "slice" not in single and single["dicom"]["rows"] == single["dicom"]["columns"] > 0
    assert single["dicom"]["modality"] == "MR" and single["dicom"]["series_description"] == "AX T1"


def test_summary_records_and_table_summary_on_stderr(tiny_model, scans, capsys):
    rc, out, _ = run([scans / "head.nii.gz", "--format", "jsonl", "--summary", "--model", tiny_model], capsys)
    rows = jsonl(out)
    assert rc == 0 and len(rows) == 9 and set(rows[-1]) == {"path", "summary"}
    s = rows[-1]["summary"]
    assert s["slices"] == s["classified"] == 8 and s["failed"] == 0 and sum(s["counts"].values()) == 8
    assert s["flagged"] == sum(r["review"] for r in rows[:-1])
    probs = {r["slice"]: 1 - r["probabilities"]["notumor"] for r in rows[:-1]}
    top = s["most_suspicious"]
    # 1 - p of a 6-digit probability is not exactly a 6-digit number: compare to the rounding
    assert len(top) == 5
    assert [t["tumour_probability"] for t in top] == pytest.approx(sorted(probs.values(), reverse=True)[:5], abs=1e-5)
    assert all(abs(probs[t["slice"]] - t["tumour_probability"]) < 1e-5 for t in top)
    rc, out, err = run([scans / "series.zip", "--model", tiny_model], capsys)
    lines = out.splitlines()
    assert rc == 0 and lines[0].split()[:3] == ["path", "slice", "prediction"] and len(lines) == 9
    assert lines[3].split()[1] == "2" and "8 slices, 8 classified" in err and "most suspicious slices" in err


def test_csv_gets_a_slice_column(tiny_model, scans, test_images, capsys):
    rc, out, err = run([test_images["notumor"][0], scans / "series", "--format", "csv", "--summary",
                        "--model", tiny_model], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rc == 0 and len(rows) == 9 and [r["slice"] for r in rows] == ["", *map(str, range(8))]
    assert "most suspicious" in err


def test_errors_are_records_and_no_patient_field_reaches_any_output(tiny_model, scans, tmp_path, capsys):
    (tmp_path / "broken.dcm").write_bytes(make_dicom(np.zeros((64, 64), np.uint8))[:-1000])
    texts = []
    for fmt in ("jsonl", "json", "csv", "table"):
        rc, out, err = run([scans / "one.dcm", scans / "series", scans / "report.dcm", tmp_path / "broken.dcm",
                            "--format", fmt, "--summary", "--model", tiny_model], capsys)
        assert rc == 1
        texts += [out, err]
        if fmt == "jsonl":
            rows = jsonl(out)
            errors = {r["path"].rsplit("/", 1)[-1]: r["error"] for r in rows if "error" in r}
            assert errors["report.dcm"].endswith("Comprehensive SR Storage object, not an image: nothing to classify")
            assert "bytes short (truncated" in errors["broken.dcm"]
    blob = "\n".join(texts)
    assert "AX T1" in blob and not any(secret in blob for secret in SECRETS)


def test_heat_maps_for_slices_are_named_after_the_slice(tiny_model, scans, tmp_path, capsys):
    maps = tmp_path / "maps"
    rc, out, _ = run([scans / "head.nii.gz", "--format", "jsonl", "--heatmap", maps, "--model", tiny_model], capsys)
    rows = jsonl(out)
    assert rc == 0 and [r["heatmap"].rsplit("/", 1)[-1] for r in rows][:2] == ["head-slice0.heatmap.png",
                                                                              "head-slice1.heatmap.png"]
    assert len(list(maps.glob("*.png"))) == 8 and all("_slice" not in r for r in rows)


def test_a_folder_with_images_and_a_dicom_series_gives_both(tiny_model, scans, test_images, capsys):
    import shutil

    shutil.copy(test_images["notumor"][0], scans / "series" / "extra.jpg")
    rc, out, _ = run([scans / "series", "--format", "jsonl", "--model", tiny_model], capsys)
    rows = jsonl(out)
    assert rc == 0 and len(rows) == 9 and rows[0]["path"].endswith("extra.jpg") and "slice" not in rows[0]


def test_a_named_file_is_read_by_its_content_not_its_name(tiny_model, scans, capsys):
    """A DICOM export or a zip saved as ``.jpg`` is a scan, as the web app already read it (the CLI said 'a DICOM
    file, not a 2-D image: braintumor.volume_io.read_volumes reads scans', a Python hint to a shell user)."""
    (scans / "dicom.jpg").write_bytes((scans / "one.dcm").read_bytes())
    (scans / "zipped.png").write_bytes((scans / "series.zip").read_bytes())
    rc, out, err = run([scans / "one.dcm", scans / "dicom.jpg", scans / "zipped.png", "--format", "jsonl",
                        "--model", tiny_model], capsys)
    rows = jsonl(out)
    assert rc == 0 and "error" not in out, err
    by_name = {}
    for r in rows:
        by_name.setdefault(r["path"].rsplit("/", 1)[-1], []).append(r)
    assert [len(by_name[n]) for n in ("one.dcm", "dicom.jpg", "zipped.png")] == [1, 1, 8]
    strip = ("path",)
    assert {k: v for k, v in by_name["dicom.jpg"][0].items() if k not in strip} == \
        {k: v for k, v in by_name["one.dcm"][0].items() if k not in strip}


def test_predict_writes_nothing_but_its_outputs(tiny_model, scans, tmp_path_factory, capsys):
    """No cache of decoded slices, crops or hashes of the user's scans (training's cache is for the dataset): every
    file predict creates or writes is its -o file or a heat map, each in the folder named for it."""
    from test_web_safety import no_disk_writes

    out = tmp_path_factory.mktemp("out")  # not in the folder read
    with no_disk_writes() as writes:
        rc, _, _ = run([scans, "--summary", "-o", out / "r.jsonl", "--heatmap", out / "maps", "--model", tiny_model],
                       capsys)
    assert rc == 0 and (out / "r.jsonl").is_file()  # report.dcm: skipped in a folder, noted
    named = [w for w in writes if not re.match(r"open\(\d+, ", w)]  # open(fd, ...): a descriptor os.open made
    assert named and [w for w in named if str(out) not in w] == []
