"""What a screen reader's list of controls says on a page with several scans, in a real browser (headless chromium via
Playwright, as tests/conftest.py gives it), with JavaScript and without: the names chromium itself computes (its
accessibility tree, through the DevTools protocol). Skipped, never failed, when chromium or playwright is absent."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from dicom_factory import axial_volume, nifti_bytes, series, zip_bytes
from PIL import Image
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions

from braintumor.image_io import read_image

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

SCANS = ("a$&b.zip", "second.zip", "volume.nii.gz")  # "&": escaped once, not twice; "$&": no JS pattern


@pytest.fixture(scope="module")
def files(test_images) -> list[dict]:
    """Two zipped DICOM series with the same slices (their slice cards alike but for their scan), a NIfTI volume of
    them, and a single slice."""
    paths = [test_images[c][0] for c in ("notumor", "glioma", "pituitary", "meningioma")]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((256, 256)), dtype=np.uint8) for p in paths]
    dicom = zip_bytes(series(stack))
    kinds = [(SCANS[0], dicom, "application/zip"), (SCANS[1], dicom, "application/zip"),
             (SCANS[2], nifti_bytes(axial_volume(stack)), "application/gzip"),
             (paths[1].name, paths[1].read_bytes(), "image/jpeg")]
    return [{"name": name, "mimeType": kind, "buffer": data} for name, data, kind in kinds]


def controls(page, roles: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    """(role, accessible name) of every focusable element but the page's <main> (or every one of ``roles``), as
    chromium names it for a screen reader."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    out = []
    for node in nodes:
        props = {p["name"]: p["value"].get("value") for p in node.get("properties", [])}
        wanted = node["role"]["value"] in roles if roles else props.get("focusable")
        # <main> is focusable for its skip link only (tabindex -1): Tab never reaches it
        if wanted and not node.get("ignored") and node["role"]["value"] not in ("RootWebArea", "main"):
            out.append((node["role"]["value"], " ".join(str(node.get("name", {}).get("value", "")).split())))
    return out


def shown(page, js: bool, files: list[dict]) -> None:
    """The page with ``files`` answered: sent by the page's script, or by the form (no JavaScript)."""
    page.set_input_files("#file-input", files)
    if js:
        sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=60_000)
    else:
        page.click("button[type=submit]")
        sync_api.expect(page.locator("#results .series")).to_have_count(3)
        page.wait_for_load_state("load")  # its stylesheet too: before it, the sliders it hides without script counted


@pytest.mark.parametrize("js", [True, False], ids=["script", "no-script"])
def test_each_slice_cards_heat_map_controls_name_their_scan_and_slice(server, chromium, files, js):
    """A series' slice cards named their controls by the slice alone ("Heat map of slice 1 · DICOM image 2"): with
    two scans on the page, a screen reader's list of controls had several identical ones, none saying which scan."""
    context = chromium.new_context(java_script_enabled=js)
    page = context.new_page()
    page.goto(server)
    shown(page, js, files)
    heat = [(role, name) for role, name in controls(page) if "eat map of" in name]
    per_slice = page.locator(".series .card:has(.heat-toggle)").count()
    assert per_slice >= 6 and len(heat) == (per_slice + 1) * (2 if js else 1), heat  # a slider without script
    names = [name for _, name in heat]
    assert len(set(names)) == len(names), names
    for i, block in enumerate(page.locator("#results .series").all()):
        scan = block.locator(".series-name").inner_text().strip()
        assert scan == SCANS[i]
        for card in block.locator(".card:has(.heat-toggle)").all():
            slice_ = card.locator(".card-name").inner_text().strip()
            assert slice_.startswith("slice ")
            sync_api.expect(card.locator(".heat-toggle")).to_have_accessible_name(f"Heat map of {scan}, {slice_}")
            if js:
                sync_api.expect(card.locator(".heat-opacity")).to_have_accessible_name(
                    f"Opacity of the heat map of {scan}, {slice_}")
    context.close()


