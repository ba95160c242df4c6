"""Text as a terminal draws it: how many columns it takes, and padded or cut in the middle to a width; what lines
the table ``braintumor predict`` prints up under its headings (:mod:`braintumor.predict_output`).

Why its own module: which characters take two columns, or none, is a rule of terminals, apart from what the table says.
"""

from __future__ import annotations

import unicodedata


def columns(text: str) -> int:
    """How many terminal columns ``text`` takes: a CJK letter or an emoji two, a character drawn on the one before it
    none (``len`` counted one for each, and the table's later columns moved off their headings)."""
    return sum(0 if _drawn_on_the_one_before(c) else 2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def _drawn_on_the_one_before(c: str) -> bool:
    """Whether a terminal draws ``c`` on the character before it, in no column of its own: an accent, and any other
    mark that takes no room (Unicode's Mn and Me: a Thai or Hindi vowel sign, of combining class 0, took a column
    each, and a Thai name's row stood off its headings), or a vowel or final of a Hangul syllable spelt out in its
    letters (macOS's names are decomposed so). Not the emoji selector FE0F, which widens the one before to two."""
    return (unicodedata.combining(c) > 0 or "\u1160" <= c <= "\u11ff" or "\ud7b0" <= c <= "\ud7ff"
            or (unicodedata.category(c) in ("Mn", "Me") and c != "\ufe0f"))


def pad(text: str, width: int) -> str:
    """``text`` and the spaces that take it to ``width`` columns (:func:`columns`)."""
    return text + " " * max(0, width - columns(text))


def fit(name: str, width: int) -> str:
    """``name`` cut in the middle to ``width`` columns, ``...`` where cut (the start and the file name stay)."""
    if columns(name) <= width:
        return name
    head, tail, room = "", "", width - 3
    for c in name:
        if columns(head + c) > room // 2:
            break
        head += c
    for c in reversed(name[len(head):]):
        if columns(head + c + tail) > room:
            break
        tail = c + tail
    while tail and _drawn_on_the_one_before(tail[0]):  # its letter cut off: it would be drawn on the last dot
        tail = tail[1:]
    return f"{head}...{tail}"
