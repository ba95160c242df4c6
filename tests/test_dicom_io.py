"""DICOM parsing stays bounded: pydicom reads element after element without a limit, and zeros or a crafted stream of
empty elements parsed for seconds to minutes (20 MB of zeros: ~7 s of CPU; 480 MB: 190 s and 1 GB) before the file
was refused, longer than a web worker's timeout."""

from __future__ import annotations

import logging
import time
import warnings

import numpy as np
import pytest
from dicom_factory import SECRETS, jpeg_baseline, make_dicom

from braintumor.dicom_bounds import MAX_COMMAND_ELEMENTS, MAX_ELEMENTS
from braintumor.dicom_io import read_dataset
from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes


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


@pytest.mark.parametrize(("items", "refused"), [(25_000, True), (5_000, False)])
def test_a_sequence_of_many_items_is_refused_before_it_is_parsed(items, refused):
    """Nested sequences escape the top-level count: 100 000 empty items (800 kB) took 4.9 s to parse, 20 MB of them
    minutes. An enhanced MR header holds ~10-20 items a frame."""
    import struct

    real = make_dicom(np.zeros((8, 8), dtype=np.uint16))
    at = real.index(b"\x08\x00\x16\x00")  # (0008,0016), the dataset's first element: a sequence before it, in order
    seq = struct.pack("<HH2sHI", 0x0008, 0x0006, b"SQ", 0, 0xFFFFFFFF)  # (0008,0006) Language Code Sequence
    seq += struct.pack("<HHI", 0xFFFE, 0xE000, 0) * items + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    data = real[:at] + seq + real[at:]
    start = time.process_time()
    if refused:
        with pytest.raises(ImageError, match="sequence items: not an image header"):
            read_dataset(data)
    else:
        assert int(read_dataset(data).Rows) == 8
    assert time.process_time() - start < 1.0


def test_a_header_past_its_limit_is_refused_before_it_is_parsed():
    """Empty elements nested in one item are counted nowhere: 8 MB of them parse in seconds, more without end."""
    import struct

    from braintumor.dicom_bounds import MAX_HEADER_BYTES

    real = make_dicom(np.zeros((8, 8), dtype=np.uint16))
    at = real.index(b"\x08\x00\x16\x00")
    n = MAX_HEADER_BYTES // 12 + 1
    inner = _empty_elements(n, 0x0009, explicit=True)
    seq = struct.pack("<HH2sHI", 0x0008, 0x0006, b"SQ", 0, 0xFFFFFFFF)
    seq += struct.pack("<HHI", 0xFFFE, 0xE000, len(inner)) + inner + struct.pack("<HHI", 0xFFFE, 0xE0DD, 0)
    start = time.process_time()
    with pytest.raises(ImageError, match="is over 8 MiB or"):
        read_dataset(real[:at] + seq + real[at:])
    assert time.process_time() - start < 1.0


def test_a_stray_escape_byte_in_a_description_reads_quietly():
    """A Series Description holding an ESC byte that starts no known character set: pydicom's "Found unknown escape
    sequence in encoded string value" UserWarning, with its source line, reached stderr beside the results."""
    import warnings

    from braintumor.volume_io import read_volumes

    data = make_dicom(np.full((64, 64), 100, np.uint8), SeriesDescription="AX\x1b[2J FLAIR")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        (volume,) = read_volumes(data, name="x.dcm")
    assert volume.slices[0].meta["dicom"]["series_description"].endswith("FLAIR")
    assert [str(w.message) for w in caught] == []


def test_reading_a_damaged_dicom_logs_nothing(caplog):
    """pydicom logs to its own loggers what it warns (here a header's unknown character set, quoted) and, for pixel
    data no decoder can read, each decoder's traceback: with a root handler (a server's logging setup) all of it
    reached the log, next to the one error braintumor gives the file."""
    gray = np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pydicom's own, as it writes the odd character set
        odd_charset = make_dicom(gray, SpecificCharacterSet="ISO_IR 999")
    good = jpeg_baseline(gray)
    start = good.index(b"\xff\xd8\xff")  # the JPEG codestream: its first marker segment's length made absurd
    damaged = good[:start + 4] + b"\xff\xff" + good[start + 6:]
    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        (volume,) = read_volumes(odd_charset, name="a.dcm")
        with pytest.raises(ImageError, match="could not be decoded"):
            read_volumes(damaged, name="b.dcm")
    assert len(volume.slices) == 1
    assert [r.getMessage() for r in caplog.records] == []
    assert not any(s in caplog.text for s in SECRETS)
