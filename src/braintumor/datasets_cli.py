"""``braintumor data check | download``: look at a dataset before training on it."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from .data import DatasetError, load_dataset
from .image_io import ImageError, read_image

KAGGLE_DATASET = "masoudnickparvar/brain-tumor-mri-dataset"
MANUAL_STEPS = (
    f"download it by hand from https://www.kaggle.com/datasets/{KAGGLE_DATASET} and unzip it so that "
    "ROOT/Training/<class>/ and ROOT/Testing/<class>/ exist, then pass --data ROOT"
)


def check_dataset(root: str) -> int:
    """Print images per split and class, decode every file, and list the unreadable ones."""
    splits = [s for s in ("Training", "Testing") if (Path(root) / s).is_dir()] or [None]
    bad = 0
    for split in splits:
        ds = load_dataset(root, split)
        counts = ", ".join(f"{k} {v}" for k, v in ds.counts().items())
        print(f"{split or ds.root}: {len(ds)} images ({counts})")
        for path in ds.paths:
            try:
                read_image(path)
            except ImageError as exc:
                bad += 1
                print(f"  unreadable: {path}: {exc}")
    print("all images decode" if not bad else f"{bad} unreadable image(s): they are skipped in training")
    return 1 if bad else 0


def download_dataset(dest: str | None) -> int:
    """Fetch the Kaggle dataset with kagglehub; explain what to do instead when that fails."""
    try:
        import kagglehub
    except ImportError:
        print(f"error: kagglehub is not installed (pip install 'braintumor[download]'), or {MANUAL_STEPS}",
              file=sys.stderr)
        return 2
    try:
        path = Path(kagglehub.dataset_download(KAGGLE_DATASET))
    except Exception as exc:  # network, credentials, quota: all end the same way for the user
        print(f"error: could not download {KAGGLE_DATASET} ({exc.__class__.__name__}: {exc}). "
              f"Offline or no Kaggle credentials? Otherwise {MANUAL_STEPS}", file=sys.stderr)
        return 2
    if dest:
        shutil.copytree(path, dest, dirs_exist_ok=True)
        path = Path(dest)
    try:
        load_dataset(path, "Training")
    except DatasetError as exc:
        print(f"error: downloaded to {path} but the layout is unexpected: {exc}", file=sys.stderr)
        return 2
    print(f"dataset ready at {path}\ntrain with: braintumor train --data {path} --out runs/my-run")
    return 0
