"""A real browser (Debian's chromium, headless, driven by Playwright) uses the page like a person:
uploads a real MRI, reads the class and the bars, works the heat-map controls from the keyboard,
and saves the screenshots the docs show. Skipped, never failed, when chromium or playwright is absent."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import pytest
from conftest import REPO
from flask import Flask
from live_regions import listen
from PIL import Image
from werkzeug.serving import make_server

from braintumor.model_files import default_model_path
from braintumor.prediction import probability_text
from braintumor.predictor import Classifier
from braintumor.web import create_app
from braintumor.wording import SEND_SMALLER

CHROMIUM = os.environ.get("BRAINTUMOR_CHROMIUM", "/usr/bin/chromium")
SHOTS = REPO / "docs" / "screenshots"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]
DISPLAY = {"Glioma", "Meningioma", "No tumour", "Pituitary tumour"}

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists() or shutil.which(CHROMIUM) is None,
                                reason=f"no chromium at {CHROMIUM} (apt-get install chromium)")


def shipped_or_tiny_app(request: pytest.FixtureRequest) -> Flask:
    """The app around the shipped model when there is one, else around the tiny test model."""
    shipped = default_model_path()
    model = shipped if shipped.is_file() else request.getfixturevalue("tiny_model")
    return create_app(classifier=Classifier.load(model, threads=1))


@contextmanager
def serve_in_thread(app: Flask) -> Iterator[str]:
    """``app`` on a free local port, in a thread, for a real browser; yields its base URL."""
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{srv.server_port}"
    finally:
        srv.shutdown()
        thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(playwright_driver, tmp_path_factory):
    """A chromium with a profile folder, from the run's one Playwright (conftest.playwright_driver)."""
    profile = tmp_path_factory.mktemp("chromium-profile")
    context = playwright_driver.chromium.launch_persistent_context(
        str(profile), executable_path=CHROMIUM, args=ARGS, headless=True, viewport={"width": 1280, "height": 900})
    try:
        yield context
    finally:
        context.close()


def open_page(browser, url: str, width: int, height: int):
    page = browser.new_page()
    page.set_viewport_size({"width": width, "height": height})
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("request", lambda r: problems.append(f"external request {r.url}")
            if not r.url.startswith((url, "data:")) else None)
    page.goto(url)
    return page, problems


def sent_page(chromium, server: str, files, js: bool, listen_on: str | None = None):
    """(context, page) of the upload page with ``files`` sent, with JavaScript (until its Done line) or through the
    plain form (its answer page loaded): the tests that check both ways start here. With ``listen_on`` (a selector),
    what those live regions say is recorded from before the upload (live_regions.announced reads it)."""
    context = chromium.new_context(java_script_enabled=js)
    page = context.new_page()
    page.goto(server)
    if js and listen_on:
        listen(page, listen_on)
    page.set_input_files("#file-input", files)
    if js:
        sync_api.expect(page.locator("#page-status")).to_contain_text("Done:", timeout=60_000)
    else:
        page.click("button[type=submit]")
        page.wait_for_load_state()
    return context, page


def screenshot(page, name: str) -> None:
    """The whole page in one viewport, so the sticky disclaimer sits at its bottom, not across a result. Saved over
    the docs' picture only with BRAINTUMOR_SCREENSHOTS=1: a test run leaves the checkout as it found it."""
    width = page.viewport_size["width"]
    page.set_viewport_size({"width": width, "height": page.evaluate("document.documentElement.scrollHeight")})
    if saving_screenshots():
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name))
    else:
        assert page.screenshot()  # rendered all the same


def saving_screenshots() -> bool:
    return os.environ.get("BRAINTUMOR_SCREENSHOTS") == "1"


