"""The page's "Done:" line counts slices as ``braintumor predict``'s last line does: a NIfTI volume or a DICOM series
gives many, and the line counted files ("Done: 3 classified" where the CLI said "27 scored: 25 classified, ...").
Skipped, never failed, when chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from cli_runner import run_predict
from dicom_factory import axial_volume, nifti_bytes, series, zip_bytes
from PIL import Image
from test_browser import ARGS, CHROMIUM, pytestmark, sent_page, serve_in_thread  # noqa: F401  (same skip rules)
from test_model_scores_per_file import nan_for  # noqa: F401  (a fixture: the model's scores NaN for an image)

from braintumor.image_io import read_image
from braintumor.model_files import default_model_path
from braintumor.predictor import Classifier
from braintumor.web import create_app

sync_api = pytest.importorskip("playwright.sync_api")

CLI_LINE = re.compile(r"(?P<scored>\d+) scored: (?P<classified>\d+) classified, (?P<review>\d+) of them with lower "
                      r"confidence \(under [^)]*\), (?P<unlike>\d+) not classified \(unlike brain MRI\)"
                      r"(?:, (?P<turned>\d+) not classified \((?P<turn_words>[^)]*)\))?"
                      r", (?P<unreadable>\d+) unreadable")


@pytest.fixture(scope="module")
def model(request):
    shipped = default_model_path()
    return shipped if shipped.is_file() else request.getfixturevalue("tiny_model")


@pytest.fixture(scope="module")
def served(model):
    with serve_in_thread(create_app(classifier=Classifier.load(model, threads=1))) as base:
        yield base


def test_the_done_line_says_files_and_slices_counted_as_the_cli_counts_them(served, model, chromium, test_images,
                                                                           tmp_path, capsys):
    paths = [p for c in ("glioma", "meningioma", "notumor", "pituitary") for p in test_images[c][:2]]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((256, 256)), dtype=np.uint8) for p in paths]
    blank = np.zeros((256, 256), np.uint8)  # a slice with nothing in it: not classified, whatever the model
    (tmp_path / "head.nii.gz").write_bytes(nifti_bytes(axial_volume([blank, *stack])))
    (tmp_path / "series.zip").write_bytes(zip_bytes(series(stack[:5])))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"cut short" * 10)
    files = [tmp_path / "head.nii.gz", tmp_path / "series.zip", test_images["glioma"][2], tmp_path / "broken.png"]
    _, _, err = run_predict([*files, "--model", model, "-o", tmp_path / "out.jsonl"], capsys)
    said = CLI_LINE.search(err)
    assert said, "the CLI's last line"
    n = {k: int(v) for k, v in said.groupdict().items() if v and v.isdigit()}
    assert n["unreadable"] >= 1 and n["unlike"] + n.get("turned", 0) >= 1  # broken.png; the blank slice
    expected = (f"Done: 4 files, {n['scored'] - 1} slices: {n['classified']} classified" +
                (f", {n['review']} of them with lower confidence" if n["review"] else "") +
                (f", {n['unlike']} not classified (unlike brain MRI)" if n["unlike"] else "") +
                (f", {n['turned']} not classified ({said['turn_words']})" if n.get("turned") else "") +
                (f", {n['unreadable'] - 1} unreadable" if n["unreadable"] > 1 else "") +
                "; 1 file unreadable (see below).")  # broken.png: a file, no slice of it read
    page = chromium.new_page()
    page.goto(served)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [str(f) for f in files])
    sync_api.expect(page.locator("#page-status")).to_have_text(expected, timeout=60_000)
    page.close()


def test_one_answer_per_file_is_counted_as_before(served, chromium, test_images):
    """Images alone give a record each: the line counts them, no "files, slices" in front."""
    page = chromium.new_page()
    page.goto(served)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [{"name": "scan.jpg", "mimeType": "image/jpeg",
                                          "buffer": test_images["glioma"][0].read_bytes()},
                                         {"name": "notes.png", "mimeType": "image/png", "buffer": b"not an image"}])
    sync_api.expect(page.locator("#page-status")).to_have_text(re.compile(r"^Done: [01] classified.*, 1 unreadable "
                                                                          r"\(see below\)\.$"), timeout=30_000)
    page.close()


def test_a_file_the_server_did_not_analyse_is_counted_as_a_file_beside_a_scans_slices(served, chromium, tmp_path):
    blank = np.zeros((128, 128), np.uint8)  # slices with nothing in them: not classified, whatever the model
    volume = nifti_bytes(axial_volume([blank, blank, blank]))
    page = chromium.new_page()
    page.goto(served)
    sync_api.expect(page.locator("html")).to_have_class("js")

    def answer(route):  # the image's request meets a server that is down; the scan's goes through
        if b"scan.jpg" in (route.request.post_data_buffer or b""):
            route.fulfill(status=503, content_type="text/html", body="<h1>Service Unavailable</h1>")
        else:
            route.continue_()

    page.route("**/api/v1/predict*", answer)
    page.set_input_files("#file-input", [{"name": "head.nii.gz", "mimeType": "application/gzip", "buffer": volume},
                                         {"name": "scan.jpg", "mimeType": "image/jpeg", "buffer": b"\xff\xd8\xff"}])
    sync_api.expect(page.locator("#page-status")).to_have_text(
        "Done: 2 files, 3 slices: 0 classified, 3 not classified (unlike brain MRI); 1 file not analysed: the server "
        "is unavailable for now (see below).", timeout=30_000)
    page.locator("#page-status").get_by_role("button", name="1 file not analysed").click()  # goes to its card
    assert page.evaluate("document.activeElement.textContent") == "scan.jpg"
    page.close()


def test_the_done_line_is_the_same_with_and_without_javascript(served, chromium, test_images, tmp_path):
    """Without JavaScript the results said no Done line at all."""
    paths = [p for c in ("glioma", "notumor", "pituitary") for p in test_images[c][:2]]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((192, 192)), dtype=np.uint8) for p in paths]
    (tmp_path / "head.nii.gz").write_bytes(nifti_bytes(axial_volume([np.zeros((192, 192), np.uint8), *stack])))
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"cut short" * 10)
    files = [str(tmp_path / "head.nii.gz"), str(test_images["meningioma"][0]), str(tmp_path / "broken.png")]
    said = []
    for js in (True, False):
        context, page = sent_page(chromium, served, files, js)
        said.append(page.locator("#page-status").inner_text())
        context.close()
    assert said[0].startswith("Done: 3 files, 8 slices: ") and said[0].endswith("; 1 file unreadable (see below).")
    assert said[1] == said[0]


def test_a_zip_of_several_scans_is_counted_as_one_file_that_held_them(served, chromium, tmp_path):
    """A zip of three volumes (or DICOM series) was "Done: 1 file, 6 slices", as if it were one scan, with and without
    JavaScript: the line says the scans the file held, "1 file (3 scans)"."""
    blank = np.zeros((96, 96), np.uint8)  # slices with nothing in them: not classified, whatever the model
    volume = nifti_bytes(axial_volume([blank, blank]))
    (tmp_path / "three.zip").write_bytes(zip_bytes([(f"{k}.nii.gz", volume) for k in "abc"]))
    (tmp_path / "head.nii.gz").write_bytes(volume)
    for files, said in (([tmp_path / "three.zip"], "1 file (3 scans), 6 slices"),
                        ([tmp_path / "three.zip", tmp_path / "head.nii.gz"], "2 files (4 scans), 8 slices"),
                        ([tmp_path / "head.nii.gz"], "1 file, 2 slices")):  # one scan: no "(1 scan)"
        for js in (True, False):
            context, page = sent_page(chromium, served, [str(f) for f in files], js)
            sync_api.expect(page.locator("#page-status")).to_have_text(
                f"Done: {said}: 0 classified, {said.split(', ')[1].split()[0]} not classified (unlike brain MRI) "
                "(see below).")
            context.close()


def test_the_done_line_counts_a_note_by_its_kind_not_its_presence(served, chromium):
    """The line counted any answer with a ``note`` as one that looks skull-stripped: it counts those whose
    ``note_kind`` says so (wording.NOTE_KINDS), as the CLI counts them, and another caution is shown but not counted."""
    import json

    from braintumor.wording import NOTE_KINDS, STRIPPED_NOTE

    page = chromium.new_page()
    page.goto(served)
    sync_api.expect(page.locator("html")).to_have_class("js")
    notes = {"stripped.png": {"note": STRIPPED_NOTE, "note_kind": NOTE_KINDS[STRIPPED_NOTE]},
             "other.png": {"note": "another caution", "note_kind": "other"}, "plain.png": {}}

    def answer(route):  # a server that makes two kinds of note
        name = next(n for n in notes if n.encode() in (route.request.post_data_buffer or b""))
        rec = {"path": name, "label": "glioma", "confidence": 0.995, "ood": False, "ood_score": 1.0, "review": False,
               "probabilities": {"glioma": 0.995, "meningioma": 0.003, "notumor": 0.001, "pituitary": 0.001},
               **notes[name]}
        route.fulfill(status=200, content_type="application/json", body=json.dumps({"results": [rec]}))

    page.route("**/api/v1/predict*", answer)
    page.set_input_files("#file-input", [{"name": n, "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n"}
                                         for n in notes])
    sync_api.expect(page.locator("#page-status")).to_have_text(
        "Done: 3 classified, 1 looks skull-stripped (confidence no guide) (see below).", timeout=30_000)
    sync_api.expect(page.locator(".card-note:visible")).to_have_count(2)  # each note shown on its card
    page.close()


def test_the_done_lines_count_of_unreadable_files_goes_to_the_first_by_keyboard(served, chromium, test_images):
    """With many cards and one unreadable, the Done line said "(see below)" and left it to be found by scrolling: its
    count is a button that moves the focus to that card's heading (tabindex -1), which a screen reader says. At 375 px,
    the phone width, it wraps with the line."""
    page = chromium.new_page(viewport={"width": 375, "height": 700})
    page.goto(served)
    sync_api.expect(page.locator("html")).to_have_class("js")
    files = [{"name": f"scan{k}.jpg", "mimeType": "image/jpeg", "buffer": p.read_bytes()}
             for k, p in enumerate(test_images["glioma"][:4])]
    files.insert(3, {"name": "broken.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"cut" * 10})
    page.set_input_files("#file-input", files)
    status = page.locator("#page-status")
    sync_api.expect(status).to_have_text(re.compile(r"^Done: \d classified.*, 1 unreadable \(see below\)\.$"),
                                          timeout=60_000)
    button = status.get_by_role("button", name="1 unreadable")
    sync_api.expect(button).to_have_count(1)
    assert page.evaluate("document.documentElement.scrollWidth <= innerWidth")
    button.focus()
    page.keyboard.press("Enter")
    focused = page.evaluate("[document.activeElement.className, document.activeElement.textContent, "
                            "document.activeElement.tabIndex]")
    assert focused == ["card-name", "broken.png", -1]
    assert page.locator("#results .card").nth(3).locator(".card-name").evaluate("e => e === document.activeElement")
    page.close()


def test_without_javascript_the_done_lines_count_of_unreadable_files_links_to_the_first(served, chromium, test_images):
    """Without JavaScript the Done line was plain text, its "(see below)" leaving the unreadable card to be found by
    scrolling: its count is a link to that card's heading (an id on each card's), which takes the focus as the
    button's does with JavaScript. The line's words stay the same."""
    files = [{"name": f"scan{k}.jpg", "mimeType": "image/jpeg", "buffer": p.read_bytes()}
             for k, p in enumerate(test_images["glioma"][:2])]
    files.insert(1, {"name": "broken.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n" + b"cut" * 10})
    context, page = sent_page(chromium, served, files, js=False)
    status = page.locator("#page-status")
    sync_api.expect(status).to_have_text(re.compile(r"^Done: \d classified.*, 1 unreadable \(see below\)\.$"))
    link = status.get_by_role("link", name="1 unreadable")
    sync_api.expect(link).to_have_count(1)
    target = link.get_attribute("href")
    assert re.fullmatch(r"#card-\d+", target), target
    heading = page.locator(target)
    sync_api.expect(heading).to_have_count(1)
    assert heading.evaluate("h => [h.className, h.textContent, h.closest('.card').dataset.state]") == [
        "card-name", "broken.png", "error"]
    ids = page.locator("#results [id]").evaluate_all("all => all.map(e => e.id)")
    assert len(ids) == len(set(ids)) == 3, ids  # one per card, none twice
    link.focus()
    page.keyboard.press("Enter")
    sync_api.expect(heading).to_be_focused()
    context.close()


def test_the_servers_own_503_of_a_failed_model_is_not_said_to_pass(served, chromium, test_images):
    """The app's one 503 (web/model_failures.py: its model gives scores that are not finite) said "the server is
    unavailable for now" on the Done line, as a restarting proxy's does: the user waited and tried again, which no wait
    mends. The card says the server's own sentence; a proxy's 503 page is still "unavailable for now" (above)."""
    from braintumor.web.model_failures import MODEL_FAILED

    page = chromium.new_page()
    page.goto(served)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.route("**/api/v1/predict*", lambda route: route.fulfill(status=503, content_type="application/json",
                                                                 body=json.dumps({"error": MODEL_FAILED})))
    page.set_input_files("#file-input", [{"name": "scan.jpg", "mimeType": "image/jpeg",
                                          "buffer": test_images["glioma"][0].read_bytes()}])
    sync_api.expect(page.locator("#page-status")).to_have_text(
        "Done: 0 classified, 1 not analysed: the server's model failed; tell its operator (see below).",
        timeout=30_000)
    page.close()


def test_a_slice_the_servers_model_failed_on_is_not_analysed_with_and_without_javascript(
        served, chromium, nan_for, stack, tmp_path):  # noqa: F811
    """A scan's slice whose scores the server's model gave not finite is answered in a 200 beside the others: the
    page's script counted it "unreadable" (the upload's fault), where the page without JavaScript says "not
    analysed" (done_line.py)."""
    from braintumor.volume_io import read_volumes

    data = nifti_bytes(axial_volume(stack))
    (volume,) = read_volumes(data, name="head.nii.gz")
    nan_for(volume.slices[2])
    (tmp_path / "head.nii.gz").write_bytes(data)
    said = []
    for js in (True, False):
        context, page = sent_page(chromium, served, [str(tmp_path / "head.nii.gz")], js)
        said.append(page.locator("#page-status").inner_text())
        context.close()
    assert said[1].startswith("Done: 1 file, 6 slices: 5 classified"), said
    assert said[1].endswith(", 1 not analysed: the server's model failed; tell its operator (see below)."), said
    assert said[0] == said[1]



