"""A scan's slice the server's model gave scores that are not finite for is "not analysed" in its scan's block (the
series line, why, the slice's own text, the strip's key) and on the Done line, with JavaScript as without: both said
it was "unreadable", the upload's fault, where the server's model file was at fault. Skipped, never failed, when
chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import pytest
from dicom_factory import axial_volume, nifti_bytes
from test_browser import pytestmark, sent_page  # noqa: F401  (same skip rules)
from test_model_scores_per_file import nan_for  # noqa: F401  (the fixture: NaN scores for a chosen image)

from braintumor.volume_io import read_volumes
from braintumor.web.model_failures import MODEL_FAILED

pytest.importorskip("playwright.sync_api")


@pytest.mark.parametrize("js", [True, False])
def test_a_slice_the_model_failed_on_is_not_analysed(server, chromium, nan_for, stack, js):  # noqa: F811
    data = nifti_bytes(axial_volume(stack))
    nan_for(read_volumes(data, name="scan.nii.gz")[0].slices[2])
    files = [{"name": "scan.nii.gz", "mimeType": "application/gzip", "buffer": data}]
    context, page = sent_page(chromium, server, files, js)
    try:
        block = page.locator("#results .series")
        assert block.locator(".series-line").inner_text().endswith(" · 1 not analysed")
        why = [" ".join(text.split()) for text in block.locator(".series-refusals li").all_text_contents()]
        assert why == [f"1 slice not analysed: {MODEL_FAILED}"]
        said = block.locator(".strip-list li").all_text_contents()
        assert said[2] == "slice 2: not analysed (the server's model failed)", said
        assert block.locator(".strip-legend [data-class=failed]").text_content() == "Unreadable or not analysed"
        caption = " ".join(block.locator(".strip figcaption").inner_text().split())  # as the key says it
        assert caption.endswith("or unreadable, or not analysed (the server's model failed)."), caption
        done = " ".join(page.locator("#page-status").inner_text().split())
        assert done.startswith("Done: 1 file, 6 slices: "), done
        assert done.endswith(" classified, 1 not analysed: the server's model failed; tell its operator (see "
                             "below)."), done
        assert "unreadable" not in block.locator(".series-line").inner_text() + done
    finally:
        context.close()


@pytest.mark.parametrize("js", [True, False])
def test_a_scan_the_model_failed_on_nowhere_does_not_speak_of_it_in_its_strip(server, chromium, stack, js):
    """Its strip's key and caption speak of unreadable slices, not of ones the model failed on (there are none)."""
    files = [{"name": "scan.nii.gz", "mimeType": "application/gzip", "buffer": nifti_bytes(axial_volume(stack))}]
    context, page = sent_page(chromium, server, files, js)
    try:
        block = page.locator("#results .series")
        assert block.locator(".strip-legend [data-class=failed]").inner_text() == "Unreadable"
        caption = " ".join(block.locator(".strip figcaption").inner_text().split())
        assert caption.endswith("(unlike brain MRI, or turned) or unreadable."), caption
    finally:
        context.close()


@pytest.mark.parametrize("js", [True, False])
def test_an_upload_the_model_failed_on_alone_keeps_its_card(server, chromium, nan_for, test_images, js):  # noqa: F811
    """Nothing answered and the model at fault (the 503): the card says the server's sentence and the Done line "not
    analysed", with JavaScript (the 503's results) as without (the page showed the sentence alone, no card)."""
    bad = test_images["meningioma"][0]
    nan_for(bad)
    context, page = sent_page(chromium, server, [{"name": "b.jpg", "mimeType": "image/jpeg",
                                                  "buffer": bad.read_bytes()}], js)
    try:
        done = " ".join(page.locator("#page-status").inner_text().split())
        assert done == ("Done: 0 classified, 1 not analysed: the server's model failed; tell its operator (see "
                        "below)."), done
        assert "The server's model gave scores that are not finite" in page.locator("#results").inner_text()
    finally:
        context.close()
