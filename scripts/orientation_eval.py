"""Slices turned on their side or upside down: how many are refused, and how right the accepted ones are.

    python scripts/orientation_eval.py [--model FILE] [--data ROOT] [--split Testing | --run RUN] [--json out.json]

Each image of the split is decoded once (as the CLI decodes it), then classified as it is and in five copies: turned
90 degrees each way, turned 180 degrees, flipped upside down, mirrored left-right (all as arrays, so the copies and
the original go through the same in-memory path). ``--run RUN`` scores the validation images its split.json lists
instead (for design decisions, which Testing must not make). For each: refused for looking turned (the orientation
check, ``braintumor.orientation``), refused otherwise (not like a brain MRI slice), and the accuracy of the answers
given. Quoted in docs/RESULTS.md ("Slices on their side or upside down").
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)
import numpy as np
from _image_set import add_image_set_options, image_set

from braintumor.file_names import utf8_document
from braintumor.image_io import ImageError, read_image
from braintumor.orientation import TURN_ADVICE
from braintumor.predictor import Classifier
from braintumor.script_entry import run_script

COPIES = {
    "as given": lambda a: a,
    "turned 90 degrees anticlockwise": lambda a: np.rot90(a, 1),
    "turned 90 degrees clockwise": lambda a: np.rot90(a, 3),
    "turned 180 degrees": lambda a: np.rot90(a, 2),
    "flipped upside down": lambda a: a[::-1],
    "mirrored left-right": lambda a: a[:, ::-1],
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_image_set_options(ap)
    args = ap.parse_args()
    clf = Classifier.load(args.model)
    dataset = image_set(args)
    grays, labels = [], []
    for path, label in zip(dataset.paths, dataset.labels, strict=True):
        try:
            grays.append(read_image(path, draft_size=2 * clf.image_size))
            labels.append(dataset.classes[label])
        except ImageError as exc:
            print(f"skipped {path}: {exc}", file=sys.stderr)
    print(f"{clf.path}: {len(grays)} images of {dataset.root}; orientation check "
          f"{'on' if clf.turn_thresholds else 'absent'}")
    print(f"{'copy':<34} {'refused as turned':>18} {'refused otherwise':>18} {'answered':>9} {'right':>8}")
    rows = {}
    for name, make in COPIES.items():
        start = time.perf_counter()
        preds = [p for _, p in clf.predict_many(np.ascontiguousarray(make(g)) for g in grays)]
        turned = sum(1 for p in preds if p.ood and TURN_ADVICE in (p.reason or ""))
        other = sum(1 for p in preds if p.ood) - turned
        answered = [(p.label, y) for p, y in zip(preds, labels, strict=True) if not p.ood]
        right = sum(1 for got, want in answered if got == want)
        rows[name] = {"images": len(preds), "refused_turned": turned, "refused_otherwise": other,
                      "answered": len(answered), "answered_right": right,
                      "seconds": round(time.perf_counter() - start, 1)}
        n = len(preds)
        print(f"{name:<34} {turned:>5} ({turned / n:6.2%}) {other:>5} ({other / n:6.2%}) {len(answered):>9} "
              f"{right / max(1, len(answered)):8.2%}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(utf8_document({"model": str(clf.path), "split": str(dataset.root), "rows": rows}), fh, indent=1)
    return 0


if __name__ == "__main__":
    run_script(main)
