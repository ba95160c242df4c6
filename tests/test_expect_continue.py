"""``Expect: 100-continue`` (curl sends it with a body over 1 MB): the server's ``100 Continue`` comes when the app
reads the body, not before the app runs. gunicorn and the development server sent theirs at once (the development
server twice), so a client sent a whole body the app then refused: curl, 20 MB under ``Content-Type: text/plain``,
sent all of it before the 415. Under gunicorn: tests/test_serve_gunicorn.py runs these against its workers."""

from __future__ import annotations

import contextlib
import socket
import threading
import time

from werkzeug.serving import make_server

from braintumor.web import create_app
from braintumor.web.dev_server import DevRequestHandler

CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


def _read_to_end(client: socket.socket) -> bytes:
    answer = b""
    while data := client.recv(65536):  # to the end: the server closes the connection
        answer += data
    return answer


def refused_before_its_body(port: int) -> None:
    """A 20 MB body of a type not taken, announced with Expect: the 415 with no 100 before it, then the close; not one
    byte of the body was sent."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(b"POST /api/v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                       b"Expect: 100-continue\r\nContent-Length: 20000000\r\n\r\n")
        answer = _read_to_end(client)
    head = answer.split(b"\r\n\r\n")[0]
    assert head.startswith(b"HTTP/1.1 415 ") and b"100 Continue" not in answer, answer[:200]
    assert b"\r\nconnection: close" in head.lower(), head  # the body not read: the connection not kept


def refused_while_its_body_comes(port: int, size: int = 8_000_000) -> None:
    """A client that sends its body without waiting for the 100 (RFC 9110 allows it; Python's http.client sends it
    whole, then reads the answer): all 8 MB go out, then the 415 and the close are read. Closed with the body unread,
    the connection was reset under gunicorn (a broken pipe on the client's send), and the development server held it
    open until the client gave up (Werkzeug's own drain waited for its close) or reset it too."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
        client.sendall(b"POST /api/v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: text/plain\r\n"
                       b"Expect: 100-continue\r\nContent-Length: %d\r\n\r\n" % size + bytes(size))
        answer = _read_to_end(client)
    assert answer.startswith(b"HTTP/1.1 415 ") and b"100 Continue" not in answer, answer[:200]
    assert time.monotonic() - started < 5  # the close comes once the body is in, not after a wait


def too_large_while_its_body_comes(port: int, size: int = 8_000_000) -> None:
    """A body over the upload limit (1 MiB here), declared or chunked, sent whole without Expect before the answer is
    read (Python's http.client): the 413 is read, the connection then closed. The body is never read into memory past
    the limit, but the close lingers as after a refusal of an Expect request; closed at once it was a broken pipe
    (gunicorn drained 64 kB of it), and the development server held the connection until the client gave up."""
    chunks = b"".join(b"%x\r\n" % 65536 + bytes(65536) + b"\r\n" for _ in range(size // 65536)) + b"0\r\n\r\n"
    for framing, body in ((b"Content-Length: %d" % size, bytes(size)), (b"Transfer-Encoding: chunked", chunks)):
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
            client.sendall(b"POST /api/v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
                           + framing + b"\r\n\r\n" + body)
            answer = _read_to_end(client)
        head = answer.split(b"\r\n\r\n")[0]
        assert head.startswith(b"HTTP/1.1 413 ") and b"upload too large" in answer, (framing, answer[:200])
        assert b"\r\nconnection: close" in head.lower(), head  # the body not read: the connection not kept
        assert time.monotonic() - started < 5  # the close comes once the body is in, not after a wait


def continued_once(port: int, jpeg: bytes) -> None:
    """A JPEG announced with Expect: one 100 (the development server sent two), the body sent then, its 200."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.sendall(b"POST /api/v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: image/jpeg\r\n"
                       b"Expect: 100-continue\r\nConnection: close\r\nContent-Length: %d\r\n\r\n" % len(jpeg))
        first = client.recv(len(CONTINUE))
        assert first == CONTINUE, first
        client.sendall(jpeg)
        answer = _read_to_end(client)
    assert answer.startswith(b"HTTP/1.1 200 "), answer[:300]


def test_the_development_server_asks_for_the_body_only_when_the_app_reads_it(tiny_classifier, test_images):
    server = make_server("127.0.0.1", 0, create_app(classifier=tiny_classifier), threaded=True,
                         request_handler=DevRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        refused_before_its_body(server.server_port)
        refused_while_its_body_comes(server.server_port)
        continued_once(server.server_port, test_images["glioma"][0].read_bytes())
    finally:
        server.shutdown()
        thread.join(10)


def test_a_body_over_the_limit_sent_whole_reads_its_413_from_the_development_server(tiny_classifier):
    server = make_server("127.0.0.1", 0, create_app(classifier=tiny_classifier, max_upload_mb=1), threaded=True,
                         request_handler=DevRequestHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        too_large_while_its_body_comes(server.server_port)
    finally:
        server.shutdown()
        thread.join(10)


def test_a_lingering_close_is_bounded(monkeypatch):
    """The linger after a refusal reads what the client still sends until it closes, but no longer than
    LINGER_SILENCE of silence or its seconds in all: a client that keeps sending, or keeps the connection open
    without sending, holds the request thread that long at most."""
    from braintumor.web import expect_continue

    monkeypatch.setattr(expect_continue, "LINGER_SILENCE", 0.3)
    server, client = socket.socketpair()
    with server, client:
        client.settimeout(5)
        client.sendall(b"x" * 1000)  # then silent, the connection kept open
        started = time.monotonic()
        expect_continue.linger(server, 5)
        assert time.monotonic() - started < 2 and client.recv(10) == b""  # the answer's end: the writing side shut
    server, client = socket.socketpair()
    stop = threading.Event()

    def keep_sending() -> None:
        with contextlib.suppress(OSError):
            while not stop.is_set():
                client.sendall(b"x" * 4096)
                time.sleep(0.01)

    sender = threading.Thread(target=keep_sending, daemon=True)
    with server, client:
        sender.start()
        started = time.monotonic()
        expect_continue.linger(server, 0.5)
        assert 0.4 < time.monotonic() - started < 2
        stop.set()
        sender.join(5)
