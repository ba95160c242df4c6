#!/usr/bin/env python3
"""Load and soak test of ``braintumor serve`` on loopback: throughput, tail latency, errors, worker memory.

    python benchmarks/load_test.py [--workers 2] [--concurrency 16] [--duration 600] [--heatmap] [--json out.json]

Starts ``braintumor serve --workers N --port P`` (gunicorn) as a subprocess on 127.0.0.1, warms it up,
then POSTs real MRI test images (multipart, one image per request, cycling through --images of them)
to /api/v1/predict for --duration seconds at --concurrency connections with keep-alive, and stops
the server. Load generator: ``wrk`` (C, low overhead: it matters when client and server share two
cores) when on PATH (`apt-get install wrk`), else a built-in asyncio HTTP/1.1 keep-alive client
(--client python forces it). Worker RSS (sum over the gunicorn workers, psutil or /proc) is sampled
before and after the soak. Traffic goes to 127.0.0.1 only, and the run stops by itself; the server is stopped
also when the script is (Ctrl-C, SIGTERM, SIGHUP).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from _common import (
    REPO,
    common_args,
    labelled_images,
    machine,
    mb,
    print_machine,
    rss_bytes,
    table,
    write_json,
)
from load_clients import multipart, run_python, run_wrk

GOALS = "goals: >= 300 predictions/s on 2 cores, p99 <= 50 ms at 16 concurrent, 0 errors, worker RSS growth < 10 %"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """``braintumor serve`` in its own process group; stopped (SIGTERM, then SIGKILL) on exit."""

    def __init__(self, workers: int, port: int, model: Path | None, log: Path, threads: int | None = None) -> None:
        cmd = [sys.executable, "-m", "braintumor", "serve", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(workers)] + (["--model", str(model)] if model else []) + (
               ["--threads", str(threads)] if threads else [])
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "src"),
                                                                        os.environ.get("PYTHONPATH")])))
        self.log = log
        self.proc = subprocess.Popen(cmd, stdout=log.open("wb"), stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True)
        self.url = f"http://127.0.0.1:{port}"

    def wait_ready(self, timeout: float = 90.0) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode}: {self.log.read_text()[-800:]}")
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise RuntimeError(f"server not ready after {timeout:.0f} s")

    def worker_rss(self) -> int:
        return sum(rss_bytes(self.proc.pid, children=True).values())

    def stop(self) -> None:
        """SIGTERM to gunicorn's master (a graceful stop of its workers), then SIGKILL to whatever of its process group
        is left: a worker the master did not take with it kept serving."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.proc.wait(15)
        with contextlib.suppress(ProcessLookupError):  # ProcessLookupError: all gone already
            os.killpg(self.proc.pid, signal.SIGKILL)  # the group this script created
        self.proc.wait(5)


