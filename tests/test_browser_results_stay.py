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


def test_clear_results_takes_every_result_off_the_screen(server, chromium, test_images):
    """On a shared workstation only a reload took the results off the screen. "Clear results" (shown once a run is
    over) takes the cards, the Done line and the CSV away (its object URL revoked: the file no longer in memory),
    says "Results cleared" on the polite status line and gives the focus back to the file chooser."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    status, cards = page.locator("#page-status"), page.locator("#results > .card")
    clear = page.get_by_role("button", name="Clear results")
    sync_api.expect(clear).to_be_hidden()  # nothing to clear
    page.evaluate("""() => { window.revoked = []; const revoke = URL.revokeObjectURL;  // which URLs app.js revokes
        URL.revokeObjectURL = (url) => { window.revoked.push(url); revoke.call(URL, url); }; }""")
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    sync_api.expect(status).to_have_text(DONE, timeout=30_000)
    csv = page.locator("#download-csv").get_attribute("href")
    assert csv.startswith("blob:")
    clear.click()
    sync_api.expect(cards).to_have_count(0)
    sync_api.expect(status).to_have_text("Results cleared")
    sync_api.expect(status).to_have_attribute("aria-live", "polite")
    sync_api.expect(page.locator("#file-input")).to_be_focused()
    sync_api.expect(page.locator("#downloads")).to_be_hidden()
    sync_api.expect(clear).to_be_hidden()
    assert page.evaluate("window.revoked") == [csv]
    page.set_input_files("#file-input", str(test_images["glioma"][0]))  # numbered afresh: no card left to tell apart
    sync_api.expect(status).to_have_text(DONE, timeout=30_000)
    assert cards.nth(0).locator(".card-name").inner_text() == test_images["glioma"][0].name
    sync_api.expect(clear).to_be_visible()
    assert problems == []
    page.close()


def test_clear_results_moves_the_focus_before_it_says_results_cleared(server, chromium, test_images):
    """"Results cleared" was set on the polite status line just before the focus moved to the file chooser: a screen
    reader saying the newly focused chooser could cut the announcement off. The focus moves first, then the line is
    said (the order checked here: headless chromium cannot tell what is spoken)."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    status = page.locator("#page-status")
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    sync_api.expect(status).to_have_text(DONE, timeout=30_000)
    page.evaluate("""() => { window.lineAtFocus = null; document.getElementById("file-input").addEventListener(
        "focus", () => { window.lineAtFocus = document.getElementById("page-status").textContent; }); }""")
    page.get_by_role("button", name="Clear results").click()
    sync_api.expect(status).to_have_text("Results cleared")
    sync_api.expect(page.locator("#file-input")).to_be_focused()
    assert page.evaluate("window.lineAtFocus") == ""  # the Done line gone, "Results cleared" not yet said
    assert problems == []
    page.close()


# A paste of one image file on the focused element, as Ctrl+V anywhere on the page gives app.js.
PASTE = """(name) => { const files = new DataTransfer();
    files.items.add(new File([new Uint8Array([137, 80, 78, 71])], name, {type: "image/png"}));
    document.activeElement.dispatchEvent(new ClipboardEvent("paste", {clipboardData: files, bubbles: true})); }"""


def test_a_run_started_from_the_clear_button_leaves_the_focus_on_the_file_chooser(server, chromium, test_images):
    """A keyboard user on "Clear results" who pastes an image starts a run, which hides the button (its cards are
    being filled): the focus fell to the page's body, the next Tab at the top of the page. It goes to the file
    chooser, where Clear itself sends it."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    sync_api.expect(page.locator("#page-status")).to_have_text(DONE, timeout=30_000)
    held = []
    page.route("**/api/v1/predict*", lambda route: held.append(route))  # answered when the test says
    page.focus("#clear-results")
    page.evaluate(PASTE, "pasted.png")
    sync_api.expect(page.locator("#clear-results")).to_be_hidden()
    sync_api.expect(page.locator("#file-input")).to_be_focused()
    _release(page, held)
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=30_000)
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


def test_a_pick_with_no_file_during_a_run_is_said_too(server, chromium, test_images):
    """Text dropped on the zone, or Classify with no file, while files were analysed did nothing at all, not a word:
    the status line was the run's. The pick's line is its own now: it says so, and the run's line stays."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    held = []
    page.route("**/api/v1/predict*", lambda route: held.append(route))  # answered when the test says
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    sync_api.expect(page.locator("#page-status")).to_contain_text("Analysing")
    page.evaluate(DROP_TEXT, "#dropzone")
    sync_api.expect(page.locator("#pick-status")).to_have_text(NO_FILE)
    sync_api.expect(page.locator("#page-status")).to_contain_text("Analysing")
    _release(page, held)
    sync_api.expect(page.locator("#page-status")).to_have_text(DONE, timeout=30_000)
    assert problems == []
    page.close()


def test_a_run_started_from_a_done_lines_button_leaves_the_focus_on_the_file_chooser(server, chromium, test_images,
                                                                                      tmp_path):
    """The Done line's count that goes to its cards ("1 unreadable") is a button: a keyboard user on it who pastes an
    image starts a run, whose line replaces the Done line and its button, and the focus fell to the page's body (the
    next Tab at the page's top), as from "Clear results". It goes to the file chooser."""
    (tmp_path / "notes.png").write_bytes(b"not an image")
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [str(test_images["glioma"][0]), str(tmp_path / "notes.png")])
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=30_000)
    held = []
    page.route("**/api/v1/predict*", lambda route: held.append(route))  # answered when the test says
    page.locator("#page-status button").first.focus()
    page.evaluate(PASTE, "pasted.png")
    sync_api.expect(page.locator("#page-status button")).to_have_count(0)
    sync_api.expect(page.locator("#file-input")).to_be_focused()
    _release(page, held)
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=30_000)
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


def _release(page, held: list) -> None:
    """Let the first request the test held (``page.route`` appending it to ``held``) go on, once it has come (5 s)."""
    for _ in range(50):
        if held:
            break
        page.wait_for_timeout(100)
    held[0].continue_()
