"""A dataset's classes against what uses them: a model's class order (the label map) and training's rule that every
class has images.

Why its own module: :mod:`braintumor.data` lists the folders; these compare what it found with a model or a recipe,
after the listing (and, for training, after the decoding).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .data import Dataset, DatasetError, every_class_needed
from .wording import in_number


def label_map(data_classes: Sequence[str], model_classes: Sequence[str]) -> np.ndarray:
    """Dataset label index -> model output index: a dataset's labels index its classes in :data:`CLASSES`' order, a
    model's scores follow its metadata's, and the two need not agree (a fit or a score on the dataset's indices
    against another order named other classes). DatasetError for a class the model does not know."""
    unknown = [c for c in data_classes if c not in model_classes]
    if unknown:
        raise DatasetError(f"dataset {in_number(len(unknown), 'class', 'classes')} {', '.join(unknown)} unknown to "
                           f"the model (it predicts {', '.join(model_classes)})")
    return np.asarray([list(model_classes).index(c) for c in data_classes], dtype=np.int64)


def require_every_class(dataset: Dataset) -> None:
    """DatasetError for a class left with no image once the unreadable files are skipped (``dataset``: as decoded):
    a class folder of corrupt files passed :func:`~braintumor.data.load_dataset`, and a four-class network was trained
    on three."""
    for name, n in dataset.counts().items():
        if not n:
            raise DatasetError(f"class '{name}' has no readable image in {dataset.root}: each of its files was "
                               f"skipped as unreadable (above); {every_class_needed(dataset.classes)}")
