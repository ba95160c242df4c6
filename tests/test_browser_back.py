"""Back to the page after following one of its links, in a real browser: the results are still there (the browser's
back/forward cache, in memory; nothing stored on the server or on disk), and where the browser could not keep the
page it says the results were not kept instead of showing an empty page as if nothing had happened. Skipped, never
failed, when chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import pytest
from test_browser import ARGS, CHROMIUM, open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

LOST = ("The 2 results shown before you left this page were not kept (nothing is stored, on the server or in this "
        "browser): choose or drop the files again to see them.")


@pytest.fixture(scope="module")
def browsers(playwright_driver):
    """{"cache": Chromium as people run it, "none": as Playwright runs it, without the back/forward cache} (from the
    run's one Playwright, conftest.playwright_driver: a second one in the same thread is refused)."""
    started = {name: playwright_driver.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True,
                                                       ignore_default_args=["--disable-back-forward-cache"]
                                                       if name == "cache" else None)
               for name in ("cache", "none")}
    try:
        yield started
    finally:
        for browser in started.values():
            browser.close()


def classify_two_then_follow_the_footer_link_and_come_back(page, test_images) -> None:
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [str(p) for p in test_images["glioma"][:2]])
    sync_api.expect(page.locator("#page-status")).to_have_text("Done: 2 classified (see below).", timeout=30_000)
    page.get_by_role("link", name="model card").click()
    page.wait_for_url("**/model")
    assert page.url.endswith("/model") and "/api/" not in page.url  # the page for people, not the JSON
    page.go_back(wait_until="commit")  # a page restored from the cache fires no load event
    sync_api.expect(page.locator("#upload-form")).to_be_visible()


def test_results_survive_back_after_following_a_link(server, browsers, test_images):
    """The page was sent no-store and had made requests: Chromium keeps such a page out of its back/forward cache, so
    Back from the footer's "model card" link showed the upload form alone, every result and heat map gone."""
    page, problems = open_page(browsers["cache"], server, 1024, 800)
    classify_two_then_follow_the_footer_link_and_come_back(page, test_images)
    cards = page.locator("#results > .card")
    sync_api.expect(cards).to_have_count(2)
    assert cards.evaluate_all("cs => cs.map(c => c.dataset.state)") == ["ok", "ok"]
    assert page.locator("#page-status").inner_text() == "Done: 2 classified (see below)."
    assert page.locator(".view-heat").first.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator("#download-csv").get_attribute("href").startswith("blob:")
    assert [p for p in problems if "status of 404" not in p] == []  # a page without <link rel=icon>: /favicon.ico
    page.close()


def test_where_the_browser_keeps_no_copy_the_page_says_the_results_were_not_kept(server, browsers, test_images):
    """Without the back/forward cache (Playwright's default; a browser that keeps fewer pages; a page left while
    files were being analysed) Back showed an empty page, as if the results had never been."""
    page, problems = open_page(browsers["none"], server, 1024, 800)
    classify_two_then_follow_the_footer_link_and_come_back(page, test_images)
    sync_api.expect(page.locator("#page-status")).to_have_text(LOST)
    assert page.locator("#results > .card").count() == 0
    page.reload()  # said once: a reload is a fresh page
    sync_api.expect(page.locator("html")).to_have_class("js")
    assert page.locator("#page-status").inner_text() == ""
    assert [p for p in problems if "status of 404" not in p] == []  # a page without <link rel=icon>: /favicon.ico
    page.close()


def test_without_javascript_the_footers_links_leave_the_results_where_they_are(server, browsers, test_images):
    """The results without JavaScript are a POST's answer, kept nowhere (no-store): Back from the footer's "model
    card" link was Chromium's "Confirm Form Resubmission" error page (ERR_CACHE_MISS), back or forth cache alike. On
    that page the links open in a new tab, and say so; the results stay in this one."""
    context = browsers["cache"].new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server)
    page.set_input_files("#file-input", [str(p) for p in test_images["glioma"][:2]])
    page.click("button[type=submit]")
    sync_api.expect(page.locator("#page-status")).to_have_text("Done: 2 classified (see below).", timeout=30_000)
    link = page.get_by_role("link", name="model card (opens in a new tab)")
    with context.expect_page(timeout=10_000) as opened:
        link.click(timeout=5_000)
    opened.value.wait_for_load_state()
    assert opened.value.url == f"{server}/model"
    assert page.title().startswith("Results") and page.locator("#results > .card").count() == 2
    context.close()
    context = browsers["cache"].new_context(java_script_enabled=False)  # the empty form's links stay in the tab
    page = context.new_page()
    page.goto(server)
    assert page.get_by_role("link", name="model card", exact=True).get_attribute("target") is None
    context.close()


def test_a_touch_screen_coming_back_is_told_to_choose_the_files_not_to_drop_them(server, browsers, test_images):
    """A touch screen's drop zone says to choose files (it can neither drop nor paste one), but coming back to a page
    the browser kept no copy of said "choose or drop the files again": it is told to choose them."""
    context = browsers["none"].new_context(viewport={"width": 390, "height": 800}, has_touch=True, is_mobile=True)
    page = context.new_page()
    page.goto(server)
    classify_two_then_follow_the_footer_link_and_come_back(page, test_images)
    sync_api.expect(page.locator("#page-status")).to_have_text(LOST.replace("choose or drop", "choose"))
    context.close()
