"""What the server's logs say of a request: never what a client typed into its URL or sent in it.

A URL's query string and an unknown path can hold anything (``?patient=Jane+Doe``, a file name appended to a route),
and an upload's name or bytes can turn up in an exception's text: the logs keep the method, the path of a route the
app has, the status, and for an unexpected error the route, the exception's class and the lines it went through.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from urllib.parse import quote, urlsplit

from flask import request
from werkzeug.exceptions import HTTPException, MethodNotAllowed
from werkzeug.routing import Map, RequestRedirect, Rule

from ..log_privacy import LOGGED_METHOD_KEY, LOGGED_PATH_KEY, UNNAMED, logged_method, traceback_without_text
from .options import is_server_options
from .request_ids import request_id

#: How waitress's logger words a request it was serving when the app raised or the client left: the request's path
#: follows, decoded (a ``%0A`` in it is a line break), in the message itself.
_WAITRESS_SERVING = ("Exception while serving ", "Client disconnected while serving ")
#: What stands for the path of a request the app answered 404 (a path it does not have, which can be anything).
UNKNOWN_PATH = UNNAMED
#: Characters a URL's path keeps as they are (RFC 3986's pchar and "/"); anything else is percent-encoded, so a logged
#: path holds no space, quote or line break (``%0A`` decoded in a path wrote a second, forged log line).
_PATH_SAFE = "/:@!$&'()*+,;="


def logged_path(environ: dict, status: int, url_map: Map | None = None) -> str:
    """The path an access log shows for a request answered ``status``: its own, percent-encoded, without the query
    string, or :data:`UNKNOWN_PATH` for a path the app does not have: a 404, and with ``url_map`` (the app's routes) a
    path none of them takes or a static file not served, whatever the status (a refused Host, a 405, answered before
    any 404 could be). ``OPTIONS *`` shows its ``*`` (web/options.py), which names no path."""
    if is_server_options(environ) and status != 404:
        return "*"
    if status == 404 or (url_map is not None and not _has_path(url_map, environ, status)):
        return UNKNOWN_PATH
    path = str(environ.get("SCRIPT_NAME", "")) + str(environ.get("PATH_INFO", ""))
    return quote(path.encode("latin-1", "replace"), safe=_PATH_SAFE) or "/"  # WSGI's strings are latin-1 bytes


def _has_path(url_map: Map, environ: dict, status: int) -> bool:
    """Whether the request's path is one of the app's: a route's own (any method; a redirect to one, merged slashes),
    or a file the static route served (its ``<path:filename>`` takes any name)."""
    adapter = url_map.bind("localhost", script_name=str(environ.get("SCRIPT_NAME", "")) or None,
                           path_info=str(environ.get("PATH_INFO", "")))
    path, method, rule = None, str(environ.get("REQUEST_METHOD", "GET")), None
    for _ in range(3):  # another method, then a redirect's target
        try:
            rule = adapter.match(path, method, return_rule=True)[0]
            break
        except MethodNotAllowed as exc:
            method = sorted(exc.valid_methods or ("GET",))[0]
        except RequestRedirect as exc:
            path = urlsplit(exc.new_url).path.removeprefix(adapter.script_name.rstrip("/"))
        except HTTPException:  # NotFound
            return False
    return isinstance(rule, Rule) and (not rule.arguments or 200 <= status < 300 or status == 304)


def with_logged_path(wsgi_app: Callable[[dict, Callable], Iterable[bytes]], url_map: Map | None = None
                     ) -> Callable[[dict, Callable], Iterable[bytes]]:
    """``wsgi_app`` that puts :func:`logged_path` and :func:`~braintumor.log_privacy.logged_method` in the environ
    as it answers, under the keys gunicorn's access log format reads (gunicorn_config.py): gunicorn itself has only the
    request line, its query string, the path decoded (line breaks and all) and the method as sent."""

    def app(environ: dict, start_response: Callable) -> Iterable[bytes]:
        def start(status: str, headers: list, exc_info=None):
            code = status.split(" ", 1)[0]
            environ[LOGGED_PATH_KEY] = logged_path(environ, int(code) if code.isdigit() else 0, url_map)
            environ[LOGGED_METHOD_KEY] = logged_method(environ)
            return start_response(status, headers, exc_info)

        return wsgi_app(environ, start)

    return app


def log_unexpected(logger: logging.Logger, exc: BaseException) -> None:
    """An exception no route handled: the request's method, route (the rule it matched, not its path) and id (its
    answer's X-Request-ID), and the traceback without the exceptions' texts
    (:func:`~braintumor.log_privacy.traceback_without_text`)."""
    route = request.url_rule.rule if request.url_rule is not None else UNKNOWN_PATH
    logger.error("unexpected error on %s %s (request id %s)\n%s", logged_method(request.environ), route,
                 request_id(request.environ), traceback_without_text(exc))


def waitress_without_request(record: logging.LogRecord) -> bool:
    """waitress's log (``serve`` on Windows) without the path of the request it was serving when the app raised or the
    client left, nor the exceptions' texts (:func:`~braintumor.log_privacy.traceback_without_text`)."""
    said = next((s for s in _WAITRESS_SERVING if isinstance(record.msg, str) and record.msg.startswith(s)), None)
    if said is not None:
        exc = record.exc_info[1] if record.exc_info else None
        record.msg, record.args = "%sa request%s", (said, f"\n{traceback_without_text(exc)}" if exc is not None else "")
        record.exc_info = record.exc_text = None
    return True