@pytest.mark.parametrize("js", [True, False], ids=["script", "no-script"])
def test_each_slice_cards_images_and_answer_name_their_scan_and_slice(server, chromium, files, js):
    """A series' slice card's images were "slice 1 · DICOM image 2, as the model saw it" and "Heat map over slice 1 ·
    DICOM image 2: ..." (its answer's hidden lead too): a screen reader's list of images, with two scans on the page,
    said several alike, none saying which scan. They say it as a single image's card says its file's name."""
    context = chromium.new_context(java_script_enabled=js)
    page = context.new_page()
    page.goto(server)
    shown(page, js, files)
    # not the heat maps' colour scales: decorative (alt "", hidden from screen readers), their colours said in words
    alts = page.locator("#results img:not([aria-hidden=true])").evaluate_all("imgs => imgs.map(i => i.alt)")
    assert len(alts) >= 14 and len(set(alts)) == len(alts), alts
    for i, block in enumerate(page.locator("#results .series").all()):
        for card in block.locator(".card:has(.view-heat)").all():
            name = f"{SCANS[i]}, {card.locator('.card-name').inner_text().strip()}"
            answer = card.locator(".verdict-label").inner_text().strip()
            base = card.locator(".view-base").get_attribute("alt")
            assert base == f"{name}, as the model saw it (cropped, grayscale)"
            assert " ".join(card.locator(".view-heat").get_attribute("alt").split()) == (
                f"Heat map over {name}: the regions that raised the score of {answer}")
            assert card.locator(".card-status-of").text_content() == f"{name}: "
    context.close()


@pytest.mark.parametrize("js", [True, False], ids=["script", "no-script"])
def test_every_focusable_element_has_a_name_of_its_own(server, chromium, files, js):
    """What Tab reaches on a page with three scans and an image, and on the dashboard: each has a name, and no two
    the same (a screen reader's list of controls or links cannot tell two of one name apart)."""
    context = chromium.new_context(java_script_enabled=js)
    page = context.new_page()
    page.goto(server)
    shown(page, js, files)
    for url in (None, f"{server}/dashboard"):
        if url:
            page.goto(url)
        found = controls(page)
        assert len(found) >= (15 if url is None else 2), found
        assert [c for c in found if not c[1]] == [], found
        names = [name for _, name in found]
        assert sorted({n for n in names if names.count(n) > 1}) == [], found
    context.close()


@pytest.mark.parametrize("js", [True, False], ids=["script", "no-script"])
def test_two_series_of_one_zip_are_two_regions_of_their_own_names(server, chromium, test_images, js):
    """A zip of two series (a study's T1 and FLAIR) showed two blocks headed "study.zip · series 1" and "... series
    2", but both regions were called "Scan study.zip": a screen reader's list of landmarks said the same twice."""
    paths = [test_images[c][0] for c in ("notumor", "glioma", "pituitary")]
    stack = [np.asarray(Image.fromarray(read_image(p)).resize((256, 256)), dtype=np.uint8) for p in paths]
    study = zip_bytes([(f"{folder}/{name}", data) for folder in ("t1", "flair") for name, data in series(stack)])
    context = chromium.new_context(java_script_enabled=js)
    page = context.new_page()
    page.goto(server)
    page.set_input_files("#file-input", [{"name": "study.zip", "mimeType": "application/zip", "buffer": study}])
    if js:
        sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=60_000)
    else:
        page.click("button[type=submit]")
    sync_api.expect(page.locator("#results .series")).to_have_count(2)
    for i, block in enumerate(page.locator("#results .series").all()):
        sync_api.expect(block.locator(".series-name")).to_have_text(f"study.zip · series {i + 1}")
        sync_api.expect(block).to_have_accessible_name(f"Scan study.zip · series {i + 1}")
    context.close()


