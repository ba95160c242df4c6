"""A refused card's note in a real browser (headless chromium via Playwright): a CT (DICOM modality CT) was told "If
this is a brain MRI slice, it is unlike those the model learned from" under "CT image (DICOM modality CT); the model
reads MRI only". With and without JavaScript. Skipped, never failed, when chromium or playwright is absent (as
tests/test_browser.py)."""

from __future__ import annotations

import io

import numpy as np
import pytest
from dicom_factory import pydicom_file
from PIL import Image
from test_browser import pytestmark  # noqa: F401 - pytestmark: the same skip conditions

from braintumor.wording import REFUSED_NOTES

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

CT = pydicom_file("CT_small.dcm")
needs_ct = pytest.mark.skipif(CT is None, reason="pydicom's test file CT_small.dcm is absent")
NOTES = ".card-ood-note:visible, .card-turn-note:visible, .card-not-mri-note:visible"


def _photo() -> bytes:
    """A colour photo: refused as unlike brain MRI, whatever the model."""
    out = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


def _post(chromium, server, files: list, js: bool):
    """A page (and its context) with ``files`` sent, with JavaScript or through the plain form."""
    context = chromium.new_context(java_script_enabled=js)
    page = context.new_page()
    page.goto(server)
    page.set_input_files("#file-input", files)
    if js:
        sync_api.expect(page.locator("#page-status")).to_contain_text("Done:", timeout=60_000)
    else:
        page.click("button[type=submit]")
        page.wait_for_load_state()
    return context, page


@needs_ct
@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_refused_card_shows_the_note_that_fits_its_refusal(server, chromium, js):
    """A CT's card notes only that it must be read without the model's help (its reason says it is CT, the model
    reads MRI only); a photo's keeps "If this is a brain MRI slice, ..."."""
    files = [{"name": "ct.dcm", "mimeType": "application/dicom", "buffer": CT.read_bytes()},
             {"name": "photo.png", "mimeType": "image/png", "buffer": _photo()}]
    context, page = _post(chromium, server, files, js)
    seen = {}
    for name in ("ct.dcm", "photo.png"):
        card = page.locator("#results .card", has=page.locator(".card-name", has_text=name))
        sync_api.expect(card).to_have_attribute("data-state", "ood", timeout=30_000)
        shown = " ".join(card.locator(".card-status-text").inner_text().split())
        seen[name] = (shown, [" ".join(t.split()) for t in card.locator(NOTES).all_inner_texts()])
    context.close()
    shown, notes = seen["ct.dcm"]
    assert shown.endswith("CT image (DICOM modality CT); the model reads MRI only"), shown
    assert notes == [REFUSED_NOTES["not_mri"]] and "brain MRI slice" not in notes[0]
    assert seen["photo.png"][1] == [REFUSED_NOTES["unlike"]]

