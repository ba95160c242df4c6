"""A real ``braintumor serve`` process on a free port, for the tests that talk to one over HTTP (tests/test_serve_*.py,
test_monitoring_*.py, test_deploy.py), and the app under a real waitress server in this process
(tests/test_waitress_*.py); a plain module, so that test files import from it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator

from conftest import REPO


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
def running_serve(tmp_path, *args: str, cwd=None, wrapper: tuple[str, ...] = ()):
    """``python -m braintumor serve --port P *args`` on a free port, answered /healthz before the body runs; SIGTERM
    and a wait for its end afterwards (read ``.output()`` then: the log is complete). ``cwd``: the folder it starts
    in; ``wrapper``: a command it runs under (``setpriv ...``)."""
    port = free_port()
    log = open(tmp_path / "server.log", "w+")  # noqa: SIM115 - read back after the process ends
    env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([*wrapper, sys.executable, "-m", "braintumor", "serve", "--port", str(port), *args],
                            stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
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


@contextlib.contextmanager
def running_waitress(app, **settings) -> Iterator[int]:
    """The port of ``app`` under waitress as ``serve`` builds it on Windows, with ``settings`` (waitress's own, e.g.
    ``serve_waitress.waitress_buffers(...)``), served from a thread of this process until the block ends."""
    from braintumor import serve_waitress

    srv = serve_waitress.waitress_server(app, host="127.0.0.1", port=0, threads=2, **settings)
    closing = threading.Event()

    def run() -> None:
        try:
            srv.run()
        except OSError:  # its select() on the sockets close() just shut, from this thread: the end, not an error
            if not closing.is_set():
                raise

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        yield srv.effective_port
    finally:
        closing.set()
        srv.close()
        thread.join(10)
