"""Clients that begin a request and then send nothing: dropped after ``--client-timeout``, with a 408 when they stalled
in the body. gunicorn reads requests with blocking reads and no time limit: four such connections (one worker's
threads) and the server answered nothing else, /healthz included, for as long as they stayed open."""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import sys
import time
import urllib.request

import pytest
from serve_process import running_serve

from braintumor.cli import build_parser
from braintumor.gunicorn_config import stalled_clients_in_one_line
from braintumor.predictor import Classifier
from braintumor.web import create_app

#: Requests that stop part-way: in the body (length given, chunked, multipart) and in the headers.
STALLED_BODIES = [
    b"POST /api/v1/predict HTTP/1.1\r\nHost: localhost\r\n"
    b"Content-Type: image/jpeg\r\nContent-Length: 90000\r\n\r\n\xff\xd8",
    b"POST /api/v1/predict HTTP/1.1\r\nHost: localhost\r\n"
    b"Content-Type: image/jpeg\r\nTransfer-Encoding: chunked\r\n\r\n"
    b"10\r\n\xff\xd8",
    b"POST /api/v1/predict HTTP/1.1\r\nHost: localhost\r\n"
    b"Content-Type: multipart/form-data; boundary=b0123456789abcdef\r\n"
    b"Content-Length: 90000\r\n\r\n--b0123456789abcdef\r\nContent-Disposition: form-data; name=\"file\"; "
    b"filename=\"PATIENT_DOE.jpg\"\r\n\r\n\xff\xd8",
]
STALLED_HEADERS = b"POST /api/v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Ty"


def _answer(client: socket.socket) -> bytes:
    data = b""
    while chunk := client.recv(65536):
        data += chunk
    return data


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_RCVTIMEO inherited by accepted sockets: Linux")
def test_stalled_clients_are_dropped_and_the_server_keeps_answering(tmp_path):
    with running_serve(tmp_path, "--workers", "1", "--threads", "4", "--client-timeout", "1") as server, \
            contextlib.ExitStack() as closing:
        port, base, clients = server.port, server.base, []
        for raw in [*STALLED_BODIES, STALLED_HEADERS]:  # five: more than the worker's four threads
            client = closing.enter_context(socket.create_connection(("127.0.0.1", port), timeout=20))
            client.sendall(raw)
            clients.append(client)
        time.sleep(0.5)  # they hold the threads now
        started = time.monotonic()
        health = json.load(urllib.request.urlopen(f"{base}/healthz", timeout=15))  # waited forever
        assert health["status"] == "ok" and time.monotonic() - started < 10
        for client in clients[:3]:
            head, _, body = _answer(client).partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 408 ") and b"\r\nConnection: close\r\n" in head, head  # not keep-alive
            assert json.loads(body)["error"].startswith("the upload stopped arriving before its end")
        assert _answer(clients[3]) == b""  # gunicorn closes a request whose headers stopped
        metrics = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
        assert 'braintumor_http_requests_total{endpoint="api.predict",status="408"} 3.0' in metrics
    out = server.output()
    assert out.count('"POST /api/v1/predict HTTP/1.1" 408') == 3, out
    assert "Request abandoned: the client sent nothing for 1 s" in out and "Traceback" not in out, out
    assert "PATIENT" not in out


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_connections_that_send_nothing_do_not_queue_the_requests_behind_them(tmp_path):
    """gunicorn's threaded worker gives each new connection a request thread that waits up to 5 s for its first byte:
    40 connections opened and left silent (no request begun; cheap to hold) kept a /healthz behind them 45 s."""
    with running_serve(tmp_path, "--workers", "1", "--threads", "2") as server, contextlib.ExitStack() as closing:
        for _ in range(16):  # 8 rounds of the worker's 2 threads: 40 s of waiting before
            closing.enter_context(socket.create_connection(("127.0.0.1", server.port), timeout=20))
        time.sleep(0.3)  # accepted, and queued for the threads
        started = time.monotonic()
        health = json.load(urllib.request.urlopen(f"{server.base}/healthz", timeout=30))
        assert health["status"] == "ok" and time.monotonic() - started < 5
    assert "Traceback" not in server.output()


class StallingInput:
    """A wsgi.input whose client went silent: a socket read past SO_RCVTIMEO raises BlockingIOError."""

    def read(self, *args):
        raise BlockingIOError(11, "Resource temporarily unavailable")

    readline = readinto = read


