"""Reading DICOM, DICOM series (folder, zip) and NIfTI into slices: pixels, order, orientation, limits, errors."""

from __future__ import annotations

import io
import json
import logging
import re
import warnings

import numpy as np
import pytest
from dicom_factory import (
    SECRETS,
    axial_volume,
    jpeg_baseline,
    make_dataset,
    make_dicom,
    nibabel_file,
    nifti_bytes,
    pydicom_file,
    rescaled_windowed,
    series,
    to_bytes,
    zip_bytes,
)
from PIL import Image

from braintumor import nifti_header, nifti_io, zip_io
from braintumor.image_io import ImageError, read_image
from braintumor.volume_io import read_volumes, robust_uint8, sniff


@pytest.fixture(scope="module")
def gray(test_images) -> np.ndarray:
    """A real test slice, decoded at full resolution."""
    return read_image(test_images["glioma"][0])


@pytest.fixture(scope="module")
def stack(test_images) -> list[np.ndarray]:
    """Six real slices of one size (a volume needs one size)."""
    paths = [p for c in ("glioma", "notumor", "pituitary") for p in test_images[c][:2]]
    return [np.asarray(Image.fromarray(read_image(p)).resize((160, 160)), dtype=np.uint8) for p in paths]


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
    ("MR_truncated.dcm", "holds 8,130 bytes but Rows 64 x Columns 64 x 1 frame.s. at 16 bits need 8,192: 62 bytes "
                         "short"),
])
def test_pydicom_bundled_non_images_and_broken_files_are_refused(name, message):
    path = pydicom_file(name)
    if path is None:
        pytest.skip("pydicom's wheel does not ship this test file")
    with pytest.raises(ImageError, match=message):
        read_volumes(path)


