"""Bounds on what pydicom is given to parse, checked on the bytes first: pydicom reads element after element with no
limit of its own, so zeros, a stream of empty elements or items, or values without their delimiters cost seconds to
minutes of CPU per upload, past a web worker's timeout (used by :func:`braintumor.dicom_io.read_dataset`).
"""

from __future__ import annotations

import io

from pydicom.dataset import Dataset
from pydicom.tag import Tag
from pydicom.uid import UID_dictionary

from .dicom_checks import NON_IMAGE_SOP_PREFIXES, transfer_syntax
from .dicom_ending import PIXEL_TAG_NUMBERS, ending, meta_encoding, stray_tag, swapped_item_group
from .dicom_frames import element_name, sop_class
from .dicom_sniff import _LONG_VRS, raw_encoding
from .wording import EXPORT_AGAIN

#: Most top-level elements a file may hold. A real header has hundreds (a few thousand with private tags; nested
#: sequences are not counted); 20 MB of zeros parse as 2.5 M empty elements, ~7 s of CPU (480 MB: 190 s and 1 GB).
MAX_ELEMENTS: int = 20_000
#: Most command-set elements (group 0000) before the dataset: a DIMSE command set has about a dozen.
MAX_COMMAND_ELEMENTS: int = 1000
#: Most bytes before the pixel data (the whole file without it). Nested sequences escape the element count, and pydicom
#: parses each of their elements (~7 us) and items (~50 us): a 20 MB header of them took minutes. An enhanced MR header
#: holds a few kB per frame (frames are capped at MAX_SLICES): 8 MB bounds the parse to seconds.
MAX_HEADER_BYTES: int = 8 * 2**20
#: Most sequence items (FFFE,E000) before the pixel data: an enhanced MR file has ~10-20 per frame.
MAX_HEADER_ITEMS: int = 20_000
_PIXEL_TAGS = (b"\xe0\x7f\x10\x00", b"\xe0\x7f\x08\x00", b"\xe0\x7f\x09\x00")  # (7FE0,0010/0008/0009), LE
_ITEM_TAG = b"\xfe\xff\x00\xe0"
_SEQUENCE_DELIMITER = b"\xfe\xff\xdd\xe0"  # (FFFE,E0DD), LE: encapsulated pixel data is little endian


class TooManyElements(Exception):
    pass


def _dataset_start(data: bytes, offset: int) -> int:
    """Where the dataset begins: past the file meta group (0002,eeee, explicit VR little endian) at ``offset``."""
    while offset + 8 <= len(data) and data[offset:offset + 2] == b"\x02\x00":
        vr = data[offset + 4:offset + 6]
        if vr in _LONG_VRS:
            offset += 12 + int.from_bytes(data[offset + 8:offset + 12], "little")
        else:
            offset += 8 + int.from_bytes(data[offset + 6:offset + 8], "little")
    return offset


def _command_elements(data: bytes, offset: int, most: int) -> int:
    """How many group-0000 (command set) elements open the dataset, counting no further than ``most``. pydicom reads
    them one by one with no limit and no way to stop it: zeros parse as millions of them."""
    n = 0
    while n <= most and offset + 8 <= len(data) and data[offset:offset + 2] == b"\x00\x00":
        offset += 8 + int.from_bytes(data[offset + 4:offset + 8], "little")  # always implicit VR little endian
        n += 1
    return n


#: How many times over its own bytes parsing a file may read (pydicom reads a well-formed file about once).
MAX_READ_PASSES: int = 8


class ReadTooMuch(Exception):
    pass


class BoundedBytesIO(io.BytesIO):
    """The bytes pydicom parses, refusing reads past MAX_READ_PASSES times their length: pydicom reads an
    undefined-length value whose delimiter is missing to the end of the file, and again for each such value nested in
    it (5 000 of them in a 1 MB upload took 7 s; the time grows with their number times the file's size)."""

    def __init__(self, data: bytes) -> None:
        super().__init__(data)
        self._left = MAX_READ_PASSES * len(data) + (1 << 20)

    def read(self, size: int | None = -1) -> bytes:
        out = super().read(size)
        self._left -= len(out)
        if self._left < 0:
            raise ReadTooMuch()
        return out


