"""Files dropped anywhere on the page, in a real browser (headless chromium via Playwright, as tests/conftest.py gives
it): once results fill the page the drop zone has scrolled away, and files dropped on the results (or the header) were
swallowed without a word: the page kept the browser from opening them, showed a copy cursor, and sent nothing.
Skipped, never failed, when chromium or playwright is absent."""

from __future__ import annotations

import pytest
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions
from test_browser_errors import os_drop

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

#: A text selection or a link dragged onto the page (no file): the page neither opens it nor calls it an error.
DROP_TEXT = """(selector) => {
    const dt = new DataTransfer();
    dt.setData("text/plain", "https://example.org/scan.jpg");
    document.querySelector(selector).dispatchEvent(new DragEvent("drop", {dataTransfer: dt, bubbles: true,
                                                                          cancelable: true}));
}"""


def test_files_dropped_beside_the_zone_are_classified_as_if_dropped_on_it(server, chromium, test_images):
    page, problems = open_page(chromium, server, 1024, 700)
    sync_api.expect(page.locator("html")).to_have_class("js")
    status, cards = page.locator("#page-status"), page.locator("#results > .card")
    first, second = (str(test_images[c][0]) for c in ("glioma", "pituitary"))
    page.set_input_files("#file-input", [first])
    sync_api.expect(status).to_have_text("Done: 1 classified (see below).", timeout=30_000)
    os_drop(page, [second], on="#results .card")  # on the first result
    sync_api.expect(cards).to_have_count(2)
    sync_api.expect(status).to_have_text("Done: 1 classified (see below).", timeout=30_000)
    assert cards.nth(0).locator(".card-name").inner_text() == test_images["pituitary"][0].name  # newest first
    sync_api.expect(cards.nth(0)).to_have_attribute("data-state", "ok")
    os_drop(page, [first], on=".site-header")
    sync_api.expect(cards).to_have_count(3)
    sync_api.expect(cards.nth(0)).to_have_attribute("data-state", "ok", timeout=30_000)
    assert cards.nth(0).locator(".card-name").inner_text() == test_images["glioma"][0].name + " (2)"
    # no file in the drop: beside the zone nothing happens (no error line, no card, the page stays)
    page.evaluate(DROP_TEXT, "#results .card")
    page.wait_for_timeout(300)
    sync_api.expect(cards).to_have_count(3)
    sync_api.expect(status).to_have_text("Done: 1 classified (see below).")
    assert page.url.rstrip("/") == server.rstrip("/")
    assert problems == []
    page.close()
