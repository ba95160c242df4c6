"""A PACS export's or a CD's folder dropped on the page, in a real browser, read as ``braintumor predict`` reads it: the
DICOM files of the dropped folder go to the server in one zip, wherever they sit below it, and the server groups them
by Series Instance UID. The page made one zip per sub-folder: a series split over two sub-folders was shown as two
half series, and a study's series lacked the notes the CLI gives them. Skipped, never failed, when chromium or
playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import json

import pytest
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions
from test_browser_errors import os_drop
from test_browser_folders import WATCH_SENT, zipped
from test_predict_dicom_folders import split_series, two_series_and_index

from braintumor.volume_io import read_volumes

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


# what the server says of a study past one request's pixels (web/volumes.py), too large to make here
REFUSAL = ("the DICOM input would decode to 134,217,729 pixels; the limit is 134,217,728: send its series one by one, "
           "each within the limit")


def dropped(chromium, server, folder, slices: int | None = None, refused: int = 0):
    """The page after ``folder`` was dropped on it (its slices per request lowered to ``slices``, its first
    ``refused`` zips refused as the server refuses a study past its pixels), and its state."""
    page, problems = open_page(chromium, server, 1024, 800)
    page.add_init_script(WATCH_SENT)
    page.reload()
    sync_api.expect(page.locator("html")).to_have_class("js")
    left = [refused]

    def answer(route):
        if zipped(route) and left[0] > 0:
            left[0] -= 1
            route.fulfill(status=400, content_type="application/json",
                          body=json.dumps({"results": [{"path": "series.zip", "error": REFUSAL}]}))
        else:
            route.continue_()

    page.route("**/api/v1/predict*", answer)
    if slices:
        page.evaluate(f"document.getElementById('upload-form').dataset.maxSlices = '{slices}'")
    os_drop(page, [str(folder)])
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=30_000)
    blocks = [(b.locator(".series-name").inner_text(), b.locator(".series-line").inner_text().split(" · ")[0],
               b.locator(".series-notes li").all_inner_texts()) for b in page.locator("#results .series").all()]
    return page, problems, blocks


def test_a_series_split_over_sub_folders_is_one_series_as_the_cli_reads_it(server, chromium, tmp_path):
    folder = split_series(tmp_path)
    (volume,) = read_volumes(folder)
    page, problems, blocks = dropped(chromium, server, folder)
    assert blocks == [("study/SER1", f"{len(volume.slices)} slices", [])]  # named by the folder holding them all
    assert [[name for name, _, _ in files] for files in page.evaluate("window.sentFiles")] == [["series.zip"]]
    assert problems == []
    page.close()


def test_a_study_of_series_in_sub_folders_is_one_request_split_by_series(server, chromium, tmp_path):
    """Its series are told apart as the CLI tells them (the same notes), their slices counted on the Done line, and no
    folder name leaves the browser (the zip's members are named by their own file names)."""
    folder = two_series_and_index(tmp_path)
    page, problems, blocks = dropped(chromium, server, folder)
    volumes = read_volumes(folder)
    assert blocks == [(f"study · series {v.series + 1}", f"{len(v.slices)} slices", list(v.notes[:1]))
                      for v in volumes]
    assert blocks[0][2] == ["2 series found; this is series 1 (number 1, AX 1)"]
    assert page.locator("#page-status").inner_text() == "Done: 5 files (2 scans), 5 slices: 0 classified, 5 not " \
                                                        "classified (unlike brain MRI) (see below)."
    assert page.locator("#page-notes p").all_inner_texts() == [
        "Skipped 1 file in the folder (a DICOMDIR is an index of a DICOM export's images, not an image "
        "itself): study/DICOMDIR."]
    slices = sorted(p for p in folder.rglob("IM*"))
    sent = page.evaluate("window.sentFiles")
    assert [[name for name, _, _ in files] for files in sent] == [["series.zip"]]
    assert sent[0][0][1] == sum(p.stat().st_size for p in slices) + 22 + len(slices) * (76 + 2 * 6)
    assert problems == []
    page.close()


def test_a_study_past_one_requests_limits_is_sent_a_folder_at_a_time(server, chromium, tmp_path):
    """Past the slices one request takes (here lowered to 2): each sub-folder's files together, and those of a
    sub-folder past them one by one, each said."""
    folder = two_series_and_index(tmp_path)
    page, problems, blocks = dropped(chromium, server, folder, slices=2)
    assert page.locator("#page-notes p").all_inner_texts()[1:] == [
        "The 5 DICOM files in study are more than one request takes (2 slices, 128 MiB): those of each folder are sent "
        "together (a series split over folders is shown in parts).",
        "The 3 DICOM files in study/SER1 are more than one request takes (2 slices, 128 MiB): each is classified on "
        "its own, with no series summary (a .zip of fewer of them gets one)."]
    assert blocks == [("study/SER2", "2 slices", [])]
    names = page.locator("#results > .card .card-name").all_inner_texts()
    assert sorted(names) == ["study/SER1/IM0000", "study/SER1/IM0001", "study/SER1/IM0002"]
    assert page.locator("#page-status").inner_text() == "Done: 5 files, 5 slices: 0 classified, 5 not classified " \
                                                        "(unlike brain MRI) (see below)."
    assert problems == []
    page.close()


STEPPED = "The 5 DICOM files in study could not be analysed in one request ({}): those of each folder are sent " \
          "together (a series split over folders is shown in parts)."


def test_a_study_the_server_refuses_whole_is_sent_a_sub_folder_at_a_time(server, chromium, tmp_path):
    """Past a limit the page cannot see (the pixels of one request): its sub-folders' series each in one request, as
    the server advises, not every file on its own (a request and a card per slice, and a note calling the study "one
    series")."""
    folder = two_series_and_index(tmp_path)
    page, problems, blocks = dropped(chromium, server, folder, refused=1)
    assert page.locator("#page-notes p").all_inner_texts()[1:] == [STEPPED.format(REFUSAL)]
    assert [(name, line) for name, line, _ in blocks] == [("study/SER1", "3 slices"), ("study/SER2", "2 slices")]
    assert page.locator("#results > .card").count() == 0
    assert sorted(page.evaluate("window.sentFiles"))[::-1] == [[["series.zip", size, "application/zip"]] for size in (
        sum(p.stat().st_size for p in folder.rglob("IM*")) + 22 + 5 * (76 + 2 * 6),
        sum(p.stat().st_size for p in (folder / "SER1").iterdir()) + 22 + 3 * (76 + 2 * 6),
        sum(p.stat().st_size for p in (folder / "SER2").iterdir()) + 22 + 2 * (76 + 2 * 6))]
    assert page.locator("#page-status").inner_text() == "Done: 5 files, 5 slices: 0 classified, 5 not classified " \
                                                        "(unlike brain MRI) (see below)."
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


def test_a_sub_folder_the_server_refuses_in_turn_is_sent_file_by_file(server, chromium, tmp_path):
    """One step down at a time: the study, then its sub-folders, then their files; a request each, no more (8 for 5
    files in 2 sub-folders), each sent by its own name (no folder's name leaves the browser)."""
    folder = two_series_and_index(tmp_path)
    page, problems, blocks = dropped(chromium, server, folder, refused=3)
    notes = page.locator("#page-notes p").all_inner_texts()[1:]
    assert notes[0] == STEPPED.format(REFUSAL)
    assert sorted(notes[1:]) == sorted(f"The {n} DICOM files in study/{sub} could not be analysed in one request "
                                       f"({REFUSAL}): each is classified on its own." for n, sub in ((3, "SER1"),
                                                                                                      (2, "SER2")))
    assert blocks == []
    files = sorted(p.relative_to(tmp_path).as_posix() for p in folder.rglob("IM*"))
    assert sorted(page.locator("#results > .card .card-name").all_inner_texts()) == files
    sent = [[name for name, _, _ in files] for files in page.evaluate("window.sentFiles")]
    assert sorted(sent) == sorted([["series.zip"]] * 3 + [[f.rsplit("/", 1)[1]] for f in files])
    assert page.locator("#page-status").inner_text() == "Done: 0 classified, 5 not classified (unlike brain MRI) " \
                                                        "(see below)."
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()
