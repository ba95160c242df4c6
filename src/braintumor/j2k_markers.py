"""A JPEG 2000 codestream's marker segments walked before any decoder reads it: a damaged header is refused by name.

Why: OpenJPEG, inside GDCM (pydicom's first JPEG 2000 decoder), writes what it finds wrong in a codestream's headers ("A
marker ID was expected (0xff--) instead of 0x4e", "Invalid tile number 21760", "Error reading COD marker", "required QCD
marker not found in main header") straight to the process's stderr, file descriptor 2, where the web server's threaded
workers could not silence it until 2026-12-07 and a Python caller's process does not (:mod:`braintumor.quiet_libraries`
says why), and the file is not decoded anyway. These are ITU-T T.800's rules on the segments' order, lengths and a few
values, checked as OpenJPEG checks them, down to what follows each tile-part's end (a tile-part or the end marker);
damage inside the coded data itself is the decoder's to find (and, where it says so, to print).
"""

from __future__ import annotations

import math

from .wording import size_text

#: Marker segments a main header may hold besides SIZ (Part 1 and Part 2's), and those a tile-part header may.
_MAIN = frozenset({0xFF50, 0xFF52, 0xFF53, 0xFF55, 0xFF57, 0xFF59, 0xFF5C, 0xFF5D, 0xFF5E, 0xFF5F, 0xFF60, 0xFF63,
                   0xFF64, 0xFF74, 0xFF75, 0xFF77, 0xFF78})
_TILE = frozenset({0xFF52, 0xFF53, 0xFF58, 0xFF5C, 0xFF5D, 0xFF5E, 0xFF5F, 0xFF61, 0xFF64, 0xFF74, 0xFF75, 0xFF77})
_SOC, _SIZ, _COD, _QCD, _SOT, _SOD, _EOC = 0xFF4F, 0xFF51, 0xFF52, 0xFF5C, 0xFF90, 0xFF93, 0xFFD9


def _u(data: bytes, at: int, size: int) -> int:
    return int.from_bytes(data[at:at + size], "big")


