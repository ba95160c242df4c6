"""How the model does on images shrunk below the reader's minimum size: why ``image_io.MIN_SIDE`` is 64.

    python scripts/small_images.py [--model FILE] [--data ROOT] [--split Testing | --run RUN] [--sizes 64,48,40,32]
                                   [--limit N] [--json F]

Every image of the set, as it is and Lanczos-shrunk so that its shorter side is N pixels, goes through what
``Classifier.predict`` does (decode, head crop, model, refusal check, lower-confidence flag) but the reader's
refusal of images under ``MIN_SIDE`` x ``MIN_SIDE``: that refusal exists because of what this script measures, so it
has to be bypassed to measure it. Printed per size: how many were not classified (refused as unlike brain MRI or as
on their side), the accuracy of the answers given, how many of those had lower confidence, and how many were wrong
without it. Quoted in docs/RESULTS.md ("Small images") and docs/WEB.md (the limits).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)
from _image_set import add_image_set_options, image_set
from PIL import Image

from braintumor.file_names import utf8_document
from braintumor.prediction import Prediction
from braintumor.predictor import Classifier
from braintumor.preprocess import prepare_measured
from braintumor.script_entry import run_script

SIZES = (64, 48, 40, 32)


def shrunk(img: Image.Image, side: int | None) -> Image.Image:
    """``img`` Lanczos-shrunk so that its shorter side is ``side`` pixels (as it is for None or a larger side)."""
    w, h = img.size
    if side is None or min(w, h) <= side:
        return img
    scale = side / min(w, h)
    return img.resize((max(side, round(w * scale)), max(side, round(h * scale))), Image.Resampling.LANCZOS)


def predict_any_size(clf: Classifier, image: Image.Image | Path) -> Prediction:
    """``clf.predict(image)`` without the reader's ``MIN_SIDE`` refusal (the same steps as ``Classifier.inspect_crop``
    and ``predict``; tests/test_small_images.py keeps the answers equal where the image is large enough)."""
    gray, info, plane = clf._decode(image)
    crop, second = prepare_measured(gray, clf.preprocess_config, plane)
    return clf.classify_crops(crop[None], [replace(info, second_head=second)])[0][0]


def tally(outcomes: list[tuple[str, Prediction]]) -> dict[str, float | int]:
    """The row of one size: ``outcomes`` are (true class, prediction) pairs."""
    accepted = [(truth, p) for truth, p in outcomes if not p.ood]
    right = sum(p.label == truth for truth, p in accepted)
    return {"images": len(outcomes), "not_classified": len(outcomes) - len(accepted), "accepted": len(accepted),
            "right": right, "accuracy_accepted": right / len(accepted) if accepted else None,
            "lower_confidence": sum(bool(p.review) for _, p in accepted),
            "wrong_not_lower_confidence": sum(p.label != truth and not p.review for truth, p in accepted)}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_image_set_options(ap)
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)), help="shorter sides to shrink to, comma-separated")
    ap.add_argument("--limit", type=int, default=0, metavar="N",
                    help="every k-th image so that about N remain (0: all)")
    args = ap.parse_args()
    try:
        sizes = [None, *(int(s) for s in args.sizes.split(","))]
    except ValueError:
        ap.error(f"--sizes takes whole numbers separated by commas, got {args.sizes!r}")
    clf = Classifier.load(args.model)
    dataset = image_set(args)
    pairs = list(zip(dataset.paths, dataset.labels, strict=True))
    pairs = pairs[:: max(1, len(pairs) // args.limit)] if args.limit else pairs
    outcomes: dict[int | None, list[tuple[str, Prediction]]] = {s: [] for s in sizes}
    smallest = None
    for path, label in pairs:
        with Image.open(path) as img:
            img.load()
        smallest = min(img.size) if smallest is None else min(smallest, *img.size)
        for side in sizes:
            copy = path if side is None else shrunk(img, side)  # as it is: the file, read as predict reads it
            outcomes[side].append((dataset.classes[label], predict_any_size(clf, copy)))
    if not pairs:
        print("error: no image to score", file=sys.stderr)
        return 1
    print(f"{clf.path}: {len(pairs)} images of {dataset.root} (smallest side {smallest} px), each as it is and "
          "shrunk (Lanczos) to a shorter side of N px:")
    print(f"{'shorter side':<14}{'not classified':>16}{'accuracy of the accepted':>26}{'lower confidence':>18}"
          f"{'wrong, not lower confidence':>29}")
    rows = {}
    for side in sizes:
        row = rows["original" if side is None else str(side)] = tally(outcomes[side])
        acc = "-" if row["accuracy_accepted"] is None else \
            f"{100 * row['accuracy_accepted']:.1f} % ({row['right']}/{row['accepted']})"
        print(f"{'original' if side is None else side:<14}{row['not_classified']:>16}{acc:>26}"
              f"{row['lower_confidence']:>18}{row['wrong_not_lower_confidence']:>29}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(utf8_document({"model": str(clf.path), "data": str(dataset.root), "images": len(pairs),
                                     "rows": rows}), fh, indent=1)
    return 0


if __name__ == "__main__":
    run_script(main)
