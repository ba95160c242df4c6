"""What GDCM's libjpeg writes on a real ``braintumor serve`` worker's stderr (fd 2) for a damaged JPEG Lossless upload:
dropped in gunicorn's sync workers (``--threads 1``), where the request thread decoding is the only one of its process
that runs, so nothing else is lost; kept in the threaded workers, whose other request threads log on the same fd 2 (and
with ``--reload``, whose file watcher logs from a thread of its own). Either way the worker's own error log lines
written after the upload arrive."""

from __future__ import annotations

import json
import socket
import sys
import urllib.request

import pytest
from dicom_factory import damaged_lossless
from serve_process import running_serve

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
pytest.importorskip("gdcm")

#: What libjpeg (in GDCM) writes for the damaged file; GDCM is its only decoder here.
LIBJPEG_LINE = "Corrupt JPEG data: bad Huffman code"


@pytest.fixture(scope="module")
def lossless(tmp_path_factory) -> bytes:
    return damaged_lossless(tmp_path_factory.mktemp("lossless"))


@pytest.mark.parametrize(("threads", "cmd_args", "worker", "dropped"), [
    (["--threads", "1"], "", "sync", True),
    (["--threads", "2"], "", "gthread", False),
    (["--threads", "1"], "--threads 2", "gthread", False),  # gunicorn then runs gthread workers, whatever serve says
    (["--threads", "1"], "--reload", "sync", False),
], ids=["sync", "gthread", "gthread-from-GUNICORN_CMD_ARGS", "sync-reload"])
def test_libjpeg_lines_are_dropped_only_where_the_worker_has_one_thread(lossless, tmp_path, monkeypatch, threads,
                                                                        cmd_args, worker, dropped):
    if cmd_args:
        monkeypatch.setenv("GUNICORN_CMD_ARGS", cmd_args)
    else:
        monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    with running_serve(tmp_path, "--workers", "1", *threads) as server:
        request = urllib.request.Request(f"{server.base}/api/v1/predict", data=lossless, method="POST",
                                         headers={"Content-Type": "application/dicom"})
        with urllib.request.urlopen(request, timeout=60) as answer:
            (result,) = json.load(answer)["results"]
        assert "error" not in result and result["dicom"]["rows"] == 64  # decoded (by GDCM), and classified
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:  # the same worker's error log
            client.sendall(b"GARBAGE\r\n\r\n")
            assert client.recv(64).startswith(b"HTTP/1.1 400")
    out = server.output()
    assert f"Using worker: {worker}" in out, out
    assert '"POST /api/v1/predict HTTP/1.1" 200' in out, out  # the access log (stdout)
    assert "Invalid request: Invalid HTTP request line" in out, out  # the error log (fd 2), written after the decode
    assert (LIBJPEG_LINE in out) is not dropped, out