@pytest.mark.filterwarnings("ignore:Invalid value for VR UI")  # the malformed UIDs are the point
def test_precise_errors_for_unusable_dicom(gray):
    from pydicom.uid import ComprehensiveSRStorage, HTJ2KLossless

    cases = {
        "no pixel data (MR Image Storage)": make_dicom(None),
        "no pixel data (unregistered SOP class)": make_dicom(None, sop_class="DOE^JANE"),  # never echoed
        "DICOM file is an object of an unregistered SOP class, not an image": make_dicom(
            None, sop_class="1.2.840.10008.5.1.4.1.1.88.99DOE^JANE"),  # a report's prefix, then text: not echoed
        "Comprehensive SR Storage object, not an image": make_dicom(None, sop_class=ComprehensiveSRStorage),
        "holds 1,196 bytes but Rows 224 x Columns 224 x 1 frame(s) at 8 bits need 50,176: 48,980 bytes short":
            make_dicom(gray)[:2000],  # the file cut in its pixel data
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


def test_sizes_are_refused_before_decoding(gray):
    ds = make_dataset(gray)
    ds.Rows = ds.Columns = 9000
    with pytest.raises(ImageError, match="9000x9000 pixels; the limit"):
        read_volumes(to_bytes(ds))
    ds = make_dataset(gray)
    ds.NumberOfFrames = 100_000
    with pytest.raises(ImageError, match="100000 frames; the limit is 512"):
        read_volumes(to_bytes(ds))


def test_content_decides_not_the_name(gray):
    from conftest import encode

    dicom = make_dicom(gray)
    assert sniff(dicom, "scan.jpg") == "dicom" and sniff(encode(gray), "scan.dcm") is None
    assert sniff(nifti_bytes(np.zeros((4, 4, 4), np.int16)), "x.bin") == "nifti"
    assert sniff(zip_bytes([("a", b"x")]), "x.bin") == "zip" and sniff(b"text", "x.txt") is None


def test_series_folder_is_sorted_along_the_slice_normal(stack, tmp_path):
    for name, data in series(stack):  # written in a scrambled order
        (tmp_path / name).write_bytes(data)
    (tmp_path / "README.txt").write_text("not DICOM, not looked at")
    (volume,) = read_volumes(tmp_path)
    assert [s.meta["dicom"]["image_position"][2] for s in volume.slices] == [5.0 * k for k in range(6)]
    assert all(np.array_equal(s.pixels, stack[k]) for k, s in enumerate(volume.slices))
    assert volume.series is None and volume.notes == ()


def test_instance_number_orders_a_series_without_positions(stack, tmp_path):
    from pydicom.uid import generate_uid

    uid = generate_uid()
    for k in (3, 0, 2, 1):
        (tmp_path / f"f{k}").write_bytes(make_dicom(stack[k], series_uid=uid, instance=k + 1))
    (volume,) = read_volumes(tmp_path)
    assert [s.meta["dicom"]["instance_number"] for s in volume.slices] == [1, 2, 3, 4]


def test_two_series_and_a_skipped_file_are_reported(stack, tmp_path):
    from pydicom.uid import ComprehensiveSRStorage

    for k, (name, data) in enumerate(series(stack[:3]) + series(stack[3:5])):
        (tmp_path / f"{k}-{name}.dcm").write_bytes(data)
    (tmp_path / "report.dcm").write_bytes(make_dicom(None, sop_class=ComprehensiveSRStorage))
    volumes = read_volumes(tmp_path)
    assert [v.series for v in volumes] == [0, 1] and sorted(len(v.slices) for v in volumes) == [2, 3]
    # the file is the input's, not each series': said so, so two series do not read as two skipped files
    assert all("skipped 1 file(s) in this input: DICOM file is a Comprehensive SR Storage" in " ".join(v.notes)
               for v in volumes)


def test_the_note_that_numbers_a_series_names_it(stack, tmp_path):
    """A study folder's T1 and FLAIR were "series 1" and "series 2" in the table and its summary notes, which never
    said which was which (only jsonl's records did); the note now gives the series number and description."""
    from pydicom.uid import generate_uid

    for k, (desc, num) in enumerate((("AX T1 POST", 5), ("AX FLAIR\rX", 7))):
        uid = generate_uid()
        for i in range(2):
            (tmp_path / f"{k}-{i}.dcm").write_bytes(make_dicom(stack[2 * k + i], series_uid=uid, instance=i + 1,
                                                               position=5.0 * i, SeriesDescription=desc,
                                                               SeriesNumber=num))
    first, second = read_volumes(tmp_path)
    assert "2 series found; this is series 1 (number 5, AX T1 POST)" in first.notes
    assert "2 series found; this is series 2 (number 7, AX FLAIR\rX)" in second.notes
    from braintumor.series import summary_text  # a description's carriage return is printed as text, not run

    assert "AX FLAIR\\rX)" in summary_text({"path": "study", "series": 1, "summary": {
        "slices": 2, "classified": 0, "counts": {}, "most_suspicious": [], "notes": list(second.notes)}})

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


def test_one_undecodable_file_costs_its_slices_not_the_series(stack, tmp_path):
    """README: in a folder or zip, unusable files are skipped and counted. A file whose header is fine but whose
    pixels are cut short used to fail its whole series (and a zip with it)."""
    files = series(stack[:4], shuffle=False)
    from pydicom import dcmread

    uid = dcmread(io.BytesIO(files[0][1])).SeriesInstanceUID
    ds = make_dataset(stack[2], series_uid=uid, instance=3, position=10.0)
    ds.PixelData = stack[2].tobytes()[:500]  # a valid header, pixel data cut short
    files[2] = (files[2][0], to_bytes(ds))
    for n, d in files:
        (tmp_path / f"{n}.dcm").write_bytes(d)
    (volume,) = read_volumes(tmp_path)
    assert [s.meta["dicom"]["image_position"][2] for s in volume.slices] == [0.0, 5.0, 15.0]
    assert volume.notes == ("skipped 1 file(s): DICOM pixel data holds 500 bytes but Rows 160 x Columns 160 x 1 "
                            "frame(s) at 8 bits need 25,600: 25,100 bytes short (truncated, or the header's image size "
                            "is wrong)",)
    (from_zip,) = read_volumes(zip_bytes(files), name="s.zip")
    assert len(from_zip.slices) == 3 and from_zip.notes == volume.notes
    with pytest.raises(ImageError, match="25,100 bytes short"):  # one file on its own: its error, as before
        read_volumes(files[2][1], name="x.dcm")


def test_zip_of_a_series_is_read_in_memory(stack):
    from test_web_safety import no_disk_writes

    data = zip_bytes([(f"study/series/{n}", d) for n, d in series(stack)] + [("study/notes.txt", b"hello")])
    with no_disk_writes() as writes:
        (volume,) = read_volumes(data, name="series.zip")
    assert writes == [] and len(volume.slices) == 6
    assert all(np.array_equal(s.pixels, stack[k]) for k, s in enumerate(volume.slices))
    assert volume.notes == ("skipped 1 file(s) in the zip: not DICOM or NIfTI",)


def test_zip_guards(stack, monkeypatch):
    files = series(stack[:2])
    for bad in ("../evil.dcm", "/etc/evil.dcm", "a/../../evil.dcm", "C:/evil.dcm"):
        with pytest.raises(ImageError, match="unsafe name"):
            read_volumes(zip_bytes([*files, (bad, files[0][1])]), name="x.zip")
    with pytest.raises(ImageError, match="no DICOM or NIfTI file"):
        read_volumes(zip_bytes([("a.txt", b"hello")]), name="x.zip")
    with pytest.raises(ImageError, match="corrupt or truncated"):
        read_volumes(zip_bytes(files)[:300], name="x.zip")
    bomb = zip_bytes([("zeros.dcm", bytes(3_000_000))])
    assert len(bomb) < 10_000
    monkeypatch.setattr(zip_io, "MAX_VOLUME_BYTES", 1_000_000)
    with pytest.raises(ImageError, match="would expand to 3000000 bytes"):
        read_volumes(bomb, name="x.zip")
    two = [(f"{k}.nii.gz", nifti_bytes(axial_volume(stack))) for k in "ab"]  # 6 slices each
    with pytest.raises(ImageError, match=r"^the zip holds more than 10 slices \(at b.nii.gz\); the limit is 10 per"):
        read_volumes(zip_bytes(two), name="x.zip", max_slices=10)  # said 'the limit is 4': what was left
    with pytest.raises(ImageError, match=r"^b.nii.gz: gzip data is truncated"):  # which member
        read_volumes(zip_bytes([two[0], ("b.nii.gz", two[1][1][:100])]), name="x.zip")
    monkeypatch.setattr(zip_io, "MAX_ZIP_MEMBERS", 3)
    with pytest.raises(ImageError, match="lists 4 members; the limit is 3"):
        read_volumes(zip_bytes([(f"{i}.dcm", b"x") for i in range(4)]), name="x.zip")


def test_nifti_slices_come_back_in_display_orientation(stack):
    volume = axial_volume(stack)  # RAS array from display slices
    expected = [robust_uint8(s.astype(np.float32)) for s in stack]
    (ras,) = read_volumes(nifti_bytes(volume), name="ras.nii.gz")
    # The same anatomy stored left-to-right flipped (LAS) and with x/y swapped (ARS): nibabel reorients it.
    las = np.diag([-1.0, 1, 1, 1]) @ np.eye(4)
    (flipped,) = read_volumes(nifti_bytes(volume[::-1], las), name="las.nii.gz")
    swap = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=float)
    (swapped,) = read_volumes(nifti_bytes(volume.transpose(1, 0, 2).copy(), swap, gz=False), name="ars.nii")
    for v in (ras, flipped, swapped):
        assert v.kind == "nifti" and len(v.slices) == 6
        assert all(np.array_equal(s.pixels, expected[k]) for k, s in enumerate(v.slices))
    assert flipped.slices[0].meta["nifti"]["source_orientation"] == "LAS"


