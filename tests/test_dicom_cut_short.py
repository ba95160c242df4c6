"""DICOM files cut short at any byte are told so, where they end: never 'has no pixel data', 'dataset is empty' or
'could not be parsed' of a file that only lost its end (a copy or download cut short)."""

from __future__ import annotations

import re

import numpy as np
import pytest
from dicom_factory import SECRETS, jpeg_baseline, make_dataset, to_bytes

from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes


def _truncated(cut: int, where: str) -> str:
    return (rf"^DICOM file is truncated: it ends at byte {cut:,}, {re.escape(where)} \(cut short in a copy or a "
            r"download\?\): send the whole file$")


def _without_pixels(cut: int, after: str) -> str:
    return (rf"^DICOM file ends at byte {cut:,}, after its {re.escape(after)}, before the pixel data its header "
            r"describes: cut short in a copy or a download \(send the whole file\), or saved without its pixel data "
            r"\(export the image with it\)$")


def _without_image(cut: int, after: str) -> str:
    return (rf"^DICOM file ends at byte {cut:,}, after its {re.escape(after)}, before the Rows, Columns and pixel data "
            r"of its image: cut short in a copy or a download \(send the whole file\), or saved without its image "
            r"\(export the image with it\)$")


def _encoded(gray: np.ndarray, syntax: str) -> bytes:
    from pydicom import uid

    if syntax == "jpeg":
        return jpeg_baseline(gray)
    ds = make_dataset(gray)
    ds.file_meta.TransferSyntaxUID = getattr(uid, syntax)
    return to_bytes(ds)


@pytest.mark.parametrize("syntax", ["ExplicitVRLittleEndian", "ImplicitVRLittleEndian", "ExplicitVRBigEndian", "jpeg"])
def test_a_file_cut_between_elements_before_its_pixel_data_is_truncated(gray, syntax):
    """Cut exactly at the end of the element before Pixel Data (or of any after Rows and Columns), the file read as
    whole: 'DICOM file has no pixel data (MR Image Storage)'. Cut just after its file meta, in the next element's tag,
    it was 'DICOM file's dataset is empty'."""
    whole = _encoded(gray, syntax)
    pixels = max(whole.rfind(b"\xe0\x7f\x10\x00"), whole.rfind(b"\x7f\xe0\x00\x10"))
    rows = max(whole.find(b"\x28\x00\x10\x00"), whole.find(b"\x00\x28\x00\x10"))
    bits = max(whole.find(b"\x28\x00\x00\x01"), whole.find(b"\x00\x28\x01\x00"))  # (0028,0100) Bits Allocated
    for cut, after in ((pixels, "Pixel Representation element (0028,0103)"), (bits, "Columns element (0028,0011)")):
        assert rows < cut
        with pytest.raises(ImageError, match=_without_pixels(cut, after)):
            read_volumes(whole[:cut], name="x.dcm")
    meta_end = 144 + int.from_bytes(whole[140:144], "little")
    with pytest.raises(ImageError, match=_truncated(meta_end + 3, "inside an element's tag and length")):
        read_volumes(whole[:meta_end + 3], name="x.dcm")
    assert len(read_volumes(whole, name="x.dcm")[0].slices) == 1


def _undefined_sequence_file(gray: np.ndarray) -> bytes:
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = make_dataset(gray)
    item = Dataset()
    item.ReferencedSOPInstanceUID = "1.2.3.4"
    ds.ReferencedImageSequence = Sequence([item, item])
    ds["ReferencedImageSequence"].is_undefined_length = True
    for each in ds.ReferencedImageSequence:
        each.is_undefined_length_sequence_item = True
    return to_bytes(ds)


def test_a_file_cut_just_after_an_undefined_length_sequence_is_truncated(gray):
    """A sequence of undefined length, whole, then a few bytes of the next element's tag: 'has no pixel data'."""
    whole = _undefined_sequence_file(gray)
    end = whole.index(b"\xfe\xff\xdd\xe0\x00\x00\x00\x00") + 8  # its sequence delimiter's end
    with pytest.raises(ImageError, match=_truncated(end + 5, "inside an element's tag and length")):
        read_volumes(whole[:end + 5], name="x.dcm")
    assert len(read_volumes(whole, name="x.dcm")[0].slices) == 1


