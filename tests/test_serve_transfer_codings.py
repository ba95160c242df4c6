"""A request body in a transfer coding the app does not undo (``Transfer-Encoding: gzip, chunked``): gunicorn takes it
and undoes the chunks only, and the app read the gzip bytes as the upload ("a gzip-compressed file holding a JPEG");
``deflate, chunked`` over a plain JPEG was even classified. Werkzeug's development server (``serve --debug``) classified
``foo, chunked`` and read ``gzip`` alone as an empty body. Both now answer 501 naming the coding, in JSON on the API
and in the page on ``POST /``; plain ``chunked`` (and ``identity``) are read as before. Raw sockets against a real
``braintumor serve``, as a client sends it."""

from __future__ import annotations

import gzip
import json
import socket
import urllib.request

import pytest
from serve_process import running_serve

from braintumor.web.transfer_codings import transfer_coding_problem

BOUNDARY = b"b0123456789abcdef"


def _multipart(data: bytes) -> bytes:
    return (b"--" + BOUNDARY + b"\r\nContent-Disposition: form-data; name=\"file\"; filename=\"slice.jpg\"\r\n"
            b"Content-Type: image/jpeg\r\n\r\n" + data + b"\r\n--" + BOUNDARY + b"--\r\n")


def _post(port: int, path: str, coding: str, body: bytes, content_type: str) -> tuple[int, dict, bytes]:
    """POST ``body`` in chunks under ``Transfer-Encoding: coding``; the status, the headers and the body answered."""
    chunked = b"%x\r\n%s\r\n0\r\n\r\n" % (len(body), body) if "chunked" in coding else body
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.sendall(f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\n"
                       f"Accept: text/html\r\nTransfer-Encoding: {coding}\r\n\r\n".encode() + chunked)
        answer = b""
        while data := client.recv(65536):
            answer += data
    head, _, rest = answer.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:])}
    if headers.get("transfer-encoding") == "chunked":  # the answer's own chunks (Werkzeug's server sends them)
        body, rest = b"", rest
        while True:
            size, _, rest = rest.partition(b"\r\n")
            if not int(size, 16):
                break
            body, rest = body + rest[:int(size, 16)], rest[int(size, 16) + 2:]
        rest = body
    return int(lines[0].split()[1]), headers, rest


@pytest.fixture(scope="module")
def jpeg(test_images) -> bytes:
    return test_images["glioma"][0].read_bytes()


@pytest.mark.parametrize("debug", [False, True], ids=["gunicorn", "dev-server"])
def test_a_body_in_a_transfer_coding_the_app_does_not_undo_is_a_501_that_names_it(debug, jpeg, tmp_path):
    refused = ["gzip, chunked", "deflate, chunked", "compress, chunked", "GZip , chunked"]
    if debug:  # gunicorn answers these itself (its 501 page for foo, its 400 for a coding that does not end chunked)
        refused += ["foo, chunked", "gzip"]
    with running_serve(tmp_path, *(["--debug"] if debug else [])) as server:
        for coding in refused:
            body = gzip.compress(jpeg) if "gzip" in coding.lower() else jpeg
            for path, content_type in [("/api/v1/predict", "image/jpeg"),
                                       ("/api/v1/predict", f"multipart/form-data; boundary={BOUNDARY.decode()}")]:
                status, headers, answer = _post(server.port, path, coding, body if "image" in content_type
                                                else _multipart(body), content_type)
                assert status == 501 and headers["content-type"] == "application/json", (coding, status, answer)
                name = coding.split(",")[0].strip().lower()
                assert json.loads(answer)["error"].startswith(f"Transfer-Encoding {name} is not taken: "), answer
            status, headers, answer = _post(server.port, "/", coding, _multipart(body),
                                            f"multipart/form-data; boundary={BOUNDARY.decode()}")
            assert status == 501 and headers["content-type"].startswith("text/html"), (coding, status)
            assert f"Transfer-Encoding {name} is not taken" in answer.decode(), answer[-2000:]
        for coding in ["chunked", "identity, chunked"]:  # framing only: read as ever
            status, _, answer = _post(server.port, "/api/v1/predict", coding, jpeg, "image/jpeg")
            assert status == 200 and json.loads(answer)["results"][0]["label"] == "glioma", answer
        if not debug:
            metrics = urllib.request.urlopen(f"{server.base}/metrics", timeout=10).read().decode()
            assert f'braintumor_http_requests_total{{endpoint="api.predict",status="501"}} {len(refused) * 2}.0' \
                in metrics, metrics
    assert "Traceback" not in server.output()


