"""``braintumor predict -``: the file names on standard input, one a line or NUL-separated (``find ... | braintumor
predict -``), and a usage error for what is no list of names (an image piped in, binary data, an endless stream).

Why its own module: reading and judging what was piped in is one idea apart from running the model over the inputs
(:mod:`braintumor.predict_cli`, which calls :func:`with_stdin` where ``-`` is among its inputs).
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from codecs import BOM_UTF8
from typing import BinaryIO

from .bmp_header import HEADER_SIZES
from .compressed_files import compressed_kind
from .documents import document_kind
from .exit_errors import UsageError
from .image_headers import image_kind
from .missing_files import stdin_key
from .predict_progress import say
from .scan_sniff import scan_kind_text


def with_stdin(paths: list[str]) -> list[str]:
    """``-`` stands for the file names on standard input, one per line (``find ... | braintumor predict -``): one run,
    one header and one model load for any number of names, which ``xargs`` would split into several."""
    if "-" not in paths:
        return paths
    if paths.count("-") > 1:  # the names were read once and each scored twice
        raise UsageError("- (standard input) is given twice: it is read once; give - once")
    if (key := stdin_key()) and (name := next((p for p in paths if p != "-" and _stat_key(p) == key), None)):
        # its second reader found it empty ("file is empty (0 bytes)"), or the list of names read as an image
        raise UsageError(f"- and {name} both read standard input, which is read once: - for the names of files, one "
                         f"per line, {name} for one image piped in; give one of them")
    names = stdin_names()
    if (key := stdin_key()) and stat.S_ISFIFO(os.fstat(0).st_mode) and (
            name := next((n for n in names if _stat_key(n) == key), None)):  # a pipe's names: it was "file is empty"
        raise UsageError(f"{name}, among the names read from standard input, names standard input itself, which held "
                         "those names and is read once: name the image's own file instead")
    out = [q for p in paths for q in (names if p == "-" else [p])]
    if not out:
        raise UsageError("no inputs: standard input held no file names (one per line)")
    return out


def _stat_key(name: str) -> tuple[int, int] | None:
    """``name``'s (device, inode), or None where it cannot be had."""
    try:
        info = os.stat(name)
    except (OSError, ValueError):
        return None
    return info.st_dev, info.st_ino


def stdin_names() -> list[str]:
    """The file names on standard input: NUL-separated when it holds a NUL (``find -print0``, ``git ls-files -z``: the
    one way to pass a name holding a newline; read as lines, the NULs reached the file system, a ValueError traceback),
    else one a line. Bytes the stream's encoding cannot decode are kept as surrogate escapes, as names from a folder
    are (a UTF-8 locale's stdin is strict: a Latin-1 name from ``find`` ended the run in a UnicodeDecodeError)."""
    if sys.stdin is None:  # started with `<&-`: an AttributeError traceback
        raise UsageError("standard input is closed: - reads the file names from it (one per line)")
    with contextlib.suppress(AttributeError, ValueError):
        if sys.stdin.isatty():  # `predict -` typed at a prompt waited in silence, like a hung run
            say("reading file names from standard input, one per line; end them with Ctrl-D")
    raw = getattr(sys.stdin, "buffer", None)
    data = _names_bytes(raw) if raw else None
    # a list saved with a UTF-8 byte order mark (Notepad, PowerShell 5's Out-File): its first name was 'file not found'
    text = (data.removeprefix(BOM_UTF8).decode(sys.stdin.encoding or "utf-8", "surrogateescape") if raw
            else sys.stdin.read().removeprefix("\ufeff"))
    if "\0" in text:
        names = [name for name in text.split("\0") if name]
    else:
        names = [line.rstrip("\r") for line in text.split("\n") if line.strip()]
    if not names or any(map(os.path.lexists, names[:_FIRST])):  # a list of names (one of them gone, perhaps)
        return names
    if data and (piped := _file_piped(data)):
        kind, pipe = piped
        raise UsageError(f"standard input holds {kind}, not file names: - reads the names of the files to predict "
                         f"(one per line); name the file instead (braintumor predict FILE){pipe}")
    if what := _not_text(names, sys.stdin.encoding or "utf-8"):
        n = min(len(names), _FIRST)
        none = "its one name is no file here" if n == 1 else f"none of the {n} names it begins with is a file here"
        raise UsageError(f"standard input is not a list of file names: it holds {what}, and {none}; - reads the names "
                         "of the files to predict (one per line, or NUL-separated); name a file itself instead "
                         "(braintumor predict FILE)")
    return names


