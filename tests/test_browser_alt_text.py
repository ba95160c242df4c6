"""What a screen reader says of each result's two images, in a real browser (headless chromium via Playwright, as
tests/conftest.py gives it), with JavaScript and without. Skipped, never failed, when chromium or playwright is
absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dicom_factory import series, zip_bytes
from PIL import Image
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions

from braintumor.image_io import read_image

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


@pytest.fixture(scope="module")
def scans(test_images, tmp_path_factory) -> list[Path]:
    """A glioma, a no-tumour slice and a zipped DICOM series: cards of both kinds, and a series' slice cards."""
    folder = tmp_path_factory.mktemp("alt")
    paths = [test_images[c][0] for c in ("notumor", "glioma", "pituitary")]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((256, 256)), dtype=np.uint8) for p in paths]
    (folder / "series.zip").write_bytes(zip_bytes(series(stack)))
    return [test_images["glioma"][0], test_images["notumor"][0], folder / "series.zip"]


def alts(page) -> list[tuple[str, str, str, str]]:
    """(name, answer, the image's alt, the heat map's alt) of every card with a heat map; a series' slice is named after
    its scan (tests/test_browser_control_names.py)."""
    return page.locator(".card:has(.view-heat)").evaluate_all("""cards => cards.map(c => [(c.closest(".series") ?
        c.closest(".series").querySelector(".series-name").textContent.trim() + ", " : "") +
        c.querySelector(".card-name").textContent.trim(), c.querySelector(".verdict-label").textContent.trim(),
        c.querySelector(".view-base").alt, c.querySelector(".view-heat").alt])""")


def check(found: list[tuple[str, str, str, str]], names: int) -> None:
    assert len(found) == names, found
    for name, answer, base, heat in found:
        assert base == f"{name}, as the model saw it (cropped, grayscale)"
        assert heat == f"Heat map over {name}: the regions that raised the score of {answer}"
    assert len({heat for *_, heat in found}) == len(found)


def test_each_image_and_heat_map_says_which_file_it_is_and_what_it_shows(server, chromium, scans):
    """Every card's images were "The cropped grayscale image the model saw" and "Class-activation heat map over the
    image": a screen reader's list of images (or its image-by-image reading) could not tell one card's from another,
    nor say for which answer the heat map was drawn."""
    page, problems = open_page(chromium, server, 1280, 900)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [str(f) for f in scans])
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=60_000)
    check(alts(page), 2 + page.locator(".series .card").count())
    assert page.locator(".series .card").count() >= 2  # a series' slice cards (series.js) too
    assert problems == []
    page.close()

    context = chromium.new_context(java_script_enabled=False)  # the form posted, the cards rendered on the server
    page = context.new_page()
    page.goto(server)
    page.set_input_files("#file-input", [str(f) for f in scans])
    page.click("button[type=submit]")
    sync_api.expect(page.locator("#results .card").first).to_have_attribute("data-state", "ok")
    check(alts(page), 2 + page.locator(".series .card").count())
    context.close()
