#!/usr/bin/env python3
"""Would an int8 copy of the shipped model be worth shipping? Speed, size and validation accuracy.

    python benchmarks/int8_check.py [--run runs/tumornet-s-160] [--calibration 150] [--rounds 300] [--json out.json]

Quantises the shipped ONNX file with ONNX Runtime's static quantisation (QDQ, per-channel int8
weights, uint8 activations, convolutions only), calibrated on images of the run's *training* split;
then times both networks interleaved (batch 1, one thread: what a server worker runs) and scores
both on the run's *validation* split. The Testing split is not used: this decides an optimisation.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
from _common import REPO, common_args, machine, print_machine, table, write_json

from braintumor.classes import CLASSES
from braintumor.predictor import Classifier, session_options
from braintumor.preprocess import preprocess


def main(argv: list[str] | None = None) -> int:
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    common_args(ap)
    ap.add_argument("--model", type=Path, default=REPO / "models" / "braintumor-tumornet-s.onnx")
    ap.add_argument("--run", type=Path, default=REPO / "runs" / "tumornet-s-160",
                    help="the training run: its split.json names the images")
    ap.add_argument("--calibration", type=int, default=150, help="training images for the activation ranges")
    ap.add_argument("--rounds", type=int, default=300)
    args = ap.parse_args(argv)
    clf = Classifier.load(args.model, threads=1)
    split = json.loads((args.run / "split.json").read_text())
    train_root = Path(args.data) / "Training"
    cfg = clf.preprocess_config
    step = max(1, len(split["train"]) // args.calibration)
    calib = [preprocess(train_root / p, cfg)[None] for p in split["train"][::step][: args.calibration]]
    val = np.stack([preprocess(train_root / p, cfg) for p in split["val"]])
    labels = np.array([CLASSES.index(p.split("/")[0]) for p in split["val"]])
    name = clf.session.get_inputs()[0].name

    class Reader(CalibrationDataReader):
        def __init__(self) -> None:
            self.items = iter(calib)

        def get_next(self) -> dict | None:
            x = next(self.items, None)
            return None if x is None else {name: x}

    info = machine()
    with tempfile.TemporaryDirectory() as tmp:
        pre, q8 = Path(tmp) / "pre.onnx", Path(tmp) / "int8.onnx"
        quant_pre_process(str(args.model), str(pre), skip_symbolic_shape=True)
        quantize_static(str(pre), str(q8), Reader(), quant_format=QuantFormat.QDQ, per_channel=True,
                        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, op_types_to_quantize=["Conv"])
        sessions = {"float32 (shipped)": (args.model, ort.InferenceSession(str(args.model), session_options(1))),
                    "int8": (q8, ort.InferenceSession(str(q8), session_options(1)))}
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
            rows.append([k, path.stat().st_size / 1e6, ms, f"{int((preds[k] == labels).sum())}/{len(labels)}"])
    base = rows[0][2]
    for row in rows:
        row.append(base / row[2])
    changed = int((preds["int8"] != preds["float32 (shipped)"]).sum())
    print(f"\n## int8 check: {args.model.name}, validation split of {args.run} ({len(labels)} images)\n")
    print_machine(info)
    print(table(["network", "file MB", "median ms (batch 1, 1 thread)", "validation correct", "speed"], rows, digits=3))
    print(f"\nvalidation predictions changed by int8: {changed}")
    write_json(args.json, {"machine": info, "rows": rows, "changed": changed, "calibration_images": len(calib)})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
