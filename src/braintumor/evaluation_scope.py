"""What an evaluation covers and what it leaves out, said in words: the images its leak check compares with (the
Training split beside the evaluated one, or the folder ``--reference`` names), or why there are none; images beside
the class folders, which have no class.

Its own module because a labelled folder from elsewhere (a hospital's, another public set) rarely has this
dataset's layout: each thing the evaluation cannot do there must be said once, the same way, on the console and in
the report, never left for a reader to notice by its absence.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from .data import DEFAULT_DATA_ROOT, Dataset, DatasetError, MissingSplitError, load_dataset, resolve_split, split_folder
from .data_fingerprint import fingerprint
from .ignored_files import ignored_text
from .missing_files import closed_folder_text
from .model_files import shipped_models_dir
from .wording import counted, listed


def _shipped_fingerprint() -> str | None:
    """The data fingerprint of the shipped model's training images (its run's split.json), None where unreadable."""
    try:
        return json.loads((shipped_models_dir() / "split.json").read_text()).get("fingerprint")
    except (OSError, ValueError, AttributeError):
        return None


def reference_hint(trained_on: str | None = None) -> str:
    """How to compare a folder from elsewhere with the images the model was trained on: a public set (figshare,
    Br35H, SARTAJ) may hold the very images the Kaggle set was made of, and its own Training split, if any, is not
    the model's. ``trained_on``: the model's data fingerprint; a model trained on other data than the shipped one's
    (a group's own) is pointed at its own training folder, not at the Kaggle set."""
    if trained_on and trained_on != _shipped_fingerprint():
        return ("--reference FOLDER compares them with the images the model was trained on (the --data it was "
                "trained with)")
    kaggle = "ROOT (the Kaggle set: 'braintumor data download')"
    root = DEFAULT_DATA_ROOT if Path(DEFAULT_DATA_ROOT).is_dir() else kaggle
    return f"--reference {root} compares them with the images the shipped model was trained on"


def missing_split(exc: MissingSplitError) -> str:
    """The error for a --data holding other splits than --split (only Training: "no 'Testing' folder"), with what to
    do: it said what was wrong and left the user to guess that --split reads another folder."""
    elsewhere = f"point --data at a folder holding {exc.split} or the class folders themselves"
    if not exc.splits:  # ``--data ../shared`` (it holds datasets/) was told "--split datasets", which fails too
        return f"{exc}: {elsewhere}"
    which = f"{exc.splits[0]} evaluates those images" if len(exc.splits) == 1 else "NAME evaluates one of them"
    return f"{exc}: --split {which} (scores too high if the model was trained on them), or {elsewhere}"


def split_not_there(data: str, split: str) -> str | None:
    """Why a ``--split`` given is not what would be evaluated, or None: ``--data ROOT/Testing --split Training``
    scored ROOT/Testing's class folders without a word (a split is read where it is there: the default's rule)."""
    root = Path(data)
    try:
        if not split or root.name.lower() == split.lower() or resolve_split(root, split) != root:
            return None
    except DatasetError:  # (no such --data, other splits than this one: the evaluation says so, as without it)
        return None
    beside = root.parent / split
    return (f"--split {split}: {root} holds no {split} folder, but class folders: --data {root} alone evaluates "
            "them" + (f"; --data {root.parent} --split {split} evaluates {beside}" if beside.is_dir() else ""))


def given_reference(reference: str, dataset: Dataset) -> Dataset:
    """The images ``--reference`` names: ``reference/Training`` when there is one, else ``reference``'s class folders.

    Raises :class:`DatasetError` (one line, exit code 2) for a folder that is missing, holds no images, or holds the
    evaluated images themselves (each its own near duplicate: a leak-free subset of none, which says nothing)."""
    where = Path(reference)
    if not os.path.isdir(where) and not closed_folder_text(where):  # behind a closed folder: the load names it
        raise DatasetError(f"--reference {reference}: " + ("a file; it takes a folder" if where.exists() else
                           "no such folder") + " (the images the model was trained on: a dataset root holding a "
                           "Training split, or a folder of class folders)")
    try:
        found = load_dataset(where, "Training", allow_missing=True)
    except DatasetError as exc:
        raise DatasetError(f"--reference {reference}: {exc}") from None
    if not len(found):
        raise DatasetError(f"--reference {reference}: no images in {found.root}'s class folders to look for near "
                           "duplicates in")
    evaluated = {p.resolve() for p in dataset.paths}  # by file: the same folder, or a folder of links to its images
    if evaluated and evaluated <= {p.resolve() for p in found.paths}:
        raise DatasetError(f"--reference {reference} holds the evaluated images themselves ({dataset.root}): each "
                           "would be its own near duplicate; name the images the model was trained on")
    return found


def leak_reference(data: str, dataset: Dataset, trained_on: str | None = None,
                   evaluated_fingerprint: str | None = None) -> tuple[Dataset | None, str | None]:
    """(the Training split beside the evaluated one, None), or (None, why the leak-free metrics cannot be computed).

    Without the note, a folder with no Training split (a hospital's test set) got no leak-free line and no report
    section at all: nothing told the reader that its metrics include images the model may have trained on.
    ``trained_on``: the model's data fingerprint. A folder of class folders that is the very folder the model was
    trained on (one split only: its validation images among them) was scored as if new, with no word of it.
    ``evaluated_fingerprint``: ``dataset``'s own, when the caller has it (evaluate records it: not hashed twice)."""
    root = Path(data)
    evaluated = dataset.root.resolve()
    itself = "not computed: the evaluated images are the Training split itself"
    try:  # a Training split unreadable or a broken link: only the leak check needs it
        if (folder := split_folder(root, "Training")) is not None and evaluated == folder.resolve():  # training/ too
            return None, itself
        training = load_dataset(root, "Training", allow_missing=True) if folder else None  # some classes, as tested
    except DatasetError as exc:
        raise DatasetError(f"{exc} (needed for the leak-free metrics; --no-leak-free skips them)") from None
    if training is not None:
        if not len(training):  # nothing to compare with: every test image 'leak-free' would be a false claim
            return None, (f"not computed: {training.root} holds no images to look for near duplicates in; "
                          f"{reference_hint(trained_on)}")
        return training, None
    try:
        beside = split_folder(evaluated.parent, "Training")
    except DatasetError:  # a broken link beside --data ROOT/Testing: not read, and no reason to stop the evaluation
        beside = None
    if beside is not None and beside.resolve() != evaluated:  # --data ROOT/Testing: the split named as the root
        return None, (f"not computed: --data names the split folder itself; --data {evaluated.parent} "
                      f"--split {evaluated.name} compares it with the Training split beside it")
    if trained_on and (evaluated_fingerprint or fingerprint(dataset)) == trained_on:
        return None, (f"not computed: {dataset.root} holds the very images the model was trained on (the data "
                      "fingerprint it records), its validation images among them: these metrics say nothing of "
                      "images it has not seen; evaluate a folder it was not trained on")
    if beside is not None:  # --data ROOT/Training: it said "ROOT/Training has no Training split"
        return None, itself
    return None, (f"not computed: {root} has no Training split to look for near duplicates in, so every metric "
                  f"is on all the images, including any the model may have been trained on; "
                  f"{reference_hint(trained_on)}")


def dataset_notes(dataset: Dataset) -> list[str]:
    """The lines train and evaluate print on the files of ``dataset`` they leave out, unread: files that are not
    images by their name, pipes and devices named like images, images beside the class folders. One list for both,
    so that neither forgets one (evaluate and train passed over a FIFO scan.jpg without a word)."""
    notes = [ignored_note(dataset)] if dataset.ignored else []
    notes += [special_note(dataset)] if dataset.special else []
    return notes + ([loose] if (loose := loose_note(dataset)) else [])


def ignored_note(dataset: Dataset) -> str:
    """One line naming the files that are not images (:func:`~braintumor.ignored_files.ignored_text`): none may be
    left out without a word."""
    return ignored_text(dataset.ignored)


def special_note(dataset: Dataset) -> str:
    """One line naming the pipes and devices named like images (:func:`~braintumor.image_files.walk_images`
    never opens them: a FIFO nothing writes to blocks its reader): data audit and evaluate passed over them
    without a word, and their counts seemed to be of every file there."""
    what = "is a pipe or device, not an image file" if len(dataset.special) == 1 else \
        "are pipes or devices, not image files"
    return (f"skipped {counted(len(dataset.special), 'file')} that {what} (reading one may never end): "
            + listed([str(p) for p in dataset.special]))


def loose_note(dataset: Dataset) -> str | None:
    """One line on the images lying beside the class folders (``EXT/Testing/scan.jpg`` next to ``EXT/Testing/glioma/``),
    or None: they were left out without a word, and a reader took the count scored for all the images there."""
    if not dataset.loose:
        return None
    return (f"skipped {counted(len(dataset.loose), 'image')} beside the class folders in {dataset.root}, e.g. "
            f"{dataset.loose[0].name}: an image's class is the class folder it is in, and "
            f"{'it is' if len(dataset.loose) == 1 else 'these are'} in none")
