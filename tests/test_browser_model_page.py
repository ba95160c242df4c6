"""The footer's "model card" link opens the model card page (GET /model), which fits a phone-wide window, in a real
browser (headless chromium via Playwright, as tests/conftest.py gives it). Skipped, never failed, where chromium or
playwright is absent."""

from __future__ import annotations

import pytest
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def test_the_footers_model_card_link_opens_a_page_that_fits_a_phone(server, chromium):
    """The link opened /api/v1/model, raw JSON: a clinician read a wall of braces. It now opens a page in words,
    which scrolls down only at 360 px, with the browser's text at 100 % and at 200 % (a low-vision setting)."""
    page, problems = open_page(chromium, server, 360, 740)
    page.get_by_role("link", name="model card", exact=True).click()
    page.wait_for_url(f"{server}/model")
    sync_api.expect(page.get_by_role("heading", level=2)).to_contain_text("Model card")
    assert page.get_by_role("heading", name="What it cannot do").is_visible()
    for size in ("100%", "200%"):
        page.evaluate(f"document.documentElement.style.fontSize = '{size}'")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, size
    page.get_by_role("link", name="/api/v1/model").click()  # the JSON, for programs, one link away
    page.wait_for_url(f"{server}/api/v1/model")
    assert problems == []
