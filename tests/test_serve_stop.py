"""``braintumor serve`` stops at once, however soon after its start it is told to (gunicorn for real)."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import types

import pytest
from conftest import REPO

from braintumor.quiet_libraries import set_decoders_quiet

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")


def _gunicorn_config() -> types.ModuleType:
    """The config file as gunicorn loads it: by its path, not as part of the package."""
    spec = importlib.util.spec_from_file_location("gunicorn_config", REPO / "src/braintumor/gunicorn_config.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_new_worker_obeys_stop_signals_before_gunicorn_installs_its_handlers(monkeypatch):
    """A forked worker runs the master's handlers, which only queue a signal in the worker's copy of the master's
    queue, until gunicorn installs its own; post_fork (the worker's first code) puts the defaults back."""
    config = _gunicorn_config()
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    before = {s: signal.signal(s, lambda *_: None) for s in config.STOP_SIGNALS}  # as the master's, inherited
    try:
        config.post_fork(types.SimpleNamespace(), types.SimpleNamespace(metrics_slot=0))
        assert {s: signal.getsignal(s) for s in config.STOP_SIGNALS} == dict.fromkeys(config.STOP_SIGNALS,
                                                                                     signal.SIG_DFL)
    finally:
        for s, handler in before.items():
            signal.signal(s, handler)
        set_decoders_quiet(None)  # post_fork's, in this (pytest's) process: a Python caller's again


def test_a_stop_right_after_the_start_ends_the_server_at_once(tiny_model, tmp_path):
    """A SIGTERM while the workers were still starting was lost by them: the server stopped only when the master
    killed them, its --graceful-timeout (30 s) later (a container stopped or restarted just after its start)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TMPDIR": str(tmp_path)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    proc = subprocess.Popen([sys.executable, "-m", "braintumor", "serve", "--port", str(port), "--model",
                             str(tiny_model), "--workers", "2"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            env=env, text=True)
    try:
        booted, lines = 0, []
        while booted < 2:  # gunicorn logs this in each worker just after the fork, before the worker's own setup
            line = proc.stdout.readline()
            assert line, "".join(lines)
            lines.append(line)
            booted += "Booting worker" in line
        time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        told = time.monotonic()
        out = proc.communicate(timeout=60)[0]
        assert time.monotonic() - told < 10 and proc.returncode == 0, "".join(lines) + out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_stop_while_the_serving_line_waits_on_a_full_pipe_leaves_no_metrics_folder(tiny_model, tmp_path):
    """serve's stdout a pipe nobody reads (a stalled log collector): its "serving ..." line waited there, after serve
    had made the workers' metrics folder and before it started the watcher that removes it; a SIGTERM then left the
    folder behind (in /dev/shm, where nothing removes it)."""
    read, write = os.pipe()
    os.set_blocking(write, False)
    with contextlib.suppress(BlockingIOError):  # the pipe full before serve writes a byte
        while True:
            os.write(write, b"x" * 65536)
    os.set_blocking(write, True)
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TMPDIR": str(tmp_path)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([sys.executable, "-m", "braintumor", "serve", "--port", str(port), "--model",
                             str(tiny_model), "--workers", "1"], stdout=write, stderr=subprocess.DEVNULL, env=env)
    os.close(write)
    try:
        deadline = time.monotonic() + 60
        while not list(tmp_path.glob("braintumor-metrics-*")):  # made: serve now writes its line, and waits
            assert proc.poll() is None and time.monotonic() < deadline, "serve ended or made no metrics folder"
            time.sleep(0.05)
        time.sleep(0.5)
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=30)
    finally:
        os.close(read)
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    deadline = time.monotonic() + 10  # the watcher removes it just after serve's process ends
    while list(tmp_path.glob("braintumor-metrics-*")) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not list(tmp_path.glob("braintumor-metrics-*"))
