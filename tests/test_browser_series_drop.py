"""A dropped folder of DICOM slices, in a real browser: its slices go to the server in one request, as a zip made in
the browser (the API reads a series from a zip, and each file of a multi-file request on its own), and the page shows
the series as it shows a zip's: one block, its summary, its strip. Each slice was its own request and card, with no
summary. Skipped, never failed, when chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from dicom_factory import series
from PIL import Image
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions
from test_browser_errors import os_drop
from test_browser_folders import WATCH_SENT, csv_paths, drop_and_read_notes, glioma_page, zipped

from braintumor.image_io import read_image

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def study(test_images, tmp_path):
    """study/T1/IM0000..IM0003 (one series, no endings) and study/a.jpg beside it."""
    stack = [np.asarray(Image.fromarray(read_image(test_images[c][0])).resize((256, 256)), dtype=np.uint8)
             for c in ("glioma", "meningioma", "pituitary", "notumor")]
    (tmp_path / "study" / "T1").mkdir(parents=True)
    for name, data in series(stack):
        (tmp_path / "study" / "T1" / name).write_bytes(data)
    (tmp_path / "study" / "a.jpg").write_bytes(test_images["glioma"][1].read_bytes())
    return tmp_path / "study"


def test_a_dropped_folder_of_dicom_slices_is_sent_and_shown_as_one_series(server, chromium, test_images, tmp_path):
    folder = study(test_images, tmp_path)
    page, problems = open_page(chromium, server, 1024, 800)
    page.add_init_script(WATCH_SENT)
    page.reload()
    sync_api.expect(page.locator("html")).to_have_class("js")
    os_drop(page, [str(folder)])
    sync_api.expect(page.locator("#page-status")).to_have_text("Done: 5 files, 5 slices: 5 classified (see below).",
                                                               timeout=30_000)
    block = page.locator("#results .series")
    sync_api.expect(block).to_have_count(1)
    assert block.locator(".series-name").inner_text() == "study/T1"
    assert block.locator(".series-line").inner_text().startswith("4 slices · ")
    assert block.locator("rect.strip-bar").count() == 4
    assert page.locator("#results > .card .card-name").all_inner_texts() == ["study/a.jpg"]
    assert csv_paths(page) == ["study/a.jpg"] + ["study/T1"] * 4
    sent = sorted(page.evaluate("window.sentFiles"))  # two requests of one file each; no folder name sent
    slices = sum((folder / "T1" / f"IM{k:04d}").stat().st_size for k in range(4))
    assert [[name for name, _, _ in files] for files in sent] == [["a.jpg"], ["series.zip"]]
    assert sent[1][0][1:] == [slices + 22 + 4 * (76 + 2 * 6), "application/zip"]  # stored: the slices and headers
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def test_a_series_past_the_limits_or_refused_whole_is_sent_file_by_file_with_a_note(server, chromium, test_images,
                                                                                   tmp_path):
    """Over the limits the page knows (the server's slices per request, here lowered): each file on its own, said in
    a note. Refused whole by the server (a limit the page cannot see, such as its pixels): sent again file by file."""
    folder = study(test_images, tmp_path)
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.evaluate("document.getElementById('upload-form').dataset.maxSlices = '3'")
    notes = drop_and_read_notes(page, [str(folder)], "Done: 5 classified (see below).")
    assert notes == [
        "The 4 DICOM files in study/T1 are more than one request takes (3 slices, 128 MiB): each is classified on its "
        "own, with no series summary (a .zip of fewer of them gets one)."]
    assert page.locator("#results .series").count() == 0
    page.add_init_script(WATCH_SENT)
    page.reload()
    sync_api.expect(page.locator("html")).to_have_class("js")
    refusal = {"results": [{"path": "series.zip", "error": "the zip's slices hold more than 134,217,728 pixels"}]}

    def answer(route):
        if zipped(route):
            route.fulfill(status=400, content_type="application/json", body=json.dumps(refusal))
        else:
            route.continue_()

    page.route("**/api/v1/predict*", answer)
    notes = drop_and_read_notes(page, [str(folder)], "Done: 5 classified (see below).")
    assert notes == [
        "The 4 DICOM files in study/T1 could not be analysed in one request (the zip's slices hold more than "
        "134,217,728 pixels): each is classified on its own."]
    names = page.locator("#results > .card .card-name").all_inner_texts()
    assert sorted(names) == ["study/T1/IM0000", "study/T1/IM0001", "study/T1/IM0002", "study/T1/IM0003",
                             "study/a.jpg"]
    assert sorted(csv_paths(page)) == sorted(names)
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p and "status of 400" not in p] == []
    page.close()


def test_a_series_counts_as_one_against_the_files_one_drop_takes(server, chromium, tmp_path):
    """The 200 files a drop takes were counted before a folder's slices became a series: a 250-slice series (the
    server takes 512) was sent as 200 slices, or as one after 199 images, with the rest "left out". It is one scan
    against the limit, sent whole; what is left past the limit is said as before."""
    folder = tmp_path / "many"
    (folder / "T1").mkdir(parents=True)
    (folder / "U").mkdir()
    for i in range(199):
        (folder / f"img{i:03d}.png").write_bytes(b"\x89PNG")
    for name, data in series([np.full((8, 8), k % 256, np.uint8) for k in range(250)], shuffle=False):
        (folder / "T1" / name).write_bytes(data)
    for name in ("a.png", "b.png"):
        (folder / "U" / name).write_bytes(b"\x89PNG")
    page, problems = glioma_page(chromium, server)
    page.add_init_script(WATCH_SENT)
    page.reload()
    sync_api.expect(page.locator("html")).to_have_class("js")
    notes = drop_and_read_notes(page, [str(folder)], "Done: 200 classified (see below).", timeout=60_000)
    assert notes == [
        "Only the first 200 images or scans are analysed: 2 more files were left out; drop or choose them in "
        "smaller folders."]
    names = page.locator("#results > .card .card-name").all_inner_texts()
    assert sorted(names) == ["many/T1"] + [f"many/img{i:03d}.png" for i in range(199)]
    zipped = [files for files in page.evaluate("window.sentFiles") if files[0][0] == "series.zip"]
    slices = sum(p.stat().st_size for p in (folder / "T1").iterdir())
    assert [size for _, size, _ in zipped[0]] == [slices + 22 + 250 * (76 + 2 * 6)]  # every slice, in one request
    assert problems == []
    page.close()


def test_the_zip_maker_offers_only_what_the_page_uses(server, chromium):
    """zip.js's checksum is its own business: it was exported though nothing else called it (a second way to zip)."""
    page, problems = open_page(chromium, server, 1024, 800)
    assert page.evaluate("Object.keys(window.braintumorZip).sort()") == ["overhead", "zip"]
    assert problems == []
    page.close()
