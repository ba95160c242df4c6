"""A request body that arrives too slowly (a 408 with a sentence, not a 500, a vague 400 or a thread held forever).

Two ways a client can hold a request thread while it sends its body:

- it stops sending: under ``braintumor serve`` a socket read that waits longer than ``--client-timeout`` fails
  (gunicorn_config.py's ``when_ready``) and raises ``BlockingIOError`` (``TimeoutError`` where the socket has a
  Python-level timeout). Werkzeug turned that into "The browser (or proxy) sent a request that this server could not
  understand", a 400 counted with the malformed requests.
- it trickles (slowloris): a byte every few seconds never trips that timeout, and gunicorn's body reader loops until
  it has the size asked for, so one ``read`` of the app waited for as long as the client kept it up. The body now has
  ``--request-timeout`` seconds in all: a read still waiting then has its socket's reading side shut by
  :class:`_Watchdog` (a blocked ``recv`` returns at once) and the request is answered 408.

A chunked body gunicorn cannot read (a chunk's size line not hexadecimal, a chunk longer than its size, a trailer
section past its limits) raised gunicorn's own parse error into the app, answered 500 with a traceback in the error
log and counted as an internal error: :class:`MalformedChunks` is a 400 that says so; one cut short before its last
chunk, a :class:`~braintumor.web.disconnects.ClientGone` (it was Werkzeug's "The browser (or proxy) sent a request that
this server could not understand").

A body in a transfer coding the app would read as the file's bytes: :mod:`braintumor.web.transfer_codings`.
"""

from __future__ import annotations

import contextlib
import os
import socket
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from flask import Flask, Response, request
from werkzeug.exceptions import BadRequest, HTTPException, RequestTimeout

from .disconnects import ClientGone
from .expect_continue import body_left_unread, body_not_asked, lingering_answer, with_deferred_continue

_STALLED = (BlockingIOError, TimeoutError)


class StalledUpload(RequestTimeout):
    """408: the body stopped arriving before its end."""

    description = "the upload stopped arriving before its end (nothing came for too long): send it again"


class SlowUpload(RequestTimeout):
    """408: the body kept arriving, but too slowly to end within the request timeout."""

    def __init__(self, seconds: float) -> None:
        super().__init__(f"the upload took longer than {seconds:g} s to arrive and was stopped: send it again over a "
                         "faster connection, or fewer files at once")


class MalformedChunks(BadRequest):
    """400: a chunked body that is not valid HTTP/1.1 chunked framing (one that ends before its last chunk, its client
    gone, is web/disconnects.py's)."""

    description = ("the request body's chunked framing is not valid HTTP/1.1 (a chunk's size line, the end of a chunk, "
                   "or the trailer after the last one): send the file again, with Transfer-Encoding: chunked as "
                   "HTTP/1.1 frames it or with a Content-Length")


def _framing_error(exc: BaseException) -> bool:
    """Whether ``exc`` is gunicorn's error for a chunked body it cannot read: a ``ParseException`` of
    ``gunicorn.http.errors`` (InvalidChunkSize, ChunkMissingTerminator, ...), or its ``NoMoreData`` (the client closed
    the connection before the last chunk). By name: the app runs under waitress too, where gunicorn may not be
    installed (waitress reads a chunked body whole, and refuses a malformed one, before the app is called)."""
    return any(cls.__module__ == "gunicorn.http.errors" and cls.__name__ in ("ParseException", "NoMoreData")
               for cls in type(exc).__mro__)


class Deadline:
    """A time by which a read on ``sock`` must have ended; ``expired`` once :data:`DEADLINES` has shut it."""

    def __init__(self, seconds: float, sock: socket.socket | None = None) -> None:
        self.seconds, self.at, self.sock = seconds, time.monotonic() + seconds, sock
        self.expired = False


