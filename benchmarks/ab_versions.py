#!/usr/bin/env python3
"""Interleaved A/B of ``Classifier.predict`` in two checkouts: an older one vs this one, same model and images.

    git worktree add /tmp/old <commit>
    python benchmarks/ab_versions.py --old /tmp/old/src [--threads 1] [--rounds 2] [--cam | --heatmap] [--json out.json]

``--cam`` times predict + the class-activation map instead (``heatmap.explain``: latency.py's "+CAM", what the issue
calls end to end) and checks that the two versions' maps are identical. ``--heatmap`` times the ``?heatmap=1`` API
work (``web.inference.classify(..., heatmap=True)``: predict + CAM + two PNGs + base64) and reports how far apart
the two versions' heat-map pixels are.

Why: on this virtual machine whole runs of ``latency.py`` on the same code differ by up to ~40 % in
p50 (host scheduling), more than most optimisations gain, so "before" and "after" must run side by
side. Both versions load in one process (the old package is copied under another name; its imports
are relative) and every image is predicted by both, in alternating order, so a slow spell slows both
alike. Prints each version's median and p95 ms per image, their ratio, and how many answers (label
and out-of-distribution flag) agree. One ONNX Runtime thread by default: two sessions whose 2-thread
pools spin in one process slow each other down (measured: 8.8 ms per image instead of ~5).
"""

from __future__ import annotations

import argparse
import base64
import importlib
import io
import shutil
import sys
import tempfile
import time
import types
from pathlib import Path

import numpy as np
from _common import REPO, common_args, labelled_images, machine, percentile, print_machine, table, write_json
from PIL import Image

import braintumor.predictor as current
from braintumor.model_files import MODEL_FILENAME


def load_old(src: Path, tmp: Path) -> types.ModuleType:
    """The old checkout's ``braintumor.predictor``, imported as ``braintumor_old.predictor``."""
    shutil.copytree(src / "braintumor", tmp / "braintumor_old")
    sys.path.insert(0, str(tmp))
    return importlib.import_module("braintumor_old.predictor")


def heatmap_request(package: str):
    """``(clf, path) -> (label, ood, heat-map PNG as base64 or None)`` through ``<package>.web.inference.classify``
    (decoded by :func:`pixels` after the timing)."""
    inference = importlib.import_module(f"{package}.web.inference")

    def run(clf, path: Path) -> tuple[str | None, bool, str | None]:
        rec = inference.classify(clf, [inference.Upload(path.name, path.read_bytes())], heatmap=True)[0]
        return rec.get("label"), bool(rec.get("ood")), rec.get("heatmap_png_base64")

    return run


def cam_request(package: str):
    """``(clf, path) -> (label, ood, CAM or None)`` through ``<package>.heatmap.explain``."""
    explain = importlib.import_module(f"{package}.heatmap").explain

    def run(clf, path: Path) -> tuple[str | None, bool, np.ndarray | None]:
        ex = explain(clf, path)
        return ex.prediction.label, ex.prediction.ood, ex.cam

    return run


def predict_request(clf, path: Path) -> tuple[str | None, bool, None]:
    pred = clf.predict(path)
    return pred.label, pred.ood, None


def pixels(png_b64: str | None) -> np.ndarray | None:
    return None if png_b64 is None else np.asarray(Image.open(io.BytesIO(base64.b64decode(png_b64))), dtype=np.int16)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--old", type=Path, required=True, help="the older checkout's src/ folder")
    ap.add_argument("--model", type=Path, default=REPO / "models" / MODEL_FILENAME)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--rounds", type=int, default=2, help="passes over the images")
    ap.add_argument("--limit", type=int, default=None, help="first N images per class")
    what = ap.add_mutually_exclusive_group()
    what.add_argument("--cam", action="store_true", help="time predict + CAM (heatmap.explain) instead of predict")
    what.add_argument("--heatmap", action="store_true", help="time the ?heatmap=1 request work instead of predict")
    args = ap.parse_args(argv)
    if not (args.old / "braintumor" / "predictor.py").is_file():
        ap.error(f"{args.old} has no braintumor/predictor.py: pass the old checkout's src/ folder")
    images = [p for p, _ in labelled_images(args.data, "Testing", args.limit)]
    info = machine()
    with tempfile.TemporaryDirectory(prefix="bt-ab-") as tmp:
        old = load_old(args.old, Path(tmp))
        versions = {"old": old.Classifier.load(args.model, threads=args.threads),
                    "this checkout": current.Classifier.load(args.model, threads=args.threads)}
        work = ({"old": heatmap_request("braintumor_old"), "this checkout": heatmap_request("braintumor")}
                if args.heatmap else {"old": cam_request("braintumor_old"), "this checkout": cam_request("braintumor")}
                if args.cam else dict.fromkeys(versions, predict_request))
        times: dict[str, list[float]] = {name: [] for name in versions}
        for path in images[:20]:  # warm-up
            for name, clf in versions.items():
                work[name](clf, path)
        agree, pixel_diff, cam_same = 0, [], []
        for rnd in range(args.rounds):
            for i, path in enumerate(images):
                order = list(versions.items())
                if (i + rnd) % 2:
                    order.reverse()
                answers = {}
                for name, clf in order:
                    t = time.perf_counter()
                    answers[name] = work[name](clf, path)
                    times[name].append((time.perf_counter() - t) * 1e3)
                agree += answers["old"][:2] == answers["this checkout"][:2]
                if args.cam:
                    cams = [a[2] for a in answers.values()]
                    cam_same.append(cams[0] is cams[1] is None
                                    or (cams[0] is not None and cams[1] is not None and np.array_equal(*cams)))
                    continue
                maps = [pixels(a[2]) for a in answers.values()]
                if maps[0] is not None and maps[1] is not None:
                    pixel_diff.append(int(np.abs(maps[0] - maps[1]).max()))
    what = ("heat-map request (?heatmap=1)" if args.heatmap else "predict + CAM (heatmap.explain)" if args.cam
            else "Classifier.predict")
    print(f"\n## {what}, old ({args.old}) vs this checkout, interleaved\n")
    print_machine(info)
    print(f"- {len(images)} test images x {args.rounds} rounds, {args.threads} ONNX Runtime thread(s), "
          f"model {args.model.name}\n")
    p50 = {name: percentile(ts, 0.5) for name, ts in times.items()}
    rows = [[name, p50[name], percentile(ts, 0.95)] for name, ts in times.items()]
    print(table(["version", "p50 ms", "p95 ms"], rows, digits=3))
    n = len(images) * args.rounds
    print(f"\nthis checkout is {p50['old'] / p50['this checkout']:.3f}x the old speed (p50); "
          f"same label and OOD flag on {agree}/{n} predictions")
    if cam_same:
        print(f"class-activation maps identical (or both withheld) on {sum(cam_same)}/{len(cam_same)}")
    if pixel_diff:
        print(f"heat-map pixels: largest difference {max(pixel_diff)} levels; identical maps "
              f"{sum(d == 0 for d in pixel_diff)}/{len(pixel_diff)}")
    write_json(args.json, {"machine": info, "old": str(args.old), "threads": args.threads, "rounds": args.rounds,
                           "heatmap": args.heatmap, "cam": args.cam, "images": len(images), "p50_ms": p50,
                           "agree": agree, "n": n, "cam_identical": sum(cam_same) if cam_same else None,
                           "heatmap_max_pixel_diff": max(pixel_diff) if pixel_diff else None})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