def test_the_refusal_names_only_the_other_codings_in_printable_text():
    assert transfer_coding_problem({}) is None
    assert transfer_coding_problem({"HTTP_TRANSFER_ENCODING": "chunked"}) is None
    assert transfer_coding_problem({"HTTP_TRANSFER_ENCODING": "identity,  Chunked"}) is None
    said = transfer_coding_problem({"HTTP_TRANSFER_ENCODING": "gzip;q=1, x-\x01" + "a" * 80 + ", gzip, chunked"})
    assert said is not None and said.startswith(f"Transfer-Encoding gzip, x-?{'a' * 37} is not taken: ")


def _send_raw(port: int, request: bytes) -> tuple[int, bytes]:
    """``request`` as sent, then the end of what the client sends (the connection's writing side shut); the status and
    the body answered."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as client:
        client.sendall(request)
        client.shutdown(socket.SHUT_WR)
        answer = b""
        while data := client.recv(65536):
            answer += data
    head, _, body = answer.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), body


#: Chunked bodies gunicorn cannot read: a size line that is no hexadecimal number, a chunk longer than its size, a
#: bare CR in a chunk extension, more trailer fields than its header limit, and a body that ends before its last chunk
#: (its client gone: web/disconnects.py's 400, counted as a client_disconnect).
BAD_CHUNKS = {"size": b"zz\r\n%s\r\n0\r\n\r\n", "terminator": b"3\r\n%s\r\n0\r\n\r\n", "extension": b"3;a\rb\r\n%s\r\n",
              "trailers": b"3\r\n%s\r\n0\r\n" + b"".join(b"X-T%d: v\r\n" % i for i in range(200)) + b"\r\n",
              "cut short": b"100000\r\n%s"}


def test_a_chunked_body_gunicorn_cannot_read_is_a_400_that_says_so_not_a_500(jpeg, tmp_path):
    """gunicorn raised its parse error into the app: a 500 "internal error", a traceback in the error log and an
    internal error in the metrics, for a client's malformed body; one cut short before its last chunk was Werkzeug's
    "The browser (or proxy) sent a request that this server could not understand"."""
    multipart = f"multipart/form-data; boundary={BOUNDARY.decode()}"
    with running_serve(tmp_path) as server:
        for kind, framing in BAD_CHUNKS.items():
            for path, content_type, accept, data in [("/api/v1/predict", "image/jpeg", "*/*", jpeg[:2000]),
                                                     ("/api/v1/predict", multipart, "*/*", _multipart(jpeg[:2000])),
                                                     ("/", multipart, "text/html", _multipart(jpeg[:2000]))]:
                status, answer = _send_raw(server.port, (
                    f"POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {content_type}\r\nAccept: {accept}\r\n"
                    "Transfer-Encoding: chunked\r\n\r\n").encode() + framing.replace(b"%s", data))
                assert status == 400, (kind, path, status, answer[-300:])
                said = b"the request body ended before its end" if kind == "cut short" else \
                    b"chunked framing is not valid HTTP/1.1"
                assert said in answer, (kind, path, answer[-300:])
        metrics = urllib.request.urlopen(f"{server.base}/metrics", timeout=10).read().decode()
    assert 'braintumor_errors_total{kind="internal"} 0.0' in metrics, metrics
    # the client gone before its last chunk, not a malformed request: counted apart
    assert 'braintumor_errors_total{kind="client_disconnect"} 3.0' in metrics, metrics
    assert 'braintumor_errors_total{kind="bad_request"} 12.0' in metrics, metrics
    assert "Traceback" not in server.output() and "unexpected error" not in server.output(), server.output()[-3000:]
