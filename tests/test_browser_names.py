"""Names as the page shows them, in a real browser, with and without JavaScript: a file or zip member name may hold a
bidi override, a newline or an escape sequence (shown escaped, as the CLI shows them: wording.printable), be as long as
a file system allows, or name an empty file. Skipped, never failed, when chromium or playwright is absent (like
tests/test_browser.py)."""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import axial_volume, nifti_bytes, zip_bytes
from test_browser import open_page, pytestmark, sent_page  # noqa: F401 - pytestmark: the same skip conditions

from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes
from braintumor.wording import printable

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


#: A zip member name with what hides, reorders or breaks text: bidi override and isolate, zero-width space, escape
#: sequence, CR LF, tab, DEL, no-break and ideographic spaces, a tag character (outside the BMP).
ODD = "x\u202egnp\u2066\u200b\x1b[2J\r\n\t\x7f\xa0\u3000\U000e0041.nii"


def _files(jpeg: bytes) -> list[dict]:
    volume = nifti_bytes(axial_volume([np.full((48, 48), 40 * (i + 1), np.uint8) for i in range(3)]))
    files = [("x\u202egpj.exe", jpeg, "image/jpeg"), ("bad.zip", zip_bytes([(ODD, bytes(400))]), "application/zip"),
             ("good.zip", zip_bytes([(ODD, volume)]), "application/zip")]
    return [{"name": name, "mimeType": kind, "buffer": data} for name, data, kind in files]


def _shown(page) -> dict[str, str]:
    card = page.locator("#results > .card")
    series = page.locator("#results > .series")
    return {"image": card.nth(0).locator(".card-name").text_content().strip(),
            "error": card.nth(1).locator(".card-status-text").text_content().strip(),
            "series": series.locator(".series-name").text_content().strip(),
            "label": series.get_attribute("aria-label")}


def test_names_with_bidi_and_control_characters_are_shown_escaped(server, chromium, test_images):
    """A zip member named "x\\u202egnp.nii" showed as "xiin.png" in its series' heading and reversed its error
    message; a file named "x\\u202egpj.exe" showed as "xexe.jpg" until the server answered (and on, in the card's
    heading). The page, with and without JavaScript, shows them as the CLI does; the JSON and the CSV download keep
    them as they are, an uploaded file's own name too (it had them replaced with "_": "x\\u202egpj.exe" on the page
    with JavaScript, "x_gpj.exe" without it and in the CSV download)."""
    with pytest.raises(ImageError) as said:
        read_volumes(zip_bytes([(ODD, bytes(400))]), name="bad.zip")
    expected = {"image": r"x\u202egpj.exe", "error": printable(str(said.value)),
                "series": printable("good.zip:" + ODD), "label": "Scan " + printable("good.zip:" + ODD)}
    assert expected["error"].startswith(r"x\u202egnp\u2066\u200b\x1b[2J\r\n\t\x7f\xa0\u3000\U000e0041.nii: ")
    files = _files(test_images["glioma"][0].read_bytes())
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", files)
    sync_api.expect(page.locator("#page-status")).to_contain_text("Done", timeout=30_000)
    assert _shown(page) == expected
    with page.expect_download() as info:
        page.click("#download-csv")
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    assert rows[1][0] == "x\u202egpj.exe"  # as the CLI's csv keeps a file's name
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()
    context = chromium.new_context(java_script_enabled=False)  # the server-rendered page says the same
    page = context.new_page()
    page.goto(server)
    page.set_input_files("#file-input", files)
    page.locator("button[type=submit]").click()
    page.wait_for_load_state()
    shown = _shown(page)
    assert shown == expected  # the name as the browser sent it, which the JSON keeps as a zip member's
    context.close()


