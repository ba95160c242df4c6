"""An upload that answers with several records that are not slices of one series (a zip, or a dropped folder's DICOM
files, of single-image series), in a real browser (headless chromium via Playwright, as tests/conftest.py gives it),
with JavaScript and without: a card per record, in the server's order, each named by its scan as a series block is
("study.zip · series 2"). The page's script showed only the first; without it, the cards were all named by the zip.
Skipped, never failed, when chromium or playwright is absent."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest
from dicom_factory import axial_volume, make_dicom, nifti_bytes, series, zip_bytes
from live_regions import announced, listen
from PIL import Image
from test_browser import pytestmark  # noqa: F401 - pytestmark: the same skip conditions
from test_browser_control_names import controls
from test_browser_dicom_folders import dropped

from braintumor.image_io import read_image
from braintumor.prediction import probability_text

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

TWO = "a&b.zip"  # "&": escaped once, not twice
MIXED = "s$&t.zip"  # "$&": no JS pattern
NIFTIS = "n.zip"


@pytest.fixture(scope="module")
def zips(test_images) -> dict[str, bytes]:
    """Two single-slice DICOM series in one zip; and a single, a four-slice series and a single, in that order."""
    paths = [test_images[c][0] for c in ("notumor", "glioma", "pituitary", "meningioma")]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((128, 128)), dtype=np.uint8) for p in paths]
    return {TWO: zip_bytes([("x.dcm", make_dicom(stack[1])), ("y.dcm", make_dicom(stack[2]))]),
            MIXED: zip_bytes([("x.dcm", make_dicom(stack[1]))] + [(f"s/{n}", d) for n, d in series(stack)] +
                             [("y.dcm", make_dicom(stack[2]))]),
            NIFTIS: zip_bytes([(f"{m}.nii", nifti_bytes(axial_volume(stack[k:k + 1]), gz=False))
                               for k, m in ((1, "v"), (2, "w"))])}


def answers(page, server: str, name: str, data: bytes) -> list[dict]:
    """The records the API gives for the upload, in its order, those of no series' slice only."""
    got = page.request.post(f"{server}/api/v1/predict", multipart={
        "file": {"name": name, "mimeType": "application/zip", "buffer": data}}).json()
    return [r for r in got["results"] if "slice" not in r]


def sent(server: str, chromium, js: bool, name: str, data: bytes):
    """The page with the zip answered: sent by the page's script (what #scan-status says recorded), or by the form
    (no JavaScript)."""
    context = chromium.new_context(java_script_enabled=js)
    page = context.new_page()
    page.goto(server)
    if js:  # what the page's own live line says, as said: read after the Done line, it may be emptied already
        listen(page, "#scan-status")
    page.set_input_files("#file-input", [{"name": name, "mimeType": "application/zip", "buffer": data}])
    if js:
        sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=60_000)
    else:
        page.click("button[type=submit]")
        sync_api.expect(page.locator("#results")).to_be_attached()
    return context, page


def check_card(card, name: str, rec: dict) -> None:
    """Its heading, images, controls and hidden answer lead name the scan; it shows that record's answer."""
    sync_api.expect(card.locator(".card-name")).to_have_text(name)
    assert card.locator(".card-status-of").text_content() == f"{name}: "
    assert card.get_attribute("data-state") == ("ood" if rec.get("ood") else "ok"), rec
    if rec.get("ood"):
        return
    assert card.locator(".bar-top").get_attribute("data-class") == rec["label"]
    sync_api.expect(card.locator(".verdict-confidence")).to_have_text(probability_text(rec["confidence"]))
    assert card.locator(".view-base").get_attribute("alt") == f"{name}, as the model saw it (cropped, grayscale)"
    assert " ".join(card.locator(".view-heat").get_attribute("alt").split()).startswith(f"Heat map over {name}: ")
    sync_api.expect(card.locator(".heat-toggle")).to_have_accessible_name(f"Heat map of {name}")


@pytest.mark.parametrize("js", [True, False], ids=["script", "no-script"])
def test_a_zips_one_slice_volumes_are_each_named_by_their_member(server, chromium, zips, js):
    """A zip of two one-slice NIfTI volumes answers for "n.zip:v.nii" and "n.zip:w.nii": with the script, the first
    card kept the zip's name, where the server heads it by its member."""
    context, page = sent(server, chromium, js, NIFTIS, zips[NIFTIS])
    recs = answers(page, server, NIFTIS, zips[NIFTIS])
    assert [r["path"] for r in recs] == [f"{NIFTIS}:v.nii", f"{NIFTIS}:w.nii"]
    sync_api.expect(page.locator("#results > .card")).to_have_count(2)
    for card, rec in zip(page.locator("#results > .card").all(), recs, strict=True):
        check_card(card, rec["path"], rec)
    check_names_and_done(page, js)
    context.close()


