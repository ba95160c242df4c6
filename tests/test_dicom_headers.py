"""DICOM header values that are broken or absurd cost that value only: the file's pixels are still classified, and the
volume's notes say what was ignored."""

from __future__ import annotations

import logging
import re

import numpy as np
import pytest
from dicom_factory import make_dataset, to_bytes, with_raw_element, zip_bytes
from pydicom.datadict import tag_for_keyword
from pydicom.dataelem import DataElement

from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes


def _gray(k: int = 0) -> np.ndarray:
    yy, xx = np.mgrid[:64, :64]
    return ((xx * 3 + yy * 2 + 10 * k) % 250).astype(np.uint8)


def _series(broken: tuple[str, bytes, bytes], **attrs) -> list[tuple[str, bytes]]:
    """Three files of one series, 5 mm apart; the middle one's ``broken`` = (keyword, VR, value) rewritten raw."""
    from pydicom.uid import generate_uid

    uid, files = generate_uid(), []
    for k in range(3):
        data = to_bytes(make_dataset(_gray(k), series_uid=uid, instance=k + 1, position=5.0 * k, **attrs))
        files.append((f"IM{k}", with_raw_element(data, *broken) if k == 1 else data))
    return files


_ATTRS = {"PixelSpacing": [0.9, 0.9], "WindowCenter": 128, "WindowWidth": 256}


@pytest.mark.parametrize(("broken", "note"), [
    (("PixelSpacing", b"ZZ", b"1\\1"),
     "Pixel Spacing unreadable or invalid in 1 file: ignored, pixels taken as square"),
    (("WindowCenter", b"SQ", b"\x01\x02\x03\x04"),
     "Window Center unreadable or invalid in 1 file: ignored, gray levels stretched by the image's own range"),
    (("ImagePositionPatient", b"FD", b"\x01\x02\x03"),
     "Image Position (Patient) unreadable or invalid in 1 file: ignored, the image's place in the series unknown"),
    (("Modality", b"ZZ", b"MR"), "Modality unreadable or invalid in 1 file: ignored, as if absent"),
    (("InstanceNumber", b"ZZ", b"2"), "Instance Number unreadable or invalid in 1 file: ignored, as if absent"),
])
def test_a_header_value_pydicom_cannot_convert_costs_that_value_only(broken, note, caplog):
    """An element of unknown VR, a binary value of the wrong length or a 'sequence' that does not parse raised on first
    use wherever it was read: 'this scan could not be read (NotImplementedError)' for the whole series, its good files
    with it, and a warning in the log."""
    files = _series(broken, **_ATTRS)
    with caplog.at_level(logging.WARNING):
        (volume,) = read_volumes(zip_bytes(files), name="series.zip")
        (alone,) = read_volumes(files[1][1], name="IM1.dcm")
    assert len(volume.slices) == 3 and note in volume.notes
    assert len(alone.slices) == 1 and note in alone.notes
    assert not caplog.records


@pytest.mark.parametrize(("broken", "note"), [
    (("RescaleSlope", b"DS", b"abc"),
     "Rescale Slope unreadable or invalid in 1 file: ignored, stored values shown as they are"),
    (("WindowCenter", b"DS", b"1\\abc"),
     "Window Center unreadable or invalid in 1 file: ignored, gray levels stretched by the image's own range"),
    (("NumberOfFrames", b"IS", b"two"), "Number of Frames unreadable or invalid in 1 file: ignored, as if absent"),
])
def test_text_where_a_header_number_is_due_costs_that_value_only_and_is_said(broken, note):
    """pydicom (validation off) keeps a DS or IS value it cannot convert as text: a Rescale Slope 'abc' was read as
    absent unsaid, and a Number of Frames 'two' refused the file as 'DICOM pixel data could not be decoded'."""
    files = _series(broken, **_ATTRS, RescaleSlope=1, RescaleIntercept=0, NumberOfFrames=1)
    (volume,) = read_volumes(zip_bytes(files), name="series.zip")
    (alone,) = read_volumes(files[1][1], name="IM1.dcm")
    assert len(volume.slices) == 3 and note in volume.notes
    assert len(alone.slices) == 1 and note in alone.notes


