"""Multipart parsing with a per-process boundary: same files byte for byte, one regex compile per length."""

from __future__ import annotations

import io
import uuid

import pytest
import werkzeug.formparser

from braintumor.predict_cli import records
from braintumor.web import create_app
from braintumor.web.form_parsing import STABLE_BOUNDARY_MAX_BYTES, StableBoundaryParser


def body(boundary: str, files: list[tuple[str, bytes]], text: dict[str, str] | None = None) -> bytes:
    out = b""
    for name, value in (text or {}).items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
    for name, data in files:
        out += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
                "Content-Type: application/octet-stream\r\n\r\n").encode() + data + b"\r\n"
    return out + f"--{boundary}--\r\n".encode()


def parse(boundary: str, data: bytes):
    _, form, files = StableBoundaryParser().parse(io.BytesIO(data), "multipart/form-data", len(data),
                                                  {"boundary": boundary})
    return form, files


# file contents that look like delimiters of other boundaries, or of a prefix of the real one
TRICKY = [b"\r\n--", b"--\r\n", b"\r\n--abc\r\n", bytes(range(256)) * 4, b"\r\n----WebKitFormBoundary\r\n", b""]


@pytest.mark.parametrize("boundary", ["----WebKitFormBoundary7MA4YWxkTrZu0gW",  # Chrome, Safari
                                      "-" * 27 + "38113462914276452342831", uuid.uuid4().hex,  # Firefox, requests
                                      "short", "x" * 70])
def test_files_and_fields_arrive_byte_for_byte(boundary):
    files = [(f"f{k}.bin", data) for k, data in enumerate(TRICKY)]
    form, got = parse(boundary, body(boundary, files, {"note": "--" + boundary[: len(boundary) // 2]}))
    assert form["note"] == "--" + boundary[: len(boundary) // 2]
    assert [(f.filename, f.read()) for f in got.getlist("file")] == files


def test_new_client_boundaries_reach_werkzeug_as_one_boundary_per_length(monkeypatch):
    """What makes it cheap: werkzeug's decoder (which compiles regexes per boundary) sees one boundary."""
    seen = []
    real = werkzeug.formparser.MultipartDecoder

    class Recording(real):
        def __init__(self, boundary, *args, **kwargs):
            seen.append(boundary)
            super().__init__(boundary, *args, **kwargs)

    monkeypatch.setattr(werkzeug.formparser, "MultipartDecoder", Recording)
    for _ in range(3):
        b = uuid.uuid4().hex
        _, files = parse(b, body(b, [("a.jpg", b"\xff\xd8 data " + b.encode())]))
        assert files["file"].read() == b"\xff\xd8 data " + b.encode()  # the client's boundary in its own data stays
    assert len(set(seen)) == 1 and len(seen[0]) == 32
    parse("short", body("short", [("a.jpg", b"x")]))  # < 16 characters: parsed as sent
    b = "B" * 20
    big = body(b, [("a.bin", b"\0" * STABLE_BOUNDARY_MAX_BYTES)])  # too big to copy: parsed as sent
    parse(b, big)
    assert seen[-2:] == [b"short", b.encode()]


def test_the_api_answers_the_same_for_any_boundary(tiny_classifier, test_images):
    app = create_app(classifier=tiny_classifier, max_upload_mb=4, max_files=5)
    client = app.test_client()
    path = test_images["glioma"][0]
    (expected,) = records(tiny_classifier, [str(path)])
    for boundary in (uuid.uuid4().hex, uuid.uuid4().hex, "----WebKitFormBoundaryABCDEFGH12345678", "tiny"):
        r = client.post("/api/v1/predict", data=body(boundary, [("scan.jpg", path.read_bytes())]),
                        content_type=f"multipart/form-data; boundary={boundary}")
        assert r.status_code == 200
        assert r.get_json()["results"] == [{**expected, "path": "scan.jpg"}]
