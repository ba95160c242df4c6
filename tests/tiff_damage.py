"""What the TIFF strip tests share: a damaged JPEG TIFF the checks before decoding let through, and one check: a
damaged TIFF is refused by the project's strip checks exactly when libtiff, left to decode it, fails and prints on
stderr (so the checks neither let a printing file through nor refuse one libtiff reads silently)."""

from __future__ import annotations

import io

import numpy as np
from PIL import Image

from braintumor.tiff_strips import damaged_strips


def refused_as_libtiff_would(damaged: bytes, capfd) -> bool:
    """Whether ``damaged`` is refused by :func:`damaged_strips`, asserting that libtiff prints and fails on it then,
    and decodes it without a word otherwise (``capfd``: pytest's fixture, reading file descriptor 2)."""
    refused = damaged_strips(Image.open(io.BytesIO(damaged))) is not None
    capfd.readouterr()
    try:
        Image.open(io.BytesIO(damaged)).load()
        decoded = True
    except OSError:
        decoded = False
    printed = capfd.readouterr().err != ""
    assert (refused, refused) == (printed, not decoded)
    return refused


def jpeg_sos_component(gray: np.ndarray) -> bytes:
    """``gray`` as a JPEG-compressed TIFF of 32-row strips whose second strip's scan header names component 82 of a
    frame of one (component 1): libjpeg, inside libtiff, says "Invalid component ID 82 in SOS", a header's damage that
    the walk before decoding does not look for."""
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="TIFF", compression="jpeg", tiffinfo={278: 32})
    data = bytearray(buf.getvalue())
    start = Image.open(io.BytesIO(bytes(data))).tag_v2[273][1]
    data[data.index(b"\xff\xda", start) + 5] = 0x52
    return bytes(data)