def test_an_unreadable_value_in_a_functional_group_is_ignored_too():
    """Enhanced files keep their spacing and positions in nested sequences, read as each frame is."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = make_dataset(np.stack([_gray(k) for k in range(3)]), sop_class="1.2.840.10008.5.1.4.1.1.4.1")
    ds.NumberOfFrames = 3
    shared, measures = Dataset(), Dataset()
    measures.PixelSpacing = [0.5, 0.5]
    shared.PixelMeasuresSequence = Sequence([measures])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    data = with_raw_element(to_bytes(ds), "PixelSpacing", b"ZZ", b"0.5\\0.5 ")  # as long as it was: lengths hold
    (volume,) = read_volumes(data, name="enhanced.dcm")
    assert len(volume.slices) == 3
    assert "Pixel Spacing unreadable or invalid in 1 file: ignored, pixels taken as square" in volume.notes


_NOT_POSITIVE = "1 image with a Pixel Spacing that is not two positive numbers: ignored, pixels taken as square"
_STRIP = ("1 image with a Pixel Spacing that makes pixels over 4 times as long as wide: ignored, pixels taken as "
          "square")


@pytest.mark.parametrize(("spacing", "shape", "notes"), [
    (b"1\\1e38", (64, 64), (_STRIP,)),  # was a 64 x 1 strip, refused as 'extreme aspect ratio' with no word of why
    (b"1\\0.001", (64, 64), (_STRIP,)),
    (b"0\\0", (64, 64), (_NOT_POSITIVE,)),  # these were ignored, but silently
    (b"-1\\-1", (64, 64), (_NOT_POSITIVE,)),
    (b"x\\y", (64, 64), (_NOT_POSITIVE,)),
    (b"1", (64, 64), (_NOT_POSITIVE,)),
    (b"0.5\\1", (64, 128), ()),  # a believable spacing is honoured: twice as wide as high
])
def test_an_absurd_pixel_spacing_is_ignored_and_said(spacing, shape, notes):
    data = with_raw_element(to_bytes(make_dataset(_gray(), PixelSpacing=[1, 1])), "PixelSpacing", b"DS", spacing)
    (volume,) = read_volumes(data, name="x.dcm")
    assert volume.slices[0].pixels.shape == shape
    assert volume.notes == notes


@pytest.mark.parametrize("stored", [b"\x00\x00", b"\x20\x00", b"\x01\x20"])  # 0, and 32 or 8193 of 16 allocated
def test_a_bits_stored_out_of_range_is_taken_as_bits_allocated(stored):
    """pydicom refused the pixels: 'DICOM pixel data is corrupt or truncated (ValueError)', the pixels being fine."""
    gray = _gray().astype(np.uint16) * 10
    data = with_raw_element(to_bytes(make_dataset(gray, bits=12)), "BitsStored", b"US", stored)
    (volume,) = read_volumes(data, name="x.dcm")
    assert volume.slices[0].pixels.shape == (64, 64) and volume.slices[0].pixels.max() == 255
    assert volume.notes == ("Bits Stored unreadable or invalid in 1 file: ignored, taken as Bits Allocated",)


@pytest.mark.parametrize(("keyword", "vr", "value", "message"), [
    ("PhotometricInterpretation", b"CS", b"MONOCHROME3", "Photometric Interpretation is not one DICOM defines"),
    ("PixelRepresentation", b"US", b"\x05\x00", "Pixel Representation is neither 0 nor 1"),
    ("SamplesPerPixel", b"US", b"\x07\x00", "Samples per Pixel is neither 1 nor 3"),
    ("BitsAllocated", b"US", b"\x07\x00", "Bits Allocated is not 1 or a multiple of 8 up to 64"),
])
def test_pixels_the_header_cannot_describe_are_refused_precisely(keyword, vr, value, message):
    """Each was 'DICOM pixel data is corrupt or truncated (ValueError)', the pixel data being fine; pydicom's own
    message is not shown (it quotes the value)."""
    data = with_raw_element(to_bytes(make_dataset(_gray())), keyword, vr, value)
    with pytest.raises(ImageError, match=rf"^DICOM header's {re.escape(message)}: the pixels cannot be decoded$"):
        read_volumes(data, name="x.dcm")


def _resized(what: str):
    """A dataset whose Pixel Data length and header disagree as ``what`` says."""
    if what == "truncated":
        ds = make_dataset(_gray().astype(np.uint16) * 10)
        ds.PixelData = ds.PixelData[:-100]
    elif what == "rows too many":
        ds = make_dataset(_gray().astype(np.uint16) * 10)
        ds.Rows = 128
    elif what == "frames too many":
        ds = make_dataset(_gray().astype(np.uint16) * 10)
        ds.NumberOfFrames = 3
    elif what == "rgb":
        ds = make_dataset(np.stack([_gray()] * 3, axis=-1), photometric="RGB")
        ds.PixelData = ds.PixelData[:-10]
    else:  # full YBR data said to be YBR_FULL_422
        ds = make_dataset(np.stack([_gray()] * 3, axis=-1), photometric="RGB")
        ds.PhotometricInterpretation = "YBR_FULL_422"
    return ds


@pytest.mark.parametrize("drop", [(), ("GreenPaletteColorLookupTableData",), ("RedPaletteColorLookupTableDescriptor",)])
def test_a_palette_image_without_its_palette_is_refused_precisely(drop):
    """A PALETTE COLOR image with no palette, or a colour's table missing, was 'DICOM pixel data could not be
    decoded', its pixels being whole."""
    ds = make_dataset(_gray())
    ds.PhotometricInterpretation = "PALETTE COLOR"
    if drop:
        for colour in ("Red", "Green", "Blue"):
            ds[f"{colour}PaletteColorLookupTableDescriptor"] = DataElement(
                tag_for_keyword(f"{colour}PaletteColorLookupTableDescriptor"), "US", [256, 0, 8])
            ds[f"{colour}PaletteColorLookupTableData"] = DataElement(
                tag_for_keyword(f"{colour}PaletteColorLookupTableData"), "OW", bytes(range(256)))
        del ds[drop[0]]
    with pytest.raises(ImageError, match=r"^DICOM header says PALETTE COLOR but holds no palette \(its Red, Green "
                                         r"and Blue Palette Color Lookup Table Descriptor and Data\)"):
        read_volumes(to_bytes(ds), name="x.dcm")


