"""A page's results reached from the keyboard and by a screen reader: its title, its Done line's links, its heat maps'
names and its folder notes, in a real browser (headless chromium via Playwright, as tests/conftest.py gives it).
Skipped, never failed, when chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from test_browser import open_page, pytestmark, sent_page  # noqa: F401 - pytestmark: the same skip conditions
from test_browser_folders import drop_and_read_notes, glioma_page

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


@pytest.fixture(scope="module")
def two(test_images) -> list[dict]:
    """Two real slices."""
    return [{"name": f"slice-{i}.jpg", "mimeType": "image/jpeg", "buffer": test_images["glioma"][i].read_bytes()}
            for i in range(2)]


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_each_heat_map_figure_is_named_after_its_file(server, chromium, two, js):
    """A card's heat-map figure had no name in chromium's accessibility tree (its figcaption notwithstanding): a
    screen reader's list of figures said "figure" 2 times, none saying which. Each is "Heat map of slice-0.jpg"."""
    context, page = sent_page(chromium, server, two, js)
    cdp = page.context.new_cdp_session(page)
    figures = [n.get("name", {}).get("value") for n in cdp.send("Accessibility.getFullAXTree")["nodes"]
               if n.get("role", {}).get("value") == "figure"]
    assert sorted(figures) == [f"Heat map of slice-{i}.jpg" for i in range(2)], figures
    # as Playwright's snapshot reads it too (it named each after the caption, one text for every card)
    snapshot = page.locator("#results").aria_snapshot()
    named = [line.strip() for line in snapshot.splitlines() if line.strip().startswith("- figure")]
    assert sorted(named) == [f'- figure "Heat map of slice-{i}.jpg":' for i in range(2)], snapshot[:3000]
    context.close()


def test_the_pages_title_says_results_are_shown_until_cleared(server, chromium, two):
    """Without JavaScript the results page is titled "Results · Brain MRI classifier"; with it, the title never
    changed after a run, the first thing a screen reader says of the tab the same for the empty form and 30 results.
    It says so once the run is over, as the plain form's page does, and goes back on Clear (a second run: once)."""
    titles = {}
    for js in (True, False):
        context, page = sent_page(chromium, server, two, js)
        titles[js] = page.title()
        if js:
            page.set_input_files("#file-input", two[:1])  # a second run: "Results · " once
            sync_api.expect(page.locator("#results > .card")).to_have_count(3)
            sync_api.expect(page.locator("#clear-results")).to_be_visible(timeout=30_000)
            assert page.title() == titles[js]
            page.click("#clear-results")
            assert page.title() == "Brain MRI classifier"
        context.close()
    assert titles[True] == titles[False] == "Results · Brain MRI classifier"


# How many times nodes were added to the page's notes (a live region says each node added), kept in window.added
COUNT_ADDED = """() => {
    window.added = 0;
    new MutationObserver(changes => changes.forEach(change => { window.added += change.addedNodes.length; }))
        .observe(document.getElementById("page-notes"), {childList: true});
}"""


def test_a_folders_notes_are_said_as_one(server, chromium, test_images, tmp_path):
    """#page-notes, a live region, was given one paragraph per note of a dropped folder: a folder with several kinds
    of files left out (a .txt, a DICOMDIR) was as many announcements. They are added at once, one block (each note
    still a paragraph of its own)."""
    folder = tmp_path / "series"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(test_images["glioma"][0].read_bytes())
    (folder / "notes.txt").write_text("patient notes")
    (folder / "DICOMDIR").write_bytes(b"\0" * 128 + b"DICM")
    page, _ = glioma_page(chromium, server)
    page.evaluate(COUNT_ADDED)
    notes = drop_and_read_notes(page, [str(folder)], "Done: 1 classified (see below).")
    assert len(notes) == 2 and notes[0].startswith("Skipped 1 file in the folder that is not"), notes
    assert page.evaluate("window.added") == 1
    page.close()


BROKEN = [{"name": f"broken-{i}.jpg", "mimeType": "image/jpeg", "buffer": b"not an image"} for i in range(2)]


def test_the_done_lines_button_goes_to_each_unreadable_card_in_turn(server, chromium, two):
    """The Done line's "2 unreadable" button went to the first unreadable card alone, the others to be found by
    browsing: each press goes to the next (round again after the last)."""
    context, page = sent_page(chromium, server, [two[0], BROKEN[0], two[1], BROKEN[1]], True)
    button = page.locator("#page-status").get_by_role("button", name="2 unreadable")
    focused = []
    for _ in range(3):
        button.press("Enter")
        focused.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert focused == ["broken-0.jpg", "broken-1.jpg", "broken-0.jpg"]
    context.close()


