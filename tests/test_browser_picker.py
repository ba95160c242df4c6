"""The file picker, in a real browser: a scanner's DICOM files, named with no ending (IM00001), by their UID or as
.IMA, are chosen and classified like any slice, and a file the page cannot read (a PDF chosen with them) is one
card that names it (a PDF document) and what to send instead. The picker had an ``accept`` list that could not
name them (a macOS picker greys them out).
Skipped, never failed, when chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import make_dicom
from PIL import Image
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions

from braintumor.documents import PDF_DOCUMENT
from braintumor.image_io import read_image
from braintumor.web.pages import sentence

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def test_dicom_files_without_an_ending_are_chosen_and_an_unknown_file_is_one_card(server, chromium, test_images,
                                                                                  tmp_path):
    names = ["IM00001", "1.2.840.113619.2.55.3.12", "SCAN0001.IMA"]
    for name, cls in zip(names, ("glioma", "meningioma", "pituitary"), strict=True):
        pixels = np.asarray(Image.fromarray(read_image(test_images[cls][0])).resize((256, 256)), dtype=np.uint8)
        (tmp_path / name).write_bytes(make_dicom(pixels))
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.4\n% a report chosen with the scans\n")
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    assert page.locator("#file-input").evaluate("i => i.accept") == ""  # the picker hides no file
    page.set_input_files("#file-input", [str(tmp_path / n) for n in [*names, "report.pdf"]])
    sync_api.expect(page.locator("#page-status")).to_have_text("Done: 3 classified, 1 unreadable (see below).",
                                                               timeout=30_000)
    cards = page.locator("#results > .card")
    assert cards.locator(".card-name").all_inner_texts() == [*names, "report.pdf"]
    assert cards.evaluate_all("cs => cs.map(c => c.dataset.state)") == ["ok", "ok", "ok", "error"]
    # named, and what to send instead, as a sentence under its name
    assert cards.nth(3).locator(".card-status-text").inner_text() == sentence(PDF_DOCUMENT)
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


def test_the_hint_gives_the_limits_of_the_path_the_files_take(server, chromium):
    """Without JavaScript the form sends the files in one request (32 files, 512 slices, 128 MiB); with it each file
    is its own request and a folder, dropped or chosen in the folder picker, gives up to 200 files: the hint said "up to
    32 files" on both, and then of a dropped folder alone."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    limit = page.evaluate("window.braintumorFolders.MAX_TAKEN")
    assert page.locator("#hint-limits").inner_text() == (
        f"any number of files, each up to 512 slices and 128 MiB; from a folder dropped or chosen, its first {limit} "
        "images or scans")
    assert problems == []
    page.close()
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server)
    assert page.locator("#hint-limits").inner_text() == "up to 32 files, 512 slices and 128 MiB at a time"
    context.close()
