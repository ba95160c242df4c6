"""``braintumor serve``: gunicorn for real (one short run), waitress and --debug by substitution."""

from __future__ import annotations

import ast
import contextlib
import json
import logging
import os
import signal
import socket
import subprocess
import sys
import time
import types
import urllib.request
import uuid

import pytest
from conftest import REPO

from braintumor import serve as serve_mod
from braintumor import web as _web  # noqa: F401 - imported before a test sets sys.platform to win32 (click then wants msvcrt)
from braintumor.cli import build_parser, main


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RunningServe:
    """A ``braintumor serve`` process (gunicorn) started by :func:`running_serve`: its port, URL and log."""

    def __init__(self, proc: subprocess.Popen, port: int, log) -> None:
        self.proc, self.port, self.base, self.log = proc, port, f"http://127.0.0.1:{port}", log
        self.health: dict = {}
        self.stop_seconds = 0.0  # from SIGTERM to the process's end

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read()


@contextlib.contextmanager
def running_serve(tmp_path, *args: str):
    """``python -m braintumor serve --port P *args`` on a free port, answered /healthz before the body runs; SIGTERM
    and a wait for its end afterwards (read ``.output()`` then: the log is complete)."""
    port = free_port()
    log = open(tmp_path / "server.log", "w+")  # noqa: SIM115 - read back after the process ends
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([sys.executable, "-m", "braintumor", "serve", "--port", str(port), *args],
                            stdout=log, stderr=subprocess.STDOUT, env=env)
    server = RunningServe(proc, port, log)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                server.health = json.load(urllib.request.urlopen(f"{server.base}/healthz", timeout=2))
                break
            except OSError:
                assert proc.poll() is None and time.monotonic() < deadline, "server did not start"
                time.sleep(0.3)
        yield server
    finally:
        proc.send_signal(signal.SIGTERM)
        stopped = time.monotonic()
        proc.wait(timeout=40)
        server.stop_seconds = time.monotonic() - stopped


def test_serve_options():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.model, args.workers, args.debug) == ("127.0.0.1", 5000, None, None, False)
    args = build_parser().parse_args(["serve", "--host", "0.0.0.0", "--port", "8080", "--model", "m.onnx",
                                      "--workers", "3", "--debug"])
    assert (args.host, args.port, args.model, args.workers, args.debug) == ("0.0.0.0", 8080, "m.onnx", 3, True)
    assert args.threads is None and build_parser().parse_args(["serve", "--threads", "1"]).threads == 1


