"""Clients that trickle their headers or their body (slowloris): a byte now and then never trips ``--client-timeout``,
gunicorn reads headers with no time limit, and its body reader waits until it has the size the app asked for, so each
such client held a request thread for as long as it kept sending; as many as a worker has threads and nothing else was
answered, /healthz included. The headers, then the body, now have ``--request-timeout`` seconds each: then the
connection is closed (headers) or the request answered 408 (body)."""

from __future__ import annotations

import contextlib
import json
import socket
import sys
import threading
import time
import urllib.request

import pytest
from serve_process import running_serve

from braintumor.cli import build_parser
from braintumor.web.client_input import DEADLINES, Deadline, GuardedInput, SlowUpload

BOUNDARY = b"b0123456789abcdef"


def _trickling_request(path: str) -> bytes:
    """The headers of a multipart upload and the start of its body: the rest comes a byte at a time."""
    return (b"POST " + path.encode() + b" HTTP/1.1\r\nHost: localhost\r\nContent-Type: multipart/form-data; boundary="
            + BOUNDARY + b"\r\nContent-Length: 90000\r\n\r\n--" + BOUNDARY
            + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"PATIENT_DOE.jpg\"\r\n\r\n\xff\xd8")


#: The start of a request whose headers then come a byte at a time, never ending.
TRICKLING_HEADERS = b"GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Padding: "


def _trickle(client: socket.socket, stop: threading.Event, byte: bytes) -> None:
    """A byte every 0.2 s: well within the client timeout, so only a deadline on the whole request ends it."""
    while not stop.wait(0.2):
        try:
            client.sendall(byte)
        except OSError:  # the server closed the connection
            return


def _answer(client: socket.socket) -> bytes:
    data = b""
    try:
        while chunk := client.recv(65536):
            data += chunk
    except ConnectionResetError:  # closed by the server while the client was still sending
        pass
    return data


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gunicorn (not waitress), a Linux socket's shutdown")
def test_trickling_clients_are_stopped_by_the_deadline_and_healthz_is_answered(tmp_path):
    clients, stop = [], threading.Event()
    with running_serve(tmp_path, "--workers", "1", "--threads", "4", "--client-timeout", "5",
                       "--request-timeout", "2") as server, contextlib.ExitStack() as closing:
        closing.callback(stop.set)  # the clients stop and close before the server does
        port, base = server.port, server.base
        # the worker's four threads: an API upload, one from the page's form, and two requests' headers
        for start, byte in [(_trickling_request("/api/v1/predict"), b"\x00"), (_trickling_request("/"), b"\x00"),
                            (TRICKLING_HEADERS, b"a"), (TRICKLING_HEADERS, b"a")]:
            client = closing.enter_context(socket.create_connection(("127.0.0.1", port), timeout=10))
            client.sendall(start)
            threading.Thread(target=_trickle, args=(client, stop, byte), daemon=True).start()
            clients.append(client)
        started = time.monotonic()
        time.sleep(0.5)  # they hold all the threads now
        health = json.load(urllib.request.urlopen(f"{base}/healthz", timeout=10))  # waited as long as they trickled
        assert health["status"] == "ok" and time.monotonic() - started < 5
        answers = [_answer(client) for client in clients]
        assert time.monotonic() - started < 5  # 2 s, and the start of the server's handling
        api, page = (answer.partition(b"\r\n\r\n") for answer in answers[:2])
        assert api[0].startswith(b"HTTP/1.1 408 ") and page[0].startswith(b"HTTP/1.1 408 ")
        # the rest of the body is never read: the connection closes, and the answer says so (it said keep-alive)
        assert b"\r\nConnection: close\r\n" in api[0] and b"\r\nConnection: close\r\n" in page[0], api[0]
        said = "the upload took longer than 2 s to arrive and was stopped"
        assert json.loads(api[2])["error"].startswith(said)
        assert b"text/html" in page[0] and said in page[2].decode()
        assert answers[2:] == [b"", b""]  # headers that never end: the connection closed, as for stalled ones
    out = server.output()
    assert out.count('"POST /api/v1/predict HTTP/1.1" 408') == 1 and out.count('"POST / HTTP/1.1" 408') == 1, out
    assert out.count("Request abandoned: its headers took longer than 2 s") == 2, out
    assert "Traceback" not in out and "PATIENT" not in out, out


def test_a_read_blocked_past_the_deadline_is_ended():
    """The watchdog shuts the socket's reading side: a blocked read returns, and the request says why."""
    server, client = socket.socketpair()
    with server, client:
        client.sendall(b"abc")  # some of the body, then nothing (and no receive timeout here)
        stream = GuardedInput(server.makefile("rb"), 0.3, server)
        started = time.monotonic()
        with pytest.raises(SlowUpload) as exc:
            stream.read(100)
        assert 0.25 < time.monotonic() - started < 3 and exc.value.code == 408
        with pytest.raises(SlowUpload):  # and every read after it
            stream.read(1)


