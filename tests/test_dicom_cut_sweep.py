"""Every cut of a DICOM file, at every byte: a file that only lost its end (a copy or download cut short) is told so,
and where it ends, in one of the truncation wordings; never 'has no pixel data', 'dataset is empty' or 'could not be
parsed', never a traceback, never a value from its header. Built with pydicom here, of a small synthetic image."""

from __future__ import annotations

import re

import numpy as np
import pytest
from dicom_factory import SECRETS, jpeg_baseline, make_dataset, to_bytes
from test_dicom_cut_short import _undefined_sequence_file
from test_dicom_without_ending import RAW_ENCODINGS, _raw

from braintumor.dicom_sniff import is_raw_dataset
from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes

_WHERE = "|".join((
    r"inside (its 128-byte preamble|its 'DICM' marker|its file meta|an element's tag and length|a header value|its "
    r"pixel data)",
    r"right after its ('DICM' marker, before any file meta or data element|file meta, before any data element)",
))
_SAID = "|".join((
    rf"DICOM file is truncated: it ends at byte {{cut}}, ({_WHERE}) \(cut short in a copy or a download\?\): send the "
    r"whole file",
    r"DICOM file ends at byte {cut}, after its ([A-Z][\w' ]+ )?element \([0-9A-F]{4},[0-9A-F]{4}\), before the pixel "
    r"data its header describes: cut short in a copy or a download \(send the whole file\), or saved without its "
    r"pixel data \(export the image with it\)",
    r"DICOM file ends at byte {cut}, after its ([A-Z][\w' ]+ )?element \([0-9A-F]{4},[0-9A-F]{4}\), before the Rows, "
    r"Columns and pixel data of its image: cut short in a copy or a download \(send the whole file\), or saved "
    r"without its image \(export the image with it\)",
    r"DICOM pixel data holds [\d,]+ bytes but Rows \d+ x Columns \d+ x 1 frame at \d+ bits need [\d,]+: [\d,]+ bytes "
    r"short \(truncated, or the header's image size is wrong\)",
))


def _pixels() -> np.ndarray:
    return (np.add.outer(np.arange(12), np.arange(10)) * 300).astype(np.uint16)  # 12 x 10: a small slice


def _part10(syntax: str) -> bytes:
    from pydicom import uid

    if syntax == "jpeg":
        return jpeg_baseline((_pixels() // 16).astype(np.uint8))
    if syntax == "sequence":
        return _undefined_sequence_file(_pixels())
    ds = make_dataset(_pixels())
    ds.file_meta.TransferSyntaxUID = getattr(uid, syntax)
    return to_bytes(ds)


def _file_meta(data: bytes) -> range:
    """The bytes of the file meta group (its group length's element opens it, after 'DICM' or at byte 0), if any."""
    start = 132 if data[128:132] == b"DICM" else 0
    if data[start:start + 2] != b"\2\0":
        return range(0)
    return range(start, start + 12 + int.from_bytes(data[start + 8:start + 12], "little"))


def _wrong_cuts(whole: bytes, first: int, name: str) -> list[str]:
    """Each cut of ``whole`` from ``first`` on whose message is none of the truncation wordings, or says the file
    meta where it is not (at most a few). A cut in the 4-byte length (zeros) of encapsulated pixel data's closing
    delimiter loses none of its image, but is refused as a cut too (``inside its pixel data``)."""
    wrong, meta = [], _file_meta(whole)
    for cut in range(first, len(whole)):
        try:
            read_volumes(whole[:cut], name=name)
            said = "read as whole"
        except ImageError as exc:
            said = str(exc)
        if not re.fullmatch(_SAID.replace("{cut}", f"{cut:,}"), said) or any(s in said for s in SECRETS) \
                or ("inside its file meta" in said) != (cut in meta[1:]) \
                or ("right after its file meta" in said) != (bool(meta) and cut == meta.stop):
            wrong.append(f"{cut}: {said}")
    return wrong[:5]


@pytest.mark.parametrize("syntax", ["ExplicitVRLittleEndian", "ImplicitVRLittleEndian", "ExplicitVRBigEndian", "jpeg",
                                    "sequence"])
def test_a_part10_file_cut_at_every_byte_says_where_it_ends(syntax):
    whole = _part10(syntax)
    assert _wrong_cuts(whole, 1, "x.dcm") == []
    assert len(read_volumes(whole, name="x.dcm")[0].slices) == 1


def test_compressed_pixel_data_cut_in_its_closing_delimiter_is_truncated_not_classified():
    """pydicom reads encapsulated pixel data cut in the 4 length bytes of its sequence delimiter whole (it looks for
    the tag): classified, where a cut 4 bytes sooner, or a native file 1 byte short, is refused."""
    whole = _part10("jpeg")
    for cut in range(len(whole) - 4, len(whole)):
        with pytest.raises(ImageError, match=rf"ends at byte {cut:,}, inside its pixel data \(cut short"):
            read_volumes(whole[:cut], name="x.dcm")


@pytest.mark.parametrize(("implicit", "little", "meta"), RAW_ENCODINGS)
def test_a_raw_dataset_cut_at_every_byte_it_is_known_by_says_where_it_ends(implicit, little, meta):
    """A raw dataset (no preamble, no 'DICM') is known as DICOM by its first two elements: cut before them, its bytes
    may be anything's."""
    whole = _raw(_pixels(), implicit, little, meta)
    first = next(n for n in range(len(whole)) if is_raw_dataset(whole[:n]))
    assert _wrong_cuts(whole, first, "IM00001") == []
    assert len(read_volumes(whole, name="IM00001")[0].slices) == 1
