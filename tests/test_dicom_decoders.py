"""Compressed DICOM pixel data: which of pydicom's bundled compressed files decode here, against reference values, and
the precise refusals of those that cannot."""

from __future__ import annotations

import io

import numpy as np
import pytest
from dicom_factory import gdcm_encoded, jpeg_baseline, make_dataset, pydicom_file, to_bytes

from braintumor.volume_io import read_volumes


def _bundled(name: str):
    path = pydicom_file(name)
    if path is None:
        pytest.skip(f"pydicom's wheel does not ship {name}")
    return path


def _gdcm_jpeg12(pixels: np.ndarray, tmp_path) -> bytes:
    """``pixels`` (12-bit values in uint16) as a JPEG Extended (Process 2 and 4) DICOM, encoded by GDCM."""
    pytest.importorskip("gdcm")
    return gdcm_encoded(pixels, "JPEGExtendedProcess2_4", tmp_path, bits=12)


@pytest.mark.parametrize("name", ["JPGExtended.dcm", "JPEG-lossy.dcm"])
def test_12_bit_jpeg_extended_decodes_to_the_reference_values(name, capfd):
    """pydicom's GDCM plugin refuses 12-bit JPEG Extended and Pillow cannot read it: both files were "could not be
    decoded (RuntimeError)". GDCM decodes them to pydicom's reference values (its tests' pixels_reference.py), and
    quietly: its 8-bit libjpeg tried first wrote "Unsupported JPEG data precision 12" on stderr."""
    import pydicom

    import braintumor.dicom_io  # noqa: F401  (registers the decoder)

    arr = pydicom.dcmread(_bundled(name)).pixel_array
    assert arr.shape == (1024, 256) and arr[420, 140] == 244 and arr[230, 120] == 95
    (volume,) = read_volumes(_bundled(name))
    assert len(volume.slices) == 1 and volume.slices[0].pixels.std() > 10
    assert "precision" not in capfd.readouterr().err


def test_a_12_bit_jpeg_extended_slice_comes_back_within_its_loss(tmp_path, capfd):
    """A 12-bit ramp through GDCM's JPEG Extended encoder (which writes a 16-bit precision stream for 16 bits
    allocated) and back: the stored values, quietly (its 12-bit libjpeg tried first wrote "Unsupported JPEG data
    precision 16" on stderr)."""
    import pydicom

    import braintumor.dicom_io  # noqa: F401

    y, x = np.mgrid[0:48, 0:64]
    pixels = (x * 60 + y * 5).astype(np.uint16)  # 0..3955
    ds = pydicom.dcmread(__import__("io").BytesIO(_gdcm_jpeg12(pixels, tmp_path)))
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.JPEGExtended12Bit and ds.BitsStored == 12
    decoded = ds.pixel_array.astype(int)
    assert decoded.shape == pixels.shape and np.abs(decoded - pixels).mean() < 8 and decoded.max() > 3800
    (volume,) = read_volumes(to_bytes(ds), name="x.dcm")
    assert volume.slices[0].pixels.shape == (48, 64)
    assert "precision" not in capfd.readouterr().err


def _j2k_dicom(width: int, height: int) -> bytes:
    """A 32 x 24 JPEG 2000 DICOM (Pillow's encoder) whose codestream's SIZ says ``width`` x ``height``."""
    import io

    from PIL import Image
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEG2000Lossless

    pixels = (np.arange(24 * 32).reshape(24, 32) % 251).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, format="JPEG2000", irreversible=False, no_jp2=True)
    stream = bytearray(buf.getvalue())
    assert stream[:4] == b"\xff\x4f\xff\x51"
    stream[8:12], stream[12:16] = width.to_bytes(4, "big"), height.to_bytes(4, "big")  # Xsiz, Ysiz
    ds = make_dataset(pixels)
    ds.PixelData = encapsulate([bytes(stream)])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEG2000Lossless
    return to_bytes(ds)


def test_a_jpeg_2000_codestream_of_another_size_than_the_header_is_refused_by_name(capfd):
    """A codestream saying 3 722 445 056 x 1024 pixels in a 256 x 1024 header (pydicom's
    JPEG2000-embedded-sequence-delimiter.dcm: a sequence delimiter's bytes written over its SIZ) was "could not be
    decoded (RuntimeError)", after OpenJPEG's "Invalid number of tiles" on stderr and Pillow's refusal of 3.8 T pixels.
    Refused before any decoder sees it, its sizes said; a consistent one still decodes."""
    from braintumor.image_io import ImageError

    with pytest.raises(ImageError, match=r"^DICOM JPEG 2000 pixel data is 3722445056x1024 pixels where its header "
                                         r"says 256x1024: damaged, not decoded$"):
        read_volumes(_bundled("JPEG2000-embedded-sequence-delimiter.dcm"))
    with pytest.raises(ImageError, match=r"is 4000000x24 pixels where its header says 32x24"):
        read_volumes(_j2k_dicom(4_000_000, 24), name="x.dcm")
    assert capfd.readouterr().err == ""
    (volume,) = read_volumes(_j2k_dicom(32, 24), name="x.dcm")
    assert volume.slices[0].pixels.shape == (24, 32)


