"""The form's own error, without JavaScript (the form posted to the server), as a keyboard and screen-reader user meets
it, in a real browser (headless chromium via Playwright, as tests/conftest.py gives it). Skipped, never failed, when
chromium or playwright is absent."""

from __future__ import annotations

import pytest
from test_browser import pytestmark  # noqa: F401 - pytestmark: the same skip conditions

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

NO_FILE = "No file chosen: choose one or more images or scans, then Classify."
FORMATS = ("JPEG, PNG, BMP, TIFF or WebP slices; DICOM (.dcm, .IMA or no ending: IM00001), NIfTI (.nii, .nii.gz) or a "
           ".zip of DICOM or NIfTI files")
HINT = f"{FORMATS} · up to 32 files, 512 slices and 128 MiB at a time"  # without JavaScript: the form's one request


def test_the_file_input_says_the_forms_error_when_it_is_reached(server, chromium):
    """Classify with no file chosen, from the keyboard: the page came back with its message at the top, but Tab to
    the file input said only "Images or scans, button", nothing of what was wrong with it."""
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server)
    field = page.locator("#file-input")
    assert field.get_attribute("aria-invalid") is None
    sync_api.expect(field).to_have_accessible_description(HINT)
    field.focus()
    page.keyboard.press("Tab")
    sync_api.expect(page.locator("button[type=submit]")).to_be_focused()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    sync_api.expect(page.locator("#page-status")).to_have_text(NO_FILE)
    assert page.title().startswith("Error: No file chosen")
    sync_api.expect(field).to_have_attribute("aria-invalid", "true")
    sync_api.expect(field).to_have_accessible_description(f"{NO_FILE} {HINT}")
    context.close()


def _opened(chromium, server: str, js: bool, **device):
    """(context, page) of the form, loaded with or without JavaScript (on ``device``: Playwright's context options,
    a touch screen's), the page's class saying which it got."""
    context = chromium.new_context(java_script_enabled=js, **device)
    page = context.new_page()
    page.goto(server)
    sync_api.expect(page.locator("html")).to_have_class("js" if js else "no-js")
    return context, page


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_the_file_input_says_what_it_takes(server, chromium, js):
    """Tab to the file input said "Images or scans, button" alone: the formats and limits under it (the hint) were
    never said to a screen reader's user, who reaches the input by Tab and the results next; the hint is its
    description, its limits those of the path the files take (with JavaScript, app.js's)."""
    context, page = _opened(chromium, server, js)
    limits = page.locator("#hint-limits").inner_text()
    assert limits.startswith("any number of files") if js else HINT.endswith(f" · {limits}")
    sync_api.expect(page.locator("#file-input")).to_have_accessible_description(f"{FORMATS} · {limits}")
    context.close()


@pytest.mark.parametrize(("js", "touch"), [(True, False), (False, False), (True, True), (False, True)],
                         ids=["js", "no-js", "touch", "touch-no-js"])
def test_the_drop_zone_offers_only_what_works(server, chromium, js, touch):
    """Without JavaScript the drop zone still said "Drop brain MRI slices (or a folder of them) here, paste an image,
    or choose files": drop and paste are app.js's (docs/WEB.md, "The page"), so a file dropped there was opened by the
    browser in place of the page, and a paste did nothing. A screen reader reads the shown title alone. A phone or a
    tablet (a touch screen: no hover, a coarse pointer) can neither drop nor paste a file: it said so there too."""
    context, page = _opened(chromium, server, js, has_touch=touch, is_mobile=touch)
    title = page.locator(".drop-title")
    if js and not touch:
        sync_api.expect(title).to_have_text(
            "Drop brain MRI slices (or a folder of them) here, paste an image, or choose files", use_inner_text=True)
    elif js:
        sync_api.expect(title).to_have_text("Choose brain MRI slices or scans to classify", use_inner_text=True)
    else:
        sync_api.expect(title).to_have_text("Choose brain MRI slices or scans, then Classify", use_inner_text=True)
    said = page.locator(".dropzone").aria_snapshot() if hasattr(title, "aria_snapshot") else title.inner_text()
    can_drop = js and not touch
    assert (" drop " in f" {said.lower()} ") is can_drop and ("paste" in said.lower()) is can_drop, said
    context.close()


def test_a_refused_forms_message_is_a_sentence_on_the_page(server, chromium):
    """Without JavaScript, 33 files (the form's limit is 32) came back as "too many files: 33 ...", in lower case at
    the start of the status line, alone, where "No file chosen: ..." is capitalised (pages.sentence); the title keeps
    the clause after "Error:", and the file input's description says the sentence first."""
    context = chromium.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(server)
    page.set_input_files("#file-input", [{"name": f"{k}.png", "mimeType": "image/png", "buffer": b"\x89PNG\r\n\x1a\n"}
                                         for k in range(33)])
    with page.expect_navigation():
        page.click("button[type=submit]")
    said = "Too many files: 33 (the limit is 32 per request)"
    sync_api.expect(page.locator("#page-status")).to_have_text(said)
    assert page.title().startswith("Error: too many files · ")
    sync_api.expect(page.locator("#file-input")).to_have_accessible_description(f"{said} {HINT}")
    context.close()


@pytest.mark.parametrize("touch", [False, True], ids=["desktop", "touch"])
def test_a_touch_screen_is_never_told_to_drop_or_paste(server, chromium, touch):
    """The drop zone's title tells a touch screen (no hover, a coarse pointer) to choose files, but Classify with none
    then said "No file chosen: choose, drop or paste ...", and the hint "from a folder dropped or chosen": the page's
    lines follow its title (app.css's media query, one home), and a mouse's page keeps its words."""
    context, page = _opened(chromium, server, True, has_touch=touch, is_mobile=touch)
    page.evaluate("document.getElementById('upload-form').requestSubmit()")  # Classify, no file chosen
    said = page.locator("#pick-status")
    sync_api.expect(said).to_contain_text("No file chosen")
    lines = f"{said.inner_text()} {page.locator('#hint-limits').inner_text()}".lower()
    context.close()
    assert ("drop" in lines) is not touch and ("paste" in lines) is not touch, lines
    assert "choose" in lines and "chosen, its first" in lines, lines


@pytest.mark.parametrize("touch", [False, True], ids=["desktop", "touch"])
def test_a_touch_screen_whose_folder_cannot_be_read_is_told_to_choose_its_files(server, chromium, touch):
    """A folder chosen on a touch screen whose walk fails outright said "drop or choose its files instead" (drop.js),
    though its drop zone says to choose: it follows the page's touch rule (app.css) as the page's other lines do."""
    context, page = _opened(chromium, server, True, has_touch=touch, is_mobile=touch)
    page.evaluate("""() => {
      const denied = new DOMException("denied", "SecurityError");
      window.braintumorFolders.walk = function () { return Promise.reject(denied); };
      document.getElementById("folder-input").dispatchEvent(new Event("change"));  // a folder chosen
    }""")
    said = page.locator("#pick-status")
    sync_api.expect(said).to_contain_text("could not read the folder")
    line = said.inner_text()
    context.close()
    assert line.endswith(("): choose" if touch else "): drop or choose") + " its files instead."), line