def test_a_whole_file_without_pixel_data_is_still_told_it_has_none():
    """No Rows, no Columns, ending on an element's end, of a class whose objects are no image (a hanging protocol, an
    unregistered class): not a cut image (as before)."""
    from pydicom.uid import HangingProtocolStorage

    for sop, said in ((HangingProtocolStorage, "Hanging Protocol Storage"), ("1.2.3.4", "unregistered SOP class")):
        with pytest.raises(ImageError, match=rf"^DICOM file has no pixel data \({said}\)$"):
            read_volumes(to_bytes(make_dataset(None, sop_class=sop)), name="x.dcm")


@pytest.mark.parametrize("syntax", ["ExplicitVRLittleEndian", "ImplicitVRLittleEndian", "ExplicitVRBigEndian", "jpeg"])
def test_a_file_cut_between_elements_before_its_rows_and_columns_says_after_which_element(gray, syntax):
    """An image's object (MR Image Storage) cut exactly between two elements before its Rows and Columns read as whole
    and was 'DICOM file has no pixel data (MR Image Storage)', as a report is: it says the element it ends after, by
    its name and number (never its value), as a raw dataset cut there does."""
    from test_dicom_without_ending import _raw

    whole = _encoded(gray, syntax)
    big = syntax == "ExplicitVRBigEndian"
    tag = (lambda g, e: bytes.fromhex(g + e)) if big else (lambda g, e: bytes.fromhex(g)[::-1] + bytes.fromhex(e)[::-1])
    for before, after in ((tag("0010", "0020"), "Patient's Name element (0010,0010)"),
                          (tag("0020", "000d"), "Patient's Birth Date element (0010,0030)"),
                          (tag("0028", "0010"), "Photometric Interpretation element (0028,0004)")):
        cut = whole.index(before, 132)
        with pytest.raises(ImageError, match=_without_image(cut, after)) as caught:
            read_volumes(whole[:cut], name="x.dcm")
        assert not any(secret in str(caught.value) for secret in SECRETS)
    raw = _raw(gray)
    cut = raw.index(b"\x28\x00\x02\x00")  # (0028,0002) Samples per Pixel
    with pytest.raises(ImageError, match=_without_image(cut, "Instance Number element (0020,0013)")):
        read_volumes(raw[:cut], name="IM00001")


def test_a_file_whose_parse_fails_where_it_was_cut_is_truncated(gray):
    """pydicom raises where the bytes end inside a long element's 4-byte length (Pixel Data's, OB), inside the file
    meta's group length, or inside an undefined-length sequence: each was 'DICOM data is corrupt or truncated: it could
    not be parsed' or 'a header value's length does not fit its type', of a file that was only cut short."""
    whole = to_bytes(make_dataset(gray))
    pixels = whole.index(b"\xe0\x7f\x10\x00")
    for cut, where in ((pixels + 9, "inside an element's tag and length"), (141, "inside its file meta"),
                       (153, "inside its file meta")):
        with pytest.raises(ImageError, match=_truncated(cut, where)):
            read_volumes(whole[:cut], name="x.dcm")
    sequenced = _undefined_sequence_file(gray)
    start = sequenced.index(b"\x08\x00\x40\x11SQ")  # (0008,1140) Referenced Image Sequence
    for cut in (start + 14, start + 40, sequenced.index(b"\xfe\xff\xdd\xe0") + 2):  # its item, an element, its end
        with pytest.raises(ImageError, match=_truncated(cut, "inside a header value")):
            read_volumes(sequenced[:cut], name="x.dcm")


def test_a_raw_dataset_cut_short_is_truncated(gray):
    """A raw dataset (no preamble, no 'DICM', as some PACS export it) cut anywhere in its header was 'DICOM file has no
    pixel data (MR Image Storage)': only Part 10 files were told they were cut short."""
    from test_dicom_without_ending import _raw

    whole = _raw(gray)
    pixels = whole.index(b"\xe0\x7f\x10\x00")
    name = whole.index(b"\x10\x00\x10\x00")  # (0010,0010) Patient Name, implicit VR: 4-byte length, then its value
    with pytest.raises(ImageError, match=_without_pixels(pixels, "Pixel Representation element (0028,0103)")):
        read_volumes(whole[:pixels], name="IM00001")
    for cut, where in ((name + 10, "inside a header value"), (name + 3, "inside an element's tag and length")):
        with pytest.raises(ImageError, match=_truncated(cut, where)):
            read_volumes(whole[:cut], name="IM00001")
    assert len(read_volumes(whole, name="IM00001")[0].slices) == 1


