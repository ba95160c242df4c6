#!/usr/bin/env python3
"""Does a rerun reproduce a run? Its training log epoch by epoch, and its exported file's logits.

    python scripts/compare_runs.py --logs models/training-log.jsonl RUN/metrics.jsonl
    python scripts/compare_runs.py --models models/braintumor-tumornet-s.onnx RUN/model.onnx --run models

Why: docs/RESULTS.md says its rows reproduce with their commands. A rerun on the same kind of CPU, with the same
seed and code, should draw the same numbers; this prints where two runs part, if they do. Logs are compared on every
key but the epoch's wall time. Models are compared by what they compute, not by their bytes (an export made by a
later version of the code may name or order its tensors differently): the raw logits of both files on the
validation images listed in ``--run``'s split.json (never Testing). Exit status 0 when both match, 1 when they
differ, 2 when a file cannot be read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)

from braintumor.training_curves import read_training_log

#: Keys that differ between two identical runs (wall time).
TIMING_KEYS = frozenset({"epoch_seconds"})


def compare_logs(a: list[dict], b: list[dict]) -> tuple[int, str | None]:
    """(epochs equal on every key both logs have but the timing ones, description of the first difference or None).

    Keys only one log has are not compared: a later version of the trainer logs more (``image_size``)."""
    for n, (ra, rb) in enumerate(zip(a, b, strict=False)):
        keys = (set(ra) & set(rb)) - TIMING_KEYS
        diff = sorted(k for k in keys if ra.get(k) != rb.get(k))
        if diff:
            shown = ", ".join(f"{k}: {ra.get(k)!r} vs {rb.get(k)!r}" for k in diff[:4])
            return n, f"epoch {ra.get('epoch', n + 1)} differs ({shown})"
    if len(a) != len(b):
        return min(len(a), len(b)), f"one log has {len(a)} epochs, the other {len(b)}"
    return len(a), None


def compare_models(model_a: Path, model_b: Path, run: Path, data: str | None = None) -> tuple[float, int, int]:
    """(largest absolute logit difference, images whose top class differs, images) on the run's validation split,
    read and prepared as `braintumor calibrate` reads them (through the run's preprocessing cache)."""
    import numpy as np

    from braintumor.calibrate import network_outputs
    from braintumor.predictor import Classifier
    from braintumor.run_split import prepared_run_images

    clf_a, clf_b = Classifier.load(model_a, threads=1), Classifier.load(model_b, threads=1)
    a, b = clf_a.preprocess_config.to_dict(), clf_b.preprocess_config.to_dict()
    if a != b:  # which setting, said: docs/TRAINING.md's rerun differs by the background percentile calibrate sets
        differ = "; ".join(f"{key} {a.get(key)} against {b.get(key)}" for key in sorted({*a, *b})
                           if a.get(key) != b.get(key))
        raise ValueError(f"the two files preprocess differently ({differ}): their logits cannot be compared image "
                         "for image")
    images, _, is_val = prepared_run_images(clf_a, run, data)
    crops = images[is_val]
    la, lb = network_outputs(clf_a, crops)[0], network_outputs(clf_b, crops)[0]
    return float(np.abs(la - lb).max()), int((la.argmax(1) != lb.argmax(1)).sum()), len(crops)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--logs", nargs=2, type=Path, metavar=("A", "B"), help="two metrics.jsonl training logs")
    ap.add_argument("--models", nargs=2, type=Path, metavar=("A", "B"), help="two exported ONNX files")
    ap.add_argument("--run", type=Path, help="run folder whose split.json lists the validation images (--models)")
    ap.add_argument("--data", default=None, help="Training folder, if not the one split.json names (--models)")
    ap.add_argument("--tolerance", type=float, default=0.0, help="largest logit difference that still counts as equal")
    args = ap.parse_args(argv)
    if not args.logs and not args.models:
        ap.error("give --logs, --models or both")
    if args.models and not args.run:
        ap.error("--models needs --run (its split.json names the validation images)")
    same = True
    try:
        if args.logs:
            a, b = read_training_log(args.logs[0]), read_training_log(args.logs[1])
            equal, first = compare_logs(a, b)
            print(f"training logs: {equal} of {max(len(a), len(b))} epochs equal "
                  "on every key both logs have but the wall time")
            if first:
                print(f"  first difference: {first}")
                same = False
        if args.models:
            largest, disagree, n = compare_models(args.models[0], args.models[1], args.run, args.data)
            print(f"models on {n} validation images: largest logit difference {largest:.3g}, "
                  f"top class differs on {disagree}")
            same = same and largest <= args.tolerance and disagree == 0
    except (OSError, ValueError, KeyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
