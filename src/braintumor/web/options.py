"""``OPTIONS *``: a request for the server's own options (RFC 9110, 9.3.7), not a path's. It matched no route and was
answered the 404 page, HTML even to a JSON client (``Accept: application/json``: a 404 JSON "not found", as if the
server had no such thing). It is answered as an ``OPTIONS`` on a route is (``_App.make_default_options_response``):
204, no body, the ``Allow`` header, here every method one route or another takes. gunicorn refuses ``*`` with any other
method itself (400), as RFC 9112 (3.2.4) allows it with ``OPTIONS`` only.
"""

from __future__ import annotations

from flask import Flask, Response, request


def is_server_options(environ: dict) -> bool:
    """Whether the request is ``OPTIONS *`` (its target the asterisk, which the servers pass on as ``PATH_INFO``; a
    path ``/*`` is ``/*``)."""
    return environ.get("REQUEST_METHOD") == "OPTIONS" and environ.get("PATH_INFO") == "*"


def answer_server_options(app: Flask) -> None:
    """Answer ``OPTIONS *`` with 204 and every method of ``app``'s routes in ``Allow``, after the checks registered
    before this (the Host's), before the routing's 404."""

    @app.before_request
    def _server_options() -> Response | None:
        if not is_server_options(request.environ):
            return None
        response = Response(status=204)
        del response.headers["Content-Type"]
        response.allow.update(sorted({m for rule in app.url_map.iter_rules() for m in rule.methods or ()}))
        return response
