"""What the shipped model answers to inputs a clinician may send instead of one plain brain-MRI slice.

    python scripts/clinician_inputs.py [--model FILE] [--data ROOT] [--slice FILE] [--seed N] [--only NAME,...]
                                       [--formats png,jpeg,...] [--montages N] [--no-head-runs] [--no-dicom]
                                       [--json F]

Each input of scripts/_clinician_images.py (synthetic X-rays and CTs, the test slice inverted, zoomed, shrunk, in a
black canvas, coloured, overlaid with text, in montages, ...) is encoded as PNG, JPEG (quality 95), BMP, TIFF and
lossless WebP and passed as a numpy array, and each goes through ``Classifier.predict`` twice, as a user's code
would send it; printed: the PNG's outcome, reason and top probability, and the formats whose outcome or reason
differ. Then: how many of N random montages of Testing slices (side by side, stacked, 2 x 2, 3 x 3) are still
answered with one label; the longest second run of head rows or columns (``InputInfo.second_head``, the montage
check's measure) over every Training and Testing slice; and what pydicom's bundled DICOM files get through
``read_volumes`` and ``predict_many``, and what pydicom's real CT slices get once exported as PNG in a viewer's
brain, soft-tissue and bone windows (a screenshot has no DICOM modality to refuse it by). Seeded: the same numbers
on every run with the same model and ONNX Runtime.
Quoted in docs/RESULTS.md ("Inputs a clinician may send"); tests/test_docs_figures.py checks the quote.
"""

from __future__ import annotations

import argparse
import io
import json
import re
import statistics
from pathlib import Path

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)
import numpy as np
from _clinician_images import CASES
from _image_set import DATA_HELP, JSON_HELP, MODEL_HELP, output_file
from PIL import Image

from braintumor.data import DEFAULT_DATA_ROOT, load_dataset
from braintumor.file_names import utf8_document
from braintumor.image_io import ImageError
from braintumor.prediction import OOD_MESSAGE
from braintumor.predictor import Classifier
from braintumor.script_entry import run_script

FORMATS = ("png", "jpeg", "bmp", "tiff", "webp", "array")
SLICE = "Testing/glioma/Te-gl_0010.jpg"  # README's example slice
MONTAGES = (("side by side", 1, 2), ("stacked", 2, 1), ("2 x 2", 2, 2), ("3 x 3", 3, 3))


def encoded(img: Image.Image, fmt: str) -> bytes | np.ndarray | None:
    """``img`` as a user would send it in ``fmt`` (None where the format cannot hold it: RGBA as JPEG)."""
    if fmt == "array":
        return np.asarray(img)
    if fmt == "jpeg" and img.mode not in ("L", "RGB"):
        return None
    buf = io.BytesIO()
    img.save(buf, format=fmt.upper(), **({"quality": 95} if fmt == "jpeg" else {"lossless": True} if fmt == "webp"
                                          else {}))
    return buf.getvalue()


def answer(clf: Classifier, source: object) -> dict:
    """One ``predict``: outcome (accepted / refused / error), label, top probability, reason, score, review flag."""
    try:
        p = clf.predict(source)
    except ImageError as exc:
        return {"outcome": "error", "label": None, "top": None, "reason": str(exc), "ood_score": None,
                "review": False}
    return {"outcome": "refused" if p.ood else "accepted", "label": p.label, "top": max(p.probabilities.values()),
            "reason": p.reason.removeprefix(f"{OOD_MESSAGE}: ") if p.ood else None, "ood_score": p.ood_score,
            "review": p.review}


def said(a: dict) -> str:
    """The outcome in the words compared across formats (not the probabilities: JPEG changes the pixels)."""
    return f"{a['outcome']}: {a['label']}" if a["outcome"] == "accepted" else f"{a['outcome']}: {a['reason']}"


def gray(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("L"))


