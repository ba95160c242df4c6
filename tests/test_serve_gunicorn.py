"""``braintumor serve`` under gunicorn: its command line, GUNICORN_CMD_ARGS, the error log's privacy, a failed start,
the worker environment, and one short real run (waitress and --debug are in tests/test_web_serve.py)."""

from __future__ import annotations

import ast
import errno
import json
import logging
import os
import signal
import socket
import sys
import time
import urllib.request
import uuid

import pytest
from serve_process import running_serve
from test_expect_continue import (
    continued_once,
    refused_before_its_body,
    refused_while_its_body_comes,
    too_large_while_its_body_comes,
)

from braintumor import serve as serve_mod
from braintumor.exit_errors import UsageError


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
    assert module == "braintumor.held_model" and tree.func.id == "worker_app"  # the held model bytes, then create_app
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

#: Requests gunicorn answers itself (WEB.md's status table): a garbage request line, one over its 4094 bytes, a header
#: over its 8190, and an Expect it does not know (417). (Its 100 for 100-continue, sent before the app decided on the
#: body, is now the app's, at its first read: tests/test_expect_continue.py.)
MALFORMED = [(b"GARBAGE PATIENT_SMITH\r\n\r\n", 400),
             (b"POST / HTTP/1.1\r\nHost: x\r\nExpect: PATIENT_POE\r\nContent-Length: 1\r\n\r\n", 417),
             (b"GET /" + b"PATIENT_DOE" * 400 + b" HTTP/1.1\r\nHost: x\r\n\r\n", 414),
             (b"GET / HTTP/1.1\r\nHost: x\r\nX-Note: " + b"PATIENT_ROE" * 800 + b"\r\n\r\n", 431)]