@pytest.mark.parametrize("bad", ["0", "-2", "two"])
def test_serve_threads_must_be_a_positive_whole_number(bad, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(["serve", "--threads", bad])
    assert exc.value.code == 2 and "--threads" in capsys.readouterr().err


def test_missing_model_is_one_error_line(tmp_path, capsys):
    assert main(["serve", "--model", str(tmp_path / "nope.onnx")]) == 2
    assert "model file not found" in capsys.readouterr().err


@pytest.mark.parametrize("command", [["serve"], ["predict", "scan.jpg"]])
def test_a_missing_model_named_by_the_environment_says_so(command, monkeypatch, tmp_path, capsys):
    """A stale BRAINTUMOR_MODEL (a container's env) was told 'pass --model', not where the name came from."""
    monkeypatch.setenv("BRAINTUMOR_MODEL", str(tmp_path / "nope.onnx"))
    assert main(command) == 2
    assert capsys.readouterr().err == (f"error: model file not found: {tmp_path / 'nope.onnx'}, named by "
                                       "$BRAINTUMOR_MODEL (train and export one, or pass another path: --model in the "
                                       "CLI)\n")


def test_an_unusable_tmpdir_is_one_error_line_before_serving_is_announced(tiny_model, monkeypatch, tmp_path,
                                                                          capsys):
    """It printed 'serving ... on http://...' and then 'error: [Errno 2] No such file or directory'."""
    def no_exec(*args):
        raise AssertionError("serve went on to start gunicorn")

    monkeypatch.setattr(os, "execv", no_exec)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "gone"))
    assert main(["serve", "--model", str(tiny_model), "--port", str(free_port())]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err == (f"error: cannot create the workers' metrics folder in {tmp_path / 'gone'}: No such "
                                 "file or directory (set TMPDIR to a writable folder)\n")


def test_a_port_in_use_is_one_error_line(tiny_model, monkeypatch, capsys):
    def no_exec(*args):  # were the check to let it through, gunicorn would replace the test process
        raise AssertionError("serve went on to start gunicorn")

    monkeypatch.setattr(os, "execv", no_exec)
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))
        held.listen()
        port = held.getsockname()[1]
        assert main(["serve", "--model", str(tiny_model), "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot listen on 127.0.0.1:{port}" in err and "--port" in err
    assert main(["serve", "--model", str(tiny_model), "--host", "192.0.2.1"]) == 2  # TEST-NET-1: not ours
    err = capsys.readouterr().err
    assert "cannot listen on 192.0.2.1" in err and "another server" not in err and "check --host" in err
    assert main(["serve", "--model", str(tiny_model), "--host", "999.1.1.1"]) == 2  # no such address at all
    err = capsys.readouterr().err  # said 'another server on that port?'
    assert err.startswith("error: cannot listen on 999.1.1.1:") and "check --host" in err and "port?" not in err


def test_debug_uses_flasks_dev_server(tiny_model, monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr("flask.Flask.run", lambda self, **kw: seen.update(kw))
    assert main(["serve", "--model", str(tiny_model), "--debug", "--port", "5055"]) == 0
    assert seen == {"host": "127.0.0.1", "port": 5055, "debug": True, "use_reloader": False}
    assert "http://127.0.0.1:5055/" in capsys.readouterr().out


def _fake_waitress(monkeypatch, seen: dict) -> None:
    """serve's waitress server recording its settings in ``seen`` and serving nothing (its run returns at once);
    tests/test_waitress_metrics.py runs the real one."""
    def server(app, **settings):
        seen.update(settings)
        return types.SimpleNamespace(run=lambda: None)

    monkeypatch.setattr(serve_mod, "waitress_server", server)


def test_windows_uses_waitress(tiny_model, monkeypatch, capsys):
    seen = {}
    monkeypatch.setattr(sys, "platform", "win32")
    _fake_waitress(monkeypatch, seen)
    assert serve_mod.serve(model=str(tiny_model), workers=2, port=5056) == 0
    assert seen == {"host": "127.0.0.1", "port": 5056, "threads": 2 * serve_mod.THREADS_PER_WORKER,
                    "channel_timeout": 30, **serve_mod.waitress_buffers(128 * 1024 * 1024)}
    assert "waitress" in capsys.readouterr().out
    assert serve_mod.serve(model=str(tiny_model), workers=2, port=5056, threads=3) == 0
    assert seen["threads"] == 6


def test_waitress_keeps_uploads_and_answers_in_memory(tiny_model, monkeypatch):
    """waitress spools a request body over 512 KB and an answer over 1 MB to temporary files by default (its
    inbuf_overflow and outbuf_overflow): a DICOM series, and the heat maps made of it, on the disk of the server."""
    seen = {}
    monkeypatch.setattr(sys, "platform", "win32")
    _fake_waitress(monkeypatch, seen)
    assert serve_mod.serve(model=str(tiny_model), port=5056, max_upload_mb=8) == 0
    limit = 8 * 1024 * 1024
    assert seen["max_request_body_size"] == limit + 1  # the bound on memory: waitress refuses a Content-Length >= it
    assert seen["inbuf_overflow"] > seen["max_request_body_size"] and seen["outbuf_overflow"] >= 2**62


def test_gunicorn_command_line(tmp_path):
    argv = serve_mod.gunicorn_argv({"model_path": str(tmp_path / "m.onnx"), "max_upload_mb": 8.0, "threads": 1},
                                   "::1", 8000, workers=3)
    assert argv[:3] == [sys.executable, "-m", "gunicorn"]
    assert argv[argv.index("--bind") + 1] == "[::1]:8000" and argv[argv.index("--workers") + 1] == "3"
    assert argv[argv.index("--worker-class") + 1] == "gthread" and "--preload" not in argv
    assert argv[argv.index("--threads") + 1] == str(serve_mod.THREADS_PER_WORKER)
    # one request thread per worker: the sync worker (one shared accept queue), no --threads
    one = serve_mod.gunicorn_argv({"model_path": "m.onnx"}, "127.0.0.1", 8000, workers=2, threads=1)
    assert one[one.index("--worker-class") + 1] == "sync" and "--threads" not in one
    module, call = argv[-1].split(":", 1)
    tree = ast.parse(call, mode="eval").body
    assert module == "braintumor.web" and tree.func.id == "create_app"
    assert {k.arg: ast.literal_eval(k.value) for k in tree.keywords} == {
        "model_path": str(tmp_path / "m.onnx"), "max_upload_mb": 8.0, "threads": 1}



@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_gunicorn_cmd_args_can_set_the_timeout(monkeypatch):
    """serve put ``--timeout 60`` on gunicorn's command line, which beats GUNICORN_CMD_ARGS: an operator's
    GUNICORN_CMD_ARGS="--timeout 300" (DEPLOY.md's way to other gunicorn settings) was dropped without a word."""
    from gunicorn.app.wsgiapp import WSGIApplication

    argv = serve_mod.gunicorn_argv({"model_path": "m.onnx"}, "127.0.0.1", 8000, workers=2, threads=1)

    def settings(env: str | None):
        monkeypatch.setattr(sys, "argv", ["gunicorn", *argv[3:]])  # as gunicorn's master parses them
        if env is None:
            monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
        else:
            monkeypatch.setenv("GUNICORN_CMD_ARGS", env)
        return WSGIApplication().cfg

    assert settings(None).timeout == 60
    cfg = settings("--timeout 300 --max-requests 2000")
    assert (cfg.timeout, cfg.max_requests, cfg.workers) == (300, 2000, 2)
    assert settings("--workers 7").workers == 2  # serve's own flags still decide what they name

#: Requests gunicorn answers itself: a garbage request line, one over its 4094 bytes, a header over its 8190.
MALFORMED = [(b"GARBAGE PATIENT_SMITH\r\n\r\n", 400),
             (b"GET /" + b"PATIENT_DOE" * 400 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
             (b"GET / HTTP/1.1\r\nHost: x\r\nX-Note: " + b"PATIENT_ROE" * 800 + b"\r\n\r\n", 431)]


def test_the_error_log_keeps_only_the_kind_of_a_rejected_request():
    from gunicorn.http import errors

    from braintumor.gunicorn_config import without_client_data

    cases = [(errors.InvalidRequestLine("GARBAGE PATIENT_SMITH"), "Invalid HTTP request line"),
             (errors.InvalidHeader("Bad Header PATIENT_DOE"), "Invalid HTTP Header"),
             (errors.InvalidRequestMethod("PATIENT'S"), "Invalid HTTP method"),
             (errors.InvalidHTTPVersion((9, 9)), "Invalid HTTP Version"),
             (errors.LimitRequestLine(4414, 4094), "Request Line is too large (4414 > 4094)"),
             (errors.LimitRequestHeaders("limit request headers fields"), "limit request headers fields"),
             (errors.ForbiddenProxyRequest("10.9.8.7"), "Proxy request from ... not allowed")]
    for ip in ("10.1.2.3", "2001:db8::7", ""):  # "" from a unix socket
        for exc, kind in cases:  # worded as gunicorn's workers/base.py words it
            record = logging.LogRecord("gunicorn.error", logging.WARNING, __file__, 1,
                                       f"Invalid request from ip={ip}: {exc}", (), None)
            assert without_client_data(record) and record.getMessage() == f"Invalid request: {kind}"
    record = logging.LogRecord("gunicorn.error", logging.INFO, __file__, 1, "Booting worker with pid: %s", (7,), None)
    assert without_client_data(record) and record.getMessage() == "Booting worker with pid: 7"  # the rest as it was


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_a_failed_gunicorn_start_leaves_no_metrics_folder(tiny_model, tmp_path):
    """gunicorn exited 2 on a bad GUNICORN_CMD_ARGS value before any of its hooks ran (on_exit included): the empty
    braintumor-metrics-* folder serve had made stayed in /dev/shm (or $TMPDIR), one more at every failed start."""
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TMPDIR": str(tmp_path),
           "GUNICORN_CMD_ARGS": "--max-requests abc"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    done = subprocess.run([sys.executable, "-m", "braintumor", "serve", "--port", str(free_port()), "--model",
                           str(tiny_model)], env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "--max-requests: invalid int value: 'abc'" in done.stderr, done.stderr
    deadline = time.monotonic() + 10  # removed just after the server's processes end
    while list(tmp_path.glob("braintumor-metrics-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not list(tmp_path.glob("braintumor-metrics-*"))


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
@pytest.mark.parametrize("threads", [[], ["--threads", "1"]], ids=["gthread", "sync"])
def test_gunicorn_serves_the_app(tiny_model, test_images, tmp_path, threads):
    with running_serve(tmp_path, "--model", str(tiny_model), "--workers", "2", *threads) as server:
        port, base = server.port, server.base
        assert server.health["status"] == "ok"
        boundary = uuid.uuid4().hex
        body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="g.jpg"\r\n\r\n'.encode()
                + test_images["glioma"][0].read_bytes() + f"\r\n--{boundary}--\r\n".encode())
        req = urllib.request.Request(f"{base}/api/v1/predict", data=body, method="POST",
                                     headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                                              "User-Agent": "agent-SMITH", "Referer": "http://ward/PATIENT_DOE"})
        with urllib.request.urlopen(req, timeout=30) as r:
            result = json.load(r)["results"][0]
            assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert result["path"] == "g.jpg" and result["label"] in ("glioma", "meningioma", "notumor", "pituitary")
        for raw, status in MALFORMED:  # rejected by gunicorn itself, before the app
            with socket.create_connection(("127.0.0.1", port), timeout=10) as client:
                client.sendall(raw)
                assert client.recv(64).startswith(b"HTTP/1.1 %d" % status)
    out = server.output()
    # Workers exit cleanly and at once (an onnxruntime imported before the fork made them abort or hang).
    assert server.proc.returncode == 0 and server.stop_seconds < 10, out
    assert "SIGABRT" not in out and "terminate called" not in out
    assert f"serving {tiny_model.name} on http://127.0.0.1:{port}/ (gunicorn, 2 worker(s)" in out
    assert "Booting worker" in out and "POST /api/v1/predict" in out
    (access,) = [line for line in out.splitlines() if "POST /api/v1/predict" in line]
    assert "SMITH" not in out and "DOE" not in out and "127.0.0.1" not in access  # request line and status only
    assert '"POST /api/v1/predict HTTP/1.1" 200' in access
    # gunicorn's error log said "Invalid request from ip=127.0.0.1: Invalid HTTP request line: 'GARBAGE PATIENT_...'"
    rejected = [line.split("] ", 3)[-1] for line in out.splitlines() if "Invalid request" in line]
    assert rejected == ["Invalid request: Invalid HTTP request line", "Invalid request: Request Line is too large "
                        "(4414 > 4094)", "Invalid request: limit request headers fields size"], out
    assert "PATIENT" not in out


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_workers_get_no_spare_thread_pools(tiny_model, monkeypatch):
    """The worker environment caps BLAS/OpenMP pools (they spun on the cores other workers needed) and
    malloc arenas, unless the operator set those variables already."""
    for key in [*serve_mod.WORKER_ENV, "PROMETHEUS_MULTIPROC_DIR"]:
        monkeypatch.setenv(key, "")  # so that teardown restores it: delenv of an unset name records nothing, and
        monkeypatch.delenv(key)  # serve's PROMETHEUS_MULTIPROC_DIR outlived the test (later /metrics were 500s)
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    seen = {}

    def fake_execv(path, argv):
        seen.update(os.environ)
        raise OSError("not really starting gunicorn")

    monkeypatch.setattr(serve_mod.os, "execv", fake_execv)
    with pytest.raises(OSError):
        serve_mod.serve(model=str(tiny_model), workers=1, port=0)  # any free port: 5000 may be taken
    assert seen["OPENBLAS_NUM_THREADS"] == "1" and seen["MALLOC_ARENA_MAX"] == "2"
    assert seen["OMP_NUM_THREADS"] == "3"
    assert not os.path.exists(seen["PROMETHEUS_MULTIPROC_DIR"])  # removed when the exec failed


@pytest.mark.parametrize(("value", "error", "message"), [
    (1e-9, ValueError, "max_upload_mb must be at least 0.001 (about 1 kB), got 1e-09: a smaller limit refuses every "
                       "upload"),
    (0, ValueError, "max_upload_mb must be a number more than 0, got 0"),
    (float("nan"), ValueError, "max_upload_mb must be a number more than 0, got nan"),
    (float("inf"), ValueError, "max_upload_mb must be a number more than 0, got inf"),
    ("5", TypeError, "max_upload_mb must be a number, got '5'"),
])
def test_the_python_apis_upload_limit_has_the_command_lines_floor(value, error, message, capsys):
    """create_app(max_upload_mb=1e-9) was taken (a limit of 0 bytes: every upload refused; "5" was 5 repeated a million
    times) where `serve --max-upload-mb 1e-9` is refused: one rule now, worded as the command line words it, checked
    by serve() too before any model is loaded or worker started."""
    from braintumor.web import create_app

    for call in (lambda: create_app(max_upload_mb=value), lambda: serve_mod.serve(max_upload_mb=value)):
        with pytest.raises(error) as exc:
            call()
        assert str(exc.value) == message
    if isinstance(value, float) and value > 0:
        with pytest.raises(SystemExit):
            main(["serve", "--max-upload-mb", repr(value)])
        said = capsys.readouterr().err.rstrip()
        assert said.endswith("argument --max-upload-mb: " + message.removeprefix("max_upload_mb ")), said