def test_nifti_4d_uses_the_first_volume_and_says_so(stack):
    vol = axial_volume(stack[:3])
    (v,) = read_volumes(nifti_bytes(np.stack([vol, 255 - vol], axis=-1)), name="fmri.nii.gz")
    assert len(v.slices) == 3 and v.notes == ("4-D image: the first of 2 volumes was used",)
    assert np.array_equal(v.slices[0].pixels, robust_uint8(stack[0].astype(np.float32)))


@pytest.mark.parametrize(("name", "n"), [("example4d.nii.gz", 24), ("anatomical.nii", 25), ("standard.nii.gz", 7)])
def test_nibabel_bundled_volumes(name, n):
    path = nibabel_file(name)
    if path is None:
        pytest.skip("nibabel's wheel does not ship this test file")
    (v,) = read_volumes(path)
    assert len(v.slices) == n and all(s.pixels.dtype == np.uint8 and s.pixels.ndim == 2 for s in v.slices)
    assert v.slices[0].meta["nifti"]["orientation"] == "RAS"


def test_nifti_limits_and_errors(monkeypatch):
    small = nifti_bytes(np.zeros((8, 8, 8), np.int16))
    assert len(nifti_header.gunzip_bounded(small, 1000).getvalue()) == 1000  # what the header needs, no more
    monkeypatch.setattr(nifti_io, "MAX_VOXELS", 100)
    with pytest.raises(ImageError, match="512 voxels; the limit is 100"):
        read_volumes(small, name="x.nii.gz")
    with pytest.raises(ImageError, match="not a NIfTI-1/NIfTI-2 single file"):
        read_volumes(b"plain text" * 60, name="x.nii")
    with pytest.raises(ImageError, match="not a recognised volume"):
        read_volumes(b"plain text" * 60, name="x.bin")
    with pytest.raises(ImageError, match="gzip data is truncated"):
        read_volumes(small[: len(small) // 2], name="x.nii.gz")


def test_no_patient_field_reaches_metadata_messages_logs_or_warnings(gray, caplog):
    """Patient values appear nowhere: not in slice metadata, notes, error messages, logs or warnings."""
    bad_name = make_dicom(gray, PatientName="SECRET^NAME" + "x" * 80)  # over-long: pydicom would warn with it
    texts = []
    with warnings.catch_warnings(record=True) as caught, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        for data in (make_dicom(gray), bad_name, rescaled_windowed(gray)):
            (v,) = read_volumes(data, name="x.dcm")
            texts.append(json.dumps([s.meta for s in v.slices]) + json.dumps(v.notes))
        for data in (make_dicom(gray)[:1500], make_dicom(None), nifti_bytes(np.zeros((4, 4, 4), np.int16))):
            try:
                texts.append(json.dumps([s.meta for v in read_volumes(data, name="x.dcm") for s in v.slices]))
            except ImageError as exc:
                texts.append(str(exc))
    texts += [str(w.message) for w in caught] + [caplog.text]
    blob = "\n".join(texts)
    assert "AX T1" in blob and not any(secret in blob for secret in SECRETS)


def test_sniffing_a_jpeg_upload_does_not_import_nibabel_or_pydicom():
    """Every upload is sniffed; importing the volume readers for a JPEG cost the server's first request
    ~0.4 s and each worker ~17 MB of memory (docs/PERFORMANCE.md)."""
    import subprocess
    import sys

    code = ("import io, sys\n"
            "from PIL import Image\n"
            "from braintumor.volume_io import sniff\n"
            "buf = io.BytesIO(); Image.new('L', (8, 8)).save(buf, 'JPEG')\n"
            "assert sniff(buf.getvalue(), 'x.jpg') is None\n"
            "assert sniff(b'\\x1f\\x8b' + bytes(100), 'x.nii.gz') == 'nifti'\n"
            "print(sorted(m for m in ('nibabel', 'pydicom', 'scipy') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_an_unforeseen_reader_error_is_one_input_error_and_logs_no_value(gray, monkeypatch, caplog):
    """Whatever a reader did not foresee is that input's ImageError (the CLI's error record, the page's card), and
    the log names the exception's class and line, never its text (which can quote a header value)."""
    from braintumor import dicom_series

    def broken(*args, **kwargs):
        raise ValueError("could not convert string to float: 'SECRET^NAME'")

    monkeypatch.setattr(dicom_series, "read_dicom_series", broken)
    message = r"^this scan could not be read \(ValueError\)$"
    with caplog.at_level(logging.DEBUG), pytest.raises(ImageError, match=message):
        read_volumes(make_dicom(gray), name="x.dcm")
    assert "ValueError" in caplog.text and "test_volume_io.py" in caplog.text and "SECRET" not in caplog.text


def test_slice_metadata_is_strict_json():
    """Every reader's metadata goes through Slice: a NaN or infinity anywhere in it becomes null."""
    from braintumor.volume_io import Slice

    meta = {"dicom": {"slice_location": float("nan"), "image_position": [1.0, float("inf"), 2.5], "rows": 4},
            "nifti": {"voxel_mm": (float("-inf"), 1.0)}}
    sl = Slice(np.zeros((4, 4), np.uint8), meta)
    assert sl.meta == {"dicom": {"slice_location": None, "image_position": [1.0, None, 2.5], "rows": 4},
                       "nifti": {"voxel_mm": [None, 1.0]}}
    json.dumps(sl.meta, allow_nan=False)


def test_a_folder_holding_only_a_zip_says_why_nothing_was_found(stack, tmp_path):
    from braintumor.volume_io import plan_inputs

    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "series.zip").write_bytes(zip_bytes(series(stack[:2])))
    (tmp_path / "empty").mkdir()
    assert list(plan_inputs([tmp_path / "scans", tmp_path / "empty"])) == [
        {"path": str(tmp_path / "scans"),
         "error": "no images found in folder (zips in folders are not opened: name the zip itself)"},
        {"path": str(tmp_path / "empty"), "error": "no images found in folder"}]


def test_a_zip_beside_other_scans_in_a_folder_is_said_not_skipped_without_a_word(stack, tmp_path):
    """``predict scans/`` read scans/a.png and passed over scans/series.zip in silence (said only of a folder holding
    nothing else): a note names it and how to have it read; so for a .hdr/.img pair's half and an image without an
    image ending. Files no one expects read (notes) and hidden ones stay unsaid."""
    from conftest import encode

    from braintumor.volume_io import plan_inputs

    scans = tmp_path / "scans"
    (scans / "deeper").mkdir(parents=True)
    (scans / "a.png").write_bytes(encode(stack[0]))
    for name in ("series.zip", "deeper/more.zip"):
        (scans / name).write_bytes(zip_bytes(series(stack[:2])))
    (scans / "IMG_0001").write_bytes(encode(stack[1]))  # a PNG, no ending
    (scans / "head.hdr").write_bytes(b"\x00" * 348)
    (scans / "notes.txt").write_text("not a scan")
    (scans / ".hidden.zip").write_bytes(b"PK\x03\x04")
    notes: list[str] = []
    assert list(plan_inputs([scans], on_note=notes.append)) == [scans / "a.png"]
    assert notes == [
        f"note: 2 file(s) in {scans} not read (zips in a folder are not opened: name each one, e.g. braintumor "
        f"predict {scans / 'series.zip'}): {scans / 'series.zip'}, {scans / 'deeper/more.zip'}",  # as walked
        f"note: 1 file(s) in {scans} not read (halves of .hdr + .img pairs are not read: save each pair as one .nii "
        f"file): {scans / 'head.hdr'}",
        f"note: 1 file(s) in {scans} not read (images without an image ending are not read in a folder: name each "
        f"one, or rename it .jpg, .png, ...): {scans / 'IMG_0001'}"]
    assert list(plan_inputs([scans])) == [scans / "a.png"]  # no one to tell: as before


def test_a_nifti_without_a_usable_orientation_is_read_as_stored_and_says_so(stack):
    """An all-zero sform (and no qform) made nibabel's reorientation fail: 'voxel data is corrupt or truncated'."""
    import nibabel as nib

    img = nib.Nifti1Image(axial_volume(stack[:3]), np.eye(4))
    img.set_sform(np.zeros((4, 4)), code=1)
    img.set_qform(None, code=0)
    (volume,) = read_volumes(img.to_bytes(), name="x.nii")
    assert len(volume.slices) == 3 and volume.notes == (
        "the header's orientation is unusable (singular or not finite): slices are the third axis as stored",)
    assert all(np.array_equal(s.pixels, robust_uint8(axial_volume(stack[:3])[:, :, k].T[::-1, ::-1]))
               for k, s in enumerate(volume.slices))


@pytest.mark.parametrize("plane", ["coronal", "sagittal"])
def test_a_thin_non_axial_nifti_is_read_in_its_own_plane_upright(gray, plane):
    """A single coronal image stored as (160, 1, 200) became 200 'axial' strips of 1 x 160 pixels, all refused,
    and the image itself was never classified."""
    import nibabel as nib

    shown = [np.ascontiguousarray(gray), np.ascontiguousarray(gray[:, ::-1])]  # as a viewer shows them
    # display rows superior->inferior, columns the patient's right (coronal) / front (sagittal) on the left
    planes = [s[::-1, ::-1].T for s in shown]  # (x, z) for coronal, (y, z) for sagittal
    stacked = np.stack(planes, axis=1 if plane == "coronal" else 0).astype(np.int16)
    (volume,) = read_volumes(nib.Nifti1Image(stacked, np.eye(4)).to_bytes(), name="thin.nii")
    assert len(volume.slices) == 2 and volume.notes == (f"2 {plane} slice(s), too thin a slab to cut axially: "
                                                        "classified in their own plane (the model learned mostly "
                                                        "axial slices)",)
    for sl, expected in zip(volume.slices, shown, strict=True):
        assert np.array_equal(sl.pixels, robust_uint8(expected)) and sl.meta["nifti"]["plane"] == plane
    axial = nib.Nifti1Image(axial_volume([gray] * 3).astype(np.int16), np.eye(4)).to_bytes()
    assert "plane" not in read_volumes(axial, name="a.nii")[0].slices[0].meta["nifti"]  # axial as before


def _flat(k: int) -> np.ndarray:
    return np.full((64, 64), 20 * (k + 1), np.uint8)


def _z(volume) -> list[float]:
    return [s.meta["dicom"]["image_position"][2] for s in volume.slices]


@pytest.mark.parametrize("stored", [(4, 3, 2, 1, 0), (0, 2, 4, 1, 3)])
def test_the_frames_of_one_multi_frame_file_are_put_in_anatomical_order(stored):
    """Frames were kept in stored order: stored superior first or interleaved, slice 0 was not the inferior end."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = make_dataset(np.stack([_flat(k) for k in stored]), sop_class="1.2.840.10008.5.1.4.1.1.4.1")
    ds.NumberOfFrames = len(stored)
    shared, orientation = Dataset(), Dataset()
    orientation.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared.PlaneOrientationSequence = Sequence([orientation])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for k in stored:
        group, position = Dataset(), Dataset()
        position.ImagePositionPatient = [-100.0, -100.0, 5.0 * k]
        group.PlanePositionSequence = Sequence([position])
        per_frame.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    (volume,) = read_volumes(to_bytes(ds), name="mf.dcm")
    assert _z(volume) == [0.0, 5.0, 10.0, 15.0, 20.0]
    assert [int(s.pixels[0, 0]) for s in volume.slices] == sorted(int(s.pixels[0, 0]) for s in volume.slices)


@pytest.mark.parametrize(("spacing", "positions", "notes"), [
    ({"SpacingBetweenSlices": 5.0, "SliceThickness": 4.0}, [[-100.0, -100.0, 7.0], [-100.0, -100.0, 12.0],
                                                            [-100.0, -100.0, 17.0]], ()),
    ({"SliceThickness": 3.0}, [[-100.0, -100.0, 7.0], [-100.0, -100.0, 10.0], [-100.0, -100.0, 13.0]], ()),
    ({"SliceThickness": 3.0, "ImageOrientationPatient": [1, 0, 0, 0, 0, -1]},  # coronal: the normal is posterior,
     [[-100.0, -94.0, 7.0], [-100.0, -97.0, 7.0], [-100.0, -100.0, 7.0]], ()),  # the order anterior (NIfTI's RAS)
    ({}, [[-100.0, -100.0, 7.0], None, None],
     ("2 of 3 image(s) without a position or orientation: ordered by Instance Number",)),
    ({"SliceThickness": 3.0, "FrameIncrementPointer": 0x00181063, "FrameTime": 40.0},  # a cine: one place
     [[-100.0, -100.0, 7.0]] * 3,
     ("3 images share a position with another (echoes, repeats or duplicate files?): each is classified",)),
])
def test_the_frames_of_a_legacy_multi_frame_file_are_placed_along_the_normal(spacing, positions, notes):
    """Without per-frame functional groups, every frame reported frame 0's Image Position (and was 'sharing a
    position'): frame k is k slice spacings further along the normal, or its position is unknown."""
    ds = make_dataset(np.stack([_flat(k) for k in range(3)]), position=7.0, **spacing)
    ds.NumberOfFrames = 3
    (volume,) = read_volumes(to_bytes(ds), name="legacy.dcm")
    assert [s.meta["dicom"].get("image_position") for s in volume.slices] == positions
    derived = [s.meta["dicom"].get("image_position_derived", False) for s in volume.slices]  # said, not hidden
    assert derived == [p is not None and p != [-100.0, -100.0, 7.0] for p in positions]
    frames = [2, 1, 0] if "ImageOrientationPatient" in spacing else [0, 1, 2]
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(_flat(k)[0, 0]) for k in frames]
    assert [s.meta["dicom"].get("slice_location") for s in volume.slices] == [
        7.0 if k == 0 or "FrameTime" in spacing else None for k in frames]
    assert volume.notes == notes


def test_a_localizer_in_the_series_is_left_out_and_said():
    """A sagittal localizer met first set the normal: the axial slices all projected to one value and fell back to
    Instance Number order (superior first), and the localizer was classified as slice 0, without a note."""
    from pydicom.uid import generate_uid

    uid = generate_uid()
    localizer = make_dataset(_flat(9), series_uid=uid, instance=99, position=0.0)
    localizer.ImageOrientationPatient, localizer.ImagePositionPatient = [0, 1, 0, 0, 0, -1], [0.0, -100.0, 100.0]
    files = [("A_LOC", to_bytes(localizer))] + [
        (f"IM{k}", make_dicom(_flat(k), series_uid=uid, instance=10 - k, position=5.0 * k)) for k in range(4)]
    (volume,) = read_volumes(zip_bytes(files), name="s.zip")
    assert _z(volume) == [0.0, 5.0, 10.0, 15.0]
    assert "left out 1 image(s) facing another way than the series' 4 (a localizer?)" in volume.notes


@pytest.mark.parametrize(("other", "n_other", "image_type"), [
    ([0, 1, 0, 0, 0, -1], 1, ["ORIGINAL", "PRIMARY", "LOCALIZER"]),  # a sagittal localizer, said so
    ([1, 0, 0, 0, 0, -1], 1, None),  # a coronal image, unmarked: axial wins the tie
    ([0, 1, 0, 0, 0, -1], 2, ["DERIVED", "SECONDARY", "LOCALIZER"]),  # more images, but all localizers
])
def test_a_localizer_listed_first_does_not_take_a_one_slice_series(other, n_other, image_type):
    """One axial image and one localizer: the tie went to the first listed, the localizer, and the axial image (the
    scan) was left out as 'a localizer?'."""
    from pydicom.uid import generate_uid

    uid, files = generate_uid(), []
    for k in range(n_other):
        extra = {"ImageType": image_type} if image_type else {}
        ds = make_dataset(_flat(9), series_uid=uid, instance=k + 1, position=0.0, **extra)
        ds.ImageOrientationPatient, ds.ImagePositionPatient = other, [10.0 * k, -100.0, 100.0]
        files.append((f"A{k}", to_bytes(ds)))
    files.append(("B", make_dicom(_flat(3), series_uid=uid, instance=9, position=0.0)))
    (volume,) = read_volumes(zip_bytes(files), name="s.zip")
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(_flat(3)[0, 0])]
    assert f"left out {n_other} image(s) facing another way than the series' 1 (a localizer?)" in volume.notes


