"""What the model does with skull-stripped slices (BraTS-style: the brain alone on black), approximated on this data.

    python scripts/skull_stripped.py [--model FILE] [--int8 FILE] [--data ROOT] [--split Testing | --run RUN]
                                     [--limit N] [--seed 0] [--gallery PNG] [--json F]

The most common external brain-tumour MRI is skull-stripped, and the model was trained on whole heads. No stripped
set is at hand offline, so each slice of the set is stripped here, crudely (:func:`strip`): the head is what lies
above a low gray level; the brain candidate is what lies above half the slice's Otsu level inside it, eroded by 7 %
of the head's size to cut the thin links across the dark skull ring, its largest piece near the head's centre kept,
grown back by as much and its holes filled; everything else is set to 0. A strip is taken as plausible when the kept
area is 40-90 % of the head's (:data:`PLAUSIBLE`); only those slices are scored, each as it is and stripped, both
sent as PNG bytes of the same full-resolution decode (what a user converting a volume to images sends). Printed:
accuracy (refused counted as not right) and of the accepted answers, refused, per-class recall, the mean confidence
of the wrong accepted answers and how many of them are flagged for review, and how many of them, and of all the
answers, carry the note for slices that look skull-stripped (``braintumor.stripped``); the int8 file on the stripped
slices in one line. ``--gallery``: 16 random scored slices, each as it is beside its strip, for a reader to judge
the strip. This is this dataset's own slices stripped by a few lines of code, not BraTS (docs/RESULTS.md,
"Skull-stripped slices", which quotes the --json output; tests/test_skull_stripped.py checks it).
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections import Counter
from pathlib import Path

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)
import numpy as np
from _image_set import add_image_set_options, image_set, output_file
from PIL import Image

from braintumor.file_names import utf8_document
from braintumor.image_io import ImageError, decode_image
from braintumor.model_files import default_model_path
from braintumor.prediction import Prediction
from braintumor.predictor import Classifier
from braintumor.report import write_text_atomic
from braintumor.script_entry import run_script
from braintumor.wording import STRIPPED_NOTE

#: The kept area as a share of the head's within which a strip is taken to have worked (outside: scalp kept, or
#: most of the brain lost).
PLAUSIBLE = (0.4, 0.9)
#: The erosion (and growth back) radius as a share of the square root of the head's area (~9 px on a 224 px slice).
ERODE = 0.07


def otsu(gray: np.ndarray) -> int:
    """The gray level that best splits ``gray``'s histogram in two (Otsu 1979): scipy has none, skimage is no
    dependency."""
    p = np.bincount(gray.ravel(), minlength=256) / gray.size
    w, mu = np.cumsum(p), np.cumsum(p * np.arange(256))
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mu[-1] * w - mu) ** 2 / (w * (1 - w))
    return int(np.nanargmax(between)) if np.isfinite(between).any() else 0


def _largest(mask: np.ndarray) -> np.ndarray:
    from scipy import ndimage as ndi  # here: without scipy, --help works and a run is one error line (run_script)

    lab, n = ndi.label(mask)
    return lab == 1 + int(np.argmax(ndi.sum(mask, lab, range(1, n + 1)))) if n else mask


def strip(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """The brain mask of a 2-D uint8 slice and the kept area as a share of the head's (0 when nothing is kept)."""
    from scipy import ndimage as ndi

    t = otsu(gray)
    head = _largest(ndi.binary_fill_holes(gray > max(10, 0.3 * t)))
    head_area = int(head.sum())
    if not head_area:
        return np.zeros_like(head), 0.0
    radius = max(2.0, ERODE * np.sqrt(head_area))
    tissue = (gray > 0.5 * t) & head
    core = ndi.distance_transform_edt(tissue) > radius  # a disk, not the diamond of repeated 3x3 erosions
    lab, n = ndi.label(core)
    if not n:
        return np.zeros_like(head), 0.0
    sizes = ndi.sum(core, lab, range(1, n + 1))
    cy, cx = ndi.center_of_mass(head)
    far = [np.hypot(y - cy, x - cx) / np.sqrt(head_area) for y, x in ndi.center_of_mass(core, lab, range(1, n + 1))]
    central = sizes * (np.array(far) < 0.35)  # a lobe of scalp or neck may be larger but lies off centre
    keep = 1 + int(np.argmax(central if central.max() > 0 else sizes))
    brain = ndi.binary_fill_holes((ndi.distance_transform_edt(lab != keep) <= radius) & tissue)
    return brain, float(brain.sum() / head_area)


