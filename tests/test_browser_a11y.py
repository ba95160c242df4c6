"""The pages for a keyboard, a screen reader, a narrow or zoomed window and forced (high-contrast) colours, in a real
browser (headless chromium via Playwright, one server and one browser for the module, as tests/conftest.py gives
them). Skipped, never failed, when chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dicom_factory import series, zip_bytes
from live_regions import announced, listen
from PIL import Image
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions

from braintumor.image_io import read_image

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


@pytest.fixture(scope="module")
def scans(test_images, tmp_path_factory) -> list[Path]:
    """Two real slices and a zipped four-slice DICOM series: a page with cards, heat maps and a series block."""
    folder = tmp_path_factory.mktemp("a11y")
    paths = [test_images[c][0] for c in ("notumor", "glioma", "pituitary", "meningioma")]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((256, 256)), dtype=np.uint8) for p in paths]
    (folder / "series.zip").write_bytes(zip_bytes(series(stack)))
    return [test_images["glioma"][0], test_images["meningioma"][0], folder / "series.zip"]


def upload(page, files: list[Path]) -> None:
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [str(f) for f in files])
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=30_000)


# The focused element and the sticky disclaimer, in viewport pixels; None once focus has come round to the top.
FOCUSED = """() => {
    const e = document.activeElement;
    if (!e || e === document.body || e.classList.contains("skip")) return null;
    const r = e.getBoundingClientRect(), d = document.querySelector(".disclaimer").getBoundingClientRect();
    return {what: e.tagName + "." + e.className + " " + (e.textContent || "").trim().slice(0, 20),
            top: r.top, bottom: r.bottom, disclaimer: d.top, disclaimer_bottom: d.bottom};
}"""


def tab_stops(page, most: int) -> list[dict]:
    """Where Tab puts the focus, from the file chooser on, each control's box and the disclaimer's (FOCUSED), until
    focus comes round to the top or ``most`` presses."""
    page.focus("#file-input")
    stops = []
    for _ in range(most):
        page.keyboard.press("Tab")
        where = page.evaluate(FOCUSED)
        if where is None:
            break
        stops.append(where)
    return stops



def test_a_focused_control_is_never_under_the_sticky_disclaimer(server, chromium, scans):
    """Tab scrolled each control just into view, at the window's bottom edge, where the sticky disclaimer covers the
    last 2.4-5.5rem: a heat-map checkbox (at 1280 px) and the footer links (at 320 px) took the focus out of sight."""
    for width, height in ((1280, 900), (320, 640)):
        page, problems = open_page(chromium, server, width, height)
        upload(page, scans)
        stops = tab_stops(page, 60)
        hidden = [where for where in stops if where["bottom"] > where["disclaimer"] + 0.5]
        assert len(stops) >= 8 and hidden == [], (width, hidden)
        assert [p for p in problems if "status of 400" not in p] == []
        page.close()


KEY_COLOURS = "els => els.map(e => getComputedStyle(e).backgroundColor)"


def test_colour_keys_keep_their_colours_in_forced_colours(server, chromium, scans):
    """In forced (high-contrast) colours the strip's bars and the dashboard's lines keep their colours, but the
    legends' keys are backgrounds, which the browser repaints in the page's one background colour: the keys vanished
    and the colours could no longer be told apart."""
    page, problems = open_page(chromium, server, 1024, 800)
    upload(page, scans[-1:])
    for url, keys in ((None, ".strip-legend .swatch"), (f"{server}/dashboard", ".legend .key")):
        if url:
            page.emulate_media(forced_colors="none")
            page.goto(url)
        page.emulate_media(forced_colors="none")
        plain = page.locator(keys).evaluate_all(KEY_COLOURS)
        page.emulate_media(forced_colors="active")
        assert page.evaluate("matchMedia('(forced-colors: active)').matches")
        assert len(plain) >= 2 and len(set(plain)) >= 2
        assert page.locator(keys).evaluate_all(KEY_COLOURS) == plain, keys
    assert problems == []
    page.close()


# Visible text outside every landmark (the skip link aside): a screen reader's landmark list never reaches it.
UNLANDMARKED = """() => {
    const landmark = "header, main, footer, nav, aside:not([role]), section[aria-label], " +
        "[role=banner], [role=main], [role=contentinfo], [role=complementary], [role=navigation], [role=region]";
    const out = [], walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    while (walk.nextNode()) {
        const e = walk.currentNode.parentElement, text = walk.currentNode.textContent.trim();
        if (text && e.getClientRects().length && !e.closest(".skip, template, noscript") && !e.closest(landmark))
            out.push(text.slice(0, 40));
    }
    return out;
}"""

UNLABELLED = """() => [...document.querySelectorAll("input, button, select, textarea, meter")]
    .filter(e => !e.closest("template") && !(e.labels && e.labels.length) && !e.getAttribute("aria-label")
                 && !(e.tagName === "BUTTON" && e.textContent.trim()))
    .map(e => e.outerHTML.slice(0, 80))"""


def test_each_page_has_a_language_a_title_one_h1_labels_and_everything_in_a_landmark(server, chromium, scans):
    """The disclaimer was an <aside role="note">: role=note is not a landmark, so a screen reader's list of
    landmarks (how many people move about a page) never offered it, and it sat outside every landmark."""
    page, problems = open_page(chromium, server, 1024, 800)
    upload(page, scans)
    for url, title in ((None, "Results · Brain MRI classifier"),
                       (f"{server}/dashboard", "Monitoring · Brain MRI classifier")):
        if url:
            page.goto(url)
            sync_api.expect(page.locator("#dash-status")).to_have_text("Live · 1 worker process", timeout=15_000)
        assert page.locator("html").get_attribute("lang") == "en"
        assert page.title() == title
        assert page.locator("h1").count() == 1
        for role in ("banner", "main", "contentinfo"):
            sync_api.expect(page.get_by_role(role)).to_have_count(1)
        sync_api.expect(page.get_by_role("complementary", name="Medical disclaimer")).to_contain_text(
            "Not a medical device")
        assert page.evaluate(UNLANDMARKED) == []
        assert page.evaluate(UNLABELLED) == []
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


def test_every_answer_is_announced_a_series_too(server, chromium, scans, tmp_path):
    """A slice's answer and an error were said in their card's live region, but a series (a zip, a NIfTI volume)
    replaced its card with a new block, said nowhere: a screen reader heard only "Done: 2 classified"."""
    fake = tmp_path / "notes.jpg"
    fake.write_text("not an image")
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    listen(page)
    upload(page, [scans[0], fake, scans[-1]])
    said = announced(page)
    card, block = page.locator("#results > .card").first, page.locator("#results .series")
    verdict = f"{card.locator('.verdict-label').inner_text()}, {card.locator('.verdict-confidence').inner_text()}"
    # each after its file's name: answers come in the order they are finished (tests/test_browser_announcements.py)
    assert any(s.startswith(f"{scans[0].name}: {verdict} confidence") for s in said), said
    assert any(s.startswith("notes.jpg: Not a recognised image") for s in said), said
    line = block.locator(".series-line").inner_text()
    assert line.startswith("4 slices · ") and f"{block.locator('.series-name').inner_text()}: {line}" in said, said
    assert said[-1] == "Done: 3 files, 5 slices: 5 classified; 1 file unreadable (see below)."
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


# Content wider than its box: a bar's row or a dashboard mix row past its card's padding edge, or a meter crushed.
SPILLS = """sel => [...document.querySelectorAll(sel)].filter(e => e.getClientRects().length).flatMap(row => {
    const box = row.closest(".card, .tile"), edge = box.getBoundingClientRect().right - parseFloat(
        getComputedStyle(box).paddingRight) + 0.5, meter = row.querySelector("meter").getBoundingClientRect();
    return row.scrollWidth > row.clientWidth + 0.5 || row.getBoundingClientRect().right > edge ||
        [...row.children].some(c => c.getBoundingClientRect().right > edge) || meter.width < 16
        ? [row.textContent.trim().slice(0, 30)] : [];
})"""


def test_text_twice_as_large_still_fits_its_cards(server, chromium, scans):
    """A browser's default text size set to 200 % (a low-vision setting, which rem scales and px does not): the
    cards' and tiles' columns were 300 and 320 px wide, their rows' rem-sized columns past 600: a card's values ran
    under its neighbour, its bars shrank to nothing, and the dashboard's class mix scrolled the page sideways."""
    page, problems = open_page(chromium, server, 1280, 900)
    upload(page, scans[:2])
    for url, rows in ((None, ".bar"), (f"{server}/dashboard", ".mix li")):
        if url:
            page.goto(url)
            sync_api.expect(page.locator(".mix li")).to_have_count(4, timeout=15_000)
        page.evaluate("document.documentElement.style.fontSize = '200%'")
        assert page.locator(rows).count() >= 4
        assert page.evaluate("document.documentElement.scrollWidth") <= 1280, rows
        assert page.evaluate(SPILLS, rows) == [], rows
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


