#!/usr/bin/env python3
"""Near duplicates inside Training and the validation split: the numbers docs/TRAINING.md quotes.

    python scripts/split_leaks.py [--data ROOT] [--run models [--model FILE]] [--seeds 0 1 2]

Why: a validation image with a near duplicate among the training images makes the validation score that selects a
run optimistic. This prints Training's groups of near duplicates (the audit's definition: 256-bit pHash within 8
bits, ``image_hashes.duplicate_groups``), how many validation images of ``--run``'s split.json have a near duplicate
(and how many an exact pixel copy) in its training part (with ``--model``, how many of those and of the others
the model answers right), and, for each seed, the split a new run draws: its size,
its per-class counts and the same count, which grouping keeps at 0, beside the count of the split drawn image by image
(``--no-group-duplicates``, the shipped run's). Hashes are cached (36 s the first time).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)
import numpy as np

from braintumor.data import DEFAULT_DATA_ROOT, Dataset, DatasetError, load_dataset
from braintumor.data_splits import stratified_split
from braintumor.file_names import os_document
from braintumor.image_hashes import DEFAULT_THRESHOLD, cached_hashes, close_pairs, near_duplicate_groups
from braintumor.wording import counted


def near_duplicates(hashes, val: np.ndarray, train: np.ndarray) -> np.ndarray:
    """The validation images (indices) with a near duplicate in ``train``."""
    return np.unique(val[close_pairs(hashes.hashes[val], hashes.hashes[train], DEFAULT_THRESHOLD)[0]])


def leaks(hashes, val: np.ndarray, train: np.ndarray) -> tuple[int, int]:
    """(validation images with a near duplicate in ``train``, those with an exact pixel copy there)."""
    near = near_duplicates(hashes, val, train)
    train_digests = {hashes.digests[k] for k in train}
    return len(near), sum(hashes.digests[k] in train_digests for k in near)


def run_split(run: Path, full: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """(validation, training) indices into ``full`` of ``run``'s split.json, or a DatasetError that says what is
    wrong: checked before any image is hashed, so a wrong --run or --data is one line, not a KeyError minutes later."""
    path = run / "split.json"
    try:
        split = os_document(json.loads(path.read_text()))  # its names as this locale lists the files
        val_names = list(split["val"])
    except OSError:
        raise DatasetError(f"no split.json in {run}: --run takes a run folder of 'braintumor train' "
                           "(models for the shipped model)") from None
    except (ValueError, KeyError, TypeError):
        raise DatasetError(f"{path} is not a split.json of 'braintumor train' (no list of validation images)") from None
    index = {p.relative_to(full.root).as_posix(): k for k, p in enumerate(full.paths)}
    val_set = set(val_names)
    # older runs list only "val": everything else trained
    train_names = split.get("train") or [r for r in index if r not in val_set]
    missing = [r for r in [*val_names, *train_names] if r not in index]
    if missing:
        raise DatasetError(f"{path} lists {counted(len(missing), 'image')} that {'is' if len(missing) == 1 else 'are'} "
                           f"not under {full.root} ({'' if len(missing) == 1 else 'e.g. '}{missing[0]}): "
                           "--data takes the dataset the run trained on"
                           + (f" (its split.json names {split['root']})" if split.get("root") else ""))
    return (np.array([index[r] for r in val_names], dtype=np.int64),
            np.array([index[r] for r in train_names], dtype=np.int64))


def right_answers(model: str, full: Dataset, images: np.ndarray) -> np.ndarray:
    """Whether ``model``'s top class is each image's class (refused or not: the validation accuracy a run is selected
    on; an unreadable image counts as wrong)."""
    from braintumor.predictor import Classifier

    outcomes = Classifier.load(model).predict_many([full.paths[k] for k in images])
    return np.array([not isinstance(p, Exception) and full.classes.index(max(p.probabilities, key=p.probabilities.get))
                     == full.labels[k] for k, (_, p) in zip(images, outcomes, strict=True)], dtype=bool)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default=DEFAULT_DATA_ROOT, help="dataset root (its Training split is read)")
    ap.add_argument("--run", type=Path, help="a run folder whose split.json to check (the shipped one: models)")
    ap.add_argument("--seeds", type=int, nargs="*", default=[0, 1, 2], help="seeds of the grouped splits to draw")
    ap.add_argument("--val-fraction", type=float, default=0.1,
                    help="share of Training in those splits' validation part, as train's (default %(default)s)")
    ap.add_argument("--model", help="with --run: also count how many of each part of its validation images this "
                                    "model file answers right (the shipped one: models/braintumor-tumornet-s.onnx)")
    args = ap.parse_args(argv)
    if args.model and not args.run:
        print("error: --model needs --run (whose validation images to score)", file=sys.stderr)
        return 2
    try:
        full = load_dataset(args.data, "Training")
        run_parts = run_split(args.run, full) if args.run else None
    except DatasetError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    hashes = cached_hashes(full)
    groups = near_duplicate_groups(hashes.hashes, hashes.ok, DEFAULT_THRESHOLD)
    size = np.bincount(groups, minlength=len(groups))
    shared = size[size > 1]
    sizes = f" ({shared.min()}-{shared.max()} images each)" if len(shared) else ""
    print(f"Training: {len(full)} images; {len(shared)} groups of near duplicates{sizes}, {shared.sum()} images in all")
    if run_parts is not None:
        val, train = run_parts
        near, exact = leaks(hashes, val, train)
        print(f"{args.run / 'split.json'}: {len(val)} validation images, {near} ({near / len(val):.1%}) with a near "
              f"duplicate in its training part, {exact} of them an exact pixel copy")
        if args.model:
            right = right_answers(args.model, full, val)
            leaked = np.isin(val, near_duplicates(hashes, val, train))
            print(f"{args.model}: top class right on {right[leaked].sum()} of the {leaked.sum()} with a near "
                  f"duplicate, {right[~leaked].sum()} of the {(~leaked).sum()} others")
    for seed in args.seeds:
        train, val = stratified_split(full.labels, args.val_fraction, seed, groups)
        counts = " / ".join(str(n) for n in np.bincount(full.labels[val], minlength=len(full.classes)))
        plain = leaks(hashes, *stratified_split(full.labels, args.val_fraction, seed)[::-1])
        print(f"seed {seed}: grouped split {len(val)} validation images ({counts}), {leaks(hashes, val, train)[0]} "
              f"with a near duplicate in its training part; drawn image by image (--no-group-duplicates) "
              f"{plain[0]} ({plain[1]} exact)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
