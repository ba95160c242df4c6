"""A DICOM VOI LUT Sequence's table, read and applied here rather than by pydicom (used by :mod:`braintumor.dicom_io`).

Why not pydicom's ``apply_voi_lut``: for a table of 8-bit entries it indexed with 8-bit integers, so the stored values
past 255 of a 12-bit image wrapped around (4095 showed entry 255's level, 256 entry 0's): a silently wrong picture;
and the 8-bit entries packed one a byte, as PS3.3 C.11.2.1.1 lays them out, failed to unpack. Both layouts of 8-bit
entries are read here (one a byte, or one a 16-bit word as most writers store them).
"""

from __future__ import annotations

import numpy as np
from pydicom.dataset import Dataset

#: Most entries a table may have (the descriptor's 0 means 65 536).
_MOST = 65536


def voi_table(view: Dataset, little_endian: bool) -> tuple[np.ndarray, int] | None:
    """The first VOI LUT's entries and the first stored value it maps, or None when the view has none, or one that
    cannot be used (a descriptor out of range, fewer entries than it says): then the window applies, if any, as a
    viewer falls back to it, else the image's own range."""
    seq = view.get("VOILUTSequence")
    if not seq or seq[0].get("LUTDescriptor") is None or seq[0].get("LUTData") is None:
        return None
    item = seq[0]
    try:
        n, first, bits = (int(v) for v in item.LUTDescriptor[:3])
    except (TypeError, ValueError):  # fewer than three values, or one alone
        return None
    n = n or _MOST
    if not 0 < n <= _MOST or not 1 <= bits <= 16:
        return None
    value = item.LUTData
    if isinstance(value, (bytes, bytearray)):
        data = bytes(value)
        if bits <= 8 and n <= len(data) < 2 * n:
            table = np.frombuffer(data[:n], dtype=np.uint8)  # one entry a byte (an odd count padded to even)
        elif len(data) >= 2 * n:
            table = np.frombuffer(data[:2 * n], dtype="<u2" if little_endian else ">u2")
        else:
            return None
    else:
        table = np.atleast_1d(np.asarray(value, dtype=np.int64))
        if table.size < n:
            return None
    return table[:n].astype(np.int64), first


def apply_table(values: np.ndarray, table: np.ndarray, first: int) -> np.ndarray:
    """Each value's entry: values below ``first`` take the first entry, those past the table the last."""
    index = np.floor(np.nan_to_num(np.asarray(values, dtype=np.float64), nan=first)) - first
    return table[np.clip(index, 0, table.size - 1).astype(np.int64)]
