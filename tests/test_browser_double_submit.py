"""A double click on Classify, in a real browser (headless chromium via Playwright). Without JavaScript nothing can
keep the form from being sent twice: chromium sends both requests (the server classifies and counts both, a no-JS
limit, docs/WEB.md) and shows the second's answer, so the reader sees one set of results, counted once. With it, the
button is not shown (app.js sends files as they are chosen) and a file is never sent twice. Skipped, never failed,
when chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import pytest
from test_browser import pytestmark  # noqa: F401 - pytestmark: the same skip conditions

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def test_a_double_click_on_classify_without_javascript_shows_one_answer(server, chromium, test_images):
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server)
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    page.dblclick("button[type=submit]")
    page.wait_for_load_state()
    sync_api.expect(page.locator("#page-status")).to_have_text("Done: 1 classified (see below).")
    sync_api.expect(page.locator("#results .card")).to_have_count(1)
    context.close()


def test_with_javascript_a_file_chosen_is_sent_once_whatever_is_clicked_or_submitted(server, chromium, test_images):
    """The files go as they are chosen, the chooser emptied: a form submitted again (Enter, a script, a button the
    page hides) finds nothing to send and says so on its own line, the results and their Done line left as they are."""
    context = chromium.new_context()
    page = context.new_page()
    sent: list[str] = []
    page.on("request", lambda r: sent.append(r.url) if r.method == "POST" else None)
    page.goto(server)
    sync_api.expect(page.locator("html")).to_have_class("js")
    sync_api.expect(page.locator("button[type=submit]")).to_be_hidden()
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    page.evaluate("() => { const form = document.getElementById('upload-form'); form.requestSubmit(); "
                  "form.requestSubmit(); }")
    sync_api.expect(page.locator("#page-status")).to_have_text("Done: 1 classified (see below).", timeout=30_000)
    sync_api.expect(page.locator("#pick-status")).to_contain_text("No file chosen")
    page.wait_for_timeout(300)  # a second request would have left by now
    assert len(sent) == 1 and "/api/" in sent[0], sent
    sync_api.expect(page.locator("#results .card")).to_have_count(1)
    context.close()
