"""A folder holding nothing to read is said the same way by ``braintumor predict`` and the page
(``wording.NOTHING_FOUND``, ``wording.INPUT_KINDS``): the CLI said "no images found in folder" of a folder it reads
scans in too, where the page said "No image or scan found in the dropped folder (JPEG, ...)"; of a folder of zips, it
said "zips in folders are not opened" beside its own note's "zips in a folder are not opened" (folder_notes, the
page's words too). Empty folders; the page's script read as text (tests/test_browser_folders.py drops a folder on
the page)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from cli_runner import run_cli

from braintumor.folder_notes import LEFT_OUT_WHY
from braintumor.image_files import IMAGE_EXTENSIONS
from braintumor.scan_sniff import VOLUME_SUFFIXES
from braintumor.wording import INPUT_KINDS, NOTHING_FOUND

WEB = Path(__file__).resolve().parents[1] / "src" / "braintumor" / "web"


def test_predict_says_no_image_or_scan_as_the_page(tiny_model, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    rc, out, _ = run_cli(["predict", str(tmp_path / "empty"), "--format", "jsonl", "--model", str(tiny_model)],
                         capsys)
    assert rc == 1 and json.loads(out)["error"] == f"{NOTHING_FOUND} in the folder ({INPUT_KINDS})"
    assert NOTHING_FOUND == "no image or scan found"
    script = (WEB / "static" / "folders.js").read_text(encoding="utf-8")
    assert f'"{NOTHING_FOUND.capitalize()} in the folder ({INPUT_KINDS})."' in script


def test_a_folder_of_zips_says_why_in_the_same_words(tiny_model, tmp_path, capsys):
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "series.zip").write_bytes(b"PK\x05\x06" + bytes(18))  # an empty zip: passed over
    rc, out, _ = run_cli(["predict", str(tmp_path / "scans"), "--format", "jsonl", "--model", str(tiny_model)],
                         capsys)
    said = LEFT_OUT_WHY["zip"].format(each="name the zip itself")  # the words of the note on it, the page's too
    assert rc == 1 and json.loads(out)["error"] == f"{NOTHING_FOUND} in the folder ({said})"
    assert said == "zips in a folder are not opened: name the zip itself"  # it said "zips in folders" there


def test_the_page_takes_by_their_ending_the_files_the_cli_takes():
    """static/folders.js TAKEN is a copy of the endings a folder walk reads (image_files.IMAGE_EXTENSIONS, DICOM's and
    NIfTI's): the page sent a dropped folder's .jfif or .jpe to be read only if both lists name it. Every ending of
    either, in both cases, and some of neither (formats not read, near misses)."""
    script = (WEB / "static" / "folders.js").read_text(encoding="utf-8")
    taken = re.compile(re.search(r"const TAKEN = /(.+)/i;", script).group(1), re.IGNORECASE)
    scans = {e for e in VOLUME_SUFFIXES if e != ".zip"}  # a zip in a folder is noted, not read (LEFT_OUT_WHY)
    assert {".jfif", ".jpe", ".jpg", ".jpeg"} <= IMAGE_EXTENSIONS
    others = {".gif", ".jp2", ".jp", ".jpgx", ".jfi", ".heic", ".pgm", ".zip", ".txt", ".hdr", ".img", ".gz", ""}
    for ending in sorted(IMAGE_EXTENSIONS | scans | others):
        for name in (f"scan{ending}", f"scan{ending.upper()}"):
            cli = Path(name).suffix.lower() in IMAGE_EXTENSIONS or name.lower().endswith(tuple(scans))
            assert bool(taken.search(name)) == cli, name
