"""The metrics of the real server (``braintumor serve --workers 2``, gunicorn): whichever worker answers a
scrape reports every worker's requests, a killed worker's counts survive it, and the metrics directory
is removed when the server stops."""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import types
import urllib.request
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from conftest import REPO
from prometheus_client.parser import text_string_to_metric_families
from serve_process import free_port

from braintumor import cpu_quota, gunicorn_config, metrics_folders
from braintumor import serve as serve_mod

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")

#: Each access-log line starts with the pid of the worker that answered.
ACCESS_LOG = '--access-logformat "%(p)s %(m)s %(U)s %(s)s"'  # %(p)s is "<pid>"


def post_image(base: str, data: bytes) -> int:
    boundary = uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="g.jpg"\r\n\r\n'.encode()
            + data + f"\r\n--{boundary}--\r\n".encode())
    req = urllib.request.Request(f"{base}/api/v1/predict", data=body, method="POST",
                                 headers={"Content-Type": f"multipart/form-data; boundary={boundary}"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return r.status


def scrape(base: str) -> dict[str, float]:
    """'name{labels}' -> value, for every sample of GET /metrics."""
    text = urllib.request.urlopen(f"{base}/metrics", timeout=10).read().decode()
    out = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            out[s.name + json.dumps(s.labels, sort_keys=True)] = s.value
    return out


def total(samples: dict[str, float], prefix: str) -> float:
    return sum(v for k, v in samples.items() if k.startswith(prefix))


def wait_for(check, what: str, proc: subprocess.Popen, log: Path, seconds: float = 90):
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = check()
            if result:
                return result
        except OSError:
            pass
        assert proc.poll() is None, f"server died while waiting for {what}:\n{log.read_text()}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}:\n{log.read_text()}"
        time.sleep(0.3)


def predict_pids(log: Path) -> list[str]:
    return re.findall(r"^<(\d+)> POST /api/v1/predict 200$", log.read_text(), flags=re.M)


def test_counts_add_up_across_gunicorn_workers(tiny_model, test_images, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TMPDIR": str(tmp_path), "GUNICORN_CMD_ARGS": ACCESS_LOG}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "braintumor", "serve", "--workers", "2", "--port", str(port),
                                 "--model", str(tiny_model)], stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        workers = lambda: total(scrape(base), "braintumor_workers")  # noqa: E731 - the live gauge's sum
        wait_for(lambda: workers() == 2, "two workers", proc, log)
        [metrics_dir] = tmp_path.glob("braintumor-metrics-*")  # a fresh directory under $TMPDIR

        data = test_images["glioma"][0].read_bytes()
        sent = 0
        with ThreadPoolExecutor(6) as pool:
            for _ in range(6):  # until both workers have answered some (the kernel picks the worker)
                assert set(pool.map(lambda _: post_image(base, data), range(12))) == {200}
                sent += 12
                # gunicorn writes the access-log line just after the response: wait for all of them.
                wait_for(lambda n=sent: len(predict_pids(log)) == n, "the access log", proc, log, seconds=10)
                if len(set(predict_pids(log))) == 2:
                    break
        served = predict_pids(log)
        assert len(set(served)) == 2, "both workers should have served requests"

        def counts() -> tuple[float, float]:
            m = scrape(base)
            return (m['braintumor_http_requests_total{"endpoint": "api.predict", "status": "200"}'],
                    total(m, "braintumor_predictions_total"))

        for _ in range(4):  # several scrapes, answered by either worker: each sees every worker's counts
            assert counts() == (sent, sent)

        victim = int(served[0])
        os.kill(victim, signal.SIGKILL)
        wait_for(lambda: log.read_text().count("Booting worker") >= 3, "a replacement worker", proc, log)
        # the dead worker's live gauge is gone (child_exit) or taken over by its replacement: 2 workers, not 3
        wait_for(lambda: workers() == 2, "two live workers", proc, log)
        assert counts() == (sent, sent)  # its counters stay: counters never go down
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)
    assert proc.returncode == 0, log.read_text()
    assert not metrics_dir.exists(), "the metrics directory is removed when the server stops"


def test_restarted_workers_carry_on_in_their_slots_files(tiny_model, test_images, tmp_path):
    """Metric files were named by pid: each worker restarted by --max-requests (or a crash) left ~16 KB more in
    /dev/shm, and once it was full (Docker's default: 64 MB) every new worker died of SIGBUS at its first request."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TMPDIR": str(tmp_path),
           "GUNICORN_CMD_ARGS": "--max-requests 1"}  # every request ends its worker
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with open(log, "w") as out:  # sync workers: a threaded one could accept the next request before it stopped
        proc = subprocess.Popen([sys.executable, "-m", "braintumor", "serve", "--workers", "2", "--threads", "1",
                                 "--port", str(port), "--model", str(tiny_model)], stdout=out,
                                stderr=subprocess.STDOUT, env=env)
    try:
        # not by scraping: every scrape ends the worker that answers it, and on a busy machine its replacement was
        # still loading at the next one, so two were never seen; each worker with its app loaded has its gauge file
        wait_for(lambda: len(list(tmp_path.glob("braintumor-metrics-*/gauge_livesum_*.db"))) == 2, "two workers",
                 proc, log)
        [metrics_dir] = tmp_path.glob("braintumor-metrics-*")
        data = test_images["glioma"][0].read_bytes()
        for _ in range(3):
            assert post_image(base, data) == 200
        # scrapes end workers too; a scrape meeting a worker on its way out is retried
        wait_for(lambda: total(scrape(base), "braintumor_predictions_total") == 3, "the dead workers' counts", proc,
                 log)
        assert log.read_text().count("Booting worker") >= 3  # one request at a time: 3 workers served them
        assert {p.name.rsplit("_", 1)[1] for p in metrics_dir.iterdir()} <= {"0.db", "1.db"}  # two slots' files
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)
    assert proc.returncode == 0, log.read_text()


def test_a_worker_killed_for_running_past_the_timeout_is_counted(tiny_model, tmp_path):
    """A request that ran past --timeout (here a client sending its body slowly) got gunicorn's own 500 and a
    WORKER TIMEOUT log line, but the metrics counted neither the request nor an error."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TMPDIR": str(tmp_path), "GUNICORN_CMD_ARGS": "--timeout 4"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with open(log, "w") as out:
        # --request-timeout past gunicorn's: its default (3 s here) would answer the 408 before the worker timed out
        proc = subprocess.Popen([sys.executable, "-m", "braintumor", "serve", "--workers", "1", "--threads", "1",
                                 "--request-timeout", "60", "--port", str(port), "--model", str(tiny_model)],
                                stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for(lambda: total(scrape(base), "braintumor_workers") == 1, "the worker", proc, log)
        with socket.create_connection(("127.0.0.1", port), timeout=1) as client:
            client.sendall(b"POST /api/v1/predict HTTP/1.1\r\nHost: localhost\r\n"
                           b"Content-Type: application/octet-stream\r\n"
                           b"Content-Length: 100\r\n\r\n")
            answer, deadline = b"", time.monotonic() + 30
            while not answer and time.monotonic() < deadline:  # a byte a second: the worker waits on the body
                client.sendall(b"x")
                with contextlib.suppress(TimeoutError):
                    answer = client.recv(1024)
        assert answer.startswith(b"HTTP/1.1 500"), log.read_text()
        assert "WORKER TIMEOUT" in log.read_text()
        timeouts = 'braintumor_errors_total{"kind": "timeout"}'  # scraped from the replacement worker
        wait_for(lambda: scrape(base).get(timeouts) == 1, "the timeout counted", proc, log, seconds=20)
        stats = json.load(urllib.request.urlopen(f"{base}/api/v1/stats", timeout=10))
        assert stats["errors"] == {"timeout": 1}  # the dashboard's list of errors
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)
    assert proc.returncode == 0, log.read_text()


#: A sync worker (--threads 1) whose request is counting when the master's SIGABRT comes: the handler, as gunicorn's
#: Worker.handle_abort, calls worker_abort then exits; the signal lands while the request holds prometheus-client's
#: value lock (the request's write to its metric file sends it).
ABORTED_WHILE_COUNTING = """
import os, signal, sys, time, types
from flask import Flask
from prometheus_client import mmap_dict
from braintumor import gunicorn_config, metrics_folders
from braintumor.web import monitoring

app = Flask("w")
app.extensions[monitoring.EXTENSION] = m = monitoring.Metrics.create({})
worker = types.SimpleNamespace(wsgi=app)
signal.signal(signal.SIGABRT, lambda *_: (gunicorn_config.worker_abort(worker), sys.exit(1)))
write = mmap_dict.MmapedDict.write_value
def write_when_the_master_kills(self, *args):
    mmap_dict.MmapedDict.write_value = write
    os.kill(os.getpid(), signal.SIGABRT)
    time.sleep(5)  # the handler runs here
    write(self, *args)
mmap_dict.MmapedDict.write_value = write_when_the_master_kills
m.requests.labels(endpoint="api.predict", status="200").inc()
"""


def test_a_timeout_counted_while_the_request_held_the_metrics_lock_does_not_hang_the_worker(tmp_path):
    """worker_abort runs in a signal handler on the request's thread: when the signal came while that request held
    prometheus-client's lock (not reentrant), counting waited for it forever (the worker hung until the master's
    SIGKILL, a --timeout later, and the timeout went uncounted)."""
    from prometheus_client import CollectorRegistry, multiprocess

    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    try:
        result = subprocess.run([sys.executable, "-c", ABORTED_WHILE_COUNTING], env=env, capture_output=True,
                                text=True, timeout=20)
    except subprocess.TimeoutExpired:
        pytest.fail("the worker hung in worker_abort")
    assert result.returncode == 1, result.stderr
    reg = CollectorRegistry()
    multiprocess.MultiProcessCollector(reg, path=str(tmp_path))
    assert reg.get_sample_value("braintumor_errors_total", {"kind": "timeout"}) == 1


def test_gunicorn_loads_the_hooks_file_by_path(tmp_path):
    argv = serve_mod.gunicorn_argv({"model_path": "m.onnx"}, "127.0.0.1", 8000, workers=2)
    config = Path(argv[argv.index("--config") + 1])
    assert config.is_file() and config.name == "gunicorn_config.py"
    assert "import braintumor" not in config.read_text() and "from ." not in config.read_text()


def test_hooks_drop_a_dead_workers_live_gauges_and_remove_only_our_directory(tmp_path, monkeypatch):
    ours = tmp_path / f"{gunicorn_config.METRICS_DIR_PREFIX}x"
    ours.mkdir()
    for name in ("gauge_livesum_123.db", "gauge_max_123.db", "counter_123.db", "gauge_livesum_456.db"):
        (ours / name).write_bytes(b"")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(ours))
    gunicorn_config.child_exit(None, types.SimpleNamespace(pid=123))
    assert sorted(p.name for p in ours.iterdir()) == ["counter_123.db", "gauge_livesum_456.db", "gauge_max_123.db"]
    gunicorn_config.on_exit(None)
    assert not ours.exists()
    theirs = tmp_path / "somebody-elses"
    theirs.mkdir()
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(theirs))
    gunicorn_config.on_exit(None)
    assert theirs.exists()


