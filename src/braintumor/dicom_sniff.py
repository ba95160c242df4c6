"""Whether a file is DICOM by its first 132 bytes, whatever its name, and which names are not worth opening to look.

Why its own module: hospitals and PACS export DICOM as ``IM00001``, ``I0000123``, by UID (``1.2.840.113619.2.55...``,
whose last dot-part reads as an ending of digits), ``*.IMA`` or ``*.dicom``, some as raw datasets without the preamble
and 'DICM'. Folders, zips, uploads and named files all ask the same question here, from a bounded read.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path

from .file_reads import open_unblocked

#: How many leading bytes decide (the 128-byte preamble and 'DICM'); a raw dataset is judged on as many.
SNIFF_BYTES: int = 132
#: Endings of files that are never scans (a PACS export's index, a viewer's notes, a report): a folder walk does not
#: open them to look, so a folder of 10 000 such files costs a listing, not 10 000 reads.
NOT_SCAN_SUFFIXES: frozenset[str] = frozenset({
    ".txt", ".json", ".csv", ".tsv", ".xml", ".html", ".htm", ".pdf", ".md", ".rst", ".log", ".ini", ".cfg", ".yaml",
    ".yml", ".zip", ".7z", ".rar", ".tar", ".exe", ".dll", ".so", ".py", ".sh", ".bat", ".js", ".css", ".doc",
    ".docx", ".xls", ".xlsx", ".rtf", ".mp4", ".avi", ".mov", ".gif", ".svg", ".inf", ".url", ".lnk",
})
#: Value representations; the ones with a 2-byte pad and a 4-byte length in explicit VR.
_VRS = frozenset(b"AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US "
                 b"UT UV".split())
_LONG_VRS = frozenset(b"OB OD OF OL OV OW SQ SV UC UN UR UT UV".split())
#: The groups a dataset (or its file meta) opens with: File Meta, then Identifying (SOP Class, Image Type, ...).
_FIRST_GROUPS = (0x0002, 0x0008)
_UNDEFINED = 0xFFFFFFFF


def is_dicom_bytes(head: bytes) -> bool:
    """DICOM Part 10 files carry 'DICM' after a 128-byte preamble."""
    return len(head) >= 132 and head[128:132] == b"DICM"


def is_raw_dataset(head: bytes) -> bool:
    """Whether ``head`` opens a DICOM dataset written without the preamble and 'DICM' (old scanners, some PACS).

    Conservative: its first element is of group 0002 or 0008 and the next one follows it in tag order, both
    well-formed (a known VR in explicit VR, little or big endian; an even length; the pair within ``head``). A text,
    zeros or an image format never is; pydicom then checks the rest (:func:`braintumor.dicom_io.read_dataset`)."""
    return raw_encoding(head) is not None


def raw_encoding(head: bytes) -> tuple[bool, bool] | None:
    """(implicit VR, little endian) of the raw dataset ``head`` opens (:func:`is_raw_dataset`), or None: how to walk
    one whose parse failed where it was cut short."""
    head = head[:SNIFF_BYTES]
    if len(head) < 16:
        return None
    explicit = head[4:6] in _VRS
    for order in ("<", ">") if explicit else ("<",):  # implicit VR is little endian only
        if _two_elements(head, order, explicit):
            return not explicit, order == "<"
    return None


def _two_elements(head: bytes, order: str, explicit: bool) -> bool:
    tags, at = [], 0
    for _ in range(2):
        if at + 8 > len(head):
            return False
        group, element = struct.unpack_from(order + "HH", head, at)
        if explicit:
            vr = head[at + 4:at + 6]
            if vr not in _VRS:
                return False
            if vr in _LONG_VRS:
                if at + 12 > len(head) or head[at + 6:at + 8] != b"\x00\x00":
                    return False
                (length,) = struct.unpack_from(order + "I", head, at + 8)
                at += 12
            else:
                (length,) = struct.unpack_from(order + "H", head, at + 6)
                at += 8
        else:
            (length,) = struct.unpack_from("<I", head, at + 4)
            at += 8
        if length == _UNDEFINED or length % 2:  # a sequence first, or an odd length: not how a dataset opens
            return False
        tags.append((group, element))
        at += length
    (g1, e1), (g2, e2) = tags
    return g1 in _FIRST_GROUPS and (g1, e1) < (g2, e2) and g2 in (*_FIRST_GROUPS, 0x0010)  # 0010: Patient


def is_dicom_head(head: bytes) -> bool:
    """Part 10 ('DICM' after the preamble) or a raw dataset (:func:`is_raw_dataset`)."""
    return is_dicom_bytes(head) or is_raw_dataset(head)


def worth_sniffing(name: str) -> bool:
    """Whether a folder walk should read a file's first bytes to learn if it is DICOM: not for an obviously other
    type (:data:`NOT_SCAN_SUFFIXES`)."""
    return Path(name).suffix.lower() not in NOT_SCAN_SUFFIXES


def file_head(path: Path, n: int = SNIFF_BYTES, on_error: Callable[[OSError], None] | None = None) -> bytes:
    """The first ``n`` bytes of ``path`` at most, never waiting (a pipe or device gives what it has, maybe nothing);
    b"" when it cannot be read (reading it later says why), after telling ``on_error`` why."""
    try:
        with open_unblocked(path) as fh:
            return fh.read(n) or b""
    except OSError as exc:
        if on_error is not None:
            on_error(exc)
        return b""
