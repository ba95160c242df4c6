"""A real brain MRI slice on its side, in a real browser (headless chromium via Playwright, the shipped model and its
orientation check): the page says it was refused, why, and what to do, with and without JavaScript, for one slice and
for a series. Skipped, never failed, when chromium, playwright, the dataset or the shipped model is absent (like
tests/test_browser.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dicom_factory import series, zip_bytes
from live_regions import announced, listen
from PIL import Image
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions

from braintumor.image_io import read_image
from braintumor.model_files import default_model_path
from braintumor.orientation import QUARTER_TURN, turn_reason

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
shipped = pytest.mark.skipif(not default_model_path().is_file(), reason="needs the shipped model's orientation check")

#: What a slice on its side is told (braintumor.orientation.turn_reasons), after the card's "Not classified: ".
TURNED = turn_reason(QUARTER_TURN)

#: The turned card's note, in place of "If this is a brain MRI slice, ...: it must be read without the model's help".
UPRIGHT_ALREADY = "If it is upright already, the model cannot read it: it must be read without the model's help."


def turned(path: Path, size: int | None = None) -> np.ndarray:
    """The real slice at ``path`` (resized to ``size``), turned 90 degrees anticlockwise."""
    gray = read_image(path)
    if size:
        gray = np.asarray(Image.fromarray(gray).resize((size, size)), dtype=np.uint8)
    return np.ascontiguousarray(np.rot90(gray))


def read_card(card) -> dict:
    return {"status": " ".join(card.locator(".card-status-text").inner_text().split()),
            "status shown": card.locator(".card-status").is_visible(),
            "notes shown": [" ".join(t.split()) for t in card.locator(".card-ood-note:visible, .card-turn-note:visible")
                            .all_inner_texts()],
            "bars shown": card.locator(".bars").is_visible(),
            "heat map shown": card.locator(".view-heat").is_visible() if card.locator(".view-heat").count() else False}


@shipped
def test_a_slice_on_its_side_is_refused_with_the_turn_named_with_and_without_javascript(server, chromium, test_images,
                                                                                       tmp_path):
    """The card said "rotate it upright and send it again", then "it must be read without the model's help": its note
    now says what to do with a slice the check took for turned that is upright already. Its reason is the turn alone:
    it began "unlike the brain MRI slices the model was trained on:", which a slice on its side is not."""
    image = tmp_path / "on-its-side.png"
    Image.fromarray(turned(test_images["glioma"][0])).save(image)
    want = {"status": f"Not classified: {TURNED}",
            "status shown": True, "notes shown": [UPRIGHT_ALREADY], "bars shown": False, "heat map shown": False}
    page, problems = open_page(chromium, server, 390, 844)  # phone width: the reason wraps, nothing is cut
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", str(image))
    card = page.locator("#results .card").first
    sync_api.expect(card).to_have_attribute("data-state", "ood", timeout=30_000)
    assert read_card(card) == want
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    sync_api.expect(page.locator("#page-status")).to_have_text(  # it said "(unlike brain MRI)": it is a brain MRI
        "Done: 0 classified, 1 not classified (turned: rotate upright and resend) (see below).")
    assert problems == []
    page.close()

    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server)
    page.set_input_files("#file-input", str(image))
    page.click("button[type=submit]")
    card = page.locator("#results .card").first
    sync_api.expect(card).to_have_attribute("data-state", "ood")
    assert read_card(card) == want
    context.close()


@shipped
def test_a_series_on_its_side_says_why_its_slices_were_refused_with_and_without_javascript(server, chromium,
                                                                                          test_images, tmp_path):
    """A DICOM series stored on its side said only "4 not classified (unlike brain MRI)", each slice the same: the
    reasons, the turn among them, were in the JSON alone (a screen reader heard the count only); and the page's last
    line called the scan classified."""
    slices = [turned(test_images[c][0], 256) for c in ("glioma", "meningioma", "notumor", "pituitary")]
    scan = tmp_path / "on-its-side.zip"
    scan.write_bytes(zip_bytes(series(slices)))
    said, lines = {}, {}
    for js in (True, False):
        context = chromium.new_context(java_script_enabled=js)
        page = context.new_page()
        page.goto(server)
        if js:
            listen(page, "#scan-status")  # as said: read after the Done line, it may be emptied already
        page.set_input_files("#file-input", str(scan))
        if js:  # the page's last line: the scan's slices were not classified, and are to be turned
            sync_api.expect(page.locator("#page-status")).to_have_text(
                "Done: 1 file, 4 slices: 0 classified, 4 not classified (turned: rotate upright and resend) (see "
                "below).", timeout=30_000)
        else:
            page.click("button[type=submit]")
        block = page.locator("#results .series").first
        # no slice classified: a refused card's look, and a turned card's note (not "must be read without the
        # model's help" alone after "rotate upright and resend")
        sync_api.expect(block).to_have_attribute("data-state", "ood", timeout=30_000)
        sync_api.expect(block).to_have_attribute("data-turned", "")
        sync_api.expect(block.locator(".series-turn-note")).to_have_text(UPRIGHT_ALREADY)
        sync_api.expect(block.locator(".series-refused-note")).to_be_hidden()
        reasons = block.locator(".series-refusals li")
        sync_api.expect(reasons.first).to_be_visible()
        said[js] = [" ".join(t.split()) for t in reasons.all_inner_texts()]
        lines[js] = (block.locator(".series-line").inner_text(),
                     [" ".join(t.split()) for t in block.locator(".strip-list li").all_text_contents()])
        if js:  # announced with the count
            assert any(said[js][0] in line for line in announced(page)), announced(page)
        context.close()
    assert said[True] == said[False] and lines[True] == lines[False]
    # the summary line and each slice's text count those on their side apart ("4 not classified (unlike brain MRI)")
    side = sum(int(line.split()[0]) for line in said[True] if line.endswith(TURNED))
    line, strip = lines[True]
    assert side >= 1 and f"· {side} not classified (turned: rotate upright and resend)" in line
    assert line.startswith("4 slices · ") and "Glioma" not in line, line  # no all-zero class counts
    assert ("not classified (unlike brain MRI)" in line) == (side < 4), line
    assert sum(t.endswith("not classified (turned: rotate upright and resend)") for t in strip) == side, strip
    counts = [int(line.split()[0]) for line in said[True]]
    assert sum(counts) == 4 and counts == sorted(counts, reverse=True)
    assert any(line.endswith(f"not classified: {TURNED}") for line in said[True]), said  # the turn alone
