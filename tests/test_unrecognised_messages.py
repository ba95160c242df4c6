"""A file no reader recognises is told what that entry point accepts: it was "expected JPEG, PNG, BMP, TIFF or WebP
content" everywhere, while `braintumor predict` and the web page also take DICOM, NIfTI and zips, and the Python
API's Classifier.predict takes 2-D images only (braintumor.volume_io.read_volumes reads the scans). evaluate and
train read image files only: their message stays. Text named .jpg; the tiny test model."""

from __future__ import annotations

import io
import json
import re

import pytest
from cli_runner import run_cli

from braintumor.image_io import ImageError, read_image
from braintumor.web import create_app

OLD = "not a recognised image: expected JPEG, PNG, BMP, TIFF or WebP content"
PREDICT = ("not a recognised image or scan: expected a JPEG, PNG, BMP, TIFF or WebP image, a DICOM file, a NIfTI "
           "volume (.nii, .nii.gz) or a zip of DICOM or NIfTI files")
TEXT = b"I am text named .jpg"


def test_predict_names_the_scans_it_reads_too(tiny_model, tmp_path, capsys):
    (tmp_path / "notes.jpg").write_bytes(TEXT)
    rc, out, _ = run_cli(["predict", str(tmp_path / "notes.jpg"), "--format", "jsonl", "--model", str(tiny_model)],
                         capsys)
    assert rc == 1 and json.loads(out)["error"] == PREDICT


def test_the_web_api_and_page_name_the_scans_they_read_too(tiny_classifier):
    client = create_app(classifier=tiny_classifier).test_client()
    for query in ("", "?heatmap=1"):
        r = client.post(f"/api/v1/predict{query}", data={"file": [(io.BytesIO(TEXT), "notes.jpg")]},
                        content_type="multipart/form-data")
        assert r.status_code == 400 and r.get_json()["results"] == [{"path": "notes.jpg", "error": PREDICT}]
    page = client.post("/", data={"file": [(io.BytesIO(TEXT), "notes.jpg")]}, content_type="multipart/form-data")
    shown = PREDICT[0].upper() + PREDICT[1:]  # the card says it as a sentence (pages.sentence); the JSON as above
    assert shown in page.get_data(as_text=True) and OLD[0].upper() + OLD[1:] not in page.get_data(as_text=True)


def test_the_python_api_points_scans_to_read_volumes(tiny_classifier):
    with pytest.raises(ImageError) as said:
        tiny_classifier.predict(TEXT)
    assert str(said.value) == (f"{OLD} (Classifier.predict reads 2-D images; braintumor.volume_io.read_volumes "
                               "reads DICOM, NIfTI and zips of DICOM files)")
    with pytest.raises(ImageError, match=f"^{OLD}$"):  # the 2-D reader itself, as evaluate and train use it
        read_image(TEXT)


PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"  # a report, or slices printed to PDF
PDF_SAID = ("a PDF document, not an image or scan: export the slice from the viewer as PNG or JPEG, or send its DICOM "
            "file")


