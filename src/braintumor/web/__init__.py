"""The web app: an upload page and a JSON API over one :class:`~braintumor.predictor.Classifier`.

Uploads live in memory for the length of one request and are never written to disk
(see :class:`~braintumor.web.form_parsing.InMemoryRequest`); nothing else is stored either. Each process builds its own
app and so its own ONNX Runtime session (gunicorn calls the factory after forking).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from urllib.parse import urlsplit

from flask import Flask, Response, jsonify, redirect, render_template, request
from werkzeug.exceptions import BadHost, HTTPException
from werkzeug.routing import RequestRedirect

from ..gunicorn_config import DEFAULT_REQUEST_TIMEOUT
from ..heatmap import supports_cam
from ..image_io import MAX_REQUEST_PIXELS
from ..predictor import Classifier
from ..upload_limits import DEFAULT_MAX_UPLOAD_MB, check_positive, check_upload_mb
from ..wording import SEND_SMALLER
from .client_input import discard_unread_bodies, guard_input
from .form_parsing import InMemoryRequest
from .hosts import BAD_HOST, HostNotAllowed, refuse_other_hosts
from .inference import MAX_FILES, WebState, state
from .model_failures import answer_model_failures
from .monitoring import init_monitoring
from .multipart_errors import NAMELESS_HINT
from .options import AsteriskNotOptions, answer_server_options
from .origins import refuse_cross_site
from .request_ids import init_request_ids
from .server_logs import log_unexpected, with_logged_path
from .transfer_codings import refuse_transfer_codings

#: No inline scripts, no third-party origins; heat maps arrive as data: URIs.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",  # never to other sites; the page's own forms send their Origin (origins.py)
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


#: What a client asks for in Accept when it wants an error as JSON: the API's own type, and RFC 9457's problem type
#: (a client written to it sent only that and got the HTML page). Either gets the API's one kind of error, application/
#: json's ``{"error": ...}``.
JSON_ERROR_TYPES: tuple[str, ...] = ("application/json", "application/problem+json")


def wants_json() -> bool:
    """JSON errors for the API's paths, and for a client whose Accept ranks JSON above HTML (a wrong base URL got an
    HTML page); a browser (text/html first) and curl (``*/*``: a tie, the page's) get the page. ``/healthz/`` too: the
    machine routes take a trailing slash (``strict_slashes=False``), and its 405 was the HTML page. ``/api`` too (a
    base URL cut short got the page)."""
    path = request.path.rstrip("/")
    if path.startswith("/api/") or path in ("/api", "/healthz", "/metrics"):
        return True
    return request.accept_mimetypes.best_match(["text/html", *JSON_ERROR_TYPES]) in JSON_ERROR_TYPES


class _App(Flask):
    def make_default_options_response(self) -> Response:
        """OPTIONS: 204 with the Allow header (it was 200 with an empty body labelled text/html)."""
        response = super().make_default_options_response()
        response.status_code = 204
        del response.headers["Content-Type"]
        return response

    def handle_http_exception(self, e: HTTPException):  # type: ignore[override]
        """Werkzeug's own redirects (``/api//v1/model``, a path prefix without its slash) with a relative Location:
        it wrote an absolute URL from the Host header and the scheme gunicorn took from X-Forwarded-Proto (trusted from
        127.0.0.1), so behind a TLS proxy that sends none a client was sent to plain ``http://``. Its body is the
        API's JSON where an error's would be (:func:`wants_json`): it was Werkzeug's HTML "Redirecting..." page."""
        if isinstance(e, RequestRedirect):
            target = urlsplit(e.new_url)
            # one leading slash: "//host/..." would be another site
            location = "/" + target.path.lstrip("/") + (f"?{target.query}" if target.query else "")
            if not wants_json():
                return redirect(location, e.code)
            return jsonify(error=f"the route is at {location}: send the request there (a {e.code} keeps its method "
                                 "and body)"), e.code, {"Location": location}
        return super().handle_http_exception(e)

    def log_exception(self, exc_info) -> None:  # type: ignore[override]
        """Flask's "Exception on <path>" (its path and the exception's text) in :func:`log_unexpected`'s words."""
        if exc_info[1] is not None:
            log_unexpected(self.logger, exc_info[1])


def upload_limit_mb(value: float) -> float:
    """``max_upload_mb`` checked by the rule ``serve --max-upload-mb`` has (:func:`~braintumor.upload_limits.
    check_upload_mb`): a limit under 1 kB (1e-9 was taken) is 0 bytes, and the app refused every upload."""
    return checked_setting("max_upload_mb", value, check_upload_mb)


def checked_setting(name: str, value: float, check: Callable[[float], float] = check_positive) -> float:
    """``check(value)``, its TypeError or ValueError naming the setting: ``request_timeout=-5`` (create_app's, serve's)
    was taken, and every upload answered 408 "longer than -5 s"; ``"5"`` was a TypeError in each request."""
    try:
        return check(value)
    except (TypeError, ValueError) as exc:
        raise type(exc)(f"{name} {exc}") from None


def create_app(model_path: str | os.PathLike | None = None, classifier: Classifier | None = None,
               max_upload_mb: float = DEFAULT_MAX_UPLOAD_MB, max_files: int = MAX_FILES,
               threads: int | None = None, max_request_pixels: int | None = None,
               request_timeout: float | None = DEFAULT_REQUEST_TIMEOUT,
               allowed_hosts: Collection[str] | None = None, trusted_origins: Collection[str] = ()) -> Flask:
    """Build the app around ``classifier``, or a model loaded from ``model_path`` (default: shipped).

    ``max_upload_mb``: at least :data:`~braintumor.upload_limits.MIN_UPLOAD_MB`, as ``serve --max-upload-mb``.
    ``request_timeout``: seconds a request's body may take to arrive before it is answered 408 (None: no limit).
    ``allowed_hosts``: the Host names answered, others 400 (web/hosts.py; None: every one).
    ``trusted_origins``: other sites whose pages may post here as its own does, others 403 (web/origins.py)."""
    max_upload_mb = upload_limit_mb(max_upload_mb)
    if request_timeout is not None:
        request_timeout = checked_setting("request_timeout", request_timeout)
    app = _App(__name__)
    app.request_class = InMemoryRequest
    app.wsgi_app = guard_input(app.wsgi_app, request_timeout)  # a body stalled or trickling: 408
    app.wsgi_app = with_logged_path(app.wsgi_app, app.url_map)  # the access log's path: never the query string
    app.json.sort_keys = False
    clf = classifier or Classifier.load(model_path, threads=threads)
    max_bytes = int(max_upload_mb * 1024 * 1024)
    app.config.update(MAX_CONTENT_LENGTH=max_bytes, MAX_FORM_PARTS=max(100, 4 * max_files))
    app.extensions["braintumor"] = WebState(classifier=clf, cam=supports_cam(clf),
                                            max_request_bytes=max_bytes, max_files=max_files,
                                            max_request_pixels=max_request_pixels or MAX_REQUEST_PIXELS)

    from .api import bp as api_bp
    from .pages import bp as pages_bp

    app.register_blueprint(pages_bp)
    app.register_blueprint(api_bp)
    init_monitoring(app, clf)
    init_request_ids(app)  # X-Request-ID on every answer, named in its log lines
    refuse_other_hosts(app, allowed_hosts)  # after monitoring's start hook: a refusal is counted as any 400
    refuse_cross_site(app, trusted_origins)  # a page of another site posting: 403, its body never parsed
    refuse_transfer_codings(app)  # a body in gzip, chunked: 501, not the compressed bytes read as the file
    discard_unread_bodies(app)  # a body left unread (those refusals, 404, 405, 415): read and dropped before the answer
    answer_model_failures(app)  # a model whose scores are not finite: a 503 that says so, not the generic 500
    answer_server_options(app)  # OPTIONS *: 204 with the Allow header, as on a route (it was the 404 page)

    @app.after_request
    def _security_headers(response):
        for name, value in SECURITY_HEADERS.items():
            response.headers.setdefault(name, value)
        if not request.path.startswith("/static/") or response.status_code >= 400:  # a static 404 as any other
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException):
        """Every HTTP error as JSON for the API and as the page for people; never a traceback."""
        code, message = exc.code or 500, _message(exc)
        if code == 413 and _under_limit():  # Werkzeug's 413 for too many form parts: the documented 400
            code = 400
            limit = app.extensions["braintumor"].max_files
            # Werkzeug's same 413 for a text field over its limit: a file part sent without a file name is one
            message = (f"too many files or form fields in one request (the limit is {limit} files), or a form field "
                       f"over {request.max_form_memory_size // 1000} kB: a file part without a file name is a form "
                       f"field; {NAMELESS_HINT}")
        # the exception's own headers (a 405's Allow, which HTTP requires) but not its HTML Content-Type
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        if wants_json():
            return jsonify(error=message), code, headers
        # no URL can be built for a bad host, so no page (its links): its render raised, and the server's 500 page;
        # nor the page (the model's name) for a host not answered
        if isinstance(exc, (BadHost, HostNotAllowed, AsteriskNotOptions)):  # nor for * (web/options.py)
            return Response(message + "\n", code, headers, mimetype="text/plain")
        page = render_template("index.html", entries=[], message=message, state=app.extensions["braintumor"])
        return page, code, headers

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception):
        app.log_exception((type(exc), exc, exc.__traceback__))  # no path, no exception text: they can hold a name
        message = "internal error: the request could not be processed"
        if wants_json():
            return jsonify(error=message), 500
        return render_template("index.html", entries=[], message=message, state=app.extensions["braintumor"]), 500

    return app


def _under_limit() -> bool:
    """A 413 for a request whose declared size is within the limit came from too many parts, not bytes."""
    return request.content_length is not None and request.content_length <= (request.max_content_length or 0)


def _message(exc: HTTPException) -> str:
    """A short, user-safe sentence for an HTTP error."""
    if exc.code == 413:
        return (f"upload too large: the limit is {state().max_upload_mb} MiB per request (all files together): send "
                f"fewer files at a time, {SEND_SMALLER}")
    if exc.code == 404:
        return "not found"
    if exc.code == 405:
        return f"method {request.method} not allowed here"
    if isinstance(exc, BadHost):
        return BAD_HOST
    return exc.description or (exc.name or "bad request").lower()
