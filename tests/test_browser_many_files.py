"""A page given many files at once (30 dropped, or a folder's), for a screen reader and a keyboard, in a real browser
(headless chromium via Playwright, as tests/conftest.py gives it). Skipped, never failed, when chromium or playwright
is absent (like tests/test_browser.py)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from dicom_factory import series, zip_bytes
from live_regions import announced, listen
from PIL import Image
from test_browser import open_page, pytestmark, sent_page  # noqa: F401 - pytestmark: the same skip conditions
from test_browser_slow_uploads import _throttled

from braintumor.image_io import read_image

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

BROKEN = 2


@pytest.fixture(scope="module")
def many(test_images) -> list[dict]:
    """30 files: 27 real slices (the test images again under other names), a zipped four-slice DICOM series and two
    files that are no image."""
    paths = [p for c in ("glioma", "meningioma", "notumor", "pituitary") for p in test_images[c]]
    files = [{"name": f"slice-{i:02d}.jpg", "mimeType": "image/jpeg", "buffer": paths[i % len(paths)].read_bytes()}
             for i in range(29 - BROKEN)]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((256, 256)), dtype=np.uint8) for p in paths[::3]]
    files.append({"name": "series.zip", "mimeType": "application/zip", "buffer": zip_bytes(series(stack))})
    return files + [{"name": f"broken-{i}.jpg", "mimeType": "image/jpeg", "buffer": b"not an image"}
                    for i in range(BROKEN)]


def test_thirty_files_are_said_in_two_lines_their_answers_kept_on_their_cards(server, chromium, many):
    """Each card's live region said its answer: 30 files dropped were 30 announcements in a row (two of them
    assertive alerts, cutting the others off), read one by one. A run of many files is said on the status line alone,
    "Analysing 30 images…" and its Done line; every answer stays on its card, under its heading."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    listen(page, repeats=True)
    page.set_input_files("#file-input", many)
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=60_000)
    said = announced(page)
    done = " ".join(page.locator("#page-status").inner_text().split())
    # the scan's summary too: its block shows it. On a loaded machine a file may take a second to send: the line then
    # says "Sending 30 files…" once, and "Analysing…" again once all are sent
    run = {"Analysing 29 images and 1 zip…", "Sending 30 files…"}
    assert said[0] == "Analysing 29 images and 1 zip…" and said[-1] == done and set(said[1:-1]) <= run, said
    assert len(said) <= 4, said
    assert done.startswith("Done: 30 files, 31 slices: ") and f"{BROKEN} files unreadable" in done
    cards = page.locator("#results .card")
    assert cards.count() >= 30 and page.locator("#results .series").count() == 1
    # the answers are still there, each under its file's heading, for browse mode and the Done line's button
    texts = cards.locator(".card-status").all_inner_texts()
    assert all(t.strip() and "Analysing" not in t for t in texts), texts
    # silent as chromium's accessibility tree has it: a live region only among the page's own lines (#page-status,
    # #pick-status, #page-notes, #scan-status), none of the 30 cards', none an alert
    cdp = page.context.new_cdp_session(page)
    live = [p["value"]["value"] for n in cdp.send("Accessibility.getFullAXTree")["nodes"]
            for p in n.get("properties", []) if p["name"] == "live" and n.get("role", {}).get("value") != "RootWebArea"]
    assert len(live) <= 4 and "assertive" not in live, live
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


