#!/usr/bin/env python3
"""Single-image latency and batch throughput, end to end, with each path's accuracy beside it.

    python benchmarks/latency.py [--limit 5] [--checkpoint RUN/best.pt] [--threads N] [--json out.json]

Paths measured on the same test images (all 1311 by default; --limit N = first N per class):

- ours, ONNX Runtime: what a request does (web/inference.py). "predict" = read file + decode +
  preprocess + model (``Classifier.predict``); "+CAM" = the same plus the class-activation map of the
  predicted class at input size (``heatmap.explain``: what the issue calls end to end); "+heatmap" = the
  ``?heatmap=1`` API work (``classify(..., heatmap=True)``: model + CAM + two PNGs + base64).
- ours, torch eager: the same numpy preprocessing, the network in torch (``--checkpoint`` best.pt;
  without one, the weights are read back from the shipped ONNX file, whose BatchNorms are folded).
- detect-tumor (PyPI), in its own venv via compare_peers.py (one image per call: its API has no batch).

Each path takes a block of ``--block`` images (50) in turn, so each is timed in the steady state of a
stream of its own requests, as detect-tumor's one-image-per-call loop is (``--block 1`` = alternate per image).

Batch throughput: ``predict_many`` at batch 32 (read + decode + preprocess + model), and the model
alone on preprocessed batches of 32. Why: the README and docs/PERFORMANCE.md quote these numbers.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from _common import REPO, common_args, labelled_images, machine, percentile, print_machine, table, write_json

from braintumor.cpu_quota import default_threads
from braintumor.heatmap import encode_png, explain, normalise, overlay, upsample
from braintumor.model_files import default_model_path
from braintumor.model_loading import DEFAULT_MAX_THREADS
from braintumor.prediction import softmax
from braintumor.predictor import Classifier
from braintumor.preprocess import PreprocessConfig, preprocess
from braintumor.web.inference import Upload, classify

BATCH = 32


def _stats(ms: list[float]) -> dict[str, float | None]:
    return {"p50_ms": percentile(ms, 0.5), "p95_ms": percentile(ms, 0.95),
            "mean_ms": float(np.mean(ms)) if ms else None}


def _model_only_rate(run, inputs: np.ndarray, min_seconds: float = 3.0) -> float:
    """Images/s of ``run`` on preprocessed batches of BATCH, repeated for at least ``min_seconds``."""
    batches = [inputs[i:i + BATCH] for i in range(0, len(inputs), BATCH)]
    run(batches[0])  # warm-up
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < min_seconds:
        for b in batches:
            run(b)
            n += len(b)
    return n / (time.perf_counter() - t0)


def _blocks(images: list[tuple[Path, str]], block: int) -> list[list[tuple[Path, str]]]:
    """Consecutive runs of ``block`` images. Each path measures a whole block before the other takes the same
    block: drift in CPU speed hits both alike, and neither pays for the other's cache footprint (a heat-map
    request's PNG work evicts the predictor's weights; with ``block`` 1 each predict took 0.1-0.3 ms longer)."""
    return [images[i:i + block] for i in range(0, len(images), block)]


def bench_onnx(images: list[tuple[Path, str]], model: Path, threads: int | None, warmup: int,
               block: int = 50) -> dict[str, Any]:
    t0 = time.perf_counter()
    clf = Classifier.load(model, threads=threads)
    load_s = time.perf_counter() - t0
    for p, _ in images[:warmup]:
        classify(clf, [Upload(p.name, p.read_bytes())], heatmap=True)
    pred_ms, cam_ms, heat_ms, correct = [], [], [], 0
    for chunk in _blocks(images, block):
        for p, truth in chunk:
            t = time.perf_counter()
            pred = clf.predict(p.read_bytes())
            pred_ms.append((time.perf_counter() - t) * 1e3)
            # the model's accuracy (a refused slice by its most probable class), comparable with the peer's
            correct += max(pred.probabilities, key=pred.probabilities.get) == truth
        for p, _ in chunk:
            t = time.perf_counter()
            ex = explain(clf, p.read_bytes())
            cam_ms.append((time.perf_counter() - t) * 1e3)
            assert ex.cam is not None or ex.prediction.ood  # refused: no map
        for p, _ in chunk:
            t = time.perf_counter()
            rec = classify(clf, [Upload(p.name, p.read_bytes())], heatmap=True)[0]
            heat_ms.append((time.perf_counter() - t) * 1e3)
            assert "heatmap_png_base64" in rec or rec.get("ood"), rec.get("error")  # refused: no heat map
    paths = [p for p, _ in images]
    t = time.perf_counter()
    n = sum(1 for _ in clf.predict_many(paths, batch_size=BATCH))
    batch_rate = n / (time.perf_counter() - t)
    inputs = np.stack([clf.preprocess(p) for p in paths])
    model_rate = _model_only_rate(clf.run, inputs)
    return {"tool": "ours, ONNX Runtime", "correct": correct, "total": len(images), "load_s": load_s,
            "predict": _stats(pred_ms), "cam": _stats(cam_ms), "heatmap": _stats(heat_ms), "batch_img_s": batch_rate,
            "model_only_img_s": model_rate, "threads": clf.session.get_session_options().intra_op_num_threads}


def stage_breakdown(images: list[tuple[Path, str]], model: Path, threads: int | None) -> dict[str, float]:
    """Median ms per stage of the heat-map request, from the library's own functions."""
    from braintumor.heatmap import explain_batch
    from braintumor.image_io import read_image
    from braintumor.preprocess import prepare, to_model_input

    clf = Classifier.load(model, threads=threads)
    cfg = clf.preprocess_config
    times: dict[str, list[float]] = {k: [] for k in ("read file", "decode", "crop + resize", "model",
                                                       "CAM + 2 PNGs")}
    for p, _ in images:
        t0 = time.perf_counter()
        data = p.read_bytes()
        t1 = time.perf_counter()
        gray = read_image(data, draft_size=2 * cfg.image_size)
        t2 = time.perf_counter()
        x = to_model_input(prepare(gray, cfg))[None]
        t3 = time.perf_counter()
        clf.run(x)
        t4 = time.perf_counter()
        ex = explain_batch(clf, x)[0]  # runs the model again: its own model time is subtracted below
        ex.heatmap_png(), ex.image_png()
        t5 = time.perf_counter()
        for k, v in zip(times, (t1 - t0, t2 - t1, t3 - t2, t4 - t3, (t5 - t4) - (t4 - t3)), strict=True):
            times[k].append(v * 1e3)
    return {k: float(np.median(v)) for k, v in times.items()}


