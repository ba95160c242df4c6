"""Files skipped for one reason, alike but for its numbers (DICOM files cut at different bytes), are one note: a zip
of many cut files listed one 'skipped 1 file: ... ends at byte N ...' per length, in the CLI, the API and the page."""

from __future__ import annotations

import io
import json
import re
from collections import Counter

import numpy as np
from dicom_factory import SECRETS, series, zip_bytes

from braintumor.reason_counts import by_wording
from braintumor.volume_io import read_volumes

_CUTS = (400, 437, 474, 511, 548, 585)  # inside header values of the series' first file
_NOTE = (r"skipped 6 files: alike but for their numbers, e.g. DICOM file is truncated: it ends at byte 400, inside a "
         r"header value \(cut short in a copy or a download\?\): send the whole file")


def _zip() -> bytes:
    slices = [(np.add.outer(np.arange(64), np.arange(64)) * (1 + k) % 251).astype(np.uint8) for k in range(3)]
    members = series(slices, shuffle=False)
    return zip_bytes(members + [(f"cut{k}.dcm", members[0][1][:cut]) for k, cut in enumerate(_CUTS)])


def test_reasons_alike_but_for_their_numbers_are_counted_once_by_the_first_files():
    reasons = Counter({"ends at byte 900, after its Rows element (0028,0010)": 1, "a zip inside the zip": 2,
                       "ends at byte 1,466, after its Rows element (0028,0010)": 3,
                       "ends at byte 9, after its element (0009,0010)": 1})
    assert by_wording(reasons) == [
        ("a zip inside the zip", 2),
        ("alike but for their numbers, e.g. ends at byte 900, after its Rows element (0028,0010)", 4),
        ("ends at byte 9, after its element (0009,0010)", 1)]  # a tag's number is no count: told apart


def test_a_zip_of_cut_files_says_one_note_for_them():
    notes = read_volumes(_zip(), name="s.zip")[0].notes
    assert len(notes) == 1 and re.fullmatch(_NOTE, notes[0]), notes


def test_the_api_and_the_page_say_one_note_for_them(tiny_classifier):
    from braintumor.web import create_app

    client = create_app(classifier=tiny_classifier).test_client()
    said = {}
    for url in ("/api/v1/predict", "/"):
        r = client.post(url, data={"file": [(io.BytesIO(_zip()), "s.zip")]}, content_type="multipart/form-data")
        said[url] = r.get_data(as_text=True)
    notes = json.loads(said["/api/v1/predict"])["series"][0]["summary"]["notes"]
    assert len(notes) == 1 and re.fullmatch(_NOTE, notes[0]), notes
    assert len(re.findall(_NOTE, said["/"])) == 1 and "byte 437" not in said["/"]
    assert not any(s in text for s in SECRETS for text in said.values())


def test_the_cli_says_one_note_for_them(tmp_path, capsys, tiny_model):
    from braintumor.cli import main

    (tmp_path / "s.zip").write_bytes(_zip())
    assert main(["predict", str(tmp_path / "s.zip"), "--model", str(tiny_model), "--format", "jsonl"]) == 0
    err = capsys.readouterr().err
    assert len(re.findall(_NOTE, err)) == 1 and "byte 437" not in err, err
