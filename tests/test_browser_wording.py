"""The page's words for an outcome, in a real browser (headless chromium via Playwright, the shipped model; one server
and one browser for the module, as tests/conftest.py gives them), as the CLI says them. Skipped, never failed, when
chromium, playwright or the dataset is absent (like tests/test_browser.py)."""

from __future__ import annotations

import pytest
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def test_the_done_line_counts_the_answers_with_lower_confidence_as_the_cli_does(server, chromium, data_root):
    """"Done: 2 classified (see below).": a batch's one line said nothing of the answers under 99 %, which the CLI's
    last line counts ("2 classified, 1 of them with lower confidence (under 99.0%)"); with 32 files, the flag was down
    the page. Not "flagged for review" (until 2026-12-06): every answer is for a clinician to interpret."""
    flagged = data_root / "Testing" / "glioma" / "Te-gl_0081.jpg"  # the shipped model: pituitary, 88.3 %
    sure = data_root / "Testing" / "pituitary" / "Te-pi_0010.jpg"  # pituitary, > 99.9 %
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [str(flagged), str(sure)])
    sync_api.expect(page.locator("#page-status")).to_have_text(
        "Done: 2 classified, 1 of them with lower confidence (see below).", timeout=30_000)
    sync_api.expect(page.locator(".card-review:visible")).to_have_count(1)
    assert problems == []
    page.close()
