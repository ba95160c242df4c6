"""The page's words for an outcome, in a real browser (headless chromium via Playwright, the shipped model; one server
and one browser for the module, as tests/conftest.py gives them), as the CLI says them. Skipped, never failed, when
chromium, playwright or the dataset is absent (like tests/test_browser.py)."""

from __future__ import annotations

import pytest
from test_browser import open_page, pytestmark, sent_page  # noqa: F401 - pytestmark: the same skip conditions

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def test_the_done_line_counts_the_answers_with_lower_confidence_as_the_cli_does(server, chromium, data_root):
    """"Done: 2 classified (see below).": a batch's one line said nothing of the answers under 99 %, which the CLI's
    last line counts ("2 classified, 1 of them with lower confidence (under 99.0%)"); with 32 files, the flag was down
    the page. Not "flagged for review" (until 2026-12-06): every answer is for a clinician to interpret."""
    flagged = data_root / "Testing" / "glioma" / "Te-gl_0081.jpg"  # the shipped model: pituitary, 88.3 %
    sure = data_root / "Testing" / "pituitary" / "Te-pi_0010.jpg"  # pituitary, > 99.9 %
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [str(flagged), str(sure)])
    sync_api.expect(page.locator("#page-status")).to_have_text(
        "Done: 2 classified, 1 of them with lower confidence (see below).", timeout=30_000)
    sync_api.expect(page.locator(".card-review:visible")).to_have_count(1)
    assert problems == []
    page.close()


def test_the_analysing_line_says_images_and_scans_as_what_they_are(server, chromium, test_images, tmp_path):
    """"Analysing 4 images…" was said of an image, a DICOM zip, a NIfTI volume and a DICOM named IM0001: every file
    given was "an image". The line says what was given in the words of the page's hint ("images or scans"), a file
    of no telling name a file. A zip, or a dropped folder's DICOM files (one request), is said as that: it may hold
    several series, which the server answers each as a scan (a study's T1 and FLAIR were "1 scan")."""
    from test_browser_errors import os_drop

    given = [test_images["glioma"][0]]
    for name in ("study.zip", "head.nii.gz", "IM0001"):
        given.append(tmp_path / name)
        given[-1].write_bytes(b"held: never read")
    folder = tmp_path / "series"
    folder.mkdir()
    for k in range(2):
        (folder / f"slice{k}.dcm").write_bytes(b"held: never read")
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.route("**/api/v1/predict*", lambda route: route.abort("connectionrefused"))
    status = page.locator("#page-status")
    page.evaluate("""() => { const set = Object.getOwnPropertyDescriptor(Node.prototype, "textContent").set;
        window.said = []; const el = document.getElementById("page-status");
        Object.defineProperty(el, "textContent", { set(v) { window.said.push(v); set.call(this, v); } }); }""")
    page.set_input_files("#file-input", [str(p) for p in given])
    sync_api.expect(status).to_contain_text("Done:", timeout=20_000)
    os_drop(page, [str(folder), str(test_images["glioma"][1])])
    sync_api.expect(status).to_contain_text("Done:", timeout=20_000)
    sync_api.expect(page.locator("#results > .card")).to_have_count(6)
    said = [s for s in page.evaluate("window.said") if s.startswith("Analysing")]
    assert said == ["Analysing 1 image, 1 scan, 1 zip and 1 other file…",
                    "Analysing 1 image and 1 folder of DICOM files…"]
    assert [p for p in problems if "ERR_CONNECTION_REFUSED" not in p and "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def test_a_zip_of_two_series_is_not_said_to_be_one_scan(server, chromium, test_images):
    """A zip of a study's T1 and FLAIR was "Analysing 1 scan…", and the server answers two scans (a block each): the
    line says what was given, a zip, and the answer counts the scans."""
    import numpy as np
    from dicom_factory import series, zip_bytes
    from PIL import Image

    from braintumor.image_io import read_image

    paths = [test_images[c][0] for c in ("notumor", "glioma")]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((128, 128)), dtype=np.uint8) for p in paths]
    study = zip_bytes([(f"{folder}/{name}", data) for folder in ("t1", "flair") for name, data in series(stack)])
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.evaluate("""() => { const set = Object.getOwnPropertyDescriptor(Node.prototype, "textContent").set;
        window.said = []; const el = document.getElementById("page-status");
        Object.defineProperty(el, "textContent", { set(v) { window.said.push(v); set.call(this, v); } }); }""")
    page.set_input_files("#file-input", [{"name": "study.zip", "mimeType": "application/zip", "buffer": study}])
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done:", timeout=60_000)
    sync_api.expect(page.locator("#results .series")).to_have_count(2)
    assert [s for s in page.evaluate("window.said") if s.startswith("Analysing")] == ["Analysing 1 zip…"]
    assert problems == []
    page.close()


