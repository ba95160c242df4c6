"""A real browser uploads a NIfTI volume and a zipped DICOM series through the JavaScript path: one series
block each, with a bar per slice in the strip and cards with heat maps for the most suspicious slices.
Skipped, never failed, when chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import contextlib
import re

import numpy as np
import pytest
from dicom_factory import SECRETS, axial_volume, nifti_bytes, series, zip_bytes
from PIL import Image
from test_browser import SHOTS, pytestmark, saving_screenshots, serve_in_thread  # noqa: F401  (same skip rules)

from braintumor.image_io import read_image
from braintumor.model_files import default_model_path
from braintumor.predictor import Classifier
from braintumor.series import TOP_SLICES
from braintumor.web import create_app

sync_api = pytest.importorskip("playwright.sync_api")


def test_series_upload_in_the_browser(server, chromium, test_images, tmp_path):
    paths = [p for c in ("notumor", "glioma", "pituitary", "meningioma") for p in test_images[c][:3]]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((256, 256)), dtype=np.uint8) for p in paths]
    (tmp_path / "head.nii.gz").write_bytes(nifti_bytes(axial_volume(stack)))
    (tmp_path / "series.zip").write_bytes(zip_bytes(series(stack)))
    with contextlib.closing(chromium.new_context(viewport={"width": 1280, "height": 900})) as context:
        page = context.new_page()
        problems: list[str] = []
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.goto(server)
        sync_api.expect(page.locator("html")).to_have_class("js")
        page.set_input_files("#file-input", [str(tmp_path / "head.nii.gz"), str(tmp_path / "series.zip")])
        blocks = page.locator("#results .series")
        sync_api.expect(blocks).to_have_count(2, timeout=30_000)
        sync_api.expect(page.locator("#results > .card")).to_have_count(0)  # the placeholders were replaced
        for i, name in enumerate(("head.nii.gz", "series.zip")):
            block = blocks.nth(i)
            assert block.get_attribute("data-state") == "ok"
            assert block.locator(".series-name").inner_text() == name
            assert block.locator("rect.strip-bar").count() == len(stack)
            assert block.locator(".series-line").inner_text().startswith(f"{len(stack)} slices")
            cards = block.locator(".series-top .card")
            assert cards.count() == TOP_SLICES
            assert all(cards.nth(k).get_attribute("data-state") == "ok" for k in range(TOP_SLICES))
            assert cards.nth(0).locator(".card-name").inner_text().startswith("slice ")
            assert cards.nth(0).locator(".view-heat").evaluate("img => img.complete && img.naturalWidth > 0")
        html = page.content()
        assert not any(secret in html for secret in SECRETS) and problems == []
        if saving_screenshots():  # the docs' picture of a series
            SHOTS.mkdir(parents=True, exist_ok=True)
            # the sticky disclaimer (the page's own bottom strip) lay across the block's picture; the page's CSP
            # refuses screenshot(style=...)'s inline stylesheet, not a property set from here
            page.locator(".disclaimer").evaluate("el => { el.style.display = 'none'; }")
            blocks.nth(0).screenshot(path=str(SHOTS / "series-desktop.png"))


def _mixed_series(test_images) -> bytes:
    """A zipped DICOM series of six slices: black, a sure no-tumour, two gliomas, a meningioma, flat gray."""
    picks = [test_images["notumor"][0], test_images["glioma"][0], test_images["glioma"][1],
             test_images["meningioma"][0]]
    middle = [np.asarray(Image.fromarray(read_image(p)).resize((256, 256)), dtype=np.uint8) for p in picks]
    return zip_bytes(series([np.zeros((256, 256), np.uint8), *middle, np.full((256, 256), 128, np.uint8)]))


def _no_js_words(html: str) -> dict:
    import re
    from html import unescape

    def texts(pattern: str) -> list[str]:
        found = [" ".join(unescape(re.sub(r"<[^>]+>", "", t)).split()) for t in re.findall(pattern, html, flags=re.S)]
        return [t for t in found if t]  # not the empty copies in <template> elements

    return {"line": texts(r'<p class="series-line">(.*?)</p>'), "list": texts(r"<li[^>]*>(slice .*?)</li>"),
            "cards": texts(r'<article class="card"[^>]*>\s*<h4 class="card-name">(.*?)</h4>'),  # under an h3
            "refused": html.count("strip-bar strip-refused")}


def _tumours_stored_downwards(test_images) -> bytes:
    """A NIfTI volume of four tumour slices stored superior to inferior: the file's index runs against the slice's."""
    picks = [test_images[c][0] for c in ("glioma", "meningioma", "pituitary")] + [test_images["glioma"][1]]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((256, 256)), dtype=np.uint8) for p in picks]
    return nifti_bytes(axial_volume(stack), affine=np.diag([1.0, 1.0, -1.0, 1.0]))


@pytest.mark.skipif(not default_model_path().is_file(), reason="needs the shipped model's refusals")
def test_a_series_says_the_same_with_and_without_javascript_refusals_included(server, chromium, test_images,
                                                                               tmp_path):
    """Refused slices were missing from the page's summary line and drawn like a sure 'No tumor' (an empty column),
    a sure 'No tumor' slice was listed as suspicious, and slice cards gave no DICOM image number to find them by, nor
    NIfTI ones the file's own index."""
    import io

    from braintumor.predictor import Classifier

    files = [("mixed.zip", _mixed_series(test_images)), ("down.nii.gz", _tumours_stored_downwards(test_images))]
    for name, content in files:
        (tmp_path / name).write_bytes(content)
    page_html = create_app(classifier=Classifier.load(threads=1)).test_client().post(
        "/", data={"file": [(io.BytesIO(content), name) for name, content in files]},
        content_type="multipart/form-data").get_data(as_text=True)
    expected = _no_js_words(page_html)
    line = expected["line"][0]
    assert line.startswith("6 slices ·") and "· 2 not classified (unlike brain MRI)" in line
    assert expected["refused"] == 2 and expected["list"][0] == "slice 0: not classified (unlike brain MRI)"
    assert expected["list"][1].startswith("slice 1: No tumour, tumour probability ")
    assert expected["cards"] and "slice 1 · DICOM image 2" not in expected["cards"]  # a sure 'No tumor' slice
    dicom = [c for c in expected["cards"] if " · DICOM image " in c]
    nifti = [c for c in expected["cards"] if " · NIfTI voxel k = " in c]
    assert dicom and nifti and len(dicom) + len(nifti) == len(expected["cards"])
    assert all(c.endswith(f" = {3 - int(c.split()[1])}") for c in nifti)  # stored downwards: slice k is file's 3 - k
    with contextlib.closing(chromium.new_context(viewport={"width": 1280, "height": 900})) as context:
        page = context.new_page()
        page.goto(server)
        page.set_input_files("#file-input", [str(tmp_path / name) for name, _ in files])
        blocks = page.locator("#results .series")
        sync_api.expect(blocks).to_have_count(2, timeout=30_000)
        for k in range(2):
            sync_api.expect(blocks.nth(k)).to_have_attribute("data-state", "ok")
        assert page.locator("#results .series-top h4.card-name").count() == len(expected["cards"])  # no h2 under h3
        def words(selector: str) -> list[str]:
            return [" ".join(t.split()) for t in page.locator(f"#results {selector}").all_text_contents()]

        refused = page.locator("#results rect.strip-refused").count()
        shown = {"line": words(".series-line"), "list": words(".strip-list li"),
                 "cards": words(".series-top .card-name"), "refused": refused}
        assert shown == expected
        # its slices counted as the CLI counts them, and as the scans' lines say them: it said "2 classified"
        refused, flagged = expected["refused"], sum(int(n) for line in expected["line"]
                                                    for n in re.findall(r"· (\d+) with lower confidence", line))
        sync_api.expect(page.locator("#page-status")).to_have_text(
            f"Done: 2 files, 10 slices: {10 - refused} classified" +
            (f", {flagged} of them with lower confidence" if flagged else "") +
            f", {refused} not classified (unlike brain MRI) (see below).")


