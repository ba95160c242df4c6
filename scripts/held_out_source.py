"""A source the network never saw: accuracy and refusals on it (quoted in docs/RESULTS.md).

    python scripts/held_out_source.py --model FILE --run RUN [--mode L] [--testing] [--json out.json]

This dataset does not label its sources, but the JPEG storage mode does: grayscale (L) files are almost all
the figshare set, RGB ones SARTAJ and Br35H (``braintumor.data_splits.split_by_mode``). A run trained with
``braintumor train --hold-out-mode L`` never saw the L images of Training, neither to train nor to validate,
so they are a held-out source that decisions may be taken on (Testing is only reported, with ``--testing``).
Scored through the normal path (decode, preprocessing, model, out-of-distribution check); "accuracy" counts a
refused image as wrong. For each set it also prints whether the shown confidence still means what it says (ECE of
the accepted answers, their accuracy per band of shown confidence, and what flagging the answers under
``prediction.REVIEW_BELOW`` catches), and how the refusal threshold trades refused held-out slices against the
non-MRI images of ``braintumor.ood_samples`` that get through.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)
import numpy as np
from _image_set import DATA_HELP, JSON_HELP, MODEL_HELP, output_file
from ood_eval import refusal_score  # scripts/ is on the path when a script runs

from braintumor.data import DEFAULT_DATA_ROOT, Dataset, DatasetError, load_dataset
from braintumor.data_splits import split_by_mode
from braintumor.file_names import utf8_document
from braintumor.metrics import expected_calibration_error, percent, review_summary
from braintumor.ood_samples import ood_samples
from braintumor.prediction import REVIEW_BELOW
from braintumor.predictor import Classifier
from braintumor.run_split import read_split
from braintumor.script_entry import run_script
from braintumor.wording import LOWER_CONFIDENCE, review_below_text

#: (name, lowest, highest) shown confidence of an accepted answer.
CONFIDENCE_BANDS = (("< 90 %", 0.0, 0.9), ("90-99 %", 0.9, 0.99), (">= 99 %", 0.99, 1.01))


def score_set(clf: Classifier, ds: Dataset) -> dict:
    """Accuracy, refusals and per-class recall of ``clf`` on ``ds``, plus every OOD score."""
    preds = [p for _, p in clf.predict_many(ds.paths)]
    bad = [str(ds.paths[i]) for i, p in enumerate(preds) if isinstance(p, Exception)]
    if bad:
        raise SystemExit(f"error: {len(bad)} unreadable images, e.g. {bad[0]}")
    label = np.array([ds.classes.index(p.label) if p.label else -1 for p in preds])
    refused = np.array([p.ood for p in preds])
    right = label == ds.labels
    per_class = {}
    for c, name in enumerate(ds.classes):
        m = ds.labels == c
        if m.any():
            wrong = m & ~right & ~refused
            called = {ds.classes[k]: int((label[wrong] == k).sum()) for k in range(len(ds.classes))}
            per_class[name] = {"n": int(m.sum()), "recall": float(right[m].mean()), "refused": float(refused[m].mean()),
                               "called": {k: v for k, v in called.items() if v}}
    accepted = ~refused
    conf = np.array([p.confidence if p.confidence is not None else np.nan for p in preds])
    bands = {}  # does the shown confidence still mean what it says on a source the model never saw?
    for name, lo, hi in CONFIDENCE_BANDS:
        m = accepted & (conf >= lo) & (conf < hi)
        # None where a band is empty (a small run's answers all under 90 %): its "nan%" was printed, and --json
        # wrote NaN, which is not JSON
        bands[name] = {"n": int(m.sum()), "accuracy": float(right[m].mean()) if m.any() else None,
                       "mean_confidence": float(conf[m].mean()) if m.any() else None}
    review = review_summary(conf, right, accepted, REVIEW_BELOW)
    return {"n": len(ds), "accuracy": float(right.mean()), "refused": float(refused.mean()), "review": review,
            "accuracy_accepted": float(right[accepted].mean()) if accepted.any() else None,
            "ece_accepted": float(expected_calibration_error(conf[accepted], right[accepted])) if accepted.any()
            else None,
            "confidence_bands": bands, "per_class": per_class, "scores": [json_score(p) for p in preds]}


def json_score(pred: object) -> float | None:
    """The refusal score, None for an image refused before the network: its score is infinite, and --json wrote
    Infinity, which is not JSON (jq, JavaScript's JSON.parse and strict parsers refuse it)."""
    score = refusal_score(pred)
    return score if np.isfinite(score) else None


def score_array(scores: list[float | None]) -> np.ndarray:
    """``score_set``'s scores back as numbers for the threshold trade-off: None (refused before the network) is
    above every threshold."""
    return np.array([np.inf if s is None else s for s in scores], dtype=float)


def run_sets(run: str | Path, data: str | Path, mode: str) -> tuple[Dataset, Dataset]:
    """(the run's validation slices, the Training slices stored as ``mode`` that the run never saw)."""
    split = read_split(run)
    seen = set(split["val"]) | set(split.get("train", []))
    training = load_dataset(data, "Training")
    in_mode, _ = split_by_mode(training, mode)
    unseen = [i for i, p in enumerate(in_mode.paths) if str(p.relative_to(training.root)) not in seen]
    val_names = set(split["val"])
    val = training.subset([i for i, p in enumerate(training.paths) if str(p.relative_to(training.root)) in val_names])
    if len(val) != len(val_names):
        raise DatasetError(f"{Path(run) / 'split.json'} lists {len(val_names)} validation images; {len(val)} found "
                           f"under {training.root}: --data takes the dataset the run trained on")
    return val, in_mode.subset(unseen)


def source_note(run: str | Path, mode: str) -> str | None:
    """What the "held-out" images are when the run was not trained without them (its config.json's
    ``hold_out_mode`` is not ``mode``): images it never saw, of a source it may have trained on, whose score then says
    nothing of a new hospital; None for a run trained with ``--hold-out-mode MODE``."""
    config = Path(run) / "config.json"
    trained = json.loads(config.read_text()).get("hold_out_mode") if config.is_file() else None
    if trained == mode:
        return None
    return (f"note: {run} was not trained with --hold-out-mode {mode}: its training images may include that "
            f"source's (stored as {mode}), so these are images it never saw, not a source it never saw")


def _print_set(name: str, r: dict) -> None:
    print(f"\n{name}: {r['n']} images; accuracy {r['accuracy']:.2%}, refused {r['refused']:.2%}, "
          f"accuracy of accepted {percent(r['accuracy_accepted'])}; ECE of accepted (15 bins) "
          f"{percent(r['ece_accepted'])}")
    bands = r["confidence_bands"].items()
    print("  shown confidence: " + "; ".join(f"{k}: {b['n']} answers, {percent(b['accuracy'])} right (mean shown "
                                             f"{percent(b['mean_confidence'])})" for k, b in bands))
    v = r["review"]
    print(f"  {LOWER_CONFIDENCE} ({review_below_text()}): {v['flagged']} of {v['accepted']} accepted "
          f"({v['flagged'] / max(v['accepted'], 1):.1%}), {v['flagged_right']} of them right; they hold "
          f"{v['wrong_flagged']} of the {v['wrong_accepted']} wrong accepted answers")
    for cls, c in r["per_class"].items():
        called = ", ".join(f"{k} {v}" for k, v in c["called"].items())
        print(f"  {cls:<11} n={c['n']:>5}  recall {c['recall']:7.2%}  refused {c['refused']:7.2%}"
              + (f"  (wrong: {called})" if called else ""))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help=MODEL_HELP)
    ap.add_argument("--run", required=True, help="the model's run folder (split.json: what it trained on)")
    ap.add_argument("--mode", default="L", help="Pillow storage mode of the held-out source (default L: figshare)")
    ap.add_argument("--data", default=DEFAULT_DATA_ROOT, help=DATA_HELP)
    ap.add_argument("--testing", action="store_true", help="also report Testing's images of that mode (never decides)")
    ap.add_argument("--json", type=output_file, help=JSON_HELP)
    args = ap.parse_args()
    clf = Classifier.load(args.model)
    val, unseen = run_sets(args.run, args.data, args.mode)
    print(f"model {clf.path}; {len(unseen)} Training images stored as {args.mode} that the run never saw")
    if len(unseen) and (note := source_note(args.run, args.mode)):  # a smoke run's unseen images: not a new source
        print(note)
    results = {}
    results["run validation (seen source)"] = score_set(clf, val)
    if len(unseen):
        results[f"held-out source: Training images stored as {args.mode}"] = score_set(clf, unseen)
    if args.testing:
        results[f"Testing images stored as {args.mode} (reported only)"] = score_set(
            clf, split_by_mode(load_dataset(args.data, "Testing"), args.mode)[0])
    for name, r in results.items():
        _print_set(name, r)
    held = next((r for k, r in results.items() if k.startswith("held-out")), None)
    if held is not None:
        samples = ood_samples()
        ood = np.array([refusal_score(p) for _, p in clf.predict_many([s.data for s in samples])])
        photo = np.array(["photo" in s.category for s in samples])
        h = score_array(held["scores"])
        print(f"\nthreshold trade-off ({len(h)} held-out slices, {len(ood)} non-MRI images, "
              f"{photo.sum()} of them photos):")
        print(f"{'threshold':>10} {'held-out refused':>17} {'non-MRI refused':>16} {'photos refused':>15}")
        rows = [("file", 1.0)] + [(f"{q:g} % out", float(np.quantile(h[np.isfinite(h)], 1 - q / 100)))
                                                for q in (10, 5, 2, 1)]
        for name, t in rows:
            print(f"{name:>10} {t:>6.3f} {np.mean(h > t):>10.2%} {int((ood > t).sum()):>10}/{len(ood)} "
                  f"{int((ood[photo] > t).sum()):>10}/{int(photo.sum())}")
        results["trade_off"] = [{"name": n, "threshold": t, "held_out_refused": float(np.mean(h > t)),
                                 "ood_refused": int((ood > t).sum())} for n, t in rows]
    if args.json:
        Path(args.json).write_text(json.dumps(utf8_document(results), indent=1))
    return 0


if __name__ == "__main__":
    run_script(main)
