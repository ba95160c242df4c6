"""A scan none of whose slices was classified (each refused, or unreadable) is summarised as what it is: its line
said "4 slices, 0 classified: Glioma 0, Meningioma 0, No tumour 0, Pituitary tumour 0; 4 not classified (unlike brain
MRI)", all-zero counts that read as an answer of no tumour, where a refused single slice's card gives none. The CLI's
summary here; the page's line, border and note in tests/test_browser_series_refused.py. The JSON summary keeps its
count fields."""

from __future__ import annotations

import numpy as np
import pytest
from cli_runner import jsonl
from cli_runner import run_predict as run
from dicom_factory import axial_volume, nifti_bytes

from braintumor.model_files import default_model_path
from braintumor.series import summary_text

#: empty slices: each not classified (unlike brain MRI), whatever the model
BLANK = nifti_bytes(axial_volume([np.zeros((128, 128), np.uint8)] * 3))
COUNTS = {"glioma": 0, "meningioma": 0, "notumor": 0, "pituitary": 0}


@pytest.mark.parametrize(("refused", "side", "failed", "said"), [
    (4, 0, 0, "4 not classified (unlike brain MRI)"),
    (4, 4, 0, "4 not classified (turned: rotate upright and resend)"),
    (1, 0, 3, "1 not classified (unlike brain MRI); 3 unreadable"),
    (0, 0, 4, "4 unreadable"),
])
def test_a_summary_of_no_classified_slice_says_no_class_counts(refused, side, failed, said):
    line = summary_text({"path": "scan.nii.gz", "summary": {
        "kind": "nifti", "slices": 4, "classified": 0, "refused": refused, "refused_turned": side, "failed": failed,
        "flagged": 0, "counts": COUNTS, "most_suspicious": []}})
    assert line == f"scan.nii.gz: 4 slices, 0 classified; {said}"


def test_a_summary_with_one_classified_slice_keeps_every_class_count():
    line = summary_text({"path": "scan.nii.gz", "summary": {
        "kind": "nifti", "slices": 4, "classified": 1, "refused": 3, "refused_turned": 0, "failed": 0,
        "flagged": 0, "counts": {**COUNTS, "notumor": 1}, "most_suspicious": []}})
    assert line == ("scan.nii.gz: 4 slices, 1 classified: Glioma 0, Meningioma 0, No tumour 1, Pituitary tumour 0; "
                    "3 not classified (unlike brain MRI)")


@pytest.mark.skipif(not default_model_path().is_file(), reason="reads with the shipped model (no training here)")
def test_predict_summarises_a_blank_scan_without_class_counts_and_the_json_keeps_them(tmp_path, capsys):
    scan = tmp_path / "blank.nii.gz"
    scan.write_bytes(BLANK)
    rc, _, err = run([scan], capsys)
    assert rc == 0 and f"{scan}: 3 slices, 0 classified; 3 not classified (unlike brain MRI)" in err.splitlines(), err
    rc, out, _ = run([scan, "--format", "jsonl", "--summary"], capsys)
    s = jsonl(out)[-1]["summary"]  # clients read the counts: they stay, at 0
    assert rc == 0 and (s["classified"], s["refused"], s["counts"]) == (0, 3, COUNTS)


def test_the_docs_quote_the_line_and_the_note():
    from conftest import REPO

    from braintumor.refusal_wording import REFUSED_NOTES

    web = " ".join((REPO / "docs" / "WEB.md").read_text(encoding="utf-8").split())
    assert '"3 slices · 3 not classified (unlike brain MRI)"' in web and f'"{REFUSED_NOTES["scan"]}"' in web
    scans = " ".join((REPO / "docs" / "SCANS.md").read_text(encoding="utf-8").split())  # README's before it moved
    assert "`blank.nii.gz: 3 slices, 0 classified; 3 not classified (unlike brain MRI)`" in scans
