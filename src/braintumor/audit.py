"""Leakage audit: duplicates within and across splits, label conflicts, unreadable, hidden and non-image files.

The Kaggle set's Training and Testing splits overlap, so accuracy on Testing is optimistic.
This module reports the overlap (numpy + Pillow only). Definitions, chosen to agree with the dataset README's counts:

- *exact duplicates*: identical decoded grayscale pixels (what every braintumor model sees);
- *near duplicates*: as :mod:`braintumor.image_hashes` defines them (256-bit pHash within a Hamming distance of
  ``threshold``, default 8), which also gives evaluation its leak-free mask and training its duplicate groups.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .data import Dataset, DatasetError
from .image_files import hidden_files
from .image_hashes import DEFAULT_HASH, DEFAULT_THRESHOLD, HASH_BITS, HashedImages, close_pairs, hash_images
from .root_notes import root_notes
from .wording import dataset_file_error, size_text


def _scope(splits: set[str]) -> str:
    return next(iter(splits)) if len(splits) == 1 else "cross-split"


#: The report's own names in its keys and scopes: a folder of class folders (ROOT's own) and pairs across splits.
RESERVED_NAMES: dict[str, str] = {"all": "ROOT's own class folders", "cross-split": "duplicates across splits"}


def _refuse_reserved(root: Path, names: list[str | None]) -> None:
    """DatasetError for a split folder named as the report's own keys (ROOT/cross-split/glioma beside ROOT/Training):
    its within-split counts were summed into those across splits, and an ``all`` split was named as ROOT itself."""
    for name in names:
        if name in RESERVED_NAMES:
            raise DatasetError(f"split folder {root / name}: data audit's report calls {RESERVED_NAMES[name]} "
                               f"'{name}', so a split of that name would be mistaken for them; rename the folder, "
                               f"or audit it alone with --data {root / name}")


def _split_stats(ds: Dataset, h: HashedImages, index: np.ndarray) -> dict:
    ok = [k for k in index if h.ok[k]]
    sizes = [h.sizes[k] for k in ok]
    by_area = sorted(sizes, key=lambda s: (s[0] * s[1], s))
    # n_images counts files named as images (as "classes" does), n_readable those that decode: the summary's "N files
    # (...), K unreadable" where they differ
    return {"n_images": len(index), "n_readable": len(ok), "n_unreadable": len(index) - len(ok), "classes": ds.counts(),
            "sizes": {size_text(w, h_): c for (w, h_), c in Counter(sizes).most_common()},
            "modes": dict(Counter(h.modes[k] for k in ok).most_common()),
            "min_size": list(by_area[0]) if by_area else None, "max_size": list(by_area[-1]) if by_area else None}


def audit_dataset(root: str | os.PathLike, threshold: int = DEFAULT_THRESHOLD, kind: str = DEFAULT_HASH,
                  progress: Callable[[int], None] | None = None) -> dict:
    """Audit ``ROOT/{Training,Testing}/<class>/`` (or ``ROOT/<class>/``); returns a JSON-ready report.

    Paths in the report are relative to ``root``. Every image is decoded once; hashes stay in memory.
    """
    from .data import load_dataset
    from .root_splits import dataset_splits

    root = Path(root)
    names = dataset_splits(root)
    _refuse_reserved(root, names)
    # a report, not training: a hospital's folder may hold only some classes (as evaluate accepts)
    sets = {name or "all": load_dataset(root, name, allow_missing=True) for name in names}
    paths: list[Path] = []
    split_of: list[str] = []
    label_of: list[str] = []
    for split, ds in sets.items():
        paths += ds.paths
        split_of += [split] * len(ds)
        label_of += [ds.classes[int(i)] for i in ds.labels]
    rel = [p.relative_to(root).as_posix() for p in paths]
    h = hash_images(paths, kind, progress)
    split_arr = np.asarray(split_of)

    groups: dict[str, list[int]] = {}
    for k in np.flatnonzero(h.ok):
        groups.setdefault(h.digests[k], []).append(int(k))
    exact = [{"scope": _scope({split_of[k] for k in g}), "classes": sorted({label_of[k] for k in g}),
              "paths": [rel[k] for k in g]} for g in groups.values() if len(g) > 1]

    ok_index = np.flatnonzero(h.ok)
    i, j, d = close_pairs(h.hashes[ok_index], None, threshold)
    near = [{"a": rel[a], "b": rel[b], "distance": int(dist), "scope": _scope({split_of[a], split_of[b]}),
             "classes": [label_of[a], label_of[b]], "exact": h.digests[a] == h.digests[b]}
            for a, b, dist in zip(ok_index[i].tolist(), ok_index[j].tolist(), d.tolist(), strict=True)]

    report: dict = {
        "root": str(root), "hash": kind, "hash_bits": HASH_BITS, "threshold": threshold,
        "splits": {s: _split_stats(ds, h, np.flatnonzero(split_arr == s)) for s, ds in sets.items()},
        "not_read": root_notes(root, names),  # ROOT/glioma beside ROOT/Training, ROOT/Validation -> gone
        "hidden_files": [p.relative_to(root).as_posix() for p in hidden_files(root)],
        "not_images": [p.relative_to(root).as_posix() for ds in sets.values() for p in ds.ignored],  # not_images
        # images beside the class folders (Testing/scan.jpg): in no class, so neither counted nor hashed
        "outside_class_folders": [p.relative_to(root).as_posix() for ds in sets.values() for p in ds.loose],
        # pipes and devices named like images (a FIFO scan.jpg): never opened, so neither counted nor hashed
        "special_files": [p.relative_to(root).as_posix() for ds in sets.values() for p in ds.special],
        "unreadable": [{"path": rel[k], "error": dataset_file_error(h.errors[k])} for k in np.flatnonzero(~h.ok)],
        "exact_duplicates": exact,
        "near_duplicates": near,
        "label_conflicts": {"exact": [g for g in exact if len(g["classes"]) > 1],
                            "near": [p for p in near if p["classes"][0] != p["classes"][1]]},
    }
    report["summary"] = _summarise(report, sets, split_of, rel)
    return report


def _summarise(report: dict, sets: dict[str, Dataset], split_of: list[str], rel: list[str]) -> dict:
    """Counts per scope, and how much of Testing has a near duplicate in Training (the leakage)."""
    summary: dict = {"exact_groups": {}, "exact_images": {}, "near_pairs": {}}
    for scope in [*sets, "cross-split"]:
        groups = [g for g in report["exact_duplicates"] if g["scope"] == scope]
        summary["exact_groups"][scope] = len(groups)
        summary["exact_images"][scope] = sum(len(g["paths"]) for g in groups)
        summary["near_pairs"][scope] = sum(p["scope"] == scope for p in report["near_duplicates"])
    summary["label_conflicts"] = {k: len(v) for k, v in report["label_conflicts"].items()}
    if "Training" in sets and "Testing" in sets:
        readable_test = {r for r, s in zip(rel, split_of, strict=True) if s == "Testing"}
        readable_test -= {u["path"] for u in report["unreadable"]}
        training = {r for r, s in zip(rel, split_of, strict=True) if s == "Training"}
        near_hit: dict[str, str] = {}  # test path -> its class
        exact_hit = set()
        for p in report["near_duplicates"]:  # Testing with Training only: a Validation split's pairs are across too
            if {p["a"], p["b"]} & readable_test and {p["a"], p["b"]} & training:
                side = 0 if p["a"] in readable_test else 1
                test_path = (p["a"], p["b"])[side]
                near_hit[test_path] = p["classes"][side]
                if p["exact"]:
                    exact_hit.add(test_path)
        test = sets["Testing"]  # its paths come in rel in its own order; totals of readable images, as the headline
        totals = Counter(test.classes[int(k)] for r, k in zip((r for r, s in zip(rel, split_of, strict=True)
                                                               if s == "Testing"), test.labels, strict=True)
                         if r in readable_test)
        per_class = {c: {"with_train_near_duplicate": 0, "total": totals[c]} for c in test.classes}
        for label in near_hit.values():
            per_class[label]["with_train_near_duplicate"] += 1
        summary["leakage"] = {"test_readable": len(readable_test), "test_with_train_near_duplicate": len(near_hit),
                              "test_with_train_exact_duplicate": len(exact_hit),
                              "test_leak_free": len(readable_test) - len(near_hit), "per_class": per_class}
    return summary