def test_a_long_name_and_an_empty_file(server, chromium):
    """A 255-character name (the most a file system allows) wraps inside its card at phone width; an empty file
    gets its own message and is counted as unreadable, not as a server failure."""
    long = "patient_scan_" * 19 + "t1_a.jpg"
    assert len(long) == 255
    page, problems = open_page(chromium, server, 375, 667)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", [{"name": long, "mimeType": "image/jpeg", "buffer": b"\xff\xd8junk"},
                                         {"name": "empty.jpg", "mimeType": "image/jpeg", "buffer": b""}])
    sync_api.expect(page.locator("#page-status")).to_have_text("Done: 0 classified, 2 unreadable (see below).",
                                                               timeout=20_000)
    cards = page.locator("#results > .card")
    assert cards.nth(0).locator(".card-name").text_content() == long
    assert cards.nth(1).locator(".card-status-text").text_content() == "File is empty (0 bytes)"
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert cards.nth(0).locator(".card-name").evaluate("e => e.scrollWidth <= e.clientWidth")
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


def test_a_name_with_a_backslash_is_the_same_on_its_card_in_the_csv_and_in_the_json(server, chromium, test_images):
    """The server keeps a sent name's last path component (an old Windows browser sends ``C:\\Users\\...\\a.png``, a
    user's name among the folders: inference._clean_name), so ``back\\slash.jpg`` (a Linux or macOS file may be so
    named) came back as ``slash.jpg``: the CSV said that, the card ``back\\slash.jpg``. The page names a file as the
    server will (text.js sentName): all three say ``slash.jpg``, and a name with spaces around it is trimmed alike."""
    jpeg = test_images["glioma"][0].read_bytes()
    page, problems = open_page(chromium, server, 1280, 900)
    sync_api.expect(page.locator("html")).to_have_class("js")
    answers = []
    page.on("response", lambda r: answers.append(r.json()) if "/api/v1/predict" in r.url else None)
    page.set_input_files("#file-input", [{"name": "back\\slash.jpg", "mimeType": "image/jpeg", "buffer": jpeg},
                                         {"name": " spaced.jpg ", "mimeType": "image/jpeg", "buffer": jpeg}])
    sync_api.expect(page.locator("#page-status")).to_have_text(re.compile("^Done: "), timeout=30_000)
    shown = page.locator("#results > .card .card-name").all_text_contents()  # as card.js sets them
    with page.expect_download() as info:
        page.click("#download-csv")
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text())))
    sent = sorted(r["path"] for a in answers for r in a["results"])
    assert shown == ["slash.jpg", "spaced.jpg"] and [r[0] for r in rows[1:]] == shown and sent == sorted(shown)
    assert problems == []
    page.close()


def test_a_dropped_folders_file_with_a_backslash_is_named_as_its_csv_row(server, chromium, test_images, tmp_path):
    """A folder's file is sent by its own name and its answers given the folder's path back (send.js): ``a\\b.jpg``
    was ``scans/a\\b.jpg`` on its card and ``scans/b.jpg`` in the CSV."""
    from test_browser_errors import os_drop
    from test_browser_folders import csv_paths

    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "a\\b.jpg").write_bytes(test_images["glioma"][0].read_bytes())
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    os_drop(page, [str(folder)])
    sync_api.expect(page.locator("#page-status")).to_have_text(re.compile("^Done: "), timeout=30_000)
    assert page.locator("#results > .card .card-name").all_text_contents() == ["scans/b.jpg"] == csv_paths(page)
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def test_a_name_past_the_servers_limit_is_cut_alike_on_its_card_in_the_csv_and_in_the_json(server, chromium,
                                                                                          test_images):
    """The server keeps a sent name's first 255 characters (inference.MAX_NAME), so a 400-character name (a file
    made in the browser, or named by another system) was whole on its card and cut in the CSV and the JSON (and on
    the page without JavaScript): the page cuts it as the server does, counting characters as Python does (one
    outside the BMP is one, not two UTF-16 units)."""
    from braintumor.web.inference import MAX_NAME

    jpeg = test_images["glioma"][0].read_bytes()
    names = ["\U0001f9e0" + "y" * 400 + ".jpg", "z" * 300 + ".jpg"]
    page, problems = open_page(chromium, server, 1280, 900)
    sync_api.expect(page.locator("html")).to_have_class("js")
    answers = []
    page.on("response", lambda r: answers.append(r.json()) if "/api/v1/predict" in r.url else None)
    page.set_input_files("#file-input", [{"name": names[0], "mimeType": "image/jpeg", "buffer": jpeg},
                                         {"name": names[1], "mimeType": "image/jpeg", "buffer": b"junk" * 30}])
    sync_api.expect(page.locator("#page-status")).to_have_text(re.compile("^Done: "), timeout=30_000)
    shown = page.locator("#results > .card .card-name").all_text_contents()
    with page.expect_download() as info:
        page.click("#download-csv")
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_text(encoding="utf-8"))))
    sent = sorted(r["path"] for a in answers for r in a["results"])
    assert shown == [name[:MAX_NAME] for name in names]
    assert [r[0] for r in rows[1:]] == shown and sent == sorted(shown)
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