@pytest.mark.skipif(not default_model_path().is_file(), reason="needs the shipped model's refusals")
def test_a_one_slice_scans_notes_are_on_its_card_with_and_without_javascript(server, chromium, test_images):
    """A one-slice scan's notes (an absurd Pixel Spacing ignored, a file skipped in its zip) were in the API's JSON
    only: neither card said them. The script's card lists them as the server-rendered one does, refused or not."""
    import io
    import re
    from html import unescape

    from dicom_factory import make_dicom

    gray = read_image(test_images["glioma"][0])
    files = [("wide.dcm", make_dicom(gray, PixelSpacing=[1, 1e38])),
             ("blank.dcm", make_dicom(np.zeros((64, 64), np.uint8), PixelSpacing=[0, 0])),
             ("one.zip", zip_bytes([("IM1", make_dicom(gray)), ("readme.txt", b"not a scan")])),
             ("scan.jpg", test_images["glioma"][0].read_bytes())]
    html = create_app(classifier=Classifier.load(threads=1)).test_client().post(
        "/", data={"file": [(io.BytesIO(content), name) for name, content in files]},
        content_type="multipart/form-data").get_data(as_text=True)
    lists = re.findall(r'<ul class="card-notes"[^>]*>(.*?)</ul>', html, flags=re.S)[:len(files)]
    expected = [[unescape(t) for t in re.findall(r"<li>(.*?)</li>", notes)] for notes in lists]
    assert [len(notes) for notes in expected] == [1, 1, 1, 0]
    with contextlib.closing(chromium.new_page()) as page:
        page.goto(server)
        sync_api.expect(page.locator("html")).to_have_class("js")
        page.set_input_files("#file-input", [{"name": name, "mimeType": "application/octet-stream", "buffer": data}
                                             for name, data in files])
        sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=30_000)
        cards = page.locator("#results > .card")
        assert [cards.nth(k).get_attribute("data-state") for k in range(len(files))] == ["ok", "ood", "ok", "ok"]
        assert [cards.nth(k).locator(".card-notes li").all_text_contents() for k in range(len(files))] == expected
        assert cards.nth(1).locator(".card-notes").is_visible() and not cards.nth(3).locator(".card-notes").is_visible()


