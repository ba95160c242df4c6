"""A dropped folder is walked by the page (static/folders.js) as ``braintumor predict FOLDER`` walks it
(input_plan.scan_folder): each test drops a folder in a real browser and checks the CLI's walk of the same folder
agrees. Skipped, never failed, when chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import make_dicom
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions
from test_browser_errors import os_drop
from test_browser_folders import WATCH_SENT, drop_and_read_notes, glioma_page
from test_image_refusals import _other_formats

from braintumor.dicom_sniff import NOT_SCAN_SUFFIXES
from braintumor.folder_notes import left_out_as, left_out_kind
from braintumor.image_headers import OTHER_FORMAT_SIGNATURES
from braintumor.input_plan import plan_inputs, scan_folder

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def watched_page(chromium, server):
    """The page answering "Glioma" to every request, noting what each sends (window.sentFiles)."""
    page, problems = glioma_page(chromium, server)
    page.add_init_script(WATCH_SENT)
    page.reload()
    sync_api.expect(page.locator("html")).to_have_class("js")
    return page, problems


def sent_names(page) -> list[list[str]]:
    return sorted([name for name, _, _ in files] for files in page.evaluate("window.sentFiles"))


def test_files_of_a_type_never_a_scan_are_not_opened_as_the_cli_does_not(server, chromium, tmp_path):
    """A .txt or .pdf holding DICOM bytes was read by the page (its first 132 bytes) and sent as a scan, while the
    CLI never opens such a file (dicom_sniff.NOT_SCAN_SUFFIXES): both now skip it by its name. The page has the list
    from the server (one home), not a copy."""
    folder = tmp_path / "export"
    folder.mkdir()
    dicom = make_dicom(np.zeros((8, 8), dtype=np.uint8))
    (folder / "a.png").write_bytes(b"\x89PNG")
    (folder / "IM0001").write_bytes(dicom)
    (folder / "report.txt").write_bytes(dicom)
    (folder / "scan.PDF").write_bytes(dicom)
    assert scan_folder(folder) == ([folder / "IM0001"], [])  # the CLI's walk: IM0001 its one scan
    page, problems = watched_page(chromium, server)
    given = page.locator("#upload-form").get_attribute("data-not-scan-suffixes")
    assert sorted(given.split()) == sorted(NOT_SCAN_SUFFIXES)
    os_drop(page, [str(folder)])
    sync_api.expect(page.locator("#page-status")).to_have_text("Done: 2 classified (see below).", timeout=30_000)
    assert sorted(page.locator("#results > .card .card-name").all_inner_texts()) == ["export/IM0001", "export/a.png"]
    assert sent_names(page) == [["IM0001"], ["a.png"]]
    assert page.locator("#page-notes p").all_inner_texts() == [
        "Skipped 2 files in the dropped folder that are not an image or a scan (1 .pdf, 1 .txt)."]
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def test_a_dcm_file_is_one_of_its_folders_series_whatever_its_bytes(server, chromium, tmp_path):
    """The CLI takes a folder's .dcm and .dicom files into its series whatever their first bytes (a scan its sniff
    does not know is read, or said unreadable, as a slice of it); the page sent such a file on its own, a second
    request and card beside the series'."""
    folder = tmp_path / "T1"
    folder.mkdir()
    dicom = make_dicom(np.zeros((8, 8), dtype=np.uint8))
    (folder / "IM0001").write_bytes(dicom)
    (folder / "IM0002").write_bytes(dicom)
    (folder / "odd.dcm").write_bytes(bytes(200))  # no preamble's 'DICM', no dataset the sniff knows
    assert scan_folder(folder) == ([folder / "IM0001", folder / "IM0002", folder / "odd.dcm"], [])
    page, problems = watched_page(chromium, server)
    os_drop(page, [str(folder)])
    sync_api.expect(page.locator("#page-status")).to_have_text("Done: 1 classified (see below).", timeout=30_000)
    assert page.locator("#results > .card .card-name").all_inner_texts() == ["T1"]
    sent = page.evaluate("window.sentFiles")
    assert [[name for name, _, _ in files] for files in sent] == [["series.zip"]]
    assert sent[0][0][1] == 2 * len(dicom) + 200 + 22 + 76 * 3 + 2 * (6 + 6 + 7)  # the three, stored, and headers
    assert page.locator("#page-notes p").count() == 0
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


