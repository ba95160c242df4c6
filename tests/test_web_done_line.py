"""The results page without JavaScript says what its answers add up to, as the page's script does after its uploads
and counted as ``braintumor predict``'s last line counts them: it said nothing, whatever its cards and scans held."""

from __future__ import annotations

import io
import re
from html import unescape

import numpy as np
import pytest
from conftest import encode
from dicom_factory import axial_volume, flat_slice, nifti_bytes, series, zip_bytes

from braintumor.model_files import default_model_path
from braintumor.predictor import Classifier
from braintumor.web import create_app
from braintumor.web.done_line import card_id, done_text, next_links
from braintumor.web.volumes import Entry

BROKEN = b"\x89PNG\r\n\x1a\n" + b"cut short" * 10
# colour noise and empty slices: not classified, whatever the model
PHOTO = encode(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8))
BLANK_VOLUME = nifti_bytes(axial_volume([np.zeros((128, 128), np.uint8)] * 3))


@pytest.fixture(scope="module")
def client(request):
    shipped = default_model_path()
    model = shipped if shipped.is_file() else request.getfixturevalue("tiny_model")
    return create_app(classifier=Classifier.load(model, threads=1)).test_client()


def posted(client, files: list[tuple[str, bytes]]) -> str:
    return client.post("/", data={"file": [(io.BytesIO(data), name) for name, data in files]},
                       content_type="multipart/form-data").get_data(as_text=True)


def done_line(client, files: list[tuple[str, bytes]]) -> str:
    """The line's words, as shown: its link's markup left out."""
    said = re.search(r'<p id="page-status"[^>]*>(.*?)</p>', posted(client, files), flags=re.S)[1]
    return " ".join(unescape(re.sub(r"<[^>]*>", "", said)).split())


def test_a_scans_slices_and_an_unreadable_file_are_counted_apart(client):
    assert done_line(client, [("head.nii.gz", BLANK_VOLUME), ("broken.png", BROKEN)]) == (
        "Done: 2 files, 3 slices: 0 classified, 3 not classified (unlike brain MRI); 1 file unreadable (see below).")


def test_a_zip_of_several_scans_says_the_scans_the_file_held(client):
    """A zip of three scans was "1 file, 6 slices", as if it were one; a zip's one-image series are scans too."""
    three = zip_bytes([(f"{k}.nii.gz", nifti_bytes(axial_volume([np.zeros((64, 64), np.uint8)] * 2))) for k in "abc"])
    assert done_line(client, [("three.zip", three), ("photo.png", PHOTO)]) == (
        "Done: 2 files (3 scans), 7 slices: 0 classified, 7 not classified (unlike brain MRI) (see below).")
    ones = zip_bytes([(f"s{j}/{name}", data) for j in range(3) for name, data in series([flat_slice(j)])])
    assert done_line(client, [("ones.zip", ones)]).startswith("Done: 1 file (3 scans), 3 slices: ")


def test_one_answer_per_file_is_counted_without_files_and_slices(client):
    assert done_line(client, [("photo.png", PHOTO), ("broken.png", BROKEN)]) == (
        "Done: 0 classified, 1 not classified (unlike brain MRI), 1 unreadable (see below).")


@pytest.mark.parametrize("first", [("head.nii.gz", BLANK_VOLUME), ("photo.png", PHOTO)], ids=["scan", "image"])
def test_the_count_of_unreadable_files_links_to_the_first_such_cards_heading(client, first):
    """Without JavaScript the count was plain text (with it, a button to the card): a link to the card's heading, of
    files unreadable beside a scan's slices ("1 file unreadable") or of one answer each ("1 unreadable")."""
    html = posted(client, [first, ("broken.png", BROKEN), ("broken2.png", BROKEN)])
    said = re.search(r'<p id="page-status"[^>]*>(.*?)</p>', html, flags=re.S)[1]
    words = "2 files unreadable" if first[0] == "head.nii.gz" else "2 unreadable"
    assert re.search(rf'<a class="status-link" href="#card-2">{words}</a> \(see below\)\.$', said.strip()), said
    assert re.search(r'<h2 class="card-name" id="card-2" tabindex="-1">broken\.png</h2>', html)
    assert len(re.findall(r' id="card-\d+"', html)) == 3  # one per file's card or scan, none twice


def test_the_empty_page_and_a_refused_form_say_no_done_line(client):
    assert done_line(client, []) == "No file chosen: choose one or more images or scans, then Classify."
    assert re.search(r'<p id="page-status"[^>]*>\s*</p>', client.get("/").get_data(as_text=True))


def test_without_javascript_the_count_of_lower_confidence_links_to_the_first_such_card():
    """The no-JavaScript Done line's count of lower confidence was plain text too: a link to the first such card's
    (or scan's) heading, as its count of unreadable files is."""
    def rec(name: str, review: bool) -> dict:
        return {"path": name, "label": "glioma", "confidence": 0.9, "ood": False, "review": review}

    entries = [Entry([rec("a.png", False)], upload=0), Entry([rec("low.png", True)], upload=1),
               Entry([{"path": "broken.png", "error": "not an image"}], upload=2)]
    assert str(done_text(entries, 3)) == (
        f'Done: 2 classified, <a class="status-link" href="#{card_id(1)}">1 of them with lower confidence</a>, '
        f'<a class="status-link" href="#{card_id(2)}">1 unreadable</a> (see below).')


def test_each_unreadable_card_but_the_last_links_to_the_next(client):
    """The Done line's link goes to the first unreadable card alone: each links to the next, under its heading."""
    html = posted(client, [("broken.png", BROKEN), ("photo.png", PHOTO), ("broken2.png", BROKEN)])
    assert re.findall(r'<p class="next-link"><a href="#(card-\d+)">Next unreadable file</a></p>', html) == ["card-3"]
    assert html.index('id="card-1"') < html.index('class="next-link"') < html.index('id="card-2"')


def test_each_card_of_lower_confidence_but_the_last_links_to_the_next():
    def rec(name: str, review: bool) -> dict:
        return {"path": name, "label": "glioma", "confidence": 0.9, "ood": False, "review": review}

    entries = [Entry([rec(f"{k}.png", k != "b")], upload=i) for i, k in enumerate("abcd")]
    assert next_links(entries) == {0: [("Next answer of lower confidence", card_id(2))],
                                   2: [("Next answer of lower confidence", card_id(3))]}


def test_the_next_links_words_have_one_home_the_script_reads_them_from_the_form(client):
    """run-status.js wrote "Next unreadable file" and "Next answer of lower confidence" itself, a copy of
    done_line.NEXT_WORDS that could drift from the page without JavaScript: the form carries them, in next_links'
    order, and the script holds no copy."""
    import json
    from pathlib import Path

    from braintumor.web.done_line import NEXT_WORDS

    form = re.search(r"data-next-words='([^']*)'", client.get("/").get_data(as_text=True))
    assert form and json.loads(unescape(form[1])) == [list(pair) for pair in NEXT_WORDS.items()]
    script = (Path(create_app.__code__.co_filename).parent / "static" / "run-status.js").read_text()
    assert not any(words in script for words in NEXT_WORDS.values())