@pytest.mark.parametrize("how", ["link", "copy"])
def test_the_settings_file_reached_by_a_link_or_copied_still_reads_the_log_rules(tmp_path, how):
    """``gunicorn -c gunicorn.conf.py`` where that is a link to (or a copy of) the installed gunicorn_config.py: it
    loads log_privacy.py by its path, looked for beside the link (or copy), and gunicorn stopped with 'Failed to read
    config file' (exit status 1). Found where the package is, still without importing it in the master."""
    import shutil
    import subprocess

    from conftest import REPO

    import braintumor.gunicorn_config as settings

    conf = tmp_path / "gunicorn.conf.py"
    conf.symlink_to(settings.__file__) if how == "link" else shutil.copy(settings.__file__, conf)
    load = ("import importlib.util, sys; spec = importlib.util.spec_from_file_location('__config__', sys.argv[1]); "
            "mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod); "
            "print(mod._logs.without_client_data.__name__, 'braintumor' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO / "src"), os.environ.get("PYTHONPATH", "")])}
    done = subprocess.run([sys.executable, "-c", load, str(conf)], capture_output=True, text=True, cwd=tmp_path,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["without_client_data", "False"]


def test_the_settings_module_imports_from_a_zip(tmp_path):
    """The package run from a zip (a zipapp, zipimport): ``import braintumor.web`` (serve, create_app) imports
    gunicorn_config, which loaded log_privacy.py by a path inside the zip: NotADirectoryError. Imported as part of the
    package it takes the package's own module."""
    import subprocess
    import zipfile
    from pathlib import Path

    import braintumor

    package = Path(braintumor.__file__).parent
    with zipfile.ZipFile(tmp_path / "braintumor.zip", "w") as zf:
        for name in ("__init__.py", "gunicorn_config.py", "log_privacy.py"):
            zf.write(package / name, f"braintumor/{name}")
    load = ("import sys; sys.path.insert(0, sys.argv[1]); import braintumor.gunicorn_config as g, "
            "braintumor.log_privacy as p; print(g.__file__.startswith(sys.argv[1]), g._logs is p)")
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run([sys.executable, "-I", "-c", load, str(tmp_path / "braintumor.zip")], capture_output=True,
                          text=True, cwd=tmp_path, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["True", "True"]


def test_the_error_log_keeps_only_the_kind_of_a_rejected_request():
    from gunicorn.http import errors

    from braintumor.log_privacy import without_client_data

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
def test_a_master_killed_outright_leaves_no_metrics_folder(tiny_model, tmp_path, monkeypatch):
    """A master killed outright (SIGKILL, the OOM killer) never runs on_exit: the braintumor-metrics-* folder serve had
    made stayed in /dev/shm (or $TMPDIR), one more at every such end, until serve's watcher removed it once the master
    and its workers were gone. (A bad GUNICORN_CMD_ARGS, which used to fail gunicorn's start before its hooks, is now
    refused before the folder is made: test_serve_environment.py.)"""
    import fcntl

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    with running_serve(tmp_path, "--model", str(tiny_model), "--workers", "1") as server:
        [folder] = tmp_path.glob("braintumor-metrics-*")
        assert folder.name.startswith(f"braintumor-metrics-{server.proc.pid}-")  # the pid another start checks
        held = os.open(folder, os.O_RDONLY)
        with pytest.raises(BlockingIOError):  # the lock serve took, held through the exec: another start leaves it
            fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(held)
        os.kill(server.proc.pid, signal.SIGKILL)  # serve exec'd gunicorn: its pid is the master's
    deadline = time.monotonic() + 15  # the worker notices its master is gone, then the watcher removes the folder
    while list(tmp_path.glob("braintumor-metrics-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not list(tmp_path.glob("braintumor-metrics-*"))


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_the_openapi_servers_prefix_is_only_one_gunicorn_was_told_to_trust(tiny_model, tmp_path, monkeypatch):
    """DEPLOY.md: X-Forwarded-Prefix is never read (any client could send one: the app has no ProxyFix); a proxy that
    passes its prefix per request sends gunicorn's SCRIPT_NAME header, which gunicorn takes only from the addresses of
    ``--forwarded-allow-ips`` (127.0.0.1 and ::1 unless GUNICORN_CMD_ARGS sets it), and drops from any other."""

    def servers(base: str, path: str, headers: dict[str, str]) -> list[dict]:
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=10) as answer:
            return json.load(answer)["servers"]

    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    with running_serve(tmp_path, "--model", str(tiny_model), "--workers", "1") as server:
        assert servers(server.base, "/api/v1/openapi.json", {"X-Forwarded-Prefix": "/x"}) == [{"url": "/"}]
        prefixed = servers(server.base, "/braintumor/api/v1/openapi.json", {"SCRIPT_NAME": "/braintumor"})
        assert prefixed == [{"url": "/braintumor"}]  # this test's address, 127.0.0.1, is trusted by default
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--forwarded-allow-ips 192.0.2.1")  # a proxy that is not this test
    with running_serve(tmp_path, "--model", str(tiny_model), "--workers", "1") as server:
        assert servers(server.base, "/api/v1/openapi.json", {"SCRIPT_NAME": "/braintumor"}) == [{"url": "/"}]


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
        refused_before_its_body(port)  # Expect: 100-continue, its 100 at the app's first read of the body
        refused_while_its_body_comes(port)  # its body sent without waiting: the close lingers, no reset
        continued_once(port, test_images["glioma"][0].read_bytes())
    out = server.output()
    # Workers exit cleanly and at once (an onnxruntime imported before the fork made them abort or hang).
    assert server.proc.returncode == 0 and server.stop_seconds < 10, out
    assert "SIGABRT" not in out and "terminate called" not in out
    assert f"serving {tiny_model.name} on http://127.0.0.1:{port}/ (gunicorn, 2 workers" in out
    assert "Booting worker" in out and "POST /api/v1/predict" in out
    assert f"Listening at: http://127.0.0.1:{port} (" in out  # serve's socket, handed over as fd://N, as gunicorn's
    access = next(line for line in out.splitlines() if "POST /api/v1/predict" in line)  # the upload (Expect's next)
    assert "SMITH" not in out and "DOE" not in out and "127.0.0.1" not in access  # request line and status only
    assert '"POST /api/v1/predict HTTP/1.1" 200' in access
    # gunicorn's error log said "Invalid request from ip=127.0.0.1: Invalid HTTP request line: 'GARBAGE PATIENT_...'"
    rejected = [line.split("] ", 3)[-1] for line in out.splitlines() if "Invalid request" in line]
    assert rejected == ["Invalid request: Invalid HTTP request line", "Invalid request: Unable to comply with "
                        "expectation", "Invalid request: Request Line is too large (4414 > 4094)",
                        "Invalid request: limit request headers fields size"], out
    assert "PATIENT" not in out


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
@pytest.mark.parametrize("threads", [[], ["--threads", "1"]], ids=["gthread", "sync"])
def test_a_body_over_the_limit_sent_whole_reads_its_413(tiny_model, tmp_path, threads):
    """A client that sends a body over --max-upload-mb whole before it reads (no Expect) reads the 413, not a broken
    pipe: gunicorn drained 64 kB of the body left unread, then closed the connection with the rest unread."""
    with running_serve(tmp_path, "--model", str(tiny_model), "--workers", "1", "--max-upload-mb", "1",
                       *threads) as server:
        for _ in range(3):
            too_large_while_its_body_comes(server.port)
        assert server.health["status"] == "ok"


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


def _held_model_copies() -> set[str]:
    """This process's file descriptors on serve's in-memory model copies (held_model.hold_model's memfd)."""
    held = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            if "braintumor-model" in os.readlink(f"/proc/self/fd/{fd}"):
                held.add(fd)
        except OSError:  # the listing's own descriptor, closed by now
            pass
    return held


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_gunicorn_is_handed_the_port_serve_holds_so_no_other_program_takes_it_between(tiny_model, monkeypatch,
                                                                                       capsys):
    """serve checked the port, then gunicorn bound it: another program that took it in between had gunicorn give up
    after five tries, exit status 1, not 75 (retried). serve now binds and listens before it says it serves, and
    gunicorn gets that socket (``--bind fd://N``, inherited through the exec)."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # restored at teardown (serve sets it)
    seen = {}

    def execv(path, argv):
        fd = int(argv[argv.index("--bind") + 1].removeprefix("fd://"))
        with socket.socket(fileno=os.dup(fd)) as held:
            seen.update(port=held.getsockname()[1], inheritable=os.get_inheritable(fd),
                        listening=held.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN))
        with socket.socket() as other:  # another program, as gunicorn binds: SO_REUSEADDR
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            with pytest.raises(OSError) as taken:
                other.bind(("127.0.0.1", seen["port"]))
                other.listen()
            seen["other"] = taken.value.errno
        seen["said"] = capsys.readouterr().out
        raise OSError("not really starting gunicorn")

    monkeypatch.setattr(serve_mod.os, "execv", execv)
    with pytest.raises(OSError, match="not really"):
        serve_mod.serve(model=str(tiny_model), workers=1, port=0)  # the system's choice, said as the port served
    assert seen["inheritable"] and seen["listening"] and seen["other"] == errno.EADDRINUSE
    assert f"on http://127.0.0.1:{seen['port']}/ (gunicorn" in seen["said"]
    with socket.socket() as again:  # closed when the exec failed
        again.bind(("127.0.0.1", seen["port"]))


@pytest.mark.skipif(not hasattr(os, "memfd_create") or not os.path.isdir("/proc/self/fd"), reason="memfd: Linux")
def test_a_start_that_fails_before_gunicorn_leaves_this_process_as_it_was(tiny_model, monkeypatch, tmp_path):
    """A start that failed before the exec (the exec itself, an unusable TMPDIR) kept the model's in-memory copy open
    (an fd and a copy of the model's bytes per call) and PROMETHEUS_MULTIPROC_DIR naming the folder it had removed
    (later apps of this process answered /metrics 500), and WORKER_ENV's caps set."""
    for key in ["PROMETHEUS_MULTIPROC_DIR", *serve_mod.WORKER_ENV]:
        monkeypatch.setenv(key, "")  # so that teardown restores it
        monkeypatch.delenv(key)

    def fake_execv(path, argv):
        raise OSError("not really starting gunicorn")

    monkeypatch.setattr(serve_mod.os, "execv", fake_execv)
    before = _held_model_copies()
    with pytest.raises(OSError):
        serve_mod.serve(model=str(tiny_model), workers=1, port=0)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "gone"))
    with pytest.raises(UsageError, match="metrics folder"):
        serve_mod.serve(model=str(tiny_model), workers=1, port=0)
    assert _held_model_copies() == before
    assert not {"PROMETHEUS_MULTIPROC_DIR", *serve_mod.WORKER_ENV} & set(os.environ)


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_a_failed_exec_goes_back_into_the_folder_serve_left_for_gunicorn(tiny_model, monkeypatch, tmp_path):
    """In a folder this user may not enter (a folder above it closed: an admin's home of mode 700), serve changes to
    / for gunicorn; an exec that failed left serve()'s Python caller in /."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # restored at teardown (serve sets it)
    work = tmp_path / "closed" / "work"
    work.mkdir(parents=True)
    monkeypatch.chdir(work)
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: (os.path.realpath(path) != str(work.resolve())
                                                                 and real_access(path, mode, **kw)))
    closed = os.stat(tmp_path / "closed").st_mode
    seen = []

    def fake_execv(path, argv):
        seen.append(os.getcwd())
        raise OSError("not really starting gunicorn")

    monkeypatch.setattr(serve_mod.os, "execv", fake_execv)
    os.chmod(tmp_path / "closed", 0o600)  # as a user who is not root: no way in by the path
    try:
        with pytest.raises(OSError, match="not really"):
            serve_mod.serve(model=str(tiny_model), workers=1, port=0)
        assert seen == ["/"] and os.getcwd() == str(work.resolve())
    finally:
        os.chmod(tmp_path / "closed", closed)


def _argv_of_serve(monkeypatch, model: str) -> list[str]:
    """The argv ``serve(model=MODEL)`` would exec gunicorn with (the exec faked to fail, so nothing starts)."""
    seen: list[str] = []

    def fake_execv(path, argv):
        seen.extend(argv)
        raise OSError("not really starting gunicorn")

    monkeypatch.setattr(serve_mod.os, "execv", fake_execv)
    with pytest.raises(OSError):
        serve_mod.serve(model=model, workers=1, port=0)
    return seen


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_the_workers_are_given_the_model_by_a_path_from_the_root(tiny_model, monkeypatch):
    """``--model models/x.onnx`` reached the workers as given: where they read the file itself (no memfd: macOS, a
    container that refuses it) and GUNICORN_CMD_ARGS has ``--chdir /srv``, each failed to boot ("model file not
    found: models/x.onnx", exit status 3) after serve had said it was serving."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # restored at teardown (serve sets it)
    monkeypatch.chdir(tiny_model.parent)
    seen = _argv_of_serve(monkeypatch, os.path.join(".", tiny_model.name))
    assert f"model_path={str(tiny_model)!r}" in seen[-1], seen[-1]


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_the_workers_path_to_the_model_goes_up_from_where_a_link_leads(tiny_model, monkeypatch, tmp_path):
    """``--model link/../m.onnx``, ``link`` a folder elsewhere: the path from the root folded ``link/..`` away as text,
    so the workers were sent to another file (``./m.onnx``), or none, than the one serve had checked; the name the API
    shows stays the one given."""
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", "")  # restored at teardown (serve sets it)
    (tmp_path / "real" / "deep").mkdir(parents=True)
    (tmp_path / "real" / "m.onnx").write_bytes(tiny_model.read_bytes())
    (tmp_path / "link").symlink_to(tmp_path / "real" / "deep")
    monkeypatch.chdir(tmp_path)
    seen = _argv_of_serve(monkeypatch, os.path.join("link", "..", "m.onnx"))
    given = ast.literal_eval(seen[-1].split("model_path=", 1)[1].split(", ", 1)[0])
    assert os.path.isabs(given) and os.path.basename(given) == "m.onnx"
    assert os.path.exists(given) and os.path.samefile(given, tmp_path / "real" / "m.onnx"), given


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
def test_serve_starts_in_a_folder_its_user_may_not_enter(tmp_path):
    """DEPLOY.md's try as the unit's user, ``sudo -u braintumor /opt/braintumor/venv/bin/braintumor serve`` in the
    admin's checkout (a home of mode 700 or 750, Debian 12's, RHEL's, Ubuntu's default): serve said "serving ..." and
    gunicorn, which changes into the folder it was started in, stopped at once with ``Error: [Errno 13] Permission
    denied: '/home/admin/braintumor'``, exit status 1. The server needs no folder of its own."""
    import shutil

    locked = tmp_path / "home"
    locked.mkdir()
    lock = 'chmod 0 . && exec "$@"'  # started in the folder, which it then may not enter
    if os.geteuid() == 0:  # root enters any folder: root without its capabilities does not
        if shutil.which("setpriv") is None:
            pytest.skip("as root, needs setpriv (util-linux) to drop the capabilities that enter any folder")
        lock = 'chmod 0 . && exec setpriv --inh-caps=-all --bounding-set=-all "$@"'
    try:
        with running_serve(tmp_path, "--workers", "1", cwd=locked, wrapper=("sh", "-c", lock, "sh")) as server:
            assert server.health["status"] == "ok"
        assert "Permission denied" not in server.output()
    finally:
        locked.chmod(0o700)  # for pytest's clean-up


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT") or not sys.platform.startswith("linux"),
                    reason="SO_REUSEPORT, and SO_RCVTIMEO inherited by accepted sockets: Linux")
def test_gunicorn_cmd_args_reuse_port_serves_as_the_normal_path(tmp_path, monkeypatch):
    """``GUNICORN_CMD_ARGS=--reuse-port``: gunicorn's master left serve's socket to the workers, so its log said
    "Listening at:  (pid)" and ``when_ready`` found no socket to give ``--client-timeout``: a body that stopped arriving
    held a request thread for as long as the client kept the connection, never a 408. Now the master serves serve's
    socket as without it, and that socket is bound with SO_REUSEPORT: another server started so may share the port."""
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--reuse-port")
    with running_serve(tmp_path, "--workers", "2", "--client-timeout", "1") as server:
        with socket.create_connection(("127.0.0.1", server.port), timeout=20) as client:
            client.sendall(b"POST /api/v1/predict HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/jpeg\r\n"
                           b"Content-Length: 90000\r\n\r\n\xff\xd8")
            assert client.recv(64).startswith(b"HTTP/1.1 408 ")  # after 1 s; a timeout error after 20 s before
        with socket.socket() as other:  # as gunicorn --reuse-port binds
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            other.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            other.bind(("127.0.0.1", server.port))
    out = server.output()
    assert f"Listening at: http://127.0.0.1:{server.port} (" in out, out


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
@pytest.mark.parametrize("trusted", [True, False], ids=["loopback-trusted", "loopback-untrusted"])
def test_the_access_log_names_each_requests_id(tmp_path, monkeypatch, trusted):
    """An operator finds a user's request by the X-Request-ID its answer carried (web/request_ids.py): gunicorn's
    access log line ends with it, the proxy's id as sent when safe, else the fresh one the answer gave. Only a peer of
    --forwarded-allow-ips (127.0.0.1 and ::1 by default) names it: with 192.0.2.1 alone, this loopback client is any
    client, whose id (a patient's name, another request's id) is replaced, neither echoed nor logged."""
    import re

    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)  # gunicorn's default for --forwarded-allow-ips
    if trusted:
        monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)  # its --access-logformat would replace serve's
    else:
        monkeypatch.setenv("GUNICORN_CMD_ARGS", "--forwarded-allow-ips 192.0.2.1")

    def answered_id(base: str, path: str, headers: dict[str, str]) -> str:
        with urllib.request.urlopen(urllib.request.Request(base + path, headers=headers), timeout=10) as answer:
            return answer.headers["X-Request-ID"]

    with running_serve(tmp_path, "--workers", "1", "--threads", "1") as server:
        said = {"/api/v1/model": answered_id(server.base, "/api/v1/model", {"X-Request-ID": "proxy-7f3a.1"}),
                "/": answered_id(server.base, "/", {"X-Request-ID": "two words"}),
                "/api/v1/openapi.json": answered_id(server.base, "/api/v1/openapi.json", {})}
    out = server.output()
    logged = dict(re.findall(r'^\[[^\]\n]+\] "GET (\S+) HTTP/1\.1" 200 \d+ \d+ms (\S+)$', out, re.M))
    fresh = re.compile(r"[0-9a-f]{32}")
    assert (said["/api/v1/model"] == "proxy-7f3a.1") is trusted and fresh.fullmatch(said["/"]), said
    assert trusted or fresh.fullmatch(said["/api/v1/model"]), said
    assert {path: logged.get(path) for path in said} == said, out
    assert "two words" not in out and ("proxy-7f3a.1" in out) is trusted


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT") or not sys.platform.startswith("linux"),
                    reason="SO_REUSEPORT: Linux")
