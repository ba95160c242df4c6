"""What the server's logs hold of a request: no query string, no unknown path or method, no upload's name
(web/server_logs.py, gunicorn_config.py's access log format)."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import flask
import pytest
from conftest import REPO
from serve_process import free_port, running_serve, running_waitress

from braintumor.log_privacy import logged_method
from braintumor.web.server_logs import UNKNOWN_PATH, logged_path

#: A request id a proxy sends (web/request_ids.py).
RID = "req-7f3a.1:2"

#: An access-log line: time, "method path protocol", status, size, duration, request id
#: (gunicorn_config.access_log_format).
ACCESS_LINE = re.compile(r'^\[[^\]\n]+\] "(\S+) (\S+) HTTP/1\.1" (\d{3}) \d+ \d+ms \S+$', re.M)


def _send(url: str, data: bytes | None = None, headers: dict | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers or {}), timeout=30) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_the_access_log_keeps_no_query_string_and_no_unknown_path(tiny_model, test_images, tmp_path):
    """gunicorn's access log wrote the request line (``%(r)s``): a client that appended ``?patient=...`` or a file name
    to a URL, or a person who typed one, put it in the log, even when the app refused the request."""
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="g.jpg"\r\n\r\n'.encode()
            + test_images["glioma"][0].read_bytes() + f"\r\n--{boundary}--\r\n".encode())
    multipart = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
    with running_serve(tmp_path, "--model", str(tiny_model), "--workers", "1") as server:
        base = server.base
        assert _send(f"{base}/?patient=JANE%20DOE") == 200
        assert _send(f"{base}/api/v1/predict?filename=JANE_DOE.jpg", body, multipart) == 400  # refused, still logged
        assert _send(f"{base}/api/v1/predict", body, multipart) == 200
        assert _send(f"{base}/api/v1/predict/JANE_DOE.jpg", body, multipart) == 404
        assert _send(f"{base}/static/JANE_DOE.png") == 404
        assert _raw_method(server.port, "DOE^JANE").startswith(b"HTTP/1.1 405 ")  # gunicorn takes it: 20 characters
    out = server.output()
    assert "JANE" not in out and "patient" not in out and "filename" not in out, out
    access = [m.groups() for m in ACCESS_LINE.finditer(out) if m[2] != "/healthz"]
    # sorted: a thread writes its line after its answer, so the next request's line can come first
    assert sorted(access) == sorted([("GET", "/", "200"), ("POST", "/api/v1/predict", "400"),
                                     ("POST", "/api/v1/predict", "200"), ("POST", UNKNOWN_PATH, "404"),
                                     ("GET", UNKNOWN_PATH, "404"), ("-", "/api/v1/model", "405")]), out


def _raw_method(port: int, method: str) -> bytes:
    """What the server answers a request for /api/v1/model whose method is ``method``, which no HTTP client sends."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(f"{method} /api/v1/model HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".encode())
        return b"".join(iter(lambda: raw.recv(4096), b""))


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_the_access_log_gives_a_static_files_size(tiny_model, tmp_path):
    """gunicorn sends a static file with sendfile() and counts none of its bytes: the access log said
    ``"GET /static/app.css HTTP/1.1" 200 0``, as if the page's style sheet had been empty."""
    with running_serve(tmp_path, "--model", str(tiny_model), "--workers", "1") as server:
        size = len(urllib.request.urlopen(f"{server.base}/static/app.css", timeout=30).read())
    line = re.search(r'"GET /static/app\.css HTTP/1\.1" 200 (\d+) \d+ms \S+$', server.output(), re.M)
    assert size > 0 and line and int(line[1]) == size, server.output()


#: A line of the debug server's log (web/dev_server.py): time, "method path protocol", status, size, request id.
DEV_LINE = re.compile(r'^\[[^\]\n]+\] "(\S+) (\S+) (\S+)" (\d{3}) \S+ \S+$', re.M)


