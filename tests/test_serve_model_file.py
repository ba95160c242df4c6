"""A model file that goes away (or is overwritten) under a running ``braintumor serve``: the workers gunicorn starts
later (--max-requests, a crash) load the bytes serve read at start, not the file."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from conftest import REPO

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn")


def _free_port() -> int:
    """A free port from 18300-18399 (the range these tests may use)."""
    for port in range(18300, 18400):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    pytest.skip("no free port in 18300-18399")


def _answers(url: str, proc: subprocess.Popen, seconds: float = 20) -> int:
    """The status of GET url, retried while a worker is on its way out or booting (the server must stay up)."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as answer:
                return answer.status
        except OSError:
            assert proc.poll() is None, "the server stopped"
            assert time.monotonic() < deadline, "no answer"
            time.sleep(0.2)


@pytest.mark.parametrize("change", ["removed", "overwritten"])
def test_workers_restarted_after_the_model_file_changed_still_serve_it(tmp_path, change):
    """Every worker gunicorn started after the file was gone printed a traceback and "Worker failed to boot", and the
    whole server stopped (exit status 3): a model swapped or deleted under it took the site down at the next
    --max-requests restart."""
    from braintumor.model_files import default_model_path

    model = tmp_path / "model.onnx"
    shutil.copy(default_model_path().with_name("braintumor-tumornet-s-int8.onnx"), model)  # the smaller one: faster
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TMPDIR": str(tmp_path),
           "GUNICORN_CMD_ARGS": "--max-requests 1"}  # every request ends its worker
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    log = tmp_path / "server.log"
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "braintumor", "serve", "--workers", "1", "--threads", "1",
                                 "--port", str(port), "--model", str(model)], stdout=out, stderr=subprocess.STDOUT,
                                env=env)
    try:
        url = f"http://127.0.0.1:{port}/healthz"
        assert _answers(url, proc, 60) == 200
        if change == "removed":
            model.unlink()
        else:
            model.write_bytes(b"not a model")  # in place: the same file, other bytes
        for _ in range(3):  # each answer ends its worker; the next is a new one, started without the file
            assert _answers(url, proc) == 200, log.read_text()
        assert log.read_text().count("Booting worker") >= 3
        assert "Traceback" not in log.read_text()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)
    assert proc.returncode == 0, log.read_text()


def test_a_worker_that_cannot_load_the_model_says_so_in_one_line(tmp_path, caplog):
    """Where no copy is held (no memfd: not Linux) a worker reads the file: gone, it logs the file and the cause in one
    line and exits with gunicorn's boot-error status, where it printed a traceback."""
    from braintumor.held_model import WORKER_BOOT_ERROR, worker_app

    gone = tmp_path / "model.onnx"
    with pytest.raises(SystemExit) as exit_, caplog.at_level("ERROR", logger="gunicorn.error"):
        worker_app(str(gone), None, threads=1)
    assert exit_.value.code == WORKER_BOOT_ERROR
    assert [r.getMessage() for r in caplog.records] == [
        f"worker cannot load the model {gone}: model file not found: {gone} (train and export one, or pass another "
        "path: --model FILE; a shipped one by its file name alone: braintumor-tumornet-s-int8.onnx, "
        "braintumor-tumornet-s.onnx)"]


def test_the_held_copy_is_the_files_bytes_as_read_at_start(tmp_path):
    """The copy outlives the file, and keeps its bytes when the file is overwritten."""
    from braintumor.held_model import hold_model

    model = tmp_path / "model.onnx"
    model.write_bytes(b"first")
    fd = hold_model(model)
    if fd is None:
        pytest.skip("no memfd here")
    try:
        model.write_bytes(b"second")
        assert os.pread(fd, 100, 0) == b"first"
        assert os.get_inheritable(fd)  # gunicorn's master and workers need it
    finally:
        os.close(fd)


def test_a_copy_that_cannot_be_written_is_none_and_leaves_no_descriptor(tmp_path, monkeypatch):
    """Writing the copy failed (``ulimit -f`` under the model's size: EFBIG) with a bare OSError, "error: File too
    large" from serve (exit 1), and the memfd left open; now no copy, as where there is no memfd: the workers read the
    file itself."""
    import errno

    import braintumor.held_model as held_model

    if not hasattr(os, "memfd_create") or not os.path.isdir("/proc/self/fd"):
        pytest.skip("no memfd here")
    model = tmp_path / "model.onnx"
    model.write_bytes(b"model")

    class Full:
        def __init__(self, fd, *args, **kwargs):
            self.fd = fd

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            return False

        def write(self, data):
            raise OSError(errno.EFBIG, "File too large")

    made = []
    real_memfd = os.memfd_create
    monkeypatch.setattr(held_model.os, "memfd_create", lambda *a: made.append(real_memfd(*a)) or made[-1])
    monkeypatch.setattr(held_model, "open", Full, raising=False)
    assert held_model.hold_model(model) is None
    assert len(made) == 1
    with pytest.raises(OSError) as closed:
        os.fstat(made[0])
    assert closed.value.errno == errno.EBADF


def test_a_worker_names_and_pickles_its_held_model_as_the_file(tmp_path, monkeypatch):
    """A worker loads /proc/self/fd/N (the held copy); its Classifier is named as the file, for the page and the logs,
    and pickled as it (an absolute path, whatever the folder is then): worker_app set the Classifier's private
    attributes from outside it, where the loader now takes the name (``load_classifier(..., name=...)``)."""
    import pickle

    from braintumor.held_model import hold_model, worker_app
    from braintumor.model_files import default_model_path
    from braintumor.model_loading import load_classifier
    from braintumor.predictor import Classifier

    model = tmp_path / "model.onnx"
    shutil.copy(default_model_path().with_name("braintumor-tumornet-s-int8.onnx"), model)
    fd = hold_model(model)
    if fd is None:
        pytest.skip("no memfd here")
    try:
        monkeypatch.chdir(tmp_path)
        clf = load_classifier(Classifier, f"/proc/self/fd/{fd}", 1, name="model.onnx")
        app = worker_app("model.onnx", fd, threads=1)
    finally:
        os.close(fd)
    served = app.extensions["braintumor"].classifier
    for held in (clf, served):
        assert held.path == Path("model.onnx") and repr(held).startswith("<Classifier model.onnx: ")
    monkeypatch.chdir(REPO)
    for held in (clf, served):
        again = pickle.loads(pickle.dumps(held))  # opened again from the file, not from the closed copy
        assert again.path.resolve() == model.resolve() and again.metadata == held.metadata