def _torch_model(checkpoint: Path | None, onnx_path: Path):
    """(model in eval mode, PreprocessConfig) from a checkpoint, else from the ONNX file's weights."""
    from braintumor.export import load_checkpoint

    model, ck, _ = load_checkpoint(checkpoint if checkpoint is not None else onnx_path)
    source = f"checkpoint {checkpoint}" if checkpoint is not None else f"weights read back from {onnx_path.name}"
    return model, PreprocessConfig.from_dict(ck["meta"]["preprocess"]), source


def bench_torch(images: list[tuple[Path, str]], checkpoint: Path | None, onnx_path: Path, threads: int | None,
                warmup: int, block: int = 50) -> dict[str, Any]:
    import torch

    torch.set_num_threads(threads or default_threads(at_most=DEFAULT_MAX_THREADS))  # what Classifier.load gives ORT
    t0 = time.perf_counter()
    model, cfg, source = _torch_model(checkpoint, onnx_path)
    load_s = time.perf_counter() - t0
    classes = Classifier.load(onnx_path, threads=1).classes
    weight = model.fc.weight.detach()

    def one(path: Path, cam: bool = False, pngs: bool = False) -> tuple[str, float]:
        cam = cam or pngs  # the PNGs draw the CAM
        t = time.perf_counter()
        x = torch.from_numpy(preprocess(path.read_bytes(), cfg))[None]
        with torch.inference_mode():
            feats = model.forward_features(x)
            probs = softmax(model.fc(feats.mean(dim=(2, 3))).numpy())[0]
            k = int(np.argmax(probs))
            if cam:
                raw = torch.einsum("c,chw->hw", weight[k], feats[0]).double().numpy()
        if cam:
            heat = upsample(normalise(raw), cfg.image_size)
        if pngs:
            view = np.round(x[0, 0].numpy() * 255.0).astype(np.uint8)
            encode_png(overlay(view, heat)), encode_png(view)
        return classes[k], (time.perf_counter() - t) * 1e3

    for p, _ in images[:warmup]:
        one(p, pngs=True)
    pred_ms, cam_ms, heat_ms, correct = [], [], [], 0
    for chunk in _blocks(images, block):
        for p, truth in chunk:
            label, ms = one(p)
            pred_ms.append(ms)
            correct += label == truth
        cam_ms.extend(one(p, cam=True)[1] for p, _ in chunk)
        heat_ms.extend(one(p, pngs=True)[1] for p, _ in chunk)
    paths = [p for p, _ in images]
    t = time.perf_counter()
    with torch.inference_mode():
        for i in range(0, len(paths), BATCH):
            xb = torch.from_numpy(np.stack([preprocess(p.read_bytes(), cfg) for p in paths[i:i + BATCH]]))
            softmax(model(xb).numpy())
    batch_rate = len(paths) / (time.perf_counter() - t)
    inputs = torch.from_numpy(np.stack([preprocess(p, cfg) for p in paths]))
    with torch.inference_mode():
        model_rate = _model_only_rate(model, inputs)
    return {"tool": "ours, torch eager", "correct": correct, "total": len(images), "load_s": load_s,
            "predict": _stats(pred_ms), "cam": _stats(cam_ms), "heatmap": _stats(heat_ms), "batch_img_s": batch_rate,
            "model_only_img_s": model_rate, "threads": torch.get_num_threads(), "weights": source,
            "torch": torch.__version__}


