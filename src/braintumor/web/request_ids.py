"""The request id every answer carries (``X-Request-ID``) and the logs name, for an operator to find a user's request
in them: the one a proxy (or client) sent when it is safe to echo and log, else a fresh random one. Never derived from
an upload, its name or its bytes."""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, request

#: The header a proxy sends it in and every answer carries it in (gunicorn_config.py's access log reads it there).
REQUEST_ID_HEADER = "X-Request-ID"
#: Where the request's id is kept in its environ: one id for its answer, the app's log lines and the debug server's.
REQUEST_ID_KEY = "braintumor.request_id"
#: An incoming id taken as it is: 1-128 of these characters, so no line break (a forged log line or header), no space
#: and no quote; any other is replaced, never echoed. The OpenAPI document declares it (web/openapi.py).
SAFE_ID_PATTERN = "[A-Za-z0-9._:-]{1,128}"
_SAFE_ID = re.compile(SAFE_ID_PATTERN)


def request_id(environ: dict) -> str:
    """The id of the request of ``environ``: its ``X-Request-ID`` if safe (:data:`_SAFE_ID`), else a fresh uuid4 (hex),
    chosen once and kept in the environ, so that its answer and its log lines name the same."""
    if REQUEST_ID_KEY not in environ:
        sent = environ.get("HTTP_X_REQUEST_ID")
        safe = isinstance(sent, str) and _SAFE_ID.fullmatch(sent) is not None
        environ[REQUEST_ID_KEY] = sent if safe else uuid.uuid4().hex
    return environ[REQUEST_ID_KEY]


def init_request_ids(app: Flask) -> None:
    """Every answer of ``app`` carries its request's id, its errors and waitress's 413 (serve_waitress.py) too."""

    @app.after_request
    def _request_id_header(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = request_id(request.environ)
        return response