def test_the_debug_server_logs_no_query_string_no_unknown_path_and_no_request_line(tiny_model, tmp_path):
    """``serve --debug`` (Werkzeug's development server) logged each request line as sent, with its client's address:
    ``127.0.0.1 - - [...] "GET /?patient=JANE%20DOE HTTP/1.1" 200 -``, and a line it could not parse, whole, in an
    error. It logs what gunicorn's access log does."""
    with running_serve(tmp_path, "--model", str(tiny_model), "--debug") as server:
        assert _send(f"{server.base}/?patient=JANE%20DOE") == 200
        assert _send(f"{server.base}/api/v1/model/JANE_DOE.jpg?patient=x") == 404
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as raw:
            raw.sendall(b"GET /?patient=JANE DOE HTTP/1.1\r\n\r\n")  # a space in the URL: no request line
            answer = b"".join(iter(lambda: raw.recv(4096), b""))
        assert answer.startswith(b"HTTP/1.1 400 "), answer
        assert _raw_method(server.port, "patient=jane.doe").startswith(b"HTTP/1.1 405 ")  # any method without a space
    out = server.output()
    assert "JANE" not in out and "patient" not in out and "127.0.0.1 - -" not in out, out
    access = [m.groups() for m in DEV_LINE.finditer(out) if m[2] != "/healthz"]
    assert sorted(access) == sorted([("GET", "/", "HTTP/1.1", "200"), ("GET", UNKNOWN_PATH, "HTTP/1.1", "404"),
                                     ("-", UNKNOWN_PATH, "-", "400"), ("-", "/api/v1/model", "HTTP/1.1", "405")]), out


@pytest.mark.parametrize(("method", "logged"), [("GET", "GET"), ("OPTIONS", "OPTIONS"), ("PATCH", "PATCH"),
                                                ("DOE^JANE", "-"), ("get", "-"), ("GET\n", "-"), (None, "-")])
def test_a_logged_method_is_one_of_https_own(method, logged):
    assert logged_method({} if method is None else {"REQUEST_METHOD": method}) == logged


@pytest.mark.parametrize(("method", "logged"), [("POST", "POST"), ("DOE^JANE", "-")])
def test_an_unexpected_errors_line_names_https_own_methods_only(method, logged, caplog):
    """The access log wrote ``-`` for a method other than HTTP's own (``DOE^JANE``, which gunicorn takes), and the
    lines of an unexpected error, the app's and gunicorn's (its error page failing too), still wrote it as sent."""
    from braintumor.log_privacy import without_client_data
    from braintumor.web.server_logs import log_unexpected

    try:
        raise ValueError("a bug")
    except ValueError as exc:
        error = exc
    context = flask.Flask(__name__).test_request_context("/api/v1/predict", method=method, headers={
        "X-Request-ID": RID}, environ_base={"REMOTE_ADDR": "127.0.0.1"})  # a proxy on loopback names it
    with context, caplog.at_level(logging.ERROR):
        log_unexpected(logging.getLogger("braintumor.test"), error)
    assert caplog.text.split("\n", 1)[0].endswith(f"unexpected error on {logged} - (request id {RID})"), caplog.text
    record = logging.LogRecord("gunicorn.error", logging.ERROR, __file__, 1, "Error handling request %s %s",
                               (method, "/api/v1/predict?patient=JANE"), (ValueError, error, error.__traceback__))
    assert without_client_data(record) and record.getMessage().startswith(f"Error handling request {logged}\nTrace")
    assert "DOE^JANE" not in caplog.text + record.getMessage() and "patient" not in record.getMessage()


@pytest.mark.parametrize(("path_info", "logged"), [
    ("/api/v1/predict", "/api/v1/predict"),
    ("/api/v1/model/", "/api/v1/model/"),
    ("/a\nforged line", "/a%0Aforged%20line"),  # WSGI's PATH_INFO is decoded: %0A in the URL is a line break here
    ('/a"b', "/a%22b"),  # a quote would end the log's quoted field early
    ("/caf\xc3\xa9", "/caf%C3%A9"),  # UTF-8 bytes, as WSGI's latin-1 string holds them
])
def test_a_logged_path_is_percent_encoded(path_info, logged):
    assert logged_path({"PATH_INFO": path_info}, 200) == logged
    assert logged_path({"PATH_INFO": path_info, "SCRIPT_NAME": "/brain"}, 405) == "/brain" + logged  # serve's prefix
    assert logged_path({"PATH_INFO": path_info}, 404) == UNKNOWN_PATH


