"""Whether a model-input crop looks skull-stripped (the brain alone on black, BraTS-style), for a note on its answer.

The model was trained on whole heads, and on stripped slices its confidence is no guide (docs/RESULTS.md,
"Skull-stripped slices": ~1 in 8 answers wrong at ~97 % mean confidence). A whole head's outline is a bright rim
(scalp, fat) with a dark ring (the skull) just inside it; a stripped brain goes from black straight into cortex. So
every 4th row and column through the middle 60 % of the crop is read inward from where the head begins, from all
four sides: a line shows no dark ring when the darkest pixel of its 24 px band (from 2 px in) is more than half as
bright as the brightest of its outer 12 px (on the shipped model's 160 px crops; other sizes scaled, unchecked). A
crop is taken as stripped when at least 40 % of its lines show none. Chosen on the even-index half of Training (real
slices against crude strips of them), checked on the odd half (``python scripts/stripped_check.py``; docs/RESULTS.md,
"Skull-stripped slices").

A heuristic, so it only adds a note to an answer: it never refuses, never changes a label or a probability.
"""

from __future__ import annotations

import functools
import math
from dataclasses import replace

import numpy as np
from PIL import Image

from .ood_stats import crop_levels
from .prediction import Prediction
from .preprocess import histogram_percentile_one
from .wording import STRIPPED, STRIPPED_NOTE

#: The band read inward from where a line's head begins, as a share of the crop's side (24 px of a 160 px crop).
DEPTH: float = 0.15
#: The outer part of the band where the bright rim (scalp) is looked for (12 px of 160).
RIM: float = 0.075
#: How far in the band's darkest pixel is looked for from (2 px of 160): the outline's own pixels are partly black.
SKIP: float = 0.0125
#: The share of the crop left out at each end: lines near the top and bottom of a head run along its outline, not
#: across it (the crop is the head's box, square, with a 4 % margin).
ENDS: float = 0.2
#: How many rows (and as many columns) are read per crop side: every 4th of a 160 px crop's.
EVERY: float = 0.025
#: The share of ringless lines from which a crop looks stripped.
RINGLESS_AT_LEAST: float = 0.4
#: The smallest crop side (a model's input size) the note is made for: chosen and checked at 160 px; on smaller
#: crops the skull ring blurs into the scalp and brain (of 143 Training slices, every 40th, 8 were taken for stripped
#: at 64 px, 1 at 128, none at 160 or 192: a scratch check, not committed), so a small model's answers get no note.
MIN_CROP: int = 128


@functools.lru_cache(maxsize=8)
def _layout(size: int) -> tuple[slice, int, np.ndarray, int, int, np.ndarray, np.ndarray]:
    """For a crop side S (the model's input size; chosen and checked at 160 px only, other sides scaled): the rows
    read, how many (L), the (D, 1) steps inward, the rim's and the skip's pixels, where each line of the (4, L, S)
    stack of :func:`ringless_share` begins, flat (4 L,), and the lines' numbers (4 L,)."""
    middle = slice(round(ENDS * size), round((1.0 - ENDS) * size), max(1, round(EVERY * size)))
    lines = len(range(size)[middle])
    return (middle, lines, np.arange(max(2, round(DEPTH * size)))[:, None], max(1, round(RIM * size)),
            max(1, round(SKIP * size)), np.arange(4 * lines) * size, np.arange(4 * lines))


def ringless_share(crop: np.ndarray, top: float) -> float | None:
    """The share of the lines read (see the module) that show no dark ring under a bright rim, in a uint8 crop (S, S),
    or None where none crosses the head. ``top``: the crop's 99th percentile + 1 (``ood_stats.level_stats``' scale);
    head pixels are those above a tenth of it, as the head box takes them. A band that would leave the crop stops at
    its last pixel.

    The four directions are stacked into one array whose lines all start at the outside and read in whole-array calls
    (about 15): all 160 lines a side, the head's own extent, or a loop over lines cost several times the budget of
    about 20 us per prediction."""
    size = crop.shape[-1]
    middle, count, steps, rim_px, skip, starts, rows = _layout(size)
    lines = np.empty((4, count, size), crop.dtype)  # (4, L, S): filled in place, a third of np.stack's time
    lines[0], lines[1], lines[2], lines[3] = crop[middle], crop[middle, ::-1], crop.T[middle], crop.T[middle, ::-1]
    head = (lines > min(math.floor(max(0.1 * top, 1.0)), 255)).reshape(-1, size)  # integer pixels: as head_box
    depth = head.argmax(axis=1)  # how far in from the outside each line's head begins (0 where none)
    crosses = head[rows, depth]  # (its first head pixel, read back: no second pass over the lines for any())
    if not crosses.any():
        return None
    # (D, lines crossing the head): one column per line, so that the rim's maximum and the darkest pixel are reduced
    # across rows, elementwise (a reduction along each short row cost several times as much); stopped at the far side
    band = lines.ravel()[np.minimum(depth[crosses] + steps, size - 1) + starts[crosses]]
    rim = band[:rim_px].max(axis=0)  # > 0: the outline's pixel is a head pixel
    # darkest > half the rim: for integers, d > r // 2 is 2 d > r, with no wider type
    return int(np.count_nonzero(band[skip:].min(axis=0) > (rim >> 1))) / band.shape[1]