@pytest.mark.parametrize("n_scans", [3, 0])
def test_a_localizer_in_the_series_plane_is_left_out_unless_alone(n_scans):
    """An axial scout filed in an axial series was sorted in among its slices and classified as one of them."""
    from pydicom.uid import generate_uid

    uid = generate_uid()
    scout = make_dataset(_flat(9), series_uid=uid, instance=1, position=2.5,
                         ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"])
    files = [("A_SCOUT", to_bytes(scout))] + [
        (f"IM{k}", make_dicom(_flat(k), series_uid=uid, instance=k + 2, position=5.0 * k)) for k in range(n_scans)]
    (volume,) = read_volumes(zip_bytes(files) if n_scans else to_bytes(scout), name="s.zip" if n_scans else "s.dcm")
    expected = [_flat(k) for k in range(n_scans)] or [_flat(9)]  # a scout on its own is still read
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(f[0, 0]) for f in expected]
    said = "left out 1 image(s) marked LOCALIZER in the series' plane"
    assert (said in volume.notes) == bool(n_scans)


def test_images_that_share_a_position_are_said():
    """Two echoes per position were interleaved and counted as slices without a word."""
    from pydicom.uid import generate_uid

    uid = generate_uid()
    files = [(f"E{e}_{k}", make_dicom(_flat(k), series_uid=uid, instance=k + 1 + 3 * (e - 1), position=5.0 * k,
                                      EchoNumbers=e)) for e in (1, 2) for k in range(3)]
    (volume,) = read_volumes(zip_bytes(files), name="e.zip")
    assert _z(volume) == [0.0, 0.0, 5.0, 5.0, 10.0, 10.0]
    assert ("6 images share a position with another (echoes, repeats or duplicate files?): each is classified"
            in volume.notes)


