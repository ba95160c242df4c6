"""Out-of-distribution refusal report: AUROC and refusal rates (quoted in docs/RESULTS.md).

    python scripts/ood_eval.py [--model FILE] [--data ROOT] [--json out.json]

In-distribution: the official Testing split (real MRI; refusing one is a false alarm).
Out-of-distribution: braintumor.ood_samples (package sample images, documents, synthetic frames).
The score is the Classifier's own ``ood_score`` (input checks count as infinitely far).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)
import numpy as np
from _image_set import DATA_HELP, JSON_HELP, MODEL_HELP, output_file

from braintumor.data import DEFAULT_DATA_ROOT, load_dataset
from braintumor.file_names import utf8_document
from braintumor.image_io import MIN_SIDE, ImageError
from braintumor.metrics import roc_auc
from braintumor.ood_samples import matplotlib_mri_slice, missing_sources, ood_samples
from braintumor.predictor import Classifier
from braintumor.script_entry import run_script


def refused(pred) -> bool:
    """Refused as unlike brain MRI, or refused by the reader (an image under ``image_io.MIN_SIDE``: an ImageError)."""
    return isinstance(pred, Exception) or bool(pred.ood)


def refusal_score(pred) -> float:
    if isinstance(pred, Exception):
        return float("inf")  # refused before the network by the reader (too small)
    if pred.ood and pred.reason and "features" not in pred.reason:
        return float("inf")  # refused by an input check before the network
    return float(pred.ood_score)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help=MODEL_HELP)
    ap.add_argument("--data", default=DEFAULT_DATA_ROOT, help=DATA_HELP)
    ap.add_argument("--json", type=output_file, help=JSON_HELP)
    args = ap.parse_args()
    clf = Classifier.load(args.model)
    if clf.ood is None:
        print("error: this model has no OOD statistics (run braintumor calibrate)", file=sys.stderr)
        return 2
    test = load_dataset(args.data, "Testing")
    id_preds = [p for _, p in clf.predict_many(test.paths) if not isinstance(p, Exception)]
    samples = ood_samples()
    if missing := missing_sources():
        print(f"note: {' and '.join(missing)} not installed: the out-of-distribution set lacks their sample images "
              f"({len(samples)} images; docs/RESULTS.md's figures hold them): pip install -e \".[eval,dev]\"",
              file=sys.stderr)
    ood_preds = [p for _, p in clf.predict_many([s.data for s in samples])]
    id_s = np.array([refusal_score(p) for p in id_preds])
    od_s = np.array([refusal_score(p) for p in ood_preds])
    finite_max = np.nanmax(np.concatenate([id_s, od_s])[np.isfinite(np.concatenate([id_s, od_s]))])
    y = np.r_[np.zeros(len(id_s)), np.ones(len(od_s))]
    auroc = roc_auc(y, np.nan_to_num(np.r_[id_s, od_s], posinf=finite_max * 10))
    rows = [("MRI Testing split (in-distribution)", len(id_preds), sum(p.ood for p in id_preds))]
    by_cat: dict[str, list] = defaultdict(list)
    for s, p in zip(samples, ood_preds, strict=True):
        by_cat[s.category].append((s.name, p))
    for cat, items in by_cat.items():
        rows.append((cat, len(items), sum(refused(p) for _, p in items)))
    rows.append(("all OOD", len(ood_preds), sum(refused(p) for p in ood_preds)))
    print(f"model {clf.path}  threshold {clf.ood.threshold:.3f}  AUROC (Testing vs OOD) {auroc:.4f}")
    print(f"{'set':<40} {'n':>5} {'refused':>8} {'rate':>8}")
    for name, n, r in rows:
        print(f"{name:<40} {n:>5} {r:>8} {r / n:>8.2%}")
    small = sum(isinstance(p, ImageError) for p in ood_preds)
    print(f"of the OOD refusals, by the reader before the network (under {MIN_SIDE} x {MIN_SIDE} pixels): {small}")
    missed = [(c, n) for c, items in by_cat.items() for n, p in items if not refused(p)]
    if missed:
        print("accepted OOD samples: " + ", ".join(f"{n} ({c})" for c, n in missed))
    mri = matplotlib_mri_slice()
    if mri is not None:
        p = clf.predict(mri)
        print(f"external brain MRI (matplotlib s1045.ima): ood={p.ood} score={p.ood_score} label={p.label}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(utf8_document({"auroc": auroc, "rows": rows, "missed": missed, "refused_by_reader": small}), f,
                      indent=1)
    return 0


if __name__ == "__main__":
    run_script(main)