def bench_peer(images: list[tuple[Path, str]], venv_dir: Path) -> dict[str, Any]:
    """detect-tumor through compare_peers.py's venv and runner (raises RuntimeError when unavailable)."""
    from compare_peers import PEERS, ensure_venv, run_peer

    peer = PEERS["detect-tumor"]
    venv_dir.mkdir(parents=True, exist_ok=True)
    py, _ = ensure_venv(peer, venv_dir)
    r = run_peer(peer, py, images, venv_dir / f"{peer.name}.latency.log")
    ms = [p["ms"] for p in r["predictions"] if p["error"] is None]
    return {"tool": f"detect-tumor {r['version']} (PyPI)", "correct": r["correct"], "total": r["total"],
            "load_s": r["load_s"], "predict": _stats(ms), "cam": _stats([]), "heatmap": _stats([]),
            "batch_img_s": None, "model_only_img_s": None, "sequential_img_s": 1e3 / float(np.mean(ms)) if ms else None,
            "failed": r["failed"], "threads": "ORT default"}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--split", default="Testing", help="the split of --data timed (default %(default)s)")
    ap.add_argument("--limit", type=int, default=None, metavar="N", help="first N images per class (smoke runs)")
    ap.add_argument("--model", type=Path, default=None, help="ONNX model (default: the shipped one)")
    ap.add_argument("--checkpoint", type=Path, default=None, help="torch best.pt for the eager path")
    ap.add_argument("--threads", type=int, default=None, help="intra-op threads for ORT and torch "
                    "(default: Classifier.load's default, min(cores, 4))")
    ap.add_argument("--warmup", type=int, default=5, help="untimed images first, per path (default %(default)s)")
    ap.add_argument("--skip", default="", help="comma-separated: onnx,torch,peer,stages")
    ap.add_argument("--block", type=int, default=50, help="images per block: each path (predict, heat-map "
                    "request) runs a whole block in turn; 1 = alternate per image (how this script measured "
                    "until 2026-11-28: the heat-map work then evicts the predictor's caches before every predict)")
    ap.add_argument("--venv-dir", type=Path, default=REPO / ".cache/peers",
                    help="detect-tumor's venv lives here, as compare_peers.py makes it (default: .cache/peers)")
    args = ap.parse_args(argv)
    skip = {s.strip() for s in args.skip.split(",") if s.strip()}
    images = labelled_images(args.data, args.split, args.limit)
    model = args.model or default_model_path()
    info = machine()
    results, skipped, stages = [], {}, None
    if "onnx" not in skip:
        print(f"[onnx] {len(images)} images ...", file=sys.stderr, flush=True)
        results.append(bench_onnx(images, model, args.threads, args.warmup, args.block))
    if "stages" not in skip:
        stages = stage_breakdown(images, model, args.threads)
    if "torch" not in skip:
        if args.checkpoint is not None and not args.checkpoint.is_file():
            skipped["torch"] = f"checkpoint not found: {args.checkpoint}"
        elif args.checkpoint is None and "quantization" in Classifier.load(model, threads=1).metadata:
            skipped["torch"] = "an int8 file has no float weights to read back: pass --checkpoint RUN/best.pt"
        else:
            try:
                print("[torch] ...", file=sys.stderr, flush=True)
                results.append(bench_torch(images, args.checkpoint, model, args.threads, args.warmup, args.block))
            except ImportError as exc:
                skipped["torch"] = f"needs the [train] extra ({exc.name} missing)"
    if "peer" not in skip:
        try:
            print("[detect-tumor] ...", file=sys.stderr, flush=True)
            results.append(bench_peer(images, args.venv_dir.resolve()))
        except RuntimeError as exc:
            skipped["detect-tumor"] = str(exc)

    scope = f"first {args.limit} per class" if args.limit else "all"
    print(f"\n## Latency and throughput: {len(images)} test images ({scope})\n")
    print(f"- order: blocks of {args.block} images, each path (predict, +CAM, heat-map request) in turn (--block)")
    print_machine(info)
    head = ["path", "accuracy", "predict p50 ms", "predict p95 ms", "+CAM p50 ms", "+CAM p95 ms",
            "+heatmap p50 ms", "+heatmap p95 ms",
            f"batch-{BATCH} img/s", f"model-only batch-{BATCH} img/s", "load s", "threads"]
    rows = [[r["tool"], f"{r['correct']}/{r['total']} ({100 * r['correct'] / r['total']:.2f}%)",
             r["predict"]["p50_ms"], r["predict"]["p95_ms"], r["cam"]["p50_ms"], r["cam"]["p95_ms"],
             r["heatmap"]["p50_ms"], r["heatmap"]["p95_ms"],
             r["batch_img_s"] if r["batch_img_s"] is not None else r.get("sequential_img_s"),
             r["model_only_img_s"], r["load_s"], r["threads"]] for r in results]
    print(table(head, rows, digits=2))
    print("\n(detect-tumor has no batch API: its throughput column is one image per call, sequentially.)")
    for name, why in skipped.items():
        print(f"- skipped {name}: {why}")
    ours = next((r for r in results if r["tool"] == "ours, ONNX Runtime"), None)
    peer = next((r for r in results if r["tool"].startswith("detect")), None)
    if ours and peer and peer["predict"]["p50_ms"]:
        ratio = peer["predict"]["p50_ms"] / ours["predict"]["p50_ms"]
        print(f"\nours (ONNX) vs detect-tumor, p50 single-image predict: {ratio:.1f}x faster "
              f"({ours['predict']['p50_ms']:.2f} vs {peer['predict']['p50_ms']:.2f} ms)")
        if ours["cam"]["p50_ms"]:  # the end to end: ours with its CAM against the peer's plain predict
            print(f"ours +CAM vs detect-tumor predict, p50: {peer['predict']['p50_ms'] / ours['cam']['p50_ms']:.1f}x "
                  f"faster ({ours['cam']['p50_ms']:.2f} vs {peer['predict']['p50_ms']:.2f} ms)")
        if peer.get("sequential_img_s"):
            r2 = ours["batch_img_s"] / peer["sequential_img_s"]
            print(f"ours batch-{BATCH} throughput vs detect-tumor one-by-one: {r2:.1f}x")
    if stages:
        print("\n### Where a heat-map request's time goes (median ms per image, ONNX path)\n")
        print(table(["stage", "ms"], [[k, v] for k, v in stages.items()], digits=3))
    write_json(args.json, {"machine": info, "images": len(images), "limit": args.limit, "results": results,
                           "stages_ms": stages, "skipped": skipped})
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
