#!/usr/bin/env python3
"""Which model file predicts faster end to end? Interleaved A/B of ``Classifier.predict`` on the same images.

    python benchmarks/ab_models.py MODEL_A MODEL_B [...] [--rounds 10] [--limit 50] [--threads N] [--json out.json]

Each round gives every model one block of the same test images (read + decode + preprocess + network +
OOD check, as ``latency.py``'s predict column), in a rotating order, so drift in CPU speed (this virtual
machine's cores switch between two speeds, docs/PERFORMANCE.md) hits all files alike. Prints each file's
median and p95 over all rounds and its ratio to the first. Why: separate ``latency.py`` runs of two files
differ by more than the files do; this is how a file change is judged on speed.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
from _common import common_args, labelled_images, machine, percentile, print_machine, table, write_json

from braintumor.predictor import Classifier


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_args(ap)
    ap.add_argument("models", type=Path, nargs="+", help="ONNX files, timed in turn; the first is the 1.00x baseline")
    ap.add_argument("--rounds", type=int, default=10, help="interleaved rounds over the images (default %(default)s)")
    ap.add_argument("--limit", type=int, default=50, help="test images per class in each block")
    ap.add_argument("--threads", type=int, default=None, help="intra-op threads (default: Classifier.load's)")
    args = ap.parse_args(argv)
    info = machine()
    data = [p.read_bytes() for p, _ in labelled_images(args.data, "Testing", args.limit)]
    clfs = [Classifier.load(m, threads=args.threads) for m in args.models]
    for clf in clfs:  # warm-up
        for d in data[:10]:
            clf.predict(d)
    times: list[list[float]] = [[] for _ in clfs]
    for r in range(args.rounds):
        for k in np.roll(np.arange(len(clfs)), r):
            for d in data:
                t = time.perf_counter()
                clfs[k].predict(d)
                times[k].append((time.perf_counter() - t) * 1e3)
    p50 = [percentile(t, 0.5) for t in times]
    rows = [[m.name, p50[i], percentile(times[i], 0.95), p50[0] / p50[i]] for i, m in enumerate(args.models)]
    print(f"\n## End-to-end predict, {len(data)} test images x {args.rounds} rounds, interleaved\n")
    print_machine(info)
    print(table(["model", "predict p50 ms", "p95 ms", "speed vs first"], rows, digits=3))
    write_json(args.json, {"machine": info, "rows": rows, "rounds": args.rounds, "images": len(data)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
