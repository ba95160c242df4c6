"""Reading one DICOM file's pixels: encodings, bit depths, windows, frames, header values, and precise refusals."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from dicom_factory import (
    flat_slice,
    jpeg_baseline,
    make_dataset,
    make_dicom,
    pydicom_file,
    rescaled_windowed,
    to_bytes,
)

from braintumor.image_io import ImageError
from braintumor.slice_pixels import robust_uint8
from braintumor.volume_io import TOO_LONG_ADVICE, BudgetError, read_volumes
from braintumor.wording import EXPORT_AGAIN


def only(data: bytes, name: str = "x.dcm") -> np.ndarray:
    (volume,) = read_volumes(data, name=name)
    (sl,) = volume.slices
    return sl.pixels


def test_dicom_of_a_jpeg_slice_gives_back_its_pixels_exactly(gray):
    """8-bit, rescaled + windowed 12-bit, MONOCHROME1 and RLE-compressed copies all decode to the same slice."""
    from pydicom.uid import RLELossless

    assert np.array_equal(only(make_dicom(gray)), gray)
    assert np.array_equal(only(rescaled_windowed(gray)), gray)
    assert np.array_equal(only(make_dicom(255 - gray, photometric="MONOCHROME1")), gray)
    ds = make_dataset(gray)
    ds.compress(RLELossless, encoding_plugin="pydicom")
    assert np.array_equal(only(to_bytes(ds)), gray)


def test_jpeg_baseline_dicom_is_decoded_by_a_plugin(gray):
    ours = only(jpeg_baseline(gray)).astype(int)
    assert ours.shape == gray.shape and np.abs(ours - gray.astype(int)).mean() < 2.0


def test_a_16_bit_slice_without_window_is_stretched_robustly(gray):
    pixels = only(make_dicom(gray.astype(np.uint16) * 16, bits=12))
    assert np.array_equal(pixels, robust_uint8(gray.astype(np.uint16) * 16))
    assert pixels.max() == 255 and pixels.dtype == np.uint8


def test_16_bit_colour_keeps_its_levels_as_8_bit_colour_does():
    """A palette's 16-bit entries (the usual) and 16-bit RGB are absolute levels, like 8-bit colour's, but they were
    stretched from their percentiles: gray levels 100..150 came out 0..255, unlike the same image with 8-bit entries."""
    gray = (np.random.default_rng(0).integers(0, 51, (32, 32)) + 100).astype(np.uint8)
    for bits, lut in ((8, np.arange(256, dtype=np.uint8)), (16, np.arange(256, dtype=np.uint16) * 257)):
        ds = make_dataset(gray)
        ds.PhotometricInterpretation = "PALETTE COLOR"
        for colour in ("Red", "Green", "Blue"):
            setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [256, 0, bits])
            setattr(ds, f"{colour}PaletteColorLookupTableData", lut.tobytes())
        assert np.array_equal(only(to_bytes(ds)), gray), bits
    rgb16 = np.repeat(gray[..., None].astype(np.uint16) * 257, 3, axis=2)
    assert np.array_equal(only(make_dicom(rgb16, photometric="RGB", bits=16)), gray)
    rgb12 = np.repeat(gray[..., None].astype(np.uint16) * 16, 3, axis=2)  # 12 bits stored: 4095 is white
    assert np.abs(only(make_dicom(rgb12, photometric="RGB", bits=12)).astype(int) - gray).max() <= 1


@pytest.mark.parametrize(("center", "width"), [(float("nan"), 256.0), (128.0, float("inf")), ("NaN", "inf")])
def test_a_window_that_is_not_a_number_falls_back_to_the_stretch(gray, center, width):
    """A NaN window made every slice black, refused as blank (the comment promised the percentile stretch)."""
    stored = gray.astype(np.uint16) * 16
    assert np.array_equal(only(make_dicom(stored, bits=12, WindowCenter=center, WindowWidth=width)),
                          robust_uint8(stored))


def test_multi_frame_dicom_gives_one_slice_per_frame(stack):
    (volume,) = read_volumes(make_dicom(np.stack(stack[:3])), name="cine.dcm")
    assert len(volume.slices) == 3 and volume.kind == "dicom"
    for k, sl in enumerate(volume.slices):
        assert np.array_equal(sl.pixels, stack[k]) and sl.meta["dicom"]["frame"] == k
        assert sl.meta["dicom"]["frames"] == 3


@pytest.mark.parametrize("name", ["MR_small_RLE.dcm", "MR_small_jp2klossless.dcm", "MR_small_jpeg_ls_lossless.dcm",
                                  "MR_small_bigendian.dcm", "MR_small_implicit.dcm"])
def test_pydicom_bundled_encodings_all_give_the_same_slice(name):
    """JPEG-LS is decoded only by the GDCM plugin; JPEG 2000 by GDCM or Pillow; RLE by pydicom."""
    reference, other = pydicom_file("MR_small.dcm"), pydicom_file(name)
    if reference is None or other is None:
        pytest.skip("pydicom's wheel does not ship this test file")
    (a,), (b,) = read_volumes(reference), read_volumes(other)
    assert np.array_equal(a.slices[0].pixels, b.slices[0].pixels)
    assert a.slices[0].meta["dicom"]["modality"] == "MR" and a.slices[0].pixels.shape == (64, 64)


@pytest.mark.parametrize(("name", "message"), [
    ("test-SR.dcm", "Comprehensive SR Storage object, not an image"),
    ("rtstruct.dcm", "RT Structure Set Storage object, not an image"),  # no preamble: read because of .dcm
    ("MR_truncated.dcm", "holds 8,130 bytes but Rows 64 x Columns 64 x 1 frame at 16 bits need 8,192: 62 bytes "
                         "short"),
])
def test_pydicom_bundled_non_images_and_broken_files_are_refused(name, message):
    path = pydicom_file(name)
    if path is None:
        pytest.skip("pydicom's wheel does not ship this test file")
    with pytest.raises(ImageError, match=message):
        read_volumes(path)


def test_a_dicom_file_cut_short_before_its_pixels_is_told_so(gray):
    """pydicom stops without a word where the bytes run out: a file cut in its file meta was 'DICOM file's dataset is
    empty', one cut in a header value or an element's tag 'DICOM file has no pixel data (MR Image Storage)', as a
    report is; a whole file of no pixels (an MR spectroscopy object's), and one cut in its pixel data, keep their own
    messages."""
    from pydicom.uid import MRSpectroscopyStorage

    whole = make_dicom(gray)
    meta_end = 144 + int.from_bytes(whole[140:144], "little")
    pixels = whole.index(b"\xe0\x7f\x10\x00")
    for cut, where in ((meta_end - 20, "its file meta"), (meta_end + 50, "a header value"),
                       (pixels - 3, "an element's tag and length"), (pixels + 4, "an element's tag and length")):
        with pytest.raises(ImageError, match=rf"^DICOM file is truncated: it ends at byte {cut:,}, inside {where} "
                                             r"\(cut short in a copy or a download\?\): send the whole file$"):
            read_volumes(whole[:cut], name="x.dcm")
    with pytest.raises(ImageError, match=r"no pixel data \(MR Spectroscopy Storage\)$"):
        read_volumes(make_dicom(None, sop_class=MRSpectroscopyStorage), name="x.dcm")
    with pytest.raises(ImageError, match="bytes short"):
        read_volumes(whole[:pixels + 100], name="x.dcm")


def test_a_compressed_dicom_file_cut_short_in_its_pixel_data_is_told_so(gray):
    """pydicom lost the whole dataset where an undefined-length value (encapsulated pixel data) ran out of bytes
    before its delimiter: a JPEG DICOM cut short was 'DICOM file's dataset is empty: no data elements after its
    preamble and file meta', of a file that had them all."""
    whole = jpeg_baseline(gray)
    pixels = whole.index(b"\xe0\x7f\x10\x00")
    for cut in (pixels + 20, (pixels + len(whole)) // 2, len(whole) - 8):  # in its table, its frame, its delimiter
        with pytest.raises(ImageError, match=rf"^DICOM file is truncated: it ends at byte {cut:,}, inside its pixel "
                                             r"data \(cut short in a copy or a download\?\): send the whole file$"):
            read_volumes(whole[:cut], name="x.dcm")
    assert len(read_volumes(whole, name="x.dcm")[0].slices) == 1


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")  # the malformed UIDs are the point
def test_precise_errors_for_unusable_dicom(gray):
    from pydicom.uid import ComprehensiveSRStorage, HTJ2KLossless, MRSpectroscopyStorage

    whole = make_dicom(gray)
    cases = {
        "no pixel data (MR Spectroscopy Storage)": make_dicom(None, sop_class=MRSpectroscopyStorage),
        "no pixel data (unregistered SOP class)": make_dicom(None, sop_class="DOE^JANE"),  # never echoed
        "DICOM file is an object of an unregistered SOP class, not an image": make_dicom(
            None, sop_class="1.2.840.10008.5.1.4.1.1.88.99DOE^JANE"),  # a report's prefix, then text: not echoed
        "Comprehensive SR Storage object, not an image": make_dicom(None, sop_class=ComprehensiveSRStorage),
        # the file cut in its pixel data (the pixels end the file; generated UIDs vary the header's length)
        f"holds {2000 - (len(whole) - 50176):,} bytes but Rows 224 x Columns 224 x 1 frame at 8 bits need 50,176: "
        f"{len(whole) - 2000:,} bytes short": whole[:2000],
        "not a DICOM file": b"just some text, long enough to be sniffed " * 10,
    }
    for message, data in cases.items():
        with pytest.raises(ImageError, match=re.escape(message)):
            read_volumes(data, name="x.dcm")
    from pydicom.encaps import encapsulate

    ds = make_dataset(gray)
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + bytes(64)])  # an HTJ2K-looking codestream
    ds.file_meta.TransferSyntaxUID = HTJ2KLossless
    with pytest.raises(ImageError, match=r"compressed with High-Throughput JPEG 2000.*cannot decode"):
        read_volumes(to_bytes(ds), name="x.dcm")


