#!/usr/bin/env python3
"""Does averaging over framings at test time help? Served crop against three head-box margins, logits averaged.

    python scripts/framing_check.py --model FILE --run RUN --set heldout|val [--margins 0.04 0.12 -0.02] [--json F]

Each slice is decoded as served, then cropped with each margin per side of the head box (0.04 is the served
crop; 0.12 shows the head ~0.87x as large, -0.02 ~1.12x) and run through the network. "served" is the first
margin's answer; "averaged" takes the mean of the logits over every margin, with the file's temperature. The
out-of-distribution verdict is the served one for both (a refused slice counts as wrong, as in
``held_out_source.py``). ``--set heldout``: the Training slices of the held-out storage mode that the run never
saw (a run trained with ``--hold-out-mode``); ``--set val``: the run's validation split. Testing is never read.
The rule this answers is in docs/RESULTS.md ("framing at test time").
"""

from __future__ import annotations

import argparse
import dataclasses
import json
from pathlib import Path

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)
import numpy as np
from _image_set import DATA_HELP, JSON_HELP, output_file
from held_out_source import run_sets, source_note  # scripts/ is on the path when a script runs

from braintumor.calibrate import network_outputs
from braintumor.data import DEFAULT_DATA_ROOT
from braintumor.file_names import utf8_document
from braintumor.image_io import decode_image
from braintumor.prediction import softmax
from braintumor.predictor import Classifier
from braintumor.preprocess import prepare
from braintumor.script_entry import run_script


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="the exported ONNX file of --run")
    ap.add_argument("--run", type=Path, required=True, help="the model's run folder (split.json)")
    ap.add_argument("--set", dest="which", choices=("heldout", "val"), required=True,
                    help="heldout: the Training slices of --mode the run never saw; val: the run's validation split")
    ap.add_argument("--margins", type=float, nargs="+", default=[0.04, 0.12, -0.02],
                    help="head-box margins per side; the first is the served crop")
    ap.add_argument("--mode", default="L", help="storage mode of the held-out source (default L: figshare)")
    ap.add_argument("--data", default=DEFAULT_DATA_ROOT, help=DATA_HELP)
    ap.add_argument("--json", type=output_file, help=JSON_HELP)
    args = ap.parse_args(argv)
    clf = Classifier.load(args.model)
    val, held_out = run_sets(args.run, args.data, args.mode)  # the held-out script's own choice of slices
    ds = val if args.which == "val" else held_out
    if args.which == "heldout" and (note := source_note(args.run, args.mode)):  # as held_out_source.py says it
        print(note)
    paths, y, classes = list(ds.paths), ds.labels, ds.classes
    if tuple(classes) != clf.classes:
        raise SystemExit(f"error: dataset classes {classes} differ from the model's {clf.classes}")
    size = clf.image_size
    grays = [decode_image(p, draft_size=2 * size)[0] for p in paths]
    logits = []
    for m in args.margins:
        config = dataclasses.replace(clf.preprocess_config, margin=m)
        logits.append(network_outputs(clf, np.stack([prepare(g, config) for g in grays]))[0])
    served = [p for _, p in clf.predict_many(paths)]
    refused = np.array([p.ood for p in served])
    served_label = np.array([clf.classes.index(p.label) if p.label else -1 for p in served])
    agree = int((served_label[~refused] == logits[0][~refused].argmax(1)).sum())
    rows = {}
    for name, z in (("served crop", logits[0]), *((f"margin {m:g} alone", z) for m, z in
                                                  zip(args.margins[1:], logits[1:], strict=True)),
                    ("averaged over " + ", ".join(f"{m:g}" for m in args.margins), np.mean(logits, axis=0))):
        pred = softmax(z, clf.temperature).argmax(1)
        right = (pred == y) & ~refused
        glioma = y == classes.index("glioma")
        rows[name] = {"correct": int(right.sum()), "n": len(y), "accuracy": float(right.mean()),
                      "network_correct": int((pred == y).sum()),
                      "glioma_recall": float(right[glioma].mean()) if glioma.any() else float("nan")}
    print(f"model {clf.path}; {args.which}: {len(y)} slices, {int(refused.sum())} refused by the served check; "
          f"served answers reproduced by the served crop's logits: {agree}/{int((~refused).sum())}")
    print("| logits | correct (refused = wrong) | accuracy | glioma recall | network alone (refusals ignored) |\n"
          "|---|---|---|---|---|")
    for name, r in rows.items():
        print(f"| {name} | {r['correct']}/{r['n']} | {r['accuracy']:.2%} | {r['glioma_recall']:.2%} | "
              f"{r['network_correct']}/{r['n']} |")
    if args.json:
        doc = {"model": str(clf.path), "set": args.which, "margins": args.margins, "refused": int(refused.sum()),
               "agree": agree, "rows": rows}
        Path(args.json).write_text(json.dumps(utf8_document(doc), indent=1))
    return 0


if __name__ == "__main__":
    run_script(main)