def test_a_multi_frame_files_slice_cards_name_their_frame_with_javascript(server, chromium, test_images):
    """The script's slice cards of a multi-frame DICOM were each "slice k · DICOM image 1", as the server-rendered
    ones were (tests/test_web_volumes.py): the frame, numbered from 1, and how many the file holds tell them apart."""
    from dicom_factory import make_dicom

    paths = [p for c in ("glioma", "pituitary") for p in test_images[c][:3]]
    frames = np.stack([np.asarray(Image.fromarray(read_image(p)).resize((128, 128)), dtype=np.uint8) for p in paths])
    page = chromium.new_page()
    page.goto(server)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [{"name": "mf.dcm", "mimeType": "application/dicom",
                                          "buffer": make_dicom(frames, NumberOfFrames=len(frames))}])
    sync_api.expect(page.locator("#results .series")).to_have_attribute("data-state", "ok", timeout=30_000)
    names = [" ".join(t.split()) for t in page.locator("#results .series-top .card-name").all_text_contents()]
    assert len(names) == TOP_SLICES
    assert all(n == f"slice {n.split()[1]} · DICOM image 1, frame {int(n.split()[1]) + 1} of {len(frames)}"
               for n in names), names
    page.close()


@pytest.mark.skipif(not default_model_path().is_file(), reason="needs the shipped model's sure and unsure answers")
def test_the_scripts_slice_list_says_which_slices_have_lower_confidence(server, chromium, test_images):
    """The series' line counted "· 1 with lower confidence" (here a pituitary slice answered meningioma at 83 %,
    ranked under five surer tumour slices, so without a card) and no line of the script's "Every slice as text" said
    which: each says so as the server-rendered list does (tests/test_web_volumes.py), and only those."""
    import json

    from braintumor.prediction import probability_text

    paths = [p for c in ("glioma", "pituitary") for p in test_images[c][:3]]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((256, 256)), dtype=np.uint8) for p in paths]
    data = zip_bytes(series(stack))
    page = chromium.new_page()
    page.goto(server)
    sync_api.expect(page.locator("html")).to_have_class("js")
    answer = page.request.post(f"{server}/api/v1/predict", multipart={
        "file": {"name": "s.zip", "mimeType": "application/zip", "buffer": data}})
    unsure = {r["slice"]: r["confidence"] for r in json.loads(answer.body())["results"] if r.get("review")}
    flagged = list(unsure)
    assert flagged and len(flagged) < len(stack), flagged  # sure and unsure answers both
    page.set_input_files("#file-input", [{"name": "s.zip", "mimeType": "application/zip", "buffer": data}])
    sync_api.expect(page.locator("#results .series")).to_have_attribute("data-state", "ok", timeout=30_000)
    lines = page.locator("#results .strip-list li").all_text_contents()
    assert len(lines) == len(stack)
    assert [int(t.split()[1][:-1]) for t in lines if " with lower confidence (" in t] == flagged, lines
    assert all(f" with lower confidence ({probability_text(unsure[k])})," in lines[k] for k in flagged), lines
    titles = page.locator("#results rect.strip-bar title").all_text_contents()
    assert titles == lines  # the strip's tooltips say it too
    page.close()