def test_a_request_timeout_longer_than_a_thread_can_wait_leaves_the_watchdog_working():
    """``serve --request-timeout 1e10`` (a number more than 0) killed each worker's watchdog thread at its first
    request (OverflowError: a wait past ``threading.TIMEOUT_MAX``), a traceback in the log; no deadline was kept."""
    far_end, far_peer = socket.socketpair()
    server, client = socket.socketpair()
    with far_end, far_peer, server, client:
        far = Deadline(1e10, far_end)
        DEADLINES.arm(far)
        try:
            time.sleep(0.2)  # the watchdog now waits for the far deadline
            server.settimeout(5)  # without the watchdog, the read below ends here (StalledUpload), not in 0.3 s
            stream = GuardedInput(server.makefile("rb"), 0.3, server)
            with pytest.raises(SlowUpload):
                stream.read(1)
        finally:
            DEADLINES.disarm(far)


def test_without_a_socket_the_deadline_is_checked_before_each_read():
    """waitress hands the app a body it has already read: nothing blocks, so no socket to shut."""
    class Slow:
        def read(self, *args):
            time.sleep(0.2)
            return b"x"

    stream = GuardedInput(Slow(), 0.3)
    assert stream.read(1) == b"x" and stream.read(1) == b"x"
    with pytest.raises(SlowUpload):
        stream.read(1)


@pytest.mark.parametrize("bad", ["0", "-1", "nan", "soon"])
def test_the_request_timeout_is_a_positive_number(bad, capsys):
    assert build_parser().parse_args(["serve"]).request_timeout is None  # serve's default: 60
    assert build_parser().parse_args(["serve", "--request-timeout", "2.5"]).request_timeout == 2.5
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["serve", "--request-timeout", bad])
    assert exc.value.code == 2 and "--request-timeout" in capsys.readouterr().err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="gunicorn's sync workers")
def test_a_sync_workers_trickling_body_gets_the_apps_408_not_gunicorns_500(tmp_path, monkeypatch):
    """``--threads 1`` (sync workers) had the request timeout of the worker timeout (60 and 60): a body trickling in
    after headers that took a moment ran past the worker timeout, gunicorn killed the worker and its client got a bare
    HTML 500 ("WORKER TIMEOUT"). The default now stays under the worker timeout (here GUNICORN_CMD_ARGS's 8 s: 6 s)."""
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--timeout 8")
    with running_serve(tmp_path, "--workers", "1", "--threads", "1") as server, \
            socket.create_connection(("127.0.0.1", server.port), timeout=20) as client:
        request, stop = _trickling_request("/api/v1/predict"), threading.Event()
        client.sendall(request[:10])
        time.sleep(0.5)  # the headers take a moment
        client.sendall(request[10:])
        started = time.monotonic()
        threading.Thread(target=_trickle, args=(client, stop, b"\x00"), daemon=True).start()
        head, _, body = _answer(client).partition(b"\r\n\r\n")
        stop.set()
        assert head.startswith(b"HTTP/1.1 408 "), head
        assert json.loads(body)["error"].startswith("the upload took longer than 6 s to arrive")
        assert 5 < time.monotonic() - started < 7.5
    assert "WORKER TIMEOUT" not in server.output()


def test_the_default_request_timeout_stays_under_a_sync_workers_timeout(monkeypatch):
    from braintumor.serve_settings import default_request_timeout

    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    assert default_request_timeout(1) == 45  # gunicorn_config.py's 60
    assert default_request_timeout(4) == default_request_timeout(2, timeout=10) == 60  # gthread: no such limit
    assert default_request_timeout(1, timeout=20) == 15  # serve(timeout=20)
    assert default_request_timeout(1, timeout=200) == 60  # never longer than the default
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--timeout 8 --max-requests 100")
    assert default_request_timeout(1) == 6
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--timeout 0")  # no worker timeout at all
    assert default_request_timeout(1) == 60


@pytest.mark.parametrize(("bad", "error", "said"), [(-5, ValueError, "must be a number more than 0, got -5"),
                                                    (0, ValueError, "must be a number more than 0, got 0"),
                                                    (float("inf"), ValueError, "must be a finite number"),
                                                    ("5", TypeError, "must be a number, got '5'")])
def test_create_apps_request_timeout_is_checked_as_the_options_is(tiny_classifier, bad, error, said):
    """``create_app(request_timeout=-5)`` was taken: every upload was answered 408 "longer than -5 s" (and ``"5"`` a
    TypeError in each request); now refused when made, naming the setting, by serve --request-timeout's rule."""
    from braintumor.web import create_app

    with pytest.raises(error, match=f"^request_timeout {said}"):
        create_app(classifier=tiny_classifier, request_timeout=bad)
    create_app(classifier=tiny_classifier, request_timeout=None)  # no limit, as documented


@pytest.mark.parametrize("setting", ["client_timeout", "request_timeout"])
def test_serves_timeouts_from_python_are_checked_before_it_starts(tiny_model, monkeypatch, setting):
    """``serve(request_timeout=-5)`` served, every upload a 408; ``serve(client_timeout=float('nan'))`` served too:
    refused before any server starts, as the command line's --client-timeout and --request-timeout are."""
    import os

    from braintumor.serve import serve

    monkeypatch.setattr(os, "execv", lambda *args: pytest.fail("serve went on to start gunicorn"))
    for bad in (-5, float("nan")):
        with pytest.raises(ValueError, match=f"^{setting} must be a"):
            serve(model=str(tiny_model), port=0, **{setting: bad})
