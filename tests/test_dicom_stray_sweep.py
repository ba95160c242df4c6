"""Stray bytes where a DICOM element belongs (a delimiter that closes nothing, an item outside any sequence, zeros, a
run of 0xFF bytes), put right after the file meta and at a few element boundaries of a whole file: each file is read
whole (pydicom reads past them, and its image is classified) or told where the stray bytes are, by byte and the
element before them; never 'has no pixel data (unregistered SOP class)' (an element's value that swallowed the rest),
'Command Group Length', 'truncated' (of a file whose bytes all came), a traceback or a header value."""

from __future__ import annotations

import re

import numpy as np
import pytest
from dicom_factory import SECRETS, make_dataset, to_bytes

from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes

_WHAT = (r"(an item delimiter \(FFFE,E00D\) that closes no item|a sequence delimiter \(FFFE,E0DD\) that closes no "
         r"sequence|an item \(FFFE,E000\) outside any sequence|zeros|0xFF bytes)")
_SAID = (rf"DICOM file holds {_WHAT} at byte {{at}}, (right after its file meta|after its [A-Z][\w' ]+ element "
         r"\([0-9A-F]{4},[0-9A-F]{4}\)), where a data element belongs: damaged, or written wrongly by the software "
         r"that exported it: export it again and send that")
#: Stray bytes, little endian (a big-endian file's delimiters are written big endian: its halves swapped).
_STRAYS = (b"\xfe\xff\xdd\xe0" + bytes(4), b"\xfe\xff\x0d\xe0" + bytes(4), b"\xfe\xff\x00\xe0" + bytes(4),
           b"\xfe\xff\x00\xe0" + b"\xff" * 4, bytes(8), b"\xff" * 8)


def _file(syntax: str) -> bytes:
    from pydicom import uid

    ds = make_dataset((np.add.outer(np.arange(12), np.arange(10)) * 300).astype(np.uint16))
    ds.file_meta.TransferSyntaxUID = getattr(uid, syntax)
    return to_bytes(ds)


def _boundaries(whole: bytes, little: bool) -> list[int]:
    """Right after the file meta, before Patient's Name, before Rows, before Pixel Data, at the end."""
    tags = ((0x0010, 0x0010), (0x0028, 0x0010), (0x7FE0, 0x0010))
    found = [whole.index(g.to_bytes(2, "little" if little else "big") + e.to_bytes(2, "little" if little else "big"),
                         144) for g, e in tags]
    return [144 + int.from_bytes(whole[140:144], "little"), *found, len(whole)]


@pytest.mark.parametrize("syntax", ["ExplicitVRLittleEndian", "ImplicitVRLittleEndian", "ExplicitVRBigEndian"])
def test_stray_bytes_where_an_element_belongs_are_told_where(syntax):
    whole, little = _file(syntax), syntax != "ExplicitVRBigEndian"
    wrong, told = [], 0
    for at in _boundaries(whole, little):
        for stray in _STRAYS:
            if not little and stray[:2] == b"\xfe\xff":
                stray = stray[1::-1] + stray[3:1:-1] + stray[4:8][::-1]
            data = whole[:at] + stray + whole[at:]
            for kept in dict.fromkeys((data, whole[:at] + stray)):  # the rest of the file after them, or nothing
                try:
                    read_volumes(kept, name="x.dcm")
                    continue
                except ImageError as exc:
                    said = str(exc)
                told += 1
                if not re.fullmatch(_SAID.replace("{at}", f"{at:,}"), said) or any(s in said for s in SECRETS):
                    wrong.append(f"{at} {stray.hex()} {len(kept)}: {said}")
    assert wrong == []
    assert told > 20


@pytest.mark.parametrize("syntax", ["ExplicitVRLittleEndian", "ImplicitVRLittleEndian", "ExplicitVRBigEndian"])
def test_a_delimiter_or_item_in_the_other_byte_order_is_told_as_one(syntax):
    """A delimiter or item written in the other byte order (a big-endian file's little-endian bytes, fe ff dd e0, read
    as (FEFF,DDE0)): its group is odd, a private one's number, and it was read as an element: 'has no pixel data
    (unregistered SOP class)', 'truncated ... inside a header value', or 'after its element (FEFF,00E0)'. It is told as
    the delimiter or item it is, and the byte order it was written in."""
    whole, little = _file(syntax), syntax != "ExplicitVRBigEndian"
    order = "big endian in a little-endian" if little else "little endian in a big-endian"
    said_re = _SAID.replace(_WHAT, _WHAT + f", written {order} file,")
    wrong, told = [], 0
    for at in _boundaries(whole, little):
        for stray in (*_STRAYS[:4], b"\xfe\xff\x00\xe0"):
            if little:  # the other byte order's bytes: each half swapped
                stray = stray[1::-1] + stray[3:1:-1] + stray[4:8][::-1]
            data = whole[:at] + stray + whole[at:]
            for kept in dict.fromkeys((data, whole[:at] + stray) if len(stray) == 8 else (data,)):  # a lone tag
                try:  # at the end is cut short in its length, as one in the file's own byte order is
                    read_volumes(kept, name="x.dcm")
                    continue
                except ImageError as exc:
                    said = str(exc)
                told += 1
                if not re.fullmatch(said_re.replace("{at}", f"{at:,}"), said):
                    wrong.append(f"{at} {stray.hex()} {len(kept)}: {said}")
    assert wrong == []
    assert told > 10