def run_cases(clf: Classifier, args: argparse.Namespace, rng: np.random.Generator) -> list[dict]:
    cases = [c for c in CASES if not args.only or c.name in args.only]
    base, others = None, []
    if any(c.needs_data for c in cases):
        testing = load_dataset(args.data, "Testing").paths
        base_path = Path(args.data) / args.slice
        base = gray(base_path)
        picks = [p for p in testing if p.resolve() != base_path.resolve()]
        others = [gray(picks[k]) for k in rng.choice(len(picks), 8, replace=False)]
    rows = []
    for case in cases:
        img = case.build(base, others, np.random.default_rng(args.seed))
        by_format = {}
        twice = True
        for fmt in args.formats:
            source = encoded(img, fmt)
            if source is None:
                by_format[fmt] = None
                continue
            first, second = answer(clf, source), answer(clf, source)
            twice &= first == second
            by_format[fmt] = first
        main = by_format.get("png") or next(a for a in by_format.values() if a)
        rows.append({"name": case.name, "then": case.then, "size": list(img.size), "mode": img.mode, **main,
                     "formats": {f: a and said(a) for f, a in by_format.items()},
                     "formats_differing": [f for f, a in by_format.items() if a and said(a) != said(main)],
                     "twice_same": twice})
    return rows


def run_montages(clf: Classifier, data: str, n: int, rng: np.random.Generator) -> dict:
    """Of ``n`` random montages of Testing slices of each kind: how many got one label, how many the montage check
    refused, how many were refused for another reason, and the median second head run it measured."""
    paths = load_dataset(data, "Testing").paths
    cache: dict[int, np.ndarray] = {}
    out = {}
    for kind, rows, cols in MONTAGES:
        tally = {"labelled": 0, "several images": 0, "refused otherwise": 0}
        seconds = []
        for _ in range(n):
            picks = [int(k) for k in rng.choice(len(paths), rows * cols, replace=False)]
            for k in picks:
                if k not in cache:
                    cache[k] = gray(paths[k])
            tiles = [cache[k] for k in picks]
            buf = io.BytesIO()
            Image.fromarray(np.vstack([np.hstack(tiles[r * cols:(r + 1) * cols]) for r in range(rows)])).save(
                buf, format="PNG")
            a = answer(clf, buf.getvalue())
            key = ("labelled" if a["outcome"] == "accepted" else
                   "several images" if (a["reason"] or "").startswith("several images") else "refused otherwise")
            tally[key] += 1
            seconds.append(clf.inspect_crop(buf.getvalue())[1].second_head)
        out[kind] = {**tally, "median_second_head": round(statistics.median(seconds), 3)}
    return {"n": n, "kinds": out}


def run_head_runs(clf: Classifier, data: str) -> dict:
    """The second head run (share of the first) of every Training and Testing slice, as the montage check reads it."""
    values = []
    for split in ("Training", "Testing"):
        for path in load_dataset(data, split).paths:
            values.append((clf.inspect_crop(path)[1].second_head, f"{split}/{path.parent.name}/{path.name}"))
    top, where = max(values)
    limit = clf.ood.max_second_head if clf.ood else None
    return {"slices": len(values), "max": round(top, 3), "max_slice": where, "limit": limit,
            "at_or_over_limit": sum(v >= limit for v, _ in values) if limit is not None else None}


def run_dicom(clf: Classifier) -> list[dict]:
    """pydicom's bundled files (those inside the package only: nothing is downloaded), through read_volumes;
    GDCM's lines on stderr (a damaged stream's) dropped, as ``predict``'s."""
    import pydicom.data

    from braintumor.quiet_libraries import decoders_quiet
    from braintumor.volume_io import read_volumes

    rows = []
    for path in sorted((Path(pydicom.data.__file__).parent / "test_files").glob("*.dcm")):
        try:
            with decoders_quiet():
                slices = [s for v in read_volumes(path) for s in v.slices]
        except ImageError as exc:
            rows.append({"file": path.name, "modality": None, "slices": 0, "outcomes": {f"error: {exc}": 1}})
            continue
        outcomes: dict[str, int] = {}
        for _, p in clf.predict_many(slices):
            key = f"error: {p}" if isinstance(p, ImageError) else \
                f"refused: {p.reason.removeprefix(f'{OOD_MESSAGE}: ')}" if p.ood else f"accepted: {p.label}"
            outcomes[key] = outcomes.get(key, 0) + 1
        modality = {s.meta.get("dicom", {}).get("modality") for s in slices}
        rows.append({"file": path.name, "modality": ", ".join(sorted(m or "?" for m in modality)),
                     "slices": len(slices), "outcomes": outcomes})
    return rows