@pytest.fixture(scope="module")
def app():
    return create_app(classifier=Classifier.load(threads=1))


@pytest.mark.parametrize(("path", "content_type"), [("/api/v1/predict", "image/jpeg"),
                                                   ("/api/v1/predict", "multipart/form-data; boundary=b0123456789abc"),
                                                   ("/", "multipart/form-data; boundary=b0123456789abc")])
@pytest.mark.parametrize("length", ["9000", None], ids=["length", "chunked"])
def test_a_body_that_stopped_arriving_is_a_408_with_a_sentence(app, path, content_type, length):
    """It was werkzeug's 400 "The browser (or proxy) sent a request that this server could not understand", counted
    with the malformed requests."""
    environ = {"wsgi.input": StallingInput(), "CONTENT_TYPE": content_type}
    environ.update({"CONTENT_LENGTH": length} if length else {"wsgi.input_terminated": True})  # as gunicorn says
    response = app.test_client().post(path, environ_overrides=environ)
    assert response.status_code == 408
    text = response.get_json()["error"] if path.startswith("/api/") else response.get_data(as_text=True)
    assert "the upload stopped arriving before its end" in text


def test_the_log_says_a_stalled_client_in_one_line():
    try:
        raise BlockingIOError(11, "Resource temporarily unavailable")
    except BlockingIOError:
        record = logging.LogRecord("gunicorn.error", logging.ERROR, __file__, 1, "Socket error processing request.",
                                   (), sys.exc_info())
    assert stalled_clients_in_one_line(record) and record.exc_info is None and record.levelno == logging.WARNING
    assert record.getMessage().startswith("Request abandoned: the client sent nothing for ")
    record = logging.LogRecord("gunicorn.error", logging.ERROR, __file__, 1, "Socket error processing request.", (),
                               (OSError, OSError(5, "I/O error"), None))
    assert stalled_clients_in_one_line(record) and record.levelno == logging.ERROR  # other socket errors as they were


@pytest.mark.parametrize("bad", ["0", "-1", "nan", "soon"])
def test_the_client_timeout_is_a_positive_number(bad, capsys):
    assert build_parser().parse_args(["serve", "--client-timeout", "2.5"]).client_timeout == 2.5
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["serve", "--client-timeout", bad])
    assert exc.value.code == 2 and "--client-timeout" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_RCVTIMEO as a Linux timeval")
@pytest.mark.parametrize(("seconds", "expected"), [("1e-7", 1e-6), ("2.5", 2.5), ("30", 30)])
def test_the_receive_timeout_is_never_zero(seconds, expected, monkeypatch):
    """A timeval of zero means no timeout: ``--client-timeout 1e-7`` (accepted: a number more than 0) rounded to it."""
    import struct
    from types import SimpleNamespace

    from braintumor.gunicorn_config import CLIENT_TIMEOUT_ENV, when_ready

    monkeypatch.setenv(CLIENT_TIMEOUT_ENV, seconds)
    with socket.socket() as sock:
        when_ready(SimpleNamespace(LISTENERS=[SimpleNamespace(sock=sock)], log=logging.getLogger("test")))
        size = struct.calcsize("@ll")
        whole, micro = struct.unpack("@ll", sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, size))
    assert expected <= whole + micro / 1e6 < expected + 0.1  # the kernel keeps it in clock ticks (0.004 s for 1 us)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SO_RCVTIMEO as a Linux timeval")
def test_a_client_timeout_past_what_a_timeval_holds_is_the_longest_it_holds(monkeypatch):
    """``--client-timeout 1e300`` (a number more than 0) was a traceback from gunicorn's master (struct.error:
    argument out of range), exit status 1, after serve had said it was serving."""
    import struct
    from types import SimpleNamespace

    from braintumor.gunicorn_config import CLIENT_TIMEOUT_ENV, when_ready

    monkeypatch.setenv(CLIENT_TIMEOUT_ENV, "1e300")
    with socket.socket() as sock:
        when_ready(SimpleNamespace(LISTENERS=[SimpleNamespace(sock=sock)], log=logging.getLogger("test")))
        whole, _ = struct.unpack("@ll", sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, struct.calcsize("@ll")))
    assert whole >= 2**31 - 2  # 68 years: the most a 32-bit timeval holds