def test_options_asterisk_is_logged_as_its_asterisk(tiny_classifier):
    """``OPTIONS *`` (answered 204: web/options.py) was logged as a path the app does not have (``-``)."""
    from braintumor.web import create_app

    url_map, environ = create_app(classifier=tiny_classifier).url_map, {"REQUEST_METHOD": "OPTIONS", "PATH_INFO": "*"}
    assert logged_path(environ, 204, url_map) == "*"
    assert logged_path({**environ, "REQUEST_METHOD": "GET"}, 404, url_map) == UNKNOWN_PATH


@pytest.mark.parametrize(("method", "path", "headers", "status", "logged"), [
    ("GET", "/JANE_DOE.jpg", {"Host": "evil.example"}, 400, UNKNOWN_PATH),  # refused Host: before routing's 404
    ("POST", "/api/v1/predict/JANE_DOE.dcm", {"Host": "a..b"}, 400, UNKNOWN_PATH),  # no host name at all
    ("GET", "/static/app.css", {"Host": "evil.example"}, 400, UNKNOWN_PATH),  # a static file not served
    ("POST", "/static/JANE_DOE.png", {}, 405, UNKNOWN_PATH),  # the static route takes any name: 405 before 404
    ("GET", "/healthz", {"Host": "evil.example"}, 400, "/healthz"),  # a route's own path, refused: still said
    ("GET", "/static/app.css", {}, 200, "/static/app.css"),
    ("GET", "/metrics/", {}, 200, "/metrics/"),
    ("GET", "/api//v1/model", {}, 308, "/api//v1/model"),  # to a route of the app
    ("GET", "/api/v1/predict", {}, 405, "/api/v1/predict"),
])
def test_a_path_the_app_does_not_have_is_never_logged_whatever_the_status(tiny_classifier, method, path, headers,
                                                                         status, logged):
    """A 404 alone was ``-``: a made-up path (a patient's file name appended to a route) answered otherwise before
    routing, a Host the loopback server does not answer (web/hosts.py) or a 405 from the static route, was logged."""
    from werkzeug.test import EnvironBuilder

    from braintumor.log_privacy import LOGGED_PATH_KEY
    from braintumor.web import create_app
    from braintumor.web.hosts import allowed_hosts

    app = create_app(classifier=tiny_classifier, allowed_hosts=allowed_hosts("127.0.0.1"))
    environ = EnvironBuilder(path=path, method=method, headers=headers).get_environ()
    said = []
    b"".join(app.wsgi_app(environ, lambda s, h, e=None: said.append(s)))
    assert (int(said[0].split()[0]), environ[LOGGED_PATH_KEY]) == (status, logged)


def _raise_with_the_name(clf, uploads, **kwargs):
    """A bug whose exception quotes the upload it failed on, as a reader's error can (a name, a header's value)."""
    try:
        raise KeyError(uploads[0].name)
    except KeyError as exc:
        raise ValueError(f"cannot read {uploads[0].name}: {uploads[0].data[:20]!r}") from exc


def test_an_unexpected_error_logs_its_route_and_traceback_not_the_upload(tiny_classifier, monkeypatch, caplog):
    """The app logged an unexpected error's path and its traceback with each exception's text: an upload's name or
    bytes, a DICOM value, whatever the code that failed had put there."""
    from braintumor.web import api, create_app

    monkeypatch.setattr(api, "classify_entries", _raise_with_the_name)
    client = create_app(classifier=tiny_classifier).test_client()
    with caplog.at_level(logging.DEBUG):
        r = client.post("/api/v1/predict/", data=b"JANE-PIXELS", content_type="application/dicom",
                        headers={"Content-Disposition": 'attachment; filename="JANE_DOE.dcm"'})
    assert r.status_code == 500 and r.get_json() == {"error": "internal error: the request could not be processed"}
    logged = caplog.text
    assert "JANE" not in logged, logged
    said = f"unexpected error on POST /api/v1/predict (request id {r.headers['X-Request-ID']})\n"  # the route, the id
    assert said + "Traceback (most recent call last):" in logged
    assert "in _raise_with_the_name" in logged  # the lines it went through, as a traceback has them
    assert "KeyError (its text is left out of the log)\n\nThe above exception was the direct cause" in logged
    assert logged.rstrip().endswith("ValueError (its text is left out of the log)"), logged


