"""``braintumor serve`` on Windows runs the app under waitress, which refuses a request body over the upload limit with
a 413 before the app sees the request. Run here for real (waitress is pure Python): the answer must be the app's (JSON
for the API, the page for people, saying the limit), not waitress's plain text, and the request in /metrics, as the
app's own 413 is under gunicorn."""

from __future__ import annotations

import contextlib
import http.client
import json
import socket
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from serve_process import running_waitress

waitress = pytest.importorskip("waitress", reason="waitress (the Windows server; the dev extra installs it) is absent")

from braintumor import serve_waitress  # noqa: E402
from braintumor.web import create_app  # noqa: E402
from braintumor.web.hosts import BAD_HOST  # noqa: E402
from braintumor.web.pages import sentence  # noqa: E402


def _running(app) -> contextlib.AbstractContextManager[int]:
    """The port of ``app`` under waitress as ``serve`` builds it, with the app's upload limit."""
    return running_waitress(app, **serve_waitress.waitress_buffers(app.config["MAX_CONTENT_LENGTH"]))


def _app():
    """The app with a 10 kB upload limit."""
    from braintumor.predictor import Classifier

    return create_app(classifier=Classifier.load(threads=1), max_upload_mb=0.01)


@pytest.fixture(scope="module")
def server() -> Iterator[tuple[int, int]]:
    """(port, upload limit in bytes) of the app under waitress as ``serve`` builds it, with a 10 kB limit."""
    app = _app()
    with _running(app) as port:
        yield port, app.config["MAX_CONTENT_LENGTH"]


def _refused(port: int, path: str, declared: int, accept: str = "*/*",
             host: str = "localhost") -> tuple[int, str, bytes]:
    """(status, Content-Type, body) of waitress's answer to a POST declaring a ``declared``-byte body, its headers alone
    sent: waitress decides on them, and a body it never reads would make its close a reset that can eat the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: {host}\r\nAccept: {accept}\r\n"
                     f"Content-Type: application/octet-stream\r\nContent-Length: {declared}\r\n\r\n".encode())
        answer = b""
        while chunk := sock.recv(65536):  # waitress closes the connection after a 413
            answer += chunk
    header, _, body = answer.partition(b"\r\n\r\n")
    lines = header.decode("latin-1").split("\r\n")
    fields = dict(line.lower().split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), fields.get("content-type", ""), body


def _samples(port: int) -> dict[tuple, float]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    conn.request("GET", "/metrics")
    text = conn.getresponse().read().decode()
    conn.close()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def test_waitress_own_413_is_counted_under_its_route(server):
    """A body over the limit got waitress's 413 and was in no count: /metrics showed no request and no ``too_large``
    error, where under gunicorn the app answers (and counts) the same request, under api.predict and 413."""
    port, limit = server
    before = _samples(port)
    assert [_refused(port, path, limit + 1)[0] for path in ("/api/v1/predict", "/", "/no/such/page")] == [413] * 3
    after = _samples(port)

    def added(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert added("braintumor_http_requests_total", endpoint="api.predict", status="413") == 1
    assert added("braintumor_http_requests_total", endpoint="pages.upload", status="413") == 1
    assert added("braintumor_http_requests_total", endpoint="unmatched", status="413") == 1
    assert added("braintumor_errors_total", kind="too_large") == 3
    # timed as a refusal, apart from the predictions (code 4xx): the time waitress spent on the body is in no series
    assert added("braintumor_http_request_duration_seconds_count", endpoint="api.predict", code="4xx") == 1
    assert added("braintumor_http_request_duration_seconds_count", endpoint="api.predict", code="2xx") == 0


LIMIT_SAID = "upload too large: the limit is 0.01 MiB per request (all files together): send fewer files at a time"


def test_waitress_413_is_the_apps_json_for_the_api(server):
    """It was waitress's plain text ("exceeds max_body of 10486"), which says neither the limit in MB nor what to send
    instead, where the API promises ``{"error": ...}``."""
    port, limit = server
    status, ctype, body = _refused(port, "/api/v1/predict", limit + 1)
    assert (status, ctype) == (413, "application/json")
    assert json.loads(body)["error"].startswith(LIMIT_SAID)


def test_waitress_413_is_the_page_for_a_browser(server):
    port, limit = server
    status, ctype, body = _refused(port, "/", 10 * limit, accept="text/html,*/*;q=0.8")
    assert (status, ctype) == (413, "text/html; charset=utf-8")
    assert b"<html" in body and sentence(LIMIT_SAID).encode() in body  # said on the page as a sentence


def test_waitress_413_for_a_chunked_body_is_the_apps_json_too(server):
    """A chunked body declares no size: waitress refuses it once it has counted past the limit."""
    port, limit = server
    chunk = b"\0" * 4096
    framed = b"%x\r\n" % len(chunk) + chunk + b"\r\n"
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(b"POST /api/v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/octet-stream\r\n"
                     b"Transfer-Encoding: chunked\r\n\r\n" + framed * ((limit + 1) // len(framed) + 1))
        answer = b""
        while piece := sock.recv(65536):
            answer += piece
    assert answer.split()[1] == b"413" and b"application/json" in answer, answer[:300]
    assert json.loads(answer.partition(b"\r\n\r\n")[2])["error"].startswith(LIMIT_SAID)


def test_waitress_413_keeps_the_host_check():
    """The app's answer runs the app's before-request hooks: a Host the server does not answer still gets the Host
    refusal (plain text, never the page with the model's name in it), as under gunicorn."""
    from braintumor.predictor import Classifier

    app = create_app(classifier=Classifier.load(threads=1), max_upload_mb=0.01, allowed_hosts=["localhost"])
    with _running(app) as port:
        status, ctype, body = _refused(port, "/", app.config["MAX_CONTENT_LENGTH"] + 1, accept="text/html",
                                       host="rebound.example")
        assert (status, ctype) == (400, "text/plain; charset=utf-8")
        assert b"Host header" in body
        assert _refused(port, "/", app.config["MAX_CONTENT_LENGTH"] + 1)[0] == 413


def test_waitress_413_for_a_host_that_is_no_name_is_the_apps_400(server, caplog):
    """No page can be built for such a Host (its links): the app's answer raised there, and waitress's plain 413 went
    out with an error and a traceback in the log for each such request. The app answers it 400, in a line of text."""
    port, limit = server
    for host in (".example.com", "a" * 64 + ".example.com"):
        for path, accept, ctype in (("/", "text/html", "text/plain; charset=utf-8"),
                                    ("/api/v1/predict", "*/*", "application/json")):
            status, said, body = _refused(port, path, limit + 1, accept=accept, host=host)
            assert (status, said) == (400, ctype), (host, path, body[:200])
            assert BAD_HOST.encode() in body
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []


def test_an_app_answer_that_fails_does_not_cost_the_client_its_413(monkeypatch, caplog):
    """The app's words are worth less than the answer: were they to fail, waitress's own 413 must still be sent."""
    def broken(*args, **kwargs):
        raise RuntimeError(f"/scans/JANE_{'DOE'}.dcm")  # as its source line shows it: not the text logged

    monkeypatch.setattr(serve_waitress, "_app_answer", broken)
    app = _app()
    with _running(app) as port:
        status, ctype, _ = _refused(port, "/api/v1/predict", app.config["MAX_CONTENT_LENGTH"] + 1)
    assert (status, ctype) == (413, "text/plain; charset=utf-8")
    assert "could not give the app's answer to waitress's 413" in caplog.text
    assert "JANE_DOE" not in caplog.text  # an exception's text may hold the request's path: never logged