def test_a_name_given_again_is_numbered_on_its_card(server, chromium, files):
    """The same file given twice (two screenshots pasted, both "image.png"; a scan sent again) made two cards of one
    name: their controls, images and regions were named alike too. The second is numbered, as a file manager
    numbers a copy; the CSV keeps the file's own name."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    image, scan = files[3], files[0]
    for n in (2, 4):
        page.set_input_files("#file-input", [image, scan])
        sync_api.expect(page.locator("#results > *")).to_have_count(n)
        sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=60_000)
    names = [name for _, name in controls(page)]
    assert len(names) >= 12 and sorted({n for n in names if names.count(n) > 1}) == [], names
    assert page.locator("#results > .card .card-name").all_inner_texts() == [f"{image['name']} (2)", image["name"]]
    assert page.locator("#results > .series .series-name").all_inner_texts() == [f"{scan['name']} (2)", scan["name"]]
    with page.expect_download() as info:
        page.click("#download-csv")
    lines = Path(info.value.path()).read_text(encoding="utf-8").splitlines()
    paths = [line.split(",")[0] for line in lines[1:]]
    assert f"{image['name']} (2)" not in paths and paths.count(image["name"]) == 2
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


@pytest.mark.parametrize("js", [True, False], ids=["script", "no-script"])
def test_every_image_has_a_name_of_its_own(server, chromium, files, js):
    """Each series' strip of tumour probabilities per slice (an image to a screen reader) was "Tumour probability per
    slice, slice 0 on the left (every slice as text below)": a list of images said it once per scan, none saying
    which."""
    context = chromium.new_context(java_script_enabled=js)
    page = context.new_page()
    page.goto(server)
    shown(page, js, files)
    names = [name for _, name in controls(page, ("image", "img"))]
    assert len(names) >= 23 and all(names), names  # 10 cards' two images, 3 strips
    assert sorted({n for n in names if names.count(n) > 1}) == [], names
    for i, block in enumerate(page.locator("#results .series").all()):
        sync_api.expect(block.locator(".strip-plot")).to_have_accessible_name(
            f"Tumour probability per slice of {SCANS[i]}, slice 0 on the left (every slice as text below)")
    context.close()


def test_a_name_given_twice_in_one_form_is_numbered_without_javascript(server, chromium, files):
    """Without JavaScript, the same file twice in one form (or two files of one name) made two cards and two scan
    blocks of one name: their headings, controls and images were named alike. The second is numbered as the page's
    script numbers it (app.js): "image.png (2)", a scan's block and its slice cards too."""
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server)
    image, scan = files[3], files[0]
    page.set_input_files("#file-input", [image, scan, image, scan])
    page.click("button[type=submit]")
    sync_api.expect(page.locator("#results .series")).to_have_count(2)
    assert page.locator("#results > .card .card-name").all_inner_texts() == [image["name"], f"{image['name']} (2)"]
    assert page.locator("#results > .series .series-name").all_inner_texts() == [scan["name"], f"{scan['name']} (2)"]
    sync_api.expect(page.locator("#results > .series").nth(1)).to_have_accessible_name(f"Scan {scan['name']} (2)")
    names = [name for _, name in controls(page)]
    assert len(names) >= 8 and sorted({n for n in names if names.count(n) > 1}) == [], names
    # not the heat maps' colour scales: decorative (alt "", hidden from screen readers), their colours said in words
    alts = page.locator("#results img:not([aria-hidden=true])").evaluate_all("imgs => imgs.map(i => i.alt)")
    assert len(alts) >= 8 and len(set(alts)) == len(alts), alts
    assert f"{image['name']} (2), as the model saw it (cropped, grayscale)" in alts
    context.close()


@pytest.mark.parametrize("js", [True, False], ids=["script", "no-script"])
def test_each_probability_meter_names_its_card(server, chromium, files, js):
    """Every card's meters were named by their class alone: a screen reader's list of the page's meters (or a jump
    from one to the next) said "Glioma" once per card, none saying which file. Each names its card's file too, as
    its heat-map controls do (a series' slice: its scan and slice); nothing more is shown."""
    context = chromium.new_context(java_script_enabled=js)
    page = context.new_page()
    page.goto(server)
    shown(page, js, files)
    meters = [name for _, name in controls(page, ("meter", "progressIndicator"))]
    assert len(meters) >= 28 and len(set(meters)) == len(meters), meters
    for card in page.locator("#results .card:not([data-state=error])").all():
        of = card.locator(".card-status-of").text_content().removesuffix(": ")  # its file: the answer's hidden lead
        for bar in card.locator(".bar").all():
            sync_api.expect(bar.locator(".bar-meter")).to_have_accessible_name(
                f"{bar.locator('.bar-name').inner_text()}, {of}")
    context.close()


def test_the_dashboards_json_link_says_what_it_is(server, chromium):
    """The dashboard's link to its numbers was named "JSON" alone: in a screen reader's list of links, JSON of
    what? It shows "JSON" still, and is named for what it leads to."""
    page, _ = open_page(chromium, server, 1024, 800)
    page.goto(f"{server}/dashboard")
    link = page.locator(".dash-head a[href$='/stats']")
    shown = link.evaluate("a => { const c = a.cloneNode(true); c.querySelectorAll('.visually-hidden')"
                          ".forEach(e => e.remove()); return c.textContent; }")
    assert shown == "JSON" and link.locator(".visually-hidden").bounding_box()["width"] <= 1
    sync_api.expect(link).to_have_accessible_name("JSON of the dashboard's numbers")
    page.close()
