"""Which folders below a dataset's ROOT the commands read as data: the split folders that train's and check's leak
checks compare (:func:`data_folders`) and the splits ``data check`` and ``data audit`` read (:func:`dataset_splits`;
what they leave unread there: :mod:`braintumor.root_notes`). Apart from the listing of one split in
:mod:`braintumor.data` (which had reached 300 lines); these names are imported from here.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .classes import CLASSES, class_of_folder
from .data import DatasetError, folders_in, holds_class_folders, refuse_one_level_up, resolve_split, split_folder


def data_folders(root: str | os.PathLike, split: str | None = None) -> list[Path]:
    """What commands read as data below ``root``: the folders holding class folders (``split``, Training and Testing
    where they exist, else ``root``). A folder written inside one becomes an unknown class of it; ``root/eval`` beside
    the splits is never read. ``[root]`` where none is found (a missing root: the command fails on it anyway)."""
    found = []
    for name in dict.fromkeys((split or "Training", "Training", "Testing")):
        with contextlib.suppress(DatasetError):
            found.append(resolve_split(root, name))
    return list(dict.fromkeys(found)) or [Path(root)]


def dataset_splits(root: str | os.PathLike) -> list[str | None]:
    """The splits ``data check`` and ``data audit`` read: Training and Testing where ROOT holds them, then any other
    folder holding class folders (Validation, a set's train and test), else None. Those others were "unknown class
    folders" (train, test: evaluate names them splits) or, beside Training, never read, and not a word of it."""
    root = Path(root)
    found = {s: folder for s in ("Training", "Testing") if (folder := split_folder(root, s))}
    named, taken = list(found), {folder.resolve() for folder in found.values()}  # (a missing ROOT: the load says so)
    others, dirs = [], folders_in(root) if root.is_dir() else []
    if dirs and not named:  # ROOT/kaggle/Training beside ROOT/hospital/glioma: evaluate's error, not hospital alone
        refuse_one_level_up(root, None)
    # ROOT/glioma beside ROOT/batch2/glioma: the load's error, as evaluate's; not a link into a split (ROOT/glioma
    own = any(class_of_folder(d.name, CLASSES) and not any(d.resolve().is_relative_to(t) for t in taken)  # ->
              for d in dirs)  # Training/glioma), read there: Validation beside it was left out for it
    for d in [] if own else dirs:  # a link to a split (training -> Training): read once
        if d.resolve() not in taken and holds_class_folders(d):
            taken.add(d.resolve())
            others.append(d.name)
    return [*named, *others] or [None]
