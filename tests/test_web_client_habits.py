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
