"""DICOM Image Orientation (Patient) -> the conventional view of a slice (used by :mod:`braintumor.dicom_io`).

A scanner may store a slice mirrored or transposed; the model learned slices as radiologists view them, and as
:mod:`braintumor.nifti_io` cuts them: axial with anterior at the top and the patient's right on the viewer's left,
coronal with superior at the top and the patient's right on the left, sagittal with superior at the top and anterior
on the left. A slice is flipped and/or transposed into that view by the patient axes nearest its rows and columns,
whole pixels only (nothing is resampled), as the NIfTI reader does with an oblique volume; one too oblique for its
nearest axes to be clear (past :data:`AXIS_TOLERANCE_DEGREES`) is shown as stored. Either way an oblique slice is said.

The axes are DICOM's (PS3.3 C.7.6.2.1.1): x towards the patient's left, y posterior, z superior. The orientation's
first three values are the direction of a row (along which the column index grows), the last three that of a column.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import numpy as np

from .wording import counted

#: Most degrees between a slice's row or column direction and its nearest patient axis for the slice to be turned into
#: the conventional view by its nearest axes; further off (45 is half-way) it is shown as stored. Brain series are
#: often tilted 10-25 degrees along the AC-PC line: they are turned.
AXIS_TOLERANCE_DEGREES: float = 40.0

#: Degrees off the axes from which a slice is called oblique in a note (the NIfTI reader's figure).
OBLIQUE_DEGREES: float = 1.0

#: How a slice that cannot be turned into the conventional view is shown (too oblique, or of no slice normal), as the
#: notes say it: one wording for a single file, a multi-frame file and a series.
AS_STORED = "shown as stored, not turned to a conventional view"

#: An Image Orientation (Patient) that gives no slice normal (nothing to turn by, or to order along), as notes name it.
NO_NORMAL = "an orientation of no slice normal (its row and column directions parallel or zero)"

#: An Image Orientation (Patient) present but not six finite numbers (NaN, five values, text), as notes name it: its
#: slices are shown as stored, as those of :data:`NO_NORMAL` (they were, unsaid).
UNREADABLE = "an Image Orientation (Patient) that cannot be read (not 6 finite numbers)"

#: The conventional view of each plane, by the patient axis its normal follows (0: x, 1: y, 2: z): its name, and the
#: directions of its rows and of its columns as (axis, sign).
CONVENTIONAL: dict[int, tuple[str, tuple[int, int], tuple[int, int]]] = {
    2: ("axial", (0, 1), (1, 1)),  # rows to the patient's left, columns to posterior
    1: ("coronal", (0, 1), (2, -1)),  # rows to the patient's left, columns to inferior
    0: ("sagittal", (1, 1), (2, -1)),  # rows to posterior, columns to inferior
}


@dataclass(frozen=True)
class Turn:
    """How a stored slice becomes its conventional view: transposed first, then flipped."""

    plane: str | None  # "axial", "coronal" or "sagittal"; None for a slice too oblique or skewed to turn (as stored)
    transpose: bool = False
    flip_rows: bool = False  # top to bottom
    flip_columns: bool = False  # left to right
    tilt: float = 0.0  # degrees between the row or column direction and its nearest axis (the larger)
    skewed: bool = False  # row and column directions far from perpendicular: no plane to speak of

    @property
    def changes(self) -> bool:
        return self.transpose or self.flip_rows or self.flip_columns

    def how(self) -> str:
        """What was done, in words ("transposed and flipped left-right")."""
        done = [w for w, on in (("transposed", self.transpose), ("flipped top-bottom", self.flip_rows),
                                ("flipped left-right", self.flip_columns)) if on]
        return " and ".join(done)

    def apply(self, gray: np.ndarray) -> np.ndarray:
        if self.transpose:
            gray = gray.T
        if self.flip_rows:
            gray = gray[::-1]
        if self.flip_columns:
            gray = gray[:, ::-1]
        return np.ascontiguousarray(gray)


def display_turn(orientation: list[float] | None) -> Turn | None:
    """The turn into the conventional view for an Image Orientation (Patient); None when it is absent, not finite or of
    no slice normal (said where frames are ordered: :mod:`braintumor.dicom_order`)."""
    axes = _unit_axes(orientation)
    if axes is None:
        return None
    r, c = axes
    ra, ca = int(np.argmax(np.abs(r))), int(np.argmax(np.abs(c)))
    if abs(float(r @ c)) > 0.1:  # rows and columns far from perpendicular: no plane to speak of, shown as stored and
        # said (a slice stored mirrored was shown so, unsaid); parallel ones have no normal, said as such
        return Turn(None, skewed=True) if unit_normal(orientation) is not None else None
    tilt = math.degrees(math.acos(min(1.0, float(np.abs(r).max()), float(np.abs(c).max()))))
    if tilt > AXIS_TOLERANCE_DEGREES or ra == ca:
        return Turn(None, tilt=round(tilt, 1))
    plane, (row_axis, row_sign), (_, col_sign) = CONVENTIONAL[3 - ra - ca]
    rs, cs = (1 if r[ra] > 0 else -1), (1 if c[ca] > 0 else -1)
    transpose = ra != row_axis
    if transpose:  # the stored columns run along the view's rows
        rs, cs = cs, rs
    return Turn(plane, transpose, cs != col_sign, rs != row_sign, round(tilt, 1))


def unit_normal(orientation: list[float] | None) -> np.ndarray | None:
    """The unit normal (row x column) of an Image Orientation (Patient), of its row and column at unit length
    (:func:`_unit_axes`); None when absent, zero, parallel or not finite (a series of them sorted into no slice)."""
    axes = _unit_axes(orientation)
    if axes is None:
        return None
    normal = np.cross(*axes)
    length = float(np.linalg.norm(normal))
    return normal / length if length > 1e-6 else None


def _unit_axes(orientation: list[float] | None) -> tuple[np.ndarray, np.ndarray] | None:
    """An orientation's row and column directions at unit length; None when absent, zero or not finite."""
    if orientation is None:
        return None
    axes = []
    with np.errstate(all="ignore"):  # zero: 0 / 0, inf: inf / inf, both NaN, refused below
        for v in (np.asarray(orientation[:3], dtype=np.float64), np.asarray(orientation[3:], dtype=np.float64)):
            length = np.linalg.norm(v)
            if not math.isfinite(length):  # a header's 1e200: its square overflowed (its slices were shown unturned,
                v = v / np.abs(v).max()  # a series of them went by Instance Number); scaled to 1 first
                length = np.linalg.norm(v)
            axes.append(v / length)
    r, c = axes
    return (r, c) if np.isfinite(r).all() and np.isfinite(c).all() else None


