"""Straight seams where tiles of a montage abut: the part of the montage check that a gap between heads cannot do.

``preprocess._head_box`` tells two slices apart by the background between their heads; stacked slices whose heads
reach their frames' edges (sagittal and coronal slices often do) leave a gap of a few rows, bridged as one head, or
none. What they always leave is a straight line across the head at 1/2, 1/3 or 2/3 of the frame, where either no
head pixel lies or the gray level jumps between the two slices: measured, no slice of the dataset's 7019 has one
there (``python scripts/clinician_inputs.py``, docs/RESULTS.md "Inputs a clinician may send").
"""

from __future__ import annotations

import itertools

import numpy as np

#: Lines either side of a seam that the jump at it is compared with.
SEAM_WINDOW: int = 6
#: A line is a seam when, of its head pixels, at least this share jump more there than at any other line of the
#: window (the dataset's slices: at most 0.43, 99th percentile 0.19; tiles whose heads meet: ~0.5 to 1).
SEAM_JUMP: float = 0.6
#: A jump smaller than this many gray levels is noise, not a seam.
MIN_JUMP: int = 8
#: Tile counts along a side whose seams are looked for: halves and thirds.
SPLITS: tuple[int, ...] = (2, 3)


#: Which lines around a seam are read: ``SEAM_WINDOW`` either side of the two it lies between, and one more each way.
_LINES = np.arange(-SEAM_WINDOW - 1, SEAM_WINDOW + 1)


def seam_share(gray: np.ndarray, head_lines: np.ndarray, level: int, run: tuple[int, int]) -> float:
    """Where seams cut the head run ``run`` = [a, b) of ``gray``'s rows (axis 0) at 1/2, 1/3 or 2/3 of the frame
    (within a pixel), the second-longest part as a share of the longest (as ``preprocess._head_box`` measures a second
    run of head lines); 0 where none does. ``head_lines``: which rows hold enough head pixels; ``level``: the gray
    level head pixels are above. For columns, pass the transpose of the head's rows (a view: only the lines around
    each seam are read). Some 15 numpy calls on a few thousand pixels: ~30 us per call on a 224 px frame."""
    length, width = gray.shape
    a, b = run
    k = SEAM_WINDOW
    seams = [c for c in (round(length / 2), round(length / 3), round(2 * length / 3)) if a + k < c < b - k]
    if not seams:  # no seam position cuts the head with a window's room either side
        return 0.0
    lines = np.array(seams)[:, None] + _LINES
    # a line without head at a seam: heads that abut with a gap too thin to tell (bridged as one head)
    lit = head_lines[lines[:, k - 1:k + 3]].all(axis=1).tolist()
    block = gray[lines]  # (seams, 2k + 2 lines, width)
    jumps = np.subtract(block[:, 1:], block[:, :-1], dtype=np.int16)  # [i]: between lines c - k - 1 + i and c - k + i
    np.abs(jumps, out=jumps)
    peak = jumps.max(axis=1)
    np.maximum(peak, MIN_JUMP, out=peak)  # a jump under MIN_JUMP is never a peak
    at = jumps[:, k - 1:k + 2]  # the line between c - 1 + s and c + s, for s in -1, 0, 1: within a pixel of the seam
    head = block[:, k - 1:k + 3] > level
    active = head[:, :-1] | head[:, 1:]  # head on either side of the line
    heads = active.sum(axis=2).tolist()
    hits = ((at == peak[:, None]) & active).sum(axis=2).tolist()
    cuts = []
    for c, no_gap, n, hit in zip(seams, lit, heads, hits, strict=True):
        jumped = [s for s in range(3) if n[s] >= width / 4 and hit[s] >= SEAM_JUMP * n[s]]
        if not no_gap or jumped:
            cuts.append(jumped[-1] + c - 1 if no_gap else c)
    if not cuts:
        return 0.0
    edges = [a, *sorted(cuts), b]
    parts = sorted(y - x for x, y in itertools.pairwise(edges))  # a 3 x 3 grid's two seams leave three heads
    return parts[-2] / parts[-1]
