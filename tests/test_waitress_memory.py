"""Under waitress (``braintumor serve`` on Windows) no upload and no answer goes to a temporary file. waitress reads a
whole request body before the app sees it and, by its defaults, spools a body over 512 KB (``inbuf_overflow``) and an
answer over 1 MB (``outbuf_overflow``) to temporary files: patients' scans and their heat maps on the server's disk.
tests/test_web_serve.py checks the settings serve passes; here a real waitress server runs with them (waitress is pure
Python), with Python's temporary-file functions watched, beside a control run on waitress's defaults."""

from __future__ import annotations

import contextlib
import http.client
import socket
import tempfile
import uuid
from collections.abc import Iterator

import numpy as np
import pytest
from conftest import encode, synthetic_head
from serve_process import running_waitress

waitress = pytest.importorskip("waitress", reason="waitress (the Windows server; the dev extra installs it) is absent")

from braintumor import serve_waitress  # noqa: E402
from braintumor.web import create_app  # noqa: E402

#: The answer of the test's own route: over waitress's 1 MB outbuf_overflow, as the heat maps of a series can be.
BIG_ANSWER = 2 * 1024 * 1024
LIMIT_MB = 4


@pytest.fixture(scope="module")
def app():
    """The app with a 4 MB upload limit and one route of the test's own answering 2 MB."""
    from braintumor.predictor import Classifier

    app = create_app(classifier=Classifier.load(threads=1), max_upload_mb=LIMIT_MB)
    app.add_url_rule("/test-big-answer", "test_big_answer", lambda: b"x" * BIG_ANSWER)
    return app


@contextlib.contextmanager
def temporary_files() -> Iterator[list[str]]:
    """Every temporary file Python is asked for (waitress's spooling calls ``tempfile.TemporaryFile``; Werkzeug's a
    ``SpooledTemporaryFile`` that rolls over to one), recorded and then made as asked."""
    made: list[str] = []

    def recorded(name, real):
        def make(*args, **kwargs):
            made.append(name)
            return real(*args, **kwargs)
        return make

    with pytest.MonkeyPatch.context() as mp:
        for name in ("TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile", "mkstemp", "mkdtemp"):
            mp.setattr(tempfile, name, recorded(name, getattr(tempfile, name)))
        yield made


def _upload() -> tuple[bytes, str]:
    """A multipart body of one brain-like PNG, over waitress's 512 KB inbuf_overflow and under the 4 MB limit."""
    img = synthetic_head(900)
    img = np.clip(img.astype(int) + np.random.default_rng(0).integers(0, 40, img.shape), 0, 255).astype(np.uint8)
    data, boundary = encode(img, "PNG"), uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.png"\r\n'
            f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    assert 600_000 < len(body) < LIMIT_MB * 1024 * 1024
    return body, f"multipart/form-data; boundary={boundary}"


def _predict_and_fetch(port: int, chunked: bool) -> None:
    """An upload classified and the 2 MB answer read in full, both over the network."""
    body, ctype = _upload()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    if chunked:  # no Content-Length: waitress gathers the chunks in a buffer of the same kind
        pieces = (body[i:i + 65536] for i in range(0, len(body), 65536))
        conn.request("POST", "/api/v1/predict", body=pieces, headers={"Content-Type": ctype}, encode_chunked=True)
    else:
        conn.request("POST", "/api/v1/predict", body=body, headers={"Content-Type": ctype})
    answer = conn.getresponse()
    assert answer.status == 200, answer.read()[:300]
    answer.read()
    conn.request("GET", "/test-big-answer")
    answer = conn.getresponse()
    assert answer.status == 200 and len(answer.read()) == BIG_ANSWER
    conn.close()


@pytest.mark.parametrize("chunked", [False, True], ids=["content-length", "chunked"])
def test_an_upload_and_an_answer_over_waitress_spool_sizes_stay_in_memory(app, chunked):
    settings = serve_waitress.waitress_buffers(app.config["MAX_CONTENT_LENGTH"])
    with running_waitress(app, **settings) as port, temporary_files() as made:
        _predict_and_fetch(port, chunked)
    assert made == []


def test_the_watch_sees_waitress_spool_on_its_defaults(app):
    """Control: the same two requests under waitress's own buffer settings each make a temporary file."""
    limit = {"max_request_body_size": serve_waitress.waitress_buffers(app.config["MAX_CONTENT_LENGTH"])[
        "max_request_body_size"]}
    with running_waitress(app, **limit) as port, temporary_files() as made:
        _predict_and_fetch(port, chunked=False)
    assert made.count("TemporaryFile") >= 2, made  # the upload, then the answer


def test_a_chunked_upload_over_the_limit_gets_413_and_no_temporary_file(app):
    """A chunked body declares no size: waitress counts it as it arrives, in memory, and refuses it at the limit."""
    limit = app.config["MAX_CONTENT_LENGTH"]
    chunk = b"\0" * 65536
    with (running_waitress(app, **serve_waitress.waitress_buffers(limit)) as port, temporary_files() as made,
          socket.create_connection(("127.0.0.1", port), timeout=30) as sock):
        sock.sendall(b"POST /api/v1/predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n")
        framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
        # Just past the limit (waitress counts the framing too) and no further: a body it never reads would make its
        # close a reset that can eat the answer.
        sock.sendall(framed * ((limit + 1) // len(framed) + 1))
        answer = b""
        while b"\r\n" not in answer and (piece := sock.recv(4096)):
            answer += piece
    assert answer.split()[1:2] == [b"413"], answer[:200]
    assert made == []
