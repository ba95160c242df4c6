"""``OPTIONS *``: a request for the server's own options (RFC 9110, 9.3.7), not a path's. It matched no route and was
answered the 404 page, HTML even to a JSON client (``Accept: application/json``: a 404 JSON "not found", as if the
server had no such thing). It is answered as an ``OPTIONS`` on a route is (``_App.make_default_options_response``):
204, no body, the ``Allow`` header, here every method one route or another takes. gunicorn refuses ``*`` with any other
method itself (400), as RFC 9112 (3.2.4) allows it with ``OPTIONS`` only; the development server (``serve --debug``) and
waitress passed ``GET *`` to the app, which answered the 404 page: :class:`AsteriskNotOptions` is that 400.
"""

from __future__ import annotations

from flask import Flask, Response, request
from werkzeug.exceptions import BadRequest

#: Why ``GET *`` (any method but OPTIONS on the asterisk) is refused.
ASTERISK_NOT_OPTIONS = ("the request target * (the server itself) is for OPTIONS only: send the request to a path, "
                        "such as /api/v1/model")


class AsteriskNotOptions(BadRequest):
    """400 for a request target ``*`` with a method other than ``OPTIONS``, as gunicorn answers it; JSON to a client
    that asks for it, else a line of text (no page's links can be built for it)."""

    description = ASTERISK_NOT_OPTIONS


def is_server_options(environ: dict) -> bool:
    """Whether the request is ``OPTIONS *`` (its target the asterisk, which the servers pass on as ``PATH_INFO``; a
    path ``/*`` is ``/*``)."""
    return environ.get("REQUEST_METHOD") == "OPTIONS" and environ.get("PATH_INFO") == "*"


def is_asterisk_not_options(environ: dict) -> bool:
    """Whether the request's target is ``*`` with a method other than ``OPTIONS`` (:class:`AsteriskNotOptions`)."""
    return environ.get("PATH_INFO") == "*" and environ.get("REQUEST_METHOD") != "OPTIONS"


def answer_server_options(app: Flask) -> None:
    """Answer ``OPTIONS *`` with 204 and every method of ``app``'s routes in ``Allow``, and another method on ``*``
    with :class:`AsteriskNotOptions`, after the checks registered before this (the Host's), before the routing's 404."""

    @app.before_request
    def _server_options() -> Response | None:
        if is_asterisk_not_options(request.environ):
            raise AsteriskNotOptions()
        if not is_server_options(request.environ):
            return None
        response = Response(status=204)
        del response.headers["Content-Type"]
        response.allow.update(sorted({m for rule in app.url_map.iter_rules() for m in rule.methods or ()}))
        return response
