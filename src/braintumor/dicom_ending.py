"""Where DICOM bytes end in their element structure: at the end of an element, or inside the file meta, an element's
tag and length, a header value or the pixel data. pydicom stops without a word where the bytes run out: a file cut
between two elements reads as whole (a cut just before its pixel data was 'DICOM file has no pixel data (MR Image
Storage)'), and one cut inside an undefined-length sequence, or in a long element's length, fails to parse ('could
not be parsed'). Asked only of a file already refused (:func:`braintumor.dicom_bounds.truncation_problem`), never to
refuse one pydicom read whole.
"""

from __future__ import annotations

import struct

from .dicom_sniff import _LONG_VRS

#: The elements that hold pixels (7FE0,0008/0009/0010).
PIXEL_TAG_NUMBERS = (0x7FE00008, 0x7FE00009, 0x7FE00010)
_ITEM_END, _SEQUENCE_END, _UNDEFINED = 0xFFFEE00D, 0xFFFEE0DD, 0xFFFFFFFF
#: Most elements walked (a header is bounded to 8 MiB before parsing): past it, the walk does not tell.
_MOST_ELEMENTS = 200_000
_IMPLICIT_LITTLE = b"1.2.840.10008.1.2"
_EXPLICIT_BIG = b"1.2.840.10008.1.2.2"


def meta_transfer_syntax(data: bytes, start: int = 132) -> bytes | None:
    """The Transfer Syntax UID (0002,0010) a Part 10 file's meta names (explicit VR, just after 'DICM'; a raw
    dataset's, at ``start`` 0), or None."""
    meta = data[start:start + 8192]
    at = meta.find(b"\x02\x00\x10\x00UI")
    if at < 0:
        return None
    size = int.from_bytes(meta[at + 6:at + 8], "little")
    return meta[at + 8:at + 8 + size].rstrip(b"\x00 ")


def meta_encoding(data: bytes, start: int = 132) -> tuple[bool, bool] | None:
    """(implicit VR, little endian) of a Part 10 file's dataset (a raw one's, at ``start`` 0), by its meta's transfer
    syntax; None without one."""
    uid = meta_transfer_syntax(data, start)
    return None if uid is None else (uid == _IMPLICIT_LITTLE, uid != _EXPLICIT_BIG)


def _inside(top: int) -> str:
    if top >> 16 == 2:
        return "its file meta"
    return "its pixel data" if top in PIXEL_TAG_NUMBERS else "a header value"


def ending(data: bytes, start: int, implicit: bool, little: bool) -> str | None:
    """Where ``data`` ends, walking its elements from ``start`` (a file meta group there is read as explicit VR little
    endian, as DICOM writes it): '' at the end of a top-level element; else what it ends inside ("its file meta", "an
    element's tag and length", "a header value", "its pixel data"); None where the walk cannot tell (a stray
    delimiter, or too many elements)."""
    return _walk(data, start, implicit, little)[0]


def stray_tag(data: bytes, start: int, implicit: bool, little: bool) -> tuple[int, int, int] | None:
    """(byte, tag, the top-level tag before it, 0 for none) of the first tag at the top level of ``data``'s dataset
    (walked from ``start`` as :func:`ending` walks) that opens no data element: an item or delimiter (FFFE,eeee)
    outside any sequence (or one in the other byte order), a command element, or a tag of group FFFF
    (:func:`_is_stray`). pydicom stops at a
    delimiter there without a word, and reads what follows an item as implicit VR: the next element's value swallowed
    the rest of the file, its pixel data too. None where there is none."""
    return _walk(data, start, implicit, little)[1]


def _is_stray(tag: int, part10: bool) -> bool:
    """Whether a top-level tag opens no data element: an item or delimiter (in either byte order), or, after a file
    meta or 'DICM' marker, a command element (group 0000: network messages carry them, a file's dataset never; zeros
    read as one), or a tag of group FFFF, which DICOM allows no element (0xFF bytes read as one, its length
    undefined: to the file's end)."""
    return tag >> 16 in (0xFFFE, 0xFFFF) or swapped_item_group(tag) or (part10 and tag >> 16 == 0)


def swapped_item_group(tag: int) -> bool:
    """Whether a tag is one of the item group's (FFFE,E0xx) read in the other byte order, (FEFF,xxE0): a delimiter or
    item written little endian in a big-endian file, or big endian in a little-endian one. Its group is odd (a private
    one's number), but no software writes a private element there: read as one, it swallowed the rest of the file."""
    return tag >> 16 == 0xFEFF and tag & 0xFF == 0xE0


def _walk(data: bytes, start: int, implicit: bool, little: bool) -> tuple[str | None, tuple[int, int, int] | None]:
    """:func:`ending`'s answer and :func:`stray_tag`'s, in one walk."""
    pos, end, top, meta, stray = start, len(data), 0, True, None
    part10 = start > 0 or data[:2] == b"\x02\x00"  # after a 'DICM' marker, or a file meta group
    nested: list[bool] = []  # the undefined-length values the walk is in: whether each one's elements are implicit VR
    for _ in range(_MOST_ELEMENTS):
        if pos >= end:
            return (_inside(top) if nested else ""), stray
        meta = meta and not nested and b"\x02\x00".startswith(data[pos:pos + 2])
        implicit_here, little_here = (False, True) if meta else (nested[-1] if nested else implicit, little)
        vr = data[pos + 4:pos + 6]
        explicit = data[pos:pos + 2] != (b"\xfe\xff" if little_here else b"\xff\xfe") and not implicit_here \
            and vr.isalpha() and vr.isupper()
        size = 12 if explicit and vr in _LONG_VRS else 8
        if end - pos < size:
            return (_inside(top) if nested else "its file meta" if meta else "an element's tag and length"), stray
        group, element = struct.unpack_from("<HH" if little_here else ">HH", data, pos)
        if not nested:
            if stray is None and not meta and _is_stray(group << 16 | element, part10):
                stray = (pos, group << 16 | element, top if top >> 16 != 2 else 0)
            top = group << 16 | element
        if not explicit:
            length = struct.unpack_from("<I" if little_here else ">I", data, pos + 4)[0]
        else:
            length = struct.unpack_from(("<" if little_here else ">") + ("I" if size == 12 else "H"), data,
                                        pos + size - (4 if size == 12 else 2))[0]
        pos += size
        if group << 16 | element in (_ITEM_END, _SEQUENCE_END):
            if not nested:
                return None, stray
            nested.pop()
        elif length == _UNDEFINED:  # a sequence, an item, encapsulated pixel data: to their delimiter
            nested.append(True if explicit and vr == b"UN" else implicit_here)
        elif pos + length > end:
            return _inside(top), stray
        else:
            pos += length
    return None, stray
