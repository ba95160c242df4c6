"""scripts/clinician_inputs.py, whose output docs/RESULTS.md quotes ("Inputs a clinician may send"): it runs, as a
user would, on a few of its inputs (the whole run takes about a minute: never here), and answers what the
committed docs/figures/clinician_inputs.json says for them."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from conftest import REPO

from braintumor.model_files import default_model_path

pytestmark = pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
COMMITTED = {r["name"]: r for r in json.loads((REPO / "docs/figures/clinician_inputs.json").read_text())["cases"]}


def run(tmp_path, *args: str) -> tuple[str, dict]:
    out = tmp_path / "figures.json"
    proc = subprocess.run([sys.executable, "scripts/clinician_inputs.py", "--no-head-runs", "--no-dicom", "--json",
                           str(out), *args], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout, json.loads(out.read_text())


def same(row: dict) -> None:
    """The answer the committed figures give for this input (probabilities to 1e-4: ONNX Runtime may round the
    last digit differently on another CPU)."""
    was = COMMITTED[row["name"]]
    assert {k: row[k] for k in ("outcome", "label", "reason", "review")} == \
        {k: was[k] for k in ("outcome", "label", "reason", "review")}
    assert (row["top"] is None) == (was["top"] is None) and abs((row["top"] or 0) - (was["top"] or 0)) < 1e-4


def test_synthetic_inputs_need_no_data(tmp_path):
    """Inputs made of nothing run without the data set (a --data that does not exist): a blank frame is refused,
    a 1 x 1 image is an error, not a refusal, the same in every form asked for."""
    printed, doc = run(tmp_path, "--data", str(tmp_path / "absent"), "--only", "white,1 x 1",
                       "--formats", "png,bmp,array", "--montages", "0")
    white, one = doc["cases"]
    assert (white["outcome"], white["reason"]) == ("refused", "blank or nearly uniform image")
    assert one["outcome"] == "error" and "at least 64x64" in one["reason"]
    assert all(not r["formats_differing"] and r["twice_same"] for r in doc["cases"])
    assert "| white | 512 x 512 L | refused | blank or nearly uniform image |" in printed
    same(white)
    same(one)


def test_test_slice_inputs_and_montages(tmp_path, data_root):
    """The test slice is answered, two slices side by side are refused as several images, and a few montages are
    counted, each once."""
    printed, doc = run(tmp_path, "--data", str(data_root), "--only", "the slice,two slices side by side",
                       "--formats", "png,jpeg", "--montages", "2")
    slice_, pair = doc["cases"]
    assert slice_["outcome"] == "accepted" and pair["reason"].startswith("several images in one")
    same(slice_)
    same(pair)
    assert all(sum(v for k, v in m.items() if k != "median_second_head") == 2
               for m in doc["montages"]["kinds"].values())
    assert "| side by side |" in printed and "cannot be reproduced" in printed


def test_dicom_part_writes_nothing_on_stderr(tmp_path):
    """pydicom's bundled files printed GDCM's libjpeg's "Invalid SOS parameters for sequential JPEG" (JPEG-lossy.dcm,
    whose scan header says Se 0) and pydicom's "Expected explicit VR" warning between the tables: the script's
    stderr is its own, as the CLI's, and both are dropped as ``predict`` drops them."""
    pytest.importorskip("gdcm")
    out = tmp_path / "figures.json"
    proc = subprocess.run([sys.executable, "scripts/clinician_inputs.py", "--no-head-runs", "--montages", "0",
                           "--only", "white", "--formats", "png", "--data", str(tmp_path), "--json", str(out)],
                          cwd=REPO, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stderr == "", proc.stderr
    doc = json.loads(out.read_text())
    assert any(r["file"] == "JPEG-lossy.dcm" and r["slices"] == 1 for r in doc["dicom"])  # read, not skipped
