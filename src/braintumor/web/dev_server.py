"""``serve --debug``: Werkzeug's development server, with the production servers' privacy in its log.

Werkzeug's own handler logs each request line as the client sent it (``"GET /healthz?patient=Jane+Doe HTTP/1.1"``),
its client's address, and for a request line it cannot parse the line itself in the error it logs. This one logs what
gunicorn's access log does (gunicorn_config.py): the method, :func:`~braintumor.web.server_logs.logged_path`, the
protocol, the status, the size and the request's id. And it keeps the Host header where a request line in absolute
form replaced it (``GET http://name/path``), for web/hosts.py to check both. An ``Expect: 100-continue`` is answered
at the app's first read of the body (web/expect_continue.py), not twice before the app ran.
"""

from __future__ import annotations

import logging
from typing import Any

from werkzeug.serving import WSGIRequestHandler

from ..log_privacy import LOGGED_METHOD_KEY, LOGGED_PATH_KEY
from .expect_continue import CONTINUE, SEND_CONTINUE_KEY
from .hosts import HOST_HEADER_KEY
from .request_ids import REQUEST_ID_KEY
from .server_logs import UNKNOWN_PATH


class DevRequestHandler(WSGIRequestHandler):
    """Werkzeug's request handler (``Flask.run(request_handler=...)``) whose log holds no query string, no unknown
    path, no client address and no request line it refused, and whose environ keeps the Host header as sent."""

    _expect: str | None = None  #: the request's Expect header, hidden from Werkzeug's run_wsgi (its own 100)

    def handle_expect_100(self) -> bool:
        """http.server's 100 for ``Expect: 100-continue``, sent before the app: left to the app's first read."""
        self._expect = self.headers.get("Expect")
        del self.headers["Expect"]
        return True

    def make_environ(self) -> dict:
        environ = super().make_environ()
        if "Host" in self.headers:  # HTTP_HOST is an absolute-form target's authority here: web/hosts.py checks both
            environ[HOST_HEADER_KEY] = ",".join(self.headers.get_all("Host", ()))
        if self._expect is not None:
            environ["HTTP_EXPECT"], self._expect = self._expect, None
            environ[SEND_CONTINUE_KEY] = self._send_continue
        return environ

    def _send_continue(self) -> None:
        self.wfile.write(CONTINUE)
        self.wfile.flush()

    def handle_one_request(self) -> None:
        self.environ = None  # a request line refused on a kept-alive connection: not logged as the last request
        super().handle_one_request()

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # the environ of this request, where the app answered it: with_logged_path put the path to log there
        environ = getattr(self, "environ", None) or {}
        method = environ.get(LOGGED_METHOD_KEY, UNKNOWN_PATH)  # an HTTP method, or none named (server_logs.py)
        path = environ.get(LOGGED_PATH_KEY, UNKNOWN_PATH)  # none: answered before the app (a bad request line)
        protocol = environ.get("SERVER_PROTOCOL", "-")
        rid = environ.get(REQUEST_ID_KEY, UNKNOWN_PATH)  # the answer's X-Request-ID (web/request_ids.py)
        self.log("info", '"%s %s %s" %s %s %s', method, path, protocol, int(code) if isinstance(code, int) else code,
                 size, rid)

    def log_error(self, format: str, *args: Any) -> None:
        # http.server's "code 400, message Bad request syntax ('GET /?patient=...')": log_request logs its status next;
        # the others ("Request timed out: %r", "SSL error occurred: %s") without what they quote
        if not format.startswith("code "):
            self.log("error", "%s", format.split("%", 1)[0].rstrip(":( "))

    def log(self, type: str, message: str, *args: Any) -> None:
        """As Werkzeug's, without the client's address (gunicorn's access log under serve has none either)."""
        logging.getLogger("werkzeug").log(logging.getLevelName(type.upper()), f"[%s] {message}",
                                          self.log_date_time_string(), *args)