def header_problem(data: bytes, has_preamble: bool) -> str | None:
    """Why ``data`` must not be parsed (too many command elements, too long a header, too many sequence items), or
    None."""
    if _command_elements(data, _dataset_start(data, 132 if has_preamble else 0), MAX_COMMAND_ELEMENTS) \
            > MAX_COMMAND_ELEMENTS:  # a command set has a dozen; network messages, not files, carry one
        return (f"DICOM data opens with over {MAX_COMMAND_ELEMENTS} command elements (group 0000): not an image file "
                "(zeros or a crafted file)")
    window = MAX_HEADER_BYTES + 4  # a pixel tag met early, inside a value, only makes the header look shorter
    header_end = min((at for at in (data.find(tag, 0, window) for tag in _PIXEL_TAGS) if at >= 0), default=len(data))
    if header_end > MAX_HEADER_BYTES or data.count(_ITEM_TAG, 0, header_end) > MAX_HEADER_ITEMS:
        return (f"DICOM header (everything before the pixel data) is over {MAX_HEADER_BYTES // 2**20} MiB or "
                f"{MAX_HEADER_ITEMS:,} sequence items: not an image header (a crafted file?)")
    return None


#: The Image Pixel attributes that say a dataset is an image's, whose pixel data follows them.
_IMAGE_DESCRIBED = ("Rows", "Columns", "BitsAllocated")
#: MR Spectroscopy Storage: Rows and Columns of its spectra, no pixel data to follow them. A whole one (an MR study's
#: export holds them beside the images) was 'truncated ... before the pixel data its header describes: send the whole
#: file', where it is 'DICOM file has no pixel data (MR Spectroscopy Storage)'.
_MR_SPECTROSCOPY = "1.2.840.10008.5.1.4.1.1.4.2"


def truncation_problem(data: bytes, dataset: Dataset | None) -> str | None:
    """Why a Part 10 file (marked 'DICM'), or a raw dataset that names its SOP class or image size, ends inside its
    file meta, its header or its encapsulated pixel data, between elements before the pixel data its header
    describes (or, of an image's SOP class, before its Rows and Columns), or right after its 'DICM' marker or file
    meta, or None. ``dataset``: what pydicom read of it (None:
    its parse failed). pydicom stops without a word where the bytes run out (in the file meta, in an element's value or
    in the next one's tag), and an undefined-length value cut short (compressed pixel data) lost the whole dataset: a
    copy or download cut short was refused as 'DICOM file's dataset is empty' or 'has no pixel data (MR Image
    Storage)', as a report is, or as 'could not be parsed'. A file whose native pixel data is cut short is told by
    :func:`braintumor.dicom_checks.native_length_problem`, which counts the bytes missing."""
    if len(data) < 132 and b"DICM".startswith(data[128:]) and (len(data) > 128 or not data.strip(b"\0")):
        return _truncated(data, "inside its 'DICM' marker" if len(data) > 128 else "inside its 128-byte preamble")
    if data[128:132] == b"DICM":
        start, encoding = 132, meta_encoding(data) or (False, True)  # a VR's letters, or not: element by element
    elif raw := _raw_encoding(data, dataset):  # a raw dataset (no preamble), as some PACS export it: every cut was
        start, encoding = 0, raw  # 'has no pixel data', or 'not a DICOM file' in its file meta
    else:  # bytes without the marker, read by force, may be any file: text parsed as elements whose 'lengths' run past
        return None  # its end
    meta_length = dataset.file_meta.get("FileMetaInformationGroupLength") if dataset is not None else None
    if isinstance(meta_length, int) and start + 12 + meta_length > len(data):  # past its group length's element
        where = "inside its file meta"
    elif (dataset is None or not any(t in dataset for t in PIXEL_TAG_NUMBERS)) \
            and (stray := stray_tag(data, start, *encoding)):  # pydicom stopped there, or read on as what it is not
        return _stray_text(data, *stray)
    elif dataset is not None and any(t in dataset for t in PIXEL_TAG_NUMBERS):
        return _truncated(data, "inside its pixel data") if _cut_in_closing_delimiter(data, dataset) else None
    else:
        where = ending(data, start, *encoding)
        if where == "" and dataset is not None and not len(dataset):  # cut right after 'DICM' or the file meta
            return _truncated(data, _before_any_element(dataset))
        if where == "" and dataset is not None and any(k in dataset for k in _IMAGE_DESCRIBED) \
                and sop_class(dataset).strip() != _MR_SPECTROSCOPY:
            return _without_pixels(data, _last_element(dataset))
        if where == "" and dataset is not None and not any(k in dataset for k in _IMAGE_DESCRIBED) \
                and _image_class(dataset):  # cut between elements before them: it was 'has no pixel data'
            return _without_image(data, _last_element(dataset))
        if not where:
            return None
        else:
            where = f"inside {where}"
    return _truncated(data, where)


