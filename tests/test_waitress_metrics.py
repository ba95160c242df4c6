"""``braintumor serve`` on Windows runs the app under waitress, which refuses a request body over the upload limit with
its own 413 before the app sees the request. Run here for real (waitress is pure Python): such a request must be in
/metrics, as the app's own 413 is under gunicorn."""

from __future__ import annotations

import contextlib
import http.client
import socket
from collections.abc import Iterator

import pytest
from prometheus_client.parser import text_string_to_metric_families
from serve_process import running_waitress

waitress = pytest.importorskip("waitress", reason="waitress (the Windows server; the dev extra installs it) is absent")

from braintumor import serve as serve_mod  # noqa: E402
from braintumor.web import create_app  # noqa: E402


def _running(app) -> contextlib.AbstractContextManager[int]:
    """The port of ``app`` under waitress as ``serve`` builds it, with the app's upload limit."""
    return running_waitress(app, **serve_mod.waitress_buffers(app.config["MAX_CONTENT_LENGTH"]))


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


def _refused(port: int, path: str, declared: int) -> int:
    """The status waitress answers a POST declaring a ``declared``-byte body with, its headers alone sent: waitress
    decides on the Content-Length, and a body it never reads would make its close a reset that can eat the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=20) as sock:
        sock.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                     f"Content-Length: {declared}\r\n\r\n".encode())
        answer = b""
        while b"\r\n" not in answer and (chunk := sock.recv(4096)):
            answer += chunk
    return int(answer.split()[1])


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
    assert [_refused(port, path, limit + 1) for path in ("/api/v1/predict", "/", "/no/such/page")] == [413] * 3
    after = _samples(port)

    def added(name: str, **labels: str) -> float:
        key = (name, tuple(sorted(labels.items())))
        return after.get(key, 0.0) - before.get(key, 0.0)

    assert added("braintumor_http_requests_total", endpoint="api.predict", status="413") == 1
    assert added("braintumor_http_requests_total", endpoint="pages.upload", status="413") == 1
    assert added("braintumor_http_requests_total", endpoint="unmatched", status="413") == 1
    assert added("braintumor_errors_total", kind="too_large") == 3
    assert added("braintumor_http_request_duration_seconds_count", endpoint="api.predict") == 1


def test_a_count_that_fails_does_not_cost_the_client_its_413(monkeypatch, caplog):
    """Counting is worth less than the answer: were count_refused to raise, waitress's 413 must still be sent."""
    import braintumor.web.monitoring as monitoring

    def broken(*args, **kwargs):
        raise RuntimeError("metrics broke")

    monkeypatch.setattr(monitoring, "count_refused", broken)
    app = _app()
    with _running(app) as port:
        assert _refused(port, "/api/v1/predict", app.config["MAX_CONTENT_LENGTH"] + 1) == 413
    assert "could not count waitress's 413" in caplog.text