PNG = b"\x89PNG\r\n\x1a\n" + bytes(24)
#: First bytes of each format not read (test_image_refusals'), and of files that only nearly are one.
OTHER_FORMAT_HEADS = [
    *(data[:132] for data in _other_formats().values()), b"\0\0\0\x18ftypmif1", b"8BPS\0\1" + bytes(20),
    b"GIF89a" + bytes(100), b"GIF89a\1\0\0\0", b"GIF87a", b"P5 is a text file\n", b"P1\n# a\n# b\n4 4", b"P7\nWIDTH 4",
    b"P2\xa04 4", b"\0\0\1\0\0\0" + bytes(40), b"\0\0\1\0\0\1" + bytes(10), b"\0\0\1\0\1\1" + bytes(10),
    b"\0\0\0\x0cjP  \r\n\x87", b"\xff\x0a", b"\xff\x4f\xff"]


def test_the_page_and_the_cli_note_the_same_files_left_out(server, chromium):
    """Which files a walk passes over are worth a note (folder_notes.left_out_as; folders.js leftOutAs, as the bytes
    are read in the browser): the same answer for each name and first bytes, a format not read named alike by its
    ending or its bytes (the page runs the server's patterns, image_headers.OTHER_FORMAT_SIGNATURES: it knew a GIF
    named IM0001 by no ending, and counted it "not an image")."""
    names = ["a.zip", "A.ZIP", "x.hdr", "x.HDR.gz", "x.img", "x.Img.gz", "x.hdr.txt", "scan", "scan.1", "notes.md",
             "DICOMDIR", "dicomdir", "DICOMDIR.txt", "a.gif", "x.PGM", "y.heic", "z.psd", "x.gif.txt", ".gif", "x.",
             "IM0001"]
    heads = [PNG, b"\xff\xd8\xff\xe0", b"\xff\xd8", b"II*\x00", b"MM\x00*", b"II\x00*", b"RIFF\0\0\0\0WEBPVP8 ",
             b"RIFF\0\0\0\0WAVE", b"", bytes(132), b"PK\x03\x04", *OTHER_FORMAT_HEADS]
    cases = [(name, head) for name in names for head in heads]
    page, problems = open_page(chromium, server, 1024, 800)
    page_says = page.evaluate("cs => cs.map(c => window.braintumorFolders.leftOutAs(c[0], new Uint8Array(c[1]), "
                              "JSON.parse(document.getElementById('upload-form').dataset.unreadFormats)))",
                              [[name, list(head)] for name, head in cases])
    assert [c for c, js in zip(cases, page_says, strict=True) if left_out_as(*c) != js] == []
    assert {left_out_kind(*c) for c in cases} == {"dicomdir", "zip", "pair", "image", "other", None}  # each is tried
    named = {left_out_as("IM0001", head) for head in OTHER_FORMAT_HEADS}  # each format, and near misses as none
    assert named == {None} | {f"other:{name}" for name, _ in OTHER_FORMAT_SIGNATURES}
    assert problems == []
    page.close()