def test_a_dicom_without_pixel_data_says_whether_it_has_a_sop_class_or_anything_at_all():
    """A file of elements but no SOP Class UID was 'no pixel data (unregistered SOP class)': it has no SOP class at
    all. One of nothing after its 'DICM' marker (or after its file meta), then 'dataset is empty', is cut short there
    (no writer saves an empty dataset): it says where it ends."""
    import io

    import pydicom

    empty, meta = b"\0" * 128 + b"DICM", b"\x02\x00\x10\x00UI\x14\x00" + b"1.2.840.10008.1.2.1\0"  # Transfer Syntax
    named = make_dataset(None)
    for keyword in list(named.keys()):
        del named[keyword]  # the file meta alone, naming MR Image Storage
    classless = make_dataset(None)
    del classless.SOPClassUID, classless.file_meta.MediaStorageSOPClassUID
    classless.preamble, out = b"\0" * 128, io.BytesIO()
    pydicom.dcmwrite(out, classless, enforce_file_format=False)
    def cut(data: bytes, where: str) -> str:
        return (f"DICOM file is truncated: it ends at byte {len(data):,}, right after its {where} (cut short in a copy "
                "or a download?): send the whole file")

    for data, message in ((empty, cut(empty, "'DICM' marker, before any file meta or data element")),
                          (empty + meta, cut(empty + meta, "file meta, before any data element")),
                          (to_bytes(named), cut(to_bytes(named), "file meta, before any data element")),
                          (out.getvalue(), "DICOM file has no pixel data (and no SOP Class UID)")):
        with pytest.raises(ImageError, match=f"^{re.escape(message)}$"):
            read_volumes(data, name="x.dcm")