#: The most bytes ``-`` reads as file names (about two million of them): an endless stream piped in (``yes``,
#: ``< /dev/zero``) was read until memory ran out, then told "out of memory (a smaller --batch-size ... needs less)".
MAX_NAMES_BYTES: int = 256 << 20


def _names_bytes(raw: BinaryIO) -> bytes:
    """All of standard input, read a MiB at a time up to :data:`MAX_NAMES_BYTES` (a UsageError past it)."""
    chunks, size = [], 0
    while chunk := raw.read(1 << 20):
        size += len(chunk)
        if size > MAX_NAMES_BYTES:
            raise UsageError(f"standard input holds more than {MAX_NAMES_BYTES >> 20} MiB, longer than a list of file "
                             "names would be (an endless stream, such as yes or /dev/zero?): - reads the names of the "
                             "files to predict; name their folder instead, or split the list")
        chunks.append(chunk)
    return b"".join(chunks)


#: Characters no list of names holds, though a name may (a newline between NULs does: ``find -print0``).
_CONTROLS = frozenset(map(chr, [*range(32), 127])) - {"\t", "\n", "\r"}
#: How many of the names piped to ``-`` are looked for before it is refused as no list of names.
_FIRST: int = 32


def _not_text(names: list[str], encoding: str) -> str | None:
    """What makes standard input no list of names, or None: control characters, or bytes that are not ``encoding``
    text (asked only where none of its first :data:`_FIRST` names exists: a real list of Latin-1 names from ``find`` is
    read). Binary data of no known format piped to ``-`` was a record 'file not found: <its bytes>' per line of it."""
    if any(not _CONTROLS.isdisjoint(name) for name in names):
        return "control characters (binary data?)"
    if any("\udc80" <= c <= "\udcff" for name in names for c in name):  # surrogate escapes: undecodable bytes
        return f"bytes that are not {encoding} text"
    return None


def _file_piped(data: bytes) -> tuple[str, str] | None:
    """What file standard input holds when it is one (``braintumor predict - < scan.png``), by its first bytes, and
    what else to do with it ("" but for an image, which /dev/stdin reads), or None: its bytes were taken for names, and
    each "line" of the image was a record 'file not found: <its bytes>'. Told apart from a list of names that starts
    as a format does ('BMW.png', '<html>.png', or '%PDF-' in a name) by one of its first :data:`_FIRST` names
    existing: a list whose first name was gone was refused as that file. A compressed file is named by what it holds
    where its first bytes tell (a page curl fetched gzip-encoded was "a gzip-compressed file")."""
    if scan := scan_kind_text(data[:4096]):  # before the image formats: a DICOM file's preamble may be a TIFF header
        return scan, ""  # (II*): it was "a TIFF image ... or give /dev/stdin", which reads no scan from a pipe
    kind = image_kind(data[:16])
    if kind == "BMP" and int.from_bytes(data[14:18], "little") not in HEADER_SIZES:  # 'BM' begins names too
        kind = None  # (BMissing.png): a BMP's info header size at byte 14 says it is one
    if kind:
        return f"a {kind} image", ", or give /dev/stdin to read one image from a pipe"
    # a document was "File name too long: <its bytes>", or a record per line of them
    what = document_kind(data) or compressed_kind(data)
    return (what, "") if what else None
