"""A dropped folder is walked by the page (static/folders.js) as ``braintumor predict FOLDER`` walks it
(folder_scans.scan_folder): each test drops a folder in a real browser and checks the CLI's walk of the same folder
agrees. Skipped, never failed, when chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import make_dicom
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions
from test_browser_errors import os_drop
from test_browser_folders import WATCH_SENT, drop_and_read_notes, glioma_page
from test_image_refusals import _other_formats

from braintumor.dicom_sniff import NOT_SCAN_SUFFIXES
from braintumor.folder_notes import left_out_as, left_out_kind
from braintumor.folder_scans import scan_folder
from braintumor.image_headers import OTHER_FORMAT_SIGNATURES
from braintumor.input_plan import plan_inputs

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
        "Skipped 2 files in the folder that are not an image or a scan (1 .pdf, 1 .txt)."]
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
    """Which files a walk passes over are worth a note (folder_notes.left_out_as; left-out.js leftOutAs, as the bytes
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
    page_says = page.evaluate("cs => cs.map(c => window.braintumorLeftOut.leftOutAs(c[0], new Uint8Array(c[1]), "
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
        "Skipped 2 files in the folder that are not an image or a scan (1 .txt, 1 with no ending).",
        "Skipped 2 files in the folder (halves of .hdr + .img pairs are not read: save each pair as one .nii "
        "file): mri/brain.hdr, mri/brain.img.",
        "Skipped 1 file in the folder (images without an image ending are not read in a folder: drop or "
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
        "Skipped 1 file in the folder that is not an image or a scan (1 .txt).",
        "Skipped 4 GIF files in the folder (mri/b.gif, mri/c.GIF, mri/d.gif and 1 more), a format braintumor "
        f"does not read: {convert.format('them')}.",
        f"Skipped 1 HEIC file in the folder (mri/x.heic), a format braintumor does not read: "
        f"{convert.format('it')}."]
    where = f"in {folder} ({folder}/"
    assert [n.replace(where, "in the folder (mri/").replace(f", {folder}/", ", mri/") for n in cli] == [
        "note: s" + n[1:-1] for n in notes[1:]]  # the CLI's notes: the same words
    assert sent_names(page) == [["a.png"]]
    for name in ("a.png", "x.heic", "notes.txt"):
        (folder / name).unlink()
    assert [r["error"] for r in plan_inputs([folder])] == [
        f"only 4 GIF files in the folder, a format braintumor does not read: {convert.format('them')}"]
    page.reload()
    sync_api.expect(page.locator("html")).to_have_class("js")
    os_drop(page, [str(folder)])
    sync_api.expect(page.locator("#pick-status")).to_have_text(
        f"Only 4 GIF files in the folder, a format braintumor does not read: {convert.format('them')}.",
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
        "Skipped 1 file in the folder that is not an image or a scan (1 with no ending).",
        f"Skipped 2 GIF files in the folder (mri/IM0001, mri/b.gif), {convert.format('them')}.",
        f"Skipped 1 JPEG 2000 file in the folder (mri/IM0002), {convert.format('it')}."]
    assert [n.replace(f"{folder}/", "mri/").replace(f" in {folder} (", " in the folder (") for n in cli] == [
        "note: s" + n[1:-1] for n in notes[1:]]  # the CLI's notes: the same words
    assert sent_names(page) == [["a.png"]]
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def test_compressed_files_are_noted_by_the_page_and_the_cli_with_the_same_words(server, chromium, tmp_path):
    """A folder's ``y.dcm.gz`` or an ``IM0002`` that is a gzip was counted by the page with its other files ("not an
    image or a scan (1 .gz, 1 with no ending)"), and a drop of only those was "No image or scan found", no word of gzip
    (the CLI said nothing at all): both name them as compressed with how to undo it, in compressed_text's words, the
    page from the server (one home), and what they hold (a DICOM file), the page by inflating a gzip's first bytes
    (compressed.js); a .nii.gz is read as NIfTI by both, a .hdr.gz is half of a pair, a .zip a zip."""
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
    page_says = page.evaluate("cs => cs.map(c => window.braintumorLeftOut.leftOutAs(c[0], new Uint8Array(c[1]), "
                              "JSON.parse(document.getElementById('upload-form').dataset.unreadFormats)))",
                              [[name, list(head)] for name, head in cases])
    assert [c for c, js in zip(cases, page_says, strict=True)
            if left_out_kind(*c) != (js.partition(":")[0] if js else None)] == []
    packed = {magic[0]: f"compressed:{compressed_text(magic)}" for magic in MAGIC}  # by its first bytes: the compressor
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
    holds = compressed_text(gzip.compress(dicom))  # what it holds, and the same words else
    assert holds == why.replace(" file:", " file holding a DICOM file:")
    assert notes == [f"Skipped 2 files in the folder (each {holds}): mri/IM0002, mri/y.dcm.gz."]
    assert cli == [f"note: 2 files in {folder} not read (each {holds}): {folder}/IM0002, {folder}/y.dcm.gz"]
    assert sent_names(page) == [["a.png"]]
    (folder / "a.png").unlink()
    [record] = plan_inputs([folder])
    assert record["error"] == (f"only 2 compressed files in the folder: {folder}/IM0002, {folder}/y.dcm.gz are each "
                               f"{holds}")  # each named, as the note names them (the first alone was)
    page.reload()
    sync_api.expect(page.locator("html")).to_have_class("js")
    os_drop(page, [str(folder)])
    sync_api.expect(page.locator("#pick-status")).to_have_text(
        f"Only 2 compressed files in the folder: mri/IM0002, mri/y.dcm.gz are each {holds}.", timeout=30_000)
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def _gzip_heads() -> list[bytes]:
    """Inflated first bytes of every kind compressed_files._holds names, and of near misses."""
    from dicom_factory import axial_volume, nifti_bytes

    dicom = make_dicom(np.zeros((8, 8), dtype=np.uint8))
    nifti = nifti_bytes(axial_volume([np.zeros((8, 8), np.uint8)] * 2))
    nifti = __import__("gzip").decompress(nifti) if nifti[:2] == b"\x1f\x8b" else nifti
    tar = bytes(257) + b"ustar\x0000" + bytes(200)
    pages = [b"<html>", b"\xef\xbb\xbf  <!DOCTYPE HTML>", b"<?xml version='1.0'?>\n<html", b"<!-- saved -->\t<TITLE>x",
             b"<!-->x", b"<!-- never closed <html>", b"<?xml?><svg>", b"<p\xa0x", b"<P>", b"<\xc0>", b"<title",
             b"<meta http-equiv=refresh>", b"\x0b\x0c<br/>", b"<a href=x>", b"<abbr>"]
    return [*pages, b"%PDF-1.7", b"junk %PDF-", bytes(900) + b"%PDF-", bytes(1100) + b"%PDF-", dicom, nifti[:348],
            bytes(4) + b"n+2\x00\r\n\x1a\n", bytes(344) + b"ni1\x00", tar, b"PK\x03\x04", b"PK\x05\x06",
            b"\xff\xd8\xff\xe0", b"\x89PNG", b"BM", b"II*\x00", b"MM\x00*", b"RIFF0000WEBP", b"RIFF0000WAVE", b"GIF89a",
            b"", b"hello"]


def test_what_a_gzip_holds_is_named_by_the_page_as_by_the_cli(server, chromium):
    """compressed.js holds (a copy of compressed_files._holds) names each inflated head as the CLI does, whole or not,
    and the server's words for each code are compressed_text's."""
    import gzip

    from braintumor.compressed_files import _holds, compressed_text, page_words

    heads = _gzip_heads()
    page, problems = watched_page(chromium, server)
    images = page.evaluate("JSON.parse(document.getElementById('upload-form').dataset.unreadFormats).compressed.images")
    said = page.evaluate("([hs, images]) => hs.map(h => [true, false].map(w => "
                         "window.braintumorCompressed.holds(new Uint8Array(h), w, images)))",
                         [[list(h) for h in heads], images])
    assert said == [[_holds("gzip", h, True), _holds("gzip", h, False)] for h in heads]
    assert {code for pair in said for code in pair} >= {"", "pdf", "page", "nifti", "dicom", "tar", "zip", "image:PNG"}
    words = page_words()["kinds"][0][1]
    assert all(words[_holds("gzip", h, True)] == compressed_text(gzip.compress(h)) for h in heads)
    assert problems == []
    page.close()


def folder_of(tmp_path: Path, files: dict[str, bytes]) -> tuple[Path, dict[str, str]]:
    """A folder ``mri`` of an image and ``files``, and what braintumor predict's notes say of each file, by name."""
    folder = tmp_path / "mri"
    folder.mkdir()
    (folder / "a.png").write_bytes(b"\x89PNG")
    for name, data in files.items():
        (folder / name).write_bytes(data)
    cli: list[str] = []
    assert list(plan_inputs([folder], cli.append)) == [folder / "a.png"]
    said = (re.match(r"note: \d+ files? in .*? not read \((?:each )?(.*)\): (.*)$", n) for n in cli)
    return folder, {Path(f).name: m[1] for m in said for f in m[2].split(", ")}


def page_notes_of(page, folder: Path) -> dict[str, str]:
    """What the page's notes say of each file of ``folder`` dropped on it, by name."""
    notes = drop_and_read_notes(page, [str(folder)], "Done: 1 classified (see below).")
    return {f.removeprefix("mri/"): m[1] for m in (
        re.match(r"Skipped \d+ files? in the folder \((?:each )?(.*)\): (.*)\.$", n) for n in notes)
        for f in m[2].split(", ")}


def test_a_dropped_folders_gzips_are_said_by_what_they_hold_as_the_cli_says_them(server, chromium, tmp_path):
    """The page named only the compressor of a folder's compressed file ("a gzip-compressed file: ...") where
    braintumor predict said what it holds ("a gzip-compressed file holding a PDF document, ..."): the page inflates a
    gzip's first bytes, as many as the CLI reads (a large one's first 4096), and says the CLI's words; a cut-short
    one is said as the CLI says it; a bzip2, which browsers do not inflate, keeps the compressor's words."""
    import bz2
    import gzip

    from braintumor.compressed_files import compressed_text

    heads = _gzip_heads()
    held = {kind: next(h for h in heads if h[at:].startswith(start))
            for kind, at, start in (("dicom", 128, b"DICM"), ("nifti", 344, b"n+1"), ("tar", 257, b"ustar"),
                                    ("png", 0, b"\x89PNG"))}
    rng = np.random.default_rng(0)
    files = {"report.pdf.gz": gzip.compress(b"%PDF-1.7\n" + rng.bytes(20_000)), "page.gz": gzip.compress(heads[3]),
             "vol.gz": gzip.compress(held["nifti"]), "IM0002": gzip.compress(held["dicom"]),
             "backup.tgz": gzip.compress(held["tar"]), "png.gz": gzip.compress(held["png"]),
             "words.gz": gzip.compress(b"hello" * 300), "cut.gz": gzip.compress(b"%PDF-1.7 short")[:-6],
             "big.gz": gzip.compress(rng.bytes(9000) + b"%PDF-"), "IM0003": bz2.compress(held["dicom"])}
    folder, cli_says = folder_of(tmp_path, files)
    page, problems = watched_page(chromium, server)
    page_says = page_notes_of(page, folder)
    assert sorted(cli_says) == sorted(files) and len(set(cli_says.values())) == 8  # 3 say nothing held: one note
    assert page_says == {**cli_says, "IM0003": compressed_text(b"BZh")}  # the bzip2: the compressor's words
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()