def test_each_cards_heat_map_controls_name_their_image(server, chromium, scans):
    """Every card's controls were called "Heat map" and "Opacity": in a screen reader's list of form controls, or
    tabbing from card to card, nothing said which image each one changed. A series' slice is named after its scan
    (tests/test_browser_control_names.py)."""
    page, problems = open_page(chromium, server, 1024, 800)
    upload(page, scans)
    cards = page.locator(".card:has(.heat-toggle)")
    names = cards.evaluate_all("""cs => cs.map(c => (c.closest(".series") ? c.closest(".series")
        .querySelector(".series-name").textContent.trim() + ", " : "") + c.querySelector(".card-name").textContent)""")
    assert len(names) >= 4 and len(set(names)) == len(names)  # two slices and the series' suspicious slices
    for i, name in enumerate(names):
        card = cards.nth(i)
        sync_api.expect(card.locator(".heat-toggle")).to_have_accessible_name(f"Heat map of {name}")
        sync_api.expect(card.locator(".heat-opacity")).to_have_accessible_name(f"Opacity of the heat map of {name}")
        sync_api.expect(card.locator(".heat-toggle")).to_be_visible()
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


# The disclaimer's box and the part of the window it covers over the page's main content, in viewport pixels.
COVERS = """() => {
    const d = document.querySelector(".disclaimer").getBoundingClientRect();
    const m = document.querySelector("main").getBoundingClientRect();
    return {top: d.top, bottom: d.bottom, over_main: Math.max(0, Math.min(d.bottom, m.bottom, innerHeight) -
        Math.max(d.top, m.top, 0))};
}"""


