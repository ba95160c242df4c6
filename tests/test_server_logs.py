"""What the server's logs hold of a request: no query string, no unknown path, no upload's name (web/server_logs.py,
gunicorn_config.py's access log format)."""

from __future__ import annotations

import re
import sys
import urllib.error
import urllib.request
import uuid

import pytest
from serve_process import running_serve

from braintumor.web.server_logs import UNKNOWN_PATH, logged_path

#: An access-log line: time, "method path protocol", status, size, duration (gunicorn_config.access_log_format).
ACCESS_LINE = re.compile(r'^\[[^\]\n]+\] "(\S+) (\S+) HTTP/1\.1" (\d{3}) \d+ \d+ms$', re.M)


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
    out = server.output()
    assert "JANE" not in out and "patient" not in out and "filename" not in out, out
    access = [m.groups() for m in ACCESS_LINE.finditer(out) if m[2] != "/healthz"]
    assert access == [("GET", "/", "200"), ("POST", "/api/v1/predict", "400"), ("POST", "/api/v1/predict", "200"),
                      ("POST", UNKNOWN_PATH, "404"), ("GET", UNKNOWN_PATH, "404")], out


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