def check_names_and_done(page, js: bool) -> None:
    """No two controls or images of one name; the Done line counts what the page shows: a card each, or, where a
    file gave several (a scan's slices, a zip's series), the slices it says, a bar in a scan's strip or a card each."""
    names = [n for _, n in controls(page)] + [n for _, n in controls(page, ("image", "img"))]
    assert sorted({n for n in names if names.count(n) > 1}) == [], names
    if js:
        said = page.locator("#page-status").inner_text()
        counted = re.findall(r"(\d+) (?:classified|not classified|unreadable|not analysed)", said)
        slices = re.match(r"Done: \d+ files?(?: \(\d+ scans\))?, (\d+) slices?: ", said)
        shown = page.locator("#results > *").count() if not slices else \
            page.locator("#results rect.strip-bar").count() + page.locator("#results > .card").count()
        assert sum(map(int, counted)) == shown == (int(slices[1]) if slices else shown), said


@pytest.mark.parametrize("js", [True, False], ids=["script", "no-script"])
def test_two_single_image_series_of_one_zip_are_two_cards_of_their_own_names(server, chromium, zips, js):
    """A zip of two single-image series (a folder of single-image DICOM exports is sent as one) showed one card, the
    first answer, with the script; without it, two cards both headed "a&b.zip"."""
    context, page = sent(server, chromium, js, TWO, zips[TWO])
    recs = answers(page, server, TWO, zips[TWO])
    assert [r.get("series") for r in recs] == [0, 1]
    sync_api.expect(page.locator("#results > *")).to_have_count(2)
    sync_api.expect(page.locator("#results > .card")).to_have_count(2)
    for i, (card, rec) in enumerate(zip(page.locator("#results > .card").all(), recs, strict=True)):
        check_card(card, f"{TWO} · series {i + 1}", rec)
    check_names_and_done(page, js)
    if js:  # the second card is new on the page, its live region too: its answer is said in the page's
        assert any(line.startswith(f"{TWO} · series 2: ") for line in announced(page)), announced(page)
    if js:  # the zip given again: numbered as its series blocks would be, before the series
        page.set_input_files("#file-input", [{"name": TWO, "mimeType": "application/zip", "buffer": zips[TWO]}])
        sync_api.expect(page.locator("#results > .card")).to_have_count(4)
        sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=60_000)
        sync_api.expect(page.locator("#results > .card .card-name")).to_have_text(
            [f"{TWO} (2) · series 1", f"{TWO} (2) · series 2", f"{TWO} · series 1", f"{TWO} · series 2"])
    context.close()


@pytest.mark.parametrize("js", [True, False], ids=["script", "no-script"])
def test_a_series_between_two_single_image_series_shows_all_three_in_order(server, chromium, zips, js):
    """A zip of a single image, a four-slice series and another single image showed the series block and the first
    single's card only, with the script; without it, the two cards were headed by the zip's name alone."""
    context, page = sent(server, chromium, js, MIXED, zips[MIXED])
    recs = answers(page, server, MIXED, zips[MIXED])
    assert [r.get("series") for r in recs] == [0, 2]
    shown = page.locator("#results > *")
    sync_api.expect(shown).to_have_count(3)
    assert shown.evaluate_all("els => els.map(e => e.className)") == ["card", "series", "card"]
    sync_api.expect(shown.nth(1).locator(".series-name")).to_have_text(f"{MIXED} · series 2")
    check_card(shown.nth(0), f"{MIXED} · series 1", recs[0])
    check_card(shown.nth(2), f"{MIXED} · series 3", recs[1])
    check_names_and_done(page, js)
    context.close()


def test_a_dropped_folder_of_single_image_exports_is_a_card_each(server, chromium, zips, tmp_path):
    """A dropped folder's DICOM files are sent as one zip: a folder of single-image exports (each its own series)
    showed the first image's answer alone."""
    folder = tmp_path / "exports"
    folder.mkdir()
    with zipfile.ZipFile(io.BytesIO(zips[TWO])) as zf:
        for member in zf.namelist():
            (folder / member).write_bytes(zf.read(member))
    page, problems, blocks = dropped(chromium, server, folder)
    assert blocks == []
    sync_api.expect(page.locator("#results > .card .card-name")).to_have_text(
        ["exports · series 1", "exports · series 2"])
    sync_api.expect(page.locator("#results > .card[data-state=ok]")).to_have_count(2)
    check_names_and_done(page, True)
    assert problems == []
    page.close()