def test_undecodable_pixel_data_says_which_decoders_failed_and_what_to_do():
    """Pixel data every installed decoder fails on was "... corrupt, or a variant the installed decoders do not
    support (RuntimeError)": the exception's class, nothing a user can act on. Now the decoders tried are named, with
    the ones pydicom knows that are not installed, and the way out (an uncompressed export)."""
    from dicom_factory import jpeg_baseline

    from braintumor.image_io import ImageError

    gray = np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))
    good = jpeg_baseline(gray)
    start = good.index(b"\xff\xd8\xff")  # the first marker segment's length made absurd
    damaged = good[:start + 4] + b"\xff\xff" + good[start + 6:]
    with pytest.raises(ImageError) as caught:
        read_volumes(damaged, name="b.dcm")
    message = str(caught.value)
    assert message.startswith("DICOM pixel data (JPEG Baseline (Process 1)) could not be decoded by GDCM or Pillow: "
                              "damaged, or a variant they do not read"), message
    assert "pylibjpeg-libjpeg" in message and "gdcmconv --raw" in message and "Error)" not in message


def test_a_syntax_no_installed_decoder_reads_names_the_packages_that_would():
    """HTJ2K: "which this installation cannot decode (JPEG, ... are supported)"; now also what would decode it."""
    from pydicom.encaps import encapsulate
    from pydicom.uid import HTJ2K

    from braintumor.image_io import ImageError

    ds = make_dataset(np.zeros((8, 8), np.uint8))
    ds.PixelData = encapsulate([b"\xff\x4f\xff\x51" + bytes(64)])
    ds.file_meta.TransferSyntaxUID = HTJ2K
    with pytest.raises(ImageError, match=r"^DICOM pixel data is compressed with High-Throughput JPEG 2000 Image "
                                         r"Compression, which this installation cannot decode \(it reads JPEG, .*\): "
                                         r"installing pylibjpeg>=2.0 and pylibjpeg-openjpeg>=2.0 would let it, or "
                                         r"export the file uncompressed \(e.g. gdcmconv --raw in.dcm out.dcm\)"):
        read_volumes(to_bytes(ds), name="x.dcm")


def _progressive_jpeg_dicom(side: int, extra_scans: int) -> bytes:
    """A JPEG Baseline DICOM of a progressive JPEG (Pillow's) with ``extra_scans`` more DC scans of 4 bytes each."""
    import io

    from PIL import Image
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    gray = np.random.default_rng(0).integers(0, 255, (side, side)).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="JPEG", progressive=True, quality=50)
    stream = buf.getvalue()
    first = stream.index(b"\xff\xda")
    second = stream.index(b"\xff\xda", first + 2)
    extra = stream[first:first + 2 + int.from_bytes(stream[first + 2:first + 4], "big")] + bytes(4)
    ds = make_dataset(gray)
    ds.PixelData = encapsulate([stream[:second] + extra * extra_scans + stream[second:]])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    return to_bytes(ds)


def test_a_jpeg_of_thousands_of_scans_is_refused_before_decoding():
    """Each scan of a progressive JPEG is a pass over the whole image in libjpeg (GDCM's, then Pillow's): 5 000 empty
    scans, 90 kB, cost 6.4 s on a 2048 x 2048 slice, and a 1 MB upload of a 6000 x 6000 one would cost ~10 minutes.
    DICOM's JPEG processes are sequential (a scan or three per frame); a progressive stream's ten or so still decode."""
    from braintumor.image_io import ImageError

    (volume,) = read_volumes(_progressive_jpeg_dicom(64, 0), name="x.dcm")
    assert volume.slices[0].pixels.shape == (64, 64)
    with pytest.raises(ImageError, match=r"^DICOM JPEG pixel data holds 1,006 scans for 1 frame: over 100 a "
                                         r"frame \(a sequential JPEG has one per component\), not decoded"):
        read_volumes(_progressive_jpeg_dicom(64, 1000), name="x.dcm")