def j2k_header_problem(data: bytes) -> str | None:
    """Why OpenJPEG would refuse the headers of codestream ``data`` (one frame's fragments joined), or None; None too
    for data that is not a bare codestream (a JP2 file), which the decoders read as before."""
    if data[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n":
        return None
    if data[:4] != b"\xff\x4f\xff\x51":
        return "it does not start with JPEG 2000's SOC and SIZ markers"
    tiles, problem = _siz(data)
    if problem:
        return problem
    at, seen = 4 + _u(data, 4, 2), set()
    while (marker := _u(data, at, 2)) != _SOT:  # the main header
        if (problem := _segment(data, at, marker, _MAIN, "main header")) is not None:
            return problem
        if marker == _COD and (problem := _cod(data, at)):
            return problem
        seen.add(marker)
        at += 2 + _u(data, at + 2, 2)
    if _COD not in seen or _QCD not in seen:
        return f"its main header has no {'COD' if _COD not in seen else 'QCD'} marker"
    parts: dict[int, int] = {}
    due = dict.fromkeys(range(min(tiles, 65535)), 1)  # parts each tile still needs: OpenJPEG reads no further after
    while due and at + 2 <= len(data) and _u(data, at, 2) == _SOT:  # the tile-parts
        size, tile, part = _u(data, at + 2, 2), _u(data, at + 4, 2), data[at + 10] if at + 10 < len(data) else 0
        length, count = _u(data, at + 6, 4), data[at + 11] if at + 11 < len(data) else 0
        if size != 10 or at + 12 > len(data):
            return f"a tile-part's SOT marker is {size} bytes long where it is 10"
        if tile >= tiles:
            return f"a tile-part names tile {tile:,} where its image has {tiles:,}"
        if part != parts.get(tile, 0):
            return f"tile {tile:,}'s part {part} comes where part {parts.get(tile, 0)} is due"
        parts[tile] = part + 1
        if tile in due and part + 1 >= (count or 1):
            del due[tile]
        end = at + length if length else len(data)
        if length and (length < 14 or end > len(data)):
            return f"a tile-part says it is {length:,} bytes long where {len(data) - at:,} are left"
        inner = at + 12
        while (marker := _u(data, inner, 2)) != _SOD:
            if (problem := _segment(data, inner, marker, _TILE, "tile-part header", end)) is not None:
                return problem
            if marker == _COD and (problem := _cod(data, inner)):
                return problem
            inner += 2 + _u(data, inner + 2, 2)
        at = end
    if at + 2 <= len(data) and _u(data, at, 2) not in (_SOT, _EOC):  # after the last tile too: bytes inserted in
        # its coded data, or a Psot too short (OpenJPEG: "Stream too short, expected SOT"; Pillow's fails alike)
        return f"0x{_u(data, at, 2):04x} stands where a tile-part or the end marker is due"
    return None


def _siz(data: bytes) -> tuple[int, str | None]:
    """The image's number of tiles, and what is wrong with its SIZ segment (None: nothing)."""
    size, components = _u(data, 4, 2), _u(data, 40, 2)
    if len(data) < 42 or not 1 <= components <= 16384 or size != 38 + 3 * components or len(data) < 4 + size:
        return 0, "its SIZ marker's length or component count is wrong"
    x, y, x0, y0, tx, ty, tx0, ty0 = (_u(data, k, 4) for k in range(8, 40, 4))
    if x <= x0 or y <= y0 or tx == 0 or ty == 0 or tx0 > x0 or ty0 > y0 or tx0 + tx <= x0 or ty0 + ty <= y0:
        return 0, "its SIZ marker's image, tile or offset sizes do not fit together"
    for c in range(components):
        depth, dx, dy = data[42 + 3 * c:45 + 3 * c]
        if (depth & 0x7F) + 1 > 38:
            return 0, f"its SIZ marker gives component {c + 1} {(depth & 0x7F) + 1} bits (at most 38)"
        if dx == 0 or dy == 0:
            return 0, f"its SIZ marker gives component {c + 1} a subsampling of {size_text(dx, dy)}"
    tiles = math.ceil((x - tx0) / tx) * math.ceil((y - ty0) / ty)
    return tiles, None if tiles <= 65535 else f"it has {tiles:,} tiles (at most 65,535)"


def _segment(data: bytes, at: int, marker: int, allowed: frozenset[int], where: str, end: int = -1) -> str | None:
    """What is wrong with the marker segment at ``at`` of a header: not a marker it may hold, or a length that does
    not fit in the data (or before ``end``, a tile-part's)."""
    end = len(data) if end < 0 else end
    if at + 4 > end:
        return f"its {where} runs past the end of its data"
    if marker not in allowed:
        return f"0x{marker:04x} stands in its {where} where a marker segment is due"
    length = _u(data, at + 2, 2)
    if length < 2 or at + 2 + length > end:
        return f"a marker segment (0x{marker:04x}) of its {where} is {length:,} bytes long, past its data"
    return None


def _cod(data: bytes, at: int) -> str | None:
    """What is wrong with the COD segment at ``at``: lengths and values OpenJPEG refuses."""
    length, style = _u(data, at + 2, 2), data[at + 4]
    if length < 12:
        return f"its COD marker is {length} bytes long (at least 12)"
    order, layers, mct = data[at + 5], _u(data, at + 6, 2), data[at + 8]
    levels, xcb, ycb, wavelet = data[at + 9], data[at + 10], data[at + 11], data[at + 13]
    if style > 7 or order > 4 or layers < 1 or mct > 1 or levels > 32 or xcb > 8 or ycb > 8 or xcb + ycb > 8 \
            or wavelet > 1 or length != 12 + (levels + 1 if style & 1 else 0):
        return "its COD marker holds values out of JPEG 2000's range"
    return None