class _Watchdog:
    """One thread per process that shuts the reading side of the sockets whose reads ran past their deadline, which
    ends a ``recv`` blocked on them (it returns no data); the writing side stays open for the answer."""

    def __init__(self) -> None:
        self._pid = -1
        self._armed: set[Deadline] = set()
        self._wake = threading.Condition()
        self._due: float | None = None  #: the earliest deadline the thread waits for
        self._starting = threading.Lock()

    def arm(self, deadline: Deadline) -> None:
        """Watch ``deadline`` (one with a socket) until :meth:`disarm`."""
        if self._pid != os.getpid():  # first use in this process (a forked worker has no thread of its parent's)
            with self._starting:
                if self._pid != os.getpid():
                    self._armed, self._wake, self._due = set(), threading.Condition(), None
                    threading.Thread(target=self._run, args=(self._wake,), name="request-deadlines",
                                     daemon=True).start()
                    self._pid = os.getpid()
        with self._wake:
            self._armed.add(deadline)
            if self._due is None or deadline.at < self._due:  # else the thread wakes in time: no switch per read
                self._wake.notify()

    def disarm(self, deadline: Deadline) -> None:
        with self._wake:
            self._armed.discard(deadline)

    def _run(self, wake: threading.Condition) -> None:
        with wake:
            while True:
                now = time.monotonic()
                for deadline in [d for d in self._armed if d.at <= now]:
                    self._armed.discard(deadline)
                    deadline.expired = True
                    # the base class's shutdown: an SSL socket's own drops its SSL state under the read; OSError:
                    # closed meanwhile
                    with contextlib.suppress(OSError):
                        socket.socket.shutdown(deadline.sock, socket.SHUT_RD)
                self._due = min((d.at for d in self._armed), default=None)
                # at most TIMEOUT_MAX: a longer wait (--request-timeout 1e10) raised OverflowError and ended the thread
                wake.wait(None if self._due is None else min(self._due - now, threading.TIMEOUT_MAX))


#: This process's watchdog: the request bodies' deadlines, and those of the headers (gunicorn_config.py).
DEADLINES = _Watchdog()