def test_sizes_are_refused_before_decoding(gray):
    ds = make_dataset(gray)
    ds.Rows = ds.Columns = 9000
    with pytest.raises(ImageError, match="9000x9000 pixels; the limit"):
        read_volumes(to_bytes(ds))
    ds = make_dataset(gray)
    ds.NumberOfFrames = 100_000
    with pytest.raises(ImageError) as caught:
        read_volumes(to_bytes(ds))
    assert str(caught.value) == f"DICOM file has 100000 frames; the limit is 512 ({TOO_LONG_ADVICE})"
    ds.NumberOfFrames = -1  # a damaged header: was "DICOM file has -1 frames; the limit is 512", a refusal for length
    with pytest.raises(ImageError) as caught:  # (a web request then said to send it on its own)
        read_volumes(to_bytes(ds))
    assert str(caught.value) == f"DICOM header declares -1 frames (Number of Frames): {EXPORT_AGAIN}"
    assert not isinstance(caught.value, BudgetError)


@pytest.mark.parametrize("frames", [0, -3])
def test_a_number_of_frames_below_one_is_refused_as_a_damaged_header(gray, frames):
    """0 frames was read as 1, unsaid, while -3 was refused: both are a damaged header, not an absent value."""
    with pytest.raises(ImageError) as caught:
        read_volumes(make_dicom(gray, NumberOfFrames=frames))
    assert str(caught.value) == f"DICOM header declares {frames} frames (Number of Frames): {EXPORT_AGAIN}"


def patched(data: bytes, old: bytes, new: bytes) -> bytes:
    """``data`` with one header value rewritten in place (same length): values pydicom would not write."""
    assert len(old) == len(new) and data.count(old) == 1
    return data.replace(old, new)


def test_header_numbers_that_are_not_numbers_are_left_out_not_fatal(gray):
    """Text, NaN or infinity where a position, spacing or location belongs: the slice is still read (unresampled,
    unsorted by it) and the value is left out of the metadata, which stays valid JSON. Before: ValueError or
    OverflowError tracebacks in the CLI and HTTP 500 from the web app."""
    ipp = dict(ImagePositionPatient=[1.5, 2.5, 3.5], ImageOrientationPatient=[1, 0, 0, 0, 1, 0])
    cases = [
        (make_dicom(gray, **ipp), b"1.5\\2.5\\3.5", b"abc\\def\\ghi"),
        (make_dicom(gray, **ipp), b"1.5\\2.5\\3.5", b"nan\\nan\\nan"),
        (make_dicom(gray, PixelSpacing=[0.5, 1.5]), b"0.5\\1.5", b"inf\\1.0"),
        (make_dicom(gray, PixelSpacing=[0.5, 1.5]), b"0.5\\1.5", b"nan\\1.0"),
        (make_dicom(gray, SliceLocation=12.5), b"12.5", b"nan "),
    ]
    for data, old, new in cases:
        (volume,) = read_volumes(patched(data, old, new), name="x.dcm")
        (sl,) = volume.slices
        assert np.array_equal(sl.pixels, gray), new
        dicom = sl.meta["dicom"]
        assert "image_position" not in dicom and "slice_location" not in dicom, new
        json.dumps(sl.meta, allow_nan=False)