def test_without_positions_files_go_by_instance_number_then_name_in_natural_order_and_it_is_said():
    """IM1, IM10, IM11, IM2 ...: names were compared as text; a series partly without positions switched to
    Instance Number order without a note."""
    from pydicom.uid import generate_uid

    uid = generate_uid()
    files = [(f"IM{k}", make_dicom(_flat(k), series_uid=uid, InstanceNumber=None)) for k in (1, 10, 11, 2, 3)]
    (volume,) = read_volumes(zip_bytes(files), name="n.zip")
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(_flat(k)[0, 0]) for k in (1, 2, 3, 10, 11)]
    assert "5 of 5 image(s) without a position or orientation: ordered by Instance Number" in volume.notes


def test_nifti_notes_what_its_header_leaves_open_and_nan_is_background():
    """Codes 0 (orientation guessed as LAS), an oblique affine (snapped to the axes) and NaN voxels (read as 0: a
    mid-gray background in z-scored data) were all silent."""
    import nibabel as nib

    rng = np.random.default_rng(0)
    data = rng.normal(size=(48, 48, 3)).astype(np.float32)
    data[:8] = np.nan  # outside a mask
    (volume,) = read_volumes(nib.Nifti1Image(data, None).to_bytes(), name="z.nii")  # no affine: codes 0
    assert any(n.startswith("the header names no orientation (qform and sform codes 0)") for n in volume.notes)
    assert (volume.slices[0].pixels == 0).sum() >= 8 * 48  # the NaN voxels: black, not the z-scores' 0 (mid-gray)
    tilted = np.eye(4)
    c, s = np.cos(np.radians(20)), np.sin(np.radians(20))
    tilted[:3, :3] = [[1, 0, 0], [0, c, -s], [0, s, c]]
    (volume,) = read_volumes(nib.Nifti1Image(np.nan_to_num(data), tilted).to_bytes(), name="o.nii")
    assert "an oblique volume (20 degrees off the axes): slices follow the nearest axes, not resampled" in volume.notes
    (plain,) = read_volumes(nib.Nifti1Image(np.nan_to_num(data), np.eye(4)).to_bytes(), name="p.nii")
    assert plain.notes == ()


