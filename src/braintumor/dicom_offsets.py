"""A DICOM file's offset tables checked against its compressed pixel data's fragments, before frames are split by them.

Why its own module: pydicom splits the fragments into frames by the Basic Offset Table, or the Extended one, when
there is one, and believes it. A writer that counted its offsets without the items' 8-byte headers, wrote zeros, or
one offset too few made a file whose frames are whole in their fragments 'could not be decoded' (or 'damaged (frame
1)'), where without the table they are read: the split viewers and pydicom fall back to (a fragment a frame, or by
the frames' markers) is what a table that lies gives way to here.
"""

from __future__ import annotations

from itertools import pairwise

from pydicom.dataset import Dataset

from .dicom_codestreams import fragment_spans

#: The tag (FFFE,E000) that starts each item of encapsulated pixel data, little endian.
ITEM: bytes = b"\xfe\xff\x00\xe0"


def drop_lying_tables(ds: Dataset, frames: int) -> None:
    """Leave out of ``ds`` an Extended Offset Table, and empty a Basic one, whose offsets are not each the start of a
    fragment, one a frame in order from the first (an Extended one's lengths within their fragments), so that pydicom
    splits the frames without it. A single frame is all the fragments whatever the table says."""
    data = ds.get("PixelData")
    if frames < 2 or not isinstance(data, bytes | bytearray) or data[:4] != ITEM:
        return
    view = memoryview(data)
    first = 8 + int.from_bytes(view[4:8], "little")  # where the fragments start: the offsets count from there
    held = {start - 8 - first: end - start for start, end in fragment_spans(view)}  # each fragment's offset: length
    extended = [kw for kw in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths") if kw in ds]
    offsets, lengths = (_numbers(ds.get(kw), 8) for kw in ("ExtendedOffsetTable", "ExtendedOffsetTableLengths"))
    if extended and not (_begin_frames(offsets, held, frames) and len(lengths) == frames
                         and all(0 < n <= held[at] for at, n in zip(offsets, lengths, strict=True))):
        for kw in extended:
            del ds[kw]
    if first > 8 and not _begin_frames(_numbers(view[8:first], 4), held, frames):
        ds.PixelData = ITEM + bytes(4) + bytes(view[first:])


def _numbers(raw: object, size: int) -> list[int]:
    """The little-endian unsigned numbers of ``size`` bytes in ``raw`` (none when it is not bytes or not whole)."""
    if not isinstance(raw, bytes | bytearray | memoryview) or len(raw) % size:
        return []
    data = bytes(raw)
    return [int.from_bytes(data[k:k + size], "little") for k in range(0, len(data), size)]


def _begin_frames(offsets: list[int], held: dict[int, int], frames: int) -> bool:
    """Whether ``offsets`` are ``frames`` fragments' starts (keys of ``held``), rising from the first fragment's."""
    return (len(offsets) == frames and offsets[0] == 0 and all(a < b for a, b in pairwise(offsets))
            and all(at in held for at in offsets))