def test_upload_a_real_mri_and_use_the_heat_map(server, browser, test_images):
    page, problems = open_page(browser, server, 1280, 900)
    sync_api.expect(page.locator("html")).to_have_class("js")
    assert "Not a medical device" in page.locator(".disclaimer").inner_text()
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    card = page.locator("#results .card").first
    sync_api.expect(card).to_have_attribute("data-state", "ok", timeout=20_000)
    assert card.locator(".card-name").inner_text() == test_images["glioma"][0].name
    assert card.locator(".verdict-label").inner_text() in DISPLAY
    assert card.locator(".verdict-confidence").inner_text().endswith("%")
    assert card.locator("meter.bar-meter").count() == 4 and card.locator(".bar-top").count() == 1
    values = [float(v) for v in card.locator("meter.bar-meter").evaluate_all("ms => ms.map(m => m.value)")]
    assert abs(sum(values) - 1.0) < 1e-3
    # what a screen reader gets: the file's name and its answer in the card's live region (it was emptied), each bar's
    # rounded text
    label, confidence = card.locator(".verdict-label").inner_text(), card.locator(".verdict-confidence").inner_text()
    assert card.locator("[role=status]").text_content().startswith(
        f"{test_images['glioma'][0].name}: {label}, {confidence} confidence")
    texts = card.locator("meter.bar-meter").evaluate_all("ms => ms.map(m => m.getAttribute('aria-valuetext'))")
    assert texts == card.locator(".bar-value").all_inner_texts()
    heat = card.locator(".view-heat")
    sync_api.expect(heat).to_be_visible()
    assert heat.evaluate("img => img.complete && img.naturalWidth > 0 && img.src.startsWith('data:image/png')")
    screenshot(page, "result-desktop.png")

    # Keyboard only: Tab to the heat-map checkbox, Space toggles it; arrows move the opacity slider.
    toggle, slider = card.locator(".heat-toggle"), card.locator(".heat-opacity")
    toggle.focus()
    page.keyboard.press("Space")
    sync_api.expect(heat).to_be_hidden()
    assert slider.is_disabled()
    page.keyboard.press("Space")
    sync_api.expect(heat).to_be_visible()
    slider.focus()
    for _ in range(8):
        page.keyboard.press("ArrowLeft")
    assert slider.input_value() == "60"
    assert heat.evaluate("img => getComputedStyle(img).opacity") == "0.6"
    assert problems == []
    page.close()


def test_bad_files_get_a_message_in_the_page_and_phone_width_screenshot(server, browser, test_images, tmp_path):
    page, problems = open_page(browser, server, 390, 844)
    fake = tmp_path / "notes.jpg"
    fake.write_text("not an image")
    photo = tmp_path / "photo.png"  # colour noise: refused before the network, whatever the model
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(photo)
    page.set_input_files("#file-input", [str(test_images["glioma"][0]), str(fake), str(photo)])
    cards = page.locator("#results .card")
    sync_api.expect(cards).to_have_count(3)
    sync_api.expect(cards.nth(0)).to_have_attribute("data-state", "ok", timeout=20_000)
    sync_api.expect(cards.nth(1)).to_have_attribute("data-state", "error", timeout=20_000)
    sync_api.expect(cards.nth(2)).to_have_attribute("data-state", "ood", timeout=20_000)
    assert cards.nth(1).locator(".card-status-text").inner_text().startswith("Not a recognised image")
    assert cards.nth(2).locator(".card-status-text").inner_text().startswith("Not classified: unlike the brain MRI")
    sync_api.expect(cards.nth(2).locator(".card-ood-note")).to_be_visible()  # what to do: read it without the model
    sync_api.expect(cards.nth(0).locator(".card-ood-note")).to_be_hidden()
    sync_api.expect(page.locator("#page-status")).to_have_text(  # a refusal was counted as classified
        "Done: 1 classified, 1 not classified (unlike brain MRI), 1 unreadable (see below).")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # nothing wider than the phone
    screenshot(page, "result-phone.png")
    # The console shows the 400 of the bad file as a failed resource; nothing else may appear.
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


