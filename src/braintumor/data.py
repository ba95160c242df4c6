"""Class-folder datasets: discovery, validation, a stratified split and a fingerprint (their own modules:
:mod:`braintumor.data_splits`, :mod:`braintumor.data_fingerprint`; which splits below ROOT the commands read:
:mod:`braintumor.root_splits`; the decoded-image cache:
:mod:`braintumor.prepared_images`; the notes on the files a command leaves out: :mod:`braintumor.evaluation_scope`).

Labels come from folder names only (file names in the Kaggle set break their own pattern),
and hidden files and folders (e.g. ``.ipynb_checkpoints``, a Mac zip's ``__MACOSX``) are never data.
"""

from __future__ import annotations

import contextlib
import os
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import numpy as np

from .classes import CLASSES, class_of_folder
from .ignored_files import ignored_text
from .image_files import file_kind, hidden_note, images_in, is_hidden_name, not_images, walk_images
from .missing_files import denied_text, near_name_text, shown_name
from .wording import in_number

#: Where tests and examples look for the dataset unless told otherwise (an empty $BRAINTUMOR_DATA counts as unset: it
#: was an empty --data that the user never typed).
DEFAULT_DATA_ROOT = os.environ.get("BRAINTUMOR_DATA") or "../shared/datasets/brain-tumor-mri"



class DatasetError(ValueError):
    """A dataset folder that cannot be used; the message says what to fix."""


class MissingSplitError(DatasetError):
    """``root`` holds split folders (``held``), not ``split``: what to do instead is the command's to say."""

    def __init__(self, root: Path, split: str, held: list[str]) -> None:
        super().__init__(f"no '{split}' folder in {root} (it holds {', '.join(held)})")
        self.root, self.split, self.held = root, split, held
        #: those of ``held`` that are splits (hold class folders): only they can be read by naming them as the split
        self.splits = [name for name in held if holds_class_folders(root / name)]


@dataclass
class Dataset:
    """Image paths with integer labels (indices into ``classes``)."""

    root: Path
    paths: list[Path]
    labels: np.ndarray
    classes: tuple[str, ...] = CLASSES
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)  # files in the class folders that are not images by their name
    loose: list[Path] = field(default_factory=list)  # images beside the class folders: in no class, so unlabelled
    special: list[Path] = field(default_factory=list)  # pipes and devices named like images: never opened
    hidden: dict[str, str] = field(default_factory=dict)  # class -> hidden_note of its folder, where it has no image

    def __len__(self) -> int:
        return len(self.paths)

    def counts(self) -> dict[str, int]:
        c = Counter(int(i) for i in self.labels)
        return {name: c.get(i, 0) for i, name in enumerate(self.classes)}

    def subset(self, index: Sequence[int] | np.ndarray) -> Dataset:
        index = np.asarray(index, dtype=np.int64)
        return Dataset(self.root, [self.paths[i] for i in index], self.labels[index], self.classes,
                       ignored=self.ignored, loose=self.loose, special=self.special, hidden=self.hidden)


def _default_hint(root: Path) -> str:
    """What to do when the default dataset folder is missing: outside this repository's checkout (a pip install, a
    notebook's folder) train, evaluate and data check said only "dataset folder not found: ../shared/...", a path
    the user never typed."""
    if root != Path(DEFAULT_DATA_ROOT):
        return ""
    where = "$BRAINTUMOR_DATA" if os.environ.get("BRAINTUMOR_DATA") else "the default"
    return f" ({where}): pass --data ROOT, or fetch the dataset with 'braintumor data download'"


def _zip_or_kind(path: Path) -> str:
    """What a file given as the dataset is: a zip (the Kaggle download itself, never unpacked) is told to be unzipped,
    where "a file" left a new user to guess why a download would not do."""
    with contextlib.suppress(OSError):  # is_zipfile only of a regular file: reading a FIFO may never end
        if path.is_file() and zipfile.is_zipfile(path):
            return "a zip file (unzip it, then pass the folder holding Training and Testing)"
    return file_kind(path)


