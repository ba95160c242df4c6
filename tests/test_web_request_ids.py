"""Every answer carries ``X-Request-ID`` (web/request_ids.py): the one a trusted proxy sent when it is safe to echo and
log, else a fresh random one, so that an operator finds a user's request in the logs by it. Its access-log line under
gunicorn is in tests/test_serve_gunicorn.py, the app's error line in tests/test_server_logs.py. (Flask's test client
is a peer on 127.0.0.1, which waitress and the debug server trust.)"""

from __future__ import annotations

import re
import sys
from types import SimpleNamespace

import pytest

from braintumor.web import create_app
from braintumor.web.request_ids import REQUEST_ID_HEADER

#: What the server makes up: uuid4 as 32 hex digits.
FRESH = re.compile(r"[0-9a-f]{32}")


@pytest.fixture(scope="module")
def client(clf):
    return create_app(classifier=clf).test_client()


@pytest.mark.parametrize("sent", ["a", "req-7f3a.1:2_x", "A" * 128, "0b3e6c1d-3c4e-4a55-9f2a-3c1d2e4f5a6b"])
def test_a_safe_request_id_is_echoed(client, sent):
    r = client.get("/healthz", headers={REQUEST_ID_HEADER: sent})
    assert r.status_code == 200 and r.headers[REQUEST_ID_HEADER] == sent


@pytest.mark.parametrize("sent", ["abc\r\nX-Injected: 1", "abc\nx", "A" * 129, "", "two words", 'a"b', "a,b",
                                  "caf\xe9", "DOE^JANE", "a/b", "%0d%0a"])
def test_an_unsafe_request_id_is_replaced_never_reflected(client, sent):
    """A line break in it would forge a header or a log line, a space or quote a field of the access log; too long,
    it would fill the log. Such an id is replaced by a fresh one, not cleaned up and echoed."""
    r = client.get("/healthz", environ_overrides={"HTTP_X_REQUEST_ID": sent})  # as a server passes it on, raw
    assert FRESH.fullmatch(r.headers[REQUEST_ID_HEADER]), r.headers
    assert "X-Injected" not in r.headers and len(r.headers.getlist(REQUEST_ID_HEADER)) == 1


@pytest.mark.parametrize("peer", ["192.0.2.7", "10.0.0.5", "2001:db8::1", ""])
def test_an_untrusted_peers_id_is_replaced(client, peer):
    """waitress and the debug server trust no peer but this machine's loopback with the id: any other client could
    put a patient's name in the logs (``DOE_JANE``) or reuse another request's id to muddle them."""
    r = client.get("/healthz", environ_overrides={"REMOTE_ADDR": peer, "HTTP_X_REQUEST_ID": "DOE_JANE"})
    assert FRESH.fullmatch(r.headers[REQUEST_ID_HEADER]), r.headers


@pytest.mark.parametrize("peer", ["127.0.0.1", "127.3.2.1", "::1", "::ffff:127.0.0.1"])
def test_a_loopback_peers_id_is_echoed(client, peer):
    """A reverse proxy on the server's machine (DEPLOY.md's nginx) connects from its loopback."""
    r = client.get("/healthz", environ_overrides={"REMOTE_ADDR": peer, "HTTP_X_REQUEST_ID": "proxy-1"})
    assert r.headers[REQUEST_ID_HEADER] == "proxy-1"


def test_under_gunicorn_the_id_that_reaches_the_app_is_trusted(client):
    """gunicorn_config.py's pre_request already dropped it from a peer outside --forwarded-allow-ips: what reaches the
    app came from a trusted one, a proxy container's address (not loopback) included."""
    r = client.get("/healthz", environ_overrides={"REMOTE_ADDR": "192.0.2.1", "HTTP_X_REQUEST_ID": "proxy-2",
                                                  "SERVER_SOFTWARE": "gunicorn/27.0.1"})
    assert r.headers[REQUEST_ID_HEADER] == "proxy-2"


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
@pytest.mark.parametrize(("allowed", "peer", "kept"), [
    (None, ("127.0.0.1", 5000), True), (None, ("::1", 5000, 0, 0), True), (None, ("192.0.2.1", 5000), False),
    ("192.0.2.1", ("192.0.2.1", 5000), True), ("192.0.2.1", ("127.0.0.1", 5000), False),
    ("10.0.0.0/8,::1", ("10.1.2.3", 5000), True), ("10.0.0.0/8", ("192.0.2.1", 5000), False),
    ("*", ("192.0.2.1", 5000), True), ("192.0.2.1", "/run/braintumor.sock", True), ("192.0.2.1", None, False)])