def test_metrics_dir_is_fresh_each_start_and_under_tmpdir(tmp_path, monkeypatch):
    monkeypatch.setenv("TMPDIR", str(tmp_path))
    first, second = Path(metrics_folders.metrics_dir()), Path(metrics_folders.metrics_dir())
    assert first != second and first.parent == second.parent == tmp_path
    assert first.name.startswith(gunicorn_config.METRICS_DIR_PREFIX) and not any(first.iterdir())


def test_metrics_dir_under_a_relative_tmpdir_is_named_from_the_root(tmp_path, monkeypatch):
    """``TMPDIR=tmp`` gave the workers a relative PROMETHEUS_MULTIPROC_DIR: with GUNICORN_CMD_ARGS="--chdir /srv" they
    looked for it from there, and every worker failed to boot (FileNotFoundError; gunicorn's exit status 3)."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "tmp").mkdir()
    monkeypatch.setenv("TMPDIR", "tmp")
    made = metrics_folders.metrics_dir()
    assert os.path.isabs(made) and Path(made).parent == tmp_path / "tmp"


def test_metrics_dir_under_a_tmpdir_going_up_from_a_link_is_the_folder_made(tmp_path, monkeypatch):
    """``TMPDIR=link/../tmp``, ``link`` a folder elsewhere: the folder was made in that folder's parent, and named from
    the root with ``link/..`` folded away as text (``./tmp/...``), a folder that is not there."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "real" / "deep").mkdir(parents=True)
    (tmp_path / "real" / "tmp").mkdir()
    (tmp_path / "link").symlink_to(tmp_path / "real" / "deep")
    monkeypatch.setenv("TMPDIR", os.path.join("link", "..", "tmp"))
    made = metrics_folders.metrics_dir()
    assert os.path.isabs(made) and os.path.isdir(made), made
    assert Path(made).resolve().parent == (tmp_path / "real" / "tmp").resolve()


@pytest.mark.parametrize(("files", "limit"), [
    ({"cpu.max": "50000 100000\n"}, 1),                        # cgroup v2, half a CPU -> 1
    ({"cpu.max": "max 100000\n"}, None),                       # v2, no limit
    ({"cpu/cpu.cfs_quota_us": "100000\n", "cpu/cpu.cfs_period_us": "100000\n"}, 1),  # v1, 1 CPU
    ({"cpu/cpu.cfs_quota_us": "-1\n", "cpu/cpu.cfs_period_us": "100000\n"}, None),   # v1, no limit
    ({}, None),                                                # no cgroup files at all
])
def test_available_cpus_honours_a_container_cpu_limit(tmp_path, files, limit):
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    try:
        mine = len(os.sched_getaffinity(0))
    except AttributeError:
        mine = os.cpu_count() or 1
    assert cpu_quota.available_cpus(tmp_path) == (min(mine, limit) if limit else mine)
