"""A request target of ``*`` with a method other than ``OPTIONS`` (``GET *``): RFC 9112 (3.2.4) allows the asterisk
with ``OPTIONS`` only, and gunicorn answers such a request 400 itself. The development server (``serve --debug``) and
waitress passed it to the app, which answered the 404 page, HTML even to a JSON client, as if the server had no such
thing: it is the app's 400 now, JSON where the client asks for it, else a line of text. ``OPTIONS *`` is
tests/test_web_api.py's."""

from __future__ import annotations

import socket
import threading

import pytest
from serve_process import running_waitress
from werkzeug.serving import make_server

from braintumor.web import create_app
from braintumor.web.dev_server import DevRequestHandler
from braintumor.web.options import ASTERISK_NOT_OPTIONS


@pytest.mark.parametrize(("method", "accept", "json"), [("GET", "*/*", False), ("GET", "application/json", True),
                                                         ("POST", "text/html", False), ("HEAD", "*/*", False)])
def test_a_method_other_than_options_on_the_asterisk_is_a_400(tiny_classifier, method, accept, json):
    client = create_app(classifier=tiny_classifier).test_client()
    r = client.open("*", method=method, headers={"Accept": accept})
    assert r.status_code == 400 and r.headers["X-Request-ID"]
    if method == "HEAD":
        return
    if json:
        assert r.get_json() == {"error": ASTERISK_NOT_OPTIONS}
    else:
        assert r.mimetype == "text/plain" and r.get_data(as_text=True) == ASTERISK_NOT_OPTIONS + "\n"
    assert client.get("/*").status_code == 404  # a path /* is a path the app does not have


def _asked(port: int, method: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(method + b" * HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: application/json\r\n"
                       b"Connection: close\r\n\r\n")
        answer = b""
        while data := client.recv(65536):
            answer += data
    return answer


def test_the_development_server_and_waitress_answer_it_as_gunicorn_does(tiny_classifier):
    """gunicorn answers its own 400 page before the app ('Invalid HTTP request line'); these two passed the request to
    the app, whose 404 page it got."""
    app = create_app(classifier=tiny_classifier)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=DevRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        answer = _asked(server.server_port, b"GET")
    finally:
        server.shutdown()
        thread.join(10)
    assert answer.startswith(b"HTTP/1.1 400 ") and ASTERISK_NOT_OPTIONS.encode() in answer, answer[:300]
    with running_waitress(app) as port:
        answer = _asked(port, b"GET")
        assert answer.startswith(b"HTTP/1.1 400 ") and ASTERISK_NOT_OPTIONS.encode() in answer, answer[:300]
        assert _asked(port, b"OPTIONS").startswith(b"HTTP/1.1 204 ")  # OPTIONS * as before