def test_names_with_line_breaks_quotes_or_percent_escapes_are_alike_on_card_csv_json_and_plain_form(server, chromium,
                                                                                                   test_images):
    """A browser sends a file name's LF, CR and '"' as %0A, %0D and %22, which Werkzeug undid for %22 alone: "a\\nb.jpg"
    was "a\\\\nb.jpg" on its card and "a%0Ab.jpg" in the CSV, the JSON and the page without JavaScript; a file named
    "c%22d.jpg" was that on its card and 'c"d.jpg' elsewhere (the server reads the form's escapes back: inference.
    _clean_name; the page names a file as the server will, text.js sentName)."""
    jpeg = test_images["glioma"][0].read_bytes()
    names = ["a\nb.jpg", "c%22d.jpg", "e\rf.jpg", 'g"h.jpg', "i%0Aj.jpg"]
    server_names = ["a\nb.jpg", 'c"d.jpg', "e\rf.jpg", 'g"h.jpg', "i\nj.jpg"]
    files = [{"name": name, "mimeType": "image/jpeg", "buffer": jpeg} for name in names]
    page, problems = open_page(chromium, server, 1280, 900)
    sync_api.expect(page.locator("html")).to_have_class("js")
    answers = []
    page.on("response", lambda r: answers.append(r.json()) if "/api/v1/predict" in r.url else None)
    page.set_input_files("#file-input", files)
    sync_api.expect(page.locator("#page-status")).to_have_text(re.compile("^Done: "), timeout=30_000)
    shown = page.locator("#results > .card .card-name").all_text_contents()
    with page.expect_download() as info:
        page.click("#download-csv")
    rows = list(csv.reader(io.StringIO(Path(info.value.path()).read_bytes().decode("utf-8"), newline="")))
    assert shown == [printable(name) for name in server_names]
    assert [r[0] for r in rows[1:]] == server_names
    assert sorted(r["path"] for a in answers for r in a["results"]) == sorted(server_names)
    assert problems == []
    page.close()
    context, page = sent_page(chromium, server, files, js=False)
    assert page.locator("#results > .card .card-name").all_text_contents() == shown
    context.close()


def test_a_nul_in_a_sent_name_is_an_underscore_on_its_card_as_in_the_json(server, chromium, test_images):
    """A name sent with "%00" (a file so named: the server reads the form's %00-%1F back) is "k_l.jpg" in the JSON and
    the CSV (inference._clean_name: no file name holds a NUL), where its card (text.js sentName) kept the NUL, shown
    "k\\x00l.jpg". Lone surrogates, which no text holds, are "_" on both sides too."""
    from braintumor.web.inference import _clean_name

    page, problems = open_page(chromium, server, 1280, 900)
    sync_api.expect(page.locator("html")).to_have_class("js")
    for name in ("k%00l.jpg", "m\0n.jpg", "o\ud800p.jpg", "q\U0001f600r.jpg"):
        assert page.evaluate("n => window.braintumorText.sentName(n)", name) == _clean_name(name.replace(
            "%00", "\0"), 0), name
    answers = []
    page.on("response", lambda r: answers.append(r.json()) if "/api/v1/predict" in r.url else None)
    page.set_input_files("#file-input", [{"name": "k%00l.jpg", "mimeType": "image/jpeg",
                                          "buffer": test_images["glioma"][0].read_bytes()}])
    sync_api.expect(page.locator("#page-status")).to_have_text(re.compile("^Done: "), timeout=30_000)
    assert page.locator("#results > .card .card-name").all_text_contents() == ["k_l.jpg"]
    assert [r["path"] for a in answers for r in a["results"]] == ["k_l.jpg"]
    assert problems == []
    page.close()