#: CT windows (level, width in Hounsfield units) a viewer may show a CT slice in before it is exported as an image.
WINDOWS = (("brain", 40, 80), ("soft tissue", 50, 400), ("bone", 400, 1800))


def run_ct_images(clf: Classifier) -> list[dict]:
    """pydicom's bundled real CT slices (every file whose Modality is CT and whose pixels decode), each exported as a
    PNG in the :data:`WINDOWS` a viewer shows CT in: what a screenshot of a CT gets, where no DICOM modality says CT."""
    import pydicom
    import pydicom.data

    from braintumor.quiet_libraries import quiet_libraries

    rows = []
    for path in sorted((Path(pydicom.data.__file__).parent / "test_files").glob("*.dcm")):
        try:
            with quiet_libraries("pydicom."):  # its doubts ("Expected explicit VR, but found implicit VR"), as ours
                ds = pydicom.dcmread(path)
                if ds.get("Modality") != "CT":
                    continue
                slope, intercept = float(ds.get("RescaleSlope", 1)), float(ds.get("RescaleIntercept", 0))
                hu = ds.pixel_array.astype(np.float32) * slope + intercept
        except Exception:  # a file pydicom cannot decode here is no CT image to send
            continue
        for window, level, width in WINDOWS:
            frame = np.clip((hu - (level - width / 2)) / width * 255, 0, 255).astype(np.uint8)
            buf = io.BytesIO()
            Image.fromarray(frame).save(buf, format="PNG")
            rows.append({"file": path.name, "size": list(frame.shape[::-1]), "body_part": ds.get("BodyPartExamined"),
                         "window": window, **answer(clf, buf.getvalue())})
    return rows


def dicom_summary(rows: list[dict]) -> dict:
    """Files per outcome (a file's slices all share one here; "mixed" where they would not): what the docs quote."""
    by: dict[str, int] = {}
    for r in rows:
        kinds = {k.split(":", 1)[0] if k.startswith(("error", "accepted")) else re.sub(r" \(\d+x\d+\)$", "", k)
                 for k in r["outcomes"]}  # "extreme aspect ratio (10x45)": one outcome, whatever the size
        key = kinds.pop() if len(kinds) == 1 else "mixed"
        by[key] = by.get(key, 0) + 1
    import pydicom

    return {"pydicom": pydicom.__version__, "files": len(rows), "slices": sum(r["slices"] for r in rows),
            "by_outcome": dict(sorted(by.items(), key=lambda kv: (-kv[1], kv[0])))}


def table(columns: tuple[str, ...], rows) -> None:
    """A Markdown table of ``rows`` under ``columns``."""
    print(f"| {' | '.join(columns)} |\n|{'---|' * len(columns)}")
    for row in rows:
        print(f"| {' | '.join(str(v) for v in row)} |")


def pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f} %"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help=MODEL_HELP)
    ap.add_argument("--data", default=DEFAULT_DATA_ROOT, help=DATA_HELP)
    ap.add_argument("--slice", default=SLICE, help=f"the base test slice, under --data (default {SLICE})")
    ap.add_argument("--seed", type=int, default=0, help="seed of the random inputs: montages, noise (default 0)")
    ap.add_argument("--only", type=lambda s: s.split(","), help="these inputs only (names as printed, by commas)")
    ap.add_argument("--formats", type=lambda s: s.split(","), default=list(FORMATS),
                    help=f"each input sent as these, by commas (default: all, {','.join(FORMATS)})")
    ap.add_argument("--montages", type=int, default=100, help="random montages of each kind (0: none)")
    ap.add_argument("--no-head-runs", action="store_true", help="skip the pass over every Training and Testing slice")
    ap.add_argument("--no-dicom", action="store_true", help="skip pydicom's bundled files")
    ap.add_argument("--json", type=output_file, help=JSON_HELP)
    args = ap.parse_args()
    if bad := [f for f in args.formats if f not in FORMATS]:
        ap.error(f"--formats: unknown {', '.join(bad)} (known: {', '.join(FORMATS)})")
    if bad := [n for n in args.only or () if n not in {c.name for c in CASES}]:
        ap.error(f"--only: unknown {', '.join(map(repr, bad))}")
    clf = Classifier.load(args.model)
    rng = np.random.default_rng(args.seed)
    doc: dict = {"model": str(clf.path), "data": str(args.data), "slice": args.slice, "seed": args.seed,
                 "formats": args.formats, "cases": run_cases(clf, args, rng)}
    print(f"{clf.path}, base slice {args.slice}, seed {args.seed}; each input as {', '.join(args.formats)}, twice:\n")
    print("| input | size | outcome | reason | top probability | score | formats differing | scratch check (history) |")
    print("|---|---|---|---|---|---|---|---|")
    for r in doc["cases"]:
        what = f"{r['outcome']}" + (f": {r['label']}" + (", lower confidence" if r["review"] else "")
                                    if r["outcome"] == "accepted" else "")
        differ = ", ".join(f"{f} ({r['formats'][f]})" for f in r["formats_differing"]) or "none"
        print(f"| {r['name']} | {r['size'][0]} x {r['size'][1]} {r['mode']} | {what} | {r['reason'] or '-'} | "
              f"{pct(r['top'])} | {r['ood_score'] if r['ood_score'] is not None else '-'} | {differ}"
              f"{'' if r['twice_same'] else '; NOT the same twice'} | {r['then']} |")
    if args.montages:
        doc["montages"] = run_montages(clf, args.data, args.montages, rng)
        print(f"\n{args.montages} random montages of Testing slices of each kind, with today's montage check only (the "
              "answers before the check existed cannot be reproduced by this script):\n")
        print("| montage | one label | refused: several images | refused otherwise | median second head run |")
        print("|---|---|---|---|---|")
        for kind, m in doc["montages"]["kinds"].items():
            print(f"| {kind} | {m['labelled']} | {m['several images']} | {m['refused otherwise']} | "
                  f"{m['median_second_head']} |")
    if not args.no_head_runs:
        h = doc["head_runs"] = run_head_runs(clf, args.data)
        print(f"\nSecond head run over {h['slices']} Training and Testing slices: at most {h['max']} of the first "
              f"({h['max_slice']}); {h['at_or_over_limit']} at or over the check's limit {h['limit']}")
    if not args.no_dicom:
        doc["dicom"] = run_dicom(clf)
        print("\npydicom's bundled files, through read_volumes and predict_many:\n")
        table(("file", "modality", "slices", "outcomes"),
              ((d["file"], d["modality"] or "-", d["slices"], "; ".join(f"{k} ({n})" for k, n in d["outcomes"].items()))
               for d in doc["dicom"]))
        summary = doc["dicom_summary"] = dicom_summary(doc["dicom"])
        print(f"\npydicom {summary['pydicom']}: {summary['files']} files, {summary['slices']} slices; per outcome "
              "(files; error: not read):")
        for key, n in summary["by_outcome"].items():
            print(f"- {key}: {n}")
        doc["ct_images"] = run_ct_images(clf)
        print("\npydicom's real CT slices exported as PNG in a viewer's windows (no modality to refuse them by):\n")
        table(("file", "size", "window", "outcome", "top probability", "score"),
              ((r["file"], f"{r['size'][0]} x {r['size'][1]}", r["window"], said(r), pct(r["top"]), r["ood_score"])
               for r in doc["ct_images"]))
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(utf8_document(doc), fh, indent=1)
    return 0


if __name__ == "__main__":
    run_script(main)
