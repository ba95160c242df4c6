"""``braintumor serve`` on Windows: waitress (threads in one process), set up so that uploads stay off the disk and
its 413 for a body over the upload limit is the app's own answer, as under gunicorn. Apart from serve.py, which had
reached its size limit; waitress is imported only when the server is built.
"""

from __future__ import annotations

import logging
import sys
from typing import TYPE_CHECKING, Any

from .log_privacy import traceback_without_text

if TYPE_CHECKING:
    from flask import Flask


def waitress_buffers(max_request_bytes: int) -> dict[str, int]:
    """waitress's settings that keep uploads off the disk. It reads a whole request body before calling the app, and
    by default puts a body over 512 KB (``inbuf_overflow``) and an answer over 1 MB (``outbuf_overflow``: heat maps of
    the uploads) in temporary files. Here neither ever overflows; memory stays bounded by ``max_request_body_size``,
    this server's upload limit (a bigger body is refused, 413, before it is read), per connection receiving one
    (up to waitress's 100: docs/DEPLOY.md, "Resource sizing"), and by the app's answers, in memory already."""
    return {"max_request_body_size": max_request_bytes + 1,  # waitress refuses a Content-Length >= this
            "inbuf_overflow": sys.maxsize, "outbuf_overflow": sys.maxsize}


def waitress_server(app: Flask, **settings: Any) -> Any:
    """waitress's server for ``app`` (``settings``: waitress's own), whose 413 for a body over the upload limit (sent
    before the app sees the request) is the app's own answer: JSON for the API, the page for people, saying the limit
    and what to send instead, counted in /metrics by the app's hooks, as under gunicorn, where the app answers it.
    waitress's was plain text ("exceeds max_body of 10486") and in no count. waitress has no hook for it but the task
    class its connections answer with (``HTTPChannel.error_task_class``), set here on this server's only."""
    from waitress import create_server
    from waitress.channel import HTTPChannel
    from waitress.server import BaseWSGIServer
    from waitress.task import ErrorTask, WSGITask
    from werkzeug.exceptions import RequestEntityTooLarge

    from .web.server_logs import waitress_without_request

    class AppErrorTask(ErrorTask):
        environ = None
        get_environment = WSGITask.get_environment  # the environ the app would have had: Host, Accept, path

        def execute(self) -> None:
            if getattr(self.request.error, "code", None) != 413:  # malformed HTTP: gunicorn's own answer too
                return super().execute()
            try:
                answer = _app_answer(app, self.get_environment(), RequestEntityTooLarge())
            except Exception as exc:  # the app's words are not worth the client's answer: waitress's 413 is sent
                logging.getLogger(__name__).error("could not give the app's answer to waitress's 413\n%s",
                                                  traceback_without_text(exc))  # no text: it may hold the path
                return super().execute()
            body = answer.get_data()
            self.status = answer.status
            self.response_headers.extend((k, v) for k, v in answer.headers.to_wsgi_list()
                                         if k.lower() != "content-length")
            self.set_close_on_finish()  # the body was never read
            self.content_length = len(body)
            self.write(body)

    class AppChannel(HTTPChannel):
        error_task_class = AppErrorTask

    logging.getLogger("waitress").addFilter(waitress_without_request)  # no request path, no exception text
    sockets: dict = {}
    server = create_server(app, map=sockets, **settings)
    for listening in sockets.values():  # one per address the host resolves to
        if isinstance(listening, BaseWSGIServer):
            listening.channel_class = AppChannel
    return server


def _app_answer(app: Flask, environ: dict, error: Exception) -> Any:
    """The app's answer to a request its server refused (``error``) before the app could run it: Flask's
    ``full_dispatch_request`` with ``error`` in the place of the route, so the before-request hooks (the Host check,
    monitoring's start), the error handler and the after-request hooks (security headers, the count) all run. A Host
    that is no host name keeps its own 400, as the app answers it: no page can be built for it (its links)."""
    from flask import request
    from werkzeug.exceptions import BadHost

    with app.request_context(environ):
        try:
            answer = app.preprocess_request()
            if answer is None:
                raise request.routing_exception if isinstance(request.routing_exception, BadHost) else error
        except Exception as exc:
            answer = app.handle_user_exception(exc)
        return app.finalize_request(answer)
