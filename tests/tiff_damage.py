"""One check shared by the TIFF strip tests: a damaged TIFF is refused by the project's strip checks exactly when
libtiff, left to decode it, fails and prints on stderr (so the checks neither let a printing file through nor refuse
one libtiff reads silently)."""

from __future__ import annotations

import io

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
