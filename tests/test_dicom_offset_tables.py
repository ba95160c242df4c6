"""A multi-frame JPEG DICOM whose offset table lies (offsets counted without the items' 8-byte headers, zeros, one
too few, past the end; an Extended Offset Table's offsets not at its fragments) is read by its fragments: it was
'could not be decoded by GDCM or Pillow' or 'damaged (frame 1): it does not start with JPEG's SOI marker', its
frames whole. A table that tells the truth is still followed (a frame of two fragments), and a frame that is damaged
is still refused."""

from __future__ import annotations

import io
import struct

import numpy as np
import pytest
from dicom_factory import make_dataset, to_bytes
from PIL import Image
from pydicom.uid import JPEGBaseline8Bit

from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes

FRAMES = [np.tile(np.linspace(0, 255, 64, dtype=np.uint8), (64, 1)) // (k + 1) for k in range(3)]


def _jpeg(gray: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="JPEG", quality=95)
    data = buf.getvalue()
    return data + b"\x00" * (len(data) % 2)


def _item(data: bytes) -> bytes:
    return b"\xfe\xff\x00\xe0" + struct.pack("<I", len(data)) + data


def _dicom(streams: list[bytes], split: bool = False, bot: list[int] | None = None,
           eot: tuple[list[int], list[int]] | None = None) -> bytes:
    ds = make_dataset(np.stack(FRAMES))
    ds.NumberOfFrames = len(streams)
    parts = [p for s in streams for p in ((s[:len(s) // 2 & ~1], s[len(s) // 2 & ~1:]) if split else (s,))]
    ds.PixelData = (_item(struct.pack(f"<{len(bot or [])}I", *(bot or []))) + b"".join(map(_item, parts))
                    + b"\xfe\xff\xdd\xe0\x00\x00\x00\x00")
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    if eot:
        ds.ExtendedOffsetTable = struct.pack(f"<{len(eot[0])}Q", *eot[0])
        ds.ExtendedOffsetTableLengths = struct.pack(f"<{len(eot[1])}Q", *eot[1])
    return to_bytes(ds)


STREAMS = [_jpeg(f) for f in FRAMES]
STARTS = [0, 8 + len(STREAMS[0]), 16 + len(STREAMS[0]) + len(STREAMS[1])]


@pytest.mark.parametrize("tables", [
    {"bot": [0, len(STREAMS[0]), len(STREAMS[0]) + len(STREAMS[1])]},  # the items' headers not counted
    {"bot": [0, 0, 0]}, {"bot": STARTS[:2]}, {"bot": [0, 10**6, 2 * 10**6]},
    {"eot": ([0, 8, 16], [10, 10, 10])}, {"eot": ([0, 10**6, 2 * 10**6], [10, 10, 10])},
    {"eot": (STARTS, [10**6] * 3)}, {"eot": (STARTS[:1], [10])},
], ids=["no-headers", "zeros", "too-few", "past-end", "eot-mid", "eot-past", "eot-lengths", "eot-short"])
def test_a_lying_offset_table_gives_way_to_the_fragments(tables):
    (volume,) = read_volumes(_dicom(STREAMS, **tables), name="x.dcm")
    truth = read_volumes(_dicom(STREAMS), name="x.dcm")[0]
    assert len(volume.slices) == 3 and all(np.array_equal(a.pixels, b.pixels)
                                           for a, b in zip(volume.slices, truth.slices, strict=True))
    assert len({s.pixels.tobytes() for s in volume.slices}) == 3  # three frames, not one thrice


def test_a_true_offset_table_is_followed_and_a_damaged_frame_still_refused():
    split = [0, 16 + len(STREAMS[0]), 32 + len(STREAMS[0]) + len(STREAMS[1])]  # two fragments a frame
    (volume,) = read_volumes(_dicom(STREAMS, split=True, bot=split), name="x.dcm")
    assert len(volume.slices) == 3
    (volume,) = read_volumes(_dicom(STREAMS, eot=(STARTS, [len(s) for s in STREAMS])), name="x.dcm")
    assert len(volume.slices) == 3
    damaged = [STREAMS[0], b"no" + STREAMS[1][2:], STREAMS[2]]
    with pytest.raises(ImageError, match=r"damaged \(frame 2\): it does not start with JPEG's SOI marker"):
        read_volumes(_dicom(damaged, bot=STARTS), name="x.dcm")
