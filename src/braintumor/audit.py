"""Leakage audit: duplicates within and across splits, label conflicts, unreadable, hidden and non-image files.

The Kaggle set's Training and Testing splits overlap, so accuracy on Testing is optimistic.
This module finds the overlap (numpy + Pillow only) and gives evaluation a leak-free mask.
Definitions, chosen to agree with the dataset README's counts:

- *exact duplicates*: identical decoded grayscale pixels (what every braintumor model sees);
- *near duplicates*: a 256-bit perceptual hash (pHash: 16x16 low-frequency DCT block of the
  image resized to 64x64, above/below its median, as ``imagehash.phash(hash_size=16)``) within
  a Hamming distance of ``threshold`` (default 8). Exact duplicates are near duplicates too.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .data import Dataset, default_cache_dir, fingerprint
from .image_io import ImageError, read_image

HASHES: tuple[str, ...] = ("phash", "dhash")
DEFAULT_HASH: str = "phash"
#: Largest Hamming distance (of 256 bits) at which two images count as near duplicates.
DEFAULT_THRESHOLD: int = 8
#: Hash side: 16 x 16 = 256 bits.
HASH_SIZE: int = 16
#: Bits of a hash: a distance is 0 to HASH_BITS - 1 (a threshold of 256 or more made every pair a near duplicate).
HASH_BITS: int = HASH_SIZE * HASH_SIZE


#: Largest threshold taken: a quarter of the bits. Unrelated slices differ in about half (median 124 over the pairs of
#: every other Testing image); past 64 they start to pair up (0.06 % of those pairs within 64, 2.7 % within 96), and
#: 200 listed ~25 M pairs of the full dataset, tens of GB.
MAX_THRESHOLD: int = HASH_BITS // 4


def threshold_problem(flag: str, threshold: int) -> str | None:
    """Why ``threshold`` is no near-duplicate distance (300 was taken: every pair a near duplicate), or None."""
    if 0 <= threshold <= MAX_THRESHOLD:
        return None
    return (f"{flag} is a distance between {HASH_BITS}-bit hashes, 0 to {MAX_THRESHOLD} (unrelated images differ "
            f"in about half the bits), got {threshold}")
#: Bumped whenever a hash's definition changes (invalidates on-disk hash caches).
HASH_VERSION: int = 1
#: Rows compared at once; bounds memory to about BLOCK x N x 32 bytes.
BLOCK: int = 256

_N = HASH_SIZE * 4
_DCT = np.cos(np.pi * np.arange(_N)[:, None] * (2 * np.arange(_N)[None, :] + 1) / (2 * _N))[:HASH_SIZE]
_POPCOUNT8 = np.array([bin(i).count("1") for i in range(256)], dtype=np.uint8)


def perceptual_hash(gray: np.ndarray, kind: str = DEFAULT_HASH) -> np.ndarray:
    """256-bit hash of a 2-D uint8 image, packed into 32 bytes (similar images differ in few bits)."""
    img = Image.fromarray(np.asarray(gray, dtype=np.uint8))
    if kind == "phash":  # low frequencies of the DCT-II (scale-free: only the median split matters)
        a = np.asarray(img.resize((_N, _N), Image.Resampling.LANCZOS), dtype=np.float64)
        low = _DCT @ a @ _DCT.T
        bits = low > np.median(low)
    elif kind == "dhash":  # sign of the horizontal gradient
        a = np.asarray(img.resize((HASH_SIZE + 1, HASH_SIZE), Image.Resampling.LANCZOS), dtype=np.float64)
        bits = a[:, 1:] > a[:, :-1]
    else:
        raise ValueError(f"unknown hash '{kind}'; choose one of {', '.join(HASHES)}")
    return np.packbits(bits.ravel())


def _popcount(x: np.ndarray) -> np.ndarray:
    """Set bits per row of a (..., 4) uint64 array."""
    if hasattr(np, "bitwise_count"):  # numpy >= 2.0
        return np.bitwise_count(x).sum(axis=-1, dtype=np.int32)
    return _POPCOUNT8[x.view(np.uint8)].sum(axis=-1, dtype=np.int32)


def close_pairs(a: np.ndarray, b: np.ndarray | None, threshold: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(i, j, distance) of every hash pair within ``threshold`` bits; ``b=None`` compares ``a`` with itself (i < j).

    Hashes are (N, 32) uint8; they are compared as four uint64 words, in blocks of rows.
    """
    a64 = np.ascontiguousarray(a, dtype=np.uint8).view(np.uint64)
    b64 = a64 if b is None else np.ascontiguousarray(b, dtype=np.uint8).view(np.uint64)
    found_i, found_j, found_d = [], [], []
    for start in range(0, len(a64), BLOCK):
        rows = a64[start:start + BLOCK]
        offset = start if b is None else 0  # with itself, only j >= start can give j > i
        dist = _popcount(rows[:, None, :] ^ b64[None, offset:, :])
        hit = dist <= threshold
        if b is None:
            hit &= np.arange(offset, len(b64))[None, :] > np.arange(start, start + len(rows))[:, None]
        i, j = np.nonzero(hit)
        found_i.append(i + start)
        found_j.append(j + offset)
        found_d.append(dist[i, j])
    if not found_i:
        return (np.zeros(0, dtype=np.int64),) * 2 + (np.zeros(0, dtype=np.int32),)
    return np.concatenate(found_i), np.concatenate(found_j), np.concatenate(found_d)