def test_one_decoder_that_fails_is_named_as_one():
    """RLE's only decoder here is pydicom's own: "could not be decoded by pydicom: ..., a variant they do not read"."""
    import struct

    from pydicom.encaps import encapsulate
    from pydicom.uid import RLELossless

    from braintumor.image_io import ImageError

    ds = make_dataset(np.zeros((64, 64), np.uint8))
    ds.PixelData = encapsulate([struct.pack("<16L", 1, 64, *([0] * 14)) + b"\x80" * 64])  # no-op runs: no pixels
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = RLELossless
    with pytest.raises(ImageError, match=r"^DICOM pixel data \(RLE Lossless\) could not be decoded by pydicom: "
                                         r"damaged, or a variant it does not read; pylibjpeg>=2.0 and "
                                         r"pylibjpeg-rle>=2.0 \(not installed\) might read it, or"):
        read_volumes(to_bytes(ds), name="x.dcm")


@pytest.mark.parametrize(("width", "height"), [(448, 448), (32, 64), (65000, 65000)])
def test_a_jpeg_frame_of_another_size_than_the_header_is_refused_by_its_sizes(width, height):
    """A JPEG frame header (SOF) of another size than Rows x Columns never decoded ("could not be decoded
    (ValueError)" or "(RuntimeError)"): refused before decoding, both sizes said, as JPEG-LS's and JPEG 2000's are."""
    from dicom_factory import jpeg_baseline

    from braintumor.image_io import ImageError

    data = bytearray(jpeg_baseline(np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))))
    at = data.index(b"\xff\xc0")
    data[at + 5:at + 7], data[at + 7:at + 9] = height.to_bytes(2, "big"), width.to_bytes(2, "big")
    with pytest.raises(ImageError, match=rf"^DICOM JPEG pixel data is {width}x{height} pixels where its header says "
                                         r"64x64: damaged, not decoded$"):
        read_volumes(bytes(data), name="x.dcm")


def test_junk_the_decoders_skip_does_not_hide_a_fake_frame_header_from_the_jpeg_checks():
    """FF 00 between segments is junk to libjpeg and Pillow, but the frame-header walk took it for a segment with a
    length and jumped onto a 1x1 frame header hidden in an APP1 segment the decoders skip: a 64x64 DICOM JPEG was
    refused as "1x1 pixels where its header says 64x64" (and a refused JPEG file's words came from the fake frame).
    The walk stops there now, and the header check names the stray bytes."""
    from PIL import Image

    from braintumor.image_headers import jpeg_frame
    from braintumor.image_io import ImageError

    gray = np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="JPEG")
    real = buf.getvalue()
    fake_sof = b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"  # 1x1; to the decoders, APP1's length
    crafted = real[:2] + b"\xff\x00\x00\x04" + b"\xff\xe1" + fake_sof + bytes(0xFFC0 - 2 - len(fake_sof)) + real[2:]
    assert jpeg_frame(real) == (8, 64, 64, 1)
    assert jpeg_frame(crafted) is None
    with pytest.raises(ImageError, match=r"^DICOM JPEG pixel data has 4 stray bytes before its 0xe1 marker"):
        read_volumes(_jpeg_dicom(gray, crafted), name="x.dcm")


def _jpeg_dicom(gray: np.ndarray, stream: bytes) -> bytes:
    """A DICOM of ``gray``'s size whose one JPEG Baseline frame is ``stream``, as it is."""
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    ds = make_dataset(gray)
    ds.PixelData = encapsulate([stream])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    return to_bytes(ds)


