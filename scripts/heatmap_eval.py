"""Are the heat maps faithful? A deletion test of the class-activation maps the web page and API show.

    python scripts/heatmap_eval.py [--model FILE] [--data ROOT] [--split Testing | --run RUN] [--limit N] [--json F]

For every accepted image: the pixels the heat map of its answer marks hottest are blacked out (set to the background
level, 0) in growing shares of the model's input, and the calibrated probability of the same answer is read again
(Petsiuk et al., "RISE", BMVC 2018: the deletion metric). A map that shows where the network's evidence is should
make the probability fall faster than a map drawn at random with the same smoothness (random 5 x 5 cells upsampled
as the heat map is) and much faster than the map turned inside out (coolest first). Also printed: how much of each
map's weight lies on the head rather than on the black background around it, and the heat map's mean curve of each
answer and of the tumour answers together. Quoted in docs/RESULTS.md ("Heat maps: do they show where the evidence
is?"), whose figures tests/test_docs_figures.py checks against the ``--json`` in docs/figures.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)
import numpy as np
from _image_set import add_image_set_options, image_set

from braintumor.file_names import utf8_document
from braintumor.heatmap import FEATURE_STRIDE, explain_crops, upsample
from braintumor.image_io import ImageError
from braintumor.predictor import Classifier
from braintumor.script_entry import run_script

FRACTIONS = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5)  # shares of the input's pixels blacked out
HEAD_LEVEL = 10  # gray level above which a pixel of the model's input counts as head, not background
NO_TUMOUR = "notumor"  # the answer that is an absence of evidence: left out of the tumour answers' mean
TUMOUR_ANSWERS = "tumour answers"  # how that mean is named in the output
DIGITS = 6  # of the --json numbers: printed to 3, a figure rounded to 4 first could round the other way (0.9905)


def deletion_curve(crop: np.ndarray, ranking: np.ndarray, label: int,
                   probabilities: Callable[[np.ndarray], np.ndarray],
                   fractions: tuple[float, ...] = FRACTIONS) -> np.ndarray:
    """P(``label``) as the top ``fractions`` of ``crop``'s pixels by ``ranking`` are set to 0, one batch for all of
    them. ``probabilities`` maps (N, 1, S, S) inputs in [0, 1] to (N, K) probabilities."""
    order = np.argsort(-ranking.ravel(), kind="stable")
    batch = np.repeat(crop[None].astype(np.float32) / 255.0, len(fractions), axis=0)
    flat = batch.reshape(len(fractions), -1)
    for i, f in enumerate(fractions):
        flat[i, order[: round(f * order.size)]] = 0.0
    return probabilities(batch[:, None])[:, label]


def area(curve: np.ndarray, fractions: tuple[float, ...] = FRACTIONS) -> float:
    """Mean height of a deletion curve over the deleted share (trapezoids): lower = the map found the evidence."""
    x = np.asarray(fractions, dtype=np.float64)
    y = np.asarray(curve, dtype=np.float64)
    return float(np.sum((y[1:] + y[:-1]) * np.diff(x)) / 2 / (x[-1] - x[0]))


def random_smooth_map(rng: np.random.Generator, size: int, stride: int = FEATURE_STRIDE) -> np.ndarray:
    """A map as smooth as a heat map (its cells upsampled the same way) but placed at random."""
    cells = -(-size // stride)
    return upsample(rng.random((cells, cells)).astype(np.float32), size, stride)


def answer_means(class_curves: dict[str, list[np.ndarray]]) -> dict[str, np.ndarray]:
    """The mean deletion curve of each answer, then of the tumour answers together (every answer but ``NO_TUMOUR``,
    when there are any): RESULTS.md quotes how far a tumour answer falls, and the all-answers mean mixes in "no
    tumour", whose maps point at nothing."""
    means = {label: np.stack(c).mean(axis=0) for label, c in sorted(class_curves.items())}
    tumour = [c for label, curves in sorted(class_curves.items()) if label != NO_TUMOUR for c in curves]
    if tumour and len(tumour) < sum(map(len, class_curves.values())):
        means[TUMOUR_ANSWERS] = np.stack(tumour).mean(axis=0)
    return means


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_image_set_options(ap)
    ap.add_argument("--limit", type=int, default=0, metavar="N",
                    help="every k-th image so that about N remain (0: all)")
    ap.add_argument("--seed", type=int, default=0, help="random maps and tie-breaking")
    args = ap.parse_args()
    clf = Classifier.load(args.model)
    dataset = image_set(args)
    paths = dataset.paths[:: max(1, len(dataset) // args.limit)] if args.limit else dataset.paths
    rng = np.random.default_rng(args.seed)
    maps = ("heat map", "random smooth map", "heat map inside out")
    curves: dict[str, list[np.ndarray]] = {name: [] for name in maps}
    by_class: dict[str, dict[str, list[float]]] = {}
    class_curves: dict[str, list[np.ndarray]] = {}  # the heat map's deletion curves by answer
    head_share, head_area, refused = [], [], 0
    for path in paths:
        try:
            crop, info = clf.inspect_crop(path)
        except ImageError as exc:
            print(f"skipped {path}: {exc}", file=sys.stderr)
            continue
        e = explain_crops(clf, crop[None], [info])[0]
        if e.cam is None:
            refused += 1
            continue
        label = clf.classes.index(e.prediction.label)
        jitter = 1e-6 * rng.random(e.cam.shape)  # ties (the map's zeros) broken at random, not top-left first
        rankings = (e.cam + jitter, random_smooth_map(rng, clf.image_size) + jitter, -e.cam + jitter)
        for name, ranking in zip(maps, rankings, strict=True):
            curve = deletion_curve(crop, ranking, label, clf.predict_proba)
            curves[name].append(curve)
            by_class.setdefault(e.prediction.label, {m: [] for m in maps})[name].append(area(curve))
            if name == maps[0]:
                class_curves.setdefault(e.prediction.label, []).append(curve)
        head = crop > HEAD_LEVEL
        head_share.append(float(e.cam[head].sum() / max(e.cam.sum(), 1e-12)))
        head_area.append(float(head.mean()))
    n = len(curves["heat map"])
    if not n:
        print("error: no accepted image to explain", file=sys.stderr)
        return 1
    print(f"{clf.path}: {n} accepted images of {dataset.root} ({refused} refused, not explained)")
    print("mean probability of the answer with the top share of pixels blacked out, by the map that ranks them:")
    print(f"{'map':<22}" + "".join(f"{f:>7.0%}" for f in FRACTIONS) + f"{'area':>8}{'P >= 0.5 at 10 %':>18}")
    rows = {}
    at10 = FRACTIONS.index(0.1)
    for name in maps:
        c = np.stack(curves[name])
        mean, areas = c.mean(axis=0), [area(x) for x in c]
        kept = float(np.mean(c[:, at10] >= 0.5))  # the answer still holds at least half the probability
        rows[name] = {"mean_curve": [round(float(v), DIGITS) for v in mean],
                      "area": round(float(np.mean(areas)), DIGITS),
                      "p_answer_over_half_at_10pct": round(kept, DIGITS)}
        print(f"{name:<22}" + "".join(f"{v:7.3f}" for v in mean) + f"{np.mean(areas):8.3f}{kept:>18.1%}")
    heat, rand = (np.array([area(x) for x in curves[m]]) for m in maps[:2])
    lower = float(np.mean(heat < rand))
    print(f"the heat map's area below the random map's for {lower:.1%} of the images")
    print("by answer (mean area: heat map / random / inside out):")
    for label, d in sorted(by_class.items()):
        print(f"  {label:<11} n {len(d['heat map']):>4}  " + " / ".join(f"{np.mean(d[m]):.3f}" for m in maps))
    answer_curves = answer_means(class_curves)
    print("by answer, mean probability of the answer with the top share blacked out by the heat map:")
    print(f"  {'answer':<20}" + "".join(f"{f:>7.0%}" for f in FRACTIONS))
    for label, mean in answer_curves.items():
        print(f"  {label:<20}" + "".join(f"{v:7.3f}" for v in mean))
    print(f"share of the map's weight on the head (gray level > {HEAD_LEVEL}): {np.mean(head_share):.1%} "
          f"(the head covers {np.mean(head_area):.1%} of the input)")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(utf8_document({"model": str(clf.path), "data": str(dataset.root), "images": n, "refused": refused,
                       "fractions": list(FRACTIONS), "rows": rows, "heat_below_random": round(lower, DIGITS),
                       "by_answer": {k: {m: round(float(np.mean(v)), DIGITS) for m, v in d.items()}
                                     for k, d in by_class.items()},
                       "by_answer_mean_curve": {k: [round(float(v), DIGITS) for v in c]
                                                for k, c in answer_curves.items()},
                       "head_share": round(float(np.mean(head_share)), DIGITS),
                       "head_area": round(float(np.mean(head_area)), DIGITS)}), fh, indent=1)
    return 0


if __name__ == "__main__":
    run_script(main)
