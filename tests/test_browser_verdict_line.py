"""An answer's verdict line in a real browser (headless chromium via Playwright, as tests/conftest.py gives it): the
confidence and its word stay together. Skipped, never failed, when chromium or playwright is absent."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import series, zip_bytes
from PIL import Image
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions

from braintumor.classes import display_name
from braintumor.image_io import read_image

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

# Each shown answer card's verdict: the middle height of its confidence ("95.1%") and of the word after it
# ("confidence"), a line (~24 px) apart when the word wrapped; the right edges of the two against the card's.
VERDICTS = """() => [...document.querySelectorAll("#results .card[data-state=ok]")]
  .filter(c => c.getClientRects().length).map(card => {
    const box = (s) => card.querySelector(s).getBoundingClientRect();
    const number = box(".verdict-confidence"), word = box(".verdict .muted");
    return {name: card.querySelector(".card-name").textContent, number: (number.top + number.bottom) / 2,
            word: (word.top + word.bottom) / 2, right: Math.max(number.right, word.right),
            edge: card.getBoundingClientRect().right};
})"""


@pytest.mark.parametrize("width", [1280, 390])
def test_the_word_confidence_stays_beside_its_number(server, chromium, test_images, tmp_path, width):
    """ "Meningioma 95.1%" filled a line of a 300 px card, and "confidence" went alone to the next, under the class as
    if a label of its own; in a series' 260 px cards "Pituitary tumour" took the line and the number led the next. The
    verdict line's every class name with a short and a long confidence, in a slice's card and a series' cards."""
    paths = [test_images[c][0] for c in ("notumor", "glioma", "pituitary", "meningioma")]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((256, 256)), dtype=np.uint8) for p in paths]
    (tmp_path / "series.zip").write_bytes(zip_bytes(series(stack)))
    page, problems = open_page(chromium, server, width, 900)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [str(test_images["meningioma"][0]), str(tmp_path / "series.zip")])
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=60_000)
    assert page.locator("#results .card[data-state=ok]").count() >= 2  # the slice and the series' suspicious slices
    for cls in ("glioma", "meningioma", "notumor", "pituitary"):
        for confidence in ("95.1%", ">99.9%"):  # as card.js fills them: the model's answers may not span these
            page.evaluate("([label, confidence]) => document.querySelectorAll('#results .card[data-state=ok]')"
                          ".forEach(c => { c.querySelector('.verdict-label').textContent = label; "
                          "c.querySelector('.verdict-confidence').textContent = confidence; })",
                          [display_name(cls), confidence])
            for v in page.evaluate(VERDICTS):
                assert abs(v["number"] - v["word"]) < 8, (width, display_name(cls), confidence, v)
                assert v["right"] <= v["edge"], (width, display_name(cls), confidence, v)
    assert problems == []
    page.close()
