"""What is wrong with a PNG's header (its IHDR chunk), said in its own values, for a PNG that Pillow does not read.

Why its own module: Pillow refuses a width or height of 0, a bit depth its colour type does not allow (3-bit gray) or
an unknown colour type (5) without saying which, so each was "a PNG file whose header cannot be read: damaged,
truncated, or a PNG variant this decoder does not support", which left a good file's owner looking for a variant.
Asked only once Pillow has failed (:mod:`braintumor.image_io`), as :mod:`braintumor.bmp_header` is.
"""

from __future__ import annotations

from .wording import either

SIGNATURE = b"\x89PNG\r\n\x1a\n"
#: Largest width or height a PNG may declare (PNG's four-byte integers stop at 2**31 - 1).
MAX_SIDE: int = 2 ** 31 - 1
#: Colour types -> (what they hold, the bit depths the PNG specification allows each).
COLOUR_TYPES: dict[int, tuple[str, tuple[int, ...]]] = {
    0: ("gray", (1, 2, 4, 8, 16)), 2: ("RGB", (8, 16)), 3: ("palette", (1, 2, 4, 8)), 4: ("gray + alpha", (8, 16)),
    6: ("RGB + alpha", (8, 16))}


def png_header_problem(data: bytes) -> str | None:
    """Why a file that starts as a PNG cannot be read, from its IHDR chunk, or None where the chunk holds nothing wrong
    (or is not there: a truncated file is said as one)."""
    if data[:8] != SIGNATURE or data[12:16] != b"IHDR" or len(data) < 29:
        return None
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    bits, colour, compression, filtering, interlace = data[24:29]
    damaged = "a PNG file whose header is damaged: it declares"
    for side, value in (("width", width), ("height", height)):
        if not 1 <= value <= MAX_SIDE:
            return f"{damaged} a {side} of {value:,} pixels (it must be 1 to {MAX_SIDE:,})"
    if colour not in COLOUR_TYPES:
        kinds = "; ".join(f"{n}, {name}" for n, (name, _) in COLOUR_TYPES.items())
        return f"{damaged} colour type {colour} (a PNG's are {kinds})"
    name, depths = COLOUR_TYPES[colour]
    if bits not in depths:
        return f"{damaged} a bit depth of {bits} for colour type {colour}, {name} (it allows {either(depths)})"
    if compression or filtering:
        method = "compression" if compression else "filter"
        return f"{damaged} {method} method {compression or filtering} (a PNG's is 0)"
    if interlace > 1:
        return f"{damaged} interlace method {interlace} (a PNG's is 0, none, or 1, Adam7)"
    return None
