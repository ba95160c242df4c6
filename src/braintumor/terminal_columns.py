"""Text as a terminal draws it: how many columns it takes, and padded or cut in the middle to a width; what lines
the table ``braintumor predict`` prints up under its headings (:mod:`braintumor.predict_output`).

Why its own module: which characters take two columns, or none, is a rule of terminals, apart from what the table says.
"""

from __future__ import annotations

import unicodedata

#: The emoji presentation selector, which draws the character before it as a two-column emoji ("❤️"), and the zero
#: width joiner, which draws the character after it in the same glyph as an emoji before it ("👨‍👩‍👧" is one). The
#: table's names reach it with their ZWJ escaped, as every zero-width character (:func:`braintumor.wording.printable`).
VS16, ZWJ = "\ufe0f", "\u200d"


def columns(text: str) -> int:
    """How many terminal columns ``text`` takes: a CJK letter or an emoji two (an emoji's ZWJ sequence too), a
    character drawn on the one before it none (``len`` counted one for each, and the table's later columns moved off
    their headings)."""
    return sum(width for _, width in _glyphs(text))


def _glyphs(text: str) -> list[tuple[str, int]]:
    """``text`` as a terminal draws it, glyph by glyph, each with its columns: a character and what is drawn on it
    (:func:`_drawn_on_the_one_before`), two columns for a VS16 after a one-column character, and an emoji's ZWJ
    sequence as one two-column glyph (each of its emoji took two, and a family of three eight). Cut only between
    glyphs, so that nothing after a cut is drawn on the dots of "..." (a VS16 was; a mark's letter cut off, it was
    dropped)."""
    found: list[tuple[str, int]] = []
    joins = False  # the glyph so far ends in a ZWJ after an emoji: the next character is drawn in it
    for c in text:
        if found and (joins or _drawn_on_the_one_before(c)):
            glyph, width = found[-1]
            width = 2 if c == VS16 and width == 1 else width
            found[-1], joins = (glyph + c, width), c == ZWJ and width == 2
        else:
            found.append((c, 0 if _drawn_on_the_one_before(c) else 2 if unicodedata.east_asian_width(c) in "WF"
                          else 1))
    return found


def _drawn_on_the_one_before(c: str) -> bool:
    """Whether a terminal draws ``c`` on the character before it, in no column of its own: an accent, and any other
    mark that takes no room (Unicode's Mn and Me: a Thai or Hindi vowel sign, of combining class 0, took a column
    each, and a Thai name's row stood off its headings), or a vowel or final of a Hangul syllable spelt out in its
    letters (macOS's names are decomposed so); the emoji selector VS16 (:data:`VS16`, an Mn, which widens the one
    before to two) and the joiner ZWJ (:data:`ZWJ`) too."""
    return (unicodedata.combining(c) > 0 or "\u1160" <= c <= "\u11ff" or "\ud7b0" <= c <= "\ud7ff"
            or unicodedata.category(c) in ("Mn", "Me") or c == ZWJ)


def pad(text: str, width: int) -> str:
    """``text`` and the spaces that take it to ``width`` columns (:func:`columns`)."""
    return text + " " * max(0, width - columns(text))


def fit(name: str, width: int) -> str:
    """``name`` cut in the middle to ``width`` columns, ``...`` where cut (the start and the file name stay), between
    glyphs (:func:`_glyphs`)."""
    if columns(name) <= width:
        return name
    glyphs, room, used = _glyphs(name), width - 3, 0
    head = 0
    while head < len(glyphs) and used + glyphs[head][1] <= room // 2:
        used, head = used + glyphs[head][1], head + 1
    tail = len(glyphs)
    while tail > head and used + glyphs[tail - 1][1] <= room:
        used, tail = used + glyphs[tail - 1][1], tail - 1
    return "".join(g for g, _ in glyphs[:head]) + "..." + "".join(g for g, _ in glyphs[tail:])
