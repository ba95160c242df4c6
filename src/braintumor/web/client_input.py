"""A request body whose client stopped sending: a 408 with a sentence, not a 500 or a vague 400.

Under ``braintumor serve`` a socket read that waits longer than ``--client-timeout`` fails
(gunicorn_config.py's ``when_ready``); a read of the body raises ``BlockingIOError`` then (``TimeoutError``
where the socket has a Python-level timeout). Werkzeug turned that into "The browser (or proxy) sent a request that
this server could not understand", a 400 counted with the malformed requests.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import IO, Any

from werkzeug.exceptions import RequestTimeout

_STALLED = (BlockingIOError, TimeoutError)


class StalledUpload(RequestTimeout):
    """408: the body stopped arriving before its end."""

    description = "the upload stopped arriving before its end (nothing came for too long): send it again"


class GuardedInput:
    """``wsgi.input`` whose reads raise :class:`StalledUpload` when the client went silent."""

    def __init__(self, stream: IO[bytes]) -> None:
        self._stream = stream

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        try:
            return method(*args)
        except _STALLED:
            raise StalledUpload() from None

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


def guard_input(wsgi_app: Callable[[dict, Callable], Iterable[bytes]]) -> Callable[[dict, Callable], Iterable[bytes]]:
    """WSGI middleware: the request's body stream behind :class:`GuardedInput`."""

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        stream = environ.get("wsgi.input")
        if stream is not None:
            environ["wsgi.input"] = GuardedInput(stream)
        return wsgi_app(environ, start_response)

    return app
