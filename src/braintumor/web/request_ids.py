"""The request id every answer carries (``X-Request-ID``) and the logs name, for an operator to find a user's request
in them: the one a trusted proxy sent when it is safe to echo and log, else a fresh random one. Never derived from
an upload, its name or its bytes, nor taken from just any client: one could fill it with a patient's name (``DOE_JANE``,
then in the access log) or reuse another request's id to muddle the logs."""

from __future__ import annotations

import re
import uuid

from flask import Flask, Response, request

from .hosts import is_loopback

#: The header a proxy sends it in and every answer carries it in (gunicorn_config.py's access log reads it there).
REQUEST_ID_HEADER = "X-Request-ID"
#: Where the request's id is kept in its environ: one id for its answer, the app's log lines and the debug server's.
REQUEST_ID_KEY = "braintumor.request_id"
#: An incoming id taken as it is: 1-128 of these characters, so no line break (a forged log line or header), no space
#: and no quote; any other is replaced, never echoed. The OpenAPI document declares it (web/openapi.py).
SAFE_ID_PATTERN = "[A-Za-z0-9._:-]{1,128}"
_SAFE_ID = re.compile(SAFE_ID_PATTERN)


def peer_names_ids(environ: dict) -> bool:
    """Whether the request of ``environ`` may name its own id: under gunicorn (its SERVER_SOFTWARE, which no client
    sets), what reaches the app came from a peer of ``--forwarded-allow-ips`` (gunicorn_config.py's pre_request drops
    it from any other, as gunicorn drops their SCRIPT_NAME header); waitress and Werkzeug's server have no such
    setting, so only a peer on this machine's loopback (a reverse proxy beside the server) is trusted there."""
    if str(environ.get("SERVER_SOFTWARE", "")).startswith("gunicorn/"):
        return True
    peer = environ.get("REMOTE_ADDR")
    return isinstance(peer, str) and is_loopback(peer)


def request_id(environ: dict) -> str:
    """The id of the request of ``environ``: its ``X-Request-ID`` if a trusted peer sent it (:func:`peer_names_ids`)
    and it is safe (:data:`_SAFE_ID`), else a fresh uuid4 (hex), chosen once and kept in the environ, so that its
    answer and its log lines name the same."""
    if REQUEST_ID_KEY not in environ:
        sent = environ.get("HTTP_X_REQUEST_ID") if peer_names_ids(environ) else None
        safe = isinstance(sent, str) and _SAFE_ID.fullmatch(sent) is not None
        environ[REQUEST_ID_KEY] = sent if safe else uuid.uuid4().hex
    return environ[REQUEST_ID_KEY]


def init_request_ids(app: Flask) -> None:
    """Every answer of ``app`` carries its request's id, its errors and waitress's 413 (serve_waitress.py) too."""

    @app.after_request
    def _request_id_header(response: Response) -> Response:
        response.headers[REQUEST_ID_HEADER] = request_id(request.environ)
        return response