def test_gunicorn_cmd_args_reuse_port_survives_a_sighup_reload(tmp_path, monkeypatch):
    """docs/DEPLOY.md's reload (``kill -HUP`` of the master, systemd's ExecReload) with ``--reuse-port``: gunicorn read
    it again, each new worker opened serve's ``fd://N`` itself and failed to boot (EBADF): the whole server stopped."""
    monkeypatch.setenv("GUNICORN_CMD_ARGS", "--reuse-port")
    with running_serve(tmp_path, "--workers", "1") as server:
        server.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 60
        while server.output().count("Booting worker") < 2 or "Worker exiting" not in server.output():
            assert server.proc.poll() is None and time.monotonic() < deadline, server.output()
            time.sleep(0.3)
        with urllib.request.urlopen(f"{server.base}/healthz", timeout=10) as answer:
            assert answer.status == 200
        assert server.proc.poll() is None, server.output()
    assert "Bad file descriptor" not in server.output()


@pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")
@pytest.mark.skipif(not socket.has_dualstack_ipv6(), reason="no dual-stack IPv6 socket here")
def test_a_proxy_on_ipv4_loopback_keeps_its_id_under_host_dual_stack(tmp_path, monkeypatch):
    """Under ``--host ::`` an IPv4 client on 127.0.0.1 arrives as ::ffff:127.0.0.1, which gunicorn's default
    --forwarded-allow-ips does not list: a local proxy's X-Request-ID was replaced. serve's settings add it."""
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)
    monkeypatch.delenv("GUNICORN_CMD_ARGS", raising=False)
    with running_serve(tmp_path, "--host", "::", "--workers", "1", "--threads", "1") as server:
        request = urllib.request.Request(server.base + "/healthz", headers={"X-Request-ID": "proxy-7f3a.1"})
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert answer.headers["X-Request-ID"] == "proxy-7f3a.1"
