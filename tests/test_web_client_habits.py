"""The API against what HTTP clients send as their users type it: file names in headers, options in the form.
The shipped model (no training needed); each file here is refused or classified, only its record is looked at."""

from __future__ import annotations

import pytest

from braintumor.model_files import default_model_path
from braintumor.web import create_app
from braintumor.wording import NOT_AN_INPUT


@pytest.fixture(scope="module")
def client():
    from braintumor.predictor import Classifier

    if not default_model_path().exists():
        pytest.skip("no shipped model")
    return create_app(classifier=Classifier.load(threads=1)).test_client()


@pytest.mark.parametrize(("sent", "name"), [
    ('M\u00fcller \u5206.jpg'.encode(), "M\u00fcller \u5206.jpg"),  # UTF-8, as curl sends what was typed
    ("M\u00fcller.jpg".encode("latin-1"), "M\u00fcller.jpg"),  # Latin-1 (requests sends a header's ü so)
])
def test_a_raw_bodys_utf8_file_name_is_read_as_utf8_not_latin1(client, sent, name):
    """``curl -H 'Content-Disposition: attachment; filename="Müller.jpg"'`` sends the name's UTF-8 bytes; WSGI gives
    header bytes as Latin-1, and the record's path was ``MÃ¼ller.jpg`` where the same name in a multipart part was
    right. A name that is not UTF-8 stays Latin-1."""
    header = b'attachment; filename="' + sent + b'"'
    r = client.post("/api/v1/predict", data=b"not an image", content_type="application/octet-stream",
                    headers={"Content-Disposition": header.decode("latin-1")})  # as WSGI hands the bytes over
    assert r.status_code == 400 and r.get_json()["results"] == [{"path": name, "error": NOT_AN_INPUT}]


B = b"----braintumorTestBoundary0123"
FILE = (b'name="file"; filename="scan.jpg"', b"not an image")


def _form(*parts: tuple[bytes, bytes]) -> bytes:
    """A multipart body of ``(Content-Disposition's parameters, data)`` parts, boundary ``B``."""
    return b"".join(b"--" + B + b"\r\nContent-Disposition: form-data; " + head + b"\r\n\r\n" + data + b"\r\n"
                    for head, data in parts) + b"--" + B + b"--\r\n"


@pytest.mark.parametrize(("fields", "said"), [
    ([(b'name="heatmap"', b"1")], "('heatmap') is not taken: send only files, in the field 'file'; a heat map is "
                                  "asked for in the URL, ?heatmap=1"),
    ([(b'name="patient"', b"JANE DOE"), (b'name="note"', b"")], "('note', 'patient') are not taken: send only files, "
                                                                  "in the field 'file'"),
    ([(b'name="file"', b"scan.jpg")], "('file') is not taken"),  # a text value in the files' own field, beside them
])
def test_text_form_fields_beside_the_files_are_a_400_not_ignored(client, fields, said):
    """``curl -F file=@scan.jpg -F heatmap=1`` gave no heat maps and no word, where ``?heatmaps=1`` is refused: a
    text field beside the files was dropped unsaid. Its name is said, never its value."""
    for body in (_form(FILE, *fields), _form(*fields, FILE)):
        r = client.post("/api/v1/predict", data=body, content_type=f"multipart/form-data; boundary={B.decode()}")
        error = r.get_json()["error"]
        assert r.status_code == 400 and "form field" in error and said in error
        assert "JANE" not in error


@pytest.mark.parametrize("size", [1000, 700_000])  # on either side of Werkzeug's 500 kB limit on a form's fields
def test_a_file_sent_as_curls_default_urlencoded_type_is_a_415_whatever_its_size(client, size):
    """``curl --data-binary @scan.dcm URL`` without ``-H`` labels the file application/x-www-form-urlencoded: a small
    one was told which types are taken (415), one over 500 kB, parsed as a form, "too many files or form fields in one
    request, or a form field too long" (400), of a request with one file in it."""
    r = client.post("/api/v1/predict", data=b"\x00\xff" * (size // 2), content_type="application/x-www-form-urlencoded")
    error = r.get_json()["error"]
    assert r.status_code == 415 and error.startswith("send images as multipart/form-data in the field 'file'")
    assert "(the body came as application/x-www-form-urlencoded, which curl --data-binary sends unless" in error
