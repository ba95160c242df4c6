"""``kill -HUP`` of ``braintumor serve``'s master, as docs/DEPLOY.md says to reload: new workers, the same metrics.
gunicorn starts the new workers before the old ones stop, so they take other slots (gunicorn_config.pre_fork): the
counts go on from where they were, never down, and the metrics directory holds at most twice the workers' slots."""

from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest
from conftest import REPO
from serve_process import free_port
from test_monitoring_server import post_image, scrape, total, wait_for

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn is POSIX only")


def test_a_sighup_reload_keeps_the_counts_and_the_slots_bounded(tiny_model, test_images, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(REPO / "src"), "TMPDIR": str(tmp_path)}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    with open(log, "w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "braintumor", "serve", "--workers", "2", "--port", str(port),
                                 "--model", str(tiny_model)], stdout=out, stderr=subprocess.STDOUT, env=env)
    try:
        wait_for(lambda: total(scrape(base), "braintumor_workers") == 2, "two workers", proc, log)
        [metrics_dir] = tmp_path.glob("braintumor-metrics-*")
        data = test_images["glioma"][0].read_bytes()
        sent, before = 0, scrape(base)
        for reload in range(1, 4):
            for _ in range(3):
                assert post_image(base, data) == 200
            sent += 3
            proc.send_signal(signal.SIGHUP)
            wait_for(lambda n=reload: log.read_text().count("Booting worker") >= 2 + 2 * n, "new workers", proc, log)
            wait_for(lambda: total(scrape(base), "braintumor_workers") == 2, "two live workers", proc, log)
            now = scrape(base)
            assert all(now.get(k, -1) >= v for k, v in before.items() if "_total" in k), "a counter went down"
            assert total(now, "braintumor_predictions_total") == sent
            before = now
        slots = {p.stem.rsplit("_", 1)[1] for p in metrics_dir.iterdir()}
        assert slots <= {"0", "1", "2", "3"}, sorted(slots)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=40)
    assert proc.returncode == 0, log.read_text()
    assert not metrics_dir.exists()
