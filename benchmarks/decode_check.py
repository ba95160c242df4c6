"""Decoding and preprocessing of this checkout vs an older one: same pixels, same colour decisions?

    git worktree add /tmp/old <commit>
    python benchmarks/decode_check.py --old /tmp/old/src [--json out.json]

Why: a change to the decoder (such as reading colour JPEGs once as YCbCr) must leave what the model sees
exactly as it was, because the shipped model was trained on it. For every image of the dataset (Training
and Testing) and of the out-of-distribution set (``braintumor.ood_samples``), both versions decode
(``decode_image`` at the model's draft size) and prepare (head crop + resize) the image; the script counts
grayscale planes and model inputs that differ, the largest change of the colourfulness measure, and the
images whose colour decision (colourfulness above the shipped model's limit) flips.
"""

from __future__ import annotations

import argparse
import importlib
import tempfile
from pathlib import Path

import numpy as np
from _common import REPO, common_args, machine, print_machine, table, write_json
from ab_versions import load_old

import braintumor.image_io as new_io
import braintumor.preprocess as new_pre
from braintumor.image_files import walk_images
from braintumor.model_files import MODEL_FILENAME
from braintumor.ood_samples import ood_samples
from braintumor.predictor import Classifier


def compare(sources: list[bytes], old_io, old_pre, size: int, colour_limit: float) -> dict:
    """Counts of differing gray planes / model inputs / colour decisions, and the largest colour change."""
    gray_diff = input_diff = flips = errors_diff = 0
    max_colour = 0.0
    for data in sources:
        try:
            g_old, info_old = old_io.decode_image(data, draft_size=2 * size)
        except old_io.ImageError as exc:
            g_old, err_old = None, str(exc)
        try:
            g_new, info_new = new_io.decode_image(data, draft_size=2 * size)
        except new_io.ImageError as exc:
            g_new, err_new = None, str(exc)
        if g_old is None or g_new is None:
            errors_diff += (g_old is None) != (g_new is None) or (g_old is None and err_old != err_new)
            continue
        gray_diff += g_old.shape != g_new.shape or not np.array_equal(g_old, g_new)
        x_old = old_pre.prepare(g_old, old_pre.PreprocessConfig(image_size=size))
        x_new = new_pre.prepare(g_new, new_pre.PreprocessConfig(image_size=size))
        input_diff += not np.array_equal(x_old, x_new)
        max_colour = max(max_colour, abs(info_old.colourfulness - info_new.colourfulness))
        flips += (info_old.colourfulness > colour_limit) != (info_new.colourfulness > colour_limit)
    return {"n": len(sources), "gray_differs": gray_diff, "model_input_differs": input_diff,
            "error_differs": errors_diff, "max_colourfulness_change": max_colour, "colour_decision_flips": flips}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--old", type=Path, required=True, help="the older checkout's src/ folder")
    ap.add_argument("--model", type=Path, default=REPO / "models" / MODEL_FILENAME,
                    help="ONNX model (default: the shipped one)")
    args = ap.parse_args(argv)
    clf = Classifier.load(args.model, threads=1)
    limit = clf.ood.max_colourfulness if clf.ood else float("inf")
    dataset = [p.read_bytes() for p in walk_images(Path(args.data))]  # hidden files skipped, as in training
    info = machine()
    with tempfile.TemporaryDirectory(prefix="bt-decode-") as tmp:
        load_old(args.old, Path(tmp))
        old_io = importlib.import_module("braintumor_old.image_io")
        old_pre = importlib.import_module("braintumor_old.preprocess")
        sets = {"dataset (Training + Testing)": dataset, "out-of-distribution set": [s.data for s in ood_samples()]}
        results = {name: compare(srcs, old_io, old_pre, clf.image_size, limit) for name, srcs in sets.items()}
    print(f"\n## Decoding and preprocessing: old ({args.old}) vs this checkout\n")
    print_machine(info)
    print(f"- model input size {clf.image_size} px; colour limit {limit} (the model's max_colourfulness)\n")
    rows = [[name, r["n"], r["gray_differs"], r["model_input_differs"], r["error_differs"],
             r["max_colourfulness_change"], r["colour_decision_flips"]] for name, r in results.items()]
    print(table(["images", "n", "gray plane differs", "model input differs", "error differs",
                 "largest colourfulness change", "colour decision flips"], rows, digits=3))
    write_json(args.json, {"machine": info, "old": str(args.old), "results": results})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
