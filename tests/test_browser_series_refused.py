"""A scan none of whose slices was classified looks and reads as a refused single slice's card does: its line leaves
out the all-zero class counts ("3 slices · Glioma 0, Meningioma 0, No tumour 0, Pituitary tumour 0 · 3 not classified
(unlike brain MRI)" read as an answer of no tumour), it has the refused card's border, and its note says it must be
read without the model's help (a scan of unreadable slices only: an unreadable card's border, as its file's would
be). With and without JavaScript. Skipped, never failed, when chromium or playwright is absent (as test_browser.py)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import encode
from dicom_factory import axial_volume, nifti_bytes, unreadable_series
from test_browser import CHROMIUM, pytestmark, sent_page  # noqa: F401  (same skip rules)

from braintumor.refusal_wording import REFUSED_NOTES

sync_api = pytest.importorskip("playwright.sync_api")

#: 2 x 2 slices: each unreadable for its size (three frames of a DICOM file in a zip, beside a file of their series
#: skipped as damaged: a file or volume of such slices only is refused whole)
TINY = unreadable_series()
#: empty slices: each not classified (unlike brain MRI), whatever the model
BLANK = nifti_bytes(axial_volume([np.zeros((128, 128), np.uint8)] * 3))
BORDER = "el => getComputedStyle(el).borderTopColor"


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_a_scan_of_no_classified_slice_looks_and_reads_as_a_refused_card(server, chromium, test_images, tmp_path,
                                                                          js):
    from PIL import Image

    from braintumor.image_io import read_image

    stack = [np.asarray(Image.fromarray(read_image(p)).resize((192, 192)), dtype=np.uint8)
             for p in test_images["glioma"][:2]]
    files = {"blank.png": encode(np.zeros((128, 128), np.uint8)), "tiny.zip": TINY, "blank.nii.gz": BLANK,
             "head.nii.gz": nifti_bytes(axial_volume(stack))}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    context, page = sent_page(chromium, server, [str(tmp_path / name) for name in files], js)
    card = page.locator("#results > .card").first  # the blank image: refused
    sync_api.expect(card).to_have_attribute("data-state", "ood", timeout=30_000)
    refused_border = card.evaluate(BORDER)
    blocks = page.locator("section.series")
    sync_api.expect(blocks).to_have_count(3)
    seen = {}
    for k, name in enumerate(list(files)[1:]):
        block = blocks.nth(k)
        sync_api.expect(block.locator(".series-name")).to_have_text(name)
        note, turn = block.locator(".series-refused-note"), block.locator(".series-turn-note")
        sync_api.expect(turn).to_be_hidden()  # none of these slices was refused as turned
        assert block.get_attribute("data-turned") is None
        seen[name] = (block.get_attribute("data-state"), " ".join(block.locator(".series-line").inner_text().split()),
                      note.is_visible(), block.evaluate(BORDER) == refused_border)
        if name == "blank.nii.gz":
            sync_api.expect(note).to_have_text(REFUSED_NOTES["scan"])
    context.close()
    assert seen["blank.nii.gz"] == ("ood", "3 slices · 3 not classified (unlike brain MRI)", True, True)
    assert seen["tiny.zip"] == ("error", "3 slices · 3 unreadable", False, False)
    state, line, noted, refused_look = seen["head.nii.gz"]  # two slices classified: their counts, no note
    assert (state, noted, refused_look) == ("ok", False, False) and line.startswith("2 slices · Glioma "), line