def test_a_pdf_is_named_and_told_what_to_send_everywhere(tiny_model, tiny_classifier, tmp_path, capsys):
    """A PDF named or uploaded was "not a recognised image or scan", which listed what is read, not what was sent."""
    from braintumor.volume_io import read_volumes

    (tmp_path / "report.pdf").write_bytes(PDF)
    (tmp_path / "IM0001").write_bytes(b"\n" + PDF)  # its ending says nothing; bytes before the header are allowed
    rc, out, _ = run_cli(["predict", str(tmp_path / "report.pdf"), str(tmp_path / "IM0001"), "--format", "jsonl",
                          "--model", str(tiny_model)], capsys)
    assert rc == 1 and [json.loads(line)["error"] for line in out.splitlines()] == [PDF_SAID, PDF_SAID]
    client = create_app(classifier=tiny_classifier).test_client()
    r = client.post("/api/v1/predict", data={"file": [(io.BytesIO(PDF), "report.pdf")]},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["results"] == [{"path": "report.pdf", "error": PDF_SAID}]
    page = client.post("/", data={"file": [(io.BytesIO(PDF), "report.pdf")]}, content_type="multipart/form-data")
    assert PDF_SAID in page.get_data(as_text=True)
    for read in (tiny_classifier.predict, read_image, lambda data: list(read_volumes(data))):
        with pytest.raises(ImageError, match=f"^{PDF_SAID}$"):
            read(PDF)


def test_a_web_page_saved_under_an_images_name_is_named(tiny_model, tiny_classifier, tmp_path, capsys):
    """A download that saved a sign-in page as scan.jpg was "not a recognised image or scan" (a .zip's was already
    named an HTML page); an SVG's XML is no web page."""
    from braintumor.documents import WEB_PAGE
    from braintumor.volume_io import read_volumes

    page = b"\n  <!DOCTYPE html><html><head><title>Sign in</title></head></html>"
    (tmp_path / "scan.jpg").write_bytes(page)
    (tmp_path / "logo.jpg").write_bytes(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>')
    rc, out, _ = run_cli(["predict", str(tmp_path / "scan.jpg"), str(tmp_path / "logo.jpg"), "--format", "jsonl",
                          "--model", str(tiny_model)], capsys)
    assert rc == 1 and [json.loads(line)["error"] for line in out.splitlines()] == [WEB_PAGE, PREDICT]
    assert WEB_PAGE.startswith("an HTML page, not an image or scan")
    client = create_app(classifier=tiny_classifier).test_client()
    r = client.post("/api/v1/predict", data={"file": [(io.BytesIO(page), "scan.jpg")]},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["results"] == [{"path": "scan.jpg", "error": WEB_PAGE}]
    for read in (tiny_classifier.predict, read_image, lambda data: list(read_volumes(data))):
        with pytest.raises(ImageError, match=f"^{re.escape(WEB_PAGE)}$"):
            read(page.upper())  # <!DOCTYPE HTML> alike


def test_a_document_saved_under_a_scans_name_is_named(tiny_model, tiny_classifier, tmp_path, capsys):
    """A sign-in page a download saved as scan.dcm or head.nii.gz (or a PDF report named so) was "not a DICOM file: no
    'DICM' marker ..." or "not a NIfTI-1/NIfTI-2 single file (.nii): magic number missing", where the same page
    named scan.jpg or scan.zip is named an HTML page. Said by the CLI, the API and read_volumes alike."""
    from braintumor.documents import WEB_PAGE
    from braintumor.volume_io import read_volumes

    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head></html>"
    files = {"scan.dcm": page, "head.nii.gz": page, "IM0001.dicom": PDF, "t1.nii": PDF}
    said = [WEB_PAGE, WEB_PAGE, PDF_SAID, PDF_SAID]
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    rc, out, _ = run_cli(["predict", *(str(tmp_path / n) for n in files), "--format", "jsonl",
                          "--model", str(tiny_model)], capsys)
    assert rc == 1 and [json.loads(line)["error"] for line in out.splitlines()] == said
    r = create_app(classifier=tiny_classifier).test_client().post(
        "/api/v1/predict", data={"file": [(io.BytesIO(data), name) for name, data in files.items()]},
        content_type="multipart/form-data")
    assert [x["error"] for x in r.get_json()["results"]] == said
    for (name, data), words in zip(files.items(), said, strict=True):
        with pytest.raises(ImageError) as refused:
            read_volumes(data, name=name)
        assert str(refused.value) == words


@pytest.mark.parametrize("page", [b"\xef\xbb\xbf<!DOCTYPE html><html><title>Sign in</title></html>",
                                  b"<!-- saved from url=(0014)about:internet -->\n<html><body>Sign in</body></html>",
                                  b'<?xml version="1.0" encoding="UTF-8"?>\n<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML '
                                  b'1.0 Strict//EN" "x">\n<html xmlns="http://www.w3.org/1999/xhtml"></html>'],
                         ids=["bom", "comment", "xhtml"])
def test_a_web_page_is_named_after_a_byte_order_mark_a_comment_or_an_xml_declaration(page):
    """A page saved by Windows (a UTF-8 byte order mark), by a browser's 'Save as' (a '<!-- saved from url -->'
    comment first) or served as XHTML (an XML declaration first) was 'not a recognised image or scan'. An SVG's XML
    declaration is still no page (test above)."""
    from braintumor.documents import WEB_PAGE

    with pytest.raises(ImageError, match=f"^{re.escape(WEB_PAGE)}$"):
        read_image(page)


@pytest.mark.parametrize("page", [b'<meta http-equiv="refresh" content="0; url=/login">',
                                  b"<script>window.location = '/login'</script>", b"<TITLE>Sign in</TITLE>",
                                  b"\n<body>\n403 Forbidden</body>", b"<p>Not found</p>"],
                         ids=["redirect", "script", "title", "body", "p"])
def test_a_web_page_without_an_html_tag_is_named(page):
    """A page that begins with another tag a browser takes for HTML (a redirect's <meta>, a <script>, a <title>: a
    sign-in or error page without <html>) was 'not a recognised image or scan'; the same name followed by another
    letter, and an SVG, are no page."""
    from braintumor.documents import WEB_PAGE, is_web_page
    from braintumor.volume_io import read_volumes

    for read in (read_image, lambda data: list(read_volumes(data, name="scan.dcm"))):
        with pytest.raises(ImageError, match=f"^{re.escape(WEB_PAGE)}$"):
            read(page)
    assert not any(map(is_web_page, [b"<pre>x</pre>", b"<svg xmlns='x'/>", b"<bodyx>", b"<meta"]))
