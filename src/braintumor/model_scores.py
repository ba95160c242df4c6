"""The network's scores, checked before they are read as probabilities: a damaged model file, or one converted wrongly
(float16 weights that overflow), gives NaN or infinite logits for a finite image. Softmax made NaN of them, and
``prediction_from_probs`` raised a ValueError naming itself partway through ``classify``, not the model; the web app
answered its generic 500.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

import numpy as np

from .image_files import is_special_file
from .image_io import ImageError
from .model_files import ModelError
from .wording import counted, printable

T = TypeVar("T")
#: What every such error says between its model and its image: a record's error that holds it is one (:func:`unscored`).
NOT_FINITE = "gave scores that are not finite (NaN or infinite) for "


class NonFiniteScores(ModelError):
    """The ModelError of a model whose scores for image ``row`` (of the batch, or of ``predict_many``'s images) are
    not finite; ``model``: its file, None for a session built in memory; ``name``: the input, where the caller knows
    its file (the CLI; never the web app, whose log holds no upload's name)."""

    def __init__(self, model: Path | None, row: int, name: str | None = None) -> None:
        self.model, self.row, self.name = model, row, name
        self.rows = (row,)  # every row of the batch whose scores are not finite (check_scores'), row the first
        named = "the model" if model is None else f"the model {model}"
        image = f"image {row}" if name is None else name
        super().__init__(f"{named} {NOT_FINITE}{image}: a damaged model file, or one converted wrongly; export it "
                         "again")

    def __reduce__(self) -> tuple:  # pickled by its fields (a predict --workers process sends it to the CLI)
        return NonFiniteScores, (self.model, self.row, self.name)

    def renumbered(self, row: int) -> NonFiniteScores:
        """The same error for the image ``row`` its batch's row was among the caller's images."""
        return NonFiniteScores(self.model, row)

    def named(self, name: str) -> NonFiniteScores:
        """The same error naming the input (its path: "image 3" of a folder, or of one batch, named no file)."""
        return type(self)(self.model, self.row, name)


class UnscoredImage(NonFiniteScores, ImageError):
    """:class:`NonFiniteScores` as one image's outcome among several (``predict_many``'s, a folder's, a request's):
    an ImageError to code that tells answers from unread images, so the others are answered; the model's fault
    (``isinstance(outcome, NonFiniteScores)``) to code that counts or words it apart."""

    def __reduce__(self) -> tuple:
        return UnscoredImage, (self.model, self.row, self.name)

    def renumbered(self, row: int) -> UnscoredImage:
        return UnscoredImage(self.model, row, self.name)


def scored_apart(run: Callable[[list[int]], Sequence[T]], n: int) -> list[T | UnscoredImage]:
    """``run(rows)``'s answers for rows ``0..n-1``, in order, an image whose scores are not finite answered by its
    :class:`UnscoredImage` (numbered by its row): the others are run again without it, not lost with it (a network
    runs each image of a batch on its own, so their scores are the same)."""
    failed: dict[int, UnscoredImage] = {}
    while True:
        rows = [k for k in range(n) if k not in failed]
        try:
            answers = iter(run(rows) if rows else [])
        except NonFiniteScores as exc:
            for row in exc.rows:
                failed[rows[row]] = UnscoredImage(exc.model, rows[row])
            continue
        return [failed[k] if k in failed else next(answers) for k in range(n)]


def check_scores(logits: np.ndarray, model: Path | None) -> None:
    """Raise :class:`NonFiniteScores` for the first image whose logits (N, K) are not all finite."""
    finite = np.isfinite(logits).all(axis=-1)
    if not finite.all():
        exc = NonFiniteScores(model, int(np.argmin(finite)))
        exc.rows = tuple(int(k) for k in np.flatnonzero(~finite))
        raise exc


def unscored(rec: dict) -> bool:
    """Whether a record's error is its model's scores not finite (a --workers run's records come as dicts)."""
    return NOT_FINITE in str(rec.get("error", ""))


def unscored_text(model: Path | None, parts: Counter[str], output: str | None = None, fmt: str = "jsonl",
                  resume: bool = False) -> str:
    """The CLI's line under its last, for a run whose model failed on some inputs and scans' slices (``parts``, by
    :func:`~braintumor.series.unread_part`, counted apart as the unreadable are: a scan's 6 slices were '6 inputs'):
    their records said it one by one among the unreadable, the model's fault said nowhere as such (the run stopped at
    the first, before). A --resume run redoes them (:func:`braintumor.batch_resume.read_previous`), the others kept:
    what to run then is said for where the records went (``output``, ``fmt``, ``resume``: :func:`_again`). Its names
    (the model's, a device's) shown escaped (:func:`~braintumor.wording.printable`), as every line on the terminal."""
    named = "the model" if model is None else f"the model {model}"
    which = " and ".join(counted(parts[part], part) for part in ("input", "slice") if parts[part])
    return printable(f"error: {named} {NOT_FINITE}{which} (their records say which): a damaged "  # names escaped
                     f"model file, or one converted wrongly; export it again, then {_again(output, fmt, resume)}")


def _again(output: str | None, fmt: str, resume: bool) -> str:
    """What redoes those inputs: --resume continues a jsonl or csv -o FILE only, so "run again with --resume and the
    same -o FILE" was untrue of records printed to standard output (or written through a device), which nothing reads
    back, and of a json or table FILE, which --resume refuses."""
    if output in (None, "-") or is_special_file(Path(output)):
        where = "standard output" if output in (None, "-") else output
    elif fmt not in ("jsonl", "csv"):
        where = f"a {fmt} one"
    elif resume:
        return "run the same command again (only they are redone)"
    else:
        return "run again (with --resume and the same -o FILE, only they are redone)"
    return f"score those inputs again (--resume, which redoes them alone, continues a jsonl or csv -o FILE, not " \
           f"{where})"