def resolve_split(root: str | os.PathLike, split: str | None) -> Path:
    """The folder holding the class folders: ``root/split`` when it exists, else ``root``."""
    root = Path(root)
    if not _is_folder(root):  # a file named as the dataset was 'not found'; a FIFO was 'a file'
        raise DatasetError(f"the dataset {root} is {_zip_or_kind(root)}: --data takes the dataset's folder"
                           if root.exists() else f"dataset folder not found: {shown_name(root)}{near_name_text(root)}"
                           f"{_default_hint(root)}")
    if split and (Path(split).name != split or split in (".", "..")):  # `--split ..` read the folder above --data
        raise DatasetError(f"--split {split} is a path: it takes the name of a folder in the dataset (Testing, "
                           "Training)")
    refuse_one_level_up(root, split)
    if split:
        if (found := split_folder(root, split)) is not None:
            return found
        held = [d.name for d in folders_in(root)]
        if not held:
            raise DatasetError(f"no '{split}' folder and no class folders in {root}" + (_class_folder_hint(root) or (
                f": labelled images go in folders named after their class ({', '.join(CLASSES)}), as "
                f"ROOT/{split}/{CLASSES[0]}/ or ROOT/{CLASSES[0]}/; 'braintumor predict' classifies images without "
                "labels")))
        # other splits, not classes; but folders holding images themselves are class folders of other names (yes/no):
        # load_dataset names them as unknown classes, where "no 'Training' folder (it holds no, yes)" misled. Not
        # where one of them is a split (holds class folders): ROOT/Training beside ROOT/examples was then called an
        # unknown class
        if not any(class_of_folder(name, CLASSES) for name in held) and (
                any(holds_class_folders(root / name) for name in held)
                or not any(images_in(root / name) for name in held)):
            raise MissingSplitError(root, split, held)
    return root


def _class_folder_hint(folder: Path, classes: Sequence[str] = CLASSES) -> str:
    """Which folder to pass where ``folder`` is one class's (``--data ROOT/Testing/glioma``), else "": "no class
    folders in ROOT/Testing/glioma; expected glioma, ..." named its own folder without a word of why."""
    name = class_of_folder(folder.name, classes)
    return f": {folder} is the folder of class '{name}' itself: pass the folder holding the class folders, " \
           f"{folder.parent}" if name else ""


def refuse_one_level_up(root: Path, split: str | None) -> None:
    """DatasetError naming the folder to pass where ``root`` holds neither ``split`` nor a class folder but a folder
    of it holds the splits: a set unzipped into a folder of its own (``archive/Training``) given by the folder above
    was "an unknown class folder archive", and evaluate advised ``--split archive``, which fails too."""
    splits = {"training", "testing", (split or "").lower()} - {""}
    try:
        dirs = _class_dirs(root)
        if any(d.name.lower() in splits or class_of_folder(d.name, CLASSES) for d in dirs):
            return
        below = {d: sorted(s.name for s in _class_dirs(d) if s.name.lower() in splits) for d in dirs}
    except OSError:
        return  # an unreadable folder: the load says so
    found = [f"{d} holds {', '.join(held)}" for d, held in below.items() if held]
    if found:
        raise DatasetError(f"no class folders in {root}, but {'; '.join(found)}: pass "
                           + ("that folder instead" if len(found) == 1 else "one of those folders instead"))


def _class_dirs(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.is_dir() and not is_hidden_name(p.name))  # __MACOSX is no class


def split_folder(root: Path, split: str) -> Path | None:
    """``root``'s folder for ``split`` as it is spelt (Training, training), or None: one rule for every command (data
    check and audit looked for "Training" only, and called a set's training/ and testing/ unknown classes)."""
    for name in dict.fromkeys((split, split.capitalize(), split.lower())):
        if _is_folder(root / name):
            return root / name
        _refuse_broken_link(root / name, "split")
    return None


def _refuse_broken_link(path: Path, what: str) -> None:
    """DatasetError where ``path``, a class or split folder by its name, is a link leading nowhere (its folder moved):
    no folder, it was passed over, and its class scored, or its split counted, as one of no images."""
    if path.is_symlink() and not path.exists():
        raise DatasetError(f"{what} folder {path} is a broken symbolic link (-> {os.readlink(path)}): its images "
                           "cannot be read; fix the link or remove it")


def _is_folder(path: Path) -> bool:
    """``path.is_dir()``, or the dataset's error naming the folder on its way that cannot be entered (a ROOT without
    permissions was "error: Permission denied: ROOT/Training", exit status 1; ``--data p/ds`` of a closed p too)."""
    try:
        return path.is_dir()
    except OSError as exc:
        raise DatasetError(f"cannot read folder {path.parent}: {denied_text(path, exc)}") from None


def folders_in(folder: Path) -> list[Path]:
    """:func:`_class_dirs`, one that cannot be listed said as a class folder is (evaluate's "[Errno 13] ...")."""
    try:
        return _class_dirs(folder)
    except OSError as exc:
        _unreadable_folder(exc)


