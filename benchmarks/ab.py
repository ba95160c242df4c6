#!/usr/bin/env python3
"""Interleaved A/B timings of the cheap optimisations considered in docs/PERFORMANCE.md.

    python benchmarks/ab.py [--rounds 30] [--images 32] [--json out.json]

Each round runs every variant once on the same images, in a rotating order, so a busy or
throttling CPU slows all variants alike; the table gives each variant's median ms per image
and its ratio to the first (baseline) variant of its group. Why: an optimisation is kept only
when it shows a gain here, and this is the command that shows it.
"""

from __future__ import annotations

import argparse
import functools
import io
import time
import zlib
from collections.abc import Callable

import numpy as np
import onnxruntime as ort
from _common import common_args, labelled_images, machine, print_machine, table, write_json
from PIL import Image

from braintumor.image_io import read_image
from braintumor.model_files import default_model_path
from braintumor.predictor import Classifier
from braintumor.preprocess import prepare, to_model_input


def session(threads: int, **config: str | int) -> ort.InferenceSession:
    """An ORT session like Classifier.load's, with extra options ('mode', 'level', config entries)."""
    opts = ort.SessionOptions()
    opts.graph_optimization_level = config.pop("level", ort.GraphOptimizationLevel.ORT_ENABLE_ALL)
    opts.execution_mode = config.pop("mode", ort.ExecutionMode.ORT_SEQUENTIAL)
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    for key, value in config.items():
        opts.add_session_config_entry(key, str(value))
    return ort.InferenceSession(str(default_model_path()), opts, providers=["CPUExecutionProvider"])


def png(level: int) -> Callable[[np.ndarray], bytes]:
    def encode(pixels: np.ndarray) -> bytes:
        buf = io.BytesIO()
        Image.fromarray(pixels).save(buf, format="PNG", compress_level=level)
        return buf.getvalue()
    return encode


@functools.lru_cache(maxsize=1)
def old_colour_table(steps: int = 4096) -> np.ndarray:
    from braintumor.heatmap import colorize

    return colorize(np.linspace(0.0, 1.0, steps))


def blend_overlay(gray: np.ndarray, heat: np.ndarray, alpha: float = 0.6) -> np.ndarray:
    """heatmap.overlay until 2026-11-28: colours from a 4096-step table, blended per pixel in float32."""
    table = old_colour_table()
    colour = table[np.rint(np.clip(heat, 0.0, 1.0) * (len(table) - 1)).astype(np.intp)]
    base = np.asarray(gray, dtype=np.float32)[..., None]
    w = (np.float32(alpha) * np.clip(heat, 0.0, 1.0, dtype=np.float32))[..., None]
    return np.round(base * (1.0 - w) + colour.astype(np.float32) * w).astype(np.uint8)


Group = tuple[int, dict[str, Callable[[], object]]]