def test_a_deflated_dicom_is_refused_before_pydicom_inflates_it():
    """pydicom inflates a Deflated dataset without any limit: 1 MB became 3 GB in a web worker."""
    from pydicom.uid import DeflatedExplicitVRLittleEndian

    ds = make_dataset(_flat(1))
    ds.file_meta.TransferSyntaxUID = DeflatedExplicitVRLittleEndian
    with pytest.raises(ImageError, match=r"^DICOM file uses the Deflated transfer syntax, which is not read"):
        read_volumes(to_bytes(ds), name="d.dcm")


def test_zip_entries_that_share_their_data_are_refused():
    """One 1 MB member listed 4 times: each entry was read and parsed again (12 GB for a deflated DICOM)."""
    import struct
    import zlib

    payload, name = make_dicom(_flat(1)), b"a.dcm"
    crc = zlib.crc32(payload)
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, len(payload), len(payload),
                        len(name), 0) + name + payload
    central = b"".join(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, len(payload),
                                   len(payload), len(name), 0, 0, 0, 0, 0, 0) + name for _ in range(4))
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 4, 4, len(central), len(local), 0)
    with pytest.raises(ImageError, match=r"overlapping entries: a zip bomb"):
        read_volumes(local + central + end, name="o.zip")


def test_a_multi_frame_file_with_a_bad_frame_costs_all_its_frames_as_its_note_says():
    """Frames before the bad one were kept and those after dropped, while the note said '1 file skipped'."""
    import io as _io

    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit, generate_uid

    def jpeg(k: int) -> bytes:
        buf = _io.BytesIO()
        Image.fromarray(_flat(k)).save(buf, format="JPEG", quality=95)
        return buf.getvalue()

    uid = generate_uid()
    multi = make_dataset(np.stack([_flat(k) for k in range(4)]), series_uid=uid, instance=1, position=0.0)
    multi.NumberOfFrames = 4
    multi.PixelData = encapsulate([jpeg(0), jpeg(1), b"\xff\xd8 not a jpeg", jpeg(3)])
    multi["PixelData"].VR = "OB"
    multi.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    files = [("multi", to_bytes(multi)), ("one", make_dicom(_flat(5), series_uid=uid, instance=2, position=50.0))]
    (volume,) = read_volumes(zip_bytes(files), name="m.zip")
    assert len(volume.slices) == 1 and int(volume.slices[0].pixels[0, 0]) == int(_flat(5)[0, 0])
    assert any(n.startswith("skipped 1 file(s) of this series: DICOM pixel data") for n in volume.notes)


