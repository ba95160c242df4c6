"""``Classifier.predict_many``'s stream: each source read as it comes, the network run once per batch, the answers
given back in input order. Apart from the Classifier (predictor.py was at the 300-line guide).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from .image_arrays import InMemoryImage
from .image_io import ImageError, ImageSource, InputInfo
from .missing_files import read_before_text
from .model_scores import NonFiniteScores, scored_apart
from .prediction import Prediction
from .preprocess import to_model_input
from .python_api_errors import named_by_bytes

if TYPE_CHECKING:
    from .predictor import Classifier


def stream_predictions(clf: Classifier, sources: Iterable[ImageSource | InMemoryImage], batch_size: int,
                       ) -> Iterator[tuple[ImageSource | InMemoryImage, Prediction | ImageError, np.ndarray | None]]:
    """(source, Prediction or ImageError, its probabilities or None) for each of ``sources``, in order, ``clf``'s
    network run on ``batch_size`` images at a time (:meth:`braintumor.predictor.Classifier.predict_many`)."""
    pending: list[tuple[ImageSource, tuple[np.ndarray, InputInfo] | ImageError]] = []
    done = [0]  # how many images were answered before the batch

    def flush() -> Iterator[tuple[ImageSource, Prediction | ImageError, np.ndarray | None]]:
        taken, pending[:] = pending[:], []  # first: a failed network run leaves nothing to answer twice
        good = [k for k, (_, x) in enumerate(taken) if not isinstance(x, ImageError)]

        def run(rows: list[int]) -> list[tuple[Prediction, np.ndarray]]:
            crops = np.stack([taken[good[k]][1][0] for k in rows])
            preds, _, probs = clf._classify(to_model_input(crops), [taken[good[k]][1][1] for k in rows], crops)
            return list(zip(preds, probs, strict=True))

        # an image whose scores are not finite is its own error, the batch's others answered (they were lost)
        answers = iter(scored_apart(run, len(good)))
        for k, (src, x) in enumerate(taken):
            if isinstance(x, ImageError):
                yield src, x, None
                continue
            answer = next(answers)
            if isinstance(answer, NonFiniteScores):  # named by its file, else its place among the images
                named = isinstance(src, (str, os.PathLike))
                answer = answer.named(str(src)) if named else answer.renumbered(k + done[0])
                yield src, answer, None
            else:
                yield (src, *answer)
        done[0] += len(taken)

    pipes: dict[tuple[int, int], str] = {}  # those read so far: a second name of one is told so ("file is empty")
    try:
        for index, src in enumerate(sources):
            try:
                if isinstance(src, (str, os.PathLike)) and (said := read_before_text(src, pipes)):
                    raise ImageError(said)
                pending.append((src, clf.inspect_crop(src)))
            except ImageError as exc:  # kept bare: its traceback and context held the failed file alive
                exc.__context__ = None
                pending.append((src, named_by_bytes(exc, src).with_traceback(None)))
            except TypeError as exc:  # not an image at all (a NaN in a column of paths): says which item
                raise TypeError(f"item {index} of the images: {exc}{_pair_hint(src)}") from None
            if len(pending) >= batch_size:
                yield from flush()
    except Exception:  # that, or the iterable's own error (expand_inputs' of a NaN, a generator's OSError): the
        yield from flush()  # images before it are answered first (they were lost unless the item was the fault)
        raise
    yield from flush()


def _pair_hint(item: object) -> str:
    """What to say of a pair given as one of the images: ``predict_many(labels.items())`` or a list of (path, label)
    pairs, as a dataset's samples are kept, said only "not tuple"."""
    if isinstance(item, tuple) and len(item) == 2:
        return ": a pair of an image and its label? predict_many takes the images alone, (image for image, _ in pairs)"
    return ""
