"""What an evaluation covers and what it leaves out, said in words: the Training split its leak check compares with
(or why there is none).

Its own module because a labelled folder from elsewhere (a hospital's, another public set) rarely has this
dataset's layout: each thing the evaluation cannot do there must be said once, the same way, on the console and in
the report, never left for a reader to notice by its absence.
"""

from __future__ import annotations

from pathlib import Path

from .data import Dataset, DatasetError, load_dataset, resolve_split


def leak_reference(data: str, dataset: Dataset) -> tuple[Dataset | None, str | None]:
    """(the Training split beside the evaluated one, None), or (None, why the leak-free metrics cannot be computed).

    Without the note, a folder with no Training split (a hospital's test set) got no leak-free line and no report
    section at all: nothing told the reader that its metrics include images the model may have trained on."""
    root = Path(data)
    evaluated = dataset.root.resolve()
    if (root / "Training").is_dir():
        if evaluated == resolve_split(root, "Training").resolve():
            return None, "not computed: the evaluated images are the Training split itself"
        try:
            training = load_dataset(root, "Training", allow_missing=True)  # a set of some classes, as tested
        except DatasetError as exc:
            raise DatasetError(f"{exc} (needed for the leak-free metrics; --no-leak-free skips them)") from None
        if not len(training):  # nothing to compare with: every test image 'leak-free' would be a false claim
            return None, f"not computed: {training.root} holds no images to look for near duplicates in"
        return training, None
    beside = evaluated.parent / "Training"
    if beside.is_dir() and beside.resolve() != evaluated:  # --data ROOT/Testing: the split named as the root
        return None, (f"not computed: --data names the split folder itself; --data {evaluated.parent} "
                      f"--split {evaluated.name} compares it with the Training split beside it")
    return None, (f"not computed: {root} has no Training split to look for near duplicates in, so every metric "
                  "is on all the images, including any the model may have been trained on")