def png(gray: np.ndarray) -> bytes:
    """``gray`` as the PNG file a user would send."""
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="PNG")
    return buf.getvalue()


def tally(truths: list[str], outcomes: list[Prediction | ImageError], classes: tuple[str, ...]) -> dict:
    """One row: ``outcomes`` answer ``truths``; a refusal or an unreadable image counts as not right."""
    ok = [isinstance(o, Prediction) and not o.ood for o in outcomes]
    right = [a and o.label == t for a, o, t in zip(ok, outcomes, truths, strict=True)]
    wrong = [o for a, r, o in zip(ok, right, outcomes, strict=True) if a and not r]
    mistakes = Counter(f"{t} as {o.label}" for a, r, o, t in zip(ok, right, outcomes, truths, strict=True)
                       if a and not r)
    n, accepted = len(truths), sum(ok)
    return {"n": n, "right": sum(right), "accuracy": sum(right) / n if n else None,
            "refused": n - accepted, "refused_share": (n - accepted) / n if n else None, "accepted": accepted,
            "accuracy_accepted": sum(right) / accepted if accepted else None,
            "recall": {c: (sum(r for r, t in zip(right, truths, strict=True) if t == c) / truths.count(c)
                           if c in truths else None) for c in classes},
            "answers": dict(Counter(o.label for a, o in zip(ok, outcomes, strict=True) if a)),
            "reasons": dict(Counter(str(o) if isinstance(o, ImageError) else o.reason.split(": ", 1)[-1]
                                    for a, o in zip(ok, outcomes, strict=True) if not a)),
            "wrong_accepted": len(wrong), "wrong_as": dict(sorted(mistakes.items(), key=lambda kv: -kv[1])),
            "wrong_mean_confidence": float(np.mean([o.confidence for o in wrong])) if wrong else None,
            "wrong_flagged": sum(bool(o.review) for o in wrong),
            "flagged": sum(bool(o.review) for a, o in zip(ok, outcomes, strict=True) if a),
            # the note for slices that look skull-stripped (braintumor.stripped): on the wrong answers, on all answers
            # (as they are: real slices taken for stripped), and the wrong answers with either flag
            "wrong_noted": sum(o.note == STRIPPED_NOTE for o in wrong),
            "noted": sum(o.note == STRIPPED_NOTE for a, o in zip(ok, outcomes, strict=True) if a),
            "wrong_flagged_or_noted": sum(bool(o.review) or o.note == STRIPPED_NOTE for o in wrong)}


def gallery(pairs: list[tuple[np.ndarray, np.ndarray]], path: str, side: int = 112) -> None:
    """A 4-column grid of (as it is | stripped) tiles, each ``side`` px, written to ``path``."""
    tiles = [np.hstack([np.asarray(Image.fromarray(g).resize((side, side), Image.Resampling.LANCZOS))
                        for g in pair]) for pair in pairs]
    tiles += [np.zeros_like(tiles[0])] * (-len(tiles) % 4)
    grid = np.vstack([np.hstack(tiles[i:i + 4]) for i in range(0, len(tiles), 4)])
    grid[:, 2 * side::2 * side] = 255  # a white line between two pairs
    Image.fromarray(grid).save(path, optimize=True)


def cell(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f} %"


