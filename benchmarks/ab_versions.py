#!/usr/bin/env python3
"""Interleaved A/B of ``Classifier.predict`` in two source trees: an older one vs a newer one, same model and images.

    git archive <commit> src | tar -x -C /tmp/old     # or: git worktree add /tmp/old <commit>
    python benchmarks/ab_versions.py --old /tmp/old/src [--new OTHER/src] [--threads 1] [--rounds 2]
                                     [--limit N] [--cam | --heatmap] [--json out.json]
    python benchmarks/ab_versions.py --aa [--new OTHER/src] ...     # A/A: the new tree in both slots

``--new`` defaults to this checkout's ``src/``; PYTHONPATH does not choose it (benchmarks/_common.py puts this
checkout's ``src/`` first on ``sys.path``). ``--aa`` loads the new tree in both slots: it should print 1.00x give or
take this machine's noise, and says how far apart two identical versions land on it.

``--cam`` times predict + the class-activation map instead (``heatmap.explain``: latency.py's "+CAM", what the issue
calls end to end) and checks that the two versions' maps are identical. ``--heatmap`` times the ``?heatmap=1`` API
work (``web.inference.classify(..., heatmap=True)``: predict + CAM + two PNGs + base64) and reports how far apart
the two versions' heat-map pixels are.

Why: on this virtual machine whole runs of ``latency.py`` on the same code differ by up to ~40 % in
p50 (host scheduling), more than most optimisations gain, so "before" and "after" must run side by
side. Both versions load in one process, the same way (each tree's package copied, without its bytecode, under
its own name: its imports are relative) and every image is predicted by both, the first slot alternating from one
image to the next, so a slow spell slows both alike. Prints each version's median and p95 ms per image, their
ratio, and how many answers (label and out-of-distribution flag) agree. One ONNX Runtime thread by default: two
sessions whose 2-thread pools spin in one process slow each other down (measured: 8.8 ms per image instead of ~5).
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

from braintumor.model_files import MODEL_FILENAME

SLOTS = {"old": "braintumor_old", "new": "braintumor_new"}  # slot -> the package name its tree is imported under


def load_tree(src: Path, tmp: Path, package: str) -> types.ModuleType:
    """``src``'s ``braintumor.predictor``, imported from a copy in ``tmp`` as ``<package>.predictor``.

    Both slots load this way. The newer slot used to be whichever ``braintumor`` came first on ``sys.path``,
    always this checkout's: an "A/A" of one commit exported twice timed that commit against this checkout and
    printed 1.017-1.033x (docs/PERFORMANCE.md, twenty-second round). No ``__pycache__`` is copied, so neither slot
    starts from bytecode the other lacks."""
    shutil.copytree(src / "braintumor", tmp / package, ignore=shutil.ignore_patterns("__pycache__"))
    if str(tmp) not in sys.path:
        sys.path.insert(0, str(tmp))
    return importlib.import_module(f"{package}.predictor")


def load_old(src: Path, tmp: Path) -> types.ModuleType:
    """The old tree's ``braintumor.predictor``, imported as ``braintumor_old.predictor`` (decode_check.py)."""
    return load_tree(src, tmp, SLOTS["old"])