@pytest.mark.parametrize(("entries", "data"), [(256, b"\x01\x02"), (0, bytes(20))])  # 0 entries: 65,536
def test_a_palette_of_another_length_than_its_descriptor_says_is_refused_precisely(entries, data):
    """pydicom's apply_color_lut raised on a table too short for its descriptor: 'DICOM pixel data could not be
    decoded', of pixels that were whole."""
    ds = make_dataset(_gray())
    ds.PhotometricInterpretation = "PALETTE COLOR"
    for colour in ("Red", "Green", "Blue"):
        ds[f"{colour}PaletteColorLookupTableDescriptor"] = DataElement(
            tag_for_keyword(f"{colour}PaletteColorLookupTableDescriptor"), "US", [entries, 0, 8])
        ds[f"{colour}PaletteColorLookupTableData"] = DataElement(
            tag_for_keyword(f"{colour}PaletteColorLookupTableData"), "OW", data)
    with pytest.raises(ImageError, match=r"^DICOM palette \(its Palette Color Lookup Table Descriptor and Data\) "
                                         r"cannot be read: damaged"):
        read_volumes(to_bytes(ds), name="x.dcm")


@pytest.mark.parametrize(("what", "message"), [
    ("truncated", "holds 8,092 bytes but Rows 64 x Columns 64 x 1 frame at 16 bits need 8,192: 100 bytes short"),
    ("rows too many", "holds 8,192 bytes but Rows 128 x Columns 64 x 1 frame at 16 bits need 16,384: 8,192 bytes "
                      "short"),
    ("frames too many", "holds 8,192 bytes but Rows 64 x Columns 64 x 3 frames at 16 bits need 24,576: 16,384 "
                        "bytes short"),
    ("rgb", "holds 12,278 bytes but Rows 64 x Columns 64 x 1 frame x 3 samples at 8 bits need 12,288: 10 bytes "
            "short"),
    ("ybr 422", "holds 12,288 bytes but Rows 64 x Columns 64 x 1 frame x 3 samples at 8 bits (YBR_FULL_422) need "
                "8,192: a third more"),
])
def test_pixel_data_of_another_length_than_its_header_says_is_refused_precisely(what, message):
    """Each was 'DICOM pixel data is corrupt or truncated (ValueError)'."""
    from dicom_factory import SECRETS

    with pytest.raises(ImageError, match=f"^DICOM pixel data {re.escape(message)}") as caught:
        read_volumes(to_bytes(_resized(what)), name="x.dcm")
    assert not any(secret in str(caught.value) for secret in SECRETS)


@pytest.mark.parametrize(("shape", "extra"), [((63, 63), b""), ((64, 64), b"\x00\x00"), ((64, 64), bytes(100))])
def test_pixel_data_padded_past_its_length_is_read_as_before(shape, extra):
    """An odd length's padding byte (63 x 63 8-bit pixels: 3,969 bytes stored as 3,970) is the standard's; other
    excess padding is ignored (PS3.5 8.1.1), as pydicom always did."""
    ds = make_dataset(_gray()[:shape[0], :shape[1]].copy())
    ds.PixelData += extra
    data = to_bytes(ds)
    assert len(ds.PixelData) == shape[0] * shape[1] + len(extra) + (shape[0] * shape[1]) % 2
    (volume,) = read_volumes(data, name="x.dcm")
    assert np.array_equal(volume.slices[0].pixels, _gray()[:shape[0], :shape[1]])  # 8-bit, no window: as stored


def test_pixel_data_holding_more_frames_than_declared_reads_the_declared_frame_and_says_so():
    """Three frames' pixels in a file without Number of Frames (pydicom #2035: real files do this): pydicom decoded
    all three, and the one declared frame came out as a 3 x 64 strip (taken for colour), refused as unlike MRI."""
    ds = make_dataset(np.stack([_gray(k) for k in range(3)]))
    del ds.NumberOfFrames
    (volume,) = read_volumes(to_bytes(ds), name="x.dcm")
    assert len(volume.slices) == 1 and np.array_equal(volume.slices[0].pixels, _gray(0))
    assert volume.notes == ("pixel data holding more frames than Number of Frames declares (absent or too small, or a "
                            "wrong image size) in 1 file: only the declared frames read",)
