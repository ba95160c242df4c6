"""``Expect: 100-continue``: the client (curl, for a body over 1 MB) waits for an interim ``100 Continue`` before it
sends its body, so that a server can refuse the request on its headers alone. gunicorn and Werkzeug's development
server sent theirs at once, before the app saw the request, and a client sent a whole body the app then refused
(curl, 20 MB under ``Content-Type: text/plain``: 100, all 20 MB, then 415); the development server sent it twice
(http.server's ``handle_expect_100``, then Werkzeug's ``run_wsgi``).

Here the 100 is sent at the app's first read of the body (:class:`ContinueOnRead`): a request refused before (415, 403,
404, 405, 501, a 413 for its declared size, a Host not answered) is answered with no body sent, and its connection is
closed after the answer (web/client_input.py), as RFC 9110 (10.1.1) asks of a server that does not read the body.
A client may send its body without waiting for the 100 (RFC 9110 allows it; curl does after 1 s): closed with that
body unread in its receive buffer, the socket answered the client's next bytes with a reset (Linux), and a client
still sending (Python's ``http.client``, 8 MB) met a broken pipe instead of its answer. So the close lingers
(:func:`linger`), as RFC 9112 (9.6) asks: the answer's end, then what the client still sends read and dropped.
So does the close after a 413, with or without Expect (:func:`body_left_unread`): a body declared over the limit is
never read, and sent whole (no Expect) it met the same broken pipe (gunicorn drained 64 kB of it) or a held connection.
gunicorn's own 100 is taken over in gunicorn_config.py's ``pre_request`` (:func:`defer_continue`), the development
server's in web/dev_server.py. waitress (``serve`` on Windows) sends its 100 and reads the whole body before the app
runs: there the body is sent as before.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

#: The interim answer, as gunicorn and Werkzeug write it.
CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"
#: Where a server puts how to send the 100 (a callable), for :func:`with_deferred_continue` (web/dev_server.py).
SEND_CONTINUE_KEY = "braintumor.send_continue"
#: Where the request's :class:`ContinueOnRead` is kept, for :func:`body_not_asked`.
CONTINUE_KEY = "braintumor.continue"

#: Seconds a lingering close waits for the client's next bytes (gunicorn's own close waits 2 s, and reads 64 kB at
#: most), and the most it lingers in all (nginx's ``lingering_time``), ``--request-timeout`` if less.
LINGER_SILENCE, LINGER_MOST = 2.0, 30.0

_this_request = threading.local()


class ContinueOnRead:
    """A body stream that sends the ``100 Continue`` (``send``) before its first read: a client that waits for it has
    sent nothing of its body until then."""

    def __init__(self, stream: IO[bytes], send: Callable[[], object]) -> None:
        self._stream, self._send = stream, send
        self.sent = False

    def _continue(self) -> None:
        if not self.sent:
            self.sent = True
            self._send()

    def read(self, *args: Any) -> bytes:
        self._continue()
        return self._stream.read(*args)

    def readline(self, *args: Any) -> bytes:
        self._continue()
        return self._stream.readline(*args)

    def __getattr__(self, name: str) -> Any:
        """The stream's own (``readinto``, ``readlines``: the 100 first)."""
        attr = getattr(self._stream, name)
        if name.startswith("read") and callable(attr):
            return lambda *args: (self._continue(), attr(*args))[1]
        return attr


def defer_continue(req: Any) -> None:
    """gunicorn_config.py's ``pre_request``: gunicorn writes its 100 right after this hook, when its request's
    ``_expected_100_continue`` says so; turned off here, it is sent at the body's first read instead (this thread's
    next request: :func:`with_deferred_continue`)."""
    _this_request.pending = getattr(req, "_expected_100_continue", False) is True
    if _this_request.pending:
        req._expected_100_continue = False