def test_at_400_percent_zoom_the_disclaimer_is_shown_first_and_covers_nothing(server, chromium, scans):
    """A 1280 x 1024 screen at 400 % zoom is a 320 x 256 window: the sticky disclaimer (87 px there) covered a
    third of it for good, over whatever was being read. In so short a window it is the page's first lines instead,
    scrolled away with them; in a taller one it stays stuck to the window's bottom edge."""
    for width, height, sticky in ((320, 256, False), (640, 360, False), (1024, 800, True), (320, 640, True)):
        page, problems = open_page(chromium, server, width, height)
        upload(page, scans[:2])
        where = page.evaluate(COVERS)
        assert where["top"] >= 0 and where["bottom"] <= height, (width, height, where)  # shown on arrival
        page.locator(".card").last.scroll_into_view_if_needed()
        page.mouse.wheel(0, 400)
        page.wait_for_function("scrollY > 0")
        where = page.evaluate(COVERS)
        if sticky:
            assert abs(where["bottom"] - height) < 1, (width, height, where)
        else:
            assert where["over_main"] == 0, (width, height, where)
        assert [p for p in problems if "status of 400" not in p] == []
        page.close()


def test_a_scan_given_again_is_said_again(server, chromium, tmp_path):
    """The page's live line (#scan-status) says nothing when it is set to the text it holds: the same zip dropped
    again within the 7 s it keeps a summary must still be said. Once the results are cleared (the numbering starts
    again, the summary's text the same as before), the line was emptied with them, so the summary is a change again;
    and given again on the page, it is another scan's: "noise.zip (2)" (app.js numbers a name given again)."""
    rng = np.random.default_rng(0)
    (tmp_path / "noise.zip").write_bytes(zip_bytes(series(
        [rng.integers(0, 256, (256, 256), dtype=np.uint8) for _ in range(3)])))
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    listen(page, "#scan-status", repeats=True)
    for n in (1, 0, 1, 2):  # given, cleared, given again (the same name), and once more
        if n:
            upload(page, [tmp_path / "noise.zip"])
        else:
            page.click("#clear-results")
        sync_api.expect(page.locator("#results .series")).to_have_count(n)
    page.wait_for_function("() => window.said.filter(line => line).length >= 3", timeout=15_000)
    said = [line.split(":")[0] for line in announced(page)]
    assert said == ["noise.zip", "noise.zip", "noise.zip (2)"], announced(page)
    assert problems == []
    page.close()