#: What a tag that opens no element at a dataset's top level is (:func:`braintumor.dicom_ending.stray_tag`).
_STRAY_TAGS = {0xFFFEE000: "an item (FFFE,E000) outside any sequence",
               0xFFFEE00D: "an item delimiter (FFFE,E00D) that closes no item",
               0xFFFEE0DD: "a sequence delimiter (FFFE,E0DD) that closes no sequence"}


def _stray_text(data: bytes, at: int, tag: int, before: int) -> str:
    """A Part 10 file (or a raw dataset) whose dataset holds, at its top level, a tag that opens no element (a stray
    delimiter or item, zeros or a command element): pydicom stops there without a word, or reads on as implicit VR,
    the next element's value swallowing the rest of the file. It was 'has no pixel data (unregistered SOP class)', or
    'ends at byte N, after its Item element (FFFE,E000)', as if an item were an element, and zeros 'after its Command
    Group Length element (0000,0000)', a network message's element. Says where, by byte and the element before it
    (by name and number), never a value; a delimiter or item in the other byte order, by its own number and the byte
    order it was written in (it was told as an element (FEFF,DDE0))."""
    swapped = ""
    if swapped_item_group(tag):  # (FEFF,xxE0): its bytes fe ff, written little endian in a big-endian file
        tag, order = 0xFFFE0000 | (tag & 0xFF) << 8 | (tag >> 8) & 0xFF, data[at:at + 2] == b"\xfe\xff"
        swapped = f", written {('big', 'little')[order]} endian in a {('little', 'big')[order]}-endian file,"
    if tag >> 16 == 0:  # a DIMSE command group's number: zeros, or a network message's command set
        what = "zeros" if not data[at:at + 8].strip(b"\0") else f"a command element (0000,{tag & 0xFFFF:04X}), " \
            "which network messages carry and a file's dataset never does,"
    elif tag >> 16 == 0xFFFF:  # read with an undefined length (FFFFFFFF): 'truncated ... inside a header value'
        what = "0xFF bytes" if data[at:at + 4] == b"\xff" * 4 else f"a tag (FFFF,{tag & 0xFFFF:04X}) of a group " \
            "DICOM allows no element,"
    else:
        what = (_STRAY_TAGS.get(tag) or f"a tag (FFFE,{tag & 0xFFFF:04X}) of the item group outside any sequence") \
            + swapped
    opens = 132 if data[128:132] == b"DICM" else 0
    after = "file meta" if _dataset_start(data, opens) > opens else "'DICM' marker" if opens else ""
    where = f"after its {_element_words(before)}" if before else f"right after its {after}" if after else "at its start"
    return f"DICOM file holds {what} at byte {at:,}, {where}, where a data element belongs: {EXPORT_AGAIN}"


