"""gunicorn's error log at every level: nothing a client sent (a header, a file name) is quoted in it, debug
included (an operator may set ``GUNICORN_CMD_ARGS="--log-level debug"`` to chase a problem, on a server full of
patients' scans)."""

from __future__ import annotations

import logging
import socket
import sys
import time

import pytest
from serve_process import running_serve

from braintumor.log_privacy import without_client_data

#: The headers of a raw upload, cut short: its file name (a patient's) is in Content-Disposition.
CUT_HEADERS = (b"POST /api/v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/dicom\r\n"
               b'Content-Disposition: attachment; filename="PATIENT_DOE.dcm"\r\n')


def test_a_client_gone_in_its_headers_is_logged_without_them():
    """gunicorn's workers log ``Ignored premature client disconnection. No more data after: b'...'`` at debug level,
    the exception quoting every header byte that had arrived."""
    from gunicorn.http.errors import NoMoreData

    record = logging.LogRecord("gunicorn.error", logging.DEBUG, __file__, 1,
                               "Ignored premature client disconnection. %s", (NoMoreData(CUT_HEADERS),), None)
    assert without_client_data(record)
    assert record.getMessage() == "Ignored premature client disconnection" and "PATIENT" not in record.getMessage()


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
@pytest.mark.parametrize("threads", [[], ["--threads", "1"]], ids=["gthread", "sync"])
def test_the_debug_log_quotes_no_header_of_a_client_that_left(tmp_path, monkeypatch, threads):
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--log-level debug")
    with running_serve(tmp_path, "--workers", "1", *threads) as server:
        client = socket.create_connection(("127.0.0.1", server.port), timeout=10)
        client.sendall(CUT_HEADERS)
        time.sleep(0.3)  # read by the worker before the connection closes
        client.close()
        time.sleep(0.5)  # logged before the server stops
    out = server.output()
    assert "[DEBUG]" in out and "Ignored premature client disconnection" in out, out
    assert "PATIENT" not in out and "filename" not in out, out
