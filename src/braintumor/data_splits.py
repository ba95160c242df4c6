"""How a class-folder dataset is split: by the Pillow mode its images are stored in (one source held out), cut to a
few images per class (a smoke test's run), and into training and validation images by class and near-duplicate
group, with why a split cannot train. Apart from the dataset's discovery in :mod:`braintumor.data` (which had grown
to 303 lines); these names are imported from here.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from PIL import Image

from .quiet_libraries import quiet_pillow
from .wording import counted

if TYPE_CHECKING:
    from .data import Dataset


def split_by_mode(dataset: Dataset, mode: str) -> tuple[Dataset, Dataset]:
    """(images stored in Pillow ``mode``, the others), read from file headers only.

    In this dataset the storage mode marks the source: the grayscale (L) JPEGs of each tumour class are exactly as
    many as the figshare set has (glioma 1426, meningioma 708, pituitary 930), plus 29 notumor; RGB ones are SARTAJ
    and Br35H. Splitting on it holds one source out, which a
    random split cannot (docs/RESULTS.md, "A held-out source"). Unreadable files go with the others."""

    def stored_mode(path: Path) -> str:
        try:
            with quiet_pillow(), Image.open(path) as img:
                return img.mode
        except Exception:  # unreadable: load_prepared reports it
            return ""

    match = np.asarray([stored_mode(p) == mode for p in dataset.paths], dtype=bool)
    return dataset.subset(np.flatnonzero(match)), dataset.subset(np.flatnonzero(~match))


def limit_per_class(dataset: Dataset, per_class: int, seed: int) -> Dataset:
    """At most ``per_class`` images of each class, drawn with ``seed`` and kept in the dataset's order
    (``--limit-per-class``: a smoke test's small run; part of the split, so drawn with its seed)."""
    rng = np.random.default_rng(seed)
    keep = [rng.permutation(np.flatnonzero(dataset.labels == c))[:per_class] for c in np.unique(dataset.labels)]
    return dataset.subset(np.sort(np.concatenate(keep)))


def stratified_split(labels: np.ndarray, fraction: float, seed: int,
                     groups: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Seeded (train_index, val_index) keeping each class's share in both parts.

    ``groups``: the group of each image, named by its smallest member's index (image_hashes.duplicate_groups: near
    duplicates); a group falls on one side whole, with its first member's class, so no validation image has a near
    duplicate among the training images. Without it, or when every group is one image, the split is the one drawn
    before groups existed (the shipped run's), image for image."""
    if not 0.0 < fraction < 1.0:
        raise ValueError("validation fraction must be between 0 and 1")
    rng = np.random.default_rng(seed)
    group = np.arange(len(labels)) if groups is None else np.asarray(groups, dtype=np.int64)
    size = np.bincount(group, minlength=len(labels))
    taken = []
    for c in np.unique(labels):
        ids = rng.permutation(np.flatnonzero((labels == c) & (group == np.arange(len(labels)))))
        n_val = max(1, round(int(size[ids].sum()) * fraction)) if len(ids) > 1 else 0
        filled = 0
        for g in ids[:-1]:  # in drawn order, each group that still fits (one group of 40 took 44 for 12); the last
            if filled + size[g] <= n_val:  # one always trains. One-image groups: the first n_val, as before groups
                taken.append(g)
                filled += int(size[g])
            if filled >= n_val:
                break
    val = np.isin(group, np.asarray(taken, dtype=np.int64))
    return np.flatnonzero(~val), np.flatnonzero(val)


def split_problem(n_train: int, n_val: int, fraction: float, groups: np.ndarray | None) -> str | None:
    """Why a :func:`stratified_split` cannot train and validate, or None. Where near-duplicate ``groups`` emptied the
    validation part it says so: "32 images give 32 to train and 0 to validate" said nothing of why."""
    if n_val and n_train >= 2:
        return None
    n = n_train + n_val
    said = f"{n} images give {n_train} to train and {n_val} to validate (--val-fraction {fraction}): too few for a " \
           "validation split"
    if groups is None or (k := len(np.unique(groups))) == n:
        return said
    return (f"{said}; near duplicates stay on one side of it, and these {n} images are {counted(k, 'group')} of near "
            "duplicates (--no-group-duplicates splits them image by image, near duplicates and all)")


def unvalidated_classes(labels: np.ndarray, val_index: np.ndarray, classes: Sequence[str],
                        groups: np.ndarray | None = None, fraction: float | None = None) -> str | None:
    """The warning for classes of which the validation part holds no image, or None, with why for each. Why: a
    class's last image (or group) always trains, so a class of one image had none, without a word: best.pt was chosen,
    and the exported model calibrated, on the other classes alone. A class of several near-duplicate groups, each
    larger than its share of ``fraction``, has none either (a group is never split): "one image" was not why."""
    labels = np.asarray(labels)
    held = set(labels[np.asarray(val_index, dtype=np.int64)].tolist())
    group = np.arange(len(labels)) if groups is None else np.asarray(groups, dtype=np.int64)
    leads = group == np.arange(len(labels))  # a group's class is its first member's (stratified_split)
    missing = [c for c in range(len(classes)) if c not in held]
    if not missing:
        return None
    one = [classes[c] for c in missing if np.count_nonzero(leads & (labels == c)) <= 1]
    large = [classes[c] for c in missing if classes[c] not in one]
    why = [f"{', '.join(one)} (one image, or one group of near duplicates, trains)"] if one else []
    if large:
        why.append(f"{', '.join(large)} (near-duplicate groups, each larger than the class's share of "
                   f"--val-fraction {fraction}; a group is never split: --no-group-duplicates splits image by image)")
    return (f"warning: no validation image of {'; of '.join(why)}: best.pt is chosen, and the exported model "
            "calibrated, on the other classes alone")