def holds_class_folders(folder: Path) -> bool:
    """Whether ``folder`` is a split: it holds a folder named after a class (an unreadable one: the load says so)."""
    try:
        return any(class_of_folder(d.name, CLASSES) for d in _class_dirs(folder))
    except OSError:
        return False


def _unreadable_folder(exc: OSError) -> NoReturn:
    """A folder of the dataset that cannot be read: training or scoring without its images would be silent. A folder
    on its way that may be listed, not entered (chmod 444), is named with its remedy: 'Permission denied' alone was said
    of ROOT/Testing/notumor where ROOT/Testing was closed."""
    raise DatasetError(f"cannot read folder {exc.filename}: {denied_text(Path(exc.filename or ''), exc)}") from None


def load_dataset(
    root: str | os.PathLike, split: str | None = None, classes: Sequence[str] = CLASSES,
    allow_missing: bool = False,
) -> Dataset:
    """List a class-folder dataset (``ROOT/<split>/<class>/`` or ``ROOT/<class>/``).

    Raises :class:`DatasetError` for a missing root, unknown class folders, or a class with no images
    (unless ``allow_missing``: a hospital's test folder may hold only some classes; training needs all).
    Nothing is decoded here.
    """
    folder = resolve_split(root, split)
    dirs = folders_in(folder)
    for path in folder.iterdir():
        if class_of_folder(path.name, classes):
            _refuse_broken_link(path, "class")
    if not dirs:
        raise DatasetError(f"no class folders in {folder}; expected {', '.join(classes)}"
                           + _class_folder_hint(folder, classes))
    unknown = [d for d in dirs if class_of_folder(d.name, classes) is None]
    if unknown:
        deeper = [d for d in unknown if holds_class_folders(d)]  # ROOT/Testing/Testing/glioma: unzipped a level down
        hint = _class_folder_hint(folder, classes)  # else what to do with it: the names alone were said
        todo = f"; rename {'it' if len(unknown) == 1 else 'each'} to one of them or move it out of {folder}"
        raise DatasetError(
            f"unknown class {in_number(len(unknown), 'folder')} in {folder}: {', '.join(d.name for d in unknown)}; "
            f"expected only {', '.join(classes)}" + hint
            + (f"; {deeper[0]} holds the class folders (one folder too deep): move them up into {folder}, or pass "
               "that folder" if deeper else "" if hint else todo)
        )
    by_class: dict[str, Path] = {}
    for d in dirs:
        name = class_of_folder(d.name, classes)
        if name in by_class:
            raise DatasetError(f"two folders in {folder} hold class '{name}': {by_class[name].name} and {d.name}; "
                               "move the images of one into the other")
        by_class[name] = d
    paths: list[Path] = []
    labels: list[int] = []
    ignored = [p for d in by_class.values() for p in not_images(d)]
    special: list[Path] = []
    hidden: dict[str, str] = {}
    for index, name in enumerate(classes):
        files = list(walk_images(by_class[name], _unreadable_folder, special.append)) if name in by_class else []
        if not files and name in by_class and (note := hidden_note(by_class[name])):
            hidden[name] = note
        if not files and not allow_missing:  # training: a two- or three-class set learnt only here that it cannot
            needs = f": {every_class_needed(classes)}"  # be trained (or a model of all of them calibrated)
            others = [p for p in ignored if p.is_relative_to(by_class[name])] if name in by_class else []  # DICOMs
            notes = [hidden[name]] if name in hidden else []
            if others:  # the note train prints of them came only where every class had images
                notes.append(ignored_text(others))
            said = f" ({'; '.join(notes)})" if notes else ""
            raise DatasetError((f"class '{name}' has no images in {by_class[name]}{said}" if name in by_class else
                                f"no folder for class '{name}' in {folder}") + needs)  # not 'folder/pituitary'
        paths.extend(files)
        labels.extend([index] * len(files))
    loose = images_in(folder, special.append)
    return Dataset(folder, paths, np.asarray(labels, dtype=np.int64), tuple(classes), ignored=sorted(ignored),
                   loose=loose, special=sorted(special), hidden=hidden)


def every_class_needed(classes: Sequence[str]) -> str:
    """Why a set short of a class is refused, in words that fit train and calibrate (export) alike."""
    return f"training a model of the {len(classes)} classes ({', '.join(classes)}), or calibrating one, needs " \
           "images of each"
