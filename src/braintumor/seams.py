"""Straight seams where tiles of a montage abut: the part of the montage check that a visible gap between heads
cannot do.

``preprocess._head_box`` tells two slices apart by the background between their heads, but bridges a gap of up to 1/50
of the frame as one head, so stacked slices whose heads nearly reach their frames' edges read as one. Tiles that abut
leave that thin gap at 1/2, 1/3 or 2/3 of the frame: a line there without head cuts the head into its tiles. A single
slice has no such line across its head (the dataset's 7019: ``python scripts/clinician_inputs.py``, docs/RESULTS.md
"Inputs a clinician may send"). Tiles whose heads touch across the seam, with no line free of head, are not caught:
telling them by the jump in gray level across the seam caught none more of 400 held-out montages and cost ~6 % of a
prediction (docs/PERFORMANCE.md, "Twenty-fifth round").
"""

from __future__ import annotations

import itertools

import numpy as np

#: Lines a seam needs either side of it within the head, so that the head's own top and bottom edges are no seam.
SEAM_WINDOW: int = 6


def seam_share(head_lines: np.ndarray, run: tuple[int, int]) -> float:
    """Where a line without head (``head_lines``: which rows hold enough head pixels) within a pixel of 1/2, 1/3 or
    2/3 of the frame cuts the head run ``run`` = [a, b), the second-longest part as a share of the longest (as
    ``preprocess._head_box`` measures a second run of head lines); 0 where none does. For columns, pass the head's
    columns. A few Python operations: the check costs nothing measurable."""
    length = len(head_lines)
    a, b = run
    seams = [c for c in (round(length / 2), round(length / 3), round(2 * length / 3))
             if a + SEAM_WINDOW < c < b - SEAM_WINDOW]
    cuts = [c for c in seams if not head_lines[c - 2:c + 2].all()]
    if not cuts:
        return 0.0
    edges = [a, *sorted(cuts), b]
    parts = sorted(y - x for x, y in itertools.pairwise(edges))  # a 3 x 3 grid's two seams leave three heads
    return parts[-2] / parts[-1]