def test_halves_of_pairs_and_images_without_an_ending_are_noted_as_the_cli_notes_them(server, chromium, tmp_path):
    """The CLI says which files of a folder it did not read that look like inputs: half of a .hdr/.img pair, an image
    with no image ending. The page counted them with its notes and results ("2 with no ending"), and said nothing of
    how to have them read; it now says what the CLI says, in the same words (folder_notes.LEFT_OUT_WHY). A .txt is
    not opened to look (NOT_SCAN_SUFFIXES): a PNG named photo.txt is not noted, by either."""
    folder = tmp_path / "mri"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG")
    (folder / "brain.hdr").write_bytes(bytes(348))
    (folder / "brain.img").write_bytes(bytes(64))
    (folder / "scan").write_bytes(PNG)
    (folder / "photo.txt").write_bytes(PNG)
    (folder / "notes").write_text("notes")
    left: list = []
    assert scan_folder(folder, left) == ([], [])
    assert sorted((p.name, kind) for p, kind in left) == [("brain.hdr", "pair"), ("brain.img", "pair"),
                                                          ("scan", "image")]
    page, problems = watched_page(chromium, server)
    notes = drop_and_read_notes(page, [str(folder)], "Done: 1 classified (see below).")
    assert notes == [
        "Skipped 2 files in the dropped folder that are not an image or a scan (1 .txt, 1 with no ending).",
        "Skipped 2 files in the dropped folder (halves of .hdr + .img pairs are not read: save each pair as one .nii "
        "file): mri/brain.hdr, mri/brain.img.",
        "Skipped 1 file in the dropped folder (images without an image ending are not read in a folder: drop or "
        "choose each one itself, or rename it .jpg, .png, ...): mri/scan."]
    assert sent_names(page) == [["a.png"]]
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def test_jfif_and_jpe_files_in_a_dropped_folder_are_sent_as_jpegs_as_the_cli_reads_them(server, chromium, tmp_path):
    """A .jfif or .jpe is a JPEG (image_files.IMAGE_EXTENSIONS): the page counted them as "not an image or a scan" and
    the CLI called them "images without an image ending"; both now read them, in any case."""
    folder = tmp_path / "web"
    folder.mkdir()
    jpeg = b"\xff\xd8\xff\xe0" + bytes(60)
    for name in ("a.jfif", "b.JPE", "c.JFIF"):
        (folder / name).write_bytes(jpeg)
    notes: list[str] = []
    assert [p.name for p in plan_inputs([folder], notes.append)] == ["a.jfif", "b.JPE", "c.JFIF"] and notes == []
    page, problems = watched_page(chromium, server)
    assert drop_and_read_notes(page, [str(folder)], "Done: 3 classified (see below).") == []
    assert sent_names(page) == [["a.jfif"], ["b.JPE"], ["c.JFIF"]]
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def test_files_of_formats_not_read_are_noted_as_the_cli_notes_them(server, chromium, tmp_path):
    """GIFs and a HEIC in a dropped folder were counted with its notes ("1 .gif, 1 .heic ... not an image or a scan")
    and the CLI said nothing of them: both now say how many of each format, and what to convert them to, in the same
    words (image_io's: wording.unread_format_text); a drop of only those says so, not "No image or scan found"."""
    folder = tmp_path / "mri"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG")
    for name in ("b.gif", "c.GIF", "d.gif", "e.gif"):
        (folder / name).write_bytes(b"GIF89a")
    (folder / "x.heic").write_bytes(b"\0\0\0\x18ftypheic")
    (folder / "notes.txt").write_text("notes")
    cli: list[str] = []
    assert list(plan_inputs([folder], cli.append)) == [folder / "a.png"]
    page, problems = watched_page(chromium, server)
    notes = drop_and_read_notes(page, [str(folder)], "Done: 1 classified (see below).")
    convert = "convert {} to PNG (lossless, 8- or 16-bit) or to JPEG, BMP, TIFF or WebP"
    assert notes == [
        "Skipped 1 file in the dropped folder that is not an image or a scan (1 .txt).",
        "Skipped 4 GIF files in the dropped folder (mri/b.gif, mri/c.GIF, mri/d.gif and 1 more), a format braintumor "
        f"does not read: {convert.format('them')}.",
        f"Skipped 1 HEIC file in the dropped folder (mri/x.heic), a format braintumor does not read: "
        f"{convert.format('it')}."]
    where = f"in {folder} ({folder}/"
    assert [n.replace(where, "in the dropped folder (mri/").replace(f", {folder}/", ", mri/") for n in cli] == [
        "note: s" + n[1:-1] for n in notes[1:]]  # the CLI's notes: the same words
    assert sent_names(page) == [["a.png"]]
    for name in ("a.png", "x.heic", "notes.txt"):
        (folder / name).unlink()
    assert [r["error"] for r in plan_inputs([folder])] == [
        f"only 4 GIF files in the folder, a format braintumor does not read: {convert.format('them')}"]
    page.reload()
    sync_api.expect(page.locator("html")).to_have_class("js")
    os_drop(page, [str(folder)])
    sync_api.expect(page.locator("#page-status")).to_have_text(
        f"Only 4 GIF files in the dropped folder, a format braintumor does not read: {convert.format('them')}.",
        timeout=30_000)
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def test_a_file_of_a_format_not_read_without_an_ending_is_noted_by_its_bytes(server, chromium, tmp_path):
    """A GIF or a JPEG 2000 named IM0001 (no ending, as a PACS names files) in a dropped folder was counted "not an
    image or a scan (1 with no ending)", while braintumor predict named its format by its bytes: the page now runs the
    server's patterns over the first bytes it reads anyway (to look for DICOM), and says what the CLI says."""
    folder = tmp_path / "mri"
    folder.mkdir()
    formats = _other_formats()
    (folder / "a.png").write_bytes(b"\x89PNG")
    (folder / "IM0001").write_bytes(formats["GIF"])
    (folder / "b.gif").write_bytes(b"x")
    (folder / "IM0002").write_bytes(formats["JPEG 2000"])
    (folder / "notes").write_text("P1 is the first patient")  # a text is no Netpbm image
    cli: list[str] = []
    assert list(plan_inputs([folder], cli.append)) == [folder / "a.png"]
    page, problems = watched_page(chromium, server)
    notes = drop_and_read_notes(page, [str(folder)], "Done: 1 classified (see below).")
    convert = ("a format braintumor does not read: convert {} to PNG (lossless, 8- or 16-bit) or to JPEG, BMP, TIFF "
               "or WebP")
    assert notes == [
        "Skipped 1 file in the dropped folder that is not an image or a scan (1 with no ending).",
        f"Skipped 2 GIF files in the dropped folder (mri/IM0001, mri/b.gif), {convert.format('them')}.",
        f"Skipped 1 JPEG 2000 file in the dropped folder (mri/IM0002), {convert.format('it')}."]
    assert [n.replace(f"{folder}/", "mri/").replace(f" in {folder} (", " in the dropped folder (") for n in cli] == [
        "note: s" + n[1:-1] for n in notes[1:]]  # the CLI's notes: the same words
    assert sent_names(page) == [["a.png"]]
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def test_compressed_files_are_noted_by_the_page_and_the_cli_with_the_same_words(server, chromium, tmp_path):
    """A folder's ``y.dcm.gz`` or an ``IM0002`` that is a gzip was counted by the page with its other files ("not an
    image or a scan (1 .gz, 1 with no ending)"), and a drop of only those was "No image or scan found", no word of gzip
    (the CLI said nothing at all): both name them as compressed with how to undo it, in compressed_text's words, the
    page from the server (one home). The CLI's say what they hold (a DICOM file), as the page does not inflate them to
    learn; a .nii.gz is read as NIfTI by both, a .hdr.gz is half of a pair, a .zip a zip."""
    import bz2
    import gzip
    import lzma

    from braintumor.compressed_files import MAGIC, compressed_text

    dicom = make_dicom(np.zeros((8, 8), dtype=np.uint8))
    heads = [gzip.compress(dicom)[:132], gzip.compress(b"<html><title>Sign in</title>")[:132],
             bz2.compress(dicom)[:132], lzma.compress(dicom)[:132], gzip.compress(np.random.default_rng(0).bytes(500))
             [:132], b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00", b"\x1f\x8c" + bytes(130)]
    names = ["IM0002", "y.dcm.gz", "x.hdr.gz", "a.zip", "x.gif", "DICOMDIR"]
    cases = [(name, head) for name in names for head in heads]
    page, problems = watched_page(chromium, server)
    page_says = page.evaluate("cs => cs.map(c => window.braintumorFolders.leftOutAs(c[0], new Uint8Array(c[1]), "
                              "JSON.parse(document.getElementById('upload-form').dataset.unreadFormats)))",
                              [[name, list(head)] for name, head in cases])
    assert [c for c, js in zip(cases, page_says, strict=True)
            if left_out_kind(*c) != (js.partition(":")[0] if js else None)] == []
    packed = {magic[0]: f"compressed:{compressed_text(magic)}" for magic in MAGIC}  # the page's: the compressor's words
    assert [js for (_, head), js in zip(cases, page_says, strict=True) if js and js.startswith("compressed:")] == [
        packed[head[0]] for name, head in cases if name in ("IM0002", "y.dcm.gz") and head[:2] != b"\x1f\x8c"]
    assert {left_out_as("IM0002", head) for head in heads[5:]} == {*packed.values(), None}  # bytes alone: as the page

    folder = tmp_path / "mri"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG")
    (folder / "y.dcm.gz").write_bytes(gzip.compress(dicom))
    (folder / "IM0002").write_bytes(gzip.compress(dicom))
    cli: list[str] = []
    assert list(plan_inputs([folder], cli.append)) == [folder / "a.png"]
    notes = drop_and_read_notes(page, [str(folder)], "Done: 1 classified (see below).")
    why = packed[0x1F].partition(":")[2]
    assert notes == [f"Skipped 2 files in the dropped folder (each {why}): mri/IM0002, mri/y.dcm.gz."]
    holds = compressed_text(gzip.compress(dicom))  # the CLI's: what it holds, and the same words else
    assert holds == why.replace(" file:", " file holding a DICOM file:")
    assert cli == [f"note: 2 files in {folder} not read (each {holds}): {folder}/IM0002, {folder}/y.dcm.gz"]
    assert sent_names(page) == [["a.png"]]
    (folder / "a.png").unlink()
    [record] = plan_inputs([folder])
    assert record["error"] == (f"only 2 compressed files in the folder: {folder}/IM0002, {folder}/y.dcm.gz are each "
                               f"{holds}")  # each named, as the note names them (the first alone was)
    page.reload()
    sync_api.expect(page.locator("html")).to_have_class("js")
    os_drop(page, [str(folder)])
    sync_api.expect(page.locator("#page-status")).to_have_text(
        f"Only 2 compressed files in the dropped folder: mri/IM0002, mri/y.dcm.gz are each {why}.", timeout=30_000)
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()