def line(name: str, r: dict, classes: tuple[str, ...]) -> str:
    """A Markdown row of ``r``, as docs/RESULTS.md quotes it."""
    conf = "-" if r["wrong_mean_confidence"] is None else f"{100 * r['wrong_mean_confidence']:.1f} %"
    return (f"| {name} | {cell(r['accuracy'])} ({r['right']}/{r['n']}) | {cell(r['accuracy_accepted'])} | "
            f"{r['refused']} ({cell(r['refused_share'])}) | "
            + " / ".join(cell(r["recall"][c]) for c in classes)
            + f" | {r['wrong_accepted']} | {conf} | {r['wrong_flagged']} of {r['wrong_accepted']} | "
            f"{r['wrong_noted']} of {r['wrong_accepted']} ({r['wrong_flagged_or_noted']} with either) | "
            f"{r['noted']} of {r['accepted']} |")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_image_set_options(ap)
    ap.add_argument("--int8", default=str(default_model_path().with_name("braintumor-tumornet-s-int8.onnx")),
                    help="a second file scored on the stripped slices only ('' to skip)")
    ap.add_argument("--limit", type=int, default=0, metavar="N",
                    help="every k-th image so that about N remain (0: all)")
    ap.add_argument("--seed", type=int, default=0, help="picks the gallery's slices")
    ap.add_argument("--gallery", type=output_file,
                    help="write 16 random scored slices, as they are beside their strip, to this PNG")
    args = ap.parse_args(argv)
    if args.limit < 0:
        ap.error(f"--limit takes a whole number of at least 0, got {args.limit}")
    clf = Classifier.load(args.model)
    dataset = image_set(args)
    items = list(zip(dataset.paths, dataset.labels, strict=True))
    items = items[:: max(1, len(items) // args.limit)] if args.limit else items
    if not items:
        print("error: no image to score", file=sys.stderr)
        return 1
    shares, kept, whole = [], [], []  # kept: (path, truth, gray, stripped, index) of the plausible strips
    for path, label in items:
        gray = decode_image(path)[0]
        whole.append(png(gray))
        mask, share = strip(gray)
        shares.append(share)
        if PLAUSIBLE[0] <= share <= PLAUSIBLE[1]:
            kept.append((path, dataset.classes[label], gray, np.where(mask, gray, 0).astype(np.uint8), len(shares) - 1))
    truths = [k[1] for k in kept]
    as_is = [o for _, o in clf.predict_many(whole)]  # every slice as it is, the same way: the subset's baseline
    rows = {"as it is, all slices": tally([dataset.classes[label] for _, label in items], as_is, clf.classes),
            "as it is": tally(truths, [as_is[k[4]] for k in kept], clf.classes)}
    stripped = [png(k[3]) for k in kept]
    rows["skull-stripped"] = tally(truths, [o for _, o in clf.predict_many(stripped)], clf.classes)
    if args.int8:
        other = Classifier.load(args.int8)
        rows["skull-stripped, int8 file"] = tally(truths, [o for _, o in other.predict_many(stripped)],
                                                  other.classes)
    passed = len(kept)
    print(f"{clf.path}: {len(items)} slices of {dataset.root}; strip plausible (kept {PLAUSIBLE[0]:.0%}-"
          f"{PLAUSIBLE[1]:.0%} of the head) for {passed} ({passed / len(items):.1%}; median share "
          f"{np.median(shares):.2f}); those {passed} scored (first row: every slice), as PNG ("
          + ", ".join(f"{n} {c}" for c, n in Counter(truths).items()) + "):\n")
    print("| slices | accuracy (refused = not right) | accuracy of the accepted | refused | recall "
          + " / ".join(clf.classes) + " | wrong accepted | their mean confidence | wrong ones flagged for review"
          " | wrong ones noted as looking stripped | answers noted as looking stripped |")
    print("|---" * 10 + "|")
    for name, row in rows.items():
        print(line(name, row, clf.classes))
    for name, row in rows.items():
        print(f"{name}: answers {row['answers']}; wrong {row['wrong_as']}; refused {row['reasons']}")
    if args.gallery and kept:
        pick = np.random.default_rng(args.seed).choice(passed, min(16, passed), replace=False)
        gallery([(kept[i][2], kept[i][3]) for i in sorted(pick)], args.gallery)
        print(f"gallery: {args.gallery} ({', '.join(kept[i][0].name for i in sorted(pick))})")
    if args.json:
        write_text_atomic(Path(args.json), json.dumps(utf8_document({
            "model": str(clf.path), "int8": args.int8 or None, "data": str(dataset.root), "slices": len(items),
            "plausible": list(PLAUSIBLE), "erode": ERODE, "passed": passed, "passed_share": passed / len(items),
            "median_share": float(np.median(shares)), "classes": dict(Counter(truths)), "seed": args.seed,
            "rows": rows}), indent=1))
    return 0


if __name__ == "__main__":
    run_script(main)