@dataclass
class HashedImages:
    """Per image of a dataset: perceptual hash, pixel digest, size and mode; ``ok`` False if unreadable."""

    hashes: np.ndarray  # (N, 32) uint8, zeros where unreadable
    digests: list[str]  # sha1 of the decoded grayscale pixels, "" where unreadable
    ok: np.ndarray  # (N,) bool
    sizes: list[tuple[int, int]]  # (width, height); (0, 0) where unreadable
    modes: list[str]  # Pillow mode before conversion; "" where unreadable
    errors: list[str]  # "" where readable


def hash_images(paths: Sequence[Path], kind: str = DEFAULT_HASH,
                progress: Callable[[int], None] | None = None) -> HashedImages:
    """Decode each file once (through :func:`read_image`, with its safety limits) and hash it."""
    n = len(paths)
    out = HashedImages(np.zeros((n, HASH_SIZE * HASH_SIZE // 8), dtype=np.uint8), [""] * n,
                       np.zeros(n, dtype=bool), [(0, 0)] * n, [""] * n, [""] * n)
    for k, path in enumerate(paths):
        try:
            gray = read_image(path)
            with Image.open(path) as img:  # header only: the mode before grayscale conversion
                out.modes[k], out.sizes[k] = img.mode, img.size
            out.hashes[k] = perceptual_hash(gray, kind)
            out.digests[k] = hashlib.sha1(f"{gray.shape}".encode() + gray.tobytes()).hexdigest()
            out.ok[k] = True
        except (ImageError, OSError) as exc:
            out.errors[k] = str(exc)
        if progress:
            progress(1)
    return out


def cached_hashes(dataset: Dataset, kind: str = DEFAULT_HASH, cache_dir: Path | None = None,
                  progress: Callable[[int], None] | None = None) -> HashedImages:
    """:func:`hash_images` of a dataset, cached on disk by the dataset's fingerprint (content + names) and the order
    of its images (the cached arrays are in that order; the fingerprint sorts)."""
    order = "\0".join(p.relative_to(dataset.root).as_posix() for p in dataset.paths).encode("utf-8", "surrogateescape")
    key = hashlib.sha256(f"{fingerprint(dataset)}|{kind}|{HASH_SIZE}|{HASH_VERSION}".encode()
                         + hashlib.sha256(order).digest()).hexdigest()[:24]
    cache_file = (cache_dir or default_cache_dir()) / f"hashes-{key}.npz"
    if cache_file.exists():
        try:
            with np.load(cache_file) as z:
                if len(z["ok"]) == len(dataset):
                    return HashedImages(z["hashes"], list(z["digests"]), z["ok"],
                                        [tuple(s) for s in z["sizes"].tolist()], list(z["modes"]), list(z["errors"]))
        except (OSError, ValueError, KeyError):
            pass  # a damaged cache is rebuilt
    h = hash_images(dataset.paths, kind, progress)
    tmp = cache_file.with_name(cache_file.name + f".{os.getpid()}.tmp.npz")
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        np.savez(tmp, hashes=h.hashes, digests=np.asarray(h.digests, dtype=str), ok=h.ok,
                 sizes=np.asarray(h.sizes, dtype=np.int64).reshape(-1, 2), modes=np.asarray(h.modes, dtype=str),
                 errors=np.asarray(h.errors, dtype=str))
        os.replace(tmp, cache_file)  # atomic: never a half-written cache
    except OSError:  # a read-only cache costs speed, not the result
        with contextlib.suppress(OSError):
            tmp.unlink(missing_ok=True)
    return h


def leak_free_mask(test: Dataset, train: Dataset, threshold: int = DEFAULT_THRESHOLD, kind: str = DEFAULT_HASH,
                   cache_dir: Path | None = None, progress: Callable[[int], None] | None = None) -> np.ndarray:
    """True for each test image with no near duplicate in ``train`` (Hamming distance > ``threshold``).

    Unreadable test images are False: nothing can be said about them. Hashes are cached on disk
    (``cache_dir``, default ``~/.cache/braintumor``), so the second evaluation is fast.
    """
    te = cached_hashes(test, kind, cache_dir, progress)
    tr = cached_hashes(train, kind, cache_dir, progress)
    te_index, tr_index = np.flatnonzero(te.ok), np.flatnonzero(tr.ok)
    i, _, _ = close_pairs(te.hashes[te_index], tr.hashes[tr_index], threshold)
    mask = te.ok.copy()
    mask[te_index[np.unique(i)]] = False
    return mask


def near_duplicate_groups(hashes: np.ndarray, ok: np.ndarray | None = None,
                          threshold: int = DEFAULT_THRESHOLD) -> np.ndarray:
    """Group of each image: the smallest index of the images linked to it by a chain of near duplicates (itself when
    it has none; unreadable images, ``ok`` False, stay alone). Why: a train/validation split that puts two images of
    a group on two sides validates on an image the network has all but trained on (data.stratified_split)."""
    parent = np.arange(len(hashes))

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = k = parent[parent[k]]
        return k

    index = np.arange(len(hashes)) if ok is None else np.flatnonzero(ok)
    i, j, _ = close_pairs(hashes[index], None, threshold)
    for a, b in zip(index[i].tolist(), index[j].tolist(), strict=True):
        ra, rb = root(a), root(b)
        parent[max(ra, rb)] = min(ra, rb)
    return np.array([root(k) for k in range(len(hashes))], dtype=np.int64)


def duplicate_groups(dataset: Dataset, cache_dir: Path | None = None, threshold: int = DEFAULT_THRESHOLD) -> np.ndarray:
    """:func:`near_duplicate_groups` of a dataset's images, by the audit's own definition (hashes cached on disk)."""
    h = cached_hashes(dataset, cache_dir=cache_dir)
    return near_duplicate_groups(h.hashes, h.ok, threshold)


def _hidden_files(root: Path) -> list[str]:
    """Files under ``root`` that are hidden or inside a hidden folder: never data, but worth knowing about."""
    found = []
    for folder, dirs, files in os.walk(root):
        dirs.sort()
        for name in sorted(files):
            rel = (Path(folder) / name).relative_to(root)
            if any(part.startswith(".") for part in rel.parts):
                found.append(rel.as_posix())
    return found


def _not_images(sets: dict[str, Dataset], root: Path) -> list[str]:
    """Visible files in the class folders that are not read as images (another ending): never audited, so listed."""
    listed = {p for ds in sets.values() for p in ds.paths}
    found = []
    for ds in sets.values():
        for folder in sorted(d for d in ds.root.iterdir() if d.is_dir() and not d.name.startswith(".")):
            for parent, dirs, files in os.walk(folder):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [(Path(parent) / f).relative_to(root).as_posix() for f in sorted(files)
                          if not f.startswith(".") and Path(parent) / f not in listed]
    return found


def _scope(splits: set[str]) -> str:
    return next(iter(splits)) if len(splits) == 1 else "cross-split"


def _split_stats(ds: Dataset, h: HashedImages, index: np.ndarray) -> dict:
    ok = [k for k in index if h.ok[k]]
    sizes = [h.sizes[k] for k in ok]
    by_area = sorted(sizes, key=lambda s: (s[0] * s[1], s))
    return {"n_images": len(index), "n_readable": len(ok), "classes": ds.counts(),
            "sizes": {f"{w}x{h_}": c for (w, h_), c in Counter(sizes).most_common()},
            "modes": dict(Counter(h.modes[k] for k in ok).most_common()),
            "min_size": list(by_area[0]) if by_area else None, "max_size": list(by_area[-1]) if by_area else None}


def audit_dataset(root: str | os.PathLike, threshold: int = DEFAULT_THRESHOLD, kind: str = DEFAULT_HASH,
                  progress: Callable[[int], None] | None = None) -> dict:
    """Audit ``ROOT/{Training,Testing}/<class>/`` (or ``ROOT/<class>/``); returns a JSON-ready report.

    Paths in the report are relative to ``root``. Every image is decoded once; hashes stay in memory.
    """
    from .data import load_dataset

    root = Path(root)
    names = [s for s in ("Training", "Testing") if (root / s).is_dir()] or [None]
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
        "root": str(root), "hash": kind, "hash_bits": HASH_SIZE * HASH_SIZE, "threshold": threshold,
        "splits": {s: _split_stats(ds, h, np.flatnonzero(split_arr == s)) for s, ds in sets.items()},
        "hidden_files": _hidden_files(root),
        "not_images": _not_images(sets, root),
        "unreadable": [{"path": rel[k], "error": h.errors[k]} for k in np.flatnonzero(~h.ok)],
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
        near_hit: dict[str, str] = {}  # test path -> its class
        exact_hit = set()
        for p in report["near_duplicates"]:
            if p["scope"] == "cross-split":
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