class GuardedInput:
    """``wsgi.input`` whose reads raise :class:`StalledUpload` when the client went silent, and :class:`SlowUpload`
    once the body has taken longer than ``seconds`` (counted from the call of the app, the headers read). Only with
    ``sock`` (gunicorn's socket of an HTTP/1 request) can a read already waiting be ended: without it the deadline is
    checked before each read (waitress has read the whole body before the app is called)."""

    def __init__(self, stream: IO[bytes], seconds: float | None = None, sock: socket.socket | None = None) -> None:
        self._stream = stream
        self._deadline = None if seconds is None else Deadline(seconds, sock)

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        deadline = self._deadline
        if deadline is None:
            return self._guarded(method, *args)
        if deadline.expired or time.monotonic() >= deadline.at:
            raise SlowUpload(deadline.seconds)
        if deadline.sock is not None:
            DEADLINES.arm(deadline)
        try:
            result = self._guarded(method, *args)
        except Exception:
            if deadline.expired:  # its socket shut under it: the end of the stream, or the server's error for it
                raise SlowUpload(deadline.seconds) from None
            raise
        finally:
            if deadline.sock is not None:
                DEADLINES.disarm(deadline)
        if deadline.expired:  # what came before the shut, not the whole body
            raise SlowUpload(deadline.seconds)
        return result

    @staticmethod
    def _guarded(method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except _STALLED:
            raise StalledUpload() from None
        except Exception as exc:
            if _framing_error(exc):  # NoMoreData: the client closed the connection before the last chunk
                raise (ClientGone() if type(exc).__name__ == "NoMoreData" else MalformedChunks()) from None
            raise

    def read(self, *args: Any) -> bytes:
        return self._call(self._stream.read, *args)

    def readline(self, *args: Any) -> bytes:
        return self._call(self._stream.readline, *args)

    def readlines(self, *args: Any) -> list[bytes]:
        return self._call(self._stream.readlines, *args)

    def __iter__(self) -> Iterator[bytes]:
        while line := self.readline():
            yield line

    def __getattr__(self, name: str) -> Any:
        """Anything else (``readinto`` included, when the stream has it) with the same guard."""
        attr = getattr(self._stream, name)
        if callable(attr):
            return lambda *args: self._call(attr, *args)
        return attr


#: How the server closes the connection of the request this thread runs after its answer: gunicorn's
#: ``Request.force_close``, handed over by gunicorn_config.py's ``pre_request`` (unset under other servers).
_this_request = threading.local()


def close_after_answer(close: Callable[[], object] | None) -> None:
    """Tell :func:`guard_input` how to close the connection of the request this thread is about to run."""
    _this_request.close = close


def guard_input(wsgi_app: Callable[[dict, Callable], Iterable[bytes]], request_timeout: float | None = None
                ) -> Callable[[dict, Callable], Iterable[bytes]]:
    """WSGI middleware: the request's body stream behind :class:`GuardedInput`, with ``request_timeout`` seconds for
    the whole body (None: no limit but the silence one). A 408 closes the connection and says so (``Connection:
    close``, as RFC 9110, 15.5.9, asks): gunicorn said ``keep-alive``, then closed it when it could not read the rest
    of the body. It does not keep Chromium from sending the request again when the connection had carried one
    before: docs/DEPLOY.md, "A browser sends an upload answered 408 again"."""

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        close, _this_request.close = getattr(_this_request, "close", None), None  # this request's, once
        # HTTP/2 streams share one connection: closing it would end the other requests on it too
        http1 = str(environ.get("SERVER_PROTOCOL", "")).startswith("HTTP/1")
        if close is not None and http1:
            plain = start_response

            def start_response(status: str, headers: list, exc_info: Any = None) -> Callable:
                if status.startswith("408") or body_left_unread(environ, status):  # not asked for, or over the limit
                    close()  # gunicorn drops the app's own Connection header: its answer then says close
                return plain(status, headers, exc_info)

        stream = environ.get("wsgi.input")
        if stream is not None:
            sock = environ.get("gunicorn.socket")  # shut under an HTTP/1 request only, as above
            sock = sock if http1 and isinstance(sock, socket.socket) else None
            environ["wsgi.input"] = GuardedInput(with_deferred_continue(environ, stream), request_timeout, sock)
        return lingering_answer(wsgi_app, environ, start_response, request_timeout)  # a body not asked for, a 413

    return app


#: Answers after which the rest of a body is left unread: 408 (the client stopped sending, or was too slow: reading on
#: would wait again) and 413 (over the upload limit; the close lingers: expect_continue.py). The connection is closed.
LEFT_UNREAD = frozenset({408, 413})


def discard_body() -> None:
    """Read the request's body to its end and drop it (never parsed, 64 kB at a time). Bounded as an upload is: a
    declared length over the upload limit is not read (Werkzeug's ``request.stream`` raises its 413 first), nor is a
    chunked body past it, and the reads keep their timeouts; a body that cannot be read to its end is left to the
    server, which then closes the connection. A compressed transfer coding is read as its raw bytes, never undone."""
    with contextlib.suppress(HTTPException, OSError):  # 408, 413, a client gone: the answer is sent all the same
        while request.stream.read(64 * 1024):
            pass


def discard_unread_bodies(app: Flask) -> None:
    """Before any answer but :data:`LEFT_UNREAD`, read what is left of the request's body (:func:`discard_body`): the
    refusals answered before it is read (the Host's 400, another site's 403, 404, 405, 406, 415, 501) reached a client
    sending several MB as a reset, since gunicorn answered first, drained at most 64 kB and closed the connection.
    waitress has read the body whole already."""

    @app.after_request
    def _discard_unread_body(response: Response) -> Response:
        has_body = request.content_length or "HTTP_TRANSFER_ENCODING" in request.environ
        if has_body and response.status_code not in LEFT_UNREAD and not body_not_asked(request.environ):
            discard_body()
        return response