STRIP = """svg => Array.from(svg.querySelectorAll('rect'), r => {
  const box = r.getBoundingClientRect();
  return {cls: r.getAttribute('class'), x: r.getAttribute('x'), y: r.getAttribute('y'),
          height: r.getAttribute('height'), px: box.height, fill: getComputedStyle(r).fill,
          title: r.querySelector('title') ? r.querySelector('title').textContent : null};
})"""


@pytest.mark.skipif(not default_model_path().is_file(), reason="needs the shipped model's sure 'No tumour' slice")
def test_a_sure_no_tumour_slice_is_drawn_in_the_strip_not_left_as_a_gap(server, chromium, test_images):
    """A slice answered "No tumour" with near certainty drew a bar of height ~0: it looked like a gap (missing data),
    and the legend's "No tumour" colour appeared nowhere. Each classified slice has a mark under the bars in its
    class's colour (the bars' heights unchanged), a refused one its pale column, and the legend, the tooltips and the
    slice list agree, with and without JavaScript."""
    import io
    from html import unescape

    data = _mixed_series(test_images)
    html = create_app(classifier=Classifier.load(threads=1)).test_client().post(
        "/", data={"file": [(io.BytesIO(data), "mixed.zip")]},
        content_type="multipart/form-data").get_data(as_text=True)
    (server_svg,) = [svg for svg in re.findall(r'<svg class="strip-plot"(.*?)</svg>', html, re.S) if "<rect" in svg]
    page = chromium.new_page(viewport={"width": 1280, "height": 900})
    page.goto(server)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [{"name": "mixed.zip", "mimeType": "application/zip", "buffer": data}])
    block = page.locator("#results .series")
    sync_api.expect(block).to_have_attribute("data-state", "ok", timeout=30_000)
    rects = block.locator(".strip-plot").evaluate(STRIP)
    lines = block.locator(".strip-list li").all_text_contents()
    legend = {li.get_attribute("data-class"): (li.inner_text().strip(),
                                              li.locator(".swatch").evaluate("e => getComputedStyle(e).fill"))
              for li in block.locator(".strip-legend li").all()}
    assert len(lines) == 6 and legend["failed"] == ("Unreadable", "rgb(246, 213, 213)")  # its column had no key
    bars = [r for r in rects if r["cls"].startswith("strip-bar")]
    marks = [r for r in rects if r["cls"].startswith("strip-mark")]
    assert len(bars) == 6
    sure = [k for k, t in enumerate(lines) if t.startswith(f"slice {k}: No tumour, tumour probability ")]
    assert sure, lines  # the sure 'No tumour' slice: its bar is next to nothing
    assert all(float(bars[k]["height"]) < 2 for k in sure), bars
    for k, line in enumerate(lines):
        bar = next(b for b in bars if float(b["x"]) == k + 0.1)
        assert bar["title"] == line  # the tooltip says what the list says
        state = bar["cls"].split()[1].removeprefix("strip-")
        if state in ("refused", "failed"):  # a pale full-height column, and no class's mark
            assert bar["px"] > 100 and not [m for m in marks if float(m["x"]) == k + 0.1]
            assert bar["fill"] == legend[state][1] and bar["fill"] not in {
                legend[c][1] for c in legend if c not in ("refused", "failed")}
            continue
        (mark,) = [m for m in marks if float(m["x"]) == k + 0.1]
        assert mark["cls"] == f"strip-mark strip-{state}" and mark["px"] >= 4, mark  # seen, whatever the bar's height
        assert mark["fill"] == bar["fill"] == legend[state][1]  # the legend's colour for its class
        assert mark["title"] == line and line.startswith(f"slice {k}: {legend[state][0]}")
        assert float(bar["y"]) + float(bar["height"]) == pytest.approx(100, abs=0.01)  # heights kept: 100 * p
    assert legend["notumor"][1] in {m["fill"] for m in marks}  # the legend's No tumour colour is on the strip
    # the server draws the same rects as the script
    drawn = [(unescape(c), x, y, h) for c, x, y, h in re.findall(
        r'<rect class="([^"]+)" x="([^"]+)" width="0.8"\s+y="([^"]+)" height="([^"]+)"', server_svg)]
    assert sorted(drawn) == sorted((r["cls"], r["x"], r["y"], r["height"]) for r in rects)
    assert 'viewBox="0 0 6 105"' in server_svg and block.locator(".strip-plot").get_attribute("viewBox") == "0 0 6 105"
    page.close()