def with_deferred_continue(environ: dict, stream: IO[bytes]) -> IO[bytes]:
    """``stream`` as a :class:`ContinueOnRead` when the server left this request's 100 to the app (the development
    server's ``SEND_CONTINUE_KEY``, gunicorn's :func:`defer_continue` over an HTTP/1 socket), else as it is."""
    send = environ.pop(SEND_CONTINUE_KEY, None)
    pending, _this_request.pending = getattr(_this_request, "pending", False), False  # this request's, once
    sock = environ.get("gunicorn.socket")
    if send is None and pending and sock is not None:
        send = lambda: sock.sendall(CONTINUE)  # noqa: E731
    if send is None:
        return stream
    environ[CONTINUE_KEY] = ContinueOnRead(stream, send)
    return environ[CONTINUE_KEY]


def body_not_asked(environ: dict) -> bool:
    """Whether the client of this request still waits for the 100 before it sends its body: the app never read it."""
    waiting = environ.get(CONTINUE_KEY)
    return waiting is not None and not waiting.sent


def body_left_unread(environ: dict, status: str) -> bool:
    """Whether the answer ``status`` to this request leaves its body unread, the connection then closed with a
    :func:`linger`: a refusal before the 100 (:func:`body_not_asked`), or a 413 (over the upload limit: never read on,
    web/client_input.py's ``LEFT_UNREAD``)."""
    return body_not_asked(environ) or status.startswith("413")


def linger(sock: socket.socket, seconds: float) -> None:
    """Close ``sock`` after its answer without a reset: the writing side shut (the client reads the answer's end),
    then what the client still sends read and dropped, until it closes its side, goes :data:`LINGER_SILENCE` seconds
    without sending, or ``seconds`` have passed; then the reading side shut, so the server's own read after this
    (gunicorn's, Werkzeug's) ends at once. A slow client holds the request thread ``seconds`` at most."""
    end, timeout = time.monotonic() + seconds, sock.gettimeout()
    try:
        sock.shutdown(socket.SHUT_WR)
        while (left := end - time.monotonic()) > 0:
            sock.settimeout(min(left, LINGER_SILENCE))
            if not sock.recv(256 * 1024):
                break
    except OSError:  # silent past LINGER_SILENCE (socket.timeout), gone, reset
        pass
    finally:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RD)
            sock.settimeout(timeout)


def lingering_answer(app: Callable[[dict, Callable], Iterable[bytes]], environ: dict, start_response: Callable,
                     seconds: float | None) -> Iterable[bytes]:
    """``app``'s answer to ``environ``; where it left the request's body unread (:func:`body_left_unread`) over a
    plain HTTP/1 socket, with a :func:`linger` after its last byte (for at most
    ``seconds``, :data:`LINGER_MOST`), before the server's close. Only an answer of a known length: the servers end a
    chunked one after the app's last bytes."""
    length: list[str] = []
    answered = [""]

    def start(status: str, headers: list, exc_info: Any = None) -> Callable:
        length[:] = [value for name, value in headers if name.lower() == "content-length"]
        answered[0] = status
        return start_response(status, headers, exc_info)

    answer = app(environ, start)
    sock = environ.get("gunicorn.socket", environ.get("werkzeug.socket"))  # an SSL socket's shutdown drops its SSL
    if (not body_left_unread(environ, answered[0]) or type(sock) is not socket.socket or not length
            or not str(environ.get("SERVER_PROTOCOL", "")).startswith("HTTP/1")):  # HTTP/2: one socket, many streams
        return answer
    return _then_linger(answer, sock, min(seconds or LINGER_MOST, LINGER_MOST))


def _then_linger(answer: Iterable[bytes], sock: socket.socket, seconds: float) -> Iterator[bytes]:
    """``answer``'s bytes, then :func:`linger` once the server has written them all (it asks for more only then);
    ``answer`` closed after, as the server would have."""
    try:
        sent = False
        for chunk in answer:
            sent = True
            yield chunk
        if sent:  # else the server sends the headers after this: nothing to linger after yet
            linger(sock, seconds)
    finally:
        close = getattr(answer, "close", None)
        if close is not None:
            close()
