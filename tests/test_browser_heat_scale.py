"""Each heat map has its colour scale under it, cooler to warmer in the maps' own colours: the caption said "warmer
colours" with no key to read them by (is green warmer than blue?). Skipped, never failed, when chromium or playwright
is absent (like tests/test_browser.py)."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image
from test_browser import ARGS, CHROMIUM, pytestmark  # noqa: F401  (same skip rules)

from braintumor.heatmap import COLOUR_NAMES, colorize

sync_api = pytest.importorskip("playwright.sync_api")


def scale_pixels(src: str) -> np.ndarray:
    assert src.startswith("data:image/png;base64,")
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))).convert("RGB"))[0]


@pytest.mark.parametrize("js", [True, False], ids=["script", "no-script"])
def test_a_heat_map_has_its_colour_scale_in_its_colours(server, chromium, test_images, js):
    context = chromium.new_context(java_script_enabled=js, viewport={"width": 1024, "height": 900})
    page = context.new_page()
    page.goto(server)
    page.set_input_files("#file-input", [str(test_images["glioma"][0])])
    if not js:
        page.click("button[type=submit]")
    card = page.locator("#results .card").first
    sync_api.expect(card).to_have_attribute("data-state", "ok", timeout=30_000)
    scale = card.locator(".heat-scale")
    sync_api.expect(scale).to_be_visible()
    assert scale.locator("span[aria-hidden=true]").all_inner_texts() == ["cooler", "warmer"]  # the caption's words
    ramp = scale.locator("img.heat-ramp")
    assert ramp.evaluate("img => img.complete && img.naturalWidth > 1")
    pixels = scale_pixels(ramp.get_attribute("src"))
    assert (pixels == colorize(np.linspace(0.0, 1.0, len(pixels), dtype=np.float32))).all()  # the maps' colours
    assert ramp.get_attribute("alt") == "" and ramp.get_attribute("aria-hidden") == "true"  # alike: said in words
    said = " ".join(scale.locator(".visually-hidden").text_content().split())
    assert said == f"Heat map colours, cooler to warmer: {COLOUR_NAMES}"
    box, image = scale.bounding_box(), card.locator(".stack").bounding_box()
    assert box["y"] >= image["y"] + image["height"] - 1  # under the map, not over it
    if js:  # hidden with the map
        card.locator(".heat-toggle").uncheck()
        sync_api.expect(scale).to_be_hidden()
    context.close()


def test_a_refused_image_shows_no_colour_scale(server, chromium, tmp_path):
    photo = tmp_path / "photo.png"  # colour noise: refused, whatever the model
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(photo)
    page = chromium.new_page()
    page.goto(server)
    page.set_input_files("#file-input", [str(photo)])
    card = page.locator("#results .card").first
    sync_api.expect(card).to_have_attribute("data-state", "ood", timeout=30_000)
    sync_api.expect(card.locator(".heat-scale")).to_be_hidden()
    page.close()