def test_a_series_says_why_its_slices_are_unreadable_with_and_without_javascript(server, chromium, request):
    """A scan of three 2 x 2 frames has its slices refused for their size: the CLI and the API said so of each, where
    the page's block said only "3 unreadable", with and without JavaScript. It says why, once, where the count is."""
    import io

    from dicom_factory import unreadable_series

    from braintumor.volume_objects import MIN_SCAN_SIDE
    from braintumor.wording import too_small_text

    volume = unreadable_series()  # (a file or NIfTI volume of such slices only is refused whole, on its header)
    said = f"3 slices unreadable: {too_small_text(2, 2, MIN_SCAN_SIDE, 'scan slice')}"
    model = default_model_path() if default_model_path().is_file() else request.getfixturevalue("tiny_model")
    page_html = create_app(classifier=Classifier.load(model, threads=1)).test_client().post(
        "/", data={"file": [(io.BytesIO(volume), "tiny.zip")]},
        content_type="multipart/form-data").get_data(as_text=True)
    items = re.findall(r'<ul class="series-refusals">(.*?)</ul>', page_html, flags=re.S)
    assert [" ".join(re.sub(r"<[^>]+>", "", t).split()) for t in items if t.strip()] == [said]
    page = chromium.new_page()
    page.goto(server)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [{"name": "tiny.zip", "mimeType": "application/zip", "buffer": volume}])
    block = page.locator("#results .series")
    # no slice read: the block has an unreadable card's look (data-state "error": tests/test_browser_series_refused.py)
    sync_api.expect(block).to_have_attribute("data-state", "error", timeout=30_000)
    assert block.locator(".series-line").inner_text().endswith("· 3 unreadable")
    assert [" ".join(t.split()) for t in block.locator(".series-refusals li").all_text_contents()] == [said]
    page.close()