def test_an_error_in_the_error_page_logs_no_exception_text(tiny_classifier, monkeypatch, caplog):
    """An exception the app's error handler raised itself reached Flask's own log line, "Exception on <path>", with
    its text."""
    from braintumor import web
    from braintumor.web import create_app, pages

    def failing(*args, **kwargs):
        raise RuntimeError(flask.request.args["patient"])  # the source line, which a traceback quotes, has no name

    monkeypatch.setattr(pages, "render_template", failing)
    monkeypatch.setattr(web, "render_template", failing)
    client = create_app(classifier=tiny_classifier).test_client()
    with caplog.at_level(logging.DEBUG), pytest.raises(RuntimeError):  # the error page fails too: the server's 500
        client.get("/?patient=JANE", headers={"Accept": "text/html"})
    assert "JANE" not in caplog.text, caplog.text
    # the route's error, then the handler's
    assert len(re.findall(r"unexpected error on GET / \(request id \w+\)\nTraceback", caplog.text)) == 2


#: A WSGI app with a bug that quotes its request, for gunicorn to log (``raising_app:app``).
RAISING_APP = '''
def app(environ, start_response):
    try:
        int(environ["QUERY_STRING"])
    except ValueError as exc:
        raise LookupError(environ["PATH_INFO"]) from exc
'''


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
@pytest.mark.parametrize("worker", [["--worker-class", "gthread", "--threads", "2"], ["--worker-class", "sync"]],
                         ids=["gthread", "sync"])
def test_gunicorn_logs_an_exception_the_app_let_through_without_the_request(tmp_path, worker):
    """gunicorn logged an exception that got past the app (its error page failing too: the test above) as "Error
    handling request GET /scans/JANE?patient=JANE" and its traceback with the exceptions' texts."""
    (tmp_path / "raising_app.py").write_text(RAISING_APP)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    config = REPO / "src" / "braintumor" / "gunicorn_config.py"
    with open(tmp_path / "server.log", "w+") as log:
        proc = subprocess.Popen([sys.executable, "-m", "gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1",
                                 *worker, "--access-logfile", "-", "--error-logfile", "-", "--config", str(config),
                                 "--chdir", str(tmp_path), "raising_app:app"], stdout=log, stderr=subprocess.STDOUT,
                                env=env)
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    status = _send(f"http://127.0.0.1:{port}/scans/JANE_DOE.dcm?patient=JANE%20DOE")
                    break
                except OSError:
                    assert proc.poll() is None and time.monotonic() < deadline, "gunicorn did not start"
                    time.sleep(0.2)
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(timeout=40)
        log.seek(0)
        out = log.read()
    assert status == 500
    assert "JANE" not in out and "patient" not in out, out
    assert "[ERROR] Error handling request GET\nTraceback (most recent call last):" in out, out
    assert "ValueError (its text is left out of the log)\n\nThe above exception was the direct cause" in out, out
    assert "LookupError (its text is left out of the log)\n" in out, out


def _raising_app(environ, start_response):
    try:
        int(environ["QUERY_STRING"])
    except ValueError as exc:
        raise LookupError(environ["PATH_INFO"]) from exc


def test_waitress_logs_an_exception_the_app_let_through_without_the_request(caplog):
    """waitress (``serve`` on Windows) logged "Exception while serving /scans/JANE_DOE.dcm", the path decoded, and the
    traceback with the exceptions' texts."""
    with caplog.at_level(logging.DEBUG, logger="waitress"), running_waitress(_raising_app) as port:
        assert _send(f"http://127.0.0.1:{port}/scans/JANE_DOE.dcm?patient=JANE%20DOE") == 500
    logged = caplog.text
    assert "JANE" not in logged and "patient" not in logged, logged
    assert "Exception while serving a request\nTraceback (most recent call last):" in logged, logged
    assert "in _raising_app" in logged and "LookupError (its text is left out of the log)" in logged, logged
