"""A scan of which no slice was classified (each unreadable, or not classified) has no "Most suspicious slices"
heading over "No slice was classified as a tumour ...": its lines say why each was not. With and without JavaScript.
Skipped, never failed, when chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import axial_volume, nifti_bytes, unreadable_series
from test_browser import CHROMIUM, pytestmark, sent_page  # noqa: F401  (same skip rules)

sync_api = pytest.importorskip("playwright.sync_api")

#: 2 x 2 slices: each unreadable for its size (three frames of a DICOM file in a zip, beside a file of their series
#: skipped as damaged: a file or volume of such slices only is refused whole)
TINY = unreadable_series()
#: empty slices: each not classified (unlike brain MRI), whatever the model
BLANK = nifti_bytes(axial_volume([np.zeros((128, 128), np.uint8)] * 3))


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_no_heading_over_a_scan_of_which_no_slice_was_classified(server, chromium, test_images, tmp_path, js):
    from PIL import Image

    from braintumor.image_io import read_image

    stack = [np.asarray(Image.fromarray(read_image(p)).resize((192, 192)), dtype=np.uint8)
             for p in test_images["glioma"][:2]]
    files = {"tiny.zip": TINY, "blank.nii.gz": BLANK, "head.nii.gz": nifti_bytes(axial_volume(stack))}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    context, page = sent_page(chromium, server, [str(tmp_path / name) for name in files], js)
    blocks = page.locator("section.series")
    sync_api.expect(blocks).to_have_count(3)
    for k, name in enumerate(files):
        block = blocks.nth(k)
        sync_api.expect(block.locator(".series-name")).to_have_text(name)
        heading, none = block.locator(".series-top-title"), block.locator(".series-none")
        if name == "head.nii.gz":  # two slices classified: the heading stays
            sync_api.expect(heading).to_be_visible()
        else:  # the reasons stay, said in the block's lines
            sync_api.expect(heading).to_be_hidden()
            sync_api.expect(none).to_be_hidden()
            sync_api.expect(block).to_contain_text("unreadable" if name == "tiny.zip" else "not classified")
    context.close()