def answered_review(route) -> None:
    """A stand-in for the API: every file "Glioma", those named low-* with lower confidence."""
    low = b'filename="low-' in (route.request.post_data_buffer or b"")
    name = re.search(rb'filename="([^"]+)"', route.request.post_data_buffer or b"")[1].decode()
    rec = {"path": name, "label": "glioma", "confidence": 0.9 if low else 0.999, "ood": False, "ood_score": 0.1,
           "review": low, "probabilities": {"glioma": 0.9 if low else 0.999, "meningioma": 0.1 if low else 0.001,
                                            "notumor": 0.0, "pituitary": 0.0}}
    route.fulfill(status=200, content_type="application/json", body=json.dumps({"results": [rec]}))


def test_the_done_lines_count_of_lower_confidence_goes_to_those_cards(server, chromium):
    """"2 of them with lower confidence" was plain text on the Done line (only unreadable and not-analysed counts were
    buttons): among 30 cards a keyboard user had to scroll to find them. It is a button to each in turn."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.route("**/api/v1/predict*", answered_review)
    page.set_input_files("#file-input", [{"name": n, "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n"}
                                         for n in ("a.png", "low-1.png", "b.png", "low-2.png")])
    status = page.locator("#page-status")
    sync_api.expect(status).to_have_text("Done: 4 classified, 2 of them with lower confidence (see below).",
                                         timeout=30_000)
    button = status.get_by_role("button", name="2 of them with lower confidence")
    focused = []
    for _ in range(3):
        button.press("Enter")
        focused.append(page.evaluate("document.activeElement.textContent.trim()"))
    assert focused == ["low-1.png", "low-2.png", "low-1.png"]
    assert problems == []
    page.close()



def test_without_javascript_each_unreadable_card_links_to_the_next(server, chromium, two):
    """The plain form's Done line links to the first unreadable card alone (a link cannot go to each in turn, as the
    script's button does): under that card's heading, reached by Tab from it, a link goes to the next one."""
    context, page = sent_page(chromium, server, [two[0], BROKEN[0], two[1], BROKEN[1]], False)
    page.locator("#page-status .status-link").press("Enter")
    sync_api.expect(page.locator("#results h2:focus")).to_have_text("broken-0.jpg")
    page.keyboard.press("Tab")
    sync_api.expect(page.locator(":focus")).to_have_text("Next unreadable file")
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("#results h2:focus")).to_have_text("broken-1.jpg")
    assert page.get_by_role("link", name="Next unreadable file").count() == 1  # none from the last
    context.close()


# Each "Next …" link under a card's heading: its words, the heading it is under and the heading it goes to
NEXT_LINKS = """() => Array.from(document.querySelectorAll("#results .next-link a")).map(a => [a.textContent,
    a.closest(".card, .series").querySelector(".card-name").textContent.trim(),
    document.getElementById(a.getAttribute("href").slice(1)).textContent.trim()])"""


def test_the_next_links_under_the_cards_are_the_same_with_javascript_and_without(server, chromium, two):
    """Without JavaScript each unreadable card but the last has a "Next unreadable file" link under its heading; with
    JavaScript there was none (the Done line's button alone): the two pages reached the next card differently. Both
    have the same links, of the same words, from and to the same cards; the script's goes there from the keyboard."""
    links = {}
    for js in (True, False):
        context, page = sent_page(chromium, server, [two[0], BROKEN[0], two[1], BROKEN[1]], js)
        links[js] = page.evaluate(NEXT_LINKS)
        if js:
            page.get_by_role("link", name="Next unreadable file").press("Enter")
            sync_api.expect(page.locator("#results h2:focus")).to_have_text("broken-1.jpg")
        context.close()
    assert links[True] == links[False] == [["Next unreadable file", "broken-0.jpg", "broken-1.jpg"]]


def lowered(route) -> None:
    """The server's own answer to a zip of a series, its second slice made one of lower confidence (the model gives
    these real slices high confidence), its summary counting it as the server's would."""
    body = route.fetch().json()
    rec = [r for r in body["results"] if "slice" in r][1]
    rec.update(review=True, confidence=0.9, probabilities={"glioma": 0.9, "meningioma": 0.1, "notumor": 0.0,
                                                            "pituitary": 0.0})
    body["series"][0]["summary"]["flagged"] = 1
    route.fulfill(status=200, content_type="application/json", body=json.dumps(body))


def test_the_done_lines_count_of_lower_confidence_goes_to_a_scans_block(server, chromium, test_images):
    """Scans with a slice of lower confidence: the Done line's count of them goes to each one's block in turn (series.js
    marks it data-review), its heading taking the focus, as a card's does, and the first block has the "Next answer
    of lower confidence" link to the second; no browser test had sent a scan with one."""
    from dicom_factory import series, zip_bytes
    from PIL import Image

    from braintumor.image_io import read_image

    stack = [np.asarray(Image.fromarray(read_image(p)).resize((128, 128)), dtype=np.uint8)
             for p in test_images["glioma"][:3]]
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.route("**/api/v1/predict*", lowered)
    study = zip_bytes(series(stack))
    page.set_input_files("#file-input", [{"name": n, "mimeType": "application/zip", "buffer": study}
                                         for n in ("a.zip", "b.zip")])
    status = page.locator("#page-status")
    sync_api.expect(status).to_have_text("Done: 2 files, 6 slices: 6 classified, 2 of them with lower confidence "
                                         "(see below).", timeout=60_000)
    sync_api.expect(page.locator("section.series .series-line")).to_contain_text(["1 with lower confidence"] * 2)
    button = status.get_by_role("button", name="2 of them with lower confidence")
    focused = []
    for _ in range(3):
        button.press("Enter")
        focused.append(page.evaluate("[document.activeElement.tagName, document.activeElement.textContent.trim()]"))
    assert focused == [["H2", "a.zip"], ["H2", "b.zip"], ["H2", "a.zip"]]
    assert page.evaluate(NEXT_LINKS) == [["Next answer of lower confidence", "a.zip", "b.zip"]]
    # the slice of lower confidence is among the block's cards, its note shown
    sync_api.expect(page.locator("section.series .card-review:visible")).to_have_count(2)
    assert problems == []
    page.close()


def lowered_on_the_server(monkeypatch, slices: set[int]) -> None:
    """The server's own answers (the app runs in this process), each scan's ``slices`` made "No tumour" of lower
    confidence before its summary counts them, for the page without JavaScript and the API alike (lowered() changes
    the API's answer alone): the model gives these real slices high confidence."""
    from braintumor.web import volumes

    real = volumes.volume_records

    def records(*args, **kwargs):
        for rec, sl in real(*args, **kwargs):
            if rec.get("slice") in slices and "label" in rec:
                rec.update(label="notumor", review=True, confidence=0.9, ood=False, probabilities={
                    "glioma": 0.1, "meningioma": 0.0, "notumor": 0.9, "pituitary": 0.0})
            yield rec, sl

    monkeypatch.setattr(volumes, "volume_records", records)


def glioma_study(test_images, n: int) -> bytes:
    """A zip of one DICOM series of ``n`` real glioma slices (the test set's first three, in turn)."""
    from dicom_factory import series, zip_bytes
    from PIL import Image

    from braintumor.image_io import read_image

    stack = [np.asarray(Image.fromarray(read_image(p)).resize((128, 128)), dtype=np.uint8)
             for p in test_images["glioma"][:3]]
    return zip_bytes(series([stack[k % 3] for k in range(n)]))


def test_the_lower_confidence_next_links_are_the_same_with_javascript_and_without(server, chromium, test_images,
                                                                                 monkeypatch):
    """Only the unreadable cards' "Next" links were compared between the two pages: those of lower confidence, from
    one scan's block to the next, are the same too, of the same words, from and to the same headings."""
    lowered_on_the_server(monkeypatch, {1})
    study = glioma_study(test_images, 3)
    for js in (True, False):
        context, page = sent_page(chromium, server, [{"name": n, "mimeType": "application/zip", "buffer": study}
                                                     for n in ("a.zip", "b.zip")], js)
        sync_api.expect(page.locator("#page-status")).to_contain_text("2 of them with lower confidence")
        assert page.evaluate(NEXT_LINKS) == [["Next answer of lower confidence", "a.zip", "b.zip"]], js
        page.get_by_role("link", name="Next answer of lower confidence").press("Enter")
        sync_api.expect(page.locator("#results h2:focus")).to_have_text("b.zip")
        context.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_long_scans_block_says_which_slices_are_of_lower_confidence(server, chromium, test_images, monkeypatch, js):
    """A scan of 20 slices shows cards of its 5 most suspicious alone: a slice of lower confidence outside them was
    named only in the closed "Every slice as text", and the Done line's way there landed on the scan's heading, which
    said "6 with lower confidence" and not which. Its line names the first 5 (volumes.REVIEW_NAMED), each a link (the
    first the next Tab from the heading) that opens the list at its line and focuses it, with JavaScript and without."""
    lowered_on_the_server(monkeypatch, {2, 5, 8, 11, 14, 17})
    context, page = sent_page(chromium, server, [{"name": "long.zip", "mimeType": "application/zip",
                                                  "buffer": glioma_study(test_images, 20)}], js)
    block = page.locator("section.series")
    sync_api.expect(block.locator(".series-line")).to_contain_text(
        "· 6 with lower confidence (slice 2, slice 5, slice 8, slice 11, slice 14; 1 more in Every slice as text)")
    cards = block.locator(".series-top .card-name").all_text_contents()
    assert len(cards) == 5 and not any(name.startswith("slice 2 ") for name in cards), cards  # no card of it
    page.locator("#page-status .status-link").press("Enter")
    sync_api.expect(page.locator("#results h2:focus")).to_have_text("long.zip")
    page.keyboard.press("Tab")
    sync_api.expect(page.locator(":focus")).to_have_text("slice 2")
    page.keyboard.press("Enter")
    sync_api.expect(block.locator(".strip-text")).to_have_attribute("open", "")
    sync_api.expect(page.locator(".strip-list li:focus")).to_have_text(
        re.compile(r"^slice 2: No tumour with lower confidence \(90\.0 ?%\)"))
    context.close()
