"""A TIFF strip's LZW codes checked as libtiff will read them, without decoding them, so that a damaged one is refused
by name before libtiff prints on the process's stderr.

Why: libtiff writes "LZWDecode: Not enough data at scanline 0 (short 59 bytes).", "Using code not yet in table" and
"LZWDecode: Strip 0 not terminated with EOI code" to the process's stderr, where the web server's threaded workers could
not silence it until 2026-12-07 and a Python caller's process does not (:mod:`braintumor.tiff_strips`, which sizes each
strip for this check and does the same for deflate, says why). Python has no LZW decoder, and one in Python would cost a
second per megabyte. libtiff's codes have a width fixed by how many follow the last Clear code, so a run of codes
between two Clears is read at once with numpy: where each code is, whether it names an entry the table holds yet
(libtiff's own rule), and how many bytes it stands for (an entry is one byte longer than the one before it, so its
length is its depth in a tree, found by pointer doubling). Only as many codes as the strip's rows need are checked:
libtiff stops there too.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

_CLEAR, _EOI, _FIRST = 256, 257, 258
_CSIZE = 4095 + 1024  # libtiff's table: past it, only a Clear or the end code is taken
#: Each code's place after a Clear (k = 0: the first): the table's next entry then, and the code's width in bits.
_NEXT = 258 + np.maximum(np.arange(_CSIZE - _FIRST + 2) - 1, 0)
_WIDTH = 9 + (_NEXT >= 511) + (_NEXT >= 1023) + (_NEXT >= 2047)
#: The largest code each place may hold: a literal byte first, then any entry made so far or the one made now.
_LARGEST = np.where(_NEXT < _CSIZE, _NEXT, -1)
_LARGEST[0] = 255
_PLACES = len(_WIDTH)
#: Runs of codes (from one Clear code to the next) read for one image at most; past them its strips are left to
#: libtiff unchecked. An encoder clears a full table, 3 838 codes (about 5.7 kB of a strip): 1024 runs check 6 MB of
#: strips (a 512 x 512 slice takes 80 kB to 400 kB) in about half a second; a crafted strip may clear after every
#: code, and is bounded the same way.
MAX_RUNS = 1024


def _reader(first: int, phase: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """For a run whose first code (in place ``first``) starts ``phase`` bits into a byte: each code's byte from that
    byte, the right shift that brings it down from the 24 bits there, its mask, and the bit after it."""
    ends = phase + np.cumsum(_WIDTH[first:])
    starts = ends - _WIDTH[first:]
    return (starts >> 3, 24 - (starts & 7) - _WIDTH[first:], (1 << _WIDTH[first:]) - 1, ends)


_READERS = [[_reader(first, phase) for phase in range(8)] for first in (0, 1)]


def lzw_checker() -> Callable[[bytes, int], str | None]:
    """What libtiff would find wrong in a TIFF LZW strip whose rows need so many bytes, or None, for one image's strips
    in turn; None too for the old LSB-first LZW, and for every strip once :data:`MAX_RUNS` runs were read (libtiff
    reads those as before)."""
    left = MAX_RUNS

    def check(raw: bytes, need: int) -> str | None:
        nonlocal left
        if len(raw) >= 2 and raw[0] == 0 and raw[1] & 1:  # libtiff's test for the old bit order
            return None
        data = np.frombuffer(raw + bytes(3), np.uint8).astype(np.int64)
        bits, at, first, got, window = 8 * len(raw), 0, 1, 0, 512
        while left > 0:
            left -= 1
            lengths, stop, at = _run(data, bits, at, first, window)
            total = int(lengths.sum())
            if got + total >= need:  # libtiff stops there: what follows is not read
                return None
            got, first = got + total, 0
            window = _PLACES if len(lengths) >= 512 else 512  # an encoder's runs are all long: read each once
            if stop == _CLEAR:
                continue
            if stop == _EOI:
                return f"ends after {got:,} of the {need:,} bytes its rows need"
            if stop is None:
                return f"runs out after {got:,} of the {need:,} bytes its rows need, with no end code"
            return f"names a code not yet in its table after {got:,} of the {need:,} bytes its rows need"
        return None

    return check


def _run(data: np.ndarray, bits: int, start: int, first: int, window: int) -> tuple[np.ndarray, int | None, int]:
    """The codes from bit ``start`` up to the next Clear or end code (``first``: 0 right after a Clear; 1 at a strip's
    start, whose first code already adds an entry), read ``window`` places at a time: the bytes each stands for, the
    code that stopped them (Clear, end, a code out of the table's reach, or None where the bits ran out) and the bit
    after it. A Clear right after a Clear is a run of none, as libtiff skips it."""
    byte, shift, mask, ends = _READERS[first][start & 7]
    base, room = start >> 3, bits - (start & ~7)
    while True:
        n = min(window, _PLACES) - first
        whole = int(np.searchsorted(ends[:n], room, side="right"))  # the codes whose bits are all there
        at = byte[:whole] + base
        codes = (((data[at] << 16) | (data[at + 1] << 8) | data[at + 2]) >> shift[:whole]) & mask[:whole]
        bad = (codes == _CLEAR) | (codes == _EOI) | (codes > _LARGEST[first:first + whole])
        if bad.any() or whole < n or n + first == _PLACES:
            break
        window = _PLACES
    k = int(np.argmax(bad)) if bad.any() else whole
    after = start - (start & 7) + (int(ends[k]) if k < whole else room)
    return _lengths(codes[:k], first), (int(codes[k]) if k < whole else None), after


def _lengths(codes: np.ndarray, first: int) -> np.ndarray:
    """The bytes each code stands for: 1 for a literal, else one more than the code whose entry it extends (entry
    258 + j was made at the code in place j + 1, from the code before it): each code's depth in that tree, plus one,
    by pointer doubling (13 steps at most)."""
    steps = np.concatenate([[0], codes]) if first else codes  # at a strip's start, a literal before the first
    root = len(steps)  # a node of depth 0 above every literal
    up = np.append(np.where(steps >= _FIRST, steps - _FIRST, root), root)
    depth = (up != root).astype(np.int64)
    for _ in range(_PLACES.bit_length()):  # each step doubles the reach: the longest chain is one run's codes
        if (up == root).all():
            break
        depth += depth[up]
        up = up[up]
    return (depth + 1)[first:root]
