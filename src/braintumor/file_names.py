"""File names made from names a user supplied (a heat map is named after its input): names every OS can create.

Why its own module: an input's name may hold anything but ``/`` and NUL, a zip member's anything at all, and
the files written after them may be copied to, or written on, Windows. Windows refuses some characters, names that
end in a dot or a space, and its device names (``CON``, ``NUL``, ``COM1``...) even with an extension:
``con.heatmap.png`` cannot be created there, and ``nul.heatmap.png`` would "write" to nowhere. An ordinary name is
left as it is.
"""

from __future__ import annotations

import os
import sys

#: Characters Windows refuses in a file name (the folder separators aside): a name made here holds none of them.
NOT_IN_FILE_NAMES = frozenset('<>:"\\|?*')

#: Longest file name ext4, XFS, APFS and NTFS take: 255 bytes, or UTF-16 units (never more than its UTF-8 bytes).
MAX_NAME_BYTES: int = 255

#: Windows device names, matched without case and before the name's first dot (``nul.tar.gz`` is ``NUL``); the
#: superscript digits are ones Windows reads as 1, 2 and 3.
WINDOWS_DEVICES = frozenset({"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$",
                             *(f"{port}{n}" for port in ("COM", "LPT") for n in "0123456789\u00b9\u00b2\u00b3")})


def clean_chars(text: str) -> str:
    """``text`` with ``_`` for each character that hides, reorders or breaks a name (a bidi override, a newline:
    ls and file managers show a name as it is) or that Windows refuses (the ``:`` of ``real.zip:x.nii`` is an
    alternate data stream on NTFS)."""
    return "".join(c if c.isprintable() and c not in NOT_IN_FILE_NAMES else "_" for c in text)


def is_windows_device(name: str) -> bool:
    """Whether Windows takes the file name ``name`` for a device: its part before the first dot, trailing spaces
    and dots ignored as Windows ignores them, is one of :data:`WINDOWS_DEVICES` (``con``, ``Aux.png``,
    ``NUL .heatmap.png``)."""
    return name.split(".", 1)[0].rstrip(" .").upper() in WINDOWS_DEVICES


def portable_name(name: str) -> str:
    """``name`` as a file name every OS can create: a device name gets ``_`` after its first part (``con.png`` ->
    ``con_.png``), a trailing dot or space becomes ``_``; any other name (after :func:`clean_chars`) is unchanged."""
    name = clean_chars(name)
    if is_windows_device(name):
        first, dot, rest = name.partition(".")
        name = f"{first}_{dot}{rest}"
    if name.endswith((".", " ")):
        name = name[:-1] + "_"
    return name


def name_bytes(text: str) -> int:
    """Bytes of ``text`` in a file name: UTF-8, a byte of a name that is not UTF-8 as that byte (surrogateescape,
    as Python reads such names)."""
    return len(text.encode("utf-8", "surrogateescape"))


def fit_name(head: str, tail: str, limit: int = MAX_NAME_BYTES) -> str:
    """``head + tail``, ``head`` cut at its end (whole characters) where the name would pass ``limit`` bytes: an input
    named with 250 characters, legal itself, gave a heat map name of 258 that no file system creates."""
    room = limit - name_bytes(tail)
    if name_bytes(head) <= room:
        return head + tail
    kept = []
    for c in head:
        room -= name_bytes(c)
        if room < 0:
            break
        kept.append(c)
    return "".join(kept) + tail


def temp_prefix(name: str) -> str:
    """How the hidden temporary file a file ``name`` is written as, before it takes its name, begins (``.r.csv.``, then
    8 hex digits): cut to fit, as 260 bytes with the dot and the token are no file name."""
    return f".{fit_name(name, '', MAX_NAME_BYTES - 10)}."


def _utf8_locale() -> bool:
    return sys.getfilesystemencoding().lower().replace("-", "") == "utf8"


def utf8_text(name: str) -> str:
    """A file name as a UTF-8 system reads it, whatever the locale. Under an ASCII one (``LANG=C`` without UTF-8
    mode) Python reads the bytes of ``cafe.jpg`` with an e-acute as two surrogate escapes, which json wrote as two
    ``\\udcXX`` escapes (no e-acute to any reader) and --resume matched against no csv record (the csv writes them
    back as the bytes: UTF-8), so every such input was scored twice. A byte that is not UTF-8 stays an escape."""
    if _utf8_locale():
        return name
    try:
        return os.fsencode(name).decode("utf-8", "surrogateescape")
    except UnicodeError:  # a character this locale has no byte for: not a name read from the file system
        return name


def utf8_document(value: object) -> object:
    """``value`` (a JSON-ready document: dicts, lists, strings, paths...) with every string and path as
    :func:`utf8_text` gives it: json writes a surrogate escape as ``\\udcXX``, so under an ASCII locale metrics.json,
    the audit's report, a run's split.json and config.json and the scripts' --json held ``br\\udcc3\\udcb6k.jpg`` for
    ``brök.jpg`` wherever a name went (a path, a root, an error or note quoting one). Every JSON file the project
    writes passes through here; :func:`os_document` reads one back. A string that names no file is unchanged: it
    holds no surrogate escapes."""
    if isinstance(value, os.PathLike):  # a Path left for json's default=str: it would keep the escapes
        value = os.fspath(value)
    if isinstance(value, str):
        return utf8_text(value)
    if isinstance(value, dict):
        return {utf8_document(k): utf8_document(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [utf8_document(v) for v in value]
    return value


def os_text(name: str) -> str:
    """The inverse of :func:`utf8_text`: a name read back from an output file, as this locale opens it. A name an
    older version wrote under an ASCII locale (its surrogate escapes, ``caf\\udcc3\\udca9.png``) reads as the same
    file too, under either locale: its escapes are the name's bytes."""
    try:
        return os.fsdecode(name.encode("utf-8", "surrogateescape"))
    except UnicodeError:
        return name


def os_document(value: object) -> object:
    """The inverse of :func:`utf8_document`: a JSON document the project wrote (a run's split.json, config.json) with
    every string as :func:`os_text` gives it, so that its names compare equal to, and open, the files this process
    lists, whichever locale wrote it and whichever reads it."""
    if isinstance(value, str):
        return os_text(value)
    if isinstance(value, dict):
        return {os_document(k): os_document(v) for k, v in value.items()}
    if isinstance(value, list):
        return [os_document(v) for v in value]
    return value
