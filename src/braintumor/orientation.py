"""Which way up a slice is, and the refusal of one on its side (numpy only: serving).

The classifier was trained on upright slices (rotations of at most 15 degrees, left/right mirrors). Turned a
quarter, the shipped model still answered 72.6 % of those it accepted right and refused only one in five
(docs/RESULTS.md, "Slices on their side or upside down"): a confident wrong answer one time in four. A small network
grafted into the same ONNX file (:class:`braintumor.model.OrientationNet`, output :data:`OUTPUT`, fitted by
``braintumor orientation``) says which way up the slice is; a slice it finds turned a quarter is refused with the turn
named, so the user can rotate it and send it again; upside down too where the file's metadata has a threshold for it
(the shipped files since 2026-12-06, late). Models without the output are served as before.
"""

from __future__ import annotations

import numpy as np

#: The graph output holding the orientation logits, and the prefix of every node and tensor of its sub-graph.
OUTPUT: str = "orientation"
PREFIX: str = "orientation/"
#: What a turn's refusal tells to do, at its end (the web page finds such refusals by it: their note differs).
TURN_ADVICE: str = "rotate it upright and send it again"
#: What comes before :data:`TURN_ADVICE`: the advice holds only if the slice is turned. The check takes a few upright
#: slices for turned (8 of the 1311 Testing slices are told to turn them a quarter, upright by eye but one tilted 45
#: degrees; in Training the upright CT slice Tr-no_0349, whose features pass and which turned a quarter anticlockwise is
#: answered "no tumour" at 99.8 %: docs/RESULTS.md, "Slices on their side or upside down"), and "rotate it" told
#: their users to turn them until they were answered.
IF_TURNED: str = "if it is, "
#: How a refusal names a quarter turn, either way.
QUARTER_TURN: str = "turned 90 degrees, on its side"
#: The reason of a slice that looks turned (a quarter, or upside down) yet is read turned back neither way (an upright
#: skull-stripped slice, say): told to rotate it, a user got it refused again. No "features": it is no refusal for the
#: distance. "Turned", not "on its side": a slice taken for upside down is tried half a turn back.
NOT_ON_ITS_SIDE: str = "its layout is unlike every training slice's, upright or turned"
#: Epochs ``braintumor orientation`` trains the network for (the shipped check's; 12 did less on validation).
FIT_EPOCHS: int = 24
#: What each logit says, in the order the network was trained on: ``np.rot90(upright, k)`` for k = 0, 1, 2, 3
#: (numpy turns anticlockwise).
TURNS: tuple[str, ...] = ("upright", "turned 90 degrees anticlockwise", "upside down", "turned 90 degrees clockwise")


def turn_probabilities(logits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(P(turned a quarter, either way), P(upside down)) for each row of orientation logits (N, 4).

    Two numbers, not one P(not upright): a quarter turn is told from upright almost always, upside down much less
    often (an axial slice's front and back differ in detail only), so one threshold on their sum had to sit where
    upside-down doubts put it and let quarter turns through."""
    z = np.asarray(logits, dtype=np.float64)
    e = np.exp(z - z.max(axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    return p[:, 1] + p[:, 3], p[:, 2]


def turn_reasons(logits: np.ndarray, quarter_threshold: float, half_threshold: float | None) -> list[str | None]:
    """The refusal reason of each row turned beyond the file's thresholds (fitted on validation slices), else None.
    ``half_threshold`` None: upside down is not refused (a file fitted while ``orientation_fit.REFUSE_UPSIDE_DOWN``
    was False).
    A quarter turn's direction is not named: the network mistakes one for the other in ~8 % of validation crops."""
    quarter, half = turn_probabilities(logits)
    reasons: list[str | None] = []
    for q, h in zip(quarter.tolist(), half.tolist(), strict=True):
        turn = (QUARTER_TURN if q > quarter_threshold
                else TURNS[2] if half_threshold is not None and h > half_threshold else None)
        reasons.append(turn and turn_reason(turn))
    return reasons


def turn_reason(turn: str) -> str:
    """The reason of a slice refused as ``turn`` (one of :data:`TURNS`, or :data:`QUARTER_TURN`): the turn seen, and
    the advice on the condition that it is (:data:`IF_TURNED`)."""
    return f"it looks {turn}; {IF_TURNED}{TURN_ADVICE}"