def crop_ringless_share(crop: np.ndarray, counts: list[int] | None = None) -> float | None:
    """:func:`ringless_share` of a uint8 crop, its 99th percentile from its 256-bin histogram ``counts`` (made here
    when not given: scripts and tests; the prediction path has it already)."""
    counts = Image.fromarray(np.ascontiguousarray(crop)).histogram() if counts is None else list(counts)
    return ringless_share(crop, histogram_percentile_one(counts, 99) + 1.0)


def looks_stripped(share: float | None) -> bool:
    """Whether a crop whose :func:`ringless_share` is ``share`` looks skull-stripped."""
    return share is not None and share >= RINGLESS_AT_LEAST


def crop_shares(batch: np.ndarray, crops: np.ndarray | None, counts: list[list[int]] | np.ndarray | None = None,
                tops: np.ndarray | None = None) -> list[float | None] | None:
    """The :func:`ringless_share` of each row of the model-input ``batch``, for :func:`with_notes`; None for crops
    under :data:`MIN_CROP`, where no note is made. ``crops``: the uint8 crops behind ``batch`` (else made from it),
    ``counts``: their 256-bin histograms, and ``tops``: their 99th percentiles + 1 from those, when the caller has
    them (``ood_stats.level_histograms`` and ``crop_tops``; the input checks use the same). About 0.1 ms a prediction
    in place (46 us warm; docs/PERFORMANCE.md, "Thirtieth round")."""
    if batch.shape[-1] < MIN_CROP:
        return None
    if crops is None:  # the floats' levels: the crops they were made of (ood_stats.crop_levels)
        crops, counts, tops = crop_levels(batch[:, 0] * np.float32(255.0)), None, None
    if tops is not None:
        return [ringless_share(crop, float(top)) for crop, top in zip(crops, tops, strict=True)]
    return [crop_ringless_share(crop, None if counts is None else counts[k]) for k, crop in enumerate(crops)]


def with_notes(preds: list[Prediction], shares: list[float | None] | None) -> list[Prediction]:
    """``preds``, each accepted answer whose crop looks stripped (its share in ``shares``, from :func:`crop_shares`)
    with :data:`~braintumor.wording.STRIPPED_NOTE` as its ``note``; label and probabilities unchanged."""
    if shares is None:
        return preds
    return [replace(p, note=STRIPPED_NOTE) if not p.ood and looks_stripped(share) else p
            for p, share in zip(preds, shares, strict=True)]


def noted(rec: dict) -> bool:
    """Whether a record (``Prediction.to_dict()``) carries the note of a slice that looks stripped: by its words, as a
    record read back from a CSV has them (its ``note_kind`` is said by the same words: wording.NOTE_KINDS)."""
    return rec.get("note") == STRIPPED_NOTE


def count_text(n: int) -> str:
    """How many slices of a scan's summary carry the note, as its line says them: ``3 look skull-stripped``."""
    return f"{n} {STRIPPED if n == 1 else STRIPPED.replace('looks', 'look', 1)} (confidence no guide)"


def note_summary(noted: np.ndarray, correct: np.ndarray, accepted: np.ndarray, size: int) -> dict | None:
    """How many accepted answers of an evaluation carry the note, overall and among the wrong ones (metrics.json's
    ``stripped``): whether the note lands where the answers go wrong. None for a model whose crop side ``size`` is
    under :data:`MIN_CROP`, which makes no note (a count of 0 would read as "none looked stripped")."""
    if size < MIN_CROP:
        return None
    noted, wrong = np.asarray(noted, bool) & accepted, accepted & ~np.asarray(correct, bool)
    return {"accepted": int(accepted.sum()), "noted": int(noted.sum()), "wrong_accepted": int(wrong.sum()),
            "wrong_noted": int((noted & wrong).sum())}


def note_text(s: dict | None) -> str:
    """:func:`note_summary` as evaluate's console and report.html say it: ``7 look skull-stripped (confidence no
    guide) among 1265 accepted answers; of the 46 wrong ones, 2 carry the note``."""
    if s is None:
        return f"no answer carries the skull-stripped note: it is not made for a model input under {MIN_CROP} px"
    carry = "carries" if s["wrong_noted"] == 1 else "carry"
    return (f"{count_text(s['noted'])} among {s['accepted']} accepted answers; of the {s['wrong_accepted']} wrong "
            f"ones, {s['wrong_noted']} {carry} the note")