def test_the_unreadable_button_skips_the_scan_the_servers_model_failed_on(
        served, chromium, nan_for, stack, tmp_path):  # noqa: F811
    """With JavaScript, a zip's "1 file unreadable" button moved to the first block with an error, that of a scan
    the server's model failed on (counted apart, "not analysed"), where the page without JavaScript's link goes to the
    unreadable file's (done_line.py)."""
    from braintumor.volume_io import read_volumes

    failed = nifti_bytes(axial_volume(stack[:3]))
    for one in read_volumes(failed, name="b.nii.gz")[0].slices:
        nan_for(one)
    (tmp_path / "three.zip").write_bytes(zip_bytes([("b.nii.gz", failed), ("c.nii.gz", b"junk" * 100),
                                                    ("a.nii.gz", nifti_bytes(axial_volume(stack[3:])))]))
    context, page = sent_page(chromium, served, [str(tmp_path / "three.zip")], True)
    said = page.locator("#page-status").inner_text()
    page.locator("#page-status button.status-link", has_text="unreadable").click()
    focused = page.evaluate("document.activeElement.textContent")
    context.close()
    assert "not analysed: the server's model failed" in said and "unreadable" in said, said
    assert "c.nii.gz" in focused and "b.nii.gz" not in focused, (focused, said)
