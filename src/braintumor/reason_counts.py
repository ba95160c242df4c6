"""Files skipped for one reason, counted once: the reasons DICOM files are refused for carry their own numbers (the
byte a cut file ends at, the bytes its pixel data is short), and a zip of many cut files listed one note per length.

Why its own module: every note and refusal that counts skipped files by why (a zip's, a series', a folder's) groups
them the same way, here.
"""

from __future__ import annotations

import re
from collections import Counter

#: A number in a reason (1,234 or 12.5), or a DICOM tag's number, which is kept: (0020,0013) names an element.
_NUMBER = re.compile(r"\([0-9A-F]{4},[0-9A-F]{4}\)|\d[\d,.]*\d|\d")


def _wording(reason: str) -> str:
    """A reason without its numbers (tags kept): what files alike but for their numbers share."""
    return _NUMBER.sub(lambda m: m[0] if m[0].startswith("(") else "#", reason)


def by_wording(reasons: Counter[str]) -> list[tuple[str, int]]:
    """(reason, files) by wording: reasons alike but for their numbers are counted together, said by the first file's
    ("alike but for their numbers, e.g. DICOM file is truncated: it ends at byte 466, ..."), sorted as the reasons
    were. Never a file's name: a reason names no file, and a name may be a patient's."""
    groups: dict[str, list[str]] = {}
    for reason in reasons:  # the order the files were met in: the first one's reason speaks for its group
        groups.setdefault(_wording(reason), []).append(reason)
    said = []
    for alike in groups.values():
        first = alike[0] if len(alike) == 1 else f"alike but for their numbers, e.g. {alike[0]}"
        said.append((first, sum(reasons[r] for r in alike), min(alike)))
    return [(first, n) for first, n, _ in sorted(said, key=lambda s: s[2])]