def test_the_results_download_as_the_cli_csv(server, browser, test_images, tmp_path):
    """The page's CSV holds what `braintumor predict --format csv` writes for the same files, in upload order."""
    import csv
    import io

    from braintumor.csv_records import csv_columns, csv_row
    from braintumor.predict_cli import records

    page, problems = open_page(browser, server, 1280, 900)
    sync_api.expect(page.locator("html")).to_have_class("js")
    assert page.locator("#downloads").is_hidden()  # nothing to download yet
    fake = tmp_path / "notes, v2.jpg"  # a comma: the cell must be quoted
    fake.write_text("not an image")
    formula = tmp_path / "=HYPERLINK(1).jpg"  # a spreadsheet must not take the name for a formula
    formula.write_bytes(test_images["glioma"][1].read_bytes())
    photo = tmp_path / "photo.png"  # colour noise: refused, its class columns blank as its label
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (200, 200, 3), dtype=np.uint8)).save(photo)
    files = [test_images["glioma"][0], test_images["meningioma"][1], fake, formula, photo]
    page.set_input_files("#file-input", [str(f) for f in files])
    sync_api.expect(page.locator("#downloads")).to_be_visible(timeout=30_000)
    with page.expect_download() as info:
        page.click("#download-csv")
    assert info.value.suggested_filename == "braintumor-results.csv"
    got = list(csv.reader(io.StringIO(Path(info.value.path()).read_text())))
    clf = Classifier.load(default_model_path()) if default_model_path().is_file() else None
    if clf is None:
        pytest.skip("compared with the shipped model's CLI output")
    want = [csv_columns(clf.classes)] + [csv_row({**r, "path": Path(r["path"]).name}, clf.classes)
                                         for r in records(clf, [str(f) for f in files])]

    def cells(row):  # numbers as numbers: Python and JavaScript spell 1.7e-05 differently
        out = []
        for cell in row:
            try:
                out.append(float(cell))
            except ValueError:
                out.append(cell)
        return out

    assert [cells(r) for r in got] == [cells([str(c) for c in r]) for r in want]
    refused = dict(zip(got[0], got[-1], strict=True))
    assert refused["ood"] == "True" and [refused[c] for c in ("label", "confidence", *clf.classes)] == [""] * 6
    assert got[-2][0] == "'=HYPERLINK(1).jpg"
    assert problems == [] or all("status of 400" in p for p in problems)
    page.close()


DROP_AND_PASTE = """([b64, name]) => {
    const bytes = Uint8Array.from(atob(b64), c => c.charCodeAt(0));
    const transfer = () => { const dt = new DataTransfer(); dt.items.add(new File([bytes], name, {type: "image/jpeg"}));
                             return dt; };
    document.getElementById("dropzone").dispatchEvent(
        new DragEvent("drop", {dataTransfer: transfer(), bubbles: true, cancelable: true}));
    document.dispatchEvent(new ClipboardEvent("paste", {clipboardData: transfer(), bubbles: true, cancelable: true}));
}"""


