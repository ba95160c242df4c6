"""The results page printed or saved as a PDF (a clinician takes it to a meeting), in a real browser (headless chromium
via Playwright, as tests/conftest.py gives it). Skipped, never failed, when chromium or playwright is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dicom_factory import make_dicom, series, zip_bytes
from PIL import Image
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions

from braintumor.image_io import read_image

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


@pytest.fixture(scope="module")
def uploads(test_images, tmp_path_factory) -> list[Path]:
    """A glioma, a no-tumour slice, a photo (refused), an unreadable file, a DICOM file and a zipped DICOM series."""
    folder = tmp_path_factory.mktemp("print")
    photo = folder / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(photo)
    (folder / "notes.jpg").write_text("not an image")
    paths = [test_images[c][0] for c in ("notumor", "glioma", "pituitary", "meningioma")]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((256, 256)), dtype=np.uint8) for p in paths]
    (folder / "IM00001").write_bytes(make_dicom(stack[1]))
    (folder / "series.zip").write_bytes(zip_bytes(series(stack)))
    return [test_images["glioma"][0], test_images["notumor"][0], photo, folder / "notes.jpg", folder / "IM00001",
            folder / "series.zip"]


# Boxes on the printed page (its layout for print media): the disclaimer's, and every result's it overlaps.
OVERLAPS = """() => {
    const d = document.querySelector(".disclaimer").getBoundingClientRect();
    return [...document.querySelectorAll("#results .card, #results .series")].filter(e => {
        const r = e.getBoundingClientRect();
        return r.left < d.right && d.left < r.right && r.top < d.bottom && d.top < r.bottom;
    }).map(e => e.querySelector(".card-name").textContent.trim());
}"""

STYLE = "(els, prop) => [...new Set(els.map(e => getComputedStyle(e)[prop]))]"


def test_a_printed_results_page_keeps_the_answers_and_the_disclaimer_and_drops_the_controls(server, chromium,
                                                                                             uploads):
    """Printed (or saved as a PDF), the page had the sticky disclaimer once, across a card on the second page, over its
    text; the drop zone, the download link and every heat-map checkbox and slider; probability bars all empty and a
    series' legend without its keys (both backgrounds, which print leaves out unless told); cards cut across pages."""
    page, problems = open_page(chromium, server, 794, 1123)  # an A4 page's width at 96 dpi
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [str(f) for f in uploads])
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=60_000)
    page.evaluate("document.getElementById('upload-form').requestSubmit()")  # Classify with no file: the form's line
    sync_api.expect(page.locator("#pick-status")).to_contain_text("No file chosen")
    page.emulate_media(media="print")

    disclaimer = page.locator(".disclaimer")
    sync_api.expect(disclaimer).to_contain_text("Not a medical device")
    assert page.evaluate(OVERLAPS) == []
    assert disclaimer.bounding_box()["y"] < page.locator("#results").bounding_box()["y"]  # read before the answers
    for gone in ("#dropzone", "#file-input", "#pick-status", "#downloads", ".heat-toggle", ".heat-opacity",
                 ".site-footer"):
        for i in range(page.locator(gone).count()):
            sync_api.expect(page.locator(gone).nth(i)).to_be_hidden()
    # what the clinician needs stays: every file's name, its answer or why there is none, the bars and their values
    names = page.locator("#results .card-name").all_inner_texts()
    for path in uploads:
        assert any(n.startswith(path.name) for n in names), (path.name, names)
    sync_api.expect(page.locator("#page-status")).to_contain_text("; 1 file unreadable")  # notes.jpg: a file, no slice
    answered = "[data-state=ok] > .card-body"
    for kept in (f"{answered} .verdict", f"{answered} .bars", f"{answered} .view-base", ".strip-plot", ".strip-legend",
                 ".series-line"):
        for i in range(page.locator(kept).count()):
            sync_api.expect(page.locator(kept).nth(i)).to_be_visible()
    sync_api.expect(page.locator(".card", has_text="notes.jpg").locator(".card-status-text")).to_contain_text(
        "Not a recognised image")
    sync_api.expect(page.locator(".card", has_text="photo.png").locator(".card-status-text")).to_contain_text(
        "Not classified")
    for drawn in (".bar-meter", ".strip-legend .swatch"):  # their fills are backgrounds
        assert page.locator(drawn).evaluate_all(STYLE, "printColorAdjust") == ["exact"], drawn
    assert page.locator("#results .card, .strip").evaluate_all(STYLE, "breakInside") == ["avoid"]
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 100_000  # the heat maps are in it: it was rendered whole
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()
