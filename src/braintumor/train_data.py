"""Training's images: the listed set cut to a few per class or with one source held out, decoded (cached), checked
and split into training and validation images, with the refusals of a resumed run's other data; every rank gets
the same answer. Apart from the loop in :mod:`braintumor.train` (which had reached 300 lines); needs the
``[train]`` extra (torch), as it does.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
from tqdm import tqdm

from . import distributed as D
from .checkpoints import other_data, other_listing, recorded_fingerprint
from .data import Dataset, DatasetError
from .data_fingerprint import fingerprint
from .data_splits import limit_per_class, split_by_mode, split_problem, stratified_split, unvalidated_classes
from .dataset_classes import require_every_class
from .evaluation_scope import dataset_notes
from .image_hashes import duplicate_groups
from .prepared_images import load_prepared
from .preprocess import PreprocessConfig
from .train_config import TrainConfig
from .wording import counted, printable


def training_data(cfg: TrainConfig, full: Dataset, pre: PreprocessConfig, dd: D.Dist, resume: bool,
                  ) -> tuple[Dataset, np.ndarray, np.ndarray, np.ndarray, str]:
    """(the images read, their decoded arrays, training indices, validation indices, the data fingerprint) of
    ``full``, the listed Training folder, decoded as ``pre`` says; DatasetError for a set that cannot train, or
    (``resume``) is not the run's. Only rank 0 prints; a resumed run's other data are refused before the decode where
    they can be (it takes minutes)."""
    main, out = dd.is_main, Path(cfg.out)
    if cfg.limit_per_class:
        full = limit_per_class(full, cfg.limit_per_class, cfg.split_seed_used)  # part of the split
    if cfg.hold_out_mode:
        held, full = split_by_mode(full, cfg.hold_out_mode)
        if main:
            print(f"holding out {counted(len(held), 'image')} stored as {cfg.hold_out_mode}", file=sys.stderr)
        if not len(full):
            raise DatasetError(f"every training image is stored as {cfg.hold_out_mode}: nothing left to train on")
        if not len(held):  # 'l' for 'L', or a mode no image has: the run would hold out nothing, silently
            raise DatasetError(f"no training image is stored as '{cfg.hold_out_mode}' (Pillow modes are case "
                               "sensitive: L, RGB, ...): nothing would be held out")
    if isinstance(listed := D.broadcast(other_listing(out, str(cfg.data), full) if main and resume else None, dd), str):
        raise DatasetError(listed)  # before the decode: another --data was found only after it (minutes)
    if main:
        print(printable(f"loading {len(full)} images from {full.root} (cached after the first run)"), file=sys.stderr)
    with D.local_main_first(dd), tqdm(total=len(full), desc="decode", unit="img", file=sys.stderr, leave=False,
                                       disable=not (main and sys.stderr.isatty())) as bar:
        images_np, full = load_prepared(full, pre, Path(cfg.cache_dir) if cfg.cache_dir else None, bar.update)
        groups = duplicate_groups(full, Path(cfg.cache_dir) if cfg.cache_dir else None) if cfg.group_duplicates \
            else None  # near duplicates: one side of the split each (hashes cached like the images)
    for path, msg in full.skipped if main else ():
        print(printable(f"skipped unreadable file {path}: {msg}"), file=sys.stderr)
    for note in dataset_notes(full) if main else ():  # a .dcm, a FIFO, Training/scan.jpg beside Training/glioma/
        print(printable(note), file=sys.stderr)
    require_every_class(full)  # after the list of skipped files, which says why
    tr_idx, va_idx = stratified_split(full.labels, cfg.val_fraction, cfg.split_seed_used, groups)
    if problem := split_problem(len(tr_idx), len(va_idx), cfg.val_fraction, groups):  # was a torch.cat traceback
        raise DatasetError(problem)
    if main and (unvalidated := unvalidated_classes(full.labels, va_idx, full.classes, groups, cfg.val_fraction)):
        print(printable(unvalidated), file=sys.stderr)
    data_fp = fingerprint(full)
    if D.broadcast(recorded_fingerprint(out) if main and resume else None, dd) not in (None, data_fp):
        raise DatasetError(other_data(out, str(cfg.data), full.root))
    return full, images_np, tr_idx, va_idx, data_fp
