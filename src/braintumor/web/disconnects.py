"""A client that closed its connection before the end of its request body (a browser tab closed, a network dropped,
a program stopped mid-upload): the app answers what it always did, a 400 that says the upload was cut short (a client
that only half-closed its side reads it), but counts and logs it apart, as :data:`CLIENT_DISCONNECT`. It was a
``bad_request`` in ``braintumor_errors_total``, timed in the latency histogram, and nowhere told apart from a malformed
request: a flaky network's disconnects looked like broken clients.

How a disconnect reaches the app: gunicorn ends a body with a Content-Length where the client closed (a short read:
:func:`cut_short`, raised as :class:`ClientGone`), and one in chunks with its ``NoMoreData`` (web/client_input.py);
Werkzeug's development server raises its own ``ClientDisconnected``, which said "The browser (or proxy) sent a request
that this server could not understand". waitress reads the whole body before the app, so the app never sees one.
"""

from __future__ import annotations

from flask import Flask, current_app, request
from werkzeug.exceptions import BadRequest, ClientDisconnected

from .request_ids import request_id

#: The ``kind`` of ``braintumor_errors_total`` (and the environ's outcome) for a request whose client went away.
CLIENT_DISCONNECT = "client_disconnect"
#: Where the request's outcome is noted for the metrics (web/monitoring.py).
OUTCOME_KEY = "braintumor.outcome"
#: What is said of a body that ended early where its size is not known (chunked, or the development server's).
ENDED_EARLY = ("the request body ended before its end (the connection closed early): the upload was cut short; send "
               "the file again")


def cut_short(received: int, announced: int) -> str:
    """The sentence for a request body that ended after ``received`` of the ``announced`` bytes of its
    Content-Length: the request was cut short, not the file or the form it holds."""
    return (f"the request body ended after {received:,} of the {announced:,} bytes its Content-Length announced: the "
            "upload was cut short (the connection closed early); send the file again")


class ClientGone(BadRequest):
    """400: the client closed the connection before the end of its body (counted as :data:`CLIENT_DISCONNECT`)."""

    description = ENDED_EARLY


def is_disconnect(exc: BaseException) -> bool:
    """Whether ``exc`` is a client's going away mid-body (a route that answers its own 400s raises it on)."""
    return isinstance(exc, (ClientGone, ClientDisconnected))


def client_went_away() -> bool:
    """Whether the request being answered is one whose client went away mid-body (:func:`count_disconnects`)."""
    return request.environ.get(OUTCOME_KEY) == CLIENT_DISCONNECT


def count_disconnects(app: Flask) -> None:
    """Answer :class:`ClientGone` (and Werkzeug's ``ClientDisconnected``) as the 400 it was, noted as
    :data:`CLIENT_DISCONNECT` for the metrics and logged as such: the request's id, never its path or content."""

    @app.errorhandler(ClientGone)
    @app.errorhandler(ClientDisconnected)
    def _gone(exc: BadRequest):
        request.environ[OUTCOME_KEY] = CLIENT_DISCONNECT
        current_app.logger.warning("client disconnected before the end of its request body (request id %s)",
                                request_id(request.environ))
        said = exc.description if isinstance(exc, ClientGone) else ENDED_EARLY
        return app.handle_http_exception(BadRequest(said))
