"""A folder chosen with the keyboard, in a real browser (headless chromium via Playwright): the page's folder picker
is walked as a folder dragged onto the page is (folders.js), its DICOM files read as one series. Only a drag gave a
folder, which a keyboard cannot do; its files chosen in the file picker were classified one by one, with no series
summary. Skipped, never failed, when chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import series
from PIL import Image
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions
from test_browser_errors import os_drop

from braintumor.image_io import read_image

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def outcome(page) -> dict:
    """What the page shows of a run: its Done line, its notes, each scan's block and each card, by name."""
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=30_000)
    return {
        "done": page.locator("#page-status").inner_text(),
        "notes": page.locator("#page-notes p").all_inner_texts(),
        "scans": [
            (b.locator(".series-name").inner_text(), b.locator(".series-line").inner_text())
            for b in page.locator("#results .series").all()
        ],
        "cards": page.locator("#results > .card .card-name").all_inner_texts(),
    }


def test_a_folder_chosen_with_the_keyboard_is_walked_as_a_dropped_one(server, chromium, test_images, tmp_path):
    """The folder picker is the control after the file picker, opened with Space; the folder chosen in it (a series
    in a sub-folder, an image, a hidden file and a note) gives the page a dropped folder gives: one series block."""
    folder = tmp_path / "study"
    (folder / "sub").mkdir(parents=True)
    stack = [
        np.asarray(Image.fromarray(read_image(test_images[c][0])).resize((256, 256)), dtype=np.uint8)
        for c in ("notumor", "glioma", "pituitary", "meningioma")
    ]
    for name, data in series(stack):
        (folder / "sub" / name.rsplit("/", 1)[-1]).write_bytes(data)
    (folder / "a.jpg").write_bytes(test_images["glioma"][1].read_bytes())
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (folder / "notes.txt").write_text("patient notes")

    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    os_drop(page, [str(folder)])
    dropped = outcome(page)
    assert dropped["scans"] and dropped["scans"][0][1].startswith("4 slices")  # one series, as the CLI reads it
    page.close()

    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.focus("#file-input")
    page.keyboard.press("Tab")  # the next control: the folder picker, named
    picker = page.locator("#folder-input")
    sync_api.expect(picker).to_be_focused()
    sync_api.expect(picker).to_have_accessible_name("Or a whole folder (its DICOM files read as series)")
    for attempt in range(3):  # one full CI run of four saw no chooser in 30 s (the key press lost under load)
        try:
            with page.expect_file_chooser(timeout=10_000) as chosen:
                page.keyboard.press("Space")
            break
        except sync_api.TimeoutError:
            if attempt == 2:
                raise
            sync_api.expect(picker).to_be_focused()
    assert chosen.value.is_multiple()
    chosen.value.set_files(str(folder))
    assert outcome(page) == dropped
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


def test_an_empty_folder_chosen_is_said_as_a_dropped_one(server, chromium, tmp_path):
    """An empty folder chosen in the picker gives the page no files: nothing happened, not a word, where a dropped
    empty folder says there is no image or scan in it."""
    (tmp_path / "empty").mkdir()
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    with page.expect_file_chooser() as chosen:
        page.locator("#folder-input").click()
    chosen.value.set_files(str(tmp_path / "empty"))
    sync_api.expect(page.locator("#pick-status")).to_have_text(  # its own line (app.js pick)
        "No image or scan found in the folder (JPEG, PNG, BMP, TIFF, WebP, DICOM or NIfTI).")
    assert problems == []
    page.close()


def test_the_folder_picker_is_not_in_the_form_without_javascript(server, chromium):
    """Without JavaScript nothing walks a folder: the form would send its files as one request of single files."""
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server)
    assert not page.locator("#folder-input").is_visible()
    assert page.locator("#folder-input").get_attribute("name") is None
    context.close()
