"""A TIFF's pixel data as its directory places it: where its strips or tiles end, and the samples of a TIFF stored
plane by plane (PlanarConfiguration 2), which Pillow misreads, read a plane at a time.

Why its own module: image_frames says what a decoded picture holds besides its pixels; reading planes is a TIFF
reader of its own, and tiff_strips and image_gray read tags with :func:`tag_numbers` too.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Mapping
from typing import Any

import numpy as np
from PIL import Image


def data_end(tags: Mapping[int, Any]) -> int:
    """The byte after a TIFF page's last strip or tile, by its offsets and byte counts (0 without them)."""
    offsets, sizes = (tag_numbers(tags.get(t, ())) for t in ((324, 325) if 324 in tags else (273, 279)))
    return max((int(o) + int(n) for o, n in zip(offsets, sizes, strict=False)), default=0)


#: Compressions of a TIFF stored plane by plane that :func:`plane_samples` hands Pillow plane by plane: none, LZW,
#: deflate (both codes), PackBits.
_PLANE_COMPRESSIONS = (1, 5, 8, 32946, 32773)


def readable_planes(tags: Mapping[int, Any]) -> bool:
    """Whether a TIFF stored plane by plane is 16-bit unsigned RGB or RGBA, or 8-bit unsigned gray + alpha (Pillow
    has no raw mode for its planes, "damaged", and libtiff's compressed ones came out with alpha 0, blank), of a
    compression :func:`plane_samples` reads."""
    get = tags.get
    planes, bits = int(get(277, 1)), tag_numbers(get(258, ()))
    kind = (get(262) == 2 and planes in (3, 4) and bits == (16,) * planes) or (get(262) == 1 and bits == (8, 8))
    return (get(284) == 2 and kind and set(tag_numbers(get(339, 1))) == {1} and get(259, 1) in _PLANE_COMPRESSIONS)


def tag_numbers(value: object) -> tuple:
    """A tag's value as a tuple, one number or several (Pillow gives either)."""
    return value if isinstance(value, tuple) else (value,)


def plane_samples(data: bytes, tags: Mapping[int, Any]) -> np.ndarray:
    """The (H, W, samples) uint16 or uint8 samples of a TIFF stored plane by plane (:func:`readable_planes`): each
    plane decoded by Pillow as a gray image of their depth, from a directory of its own appended to the file that
    points at that plane's strips or tiles (the file's own bytes, at their own offsets), as libtiff reads a plane."""
    get = tags.get
    end = "<" if data[:2] == b"II" else ">"
    planes, tiled, bits = int(get(277)), 324 in tags, tag_numbers(get(258))[0]
    offsets, sizes = (tag_numbers(get(t)) for t in ((324, 325) if tiled else (273, 279)))
    per = len(offsets) // planes
    if per < 1 or per * planes != len(offsets) or len(sizes) != len(offsets):
        raise ValueError("strips or tiles are not as many for each plane")
    if data_end(tags) > len(data):  # else read from the directory after it (refused first: cut_short)
        raise OSError("image file is truncated")
    common = {t: get(t) for t in (256, 257, 259, 266, 274, 278, 317, 322, 323) if get(t) is not None}
    at = len(data) + len(data) % 2  # the new directory, after the file's bytes (a word boundary)
    out = []
    for k in range(planes):
        entries = {**common, 258: bits, 262: 1, 277: 1, 284: 1, 339: 1,
                   (324 if tiled else 273): offsets[k * per:][:per], (325 if tiled else 279): sizes[k * per:][:per]}
        head = data[:2] + (b"*\0" if end == "<" else b"\0*") + struct.pack(end + "L", at)
        plane = Image.open(io.BytesIO(head + data[8:] + bytes(at - len(data)) + _directory(entries, at, end)),
                           formats=["TIFF"])
        out.append(np.asarray(plane, dtype=np.uint16 if bits == 16 else np.uint8))
    return np.dstack(out)


def _directory(entries: dict[int, object], at: int, end: str) -> bytes:
    """A TIFF directory of ``entries`` (each a whole number or a tuple of them, stored as LONG) placed at byte ``at``,
    its values of more than one number after it."""
    values = {tag: value if isinstance(value, tuple) else (int(value),) for tag, value in sorted(entries.items())}
    extra_at = at + 2 + 12 * len(values) + 4
    table, extra = struct.pack(end + "H", len(values)), b""
    for tag, value in values.items():
        if len(value) == 1:
            table += struct.pack(end + "HHLL", tag, 4, 1, int(value[0]))
        else:
            table += struct.pack(end + "HHLL", tag, 4, len(value), extra_at + len(extra))
            extra += struct.pack(end + f"{len(value)}L", *(int(v) for v in value))
    return table + bytes(4) + extra
