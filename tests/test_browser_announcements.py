"""What a screen reader is told of each result, in a real browser (headless chromium via Playwright): every card's live
region names its file before its answer, error or refusal, with and without JavaScript, while the card shows the same
text as before (its heading shows the name). Skipped, never failed, when chromium or playwright is absent (like
tests/test_browser.py)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import yaml
from dicom_factory import series, zip_bytes
from live_regions import announced, listen
from PIL import Image
from test_browser import open_page, pytestmark, sent_page  # noqa: F401 - pytestmark: the same skip conditions

from braintumor.image_io import read_image
from braintumor.refusal_wording import REFUSED_NOTES

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

#: Names that break markup or encodings if handled as HTML: a quote, "<", "&", an entity and non-ASCII letters.
ANSWERED = 'Te-gl "0001" <b>&amp; é.jpg'
UNREADABLE = "notes <i>&lt; 脑.jpg"
REFUSED = "photo 'x' & <y>.png"
SCAN = "série <1>.zip"



def _png(arr: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(arr).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture(scope="module")
def files(test_images) -> list[dict]:
    """A slice answered, a file unreadable, a colour photo refused, and a four-slice DICOM series in a zip."""
    paths = [test_images[c][0] for c in ("notumor", "glioma", "pituitary", "meningioma")]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((256, 256)), dtype=np.uint8) for p in paths]
    photo = np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)  # refused, whatever the model
    given = [(ANSWERED, test_images["glioma"][0].read_bytes(), "image/jpeg"),
             (UNREADABLE, b"not an image", "image/jpeg"), (REFUSED, _png(photo), "image/png"),
             (SCAN, zip_bytes(series(stack)), "application/zip")]
    return [{"name": name, "mimeType": kind, "buffer": data} for name, data, kind in given]


def _said(card) -> str:
    """The live region's text in the accessibility tree (Playwright's ARIA snapshot of its role), one line."""
    region = card.locator("[role=status], [role=alert]")
    if not hasattr(region, "aria_snapshot"):
        pytest.skip("needs playwright >= 1.49 (Locator.aria_snapshot)")
    [node] = yaml.safe_load(region.aria_snapshot())
    [(role, text)] = node.items()
    assert role in ("status", "alert"), node
    return " ".join(str(text).split()).replace(" . ", ". ")  # chromium sets a visually hidden note apart: " . "


# A status's text as the card shows it: without what is visually hidden in it (an answer's whole status is: the
# verdict under it shows the answer), and the size of what is.
SHOWN = """e => { const c = e.cloneNode(true); c.querySelectorAll(".visually-hidden").forEach(h => h.remove());
    return c.textContent; }"""
BOXES = "hs => hs.map(h => h.getBoundingClientRect()).map(r => ({width: r.width, height: r.height}))"


def _check(page) -> None:
    """Each card's region says its name (a series' slice: its scan's too) first, then what the card shows (the name
    itself stays visually hidden), a refused card's note last."""
    cards = page.locator("#results .card")
    shown = {}
    for i in range(cards.count()):
        card = cards.nth(i)
        name = card.locator(".card-name").text_content().strip()
        text = " ".join(card.locator(".card-status").evaluate(SHOWN).split())
        said = _said(card)
        # a series' slice after its scan: "slice 1 · DICOM image 2" alone was every scan's first slice
        scan = card.evaluate("c => c.closest('.series') ? c.closest('.series').querySelector('.series-name')"
                             ".textContent.trim() + ', ' : ''")
        # a refused card's note after it: that it must be read without the model's help
        note = card.locator(".card-ood-note:visible, .card-turn-note:visible, .card-not-mri-note:visible")
        end = f". {' '.join(note.inner_text().split())}" if note.count() else ""
        assert text and said == f"{scan}{name}: {text}{end}", (name, text, said)
        for box in card.locator(".card-status .visually-hidden").evaluate_all(BOXES):
            assert box["width"] <= 1 and box["height"] <= 1, (name, box)
        shown[name] = text
    assert set(shown) >= {ANSWERED, UNREADABLE, REFUSED}, shown
    assert shown[ANSWERED].endswith(" confidence") and shown[UNREADABLE].startswith("Not a recognised image")
    assert shown[REFUSED].startswith("Not classified: unlike the brain MRI")
    refused = cards.filter(has=page.locator(".card-name", has_text=REFUSED))
    assert _said(refused).endswith(f". {REFUSED_NOTES['unlike']}")
    slices = [n for n in shown if n.startswith("slice ")]  # the series' most suspicious slices, cards too
    assert slices, shown


def test_each_live_region_names_its_file_before_its_answer_with_javascript(server, chromium, files):
    """Answers arrive in the order the server finishes them: "Glioma, >99.9% confidence", "not a recognised
    image: ...", said alone, left a screen-reader user to guess which file each was. A slow run: one of the first two
    files' answers held until the scan's summary, said in the page's own line, has been emptied (7 s later)."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    listen(page, "#scan-status")
    held = []  # the first file sent (two at a time, the scan last): its answer, when the test says
    page.route("**/api/v1/predict*", lambda route: route.continue_() if held else held.append(route))
    page.set_input_files("#file-input", files)
    page.wait_for_function("() => window.said.some(line => line)", timeout=30_000)  # the scan's summary said
    sync_api.expect(page.locator("#scan-status")).to_be_empty(timeout=15_000)  # as a slow run's Done line found it
    held[0].continue_()
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=30_000)
    _check(page)
    # the series' summary, said in the page's own region, starts with the scan's name too
    assert any(line.startswith(SCAN + ": ") for line in announced(page)), announced(page)
    assert page.locator("#results .card[data-state=error] .card-status").get_attribute("aria-atomic") == "true"
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


def test_each_live_region_names_its_file_before_its_answer_without_javascript(server, chromium, files):
    """The cards the server renders (the form posted without JavaScript) say the same."""
    context, page = sent_page(chromium, server, files, js=False)
    _check(page)
    context.close()
