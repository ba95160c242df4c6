"""The decoded, cropped, resized training images of a dataset, cached on disk by content (training, calibration and
the near-duplicate hashes read it; serving never does)."""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np

from .atomic_files import written_whole
from .data import Dataset, DatasetError
from .data_fingerprint import fingerprint
from .image_io import ImageError
from .preprocess import PreprocessConfig, prepare
from .wording import dataset_file_error, none_readable, printable


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(os.environ.get("BRAINTUMOR_CACHE", Path(base) / "braintumor"))


def load_prepared(
    dataset: Dataset,
    config: PreprocessConfig,
    cache_dir: Path | None = None,
    progress: Callable[[int], None] | None = None,
) -> tuple[np.ndarray, Dataset]:
    """Decoded, cropped, resized uint8 images (N, S, S), cached on disk by content.

    Unreadable files are skipped and listed in the returned dataset's ``skipped``; the
    cache key covers the data fingerprint and the preprocessing parameters, so a change
    to either rebuilds it.
    """
    key_src = f"{fingerprint(dataset)}|{sorted(config.to_dict().items())}"
    key = hashlib.sha256(key_src.encode()).hexdigest()[:24]
    cache_file = (cache_dir or default_cache_dir()) / f"prepared-{key}.npz"
    if cache_file.exists():
        with np.load(cache_file) as npz:
            keep = npz["keep"]
            skipped = [(dataset.paths[i], dataset_file_error(str(m)))  # a cache written before the rewording too
                       for i, m in zip(npz["skip_index"], npz["skip_msg"], strict=True)]
            images = npz["images"]
        kept = dataset.subset(keep)
        kept.skipped = skipped
        return images, kept
    images: list[np.ndarray] = []
    keep: list[int] = []
    skipped: list[tuple[Path, str]] = []
    skip_index: list[int] = []
    for i, path in enumerate(dataset.paths):
        try:
            images.append(prepare(path, config))
            keep.append(i)
        except ImageError as exc:
            skipped.append((path, dataset_file_error(str(exc))))
            skip_index.append(i)
        if progress:
            progress(1)
    if not images:
        raise DatasetError(none_readable(len(dataset), dataset.root, skipped[0] if skipped else None))
    stacked = np.stack(images)
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        with written_whole(cache_file) as tmp, open(tmp, "wb") as fh:  # a crash never leaves a half-written cache
            np.savez(fh, images=stacked, keep=np.asarray(keep), skip_index=np.asarray(skip_index, dtype=np.int64),
                     skip_msg=np.asarray([m for _, m in skipped], dtype=str))
    except OSError as exc:  # a read-only or full cache folder costs the next run's decoding, not this run
        print(printable(f"warning: decoded images not cached ({exc.strerror or exc}: {cache_file.parent}); "
                        "the next run decodes them again"), file=sys.stderr)  # the folder's name escaped
    kept = dataset.subset(keep)
    kept.skipped = skipped
    return stacked, kept