def test_squaring_pixels_never_multiplies_them_past_twice_the_declared():
    """PixelSpacing 0.00017 x 1 mm turned a 64 x 64 slice into 64 x 376 471 pixels: 40 such files of 188 kB were
    a gigabyte, past any budget checked on the headers."""
    from braintumor.volume_io import square_pixels

    gray = _flat(3)
    assert square_pixels(gray, 1.0, 0.5).shape == (128, 64)  # mild: the coarse axis is split, as before
    assert square_pixels(gray, 1.0, 0.00017).shape == (64, 1)  # extreme: the fine axis is merged
    assert square_pixels(gray, 0.7, 0.7).shape == (64, 64)


def test_near_equal_orientations_are_one_series_not_a_localizer():
    """Normals rounded to 3 decimals split slices whose orientations differed by 2e-6 across a rounding boundary:
    half the series was 'left out ... (a localizer?)'."""
    from pydicom.uid import generate_uid

    uid, files = generate_uid(), []
    for k in range(6):
        ds = make_dataset(_flat(k), series_uid=uid, instance=k + 1, position=5.0 * k)
        tilt = 0.0005 + (1e-6 if k % 2 else -1e-6)  # straddles 0.0005, where rounding to 3 decimals flips
        ds.ImageOrientationPatient = [1, 0, 0, 0, float(np.cos(tilt)), float(np.sin(tilt))]
        files.append((f"IM{k}", to_bytes(ds)))
    (volume,) = read_volumes(zip_bytes(files), name="t.zip")
    assert len(volume.slices) == 6 and not any("facing another way" in n for n in volume.notes)


def test_a_zip_of_nifti_and_dicom_says_its_limit_as_the_zips():
    """A 10-slice NIfTI and 3 DICOM files under a 10-slice limit: 'DICOM file has 1 frames; the limit is 0'."""
    from pydicom.uid import generate_uid

    uid = generate_uid()
    members = [("head.nii.gz", nifti_bytes(axial_volume([_flat(k) for k in range(10)])))]
    members += [(f"IM{k}", make_dicom(_flat(k), series_uid=uid, instance=k + 1, position=5.0 * k)) for k in range(3)]
    with pytest.raises(ImageError, match=r"^the zip's DICOM files are past what its NIfTI members \(10 slices\) left "
                                         r"of the input's limits \(10 slices"):
        read_volumes(zip_bytes(members), name="mixed.zip", max_slices=10)
    assert len(read_volumes(zip_bytes(members), name="mixed.zip", max_slices=13)) == 2