def test_an_end_marker_before_the_first_scan_ends_the_jpeg_walks(capfd):
    """EOI (FF D9) has no length, as SOI and RSTn have none, and libjpeg reads nothing past it; the walks took it for
    a segment, read the two bytes after it as a length and jumped onto a frame header no decoder reads: a 32x32 one
    made a 64x64 DICOM JPEG "32x32 pixels where its header says 64x64", a 12-bit one made a JPEG file "a JPEG file whose
    header is damaged: ... 12-bit samples", and a plain EOI there made GDCM print "JPEG datastream contains no image" on
    stderr ("missing SOS marker" after the frame header). The walks stop at it: no frame header; the DICOM frame is
    refused by name."""
    from PIL import Image

    from braintumor.image_headers import jpeg_frame
    from braintumor.image_io import ImageError, read_image

    gray = np.tile(np.arange(64, dtype=np.uint8) * 4, (64, 1))
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="JPEG")
    real = buf.getvalue()

    def fake_sof(bits: int, side: int) -> bytes:  # right after EOI's "length" of 2
        return b"\xff\xc0\x00\x0b" + bytes([bits]) + side.to_bytes(2, "big") * 2 + b"\x01\x01\x11\x00"

    eoi = real[:2] + b"\xff\xd9\x00\x02"
    for crafted in (eoi + fake_sof(8, 32) + real[2:], real[:2] + b"\xff\xd9" + real[2:], real[:2] + b"\xff\xd9"):
        assert jpeg_frame(crafted) is None
        with pytest.raises(ImageError, match=r"^DICOM JPEG pixel data ends \(an EOI marker\) before its frame header: "
                                             r"damaged, not decoded$"):
            read_volumes(_jpeg_dicom(gray, crafted), name="x.dcm")
    no_scan = real[:real.index(b"\xff\xda")] + b"\xff\xd9" + real[real.index(b"\xff\xda"):]
    assert jpeg_frame(no_scan) == (8, 64, 64, 1)
    with pytest.raises(ImageError, match=r"^DICOM JPEG pixel data ends \(an EOI marker\) before its first scan: "
                                         r"damaged, not decoded$"):
        read_volumes(_jpeg_dicom(gray, no_scan), name="x.dcm")
    with pytest.raises(ImageError, match=r"^a JPEG file whose header cannot be read"):  # Pillow's word, not the walk's
        read_image(eoi + fake_sof(12, 64) + real[2:])
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("case", ["JPEG-lossy.dcm", "8-bit baseline"])
def test_a_sequential_scan_header_gdcm_complains_of_is_read_with_nothing_on_stderr_as_in_the_web_server(case, capfd):
    """GDCM's libjpeg wrote "Invalid SOS parameters for sequential JPEG" on fd 2 for a sequential scan whose header
    says Se 0 (pydicom's 12-bit JPEG-lossy.dcm; an 8-bit baseline one likewise), where the web server, whose stderr is
    not its own, cannot drop it: each upload of one added the line to its log. The scan header is set to the standard's
    values before decoding, and the pixels are those GDCM decodes from the file as stored (and Pillow, tried first)."""
    import pydicom
    from pydicom.pixels import pixel_array

    import braintumor.dicom_io  # noqa: F401  (registers the 12-bit decoder)
    from braintumor.dicom_codestreams import sequential_scans
    from braintumor.dicom_jpeg12 import LABEL as JPEG12_LABEL
    from braintumor.quiet_libraries import decoders_quiet

    pytest.importorskip("gdcm")
    if case == "8-bit baseline":
        stored = bytearray(jpeg_baseline(np.random.default_rng(0).integers(0, 255, (64, 64)).astype(np.uint8)))
        at = stored.index(b"\xff\xda")
        stored[at + 5 + 2 * stored[at + 4] + 1] = 0  # Se 0, as JPEG-lossy.dcm's
        data = bytes(stored)
    else:
        data = _bundled(case).read_bytes()
    gdcm = "gdcm" if case == "8-bit baseline" else JPEG12_LABEL  # (Pillow, tried first, is quiet on it)
    as_stored = pixel_array(io.BytesIO(data), decoding_plugin=gdcm)  # GDCM on the file as it is: its line, once
    assert "Invalid SOS parameters for sequential JPEG" in capfd.readouterr().err
    with decoders_quiet(None):  # as in a Python caller's process: nothing of the decoders' silenced
        (volume,) = read_volumes(data, name="x.dcm")
    assert len(volume.slices) == 1 and capfd.readouterr().err == ""
    ds = pydicom.dcmread(io.BytesIO(data))
    sequential_scans(ds, ds.file_meta.TransferSyntaxUID)
    assert np.array_equal(ds.pixel_array, as_stored)


def test_a_restart_interval_defined_between_scans_counts_as_one_in_the_header_does():
    """A DRI segment may come before any scan, not only in the header: after it libjpeg passes over a reserved marker
    code in the coded data while it looks for a restart marker, so it is not refused; without it, it is."""
    from PIL import Image

    from braintumor.jpeg_markers import jpeg_header_problem

    out = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64)).astype(np.uint8)).save(
        out, format="JPEG", progressive=True)  # several scans, no restart intervals
    data = bytearray(out.getvalue())
    second = data.index(b"\xff\xda", data.index(b"\xff\xda") + 2)  # the second scan's header
    at = second + 2 + int.from_bytes(data[second + 2:second + 4], "big") + 4  # inside its coded data
    assert data[at - 1] != 0xFF
    data[at:at + 2] = b"\xff\x4f"  # a reserved code
    assert jpeg_header_problem(bytes(data)).startswith("DICOM JPEG pixel data holds a 0x4f marker inside its coded")
    with_dri = data[:second] + b"\xff\xdd\x00\x04\x00\x04" + data[second:]  # restart every 4 MCUs from this scan on
    assert b"\xff\xdd" not in data
    assert jpeg_header_problem(bytes(with_dri)) is None