def _exit_on_signal(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


@contextlib.contextmanager
def running_server(workers: int, port: int, model: Path | None, log: Path,
                   threads: int | None = None) -> Iterator[Server]:
    """A :class:`Server` stopped however the block ends: an error, Ctrl-C, or SIGTERM/SIGHUP (``timeout``, ``kill``,
    a closed terminal), made SystemExit here. Why: their default action ended this script alone, and gunicorn's master,
    workers and metrics watcher went on serving in their own session."""
    stops = (signal.SIGTERM, signal.SIGHUP)
    previous = {s: signal.signal(s, _exit_on_signal) for s in stops}
    server = None
    try:
        server = Server(workers, port, model, log, threads)
        yield server
    finally:
        previous[signal.SIGINT] = signal.getsignal(signal.SIGINT)
        for s in previous:  # a second signal (or Ctrl-C) must not cut the stop short
            signal.signal(s, signal.SIG_IGN)
        try:
            if server is not None:
                server.stop()
        finally:
            for s, handler in previous.items():
                signal.signal(s, handler)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--workers", type=int, default=2, help="braintumor serve --workers (default %(default)s)")
    ap.add_argument("--threads", type=int, default=None, help="request threads per worker (default: serve's, 4)")
    ap.add_argument("--port", type=int, default=0, help="0: pick a free one")
    ap.add_argument("--model", type=Path, default=None, help="braintumor serve --model (default: the shipped one)")
    ap.add_argument("--concurrency", type=int, default=16, help="uploads in flight at once (default %(default)s)")
    ap.add_argument("--duration", type=float, default=600.0, help="soak seconds (measured)")
    ap.add_argument("--warmup", type=float, default=10.0, help="seconds of load before the 'before' RSS")
    ap.add_argument("--images", type=int, default=64, help="distinct test images cycled through")
    ap.add_argument("--heatmap", action="store_true", help="POST to /api/v1/predict?heatmap=1")
    ap.add_argument("--client", choices=("auto", "wrk", "python"), default="auto",
                    help="load generator (default auto: wrk when installed, else a Python asyncio client)")
    ap.add_argument("--sample", type=float, default=10.0, help="seconds between RSS samples during the soak")
    ap.add_argument("--boundary", choices=("fixed", "fresh"), default="fixed",
                    help="multipart boundary: one for the whole run, or a new one per request as browsers and "
                         "HTTP libraries send (the server then parses a boundary it has not seen before)")
    args = ap.parse_args(argv)
    client = ("wrk" if shutil.which("wrk") else "python") if args.client == "auto" else args.client
    images = labelled_images(args.data, limit=max(1, args.images // 4))[: args.images]
    boundary, fresh = uuid.uuid4().hex, args.boundary == "fresh"
    path = "/api/v1/predict" + ("?heatmap=1" if args.heatmap else "")
    info = machine()
    port = args.port or free_port()
    with tempfile.TemporaryDirectory(prefix="bt-load-") as tmpdir:
        tmp = Path(tmpdir)
        bodies = [multipart(p.name, p.read_bytes(), boundary) for p, _ in images]
        files = []
        for k, b in enumerate(bodies):
            files.append(tmp / f"body{k}.bin")
            files[-1].write_bytes(b)

        def load(seconds: float) -> dict[str, Any]:
            if client == "wrk":
                return run_wrk(f"http://127.0.0.1:{port}", files, boundary, path, args.concurrency, seconds, tmp,
                               fresh)
            return run_python(port, bodies, boundary, path, args.concurrency, seconds, fresh)

        with running_server(args.workers, port, args.model, tmp / "server.log", args.threads) as server:
            server.wait_ready()
            rss_idle = server.worker_rss()
            print(f"[load] server up on port {port}; warm-up {args.warmup:.0f} s with {client} ...",
                  file=sys.stderr, flush=True)
            warm = load(args.warmup)
            rss_before = server.worker_rss()
            samples: list[tuple[float, int]] = []
            stop = threading.Event()

            def sampler() -> None:
                t0 = time.time()
                while not stop.wait(args.sample):
                    samples.append((round(time.time() - t0, 1), server.worker_rss()))

            th = threading.Thread(target=sampler, daemon=True)
            th.start()
            print(f"[load] soak {args.duration:.0f} s at concurrency {args.concurrency} ...", file=sys.stderr,
                  flush=True)
            res = load(args.duration)
            stop.set()
            th.join()
            rss_after = server.worker_rss()
            server_errors = sum("[ERROR]" in ln or "Traceback" in ln
                                for ln in server.log.read_text(errors="replace").splitlines())
    rate = res["requests"] / res["seconds"]
    errors = res["non_200"] + res["socket_errors"]
    growth = 100.0 * (rss_after - rss_before) / rss_before if rss_before else None
    # A leak keeps growing; allocator warm-up stops. Growth from the first sample one minute into the
    # soak to the end tells the two apart when the warm-up outlasts --warmup.
    later = [s for t, s in samples if t >= 60.0]
    growth_late = 100.0 * (rss_after - later[0]) / later[0] if later and rss_after else None
    print(f"\n## Load test: braintumor serve --workers {args.workers}"
          f"{f' --threads {args.threads}' if args.threads else ''}, {args.concurrency} concurrent, "
          f"{res['seconds']:.0f} s, POST {path}\n")
    print_machine(info)
    print(f"- load generator: {client} on the same machine (it shares the CPU with the server); "
          f"{len(images)} distinct images, one per request, keep-alive, "
          f"{'a new multipart boundary per request' if fresh else 'one multipart boundary for the run'}\n")

    def ok(flag: bool) -> str:
        return "yes" if flag else "NO"

    rows = [
        ["predictions/s", rate, ">= 300 (2 cores)", ok(rate >= 300)],
        ["latency p50 ms", res["p50_ms"], "", ""],
        ["latency p90 ms", res["p90_ms"], "", ""],
        ["latency p99 ms", res["p99_ms"], "<= 50", ok((res["p99_ms"] or 1e9) <= 50)],
        ["latency max ms", res["max_ms"], "", ""],
        ["requests", res["requests"], "", ""],
        ["errors (non-200 + socket)", f"{res['non_200']} + {res['socket_errors']}", "0", ok(errors == 0)],
        ["server log errors", server_errors, "0", ok(server_errors == 0)],
        ["worker RSS idle MB", mb(rss_idle), "", ""],
        ["worker RSS before soak MB", mb(rss_before), "", ""],
        ["worker RSS after soak MB", mb(rss_after), "", ""],
        ["worker RSS max during soak MB", mb(max((s for _, s in samples), default=rss_after)), "", ""],
        ["RSS growth %", growth, "< 10", ok(growth is not None and growth < 10)],
        ["RSS growth from 60 s into the soak to its end %", growth_late, "", ""],
    ]
    print(table(["measure", "value", "goal", "met"], rows))
    print(f"\n{GOALS}")
    write_json(args.json, {"machine": info, "client": client, "workers": args.workers, "threads": args.threads,
                           "concurrency": args.concurrency, "path": path, "boundary": args.boundary,
                           "warmup": warm, "soak": res,
                           "predictions_per_s": rate, "rss_idle": rss_idle, "rss_before": rss_before,
                           "rss_after": rss_after, "rss_growth_pct": growth, "rss_growth_after_60s_pct": growth_late,
                           "rss_samples": samples,
                           "server_log_errors": server_errors})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