def test_gunicorn_takes_the_id_only_from_its_forwarded_allow_ips(monkeypatch, allowed, peer, kept):
    """gunicorn_config.pre_request drops X-Request-ID (and X_Request_ID, which header_map = "dangerous" passes on)
    from a peer gunicorn does not trust with SCRIPT_NAME: the addresses of --forwarded-allow-ips, 127.0.0.1 and ::1
    by default; a UNIX socket's peer is trusted, as gunicorn trusts it."""
    pytest.importorskip("gunicorn")
    from gunicorn.config import Config

    from braintumor import gunicorn_config

    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    cfg = Config()
    if allowed is not None:
        cfg.set("forwarded_allow_ips", allowed)
    sent = [("HOST", "x"), ("X-REQUEST-ID", "DOE_JANE"), ("X_REQUEST_ID", "DOE_JOHN"), ("ACCEPT", "*/*")]
    req = SimpleNamespace(peer_addr=peer, headers=list(sent), force_close=None)
    gunicorn_config.pre_request(SimpleNamespace(cfg=cfg), req)
    assert req.headers == (sent if kept else [("HOST", "x"), ("ACCEPT", "*/*")])


def test_a_request_without_one_gets_a_fresh_id_of_its_own(client):
    ids = [client.get("/healthz").headers[REQUEST_ID_HEADER] for _ in range(20)]
    assert all(FRESH.fullmatch(i) for i in ids) and len(set(ids)) == len(ids), ids


@pytest.mark.parametrize(("method", "path", "status"), [
    ("get", "/", 200), ("get", "/static/app.css", 200), ("get", "/api/v1/nothing", 404), ("get", "/nothing", 404),
    ("delete", "/api/v1/model", 405), ("options", "/api/v1/model", 204), ("head", "/healthz", 200),
    ("post", "/api/v1/predict", 400), ("get", "/api/v1/model?x=1", 400)])
def test_every_answer_carries_the_id_errors_too(client, method, path, status):
    r = getattr(client, method)(path, headers={REQUEST_ID_HEADER: "proxy-42"})
    assert r.status_code == status and r.headers[REQUEST_ID_HEADER] == "proxy-42"


def test_the_id_is_not_taken_from_the_upload(client):
    """An upload's name or bytes never make the id (docs/WEB.md, Safety): without a header, a fresh one."""
    r = client.post("/api/v1/predict", data=b"JANE-DOE", content_type="application/dicom",
                    headers={"Content-Disposition": 'attachment; filename="JANE_DOE.dcm"'})
    assert FRESH.fullmatch(r.headers[REQUEST_ID_HEADER]) and "JANE" not in r.headers[REQUEST_ID_HEADER]


def test_waitress_own_413_carries_the_id():
    """waitress refuses a body over the limit before the app runs (serve_waitress.py answers it in the app's words):
    that answer carries the request's id too."""
    pytest.importorskip("waitress", reason="waitress (the Windows server; the dev extra installs it) is absent")
    import http.client

    from serve_process import running_waitress

    from braintumor import serve_waitress
    from braintumor.predictor import Classifier

    app = create_app(classifier=Classifier.load(threads=1), max_upload_mb=0.01)
    with running_waitress(app, **serve_waitress.waitress_buffers(app.config["MAX_CONTENT_LENGTH"])) as port:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
        conn.putrequest("POST", "/api/v1/predict")
        for name, value in (("Content-Type", "image/jpeg"), ("Content-Length", "999999"), (REQUEST_ID_HEADER, "w-1")):
            conn.putheader(name, value)
        conn.endheaders()
        r = conn.getresponse()
        assert r.status == 413 and r.getheader(REQUEST_ID_HEADER) == "w-1"
        conn.close()


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
@pytest.mark.parametrize(("env", "args", "kept"), [
    (None, "", True), ("127.0.0.1,::1", "", False), (None, "--forwarded-allow-ips 127.0.0.1", False)])
def test_serve_trusts_ipv4_loopback_as_a_dual_stack_socket_sees_it(monkeypatch, env, args, kept):
    """Under ``serve --host ::`` a proxy on 127.0.0.1 arrives as ::ffff:127.0.0.1: serve's gunicorn settings file adds
    it to gunicorn's default, but not where the user sets the list ($FORWARDED_ALLOW_IPS, GUNICORN_CMD_ARGS)."""
    pytest.importorskip("gunicorn")
    import runpy

    from gunicorn.app.base import Application

    from braintumor import gunicorn_config

    if env is None:
        monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    else:
        monkeypatch.setenv("FORWARDED_ALLOW_IPS", env)
    monkeypatch.setenv("GUNICORN_CMD_ARGS", args)
    settings = runpy.run_path(gunicorn_config.__file__)  # as gunicorn's master reads it, afresh

    class App(Application):
        def init(self, parser, opts, args):
            return None

        def load_config(self):  # the order gunicorn's own: its settings, then the file, then GUNICORN_CMD_ARGS
            from gunicorn.config import Config

            self.cfg = Config()
            for name, value in settings.items():
                if name in self.cfg.settings:
                    self.cfg.set(name, value)
            for name, value in vars(self.cfg.parser().parse_args(self.cfg.get_cmd_args_from_env())).items():
                if value is not None and name in self.cfg.settings:
                    self.cfg.set(name, value)

        def load(self):
            return None

    cfg = App().cfg
    req = SimpleNamespace(peer_addr=("::ffff:127.0.0.1", 5000, 0, 0), headers=[("X-REQUEST-ID", "proxy-1")],
                          force_close=None)
    gunicorn_config.pre_request(SimpleNamespace(cfg=cfg), req)
    assert (req.headers == [("X-REQUEST-ID", "proxy-1")]) is kept
