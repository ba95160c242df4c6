#!/usr/bin/env python3
"""Where an ONNX file's network time goes: ONNX Runtime's own per-operator profile, batch 1.

    python benchmarks/ort_profile.py [--model M ...] [--threads 1] [--runs 1000] [--json out.json]

Runs each model ``--runs`` times on one random 160 px input with ORT's profiler on and sums the kernel
time per operator type, then lists the convolutions one by one (output shape and time). Profiling
slows every kernel, so read the shares, not the absolute times (``int8_check.py`` and ``latency.py``
time the networks without it). Why: it told which part of the int8 graph to look at (docs/PERFORMANCE.md).
"""

from __future__ import annotations

import argparse
import collections
import json
import tempfile
from pathlib import Path

import numpy as np
import onnxruntime as ort
from _common import REPO, machine, print_machine, table, write_json

from braintumor.predictor import Classifier
from braintumor.sessions import disabled_optimizers, session_options


def profile(model: Path, threads: int, runs: int) -> dict:
    clf = Classifier.load(model, threads=1)
    size = clf.image_size
    opts = session_options(threads)
    opts.enable_profiling = True
    with tempfile.TemporaryDirectory() as tmp:
        opts.profile_file_prefix = str(Path(tmp) / "ort")
        sess = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"],
                                    disabled_optimizers=disabled_optimizers(clf.metadata))  # as Classifier.load
        x = np.random.default_rng(0).random((1, 1, size, size), dtype=np.float32)
        name = sess.get_inputs()[0].name
        for _ in range(runs):
            sess.run(None, {name: x})
        events = json.loads(Path(sess.end_profiling()).read_text())
    by_op: collections.Counter = collections.Counter()
    convs: dict[str, list] = {}
    for e in events:
        if e.get("cat") != "Node" or not e["name"].endswith("_kernel_time"):
            continue
        op = e["args"]["op_name"]
        by_op[op] += e["dur"]
        if "Conv" in op:
            shape = next(iter(e["args"].get("output_type_shape", [{}])[0].values()), None)
            convs.setdefault(e["name"].removesuffix("_kernel_time"), [op, shape, 0])[2] += e["dur"]
    total = sum(by_op.values())
    return {"model": model.name, "kernel_us_per_run": total / runs,
            "by_op": [[op, us / runs, 100 * us / total] for op, us in by_op.most_common()],
            "convs": sorted(([n, op, str(shape), us / runs] for n, (op, shape, us) in convs.items()),
                            key=lambda r: -r[3])}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, nargs="+", default=[REPO / "models" / "braintumor-tumornet-s.onnx",
                                                              REPO / "models" / "braintumor-tumornet-s-int8.onnx"],
                    help="ONNX models (default: the shipped file and its int8 copy)")
    ap.add_argument("--threads", type=int, default=1, help="intra-op threads (1: what a server worker runs)")
    ap.add_argument("--runs", type=int, default=1000, help="profiled runs per model (default %(default)s)")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = ap.parse_args(argv)
    info = machine()
    results = [profile(m, args.threads, args.runs) for m in args.model]
    print(f"\n## ONNX Runtime profile, batch 1, {args.threads} thread(s), {args.runs} runs\n")
    print_machine(info)
    for r in results:
        print(f"\n### {r['model']}: {r['kernel_us_per_run']:.0f} us of kernels per run (profiled)\n")
        print(table(["operator", "us per run", "share %"], r["by_op"], digits=1))
        print()
        print(table(["convolution", "kernel", "output shape", "us per run"], r["convs"], digits=1))
    write_json(args.json, {"machine": info, "threads": args.threads, "runs": args.runs, "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
