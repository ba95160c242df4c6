"""What the page shows of its results stays until the user clears it, in a real browser (headless chromium via
Playwright, as tests/conftest.py gives it). Skipped, never failed, when chromium or playwright is absent."""

from __future__ import annotations

import pytest
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions
from test_browser_drop_anywhere import DROP_TEXT

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

NO_FILE = "No file chosen: choose, drop or paste one or more images or scans."
DONE = "Done: 1 classified (see below)."


def test_a_pick_with_no_file_keeps_the_last_runs_done_line(server, chromium, test_images):
    """Classify with no file chosen, or text dropped on the zone, after a run: the red "No file chosen" message
    replaced its Done line (the summary of the results still shown, and its buttons to them). It is said on a live
    line of its own; the Done line and the cards stay, and the next run takes the message away."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    status, picked, cards = page.locator("#page-status"), page.locator("#pick-status"), page.locator("#results > .card")
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    sync_api.expect(status).to_have_text(DONE, timeout=30_000)
    submit = "() => document.getElementById('upload-form').requestSubmit()"  # Enter in the form (its button hidden)
    for nothing in (lambda: page.evaluate(submit), lambda: page.evaluate(DROP_TEXT, "#dropzone")):
        page.evaluate("() => { document.getElementById('pick-status').textContent = ''; }")
        nothing()
        sync_api.expect(picked).to_have_text(NO_FILE)
        sync_api.expect(picked).to_have_class("page-status pick-status is-error")
        sync_api.expect(picked).to_have_attribute("role", "status")  # said by a screen reader
        sync_api.expect(status).to_have_text(DONE)
        sync_api.expect(cards).to_have_count(1)
    page.set_input_files("#file-input", str(test_images["pituitary"][0]))
    sync_api.expect(picked).to_have_text("")
    sync_api.expect(status).to_have_text(DONE, timeout=30_000)
    sync_api.expect(cards).to_have_count(2)
    assert problems == []
    page.close()