# The focused element, and the width of its outline as drawn.
FOCUS = "() => [document.activeElement.id, getComputedStyle(document.activeElement).outlineStyle]"


@pytest.mark.parametrize("path", ["/", "/dashboard", "/model"])
def test_the_skip_link_moves_focus_into_main(server, chromium, path):
    """The skip link's target, <main>, could not take focus (no tabindex): older Safari with VoiceOver left focus on
    the link, the next Tab going to the header's links again. Focused from the keyboard it shows the page's focus
    outline; clicked with a mouse (a click on its text focuses it now), none: a ring round the page says nothing."""
    page, problems = open_page(chromium, server, 1024, 800)
    page.goto(server + path)
    assert page.locator("main").get_attribute("tabindex") == "-1"
    page.keyboard.press("Tab")
    sync_api.expect(page.locator(".skip")).to_be_focused()
    page.keyboard.press("Enter")
    sync_api.expect(page.locator("main")).to_be_focused()
    assert page.evaluate(FOCUS) == ["main", "solid"]
    page.goto(server + path)
    page.locator("main").click(position={"x": 2, "y": 2})  # its padding, no control's
    sync_api.expect(page.locator("main")).to_be_focused()
    assert page.evaluate(FOCUS) == ["main", "none"]
    assert problems == []
    page.close()


