#!/usr/bin/env python3
"""Cost of a fresh server process's first requests: latency and memory, per new worker.

    python benchmarks/first_request.py [--runs 5] [--requests 5] [--src OTHER_CHECKOUT/src] [--json out.json]

Each run starts a new Python process that builds the web app (as a gunicorn worker does after the
fork), then POSTs real test images one after the other through Flask's WSGI stack and reports the
first request's time, the median of the others, the process's resident memory after loading and
after the requests, and whether a volume library (nibabel, pydicom, scipy) got imported on the way.
Why: a JPEG upload used to import nibabel + scipy on the first request (~0.4 s, ~17 MB per worker);
``--src`` runs the same measurement against another checkout (e.g. a ``git worktree`` of an older commit).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

from _common import REPO, common_args, labelled_images, machine, print_machine, table, write_json

CHILD = r"""
import io, json, sys, time
sys.path.insert(0, sys.argv[1])
def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS"):
            return int(line.split()[1]) / 1024
from braintumor.web import create_app
app = create_app(model_path=sys.argv[2], threads=1)
client = app.test_client()
paths = json.loads(sys.argv[3])
loaded = rss_mb()
times = []
for p in paths:
    data = open(p, "rb").read()
    t = time.perf_counter()
    r = client.post("/api/v1/predict", data={"file": (io.BytesIO(data), "scan.jpg")},
                    content_type="multipart/form-data")
    times.append((time.perf_counter() - t) * 1e3)
    assert r.status_code == 200, r.status_code
import braintumor
rest = sorted(times[1:])
print(json.dumps({"module": braintumor.__file__, "first_ms": times[0],
                  "rest_ms": rest[len(rest) // 2] if rest else None,
                  "rss_loaded_mb": loaded, "rss_after_mb": rss_mb(),
                  "volume_libs": sorted(m for m in ("nibabel", "pydicom", "scipy") if m in sys.modules)}))
"""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_args(ap)
    ap.add_argument("--runs", type=int, default=5, help="fresh processes")
    ap.add_argument("--requests", type=int, default=5, help="requests per process")
    ap.add_argument("--src", type=Path, default=REPO / "src", help="the braintumor source tree to measure")
    ap.add_argument("--model", type=Path, default=REPO / "models" / "braintumor-tumornet-s.onnx",
                    help="ONNX model (default: the shipped one)")
    args = ap.parse_args(argv)
    images = [str(p) for p, _ in labelled_images(args.data, limit=max(1, args.requests))][: args.requests]
    info = machine()
    runs = []
    for _ in range(args.runs):
        cmd = [sys.executable, "-c", CHILD, str(args.src.resolve()), str(args.model), json.dumps(images)]
        out = subprocess.run(cmd, capture_output=True, text=True, check=True)
        runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"\n## First requests of a fresh app process ({args.src}), "
          f"{args.runs} processes x {args.requests} requests\n")
    print_machine(info)
    med = {k: statistics.median(r[k] for r in runs) for k in ("first_ms", "rest_ms", "rss_loaded_mb", "rss_after_mb")}
    print(table(["first request ms", "later requests ms (median)", "RSS after loading MB", "RSS after the requests MB",
                 "volume libraries imported"],
                [[med["first_ms"], med["rest_ms"], med["rss_loaded_mb"], med["rss_after_mb"],
                  ", ".join(runs[0]["volume_libs"]) or "none"]]))
    print("\n(medians over the processes)")
    write_json(args.json, {"machine": info, "src": str(args.src), "runs": runs, "median": med})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
