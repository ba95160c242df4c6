"""Perceptual hashes of images and the near duplicates they find: the one definition of "near duplicate" that the
leakage audit, evaluation's leak-free subset and the training split's duplicate groups all share.

- *near duplicates*: a 256-bit perceptual hash (pHash: 16x16 low-frequency DCT block of the image resized to 64x64,
  above/below its median, as ``imagehash.phash(hash_size=16)``) within a Hamming distance of ``threshold``
  (default 8). Exact duplicates are near duplicates too.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .atomic_files import written_whole
from .data import Dataset
from .data_fingerprint import fingerprint
from .image_files import unreadable_text
from .image_io import ImageError, read_image
from .prepared_images import default_cache_dir
from .quiet_libraries import quiet_pillow

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
            with quiet_pillow(), Image.open(path) as img:  # header only: the mode before grayscale conversion
                out.modes[k], out.sizes[k] = img.mode, img.size
            out.hashes[k] = perceptual_hash(gray, kind)
            out.digests[k] = hashlib.sha1(f"{gray.shape}".encode() + gray.tobytes()).hexdigest()
            out.ok[k] = True
        except ImageError as exc:
            out.errors[k] = str(exc)
        except OSError as exc:  # the second open: removed since read_image read it is 'file not found', as elsewhere
            out.errors[k] = unreadable_text(path, exc)
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
    with contextlib.suppress(OSError):  # a read-only cache costs speed, not the result
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        with written_whole(cache_file) as tmp, open(tmp, "wb") as fh:  # never a half-written cache
            np.savez(fh, hashes=h.hashes, digests=np.asarray(h.digests, dtype=str), ok=h.ok,
                     sizes=np.asarray(h.sizes, dtype=np.int64).reshape(-1, 2), modes=np.asarray(h.modes, dtype=str),
                     errors=np.asarray(h.errors, dtype=str))
    return h


def leak_free_mask(test: Dataset, train: Dataset, threshold: int = DEFAULT_THRESHOLD, kind: str = DEFAULT_HASH,
                   cache_dir: Path | None = None, progress: Callable[[int], None] | None = None,
                   hashed: HashedImages | None = None) -> np.ndarray:
    """True for each test image with no near duplicate in ``train`` (Hamming distance > ``threshold``).

    Unreadable test images are False: nothing can be said about them. Hashes are cached on disk
    (``cache_dir``, default ``~/.cache/braintumor``), so the second evaluation is fast. ``hashed``: ``test``'s own
    hashes, where the caller has them (evaluate looks for label conflicts in them too: not hashed twice).
    """
    te = hashed if hashed is not None else cached_hashes(test, kind, cache_dir, progress)
    tr = cached_hashes(train, kind, cache_dir, progress)
    te_index, tr_index = np.flatnonzero(te.ok), np.flatnonzero(tr.ok)
    i, _, _ = close_pairs(te.hashes[te_index], tr.hashes[tr_index], threshold)
    mask = te.ok.copy()
    mask[te_index[np.unique(i)]] = False
    return mask


def label_conflict_pairs(hashed: HashedImages, labels: np.ndarray, threshold: int = DEFAULT_THRESHOLD,
                         among: np.ndarray | None = None) -> list[tuple[int, int]]:
    """(i, j), i < j, of the near duplicates (exact ones among them) whose ``labels`` differ, of the readable images
    (and of ``among``, a mask, where given). Why: the same image filed under two classes is scored wrong in one of
    them, whatever the model; ``data audit`` lists them, and evaluate, which has the hashes, says so too."""
    index = np.flatnonzero(hashed.ok if among is None else hashed.ok & among)
    i, j, _ = close_pairs(hashed.hashes[index], None, threshold)
    labels = np.asarray(labels)[index]
    differ = labels[i] != labels[j]
    return list(zip(index[i[differ]].tolist(), index[j[differ]].tolist(), strict=True))


def near_duplicate_groups(hashes: np.ndarray, ok: np.ndarray | None = None,
                          threshold: int = DEFAULT_THRESHOLD) -> np.ndarray:
    """Group of each image: the smallest index of the images linked to it by a chain of near duplicates (itself when
    it has none; unreadable images, ``ok`` False, stay alone). Why: a train/validation split that puts two images of
    a group on two sides validates on an image the network has all but trained on (data_splits.stratified_split)."""
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