def test_a_screenshot_refused_for_its_features_is_told_on_its_card_to_crop_it(server, chromium, test_images, tmp_path):
    """A viewer's screenshot was "Not classified: ... its features are far from every training slice", with nothing to
    do; its card says what to try, as the CLI and the API do, and nothing it cannot know."""
    from PIL import Image
    from test_screenshot_hint import viewer_screenshot

    from braintumor.image_io import read_image
    from braintumor.ood import CROP_HINT, FAR_FEATURES
    from braintumor.prediction import refusal_reason

    Image.fromarray(viewer_screenshot(read_image(test_images["glioma"][0]))).save(tmp_path / "viewer.png")
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [str(tmp_path / "viewer.png")])
    card = page.locator("#results > .card")
    sync_api.expect(card).to_have_attribute("data-state", "ood", timeout=30_000)
    assert card.locator(".card-status-text").inner_text() == (
        f"Not classified: {refusal_reason(f'{FAR_FEATURES}; {CROP_HINT}')}")
    assert card.locator(".card-ood-note").is_visible()
    assert problems == []
    page.close()


def test_the_done_line_and_a_scans_line_count_the_answers_that_look_stripped(server, chromium, data_root, tmp_path):
    """Each card and a scan's line carried the note, the page's "Done:" line said nothing of it; it counts them as the
    CLI's last line does (stripped.count_text, through text.js, as series.js's line), with and without JavaScript."""
    import numpy as np
    from dicom_factory import axial_volume, nifti_bytes
    from PIL import Image
    from test_browser_refused_notes import _said
    from test_stripped import STRIPPED_EXAMPLES, _strip

    from braintumor.model_files import default_model_path
    from braintumor.wording import STRIPPED_NOTE

    if not default_model_path().is_file():
        pytest.skip("the note needs the shipped model's 160 px crops (the tiny model's 64 px make none)")
    bare = _strip(data_root / "Training" / STRIPPED_EXAMPLES[1])[1]
    Image.fromarray(bare).save(tmp_path / "bare.png")
    (tmp_path / "bare.nii.gz").write_bytes(nifti_bytes(axial_volume([np.asarray(bare)] * 2)))
    files = [str(tmp_path / "bare.png"), str(tmp_path / "bare.nii.gz"),
             str(data_root / "Testing" / "pituitary" / "Te-pi_0010.jpg")]  # > 99.9 %, a whole head
    said, card_said = [], []
    for js in (True, False):
        context, page = sent_page(chromium, server, files, js)
        said.append(" ".join(page.locator("#page-status").inner_text().split()))
        line = " ".join(page.locator(".series-line").inner_text().split())
        assert line.endswith(" · 2 look skull-stripped (confidence no guide)"), line
        # the card's live region, as a screen reader has it (the accessibility tree), says the note with the answer
        card = page.locator("#results > .card", has=page.locator(".card-name", has_text="bare.png"))
        card_said.append(_said(card.locator(".card-status")))
        context.close()
    assert said[0].startswith("Done: 3 files, 4 slices: 4 classified, ")
    assert said[0].endswith(", 3 look skull-stripped (confidence no guide) (see below)."), said[0]
    assert said[1] == said[0]
    assert card_said[0].startswith("bare.png: ") and card_said[0].endswith(f", {STRIPPED_NOTE}"), card_said[0]
    assert card_said[1] == card_said[0]  # without JavaScript too


def test_an_unreadable_files_card_says_its_message_as_a_sentence_the_json_as_a_clause(server, chromium, tmp_path):
    """Under the file's name, an unreadable file's card read "not a recognised image or scan: ...", in lower case
    unlike every other line of the card: the page capitalises it where it stands alone, with and without JavaScript
    (pages.sentence, text.js), and the API's JSON (and the CSV, the CLI) keep the message as it is. A message that
    starts with a name (a zip's member) keeps it."""
    from braintumor.wording import NOT_AN_INPUT

    (tmp_path / "notes.png").write_bytes(b"not an image")
    shown = []
    for js in (True, False):
        context, page = sent_page(chromium, server, [str(tmp_path / "notes.png")], js)
        card = page.locator("#results > .card")
        sync_api.expect(card).to_have_attribute("data-state", "error")
        shown.append(card.locator(".card-status-text").inner_text())
        context.close()
    assert shown == [NOT_AN_INPUT[0].upper() + NOT_AN_INPUT[1:]] * 2
    page, _ = open_page(chromium, server, 1024, 800)
    answer = page.request.post(f"{server}/api/v1/predict", multipart={"file": {
        "name": "notes.png", "mimeType": "image/png", "buffer": b"not an image"}})
    assert answer.json()["results"][0]["error"] == NOT_AN_INPUT  # the JSON's clause, as it was
    assert page.evaluate("window.braintumorText.sentence('bad.zip:x.nii: not a NIfTI')") == "bad.zip:x.nii: not a NIfTI"
    page.close()


def test_the_page_keeps_a_members_name_at_a_messages_start_as_the_server_does(server, chromium):
    """text.js's sentence mirrors pages.sentence: a zip member's name ("scan 1.nii: not a NIfTI ...") is not
    capitalised as if it were the message's first word."""
    from test_web_pages import NAMED_MESSAGES, SENTENCES

    from braintumor.web.pages import sentence

    page, _ = open_page(chromium, server, 1024, 800)
    for message in NAMED_MESSAGES:
        assert page.evaluate("m => window.braintumorText.sentence(m)", message) == message == sentence(message)
    for message in [*SENTENCES, "not a recognised image or scan: x"]:
        said = message[0].upper() + message[1:]
        assert page.evaluate("m => window.braintumorText.sentence(m)", message) == sentence(message) == said, message
    page.close()
