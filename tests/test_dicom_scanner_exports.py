"""DICOM as scanners and PACS exports write it, beyond the common case: datasets without a file meta header, VOI LUTs
of 8-bit entries. Each either reads as a viewer displays it or is refused precisely."""

from __future__ import annotations

import io

import numpy as np
import pytest
from dicom_factory import make_dataset, to_bytes

from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes


def _slice(data: bytes, name: str = "x.dcm") -> np.ndarray:
    (volume,) = read_volumes(data, name=name)
    (sl,) = volume.slices
    return sl.pixels


def _ramp() -> np.ndarray:
    """A 32 x 32 slice of every 8-bit gray level but one, dark corner first (a viewer shows it as stored)."""
    return (np.arange(32 * 32) // 4).astype(np.uint8).reshape(32, 32)


@pytest.mark.parametrize(("implicit", "little"), [(True, True), (False, True), (False, False)])
def test_a_dataset_without_file_meta_is_read_in_the_encoding_it_was_written_in(implicit, little):
    """A raw dataset (no preamble, no 'DICM', no file meta: old scanners' and some PACS exports' .dcm) was parsed, then
    refused as 'DICOM pixel data is corrupt or truncated (AttributeError)': pydicom decodes pixels only by a Transfer
    Syntax UID, which such a file lacks."""
    from pydicom.filebase import DicomFileLike
    from pydicom.filewriter import write_dataset

    gray = _ramp()
    ds = make_dataset(gray.astype(np.uint16) * 16, bits=12, WindowCenter=2048, WindowWidth=4096)
    del ds.file_meta
    if not little:  # pydicom writes the other elements big-endian, the pixel data as it holds it
        ds.PixelData = (gray.astype(np.uint16) * 16).astype(">u2").tobytes()
    buf = io.BytesIO()
    out = DicomFileLike(buf)
    out.is_implicit_VR, out.is_little_endian = implicit, little
    write_dataset(out, ds)
    assert np.abs(_slice(buf.getvalue()).astype(int) - gray).max() <= 1


def _with_voi_lut(table: np.ndarray, bits: int, packed: bool = False, falling: bool = False, **attrs) -> bytes:
    """The ramp stored as 12-bit values (x 16) whose VOI LUT of 4096 ``bits``-bit entries gives it back (or its
    negative, ``falling``); entries one a 16-bit word (as most writers store them) unless ``packed`` (one a byte)."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = make_dataset(_ramp().astype(np.uint16) * 16, bits=12, **attrs)
    item = Dataset()
    item.LUTDescriptor = [4096, 0, bits]
    item.LUTData = (table[::-1] if falling else table).astype(np.uint8 if packed else np.uint16).tobytes()
    ds.VOILUTSequence = Sequence([item])
    return to_bytes(ds)


_TABLE_8 = np.arange(4096) // 16  # stored value -> the ramp's level


@pytest.mark.parametrize("packed", [False, True])
def test_a_voi_lut_of_8_bit_entries_maps_every_stored_value(packed):
    """pydicom indexed a table of 8-bit entries with 8-bit integers: a 12-bit value v showed entry v % 256's level,
    so the ramp came out as 16 dark bands; packed one a byte (as PS3.3 lays 8-bit entries out) it was refused as
    'cannot be mapped to gray levels (error)'."""
    assert np.array_equal(_slice(_with_voi_lut(_TABLE_8, 8, packed)), _ramp())


def test_a_frames_voi_lut_is_parsed_once(monkeypatch):
    """Its table was read twice per frame (once for the display range, once to map the values): 65 536 entries of
    a 16-bit table converted twice over for every frame of a series."""
    from braintumor import dicom_io

    calls = []
    real = dicom_io.voi_table
    monkeypatch.setattr(dicom_io, "voi_table", lambda *a: calls.append(1) or real(*a))
    assert np.array_equal(_slice(_with_voi_lut(_TABLE_8, 8)), _ramp()) and len(calls) == 1


def test_a_voi_lut_of_16_bit_entries_and_monochrome1():
    assert np.array_equal(_slice(_with_voi_lut(_TABLE_8 * 257, 16)), _ramp())
    ds_bytes = _with_voi_lut(_TABLE_8 * 257, 16, PhotometricInterpretation="MONOCHROME1")
    assert np.array_equal(_slice(ds_bytes), 255 - _ramp())  # the LUT's output shown inverted, as MONOCHROME1 says


def test_a_falling_voi_lut_shows_low_values_bright():
    """Its ends, taken in table order as black and white, inverted it a second time: the ramp came out as stored."""
    assert np.array_equal(_slice(_with_voi_lut(_TABLE_8, 8, falling=True)), 255 - _ramp())


def test_a_voi_lut_shorter_than_its_descriptor_gives_way_to_the_window():
    """It was refused as 'DICOM pixel values cannot be mapped to gray levels (error)'; a viewer uses the window."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = make_dataset(_ramp().astype(np.uint16) * 16, bits=12, WindowCenter=2048, WindowWidth=4096)
    item = Dataset()
    item.LUTDescriptor = [4096, 0, 16]
    item.LUTData = bytes(100)
    ds.VOILUTSequence = Sequence([item])
    assert np.abs(_slice(to_bytes(ds)).astype(int) - _ramp()).max() <= 1


def test_a_dicomdir_is_named_as_such_not_as_an_unregistered_sop_class(tmp_path):
    """A DICOMDIR (the index of a CD or PACS export) beside its images was skipped as 'DICOM file has no pixel data
    (unregistered SOP class)': its class is in its file meta only. The images are read, and the note names it; in a
    folder it is not read (by its name), and named all the same; given alone, it is refused as what it is."""
    from pydicom.fileset import FileSet

    fs = FileSet()
    fs.add(make_dataset(_ramp(), StudyDate="20200101", StudyTime="120000", StudyID="1"))
    fs.write(tmp_path / "export")
    (volume,) = read_volumes(tmp_path / "export")
    assert len(volume.slices) == 1 and np.array_equal(volume.slices[0].pixels, _ramp())
    assert volume.notes == ("not read: 1 DICOMDIR file (a DICOMDIR is an index of a DICOM export's images, not an "
                            "image itself)",)
    with pytest.raises(ImageError, match=r"^DICOM file is a Media Storage Directory Storage object, not an image: "
                                        r"nothing to classify$"):
        read_volumes(tmp_path / "export" / "DICOMDIR")


@pytest.mark.parametrize(("keyword", "value"), [("Rows", 24), ("Columns", 24)])
def test_pixel_data_longer_than_a_wrong_image_size_needs_is_said(keyword, value):
    """32 x 32 pixels whose header says 24 rows (or columns): read as the header says, as before, a crop or a sheared
    picture, but without a word, as if the extra 256 bytes were padding. A wrong image size is now said."""
    ds = make_dataset(_ramp())
    setattr(ds, keyword, value)
    (volume,) = read_volumes(to_bytes(ds), name="x.dcm")
    assert volume.notes == ("pixel data longer than Rows x Columns x Number of Frames need, by a row or more (a "
                            "wrong image size?), in 1 file: read as the header says, the rest ignored",)
    ds = make_dataset(_ramp())
    ds.PixelData += bytes(2)  # padding short of a row: no note
    (volume,) = read_volumes(to_bytes(ds), name="x.dcm")
    assert volume.notes == ()


def test_compressed_pixel_data_longer_than_a_raw_frame_gets_no_length_note():
    """A 16 x 16 JPEG of noise is longer than its 256 raw bytes: its length was compared with raw frames' and the file
    said to hold 'more frames than Number of Frames declares'. Compressed data's length says nothing of frames."""
    from dicom_factory import jpeg_baseline

    noise = np.random.default_rng(0).integers(0, 255, (16, 16)).astype(np.uint8)
    (volume,) = read_volumes(jpeg_baseline(noise, quality=100), name="x.dcm")
    assert len(volume.slices) == 1 and volume.notes == ()
