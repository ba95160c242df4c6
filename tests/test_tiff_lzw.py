"""A damaged LZW TIFF refused by name before libtiff reads it, so that libtiff prints nothing on the process's stderr
(file descriptor 2, which the web server cannot point away while other requests log)."""

from __future__ import annotations

import io
import random
import struct

import numpy as np
import pytest
from conftest import synthetic_head
from PIL import Image
from tiff_damage import refused_as_libtiff_would

from braintumor.image_arrays import gray_from_memory
from braintumor.image_io import ImageError, read_image


def _lzw(arr: np.ndarray, rows: int | None = None) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="TIFF", compression="tiff_lzw", tiffinfo={278: rows} if rows else {})
    return buf.getvalue()


def _spans(data: bytes) -> list[tuple[int, int]]:
    tags = Image.open(io.BytesIO(data)).tag_v2
    return list(zip(tags[273], tags[279], strict=True))


def _codes(*codes: tuple[int, int]) -> bytes:
    """(code, width) pairs packed most significant bit first, as TIFF's LZW is."""
    bits = "".join(format(code, f"0{width}b") for code, width in codes)
    return int(bits + "0" * (-len(bits) % 8), 2).to_bytes(-(-len(bits) // 8), "big")


def _set_strip_count(data: bytearray, strip: int, count: int) -> None:
    """Strip ``strip``'s byte count (tag 279, SHORT or LONG, more than one: stored apart) set to ``count``."""
    ifd = struct.unpack_from("<I", data, 4)[0]
    for entry in range(ifd + 2, ifd + 2 + 12 * struct.unpack_from("<H", data, ifd)[0], 12):
        tag, kind, _, where = struct.unpack_from("<HHII", data, entry)
        if tag == 279:
            form = "<H" if kind == 3 else "<I"
            struct.pack_into(form, data, where + strip * struct.calcsize(form), count)


def _head() -> np.ndarray:
    return synthetic_head(96, canvas=(100, 120), offset=(2, 12))


def test_a_damaged_lzw_tiff_is_refused_by_strip_with_nothing_from_libtiff_on_stderr(capfd):
    """libtiff printed "LZWDecode: Not enough data at scanline 0 (short 59 bytes).", "tempfile.tif: Using code not yet
    in table." or "LZWDecode: Strip 0 not terminated with EOI code" on fd 2, and the file was "image data could not
    be decoded". The codes are checked first, as libtiff reads them: refused naming the strip and why."""
    head = _head()
    for arr in (head, np.dstack([head, head // 2, 255 - head]), head.astype(np.uint16) * 64):
        data = _lzw(arr, rows=40)
        assert read_image(data).shape == head.shape  # intact: read
        (start, size), need = _spans(data)[1], 40 * head.shape[1] * arr[0, 0].size * arr.itemsize
        early = _spans(half := _lzw(arr[:20] * 0, rows=20))[0]  # a whole stream (end code and all) of half the rows
        short = bytearray(data)
        short[start:start + size] = half[early[0]:early[0] + early[1]] + bytes(size - early[1])
        unknown = bytearray(data)  # Clear, a literal, then entry 259 where only 258 is made yet
        unknown[start:start + 4] = _codes((256, 9), (7, 9), (259, 9))
        cut = bytearray(data)  # the strip's byte count halved: its codes run out before its end code
        _set_strip_count(cut, 1, size // 2)
        said = "^TIFF strip 2 of 3 is damaged: its LZW data "
        for damaged, why in ((short, f"ends after {need // 2:,} of the {need:,} bytes its rows need$"),
                             (unknown, f"names a code not yet in its table after 1 of the {need:,} bytes its rows "
                                       "need$"),
                             (cut, r"runs out after [\d,]+ of the " + f"{need:,} bytes its rows need, with no end "
                                   "code$")):
            with pytest.raises(ImageError, match=said + why):
                read_image(bytes(damaged))
            with pytest.raises(ImageError, match=said + why):
                gray_from_memory(Image.open(io.BytesIO(bytes(damaged))))
    assert capfd.readouterr().err == ""


def test_lzw_strips_are_refused_exactly_where_libtiff_would_print(capfd):
    """Bytes of a strip changed at random: each file refused here is one libtiff fails on with a line on stderr, and
    each one let through it decodes without a word (the check is libtiff's own rules, not a guess)."""

    rng = random.Random(5)
    head = _head()
    seen = set()
    for arr in (head, head.astype(np.uint16) * 64, np.zeros((64, 64), np.uint8)):
        data = _lzw(arr, rows=30)
        for _ in range(40):
            start, size = rng.choice(_spans(data))
            damaged = bytearray(data)
            at = start + rng.randrange(size)
            if rng.random() < 0.5:
                damaged[at] ^= 1 << rng.randrange(8)
            else:
                damaged[at:start + size] = bytes(start + size - at)
            seen.add(refused_as_libtiff_would(bytes(damaged), capfd))
    assert seen == {True, False}
