"""How a long ``predict`` run meets the signals of a shell: a second Ctrl-C ends it, and an ignored signal (``nohup``,
a background job) stays ignored."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from braintumor.model_files import default_model_path

MODEL = default_model_path()
pytestmark = [pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}"),
              pytest.mark.skipif(os.name == "nt", reason="POSIX signals")]


def _start(data_root: Path, out: Path, *extra: str, pre_exec=None) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "braintumor", "predict", *[str(data_root / "Testing")] * 3, "--format", "jsonl",
           "-o", str(out), "--threads", "1", "--no-progress", *extra]
    return subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, preexec_fn=pre_exec,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for_records(out: Path, proc: subprocess.Popen) -> bool:
    """True once the run is writing records (the workers are up), False if it ended first."""
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if out.exists() and out.stat().st_size > 2_000:
            return True
        time.sleep(0.05)
    return False


def test_a_second_ctrl_c_during_the_workers_cleanup_ends_the_process(data_root, tmp_path):
    """The second Ctrl-C (or ``timeout -s INT``: the process, then its group) landed in the pool's shutdown and left
    ``predict --workers`` waiting for its workers for good."""
    out = tmp_path / "out.jsonl"
    proc = _start(data_root, out, "--workers", "2", "--resume")
    _ctrl_c_twice(proc, _wait_for_records(out, proc))
    assert proc.returncode in (130, -signal.SIGINT)


def _ctrl_c_twice(proc: subprocess.Popen, ready: bool) -> str:
    """Ctrl-C, then Ctrl-C again 0.1 s later, once the run is ``ready``; its stderr, read after every process of it
    has ended (a worker left behind would hold stderr open). Skips when the run ended before it could be stopped."""
    try:
        if not ready:
            pytest.skip("the run ended before it could be interrupted")
        proc.send_signal(signal.SIGINT)
        time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        err = proc.communicate(timeout=30)[1]
    return err


def _ignore_sighup() -> None:
    signal.signal(signal.SIGHUP, signal.SIG_IGN)  # what nohup does before it runs the command


def test_under_nohup_a_hangup_does_not_stop_the_run(data_root, tmp_path):
    """``nohup braintumor predict BIG -o out.jsonl &``, then the ssh session closes: the run was stopped by SIGHUP."""
    out = tmp_path / "out.jsonl"
    proc = _start(data_root, out, "--resume", pre_exec=_ignore_sighup)
    try:
        if not _wait_for_records(out, proc):
            pytest.skip("the run ended before the hangup")
        proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert proc.poll() is None, proc.communicate()[1]  # still working
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate(timeout=30)


def test_a_worker_whose_parent_died_before_it_started_leaves_at_once(tmp_path):
    """A worker still importing when its parent was killed (a second Ctrl-C) took init for its parent, so it never saw
    the death: it loaded the model and waited on the task queue for good, holding the run's stderr open."""
    gone = subprocess.Popen(["true"])
    gone.wait()  # a pid whose process has ended: the parent this worker was started for
    code = ("import sys, time; from braintumor.batch_workers import _init_worker; from braintumor.model_files import "
            f"default_model_path; _init_worker({gone.pid}, str(default_model_path()), None, 1, 32, False, False); "
            "time.sleep(60); sys.exit(0)")
    started = time.time()
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
                          capture_output=True, text=True, timeout=90)
    assert (done.returncode, done.stderr) == (1, "")
    assert time.time() - started < 30


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_second_stop_signal_removes_the_temporary_output_and_says_so(tmp_path, monkeypatch, capfd, signum):
    """It ended the process at once and left the hidden ``.out.jsonl.1a2b3c4d`` of ``-o out.jsonl`` behind, silently."""
    from braintumor import atomic_files, cli_run

    fd, _ = atomic_files.temp_beside(tmp_path / "out.jsonl")  # an output being written
    os.close(fd)
    ended = []
    monkeypatch.setattr(cli_run.signal, "signal", lambda *a: None)  # this test process keeps its handlers
    monkeypatch.setattr(cli_run.os, "kill", lambda pid, s: ended.append(s))
    monkeypatch.setattr(cli_run.os, "_exit", ended.append)
    cli_run._stop_now(signum, None)
    assert list(tmp_path.iterdir()) == [] and ended[0] == signum
    what = "interrupted" if signum == signal.SIGINT else f"stopped by {signal.Signals(signum).name}"
    assert capfd.readouterr().err == f"{what} again: stopped at once, {tmp_path / 'out.jsonl'} not written\n"


def test_a_second_ctrl_c_leaves_no_temporary_output_and_no_leaked_semaphores(data_root, tmp_path):
    """``predict --workers 2 -o out.jsonl``, Ctrl-C twice: the hidden temporary output stayed, and multiprocessing's
    resource tracker warned of leaked semaphores."""
    out = tmp_path / "out.jsonl"
    proc = _start(data_root, out, "--workers", "2")
    deadline, ready = time.time() + 60, False
    while not ready and time.time() < deadline and proc.poll() is None:
        ready = sum(p.stat().st_size for p in tmp_path.glob(".out.jsonl.*")) > 2_000
        time.sleep(0.05)
    err = _ctrl_c_twice(proc, ready)  # read after the workers and the resource tracker are gone
    assert proc.returncode == -signal.SIGINT
    assert list(tmp_path.iterdir()) == []
    assert err.splitlines() == [f"interrupted again: stopped at once, {out} not written"], err


#: A child that starts the CLI as ENTRY says (``module:function``, the console script's way, or ``-m``: ``python -m
#: braintumor``'s), its numpy import held 2 s after touching the file argv[1]: Ctrl-C lands among the imports.
_SLOW_START = """import importlib, runpy, sys, time
ready, entry, sys.argv = sys.argv[1], sys.argv[2], ["braintumor", "predict", "scan.png"]
class SlowNumpy:
    def find_spec(self, name, path=None, target=None):
        if name == "numpy":
            sys.meta_path.remove(self)
            open(ready, "w").close()
            time.sleep(2)
        return None
sys.meta_path.insert(0, SlowNumpy())
if entry == "-m":
    runpy.run_module("braintumor", run_name="__main__", alter_sys=True)
module, function = entry.split(":")
sys.exit(getattr(importlib.import_module(module), function)())
"""


@pytest.mark.parametrize("how", ["script", "-m"])
def test_ctrl_c_while_the_command_is_starting_says_interrupted(tmp_path, how):
    """Ctrl-C in the first 0.3-1 s of a command, while numpy and Pillow were imported, printed a KeyboardInterrupt
    traceback (of ``braintumor.cli``'s imports, before any of the CLI's handling), or numpy's ImportError and
    exit status 1 where it came inside numpy's C start-up."""
    import re

    from conftest import REPO

    script = re.search(r'^braintumor = "([\w.]+:\w+)"', (REPO / "pyproject.toml").read_text(), re.M)
    entry = script.group(1) if how == "script" else how
    ready = tmp_path / "importing"
    proc = subprocess.Popen([sys.executable, "-c", _SLOW_START, str(ready), entry], cwd=tmp_path,
                            env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, preexec_fn=_ctrl_c_as_in_a_terminal)
    try:
        deadline = time.time() + 60
        while not ready.exists() and time.time() < deadline and proc.poll() is None:
            time.sleep(0.01)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    assert (proc.returncode, out, err) == (130, "", "interrupted\n")


def _ctrl_c_as_in_a_terminal() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)  # not ignored, as a background job's is: Python's own handler