def test_the_csv_links_privacy_note_is_shown_and_is_its_description(server, chromium, scans):
    """"Made in this browser, nothing is stored on the server" was the CSV link's title, a tooltip that a keyboard or
    a touch never shows: a clinician wary of patients' results on a server could not read it. It is shown by the link
    and is the link's accessible description, as the upload hint is the file input's."""
    page, problems = open_page(chromium, server, 360, 740)
    upload(page, scans[:1])
    link, hint = page.locator("#download-csv"), page.locator("#download-hint")
    sync_api.expect(hint).to_be_visible()
    sync_api.expect(hint).to_contain_text("made in this browser, nothing is stored on the server")
    sync_api.expect(link).to_have_accessible_description(" ".join(hint.inner_text().split()))
    assert link.get_attribute("title") is None  # one home: the shown words, not a tooltip beside them
    assert page.evaluate("document.documentElement.scrollWidth") <= 360
    assert problems == []
    page.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_screen_reader_reading_a_card_hears_its_answer_once(server, chromium, test_images, js):
    """A card's answer is said by its live region (visually hidden), then shown by its verdict line: a screen reader's
    browse mode read "Glioma, >99.9% confidence" twice in a row. The verdict is for the eye (aria-hidden)."""
    from test_browser import sent_page

    context, page = sent_page(chromium, server, [str(test_images["glioma"][0])], js)
    card = page.locator("#results .card[data-state=ok]")
    sync_api.expect(card).to_have_count(1, timeout=30_000)
    sync_api.expect(card.locator(".verdict")).to_be_visible()
    answer = f"{card.locator('.verdict-confidence').inner_text()} confidence"
    if not hasattr(card, "aria_snapshot"):
        pytest.skip("needs playwright >= 1.49 (Locator.aria_snapshot)")
    heard = card.aria_snapshot()
    context.close()
    assert heard.count(answer) == 1, heard


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_screen_reader_hears_a_cards_lower_confidence_and_caution_once(server, chromium, test_images, js,
                                                                         monkeypatch):
    """The live region says an answer's lower confidence and its caution (a slice that looks skull-stripped) after
    the answer; the paragraphs that show them under the verdict were read again right after, in a screen reader's
    browse mode. They are for the eye (aria-hidden), as the verdict line is. Both flags set on the server's own
    records, on the JSON's and on the no-JavaScript page's path alike."""
    from test_browser import sent_page

    from braintumor.web import api, pages

    def flagged(real):
        def classify(*args, **kwargs):
            entries = real(*args, **kwargs)
            for rec in (r for e in entries for r in e.records if r.get("label")):
                rec.update(review=True, note="looks skull-stripped (confidence no guide)")
            return entries
        return classify

    for module in (api, pages):
        monkeypatch.setattr(module, "classify_entries", flagged(module.classify_entries))
    context, page = sent_page(chromium, server, [str(test_images["glioma"][0])], js)
    card = page.locator("#results .card[data-state=ok]")
    sync_api.expect(card).to_have_count(1, timeout=30_000)
    for shown in (".card-review", ".card-note"):
        sync_api.expect(card.locator(shown)).to_be_visible()
    if not hasattr(card, "aria_snapshot"):
        pytest.skip("needs playwright >= 1.49 (Locator.aria_snapshot)")
    heard = card.aria_snapshot().lower()
    context.close()
    assert heard.count("lower confidence") == 1 and heard.count("skull-stripped") == 1, heard


def test_a_screen_reader_reads_a_scans_summary_once(server, chromium, tmp_path):
    """A scan's summary is said by the page's hidden live line (#scan-status, series.js), its block being new on the
    page; the line kept it, so browse mode read every sentence twice ("No slice of this scan was classified: it must
    be read without the model's help." on the hidden line, then in the block). It is emptied once said."""
    rng = np.random.default_rng(0)
    (tmp_path / "noise.zip").write_bytes(zip_bytes(series(
        [rng.integers(0, 256, (256, 256), dtype=np.uint8) for _ in range(3)])))
    page, problems = open_page(chromium, server, 1024, 800)
    if not hasattr(page.locator("main"), "aria_snapshot"):
        pytest.skip("needs playwright >= 1.49 (Locator.aria_snapshot)")
    sync_api.expect(page.locator("html")).to_have_class("js")
    listen(page, "#scan-status")  # as said: read after the Done line, it may be emptied already
    upload(page, [tmp_path / "noise.zip"])
    block = page.locator("#results .series")
    sync_api.expect(block.locator(".series-refused-note")).to_be_visible()
    said = " / ".join(announced(page))  # said first, in the page's live line (once)
    assert said.startswith("noise.zip: 3 slices") and said.endswith("without the model's help."), said
    sync_api.expect(page.locator("#scan-status")).to_be_empty(timeout=15_000)
    heard = page.locator("main").aria_snapshot()
    sentences = said.removeprefix("noise.zip: ").rstrip(".").split(". ")  # its line, reason and note
    assert len(sentences) == 3 and [s for s in sentences if heard.count(s) != 1] == [], (sentences, heard)
    assert problems == []
    page.close()
