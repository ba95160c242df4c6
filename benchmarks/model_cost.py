#!/usr/bin/env python3
"""Parameters and multiply-adds of every registered architecture, and their ratio to the shipped one.

    python benchmarks/model_cost.py [--image-size 160 ...]

Why: docs/RESULTS.md and docs/TRAINING.md compare architectures by this cost; this prints it.
"""

from __future__ import annotations

import argparse

import _common  # noqa: F401  (the checkout's src first on sys.path)

from braintumor.model import MODELS, count_multiply_adds, count_parameters, create_model

SHIPPED = "tumornet-s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--image-size", type=int, nargs="+", default=[160], help="input sides in pixels (default 160)")
    args = ap.parse_args(argv)
    base = {s: count_multiply_adds(create_model(SHIPPED), s) for s in args.image_size}
    print(f"| model | image size | parameters | multiply-adds (M) | vs {SHIPPED} at that size |")
    print("|---|---|---|---|---|")
    for name in MODELS:
        model = create_model(name)
        for size in args.image_size:
            macs = count_multiply_adds(model, size)
            print(f"| {name} | {size} | {count_parameters(model):,} | {macs / 1e6:.1f} | {macs / base[size]:.2f}x |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
