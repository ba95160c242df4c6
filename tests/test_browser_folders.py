"""A folder dropped on the page from the desktop, in a real browser (Chromium's own drop, through the DevTools
protocol, of a real folder: the page reads it with webkitGetAsEntry as it reads one a person drags). It was one
error card, "this browser could not read the file: a folder". Skipped, never failed, when chromium or playwright is
absent (like tests/test_browser.py)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import make_dicom
from PIL import Image
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions
from test_browser_errors import os_drop

from braintumor.image_io import read_image

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

# What each request to the API sends (send.js's XMLHttpRequest; Chromium gives no body of a FormData holding files to
# Playwright): the file names and sizes, kept in window.sentFiles; a zip's request is marked by an X-Test-Zipped
# header, for a route to tell it (ZIPPED). It was &zipped=1 in the URL, which the API refuses as a parameter it does
# not take: every zip was a 400.
WATCH_SENT = """
window.sentFiles = [];
const sent = XMLHttpRequest.prototype.send;
XMLHttpRequest.prototype.send = function (body) {
  const files = body instanceof FormData ? body.getAll("file") : [];
  window.sentFiles.push(files.map(function (f) { return [f.name, f.size, f.type]; }));
  if (files.some(function (f) { return f.name === "series.zip"; })) this.setRequestHeader("X-Test-Zipped", "1");
  return sent.call(this, body);
};
"""


def zipped(route) -> bool:
    """Whether a route's request is a dropped folder's zip (WATCH_SENT marks them)."""
    return route.request.headers.get("x-test-zipped") == "1"


def csv_paths(page) -> list[str]:
    with page.expect_download() as info:
        page.click("#download-csv")
    return [r["path"] for r in csv.DictReader(io.StringIO(Path(info.value.path()).read_text()))]


def test_a_dropped_folder_has_its_images_and_scans_classified_by_their_paths(server, chromium, test_images,
                                                                              tmp_path):
    """Each image and scan in the folder and its sub-folders is a card named by its path in the drop (sent under its
    own name only: the server is never told a folder's name); hidden files are passed over without a word, and the
    notes beside them are one line, not a card each."""
    folder = tmp_path / "series"
    (folder / "sub").mkdir(parents=True)
    (folder / "__MACOSX").mkdir()
    (folder / "a.jpg").write_bytes(test_images["glioma"][0].read_bytes())
    (folder / "sub" / "b.jpg").write_bytes(test_images["meningioma"][0].read_bytes())
    slice_ = np.asarray(Image.fromarray(read_image(test_images["pituitary"][0])).resize((256, 256)), dtype=np.uint8)
    dicom = make_dicom(slice_)
    assert dicom[128:132] == b"DICM"
    (folder / "IM0001").write_bytes(dicom)  # a scanner's export: no ending, DICOM by its bytes
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (folder / "__MACOSX" / "._a.jpg").write_bytes(b"\0\5\26\7")
    (folder / "notes.txt").write_text("patient notes")
    (folder / "sub" / "readme.txt").write_text("read me")
    (folder / "DICOMDIR").write_bytes(dicom[:132])
    page, problems = open_page(chromium, server, 1024, 800)
    page.add_init_script(WATCH_SENT)
    page.reload()
    sync_api.expect(page.locator("html")).to_have_class("js")
    os_drop(page, [str(folder)])
    status = page.locator("#page-status")
    sync_api.expect(status).to_have_text("Done: 3 classified (see below).", timeout=30_000)
    names = page.locator("#results > .card .card-name").all_inner_texts()
    assert sorted(names) == ["series/IM0001", "series/a.jpg", "series/sub/b.jpg"]
    assert page.locator("#results > .card").evaluate_all("cs => cs.map(c => c.dataset.state)") == ["ok"] * 3
    assert page.locator("#page-notes p").all_inner_texts() == [
        "Skipped 2 files in the folder that are not an image or a scan (2 .txt).",
        "Skipped 1 file in the folder (a DICOMDIR is an index of a DICOM export's images, not an image "
        "itself): series/DICOMDIR.",  # in the words of braintumor predict's note
    ]
    assert csv_paths(page) == ["series/IM0001", "series/a.jpg", "series/sub/b.jpg"]  # files first, in name order
    # each file sent under its own name (Playwright sees no body of a request with a file: it checked nothing)
    sent = sorted(page.evaluate("window.sentFiles"))
    assert [[name for name, _, _ in files] for files in sent] == [["IM0001"], ["a.jpg"], ["b.jpg"]]
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def glioma_page(chromium, server):
    """The page, scripted, with every file answered "Glioma" at once by a stand-in for the API (no model run)."""
    page, problems = open_page(chromium, server, 1024, 800)
    answer = {"results": [{"path": "x.png", "label": "glioma", "confidence": 1.0, "probabilities": {"glioma": 1.0}}]}
    page.route("**/api/v1/predict*", lambda route: route.fulfill(status=200, content_type="application/json",
                                                                 body=json.dumps(answer)))
    sync_api.expect(page.locator("html")).to_have_class("js")
    return page, problems


def drop_and_read_notes(page, paths: list[str], done: str, timeout: int = 30_000) -> list[str]:
    """Drop ``paths`` as the desktop does, wait for the status line to say ``done``, and give the page's notes."""
    os_drop(page, paths)
    sync_api.expect(page.locator("#page-status")).to_have_text(done, timeout=timeout)
    return page.locator("#page-notes p").all_inner_texts()


def test_a_large_folder_is_cut_at_the_limit_with_a_note(server, chromium, tmp_path):
    """More files than one drop takes: the first ones (in name order) are analysed, the rest named in one note; the
    folder is read past the hundred entries Chromium hands over at a time."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(203):
        (folder / f"img{i:03d}.png").write_bytes(b"\x89PNG")
    page, problems = glioma_page(chromium, server)
    limit = page.evaluate("window.braintumorFolders.MAX_TAKEN")
    assert limit == 200
    notes = drop_and_read_notes(page, [str(folder)], "Done: 200 classified (see below).", timeout=60_000)
    assert notes == [
        "Only the first 200 images or scans are analysed: 3 more files were left out; drop or choose them in "
        "smaller folders."]
    names = page.locator("#results > .card .card-name").all_inner_texts()
    assert sorted(names) == [f"many/img{i:03d}.png" for i in range(200)]
    assert problems == []
    page.close()


def test_a_folder_past_the_files_looked_at_says_that_limit_not_the_images_one(server, chromium, tmp_path):
    """A folder of more files than one drop looks at (folders.js MAX_SEEN), few of them images: the note said "Only
    the first 200 images or scans of this drop are analysed: more than 0 more files were left out"."""
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG")
    for i in range(5000):
        (folder / f"n{i:04d}.txt").write_bytes(b"")
    page, problems = glioma_page(chromium, server)
    notes = drop_and_read_notes(page, [str(folder)], "Done: 1 classified (see below).", timeout=60_000)
    assert notes == [
        "Skipped 4999 files in the folder that are not an image or a scan (4999 .txt).",
        "Only the first 5000 files were looked at; the others were left out: drop or choose them in smaller "
        "folders."]
    assert problems == []
    page.close()


def test_a_folder_dropped_while_files_are_analysed_joins_their_run(server, chromium, test_images, tmp_path):
    """A folder is one more drop: its files join the run under way (its count, its two requests at a time, its one
    Done line), as files dropped one by one do."""
    folder = tmp_path / "later"
    folder.mkdir()
    for p in test_images["notumor"][:2]:
        (folder / p.name).write_bytes(p.read_bytes())
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    held: list = []
    holding = [True]
    page.route("**/api/v1/predict*", lambda route: held.append(route) if holding[0] else route.continue_())
    page.set_input_files("#file-input", [str(p) for p in test_images["glioma"][:2]])
    for _ in range(200):
        if len(held) == 2:
            break
        page.wait_for_timeout(25)
    os_drop(page, [str(folder)])
    status = page.locator("#page-status")
    sync_api.expect(status).to_have_text("Analysing 4 images…")
    sync_api.expect(page.locator("#results > .card")).to_have_count(4)
    page.wait_for_timeout(200)
    assert len(held) == 2  # still two at a time
    holding[0] = False
    for route in held:
        route.continue_()
    sync_api.expect(status).to_have_text("Done: 4 classified (see below).", timeout=30_000)
    assert page.locator("#page-notes p").count() == 0
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def test_a_folder_with_nothing_to_classify_says_so(server, chromium, tmp_path):
    folder = tmp_path / "empty"
    folder.mkdir()
    (folder / ".hidden.jpg").write_bytes(b"x")
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    os_drop(page, [str(folder)])
    _ends_in_error(page, "No image or scan found in the folder (JPEG, PNG, BMP, TIFF, WebP, DICOM or NIfTI).")
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def test_a_folder_whose_walk_fails_ends_with_one_clear_error(server, chromium, tmp_path):
    """A walk that fails outright (an error folders.js does not expect, from this browser or itself) left the page at
    "Reading the dropped folder…" for good, with nothing said. (The folders and files it cannot read are notes of
    their own: the walk is stubbed to fail here.)"""
    folder = tmp_path / "denied"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG")
    page, problems = glioma_page(chromium, server)
    page.evaluate("""() => {
      const folders = window.braintumorFolders;
      window.realWalk = folders.walk;
      folders.walk = function () { return Promise.reject(new DOMException("denied", "SecurityError")); };
    }""")
    os_drop(page, [str(folder)])
    _ends_in_error(page, "This browser could not read the folder (SecurityError: denied): drop or choose its "
                         "files instead.")
    page.evaluate("() => { window.braintumorFolders.walk = window.realWalk; }")
    os_drop(page, [str(folder)])  # the run ended: the next drop is read and analysed
    sync_api.expect(page.locator("#page-status")).to_have_text("Done: 1 classified (see below).", timeout=30_000)
    assert page.locator("#page-notes p").count() == 0
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def test_zips_in_a_dropped_folder_are_named_not_sent_as_the_cli_does(server, chromium, tmp_path):
    """A zip inside a dropped folder was sent, while `braintumor predict FOLDER` does not open one (a folder holding a
    series and its zip would be classified twice): it is named in a note, as the CLI names it. A zip dropped itself
    is still sent."""
    folder = tmp_path / "export"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.png").write_bytes(b"\x89PNG")
    for name in ("b.zip", "c.ZIP", "d.zip", "sub/e.zip"):
        (folder / name).write_bytes(b"PK\x05\x06" + bytes(18))
    (tmp_path / "given.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    page, problems = glioma_page(chromium, server)
    notes = drop_and_read_notes(page, [str(folder), str(tmp_path / "given.zip")], "Done: 2 classified (see below).")
    assert notes == [
        "Skipped 4 .zip files in the folder (zips in a folder are not opened: drop or choose each one "
        "itself): export/b.zip, export/c.ZIP, export/d.zip and 1 more."]
    assert sorted(page.locator("#results > .card .card-name").all_inner_texts()) == ["export/a.png", "given.zip"]
    assert problems == []
    page.close()


def test_a_file_dropped_beside_a_folder_with_no_entry_is_still_sent(server, chromium, tmp_path):
    """A dropped file the browser gives no entry for (webkitGetAsEntry null: the walk takes it as dropped) made the
    grouping of series fail on its missing path, and with it the whole drop."""
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG")
    (tmp_path / "beside.png").write_bytes(b"\x89PNG")
    page, problems = glioma_page(chromium, server)
    page.add_init_script("""
const given = DataTransferItem.prototype.webkitGetAsEntry;
DataTransferItem.prototype.webkitGetAsEntry = function () {
  const entry = given.call(this);
  return entry && entry.isDirectory ? entry : null;
};""")
    page.reload()
    sync_api.expect(page.locator("html")).to_have_class("js")
    os_drop(page, [str(folder), str(tmp_path / "beside.png")])
    sync_api.expect(page.locator("#page-status")).to_have_text("Done: 2 classified (see below).", timeout=30_000)
    assert sorted(page.locator("#results > .card .card-name").all_inner_texts()) == ["beside.png", "scans/a.png"]
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def _ends_in_error(page, said: str) -> None:
    """The drop ended as one error on the line of a pick with nothing to classify, with no result card."""
    status = page.locator("#pick-status")
    sync_api.expect(status).to_have_text(said)
    sync_api.expect(status).to_have_class("page-status pick-status is-error")
    assert page.locator("#results > .card").count() == 0