def test_a_few_files_still_say_each_answer(server, chromium, many):
    """Up to five files, each card says its answer as it comes (the file's name first), as before: one file's answer
    was not said on its Done line."""
    page, _ = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    listen(page, repeats=True)
    page.set_input_files("#file-input", many[:4] + many[-1:])
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=60_000)
    said = announced(page)
    assert said[0] == "Analysing 5 images…" and said[-1].startswith("Done: "), said
    answers = [line.split(":")[0] for line in said[1:-1] if not line.startswith(("Sending", "Analysing"))]
    assert sorted(answers) == ["broken-1.jpg", *(f"slice-{i:02d}.jpg" for i in range(4))], said
    page.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_the_disclaimer_is_read_before_the_results_and_shown_at_the_windows_bottom(server, chromium, many, js):
    """The medical disclaimer came last in the page's reading order (shown stuck to the window's bottom edge, it was
    the page's last element): a screen reader reading a page of 30 results heard it after all of them, if at all. It
    is read before the form and the results now, as it is printed, and still shown at the window's bottom edge."""
    context, page = sent_page(chromium, server, many, js)
    page.set_viewport_size({"width": 1024, "height": 800})
    snapshot = page.locator("body").aria_snapshot()
    read = [line.strip() for line in snapshot.splitlines()]
    at = {what: next(i for i, line in enumerate(read) if line.startswith(what))
          for what in ('- complementary "Medical disclaimer"', '- region "Results"', '- main')}
    assert at['- complementary "Medical disclaimer"'] < at["- main"] < at['- region "Results"'], snapshot[:2000]
    box = page.locator(".disclaimer").bounding_box()
    assert abs(box["y"] + box["height"] - 800) < 1, box  # stuck to the bottom edge, over 30 cards
    context.close()


def test_many_files_sent_slowly_are_not_counted_aloud_one_by_one(server, chromium, test_images, tmp_path):
    """Over a slow link the status line said "Sending 6 files: 1 sent…", then "2 sent…", each a change of a live
    region said afresh: 30 files, 30 announcements again, and "Analysing 6 images…" in between two slow files. In a
    run of many files the count sent is shown, not said (hidden from screen readers, as a card's share sent is), and
    the line says "Sending" from the first slow file until all are sent: "Sending 6 files…" is said once."""
    slices = []
    for i in range(6):  # 6 uncompressed slices of 200 kB: over a second each to send at 150 kB/s
        slices.append(tmp_path / f"slice-{i}.bmp")
        Image.fromarray(read_image(test_images["glioma"][i % 3])).resize((448, 448)).save(slices[-1])
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    listen(page, "#page-status", repeats=True)
    cdp = _throttled(page)
    page.set_input_files("#file-input", [str(s) for s in slices])
    status = page.locator("#page-status")
    sync_api.expect(status).to_contain_text(re.compile(r"Sending 6 files: [1-5] sent…"), timeout=30_000)
    sync_api.expect(status).to_contain_text("Done", timeout=90_000)
    said = announced(page)
    # "Analysing" at first (no file has been sending for a second yet), "Sending" once one has, until all are sent
    assert said == ["Analysing 6 images…", "Sending 6 files…", "Analysing 6 images…", "Done: 6 classified (see below)."
                    ], said
    cdp.detach()
    assert problems == []
    page.close()


# Each result as read under its heading: a card's heading and live region's text, a scan's heading and its line.
RESULTS = """() => [...document.querySelectorAll("#results > .card, #results > .series")].map(c => [
    c.querySelector(".card-name").textContent.trim(),
    c.querySelector(".card-status, .series-line").textContent.replace(/\\s+/g, " ").trim()])"""


def test_the_form_without_javascript_says_the_same_of_many_files(server, chromium, many):
    """The plain form (no JavaScript: one request of 30 files) shows what the script's 30 requests show: the same
    Done line, its count of unreadable files a link to the first of them (as the script's button goes to it), and
    each file's result, its heading and what it says, in the order given."""
    seen = {}
    for js in (True, False):
        context, page = sent_page(chromium, server, many, js)
        link = page.locator("#page-status .status-link", has_text="unreadable")
        # its count of lower confidence is a link too, with and without JavaScript
        seen[js] = (" ".join(page.locator("#page-status").inner_text().split()), link.inner_text(),
                    page.evaluate(RESULTS), page.locator("#page-status .status-link").all_inner_texts())
        link.press("Enter")  # from the keyboard: the first unreadable file's heading has the focus
        sync_api.expect(page.locator("#results h2:focus")).to_have_text("broken-0.jpg")
        context.close()
    assert seen[True] == seen[False]
    assert len(seen[True][2]) == 30 and seen[True][1] == f"{BROKEN} files unreadable"
