"""What the C decoders write on a real ``braintumor serve`` worker's stderr for damaged uploads (GDCM's libjpeg for a
JPEG Lossless DICOM, libtiff for a JPEG TIFF): nothing, in every kind of worker. The threaded workers (the default
``--threads 4``, or a ``--threads`` in GUNICORN_CMD_ARGS) and a sync worker with ``--reload`` (whose file watcher logs
from a thread of its own) wrote them in the log until 2026-12-07: their threads share fd 2, which is left alone;
libtiff's error handler is unset and the C library's ``stderr`` pointed away while GDCM decodes instead
(braintumor.decoder_stderr). Either way the worker's own access and error log lines arrive, those written after the
uploads included."""

from __future__ import annotations

import json
import socket
import sys
import urllib.error
import urllib.request

import numpy as np
import pytest
from dicom_factory import damaged_lossless
from serve_process import running_serve
from tiff_damage import jpeg_sos_component

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
pytest.importorskip("gdcm")

#: What the decoders write for the damaged files: libjpeg in GDCM (its only decoder here), libtiff's libjpeg.
DECODER_LINES = ("Corrupt JPEG data", "Invalid component ID 82 in SOS")


@pytest.fixture(scope="module")
def lossless(tmp_path_factory) -> bytes:
    return damaged_lossless(tmp_path_factory.mktemp("lossless"))


def _post(base: str, data: bytes, kind: str) -> tuple[int, dict]:
    request = urllib.request.Request(f"{base}/api/v1/predict", data=data, method="POST", headers={"Content-Type": kind})
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.load(answer)["results"][0]
    except urllib.error.HTTPError as refused:
        return refused.code, json.load(refused)["results"][0]


@pytest.mark.parametrize(("threads", "cmd_args", "worker"), [
    ([], "", "gthread"),  # the default: --threads 4
    (["--threads", "1"], "", "sync"),
    (["--threads", "1"], "--threads 2", "gthread"),  # gunicorn then runs gthread workers, whatever serve says
    (["--threads", "1"], "--reload", "sync"),
], ids=["gthread", "sync", "gthread-from-GUNICORN_CMD_ARGS", "sync-reload"])
def test_no_worker_logs_the_decoders_lines_and_each_logs_its_own(lossless, tmp_path, monkeypatch, threads, cmd_args,
                                                                  worker):
    if cmd_args:
        monkeypatch.setenv("GUNICORN_CMD_ARGS", cmd_args)
    else:
        monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    gray = np.random.default_rng(0).integers(0, 255, (96, 96)).astype(np.uint8)
    with running_serve(tmp_path, "--workers", "1", *threads) as server:
        status, result = _post(server.base, lossless, "application/dicom")
        assert status == 200 and "error" not in result and result["dicom"]["rows"] == 64  # decoded (GDCM), classified
        status, result = _post(server.base, jpeg_sos_component(gray), "image/tiff")
        assert status == 400 and "error" in result  # refused, libtiff having failed on it
        with socket.create_connection(("127.0.0.1", server.port), timeout=10) as client:  # the same worker's error log
            client.sendall(b"GARBAGE\r\n\r\n")
            assert client.recv(64).startswith(b"HTTP/1.1 400")
    out = server.output()
    assert f"Using worker: {worker}" in out, out
    assert '"POST /api/v1/predict HTTP/1.1" 200' in out and '"POST /api/v1/predict HTTP/1.1" 400' in out, out  # stdout
    assert "Invalid request: Invalid HTTP request line" in out, out  # the error log (fd 2), written after the decodes
    assert not [line for line in DECODER_LINES if line in out], out