def pair_order(i: int, rnd: int) -> tuple[str, str]:
    """Which slot runs first on image ``i`` of round ``rnd``: each in turn, so neither always runs on the caches
    the other has just warmed (and, with an odd count of images, each round starts with the other one)."""
    return ("old", "new") if (i + rnd) % 2 == 0 else ("new", "old")


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
    ap.add_argument("--old", type=Path, help="the older tree's src/ folder")
    ap.add_argument("--new", type=Path, default=REPO / "src",
                    help="the newer tree's src/ folder (default: this checkout's, %(default)s)")
    ap.add_argument("--aa", action="store_true", help="A/A check: the --new tree in both slots (should print 1.00x)")
    ap.add_argument("--model", type=Path, default=REPO / "models" / MODEL_FILENAME,
                    help="ONNX model both trees load (default: the shipped one)")
    ap.add_argument("--threads", type=int, default=1, help="ONNX Runtime intra-op threads (default %(default)s)")
    ap.add_argument("--rounds", type=int, default=2, help="passes over the images")
    ap.add_argument("--limit", type=int, default=None, metavar="N", help="first N images per class")
    what = ap.add_mutually_exclusive_group()
    what.add_argument("--cam", action="store_true", help="time predict + CAM (heatmap.explain) instead of predict")
    what.add_argument("--heatmap", action="store_true", help="time the ?heatmap=1 request work instead of predict")
    args = ap.parse_args(argv)
    if args.aa == (args.old is not None):
        ap.error("pass --old OLD/src, or --aa to time the --new tree against itself")
    if args.aa:
        args.old = args.new
    for flag, src in (("--old", args.old), ("--new", args.new)):
        if not (src / "braintumor" / "predictor.py").is_file():
            ap.error(f"{flag} {src} has no braintumor/predictor.py: pass a source tree's src/ folder")
    images = [p for p, _ in labelled_images(args.data, "Testing", args.limit)]
    info = machine()
    with tempfile.TemporaryDirectory(prefix="bt-ab-") as tmp:
        trees = {"old": args.old, "new": args.new}
        modules = {name: load_tree(trees[name], Path(tmp), SLOTS[name]) for name in SLOTS}
        versions = {name: mod.Classifier.load(args.model, threads=args.threads) for name, mod in modules.items()}
        work = ({name: heatmap_request(SLOTS[name]) for name in SLOTS} if args.heatmap
                else {name: cam_request(SLOTS[name]) for name in SLOTS} if args.cam
                else dict.fromkeys(SLOTS, predict_request))
        times: dict[str, list[float]] = {name: [] for name in SLOTS}
        for i, path in enumerate(images[:20]):  # warm-up
            for name in pair_order(i, 0):
                work[name](versions[name], path)
        agree, pixel_diff, cam_same = 0, [], []
        for rnd in range(args.rounds):
            for i, path in enumerate(images):
                answers = {}
                for name in pair_order(i, rnd):
                    t = time.perf_counter()
                    answers[name] = work[name](versions[name], path)
                    times[name].append((time.perf_counter() - t) * 1e3)
                agree += answers["old"][:2] == answers["new"][:2]
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
    title = f"A/A, {args.new} in both slots" if args.aa else f"old ({args.old}) vs new ({args.new})"
    print(f"\n## {what}, {title}, interleaved\n")
    print_machine(info)
    print(f"- {len(images)} test images x {args.rounds} rounds, {args.threads} ONNX Runtime thread(s), "
          f"model {args.model.name}\n")
    p50 = {name: percentile(ts, 0.5) for name, ts in times.items()}
    rows = [[name, p50[name], percentile(ts, 0.95)] for name, ts in times.items()]
    print(table(["version", "p50 ms", "p95 ms"], rows, digits=3))
    n = len(images) * args.rounds
    print(f"\n{'A/A: ' if args.aa else ''}new is {p50['old'] / p50['new']:.3f}x the old speed (p50); "
          f"same label and OOD flag on {agree}/{n} predictions")
    if cam_same:
        print(f"class-activation maps identical (or both withheld) on {sum(cam_same)}/{len(cam_same)}")
    if pixel_diff:
        print(f"heat-map pixels: largest difference {max(pixel_diff)} levels; identical maps "
              f"{sum(d == 0 for d in pixel_diff)}/{len(pixel_diff)}")
    write_json(args.json, {"machine": info, "old": str(args.old), "new": str(args.new), "aa": args.aa,
                           "threads": args.threads, "rounds": args.rounds,
                           "heatmap": args.heatmap, "cam": args.cam, "images": len(images), "p50_ms": p50,
                           "agree": agree, "n": n, "cam_identical": sum(cam_same) if cam_same else None,
                           "heatmap_max_pixel_diff": max(pixel_diff) if pixel_diff else None})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
