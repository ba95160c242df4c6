#!/usr/bin/env python3
"""How cost grows with input size (latency vs pixels) and with folder size (time, memory).

    python benchmarks/scaling.py [--sizes 128 256 512 1024 2048] [--folders 100 1000 10000] [--json out.json]

Part 1: real test images resized (bicubic) to each side length and encoded as JPEG (quality 90)
and PNG; end-to-end ``Classifier.predict`` on the encoded bytes (decode + preprocess + model),
median and p95 over --per-size images x --reps rounds, interleaved across sizes.
Part 2: folders of N test images (symbolic links, cycling through the 1311, in a temporary
folder) classified by ``braintumor predict DIR --format jsonl`` in a subprocess, its RSS sampled
every 0.1 s and its peak read from the kernel (wait4): memory must stay flat as N grows,
because predict streams (batches of 32, one output line per image).
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
from _common import REPO, common_args, labelled_images, machine, mb, percentile, print_machine, rss_bytes, table
from _common import write_json as _write_json
from PIL import Image

from braintumor.image_io import read_image
from braintumor.predictor import Classifier


def encode(img: Image.Image, size: int, fmt: str) -> bytes:
    buf = io.BytesIO()
    out = img.resize((size, size), Image.Resampling.BICUBIC)
    out.save(buf, format=fmt, **({"quality": 90} if fmt == "JPEG" else {}))
    return buf.getvalue()


def input_sizes(images: list[Path], sizes: list[int], reps: int) -> list[dict]:
    clf = Classifier.load()
    draft = 2 * clf.image_size
    sources = [Image.open(p).convert("L") for p in images]
    cases = {(s, f): [encode(img, s, f) for img in sources] for s in sizes for f in ("JPEG", "PNG")}
    total: dict[tuple[int, str], list[float]] = {k: [] for k in cases}
    decode: dict[tuple[int, str], list[float]] = {k: [] for k in cases}
    clf.predict(cases[next(iter(cases))][0])  # warm-up
    for _ in range(reps):
        for key, datas in cases.items():
            for d in datas:
                t = time.perf_counter()
                read_image(d, draft_size=draft)
                t1 = time.perf_counter()
                clf.predict(d)
                t2 = time.perf_counter()
                decode[key].append((t1 - t) * 1e3)
                total[key].append((t2 - t1) * 1e3)
    return [{"side": s, "format": f, "kb": float(np.mean([len(d) for d in cases[(s, f)]])) / 1024,
             "decode_p50_ms": percentile(decode[(s, f)], 0.5), "p50_ms": percentile(total[(s, f)], 0.5),
             "p95_ms": percentile(total[(s, f)], 0.95)} for s, f in cases]


def folder_run(pool: list[Path], n: int, threads: int | None) -> dict:
    with tempfile.TemporaryDirectory(prefix="bt-scale-") as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        for i in range(n):
            src = pool[i % len(pool)]
            (folder / f"img{i:06d}{src.suffix}").symlink_to(src)
        cmd = [sys.executable, "-m", "braintumor", "predict", str(folder), "--format", "jsonl", "--no-progress"]
        cmd += ["--threads", str(threads)] if threads else []
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(REPO / "src"),
                                                                        os.environ.get("PYTHONPATH")])))
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        lines = [0]

        def count() -> None:
            for _ in proc.stdout:
                lines[0] += 1

        reader = threading.Thread(target=count, daemon=True)
        reader.start()
        samples: list[tuple[float, int]] = []
        status, usage = 0, None
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            rss = rss_bytes(proc.pid).get(proc.pid)
            if rss:
                samples.append((time.perf_counter() - t0, rss))
            time.sleep(0.1)
        seconds = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        reader.join(10)
    rss_at = {}
    for frac in (0.25, 0.5, 0.9):
        late = [r for t, r in samples if t >= frac * seconds]
        rss_at[frac] = late[0] if late else None
    return {"images": n, "seconds": seconds, "images_per_s": n / seconds, "exit_code": proc.returncode,
            "lines": lines[0], "peak_rss": usage.ru_maxrss * 1024, "rss_25": rss_at[0.25], "rss_50": rss_at[0.5],
            "rss_90": rss_at[0.9]}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--sizes", type=int, nargs="*", default=[128, 256, 512, 1024, 2048],
                    help="image sides in pixels for part 1 (none: skip it)")
    ap.add_argument("--per-size", type=int, default=8, help="images per size and format (2 per class)")
    ap.add_argument("--reps", type=int, default=5, help="rounds over those images (default %(default)s)")
    ap.add_argument("--folders", type=int, nargs="*", default=[100, 1000, 10000],
                    help="folder sizes in images for part 2 (none: skip it)")
    ap.add_argument("--threads", type=int, default=None, help="passed to braintumor predict --threads")
    args = ap.parse_args(argv)
    info = machine()
    all_images = [p for p, _ in labelled_images(args.data)]
    doc: dict = {"machine": info}
    print(f"\n## Scaling: input size {args.sizes}, folder size {args.folders}\n")
    if args.sizes:
        picks = [p for p, _ in labelled_images(args.data, limit=max(1, args.per_size // 4))][: args.per_size]
        rows = input_sizes(picks, args.sizes, args.reps)
        doc["input_sizes"] = rows
    if args.folders:
        runs = []
        for n in args.folders:
            print(f"[scaling] folder of {n} images ...", file=sys.stderr, flush=True)
            runs.append(folder_run(all_images, n, args.threads))
        doc["folders"] = runs
    print_machine(info)
    if args.sizes:
        print(f"### Latency vs input size ({len(picks)} real test images resized, x {args.reps} rounds)\n")
        print(table(["side px", "format", "file KB", "decode p50 ms", "predict p50 ms", "predict p95 ms"],
                    [[r["side"], r["format"], r["kb"], r["decode_p50_ms"], r["p50_ms"], r["p95_ms"]] for r in rows],
                    digits=2))
    if args.folders:
        print("\n### `braintumor predict FOLDER --format jsonl`: time and memory vs folder size\n")
        print(table(["images", "lines out", "exit", "seconds", "images/s", "peak RSS MB", "RSS MB at 25 %",
                     "RSS MB at 50 %", "RSS MB at 90 % of the run"],
                    [[r["images"], r["lines"], r["exit_code"], r["seconds"], r["images_per_s"], mb(r["peak_rss"]),
                      mb(r["rss_25"]), mb(r["rss_50"]), mb(r["rss_90"])] for r in runs]))
        peaks = [r["peak_rss"] for r in runs]
        spread = 100.0 * (max(peaks) - min(peaks)) / min(peaks)
        print(f"\npeak RSS spread across folder sizes: {spread:.1f} % (constant memory: a few % at most)")
        doc["peak_rss_spread_pct"] = spread
    _write_json(args.json, doc)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
