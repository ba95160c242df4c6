"""A predict process killed, stopped by SIGTERM or left by its log pipe: no orphans, no half-written file."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import encode, synthetic_head

from braintumor.model_files import default_model_path

MODEL = default_model_path()
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")


def _children(parent: int) -> set[int]:
    pids = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent:
                pids.add(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            pass
    return pids


def _alive(pids: set[int]) -> set[int]:
    return {p for p in pids if Path(f"/proc/{p}").exists() and "Z" not in (Path(f"/proc/{p}/stat").read_text()
                                                                          .rsplit(")", 1)[1].split()[0])}


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to list processes")
def test_kill_minus_9_then_resume(data_root, tmp_path):
    """A real crash: the parent is SIGKILLed mid-run; its workers leave, and --resume completes the file."""
    from braintumor.image_files import walk_images

    target = tmp_path / "out.jsonl"
    cmd = [sys.executable, "-m", "braintumor", "predict", str(data_root / "Testing"), "--format", "jsonl",
           "-o", str(target), "--resume", "--workers", "2", "--threads", "1", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen(cmd, env=env, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    while time.time() < deadline and (not target.exists() or target.stat().st_size < 20_000):
        time.sleep(0.05)
    workers = _children(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    lines = target.read_bytes().count(b"\n")
    if lines >= 1311:
        pytest.skip("the run finished before it could be interrupted")
    deadline = time.time() + 10
    while _alive(workers) and time.time() < deadline:
        time.sleep(0.2)
    orphans = _alive(workers)
    for pid in orphans:  # don't leave them behind when the test fails
        os.kill(pid, signal.SIGKILL)
    assert len(workers) >= 2 and not orphans  # no orphaned worker keeps running
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0 and f"{lines} records already there" in done.stderr
    paths = [json.loads(line)["path"] for line in target.read_text().splitlines()]
    assert paths == [str(p) for p in walk_images(data_root / "Testing")]


def _predict_process(data_root, target: Path, *extra: str, **popen) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "braintumor", "predict", *[str(data_root / "Testing")] * 3, "--format", "jsonl",
           "-o", str(target), "--threads", "1", *extra]
    return subprocess.Popen(cmd, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, **popen)


def _wait_for_temp(folder: Path, proc: subprocess.Popen) -> bool:
    deadline = time.time() + 60
    while time.time() < deadline and proc.poll() is None:
        if any(p.name.startswith(".out.jsonl.") and p.stat().st_size > 20_000 for p in folder.iterdir()):
            return True
        time.sleep(0.05)
    return False


def test_sigterm_stops_like_ctrl_c_with_nothing_left_behind(data_root, tmp_path):
    """SIGTERM (timeout, docker stop) killed the process at once: it left its half-written temporary output."""
    proc = _predict_process(data_root, tmp_path / "out.jsonl", "--no-progress", stderr=subprocess.PIPE, text=True)
    if not _wait_for_temp(tmp_path, proc):
        proc.kill()
        pytest.skip("the run ended before it could be interrupted")
    proc.send_signal(signal.SIGTERM)
    err = proc.communicate(timeout=60)[1]
    assert proc.returncode == 143 and err.strip().endswith("stopped by SIGTERM") and "Traceback" not in err
    assert list(tmp_path.iterdir()) == []  # no output (it was not complete) and no temporary file


def test_a_closed_progress_pipe_is_not_success(data_root, tmp_path):
    """`predict DIR -o FILE --progress 2>&1 | head -c 100` returned 0 and never wrote FILE: the job had stopped."""
    proc = _predict_process(data_root, tmp_path / "out.jsonl", "--progress", stderr=subprocess.PIPE)
    if not _wait_for_temp(tmp_path, proc):
        proc.kill()
        pytest.skip("the run ended before it could be interrupted")
    proc.stderr.read(100)
    proc.stderr.close()  # the reader leaves
    proc.wait(timeout=60)
    assert proc.returncode == 141 and list(tmp_path.iterdir()) == []


@pytest.mark.skipif(not Path("/dev/stdout").exists() or not hasattr(os, "mkfifo"), reason="needs /dev/stdout, FIFOs")
@pytest.mark.parametrize("where", ["/dev/stdout", "fifo"])
def test_a_reader_of_the_results_leaving_an_o_pipe_is_success(data_root, tmp_path, where):
    """`predict DIR -o /dev/stdout | head -1` (or -o a FIFO whose reader leaves) ended with status 141 and no word, as
    a log pipe closed under the job; `predict DIR | head -1` is 0: the reader had what it wanted."""
    if where == "fifo":
        where = str(tmp_path / "results")
        os.mkfifo(where)
    proc = _predict_process(data_root, Path(where), "--no-progress", stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader = proc.stdout if where == "/dev/stdout" else open(where, "rb")  # noqa: SIM115 - closed below
    reader.read(100)
    reader.close()  # the reader leaves
    err = proc.communicate(timeout=120)[1]
    assert proc.returncode == 0 and b"Traceback" not in err, err


def test_a_second_sigterm_during_the_cleanups_ends_the_process(data_root, tmp_path):
    """With --workers, a second SIGTERM while the first one's cleanups ran left the process hanging for good."""
    proc = _predict_process(data_root, tmp_path / "out.jsonl", "--no-progress", "--workers", "2",
                            stderr=subprocess.DEVNULL)
    if not _wait_for_temp(tmp_path, proc):
        proc.kill()
        pytest.skip("the run ended before it could be interrupted")
    proc.send_signal(signal.SIGTERM)
    time.sleep(0.02)
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        assert proc.wait(timeout=30) in (143, -signal.SIGTERM)
    finally:
        proc.kill()


def test_a_log_pipe_closed_after_the_work_is_written_keeps_the_exit_code(tmp_path):
    """`predict -o out.csv 2>&1 | true`: out.csv was complete, but the closing line hit the closed pipe: exit 141."""
    image = tmp_path / "a.png"
    image.write_bytes(encode(synthetic_head(), "PNG"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, "-m", "braintumor", "predict", str(image), "-o", str(tmp_path / "r.csv")],
                            stderr=subprocess.PIPE, env=env)
    proc.stderr.close()  # the reader left at once
    assert proc.wait(timeout=120) == 0 and (tmp_path / "r.csv").read_text().startswith("path,label")
