#!/usr/bin/env python3
"""Does reduced decoding change predictions? Shipped preprocessing vs a full decode, label by label.

    python benchmarks/draft_check.py [--limit 5] [--upscale 1024] [--json out.json]

``prepare`` decodes JPEGs with Pillow's draft mode (``draft("L", (2S, 2S))``): the decoder skips
resolution the resize would throw away (for images >= 4S px) and, for colour JPEGs, decodes the
luma channel straight to grayscale instead of RGB -> L. The 224 px test images are too small to be
downscaled, so the check also runs on copies upscaled to ``--upscale`` px and re-encoded as JPEG
(quality 95), where the decoder does scale, and as PNG, where ``read_image`` box-reduces large
images after decoding. Reported: labels that differ, accuracy of each, time.
"""

from __future__ import annotations

import argparse
import io
import time
from pathlib import Path

import numpy as np
from _common import common_args, labelled_images, machine, print_machine, table, write_json
from PIL import Image

from braintumor.image_io import read_image
from braintumor.predictor import Classifier
from braintumor.preprocess import prepare, to_model_input


def upscaled(path: Path, size: int, fmt: str = "JPEG") -> bytes:
    img = Image.open(path)
    img = img.convert("RGB" if img.mode not in ("L", "RGB") else img.mode)
    buf = io.BytesIO()
    img.resize((size, size), Image.Resampling.BICUBIC).save(buf, format=fmt, **({"quality": 95} if fmt == "JPEG"
                                                                                 else {"compress_level": 1}))
    return buf.getvalue()


def compare(clf: Classifier, datas: list[bytes], truths: list[str]) -> dict:
    cfg = clf.preprocess_config
    prepare(datas[0], cfg)  # warm-up (lazy imports) outside the timing
    labels: dict[str, list[str]] = {"draft": [], "full": []}
    seconds = dict.fromkeys(labels, 0.0)
    for data in datas:
        for name, draft in (("draft", 2 * cfg.image_size), ("full", None)):
            t = time.perf_counter()
            x = to_model_input(prepare(read_image(data, draft_size=draft), cfg))
            seconds[name] += time.perf_counter() - t
            labels[name].append(clf.prediction_from_probs(clf.predict_proba(x[None])[0]).label)
    changed = sum(a != b for a, b in zip(labels["draft"], labels["full"], strict=True))
    acc = {k: float(np.mean([p == t for p, t in zip(v, truths, strict=True)])) for k, v in labels.items()}
    return {"n": len(datas), "changed": changed, "accuracy_draft": acc["draft"], "accuracy_full": acc["full"],
            "ms_draft": 1e3 * seconds["draft"] / len(datas), "ms_full": 1e3 * seconds["full"] / len(datas)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--limit", type=int, default=None, metavar="N", help="first N images per class")
    ap.add_argument("--upscale", type=int, default=1024, help="also test copies upscaled to this size (0: skip)")
    args = ap.parse_args(argv)
    images = labelled_images(args.data, limit=args.limit)
    truths = [c for _, c in images]
    clf = Classifier.load()
    info = machine()
    rows = {"test images as given": compare(clf, [p.read_bytes() for p, _ in images], truths)}
    if args.upscale:
        for fmt in ("JPEG", "PNG"):
            rows[f"upscaled to {args.upscale} px {fmt}"] = compare(
                clf, [upscaled(p, args.upscale, fmt) for p, _ in images], truths)
    print(f"\n## Reduced (draft) decoding vs full decoding: {len(images)} test images\n")
    print_machine(info)
    print(table(["input", "images", "labels changed", "accuracy draft", "accuracy full", "prepare ms draft",
                 "prepare ms full"],
                [[k, r["n"], r["changed"], f"{100 * r['accuracy_draft']:.2f}%", f"{100 * r['accuracy_full']:.2f}%",
                  r["ms_draft"], r["ms_full"]] for k, r in rows.items()], digits=2))
    write_json(args.json, {"machine": info, "results": rows})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
