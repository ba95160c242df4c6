"""DICOM parsing stays bounded: pydicom reads element after element without a limit, and zeros or a crafted stream of
empty elements parsed for seconds to minutes (20 MB of zeros: ~7 s of CPU; 480 MB: 190 s and 1 GB) before the file
was refused, longer than a web worker's timeout."""

from __future__ import annotations

import time

import numpy as np
import pytest
from dicom_factory import make_dicom

from braintumor.dicom_io import MAX_COMMAND_ELEMENTS, MAX_ELEMENTS, read_dataset
from braintumor.image_io import ImageError


def _empty_elements(n: int, group: int, explicit: bool) -> bytes:
    """``n`` zero-length elements of ``group`` in ascending order (explicit VR: as UN, 4-byte lengths)."""
    elements = np.arange(1, n + 1, dtype="<u4")
    if explicit:
        out = np.zeros((n, 12), dtype=np.uint8)
        out[:, 4:6] = np.frombuffer(b"UN", dtype=np.uint8)
    else:
        out = np.zeros((n, 8), dtype=np.uint8)
    out[:, 0:2] = np.frombuffer(np.uint16(group).tobytes(), dtype=np.uint8)
    out[:, 2:4] = elements.astype("<u2").view(np.uint8).reshape(n, 2)
    return out.tobytes()


@pytest.mark.parametrize(("what", "said"), [
    ("zeros", "command elements (group 0000)"),  # no preamble: pydicom's command-set reader took every 8 zero bytes
    ("preamble and zeros", "command elements (group 0000)"),  # the same after a real file meta
    ("empty private elements", f"over {MAX_ELEMENTS:,} elements at its top level"),
])
def test_a_stream_of_empty_elements_is_refused_quickly(what, said):
    real = make_dicom(np.zeros((8, 8), dtype=np.uint16))
    meta_end = real.index(b"\x08\x00")  # the dataset's first element, group 0008, after the file meta
    if what == "zeros":
        data = bytes(4_000_000)
    elif what == "preamble and zeros":
        data = real[:meta_end] + bytes(4_000_000)
    else:
        data = real[:meta_end] + _empty_elements(300_000, 0x0009, explicit=True)
    start = time.process_time()
    with pytest.raises(ImageError, match=said.replace("(", r"\(").replace(")", r"\)")):
        read_dataset(data)
    assert time.process_time() - start < 1.0  # was 2-3 s for 4 MB, and it grows with the file


def test_real_files_are_read_whatever_their_size():
    """The limits are far from any image: a real file has a handful of command elements at most (none in a Part 10
    file) and hundreds of top-level elements."""
    ds = read_dataset(make_dicom(np.arange(64 * 64, dtype=np.uint16).reshape(64, 64)))
    assert int(ds.Rows) == 64 and len(ds) < MAX_ELEMENTS and MAX_COMMAND_ELEMENTS >= 100
