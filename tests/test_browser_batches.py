"""Files given to the page while an earlier drop is still being analysed, in a real browser: they join its count, its
two-at-a-time queue and its CSV, and the page says "Done" once, for all of them. Skipped, never failed, when chromium
or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def test_a_second_drop_while_the_first_is_analysed_joins_it(server, chromium, test_images):
    """A file chosen while two were analysed said "Analysing 1 image…", was sent at once (three requests at a time,
    not two), and the batch that ended first said "Done: 1 classified" while two cards still said "Analysing…"; the
    last to end counted only its own files, so the Done line counted fewer files than the cards."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    held: list = []
    holding = [True]
    page.route("**/api/v1/predict*", lambda route: held.append(route) if holding[0] else route.continue_())
    first, second = test_images["glioma"][:2], test_images["meningioma"][0]
    page.set_input_files("#file-input", [str(p) for p in first])
    status, cards = page.locator("#page-status"), page.locator("#results > .card")
    sync_api.expect(status).to_have_text("Analysing 2 images…")
    for _ in range(200):  # both requests leave (and are held)
        if len(held) == 2:
            break
        page.wait_for_timeout(25)
    page.set_input_files("#file-input", str(second))
    sync_api.expect(cards).to_have_count(3)
    sync_api.expect(status).to_have_text("Analysing 3 images…")
    page.wait_for_timeout(200)  # a third request would have been caught by now
    assert len(held) == 2  # still two at a time
    holding[0] = False
    for route in held:
        route.continue_()
    sync_api.expect(status).to_have_text("Done: 3 classified (see below).", timeout=20_000)
    assert cards.evaluate_all("cs => cs.map(c => c.dataset.state)") == ["ok"] * 3
    with page.expect_download() as info:
        page.click("#download-csv")
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert [r["path"] for r in rows] == [p.name for p in [*first, second]]  # in the order they were given
    assert problems == []
    page.close()


def test_pasted_images_without_names_are_told_apart_on_cards_and_in_the_csv(server, chromium, test_images):
    """Two images pasted without a file name were cards "pasted image 1" and "pasted image 2" but both
    "pasted-image" in the CSV (its rows could not be matched to the cards), and a second paste was "pasted image 1"
    again."""
    import base64

    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    data = base64.b64encode(test_images["pituitary"][0].read_bytes()).decode()
    paste = """([b64, n]) => { const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
        const dt = new DataTransfer();
        for (let i = 0; i < n; i++) dt.items.add(new File([bytes], "", {type: "image/jpeg"}));
        document.dispatchEvent(new ClipboardEvent("paste", {clipboardData: dt, bubbles: true, cancelable: true})); }"""
    status = page.locator("#page-status")
    page.evaluate(paste, [data, 2])
    sync_api.expect(status).to_have_text("Done: 2 classified (see below).", timeout=20_000)
    page.evaluate(paste, [data, 1])
    sync_api.expect(status).to_have_text("Done: 1 classified (see below).", timeout=20_000)
    names = page.locator("#results > .card .card-name").all_inner_texts()
    assert names == ["pasted image 3", "pasted image 1", "pasted image 2"]  # newest first
    with page.expect_download() as info:
        page.click("#download-csv")
    rows = list(csv.DictReader(io.StringIO(Path(info.value.path()).read_text())))
    assert [r["path"] for r in rows] == ["pasted image 1", "pasted image 2", "pasted image 3"]
    assert problems == []
    page.close()


def test_an_answer_the_page_cannot_draw_does_not_stall_the_page(server, chromium, test_images):
    """A 200 answer the page could not draw (a series without its summary's fields: another version of the server
    behind the same address) threw in the page: the Done line never came, and every later drop joined a run that
    never ended."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    odd = '{"results": [{"path": "scan.zip", "slice": 0}], "series": [{"path": "scan.zip", "summary": {}}]}'
    page.route("**/api/v1/predict*", lambda route: route.fulfill(status=200, content_type="application/json",
                                                                 body=odd))
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    status = page.locator("#page-status")
    sync_api.expect(status).to_have_text("Done: 0 classified, 1 not analysed: this page could not show the "
                                         "server's answer (see below).", timeout=20_000)  # not the file's fault
    card = page.locator("#results > .card").first
    sync_api.expect(card).to_have_attribute("data-state", "error")
    sync_api.expect(card.locator(".card-status-text")).to_contain_text("This page could not show the server's answer")
    page.unroute("**/api/v1/predict*")
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    sync_api.expect(status).to_have_text("Done: 1 classified (see below).", timeout=20_000)
    assert problems == []
    page.close()