@pytest.mark.parametrize("little", [True, False])
def test_a_raw_dataset_whose_parse_fails_where_it_was_cut_is_truncated(gray, little):
    """A raw dataset in explicit VR cut inside Pixel Data's 4-byte length (OB) fails to parse: it was 'DICOM data is
    corrupt or truncated: it could not be parsed', where a Part 10 file cut there is told where it ends."""
    from test_dicom_without_ending import _raw

    whole = _raw(gray, implicit=False, little=little)
    pixels = whole.rindex(b"\xe0\x7f\x10\x00" if little else b"\x7f\xe0\x00\x10")
    for cut in (pixels + 8, pixels + 11):
        with pytest.raises(ImageError, match=_truncated(cut, "inside an element's tag and length")):
            read_volumes(whole[:cut], name="IM00001")


def test_a_raw_dataset_that_opens_with_its_file_meta_cut_short_says_where_it_ends(gray):
    """A raw dataset written with its file meta group first (no preamble, no 'DICM') cut in that meta was 'not a DICOM
    file: no 'DICM' marker and no DICOM image attributes'; cut in its first 132 bytes after it, 'inside its file meta'
    (its end was counted from byte 144, as if a preamble and 'DICM' came first)."""
    from test_dicom_without_ending import _raw

    whole = _raw(gray, implicit=False, meta=True)
    meta_end = 12 + int.from_bytes(whole[8:12], "little")
    for cut, where in ((100, "inside its file meta"), (meta_end, "right after its file meta, before any data element"),
                       (meta_end + 20, "inside a header value")):
        with pytest.raises(ImageError, match=_truncated(cut, where)):
            read_volumes(whole[:cut], name="IM00001")
    assert len(read_volumes(whole, name="IM00001")[0].slices) == 1


def test_a_file_cut_in_its_preamble_or_marker_is_truncated(gray):
    """A Part 10 file cut in its 128-byte preamble (zeros) or its 'DICM' marker was 'not a DICOM file: no 'DICM'
    marker and no DICOM image attributes'; text of that length named .dcm still is not DICOM."""
    whole = to_bytes(make_dataset(gray))
    for cut, where in ((130, "inside its 'DICM' marker"), (129, "inside its 'DICM' marker"),
                       (100, "inside its 128-byte preamble")):
        with pytest.raises(ImageError, match=_truncated(cut, where)):
            read_volumes(whole[:cut], name="x.dcm")
    with pytest.raises(ImageError, match=r"^not a DICOM file"):
        read_volumes(b"a note saved under a scan's name, not an image\n", name="x.dcm")


@pytest.mark.parametrize("syntax", ["ExplicitVRLittleEndian", "ImplicitVRLittleEndian", "ExplicitVRBigEndian", "jpeg"])
def test_a_file_cut_right_after_its_marker_or_its_file_meta_says_so(gray, syntax):
    """Cut at byte 132 (its preamble and 'DICM' only) or right after its file meta, a file was 'DICOM file's dataset is
    empty: no data elements after its preamble and file meta', as if it held nothing more: no writer saves that."""
    whole = _encoded(gray, syntax)
    meta_end = 144 + int.from_bytes(whole[140:144], "little")
    for cut, where in ((132, "right after its 'DICM' marker, before any file meta or data element"),
                       (meta_end, "right after its file meta, before any data element")):
        with pytest.raises(ImageError, match=_truncated(cut, where)):
            read_volumes(whole[:cut], name="x.dcm")


def test_a_whole_mr_spectroscopy_file_is_no_image_not_truncated():
    """An MR Spectroscopy object (an MR study's export holds them beside its images) has Rows and Columns of its
    spectra and no pixel data: whole, it was 'truncated ... before the pixel data its header describes: send the whole
    file', which no copy mends."""
    from pydicom.uid import MRSpectroscopyStorage

    ds = make_dataset(None, sop_class=MRSpectroscopyStorage, Rows=1, Columns=1, DataPointRows=1,
                      DataPointColumns=512)
    ds.SpectroscopyData = np.zeros(1024, np.float32).tobytes()
    with pytest.raises(ImageError, match=r"^DICOM file has no pixel data \(MR Spectroscopy Storage\)$"):
        read_volumes(to_bytes(ds), name="mrs.dcm")