def along_normal(position: list[float], orientation: list[float], distance: float) -> list[float] | None:
    """``position`` moved ``distance`` mm along the normal of ``orientation`` (:func:`unit_normal`); None when a
    header's values make that meaningless (no normal, or a position that overflows)."""
    normal = unit_normal(orientation)
    if normal is None:
        return None
    with np.errstate(all="ignore"):  # a header's 1e308 position overflows
        at = [float(v) for v in np.asarray(position, dtype=np.float64) + normal * distance]
    return at if all(math.isfinite(v) for v in at) else None


#: The way a series' slices are ordered along each axis (0: x, 1: y, 2: z), as the NIfTI reader's RAS order goes:
#: to the patient's right, anterior and superior (DICOM's x and y point to the left and posterior).
_RAS_SIGN = (-1.0, -1.0, 1.0)


#: The patient axis each plane's normal follows (CONVENTIONAL's keys by name).
PLANE_AXIS: dict[str, int] = {name: axis for axis, (name, _, _) in CONVENTIONAL.items()}


def conventional_normal(normal: np.ndarray, plane: str | None = None) -> np.ndarray:
    """``normal``, or its opposite: pointing to the patient's right, anterior or superior along the axis of the plane
    the slices are shown in (else its nearest axis), so a series stored mirrored is ordered as any other, and as the
    NIfTI reader orders the same slices. (A double-oblique axial slice's normal can lean nearer x than z.)"""
    axis = PLANE_AXIS[plane] if plane in PLANE_AXIS else int(np.argmax(np.abs(normal)))
    return normal if normal[axis] * _RAS_SIGN[axis] >= 0 else -normal


def turn_notes(turns: list[Turn | None]) -> tuple[str, ...]:
    """The volume's notes on its slices' orientation: those flipped into the conventional view, and oblique ones."""
    turned = Counter((t.plane, t.how()) for t in turns if t is not None and t.changes)
    notes = [f"{counted(n, plane + ' image')} stored {how} (Image Orientation (Patient)): turned back to the "
             "conventional view, whole pixels, nothing resampled" for (plane, how), n in sorted(turned.items())]
    tilted = [t.tilt for t in turns if t is not None and t.plane is not None and t.tilt > OBLIQUE_DEGREES]
    if tilted:
        notes.append(f"{counted(len(tilted), 'oblique image')} (up to {max(tilted):.0f} degrees off the axes): "
                     "shown by their nearest axes, not resampled")
    oblique = [t.tilt for t in turns if t is not None and t.plane is None and not t.skewed]
    if oblique:
        their = "its" if len(oblique) == 1 else "their"
        notes.append(f"{counted(len(oblique), 'image')} too oblique to tell {their} plane (up to {max(oblique):.0f} "
                     f"degrees off the axes): {AS_STORED}")
    if skewed := sum(t is not None and t.skewed for t in turns):
        notes.append(f"{counted(skewed, 'image')} with row and column directions far from perpendicular (Image "
                     f"Orientation (Patient)): {AS_STORED}")
    return tuple(notes)
