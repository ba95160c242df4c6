"""What ``data check`` and ``data audit`` leave unread at a dataset's ROOT, said in a line each: a link leading
nowhere under another name than a split's (``ROOT/Validation -> gone``), and a class folder (or a folder of class
folders) beside the splits they read (``ROOT/glioma`` beside ``ROOT/Training``). Both were passed over without a
word, so the counts seemed to be of every image there. A link into a split (``ROOT/glioma -> Training/glioma``) is
no such entry: its images are read, in that split, and "not read" of it was false."""

from __future__ import annotations

import os
from pathlib import Path

from .classes import class_of_folder
from .data import holds_class_folders, split_folder
from .image_files import is_hidden_name


def root_notes(root: str | os.PathLike, splits: list[str | None]) -> list[str]:
    """One line per entry of ``root`` not read as (or in) one of ``splits``
    (:func:`braintumor.root_splits.dataset_splits`) that looks like data: a broken link, a class folder or a folder
    holding class folders (none that is, or leads into, a split read: its images are read there)."""
    root = Path(root)
    try:
        entries = sorted(p for p in root.iterdir() if not is_hidden_name(p.name))
    except OSError:  # (a missing or unreadable ROOT: the load says so)
        return []
    read = {(split_folder(root, s) if s in ("Training", "Testing") else root / s).resolve() for s in splits if s}
    beside = f"beside the {'split' if len(read) == 1 else 'splits'} {', '.join(s for s in splits if s)}"
    notes = []
    for entry in entries:
        if entry.is_symlink() and not entry.exists() and (read or not class_of_folder(entry.name)):  # (the load's)
            notes.append(f"not read: {entry} is a broken symbolic link (-> {os.readlink(entry)}); fix the link or "
                         "remove it")
        elif not read or not entry.is_dir() or any(entry.resolve().is_relative_to(r) for r in read):
            continue  # a split, or a link into one (ROOT/glioma -> Training/glioma): read there
        elif class_of_folder(entry.name):
            notes.append(f"not read: {entry}, a class folder {beside}: its images are in no split; move them into "
                         "one")
        elif holds_class_folders(entry):
            notes.append(f"not read: {entry} holds class folders, but {beside} and a class folder it is not read as "
                         "a split; move the class folder into a split")
    return notes
