"""Which way up a slice is, and the refusal of one on its side or upside down (numpy only: serving).

The classifier was trained on upright slices (rotations of at most 15 degrees, left/right mirrors). Turned a
quarter, the shipped model still answered 72.6 % of those it accepted right and refused only one in five
(docs/RESULTS.md, "Orientation"): a confident wrong answer one time in four. A small network grafted into the same
ONNX file (:class:`braintumor.model.OrientationNet`, output :data:`OUTPUT`, fitted by ``braintumor orientation``)
says which way up the slice is; a slice it finds turned is refused with the turn named, so the user can rotate it
and send it again. Models without the output are served as before.
"""

from __future__ import annotations

import numpy as np

#: The graph output holding the orientation logits, and the prefix of every node and tensor of its sub-graph.
OUTPUT: str = "orientation"
PREFIX: str = "orientation/"
#: What each logit says, in the order the network was trained on: ``np.rot90(upright, k)`` for k = 0, 1, 2, 3
#: (numpy turns anticlockwise).
TURNS: tuple[str, ...] = ("upright", "turned 90 degrees anticlockwise", "upside down", "turned 90 degrees clockwise")


def turned_share(logits: np.ndarray) -> np.ndarray:
    """P(not upright) for each row of orientation logits (N, 4): one minus the softmax's first column."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return 1.0 - e[:, 0] / e.sum(axis=1)


def turn_reasons(logits: np.ndarray, threshold: float) -> list[str | None]:
    """The refusal reason of each row whose P(not upright) is above ``threshold`` (the file's, fitted on validation
    slices), None for the others."""
    shares = turned_share(logits)
    turns = np.argmax(np.asarray(logits)[:, 1:], axis=1) + 1
    return [f"it looks {TURNS[k]}; rotate it upright and send it again"
            if share > threshold else None for share, k in zip(shares.tolist(), turns.tolist(), strict=True)]
