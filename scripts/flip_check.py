#!/usr/bin/env python3
"""Do test-time horizontal flips help? Validation only: plain, mirrored and flip-averaged logits.

    python scripts/flip_check.py [--model models/braintumor-tumornet-s.onnx ...] [--run models]

Scores each model on its run's validation split (``split.json`` of ``--run``): correct answers and the
NLL after a temperature fitted on that split's own logits (as ``braintumor calibrate`` does). The
Testing split is not read: this decides whether flips are used (docs/RESULTS.md).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)
import numpy as np

from braintumor.calibrate import network_outputs
from braintumor.ood import fit_temperature
from braintumor.prediction import softmax
from braintumor.predictor import Classifier
from braintumor.run_split import prepared_run_images
from braintumor.script_entry import run_script

REPO = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", type=Path, nargs="+", default=[REPO / "models" / "braintumor-tumornet-s.onnx",
                                                              REPO / "models" / "braintumor-tumornet-s-int8.onnx"],
                    help="ONNX models (default: the shipped file and its int8 copy)")
    ap.add_argument("--run", type=Path, default=REPO / "models", help="run folder (or models/) with split.json")
    ap.add_argument("--data", default=None, help="Training folder, if not the one split.json names")
    args = ap.parse_args(argv)
    print("| model | logits | validation correct | calibrated NLL |\n|---|---|---|---|")
    for model in args.model:
        clf = Classifier.load(model)
        images, full, is_val = prepared_run_images(clf, args.run, args.data)
        val = np.flatnonzero(is_val)
        y = full.labels[val]
        crops = images[val]
        plain = network_outputs(clf, crops)[0]
        mirrored = network_outputs(clf, np.ascontiguousarray(crops[..., ::-1]))[0]
        for name, logits in (("plain", plain), ("mirrored", mirrored), ("flip-averaged", (plain + mirrored) / 2)):
            p = softmax(logits, fit_temperature(logits, y))
            nll = float(-np.log(p[np.arange(len(y)), y] + 1e-12).mean())
            print(f"| {model.name} | {name} | {int((p.argmax(1) == y).sum())}/{len(y)} | {nll:.4f} |")
    return 0


if __name__ == "__main__":
    run_script(main)
