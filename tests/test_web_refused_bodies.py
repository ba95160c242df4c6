"""A request refused before its body is read (the Host's 400, another site's 403, 404, 405, 406, 415, 501) has its body
read and dropped before the answer (web/client_input.py's ``discard_unread_bodies``): under gunicorn (``serve``) a
client that sent several MB whole before reading the answer (Python's http.client, ``requests``) got a connection
reset, gunicorn having answered, drained at most 64 kB and closed. 408 and 413 still leave the rest unread."""

from __future__ import annotations

import http.client
import io

import pytest

from braintumor.web import create_app
from braintumor.web.hosts import allowed_hosts

PNG = {"Content-Type": "image/png"}
EVIL = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
#: name: (method, path, headers, status): each answered before its body is read
REFUSALS = {
    "host": ("POST", "/api/v1/predict", {**PNG, "Host": "evil.example"}, 400),
    "cross-site": ("POST", "/api/v1/predict", {**PNG, **EVIL}, 403),
    "unknown-path": ("POST", "/nope", PNG, 404),
    "method": ("PUT", "/api/v1/predict", PNG, 405),
    "page-for-json": ("POST", "/", {**PNG, "Accept": "application/json"}, 406),
    "content-type": ("POST", "/api/v1/predict", {"Content-Type": "text/plain"}, 415),
    "transfer-coding": ("POST", "/api/v1/predict", {**PNG, "Transfer-Encoding": "gzip, chunked"}, 501),
}


@pytest.mark.parametrize("name", REFUSALS)
def test_a_refused_body_is_read_to_its_end_before_the_answer(tiny_classifier, name):
    method, path, headers, status = REFUSALS[name]
    client = create_app(classifier=tiny_classifier, allowed_hosts=allowed_hosts("127.0.0.1", ["x"])).test_client()
    body = io.BytesIO(b"\0" * 300_000)
    headers = {"Host": "127.0.0.1:5000", **headers}
    r = client.open(path, method=method, input_stream=body, headers=headers,
                    environ_overrides={"wsgi.input_terminated": True})  # as gunicorn: a chunked body is read
    assert r.status_code == status and body.tell() == 300_000


class SilentClient(io.BytesIO):
    """A body whose client has gone silent: each read times out (``--client-timeout``), as gunicorn's socket does."""

    reads = 0

    def read(self, *args):
        self.reads += 1
        raise BlockingIOError

    readinto = readline = read


def test_a_stalled_body_is_not_waited_for_again(tiny_classifier):
    """A 408 (and a 413) leaves the rest of the body to the server, which closes the connection: reading on would wait
    another ``--client-timeout`` before the answer."""
    client = create_app(classifier=tiny_classifier).test_client()
    body = SilentClient()
    r = client.post("/api/v1/predict", input_stream=body, headers=PNG, environ_overrides={"CONTENT_LENGTH": "5000"})
    assert r.status_code == 408 and body.reads == 1


def _sent_whole(conn: http.client.HTTPConnection, method: str, path: str, headers: dict[str, str],
                size: int = 5 * 1024 * 1024) -> int | str:
    """The status a request of ``size`` bytes receives, sent whole before its answer is read, or the error instead."""
    chunked = "Transfer-Encoding" in headers
    body = iter([b"\0" * size]) if chunked else b"\0" * size
    try:
        conn.request(method, path, body=body, headers=headers, encode_chunked=chunked)
        answer = conn.getresponse()
        answer.read()
        return answer.status
    except OSError as exc:
        return type(exc).__name__


def test_refusals_of_many_mb_reach_a_gunicorn_client(tmp_path):
    from serve_process import running_serve

    with running_serve(tmp_path, "--workers", "1", "--allowed-host", "x") as server:
        got, expected = {}, {}
        for name, (method, path, headers, status) in REFUSALS.items():
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
            try:
                got[name], expected[name] = _sent_whole(conn, method, path, headers), status
                if name == "method":  # the connection serves on, the body not read as the next request
                    got["again"], expected["again"] = _sent_whole(conn, method, path, headers), status
            finally:
                conn.close()
        assert got == expected

