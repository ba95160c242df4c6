"""``braintumor serve`` with TLS through ``GUNICORN_CMD_ARGS`` (``--certfile``, ``--keyfile``): gunicorn speaks https,
and the address serve prints must say so."""

from __future__ import annotations

import datetime
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request

import pytest
from conftest import REPO
from serve_process import free_port


def _self_signed(folder) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, made here: with ``cryptography``, else ``openssl req``; else a skip."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    try:
        from cryptography import x509
        from cryptography.hazmat.primitives import hashes, serialization
        from cryptography.hazmat.primitives.asymmetric import ec
        from cryptography.x509.oid import NameOID
    except ImportError:
        import shutil

        if shutil.which("openssl") is None:
            pytest.skip("needs the cryptography package or the openssl command to make a certificate")
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", str(key), "-out", str(cert), "-days", "1", "-subj", "/CN=127.0.0.1"],
                       check=True, capture_output=True)
        return str(cert), str(key)
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.timezone.utc)
    made = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(private.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
            .not_valid_after(now + datetime.timedelta(days=1)).sign(private, hashes.SHA256()))
    cert.write_bytes(made.public_bytes(serialization.Encoding.PEM))
    key.write_bytes(private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    return str(cert), str(key)


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_serve_with_a_certificate_prints_the_https_address_it_answers_on(tiny_model, tmp_path):
    """``GUNICORN_CMD_ARGS="--certfile c.pem --keyfile k.pem"``: serve said "serving ... on http://127.0.0.1:PORT/",
    and that address, opened, got its connection closed (gunicorn speaks only TLS there). The address printed is the
    https one, and it answers."""
    cert, key = _self_signed(tmp_path)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "GUNICORN_CMD_ARGS": f"--certfile {cert} --keyfile {key}"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = open(tmp_path / "server.log", "w+")  # noqa: SIM115 - read back after the process ends
    proc = subprocess.Popen([sys.executable, "-m", "braintumor", "serve", "--model", str(tiny_model), "--port",
                             str(port), "--workers", "1"], stdout=log, stderr=subprocess.STDOUT, env=env)
    trusted = ssl.create_default_context()  # the scheme is what is tested here, not the certificate's names
    trusted.check_hostname, trusted.verify_mode = False, ssl.CERT_NONE
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"https://127.0.0.1:{port}/healthz", timeout=2, context=trusted) as answer:
                    assert json.load(answer)["status"] == "ok"
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)
    log.seek(0)
    first = log.readline()
    assert f" on https://127.0.0.1:{port}/ (gunicorn, " in first, first