def _cut_in_closing_delimiter(data: bytes, dataset: Dataset) -> bool:
    """Whether compressed pixel data, the dataset's last element, is cut inside the 4 length bytes of the sequence
    delimiter (FFFE,E0DD) that closes it: pydicom reads it whole (it looks for the tag), where a cut 4 bytes sooner,
    or anywhere in a fragment, is refused. Its image is whole, but the file is not, as a native file short of one
    byte is not: refused alike, so that a copy cut short is sent again whole."""
    at = data.rfind(_SEQUENCE_DELIMITER, max(len(data) - 7, 0))
    return at >= 0 and max(dataset.keys()) in PIXEL_TAG_NUMBERS and transfer_syntax(dataset).is_compressed


def _without_pixels(data: bytes, last: str) -> str:
    """A file whose bytes end whole, after its ``last`` element (:func:`_last_element`), where the pixel data its
    header describes would follow: cut short there, or a complete file saved without its Pixel Data (a header-only
    export, an anonymizer that dropped it). Its bytes cannot tell the two apart, and 'truncated: send the whole file'
    sent the owner of a header-only file to resend what no copy mends."""
    return (f"DICOM file ends at byte {len(data):,}, after its {last}, before the pixel data its header describes: "
            "cut short in a copy or a download (send the whole file), or saved without its pixel data (export the "
            "image with it)")


def _without_image(data: bytes, last: str) -> str:
    """An image object whose bytes end whole, between elements before its Rows and Columns: cut short there, or a
    header saved without its image; as for :func:`_without_pixels`, its bytes cannot tell the two apart."""
    return (f"DICOM file ends at byte {len(data):,}, after its {last}, before the Rows, Columns and pixel data of its "
            "image: cut short in a copy or a download (send the whole file), or saved without its image (export the "
            "image with it)")


def _raw_encoding(data: bytes, dataset: Dataset | None) -> tuple[bool, bool] | None:
    """(implicit VR, little endian) of a raw dataset (:func:`braintumor.dicom_sniff.is_raw_dataset`) that opens with
    its file meta group, or names its SOP class or image size, or whose parse failed where it was cut (in a long
    element's length): by its file meta's transfer syntax, else as pydicom read it, else by its first elements; None
    for bytes that are none of these."""
    sniffed = raw_encoding(data)
    if sniffed is None:
        return None
    meta = getattr(dataset, "file_meta", None)
    if dataset is not None and not meta and (None in dataset.original_encoding
                                             or not any(k in dataset for k in ("SOPClassUID", *_IMAGE_DESCRIBED))):
        return None
    read = dataset.original_encoding if dataset is not None and None not in dataset.original_encoding else None
    return (meta_encoding(data, 0) if data[:2] == b"\x02\x00" else None) or read or sniffed


def _image_class(dataset: Dataset) -> bool:
    """Whether the dataset's SOP class is an image's (a registered '... Image Storage' class, not one refused as no
    image): its objects hold Rows, Columns and pixel data, and one ending whole before them was cut short."""
    sop = sop_class(dataset).strip()
    return "Image Storage" in UID_dictionary.get(sop, ("",))[0] and not sop.startswith(NON_IMAGE_SOP_PREFIXES)


def _last_element(dataset: Dataset) -> str:
    """The last whole element a dataset read, by its dictionary name and number ("Instance Number element
    (0020,0013)"), a private one by its number: never its value."""
    return _element_words(max(dataset.keys()))


def _element_words(tag: int) -> str:
    """An element by its dictionary name and number ("Instance Number element (0020,0013)"), a private one by its
    number."""
    number, name = f"({tag >> 16:04X},{tag & 0xFFFF:04X})", element_name(Tag(tag))
    return f"element {number}" if name == number else f"{name} element {number}"


def _before_any_element(dataset: Dataset) -> str:
    """Where a Part 10 file that ends whole with no data element ends: right after its 'DICM' marker, or after its
    file meta. No writer saves an empty dataset: it was 'dataset is empty', as if the file held nothing more."""
    if dataset.file_meta:
        return "right after its file meta, before any data element"
    return "right after its 'DICM' marker, before any file meta or data element"


def _truncated(data: bytes, where: str) -> str:
    return (f"DICOM file is truncated: it ends at byte {len(data):,}, {where} (cut short in a copy or a "
            "download?): send the whole file")