def groups(datas: list[bytes], threads: int) -> dict[str, Group]:
    """{group: (images per call, {variant: work})}; the first variant of each group is the baseline."""
    clf = Classifier.load(threads=1)
    cfg = clf.preprocess_config
    x1 = np.stack([to_model_input(prepare(d, cfg)) for d in datas])
    from braintumor.heatmap import encode_png, explain_batch, overlay

    ex = explain_batch(clf, x1[:1])[0]
    rgb = overlay(ex.image, ex.cam)
    out: dict[str, Group] = {}
    n = len(datas)
    sess = {
        "ORT defaults (threads spin)": session(threads),
        "no spinning (shipped, 1 thread)": session(threads, **{"session.intra_op.allow_spinning": 0}),
        "parallel mode (shipped, >= 2 threads)": session(threads, mode=ort.ExecutionMode.ORT_PARALLEL),
        "parallel mode + no spinning": session(threads, mode=ort.ExecutionMode.ORT_PARALLEL,
                                               **{"session.intra_op.allow_spinning": 0,
                                                  "session.inter_op.allow_spinning": 0}),
        "extended (not all) graph opt.": session(threads, level=ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED),
    }
    out[f"ORT session, batch 1, {threads} thread(s)"] = (n, {
        k: (lambda s=s: [s.run(None, {"image": x1[i:i + 1]}) for i in range(n)]) for k, s in sess.items()})
    out[f"ORT session, batch {len(x1[:32])}, {threads} thread(s)"] = (len(x1[:32]), {
        k: (lambda s=s: s.run(None, {"image": x1[:32]})) for k, s in sess.items()})
    out["heat-map overlay (colour blend)"] = (1, {
        "per-pixel float blend (until 2026-11-28)": lambda: blend_overlay(ex.image, ex.cam),
        "table lookup (shipped)": lambda: overlay(ex.image, ex.cam)})
    out["PNG encode (heat-map overlay + crop)"] = (1, {
        **{f"Pillow, compress_level {lvl}{note}": (lambda f=f: [f(rgb), f(ex.image)])
           for lvl, f, note in ((6, png(6), ""), (1, png(1), " (until 2026-11-28)"))},
        "encode_png: Up filter + zlib 1 (shipped)": lambda: [encode_png(rgb), encode_png(ex.image)],
        "encode_png with zlib's Z_RLE strategy (not taken)": lambda: [encode_png(rgb, strategy=zlib.Z_RLE),
                                                                      encode_png(ex.image, strategy=zlib.Z_RLE)]})
    crops = [prepare(d, cfg) for d in datas]
    out["256-bin histogram of a model-input crop (ood_stats.level_histograms)"] = (n, {
        "np.bincount (until 2026-12-05)": lambda: [np.bincount(c.ravel(), minlength=256) for c in crops],
        "Pillow Image.histogram, as an array": lambda: [np.array(Image.fromarray(c).histogram()) for c in crops],
        "Pillow Image.histogram, its list (shipped)": lambda: [Image.fromarray(c).histogram() for c in crops]})
    size = 2 * cfg.image_size
    out["JPEG decode (images as given)"] = (n, {
        "draft (shipped)": lambda: [read_image(d, draft_size=size) for d in datas],
        "full decode": lambda: [read_image(d) for d in datas],
    })
    big = [encode_png(np.asarray(Image.fromarray(prepare(d, cfg)).resize((2048, 2048)))) for d in datas[:4]]
    out["2048 px PNG: decode + crop + resize"] = (len(big), {
        "reduce after decoding (shipped)": lambda: [prepare(d, cfg) for d in big],
        "no reduce": lambda: [prepare(read_image(d), cfg) for d in big],
    })
    return out


def png_sizes(datas: list[bytes]) -> dict[str, float]:
    """Mean bytes of the two PNGs of a heat-map request (overlay + crop) per encoder, over ``datas``."""
    from braintumor.heatmap import encode_png, explain, overlay

    clf = Classifier.load(threads=1)
    exs = [ex for ex in (explain(clf, d) for d in datas) if ex.cam is not None]
    encoders = {"Pillow, compress_level 6": png(6), "Pillow, compress_level 1": png(1), "encode_png": encode_png,
                "encode_png, Z_RLE": lambda px: encode_png(px, strategy=zlib.Z_RLE)}
    return {k: float(np.mean([len(f(overlay(ex.image, ex.cam))) + len(f(ex.image)) for ex in exs]))
            for k, f in encoders.items()}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--rounds", type=int, default=30,
                    help="interleaved timed rounds of each variant (default %(default)s)")
    ap.add_argument("--images", type=int, default=32, help="test images per round (8 per class)")
    ap.add_argument("--threads", type=int, nargs="+", default=[1, 2],
                    help="ONNX Runtime intra-op threads, one measurement each (default: 1 2)")
    args = ap.parse_args(argv)
    datas = [p.read_bytes() for p, _ in labelled_images(args.data, limit=max(1, args.images // 4))]
    info = machine()
    results: dict[str, dict[str, float]] = {}
    for threads in args.threads:
        for group, (units, variants) in groups(datas, threads).items():
            if group in results:
                continue
            times: dict[str, list[float]] = {k: [] for k in variants}
            names = list(variants)
            for f in variants.values():
                f()  # warm-up
            for r in range(args.rounds):
                for k in names[r % len(names):] + names[:r % len(names)]:
                    t = time.perf_counter()
                    variants[k]()
                    times[k].append((time.perf_counter() - t) * 1e3 / units)
            results[group] = {k: float(np.median(v)) for k, v in times.items()}
    print(f"\n## A/B: {len(datas)} images x {args.rounds} interleaved rounds\n")
    print_machine(info)
    rows = []
    for group, res in results.items():
        base = next(iter(res.values()))
        rows += [[group, k, v, base / v] for k, v in res.items()]
    print(table(["what", "variant", "median ms per image", "speed vs first"], rows, digits=3))
    sizes = png_sizes(datas)
    print("\nPNG bytes of a heat-map request (overlay + crop, mean over the images): "
          + ", ".join(f"{k} {v / 1e3:.1f} kB" for k, v in sizes.items()))
    write_json(args.json, {"machine": info, "rounds": args.rounds, "images": len(datas), "results": results,
                           "png_bytes": sizes})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
