#!/usr/bin/env python3
"""Would an int8 copy of the shipped model be worth shipping? Speed, size and validation accuracy.

    python benchmarks/int8_check.py [--run models] [--calibration all|N] [--sample stride|random] [--seed S]
                                    [--method minmax|entropy|percentile] [--ops Conv[,Relu,...]] [--int8-stem]
                                    [--rounds 300] [--json out.json]

Quantises the shipped ONNX file as ``braintumor quantize`` does (``quantize.quantize_network``: QDQ,
per-channel int8 weights, uint8 activations, convolutions only, the first left in float), with its activation
ranges measured on the run's *training* images: all of them (what ``braintumor quantize`` uses), or N of them,
every k-th (``--sample stride``) or a seeded random sample. Then times both networks interleaved (batch 1, one
thread: what a server worker runs) and scores both on the run's *validation* split: correct answers,
answers changed by int8, and the NLL after each file's own fitted temperature. The Testing split is not
used: this decides an optimisation. Repeating it over samples shows how much the choice of calibration
images alone moves the result (docs/PERFORMANCE.md, sixth round).
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from _common import REPO, common_args, machine, print_machine, table, write_json

from braintumor.classes import CLASSES
from braintumor.data import DatasetError
from braintumor.ood import fit_temperature
from braintumor.prediction import softmax
from braintumor.predictor import Classifier
from braintumor.preprocess import prepare, preprocess
from braintumor.quantize import METHODS, QDQ_PROPAGATION, quantize_network
from braintumor.run_split import read_split
from braintumor.script_entry import run_script
from braintumor.sessions import session_options


def _nll(logits: np.ndarray, labels: np.ndarray) -> float:
    p = softmax(logits, fit_temperature(logits, labels))
    return float(-np.log(p[np.arange(len(labels)), labels] + 1e-12).mean())


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_args(ap)
    ap.add_argument("--model", type=Path, default=REPO / "models" / "braintumor-tumornet-s.onnx",
                    help="the float ONNX model to quantise (default: the shipped one)")
    ap.add_argument("--run", type=Path, default=REPO / "models",
                    help="the training run (or models/): its split.json names the images")
    ap.add_argument("--calibration", default="all", help="training images for the activation ranges: all, or N")
    ap.add_argument("--sample", choices=("stride", "random"), default="stride", help="which N (ignored for all)")
    ap.add_argument("--seed", type=int, default=0, help="of --sample random")
    ap.add_argument("--method", choices=METHODS, default="minmax",
                    help="how the activation ranges are set from those images (default %(default)s, as shipped)")
    ap.add_argument("--ops", default="Conv", help="comma-separated ONNX operators to quantise (shipped: Conv; "
                    "e.g. Conv,Relu,Add,MaxPool also quantises the activations around them)")
    ap.add_argument("--int8-stem", action="store_true", help="quantise the first convolution too (the int8 "
                    "file before 2026-11-28 afternoon); by default it stays float, as in `braintumor quantize`, and "
                    "the int8 session runs without ORT's QDQPropagationTransformer, which would move the max-pool "
                    "after it into a slow uint8 NCHW kernel")
    ap.add_argument("--rounds", type=int, default=300, help="timed rounds; the first 10 warm up and are dropped")
    args = ap.parse_args(argv)
    if args.rounds <= 10:  # the median of nothing printed nan
        ap.error("--rounds must be more than 10 (the first 10 warm up and are not timed)")
    clf = Classifier.load(args.model, threads=1)
    split = read_split(args.run)
    train_root = Path(args.data) / "Training"
    cfg = clf.preprocess_config
    names = split["train"]
    missing = next((p for p in (*names, *split["val"]) if not (train_root / p).is_file()), None)
    if missing is not None:  # was "file not found: .../Tr-gl_0709.jpg", with no word of --data
        raise DatasetError(f"the run's images are not under --data {args.data}: {train_root / missing} is missing "
                           f"(--data takes the dataset {args.run}/split.json was drawn from)")
    if args.calibration != "all":
        n = int(args.calibration)
        if args.sample == "stride":
            names = names[::max(1, len(names) // n)][:n]
        else:
            names = [names[i] for i in np.random.default_rng(args.seed).permutation(len(names))[:n]]
    calib = np.stack([prepare(train_root / p, cfg) for p in names])
    val = np.stack([preprocess(train_root / p, cfg) for p in split["val"]])
    labels = np.array([CLASSES.index(p.split("/")[0]) for p in split["val"]])
    name = clf.session.get_inputs()[0].name

    info = machine()
    with tempfile.TemporaryDirectory() as tmp:
        q8 = Path(tmp) / "int8.onnx"
        quantize_network(args.model, q8, calib, args.method, tuple(args.ops.split(",")), not args.int8_stem)
        disabled = None if args.int8_stem else [QDQ_PROPAGATION]
        sessions = {"float32 (shipped)": (args.model, ort.InferenceSession(str(args.model), session_options(1))),
                    "int8": (q8, ort.InferenceSession(str(q8), session_options(1), disabled_optimizers=disabled))}
        x = val[:1]
        times: dict[str, list[float]] = {k: [] for k in sessions}
        for r in range(args.rounds):
            for k in (list(sessions) if r % 2 else list(sessions)[::-1]):
                t = time.perf_counter()
                sessions[k][1].run(["logits"], {name: x})
                times[k].append((time.perf_counter() - t) * 1e3)
        rows, preds = [], {}
        for k, (path, sess) in sessions.items():
            logits = np.concatenate([sess.run(["logits"], {name: val[i:i + 64]})[0] for i in range(0, len(val), 64)])
            preds[k] = logits.argmax(axis=1)
            ms = float(np.median(times[k][10:]))
            rows.append([k, path.stat().st_size / 1e6, ms, f"{int((preds[k] == labels).sum())}/{len(labels)}",
                         _nll(logits, labels)])
    base = rows[0][2]
    for row in rows:
        row.append(base / row[2])
    changed = int((preds["int8"] != preds["float32 (shipped)"]).sum())
    wrong = np.flatnonzero(preds["int8"] != labels).tolist()
    how = "all" if args.calibration == "all" else f"{len(names)} ({args.sample}" + (
        f", seed {args.seed})" if args.sample == "random" else ")")
    print(f"\n## int8 check: {args.model.name}, validation split of {args.run} ({len(labels)} images)\n")
    print_machine(info)
    print(f"activation ranges: {args.method}, training images: {how}; quantised operators: {args.ops}"
          + ("; first convolution int8 too\n" if args.int8_stem else "; first convolution float\n"))
    print(table(["network", "file MB", "median ms (batch 1, 1 thread)", "validation correct",
                 "val NLL (own temperature)", "speed"], rows, digits=4))
    print(f"\nvalidation predictions changed by int8: {changed}; int8 wrong on validation images {wrong}")
    write_json(args.json, {"machine": info, "rows": rows, "changed": changed, "calibration_images": len(names),
                           "sample": how, "method": args.method, "ops": args.ops, "int8_stem": args.int8_stem,
                           "int8_wrong": wrong})
    return 0


if __name__ == "__main__":
    run_script(main)
