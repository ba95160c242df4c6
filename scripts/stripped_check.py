"""How often braintumor.stripped takes a slice for skull-stripped, on Training: real slices against crude strips.

    python scripts/stripped_check.py [--model FILE] [--data ROOT] [--limit N] [--json F]

Each Training slice is cropped as predict crops it (``Classifier.inspect_crop`` of its PNG bytes), and so is its crude
strip (scripts/skull_stripped.py's ``strip``; plausible strips only, as that script keeps them). Printed per half of
Training (even and odd index in the sorted file list: the rule was chosen on the even half and checked on the odd
one, docs/RESULTS.md "Skull-stripped slices"): the share of real slices and of strips that :func:`looks_stripped`,
and the statistic's quantiles. Never Testing: scripts/skull_stripped.py measures the note there.
"""

from __future__ import annotations

import argparse
import io
import json
from pathlib import Path

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)
import numpy as np
from _image_set import DATA_HELP, JSON_HELP, MODEL_HELP, output_file
from PIL import Image
from skull_stripped import PLAUSIBLE, strip

from braintumor.data import DEFAULT_DATA_ROOT, load_dataset
from braintumor.file_names import utf8_document
from braintumor.image_io import decode_image
from braintumor.predictor import Classifier
from braintumor.report import write_text_atomic
from braintumor.script_entry import run_script
from braintumor.stripped import RINGLESS_AT_LEAST, crop_ringless_share, looks_stripped


def png(gray: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


#: The quantiles of the ringless share printed (the real slices' high ones are the margin under the rule's 0.4).
QUANTILES = (0.005, 0.01, 0.05, 0.5, 0.95, 0.99, 0.995)


def summary(values: list[float | None]) -> dict:
    """How many of ``values`` (None: no head line) are under the threshold, and their quantiles."""
    v = np.array([np.nan if x is None else x for x in values])
    known = v[~np.isnan(v)]
    flagged = sum(looks_stripped(x) for x in values)
    return {"n": len(v), "flagged": flagged, "share": flagged / len(v) if len(v) else None,
            "quantiles": {q: round(float(np.quantile(known, q)), 4) for q in QUANTILES} if len(known) else {}}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help=MODEL_HELP)
    ap.add_argument("--data", default=DEFAULT_DATA_ROOT, help=DATA_HELP)
    ap.add_argument("--limit", type=int, default=0, metavar="N", help="every k-th image so that about N remain")
    ap.add_argument("--json", type=output_file, help=JSON_HELP)
    args = ap.parse_args(argv)
    clf = Classifier.load(args.model)
    dataset = load_dataset(args.data, "Training")
    items = list(enumerate(dataset.paths))
    items = items[:: max(1, len(items) // args.limit)] if args.limit else items
    values: dict[str, list[float | None]] = {f"{h} {k}": [] for h in ("even", "odd") for k in ("real", "strips")}
    for index, path in items:
        half = "odd" if index % 2 else "even"
        gray = decode_image(path)[0]
        values[f"{half} real"].append(crop_ringless_share(clf.inspect_crop(png(gray))[0]))
        mask, share = strip(gray)
        if PLAUSIBLE[0] <= share <= PLAUSIBLE[1]:
            stripped = np.where(mask, gray, 0).astype(np.uint8)
            values[f"{half} strips"].append(crop_ringless_share(clf.inspect_crop(png(stripped))[0]))
    rows = {name: summary(v) for name, v in values.items()}
    print(f"{clf.path}: {len(items)} Training slices of {dataset.root}; looks stripped: a ringless share of at "
          f"least {RINGLESS_AT_LEAST}")
    print("| half | slices | flagged as stripped | ringless share: 0.5 / 1 / 5 / 50 / 95 / 99 / 99.5 % quantiles |")
    print("|---|---|---|---|")
    for name, r in rows.items():
        q = " / ".join(f"{x:.3f}" for x in r["quantiles"].values())
        share = "-" if r["share"] is None else f"{100 * r['share']:.2f} %"
        print(f"| {name} | {r['n']} | {r['flagged']} ({share}) | {q} |")
    if args.json:
        write_text_atomic(Path(args.json), json.dumps(utf8_document({
            "model": str(clf.path), "data": str(dataset.root), "slices": len(items),
            "ringless_at_least": RINGLESS_AT_LEAST, "plausible": list(PLAUSIBLE), "rows": rows}), indent=1))
    return 0


if __name__ == "__main__":
    run_script(main)
