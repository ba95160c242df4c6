"""Checks of the Python API's counting arguments (a batch size, a scan's slice and pixel limits), in one place.

Why: a wrong value passed on got another's words: ``read_volumes(x, max_slices=None)`` (meant as "no limit") said
"DICOM header cannot be read (TypeError)" of a sound scan, and ``max_slices=0`` "DICOM file has 1 frames; the limit
is 0", as if the file were at fault; ``predict_many(batch_size=0)`` was taken as 1.
"""

from __future__ import annotations

from numbers import Integral


def count(value: object, name: str) -> int:
    """``value`` as an int when it is a whole number of at least 1 (numpy's integers too: ``np.int64(2)``, from
    arithmetic on shapes), else ValueError naming the argument."""
    if not isinstance(value, Integral) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{name} must be a whole number of at least 1, got {value!r}")
    return int(value)
