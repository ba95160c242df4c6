"""A refused card's note, and what a screen reader is told of a refusal, in a real browser (headless chromium via
Playwright): a CT (DICOM modality CT) was told "If this is a brain MRI slice, it is unlike those the model learned
from" under "CT image (DICOM modality CT); the model reads MRI only"; and a card's or a refused scan's live region said
why it was not classified, never that it must be read without the model's help. With and without JavaScript. Skipped,
never failed, when chromium or playwright is absent (as tests/test_browser.py)."""

from __future__ import annotations

import io

import numpy as np
import pydicom
import pytest
import yaml
from dicom_factory import axial_volume, nifti_bytes, pydicom_file, zip_bytes
from live_regions import announced
from PIL import Image
from test_browser import pytestmark, sent_page  # noqa: F401 - pytestmark: the same skip conditions

from braintumor.refusal_wording import READ_WITHOUT_MODEL, REFUSED_NOTES

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

CT = pydicom_file("CT_small.dcm")
needs_ct = pytest.mark.skipif(CT is None, reason="pydicom's test file CT_small.dcm is absent")
NOTES = ".card-ood-note:visible, .card-turn-note:visible, .card-not-mri-note:visible"


def _photo() -> bytes:
    """A colour photo: refused as unlike brain MRI, whatever the model."""
    out = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(out, format="PNG")
    return out.getvalue()


def _said(locator) -> str:
    """A live region's text in the accessibility tree (Playwright's ARIA snapshot), on one line (chromium sets a
    visually hidden part apart with a space: "reads MRI only . It must be ...")."""
    if not hasattr(locator, "aria_snapshot"):
        pytest.skip("needs playwright >= 1.49 (Locator.aria_snapshot)")
    [node] = yaml.safe_load(locator.aria_snapshot())
    [(role, text)] = node.items()
    assert role == "status", node
    return " ".join(str(text).split()).replace(" . ", ". ")


@needs_ct
@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_refused_card_shows_and_says_the_note_that_fits_its_refusal(server, chromium, js):
    """A CT's card notes only that it must be read without the model's help (its reason says it is CT, the model
    reads MRI only); a photo's keeps "If this is a brain MRI slice, ...". Each card's live region says its note after
    its reason, once."""
    files = [{"name": "ct.dcm", "mimeType": "application/dicom", "buffer": CT.read_bytes()},
             {"name": "photo.png", "mimeType": "image/png", "buffer": _photo()}]
    context, page = sent_page(chromium, server, files, js)
    seen = {}
    for name in ("ct.dcm", "photo.png"):
        card = page.locator("#results .card", has=page.locator(".card-name", has_text=name))
        sync_api.expect(card).to_have_attribute("data-state", "ood", timeout=30_000)
        shown = " ".join(card.locator(".card-status-text").inner_text().split())
        seen[name] = (shown, [" ".join(t.split()) for t in card.locator(NOTES).all_inner_texts()],
                      _said(card.locator(".card-status")))
    context.close()
    shown, notes, said = seen["ct.dcm"]
    assert shown.endswith("CT image (DICOM modality CT); the model reads MRI only"), shown
    assert notes == [REFUSED_NOTES["not_mri"]] and "brain MRI slice" not in notes[0]
    assert said == f"ct.dcm: {shown}. {REFUSED_NOTES['not_mri']}"
    shown, notes, said = seen["photo.png"]
    assert notes == [REFUSED_NOTES["unlike"]]
    assert said == f"photo.png: {shown}. {REFUSED_NOTES['unlike']}" and said.lower().count(READ_WITHOUT_MODEL) == 1


@needs_ct
def test_the_page_announces_a_refused_scans_note_and_a_refused_cards_once(server, chromium, tmp_path):
    """The page's own live region said a refused scan's name, line and reasons, never that it must be read without
    the model's help; and a zip's second one-image series (a card new on the page, announced there) its reason
    alone."""
    blank = tmp_path / "blank.nii.gz"
    blank.write_bytes(nifti_bytes(axial_volume([np.zeros((128, 128), np.uint8)] * 3)))
    context, page = sent_page(chromium, server, [str(blank)], True, listen_on="#scan-status")
    block = page.locator("#results .series").first
    sync_api.expect(block.locator(".series-refused-note")).to_be_visible()
    said = " / ".join(announced(page))  # all it said: read after the Done line, the line may be emptied already
    assert said.startswith("blank.nii.gz: ") and said.endswith(REFUSED_NOTES["scan"]), said
    assert said.lower().count(READ_WITHOUT_MODEL) == 1, said
    context.close()

    other = pydicom.dcmread(CT)
    other.SeriesInstanceUID, other.SOPInstanceUID = "1.2.826.0.1.3680043.8.498.1", "1.2.826.0.1.3680043.8.498.2"
    out = io.BytesIO()
    other.save_as(out)
    scans = tmp_path / "two-ct.zip"
    scans.write_bytes(zip_bytes([("a.dcm", CT.read_bytes()), ("b.dcm", out.getvalue())]))
    context, page = sent_page(chromium, server, [str(scans)], True, listen_on="#scan-status")
    cards = page.locator("#results .card[data-state=ood]")
    sync_api.expect(cards).to_have_count(2, timeout=30_000)
    said = " / ".join(announced(page))
    assert said.endswith(f"the model reads MRI only. {REFUSED_NOTES['not_mri']}"), said
    assert said.lower().count(READ_WITHOUT_MODEL) == 1, said
    for k in range(2):
        assert _said(cards.nth(k).locator(".card-status")).endswith(f". {REFUSED_NOTES['not_mri']}")
    context.close()


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_screen_reader_reading_a_refused_card_hears_its_note_once(server, chromium, js):
    """The card's live region says the note after the reason (so it is announced); the same note shown under it was
    read again right after, in a screen reader's browse mode: the shown note is hidden from it, not from the eye."""
    context, page = sent_page(chromium, server, [{"name": "photo.png", "mimeType": "image/png", "buffer": _photo()}],
                              js)
    card = page.locator("#results .card[data-state=ood]")
    sync_api.expect(card).to_have_count(1, timeout=30_000)
    sync_api.expect(card.locator(".card-ood-note")).to_be_visible()
    if not hasattr(card, "aria_snapshot"):
        pytest.skip("needs playwright >= 1.49 (Locator.aria_snapshot)")
    heard = " ".join(str(yaml.safe_load(card.aria_snapshot())).split())
    context.close()
    assert heard.lower().count(READ_WITHOUT_MODEL) == 1, heard
