"""A phone-wide window (360 px) with the browser's text set to 200 % (a low-vision setting, which rem scales), in a
real browser (headless chromium via Playwright, as tests/conftest.py gives it). tests/test_browser_a11y.py checks the
same text size in a desktop window. Skipped, never failed, when chromium or playwright is absent."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import series, zip_bytes
from PIL import Image
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions
from test_browser_a11y import SPILLS as ROW_SPILLS  # a row (of .mix li here) past its tile, or its meter crushed
from test_browser_a11y import tab_stops

from braintumor.image_io import read_image

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

# Everything shown in a card that reaches past the card's edges, and cards whose bars differ in length or are crushed.
SPILLS = """() => [...document.querySelectorAll("#results .card")].filter(c => c.getClientRects().length)
  .flatMap(card => {
    const box = card.getBoundingClientRect(), name = card.querySelector(".card-name").textContent.trim();
    const out = [...card.querySelectorAll("*")].filter(e => e.getClientRects().length && !e.closest(".visually-hidden")
        && !e.closest(".card[data-state=ok] .card-status") && (e.getBoundingClientRect().right > box.right + 0.5 ||
                                          e.getBoundingClientRect().left < box.left - 0.5))
        .map(e => `${name}: ${e.className || e.tagName} past the card`);
    const widths = [...card.querySelectorAll(".bar-meter")].map(m => Math.round(m.getBoundingClientRect().width));
    if (widths.length && (new Set(widths).size > 1 || Math.min(...widths) < 16)) out.push(`${name}: bars ${widths}`);
    return out;
})"""


def test_a_phone_with_text_at_200_percent_keeps_every_card_and_tile_inside_the_window(server, chromium, test_images,
                                                                                        tmp_path):
    """At 360 px with text at 200 %, a card holds 8 rem: a bar's row needs 11.6 (name, bar, value), so the values
    ran past the card and the window's edge (the page scrolled sideways), the bars shrank to a line, and the heat
    map's "Opacity" slider spilled past both edges of its card. The dashboard's class mix (16 rem a row) too."""
    paths = [test_images[c][0] for c in ("notumor", "glioma", "pituitary", "meningioma")]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((256, 256)), dtype=np.uint8) for p in paths]
    (tmp_path / "series.zip").write_bytes(zip_bytes(series(stack)))
    page, problems = open_page(chromium, server, 360, 740)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [str(test_images["meningioma"][0]), str(tmp_path / "series.zip")])
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=60_000)
    for size in ("100%", "200%"):
        page.evaluate(f"document.documentElement.style.fontSize = '{size}'")
        assert page.locator("#results .card .bar-meter").count() >= 12  # the slice and the series' suspicious slices
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, size
        assert page.evaluate(SPILLS) == [], size
        for card in page.locator("#results .card:has(.bar-top)").all():  # a bar's value stays beside its bar
            bar, value = (card.locator(f".bar-top {s}").bounding_box() for s in (".bar-meter", ".bar-value"))
            assert abs((bar["y"] + bar["height"] / 2) - (value["y"] + value["height"] / 2)) < 8, size
    page.goto(f"{server}/dashboard")
    sync_api.expect(page.locator(".mix li")).to_have_count(4, timeout=15_000)
    for size in ("100%", "200%"):
        page.evaluate(f"document.documentElement.style.fontSize = '{size}'")
        assert page.evaluate("document.documentElement.scrollWidth") <= 360, size
        assert page.evaluate(ROW_SPILLS, ".mix li") == [], size
        widths = page.locator(".mix meter").evaluate_all("ms => ms.map(m => m.getBoundingClientRect().width)")
        assert max(widths) - min(widths) < 0.5, (size, widths)  # one length for every class: comparable
    assert problems == []
    page.close()


def test_the_heat_maps_opacity_slider_is_a_24_px_target_at_a_phones_width(server, chromium, test_images):
    """The slider's box was 16 px tall, under WCAG 2.5.8's 24 x 24 px minimum target: a touch a few pixels above or
    below its track, or a hand with a tremor, missed it (a press on its label's "Opacity" moves nothing). Its whole
    box takes a press: one 10 px above the middle of its track sets the value under it, at both text sizes."""
    page, problems = open_page(chromium, server, 360, 740)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=60_000)
    slider = page.locator("#results .card .heat-opacity").first
    for size in ("100%", "200%"):
        page.evaluate(f"document.documentElement.style.fontSize = '{size}'")
        slider.fill("100")
        slider.scroll_into_view_if_needed()
        box = slider.bounding_box()
        assert box["height"] >= 24 and box["width"] >= 24, (size, box)
        page.mouse.click(box["x"] + box["width"] * 0.3, box["y"] + box["height"] / 2 - 10)  # 16 px tall: missed
        assert int(slider.input_value()) < 60, size
    assert problems == []
    page.close()



@pytest.mark.parametrize(("width", "height", "text_px"), [(414, 896, 32), (512, 900, 32), (360, 640, 24)])
def test_with_the_browsers_text_larger_no_focused_control_is_under_the_sticky_disclaimer(server, chromium, test_images,
                                                                                          width, height, text_px):
    """The browser's default text size set larger (200 %: 32 px, 150 %: 24 px), as a low-vision reader sets it: its
    media queries' em grow with it, its px do not. On a phone the disclaimer, stuck to the window's bottom edge, wrapped
    to 7-10 rem (its smaller text kept for windows under 480 px), past the 6.5 rem a focused control is scrolled above
    it: 281 of 896 px, and Tab left the Clear results button half under it. Under 20 em wide it is the page's first
    lines, as in a short window."""
    page, problems = open_page(chromium, server, width, height)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Page.setFontSizes", {"fontSizes": {"standard": text_px, "fixed": text_px - 3}})
    page.reload()
    assert page.evaluate("getComputedStyle(document.documentElement).fontSize") == f"{text_px}px"
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [str(test_images[c][0]) for c in ("glioma", "meningioma", "notumor")])
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=60_000)
    # stuck to the window's edge, it is no taller than the room a focused control is scrolled into above it
    stuck = page.evaluate("""() => { const d = document.querySelector(".disclaimer"), html = document.documentElement;
        return getComputedStyle(d).position !== "sticky" ||
            d.getBoundingClientRect().height <= parseFloat(getComputedStyle(html).scrollPaddingBottom); }""")
    stops = tab_stops(page, 40)  # a control under the disclaimer, wherever the disclaimer is (first lines, or stuck)
    hidden = [where for where in stops
              if where["bottom"] > where["disclaimer"] + 0.5 and where["top"] < where["disclaimer_bottom"] - 0.5]
    assert len(stops) >= 8 and hidden == [] and stuck, hidden
    assert problems == []
    page.close()