def test_an_unknown_transfer_syntax_is_a_precise_error(gray):
    # Explicit VR Little Endian's UID turned into a private one (pydicom will not write that itself)
    data = patched(make_dicom(gray), b"1.2.840.10008.1.2.1\0", b"1.2.840.99999.1.2.1\0")
    with pytest.raises(ImageError, match="transfer syntax this reader does not know"):
        read_volumes(data, name="x.dcm")


def test_a_deflated_dicom_is_refused_before_pydicom_inflates_it():
    """pydicom inflates a Deflated dataset without any limit: 1 MB became 3 GB in a web worker."""
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    ds = make_dataset(flat_slice(1))
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    with pytest.raises(ImageError, match=r"^DICOM file uses the Deflated transfer syntax, which is not read"):
        read_volumes(to_bytes(ds), name="d.dcm")


def test_squaring_pixels_never_multiplies_them_past_twice_the_declared():
    """PixelSpacing 0.00017 x 1 mm turned a 64 x 64 slice into 64 x 376 471 pixels: 40 such files of 188 kB were
    a gigabyte, past any budget checked on the headers."""
    from braintumor.slice_pixels import square_pixels

    gray = flat_slice(3)
    assert square_pixels(gray, 1.0, 0.5).shape == (128, 64)  # mild: the coarse axis is split, as before
    assert square_pixels(gray, 1.0, 0.00017).shape == (64, 1)  # extreme: the fine axis is merged
    assert square_pixels(gray, 0.7, 0.7).shape == (64, 64)


def _float_dicom(frames: np.ndarray, keyword: str = "FloatPixelData", **attrs) -> bytes:
    """A DICOM of Float (32-bit) or Double Float (64-bit) Pixel Data, ``frames`` one frame or several."""
    ds = make_dataset(None, **attrs)
    ds.Rows, ds.Columns = frames.shape[-2:]
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated = 32 if keyword == "FloatPixelData" else 64
    if frames.ndim == 3:
        ds.NumberOfFrames = len(frames)
    setattr(ds, keyword, frames.astype(np.float32 if keyword == "FloatPixelData" else np.float64).tobytes())
    return to_bytes(ds)


def test_a_float_dicom_frame_with_no_finite_pixel_is_left_out_and_a_file_of_only_such_frames_refused(gray):
    """An all-NaN (or all-infinite) Float or Double Float Pixel Data frame was 'blank or nearly uniform image', with
    probabilities, where such a float TIFF or NIfTI is refused: no image to classify. The file of only such frames is
    refused in the float TIFF's words, and skipped in a series with them; such a frame of a multi-frame file is left
    out, said in the notes, and the file's other frames read."""
    from braintumor.dicom_series import read_dicom_series
    from braintumor.image_gray import NO_FINITE_PIXELS

    image, nan = gray.astype(np.float64) / 7, np.full(gray.shape, np.nan)
    for frames, keyword in ((nan, "FloatPixelData"), (np.full(gray.shape, -np.inf), "DoubleFloatPixelData"),
                            (np.stack([nan, nan]), "FloatPixelData")):
        with pytest.raises(ImageError) as refused:
            read_volumes(_float_dicom(frames, keyword), name="x.dcm")
        assert str(refused.value) == NO_FINITE_PIXELS
    (volume,) = read_volumes(_float_dicom(np.stack([image, nan, image])), name="x.dcm")
    assert len(volume.slices) == 2 and [sl.meta["dicom"]["frame"] for sl in volume.slices] == [0, 2]
    assert "left out 1 image with no finite pixel value (all NaN or infinite)" in volume.notes
    assert np.array_equal(volume.slices[0].pixels, only(_float_dicom(image)))
    files = [_float_dicom(frame, series_uid="1.2.3", instance=k + 1, position=float(k))
             for k, frame in enumerate((image, nan, image))]
    (series,) = read_dicom_series("s", [(f"{k}.dcm", lambda d=d: d) for k, d in enumerate(files)], 10)
    assert len(series.slices) == 2
    assert f"skipped 1 file of this series: {NO_FINITE_PIXELS}" in series.notes
