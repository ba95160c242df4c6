"""A probability bar's frame as the browser draws it (headless chromium via Playwright): the page's and the
dashboard's meters have a 3:1 outline (WCAG 1.4.11) so that a bar's full length shows, a near-0 % bar's too; the
track's own colour is 1.2:1 on the card. tests/test_page_contrast.py reads the colours from the CSS; this looks at
the pixels. Skipped, never failed, when chromium or playwright is absent."""

from __future__ import annotations

import io

import pytest
from PIL import Image
from test_browser import pytestmark  # noqa: F401 - pytestmark: the same skip conditions
from test_page_contrast import MIN_RATIO, ratio

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

SCALE = 2  # device pixels per CSS pixel: a 1 px border is two rows, one of them whole whatever the fraction


def edge_contrasts(page, meter) -> dict[str, float]:
    """The frame's contrast with the background 2 px outside it, at the middle of the meter's top and bottom edges:
    the best of the rows from 1 px outside the box to 2 px inside it (a 1 px border takes two rows, one whole)."""
    box = meter.bounding_box()
    png = page.screenshot(clip={"x": box["x"], "y": box["y"] - 2, "width": box["width"], "height": box["height"] + 4})
    image = Image.open(io.BytesIO(png)).convert("RGB")
    x, rows = image.width // 2, image.height
    pixel = [tuple(c / 255 for c in image.getpixel((x, y))) for y in range(rows)]
    return {
        "top": max(ratio(pixel[0], pixel[y]) for y in range(SCALE, 4 * SCALE)),
        "bottom": max(ratio(pixel[-1], pixel[y]) for y in range(rows - 4 * SCALE, rows - SCALE)),
    }


def test_a_near_zero_bars_frame_shows_all_round_on_the_page_and_the_dashboard(server, chromium, test_images):
    """The meters' inner bar (::-webkit-meter-bar) was as tall as the whole meter, its 1 px border included, and
    covered the frame's top and bottom: a "<0.1%" bar was a pale strip between two brackets, its length unseen (in
    forced colours too, where the track is the page's own background)."""
    page = chromium.new_page(viewport={"width": 1024, "height": 800}, device_scale_factor=SCALE)
    page.goto(server)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [str(test_images["glioma"][0])])
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=30_000)
    for forced in ("none", "active"):
        page.emulate_media(forced_colors=forced)
        low = page.locator(".card .bar:not(.bar-top) .bar-meter").first
        seen = edge_contrasts(page, low)
        assert min(seen.values()) >= MIN_RATIO, (forced, seen)
    page.emulate_media(forced_colors="none")
    page.goto(f"{server}/dashboard")
    sync_api.expect(page.locator(".mix meter").first).to_be_visible(timeout=15_000)
    # the class of fewest answers (one glioma slice was sent): at its middle the frame, not the fill, meets the card
    least = page.locator(".mix meter").evaluate_all("ms => ms.indexOf(ms.reduce((a, b) => b.value < a.value ? b : a))")
    meter = page.locator(".mix meter").nth(least)
    seen = edge_contrasts(page, meter)
    assert min(seen.values()) >= MIN_RATIO, ("dashboard", seen)
    page.close()