def test_drag_and_drop_and_paste(server, browser, test_images):
    import base64

    page, problems = open_page(browser, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    data = base64.b64encode(test_images["pituitary"][0].read_bytes()).decode()
    page.evaluate(DROP_AND_PASTE, [data, "dropped.jpg"])
    cards = page.locator("#results .card")
    sync_api.expect(cards).to_have_count(2)
    for i, name in enumerate(("dropped.jpg (2)", "dropped.jpg")):  # newest first; a name given again, numbered
        sync_api.expect(cards.nth(i)).to_have_attribute("data-state", "ok", timeout=20_000)
        assert cards.nth(i).locator(".card-name").inner_text() == name
    assert problems == []
    page.close()


def test_the_page_works_without_javascript(server, browser, test_images):
    context = browser.browser.new_context(java_script_enabled=False) if browser.browser else None
    if context is None:  # a persistent context has no browser object to open another context from
        pytest.skip("no separate context available")
    page = context.new_page()
    page.goto(server)
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    page.click("button[type=submit]")
    card = page.locator("#results .card").first
    sync_api.expect(card).to_have_attribute("data-state", "ok")
    assert card.locator("meter.bar-meter").count() == 4
    heat = card.locator(".view-heat")
    sync_api.expect(heat).to_be_visible()
    card.locator(".heat-toggle").check()
    card.locator(".heat-toggle").uncheck()  # the CSS alone hides the overlay
    sync_api.expect(heat).to_be_hidden()
    context.close()


def test_a_low_confidence_answer_carries_a_review_note_and_a_sure_one_does_not(server, browser, data_root):
    page, problems = open_page(browser, server, 1280, 900)
    sync_api.expect(page.locator("html")).to_have_class("js")
    found: dict[bool, Path] = {}  # review flag -> a Testing image the server answers with it
    recs: dict[bool, dict] = {}
    for path in sorted((data_root / "Testing" / "meningioma").glob("*.jpg")):
        rec = page.request.post(f"{server}/api/v1/predict", multipart={
            "file": {"name": path.name, "mimeType": "image/jpeg", "buffer": path.read_bytes()}}).json()["results"][0]
        if not rec["ood"]:
            found.setdefault(rec["review"], path)
            recs.setdefault(rec["review"], rec)
        if len(found) == 2:
            break
    assert set(found) == {True, False}, "need one flagged and one sure answer among the meningioma test slices"
    page.set_input_files("#file-input", [str(found[True]), str(found[False])])
    cards = page.locator("#results .card")
    sync_api.expect(cards).to_have_count(2)
    for i, flagged in enumerate((True, False)):
        sync_api.expect(cards.nth(i)).to_have_attribute("data-state", "ok", timeout=20_000)
        note = cards.nth(i).locator(".card-review")
        if flagged:
            sync_api.expect(note).to_be_visible()
            assert "Lower confidence (under 99.0%): answers like this are wrong more often" in note.inner_text()
        else:
            sync_api.expect(note).to_be_hidden()
        # the page's script writes probabilities as prediction.probability_text does: never "100.0%" or "0.0%"
        rec = recs[flagged]
        assert cards.nth(i).locator(".verdict-confidence").inner_text() == probability_text(rec["confidence"])
        shown = cards.nth(i).locator(".bar-value").all_inner_texts()
        assert shown == [probability_text(p) for p in rec["probabilities"].values()]
    assert ">99.9%" in cards.nth(1).locator(".bar-value").all_inner_texts()  # the sure answer
    screenshot(page, "result-review.png")
    assert problems == []
    page.close()


def test_a_file_over_the_limit_is_refused_in_the_page_in_the_limits_own_words(browser, tiny_classifier, tmp_path):
    """The script said 'the limit is 0.049999237060546875 MB' (bytes / 1048576); the page says what serve was given."""
    with serve_in_thread(create_app(classifier=tiny_classifier, max_upload_mb=0.05)) as url:
        page, problems = open_page(browser, url, 1280, 900)
        big = tmp_path / "big.png"
        big.write_bytes(bytes(60_000))
        page.set_input_files("#file-input", [str(big)])
        card = page.locator("#results .card")
        sync_api.expect(card).to_have_attribute("data-state", "error", timeout=20_000)
        assert card.locator(".card-status-text").inner_text().endswith(  # and what to send instead
            f"File too large: the limit is 0.05 MiB: send {SEND_SMALLER}")
        assert "each up to 512 slices and 0.05 MiB;" in page.locator("#hint-limits").inner_text() and problems == []
        page.close()


def test_a_slice_that_looks_stripped_carries_its_note_on_the_card_and_in_the_csv(server, browser, data_root, tmp_path):
    """card.js shows an answer's ``note`` (braintumor.stripped's) and text.js writes it in the CSV's last column."""
    import csv
    import io

    from test_stripped import STRIPPED_EXAMPLES, _strip

    from braintumor.wording import STRIPPED_NOTE

    whole = data_root / "Training" / STRIPPED_EXAMPLES[1]
    bare = tmp_path / "bare.png"
    Image.fromarray(_strip(whole)[1]).save(bare)
    page, problems = open_page(browser, server, 1280, 900)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [str(bare), str(whole)])
    cards = page.locator("#results .card")
    sync_api.expect(cards).to_have_count(2)
    for i in range(2):
        sync_api.expect(cards.nth(i)).to_have_attribute("data-state", "ok", timeout=20_000)
    sync_api.expect(cards.nth(0).locator(".card-note")).to_be_visible()
    # a sentence, closed as _card.html closes it (tests/test_stripped.py); the CSV's note stays the record's, below
    sync_api.expect(cards.nth(0).locator(".card-note")).to_have_text(STRIPPED_NOTE[0].upper() + STRIPPED_NOTE[1:] + ".")
    sync_api.expect(cards.nth(1).locator(".card-note")).to_be_hidden()
    with page.expect_download() as info:
        page.click("#download-csv")
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text())))
    assert rows[0][-1] == "note" and [r[-1] for r in rows[1:]] == [STRIPPED_NOTE, ""]
    assert problems == []
    page.close()
