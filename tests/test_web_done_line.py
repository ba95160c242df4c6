"""The results page without JavaScript says what its answers add up to, as the page's script does after its uploads
and counted as ``braintumor predict``'s last line counts them: it said nothing, whatever its cards and scans held."""

from __future__ import annotations

import io
import re
from html import unescape

import numpy as np
import pytest
from conftest import encode
from dicom_factory import axial_volume, nifti_bytes

from braintumor.model_files import default_model_path
from braintumor.predictor import Classifier
from braintumor.web import create_app

BROKEN = b"\x89PNG\r\n\x1a\n" + b"cut short" * 10
# colour noise and empty slices: not classified, whatever the model
PHOTO = encode(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8))
BLANK_VOLUME = nifti_bytes(axial_volume([np.zeros((128, 128), np.uint8)] * 3))


@pytest.fixture(scope="module")
def client(request):
    shipped = default_model_path()
    model = shipped if shipped.is_file() else request.getfixturevalue("tiny_model")
    return create_app(classifier=Classifier.load(model, threads=1)).test_client()


def done_line(client, files: list[tuple[str, bytes]]) -> str:
    html = client.post("/", data={"file": [(io.BytesIO(data), name) for name, data in files]},
                       content_type="multipart/form-data").get_data(as_text=True)
    return " ".join(unescape(re.search(r'<p id="page-status"[^>]*>(.*?)</p>', html, flags=re.S)[1]).split())


def test_a_scans_slices_and_an_unreadable_file_are_counted_apart(client):
    assert done_line(client, [("head.nii.gz", BLANK_VOLUME), ("broken.png", BROKEN)]) == (
        "Done: 2 files, 3 slices: 0 classified, 3 not classified (unlike brain MRI); 1 file unreadable (see below).")


def test_one_answer_per_file_is_counted_without_files_and_slices(client):
    assert done_line(client, [("photo.png", PHOTO), ("broken.png", BROKEN)]) == (
        "Done: 0 classified, 1 not classified (unlike brain MRI), 1 unreadable (see below).")


def test_the_empty_page_and_a_refused_form_say_no_done_line(client):
    assert done_line(client, []) == "No file chosen: choose one or more images or scans, then Classify."
    assert re.search(r'<p id="page-status"[^>]*>\s*</p>', client.get("/").get_data(as_text=True))