def test_a_whole_image_file_saved_without_its_pixel_data_is_not_only_told_to_be_sent_whole(gray):
    """An MR Image Storage file with Rows and Columns whose Pixel Data element was removed (a header-only export, an
    anonymizer that dropped it) is complete: 'truncated ... send the whole file' could not be mended by sending it
    again. Its bytes end as a file cut there would, so both are said."""
    ds = make_dataset(gray)
    del ds.PixelData
    whole = to_bytes(ds)
    with pytest.raises(ImageError, match=_without_pixels(len(whole), "Pixel Representation element (0028,0103)")):
        read_volumes(whole, name="x.dcm")


_STRAYS = {b"\xfe\xff\x0d\xe0": "an item delimiter (FFFE,E00D) that closes no item",
           b"\xfe\xff\xdd\xe0": "a sequence delimiter (FFFE,E0DD) that closes no sequence",
           b"\xfe\xff\x00\xe0": "an item (FFFE,E000) outside any sequence"}


def _stray(what: str, at: int, where: str) -> str:
    return (rf"^DICOM file holds {re.escape(what)} at byte {at:,}, {re.escape(where)}, where a data element belongs: "
            r"damaged, or written wrongly by the software that exported it: export it again and send that$")


@pytest.mark.parametrize("stray", list(_STRAYS))
def test_a_stray_delimiter_or_item_where_an_element_belongs_is_told_where(gray, stray):
    """pydicom reads nothing past a delimiter that closes nothing where the first element belongs ('DICOM file's
    dataset is empty', of a file with bytes there), and reads what follows one in explicit VR as implicit VR: the SOP
    Class UID swallowed the rest of the file, 'has no pixel data (unregistered SOP class)'. A lone item was 'ends at
    byte N, after its Item element (FFFE,E000)', as if an item were an element. Never a value."""
    whole = _encoded(gray, "ExplicitVRLittleEndian")
    meta_end = 144 + int.from_bytes(whole[140:144], "little")
    for data in (whole[:meta_end] + stray + bytes(4), whole[:meta_end] + stray + bytes(4) + whole[meta_end:]):
        if stray == b"\xfe\xff\x0d\xe0" and len(data) > len(whole):
            continue  # pydicom reads on past a stray item delimiter: the image is whole, and classified
        with pytest.raises(ImageError, match=_stray(_STRAYS[stray], meta_end, "right after its file meta")) as err:
            read_volumes(data, name="x.dcm")
        assert not any(s in str(err.value) for s in SECRETS)
    with pytest.raises(ImageError, match=_stray(_STRAYS[stray], 132, "right after its 'DICM' marker")):
        read_volumes(whole[:132] + stray + bytes(4), name="x.dcm")
    rows = whole.index(b"\x28\x00\x10\x00")
    if stray == b"\xfe\xff\x0d\xe0":  # pydicom stops there: 'has no pixel data (MR Image Storage)'
        with pytest.raises(ImageError, match=_stray(_STRAYS[stray], rows, "after its Photometric Interpretation "
                                                    "element (0028,0004)")):
            read_volumes(whole[:rows] + stray + bytes(4) + whole[rows:], name="x.dcm")


@pytest.mark.parametrize("syntax", ["ExplicitVRLittleEndian", "ImplicitVRLittleEndian", "ExplicitVRBigEndian"])
def test_zeros_or_a_command_element_where_the_dataset_begins_is_told_so(gray, syntax):
    """8 zero bytes after the file meta read as a Command Group Length element (0000,0000): 'ends at byte N, after its
    Command Group Length element (0000,0000), before the Rows, ...', as if a network message's element could end a
    file. Zeros before a whole dataset are read past, and its image classified."""
    whole = _encoded(gray, syntax)
    meta_end = 144 + int.from_bytes(whole[140:144], "little")
    for zeros in (8, 16):
        with pytest.raises(ImageError, match=_stray("zeros", meta_end, "right after its file meta")):
            read_volumes(whole[:meta_end] + bytes(zeros), name="x.dcm")
    command = b"\0\0\2\0" + (4).to_bytes(4, "little") + b"1.2\0"  # (0000,0002) Affected SOP Class UID, implicit VR
    said = "a command element (0000,0002), which network messages carry and a file's dataset never does,"
    if syntax == "ImplicitVRLittleEndian":
        with pytest.raises(ImageError, match=_stray(said, meta_end, "right after its file meta")):
            read_volumes(whole[:meta_end] + command, name="x.dcm")
    assert len(read_volumes(whole[:meta_end] + bytes(8) + whole[meta_end:], name="x.dcm")[0].slices) == 1
