"""The network's scores, checked before they are read as probabilities: a damaged model file, or one converted wrongly
(float16 weights that overflow), gives NaN or infinite logits for a finite image. Softmax made NaN of them, and
``prediction_from_probs`` raised a ValueError naming itself partway through ``classify``, not the model; the web app
answered its generic 500.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .model_files import ModelError


class NonFiniteScores(ModelError):
    """The ModelError of a model whose scores for image ``row`` (of the batch, or of ``predict_many``'s images) are
    not finite; ``model``: its file, None for a session built in memory; ``name``: the input, where the caller knows
    its file (the CLI; never the web app, whose log holds no upload's name)."""

    def __init__(self, model: Path | None, row: int, name: str | None = None) -> None:
        self.model, self.row, self.name = model, row, name
        named = "the model" if model is None else f"the model {model}"
        image = f"image {row}" if name is None else name
        super().__init__(f"{named} gave scores that are not finite (NaN or infinite) for {image}: a damaged model "
                         "file, or one converted wrongly; export it again")

    def __reduce__(self) -> tuple:  # pickled by its fields (a predict --workers process sends it to the CLI)
        return NonFiniteScores, (self.model, self.row, self.name)

    def renumbered(self, row: int) -> NonFiniteScores:
        """The same error for the image ``row`` its batch's row was among the caller's images."""
        return NonFiniteScores(self.model, row)

    def named(self, name: str) -> NonFiniteScores:
        """The same error naming the input (its path: "image 3" of a folder, or of one batch, named no file)."""
        return NonFiniteScores(self.model, self.row, name)


def check_scores(logits: np.ndarray, model: Path | None) -> None:
    """Raise :class:`NonFiniteScores` for the first image whose logits (N, K) are not all finite."""
    finite = np.isfinite(logits).all(axis=-1)
    if not finite.all():
        raise NonFiniteScores(model, int(np.argmin(finite)))
