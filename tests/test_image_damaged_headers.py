"""Hand-made damaged headers of the 2-D formats (negative or zero sizes, ...): each is refused saying what its header
holds that is wrong, never as too large, as no image at all, or with a traceback."""

from __future__ import annotations

import re
import struct
import zlib

import numpy as np
import pytest
from conftest import encode, synthetic_head

from braintumor.image_io import TRUNCATED, ImageError, read_image


def _bmp(width: int = 64, height: int = 64, header: int = 40, **fields: int) -> bytes:
    """A good 64 x 64 8-bit BMP (Pillow's, BITMAPINFOHEADER; ``header`` 12: OS/2's) declaring ``width`` x ``height``,
    and the info header's ``size``, ``bits``, ``compression`` or ``colours`` where given."""
    data = bytearray(encode(synthetic_head(64), "BMP"))
    for name, value in fields.items():
        at, fmt = {"size": (14, "<I"), "bits": (28, "<H"), "compression": (30, "<I"), "colours": (46, "<I")}[name]
        struct.pack_into(fmt, data, at, value)
    if header == 12:  # the same pixels under a 12-byte core header: sizes unsigned 16-bit, a palette of 3-byte entries
        palette = b"".join(data[54 + 4 * i:57 + 4 * i] for i in range(256))
        core = struct.pack("<IHHHH", 12, width, height, 1, 8)
        pixels = data[struct.unpack_from("<I", data, 10)[0]:]
        return b"BM" + struct.pack("<IHHI", 26 + len(palette) + len(pixels), 0, 0, 26 + len(palette)) + core \
            + palette + pixels
    struct.pack_into("<ii", data, 18, width, height)
    return bytes(data)


def test_the_hand_made_bmps_are_read_as_declared():
    """The BMPs themselves are right: as written, and top-down (a negative height, rows stored top to bottom)."""
    want = read_image(encode(synthetic_head(64), "BMP"))
    assert np.array_equal(read_image(_bmp(64, 64)), want)
    assert np.array_equal(read_image(_bmp(64, -64)), want[::-1])
    assert np.array_equal(read_image(_bmp(64, 64, header=12)), want)


@pytest.mark.parametrize(("data", "said"), [
    (_bmp(-64, 64), "a width of -64 pixels (it must be positive)"),
    (_bmp(-64, -64), "a width of -64 pixels (it must be positive)"),
    (_bmp(-(2 ** 31), 64), "a width of -2,147,483,648 pixels (it must be positive)"),
    (_bmp(0, 64), "a width of 0 pixels (it must be positive)"),
    (_bmp(64, 0), "a height of 0 pixels (it must not be 0: negative for rows stored top-down)"),
    (_bmp(0, 64, header=12), "a width of 0 pixels (it must be positive)"),
], ids=["negative-width", "negative-both", "most-negative-width", "zero-width", "zero-height", "os2-zero-width"])
def test_a_bmp_of_no_width_or_height_is_said_to_have_a_damaged_header(data, said):
    """Pillow reads a BMP's width unsigned: -64 was 4,294,967,232 pixels wide, and the file "image is too large to
    decode safely"; a width or height of 0 was "not a recognised image". Both are a damaged header."""
    with pytest.raises(ImageError, match=f"^a BMP file whose header is damaged: it declares {re.escape(said)}$"):
        read_image(data)


@pytest.mark.parametrize(("data", "said"), [
    (_bmp(bits=12), "a BMP file whose header is damaged: it declares 12 bits per pixel (a BMP's are 1, 4, 8, 16, 24 "
                    "or 32)"),
    (_bmp(colours=70_000), "a BMP file whose header is damaged: it declares a palette of 70,000 colours for 8-bit "
                           "pixels (at most 256)"),
    (_bmp(colours=300), "a BMP file whose header is damaged: it declares a palette of 300 colours for 8-bit pixels "
                        "(at most 256)"),
    (_bmp(size=99), "a BMP file whose header is damaged or of a kind this decoder does not read: its info header is "
                    "99 bytes (it reads 12, 40, 52, 56, 64, 108 and 124)"),
    (_bmp(compression=9), "a BMP file whose header is damaged or of a kind this decoder does not read: it declares "
                          "compression 9 for 8-bit pixels (it reads 0, none; 1, RLE8 of 8-bit pixels; 2, RLE4 of "
                          "4-bit pixels; 3, bitfields of 16-, 24- or 32-bit pixels)"),
    (_bmp(compression=4), "a BMP holding a JPEG image (compression 4), which this decoder does not read: save it as "
                          "PNG, or as an uncompressed BMP"),
], ids=["12-bit", "palette-70000", "palette-300", "header-99-bytes", "compression-9", "jpeg-inside"])
def test_a_bmp_header_pillow_refuses_is_said_in_its_values(data, said):
    """A BMP of 12 bits per pixel, a palette of 70 000 colours or JPEG-compressed pixels was "image data is corrupt or
    truncated (OSError)" (Pillow's words for each, not shown), of a file whose pixels were all there."""
    with pytest.raises(ImageError, match=f"^{re.escape(said)}$"):
        read_image(data)
    with pytest.raises(ImageError, match=f"^{re.escape(TRUNCATED)}$"):
        read_image(_bmp()[:200])  # a good header over pixels cut short: said so


def _gray_tiff(bits: int, photometric: int) -> bytes:
    """A 64 x 64 TIFF of one sample per pixel of ``bits`` bits under PhotometricInterpretation ``photometric``."""
    entries = [(256, 64), (257, 64), (258, bits), (259, 1), (262, photometric), (273, 8 + 2 + 9 * 12 + 4),
               (277, 1), (278, 64), (279, 64 * 64)]
    table = b"".join(struct.pack("<HHLL", tag, 4, 1, value) for tag, value in entries)
    return b"II*\0" + struct.pack("<LH", 8, len(entries)) + table + bytes(4) + bytes(64 * 64)


def _jpeg_of_precision(bits: int, marker: int = 0xC0) -> bytes:
    """Pillow's baseline JPEG whose frame header declares ``bits`` per sample, under ``marker`` (0xC0: baseline)."""
    data = bytearray(encode(synthetic_head(64), "JPEG"))
    at = data.index(b"\xff\xc0")
    data[at + 1], data[at + 4] = marker, bits
    return bytes(data)


@pytest.mark.parametrize("data", [_gray_tiff(8, 9), _gray_tiff(8, 5), _gray_tiff(0, 1), _gray_tiff(255, 1)],
                         ids=["tiff-8-bit-icclab", "tiff-8-bit-cmyk", "tiff-0-bit", "tiff-255-bit"])
def test_a_damaged_header_is_not_told_to_be_a_variant_it_is_not(data):
    """One 8-bit sample under an ICC Lab or CMYK PhotometricInterpretation was "a TIFF of 8-bit unsigned-integer
    grayscale samples, which this decoder does not read: save it as 8- or 16-bit grayscale", and 0 or 255 bits per
    sample "a TIFF of 0-bit ... samples": damaged headers (or a layout not read), said as such; a 7-bit gray TIFF is
    still said to be one (a 0-bit JPEG: test_a_jpeg_precision_its_process_does_not_allow_is_a_damaged_header)."""
    with pytest.raises(ImageError, match=r"^a TIFF file whose header cannot be read: damaged, truncated, or a TIFF "
                                         r"variant this decoder does not support$"):
        read_image(data)
    assert read_image(_gray_tiff(8, 1)).shape == (64, 64)  # the hand-made TIFF itself is right: read as 8-bit gray
    with pytest.raises(ImageError, match=r"^a TIFF of 7-bit unsigned-integer grayscale samples, which this "):
        read_image(_gray_tiff(7, 1))


def _png(width: int = 64, height: int = 64, **fields: int) -> bytes:
    """A good 64 x 64 8-bit gray PNG (Pillow's) declaring ``width`` x ``height`` and the IHDR's ``bits``, ``colour``,
    ``filtering`` or ``interlace`` where given, its checksum made right again (a wrong one is another damage)."""
    data = bytearray(encode(synthetic_head(64), "PNG"))
    struct.pack_into(">II", data, 16, width, height)
    for name, value in fields.items():
        data[{"bits": 24, "colour": 25, "filtering": 27, "interlace": 28}[name]] = value
    struct.pack_into(">I", data, 29, zlib.crc32(bytes(data[12:29])))
    return bytes(data)


@pytest.mark.parametrize(("data", "said"), [
    (_png(0, 64), "a width of 0 pixels (it must be 1 to 2,147,483,647)"),
    (_png(64, 0), "a height of 0 pixels (it must be 1 to 2,147,483,647)"),
    (_png(2 ** 31, 64), "a width of 2,147,483,648 pixels (it must be 1 to 2,147,483,647)"),
    (_png(bits=3), "a bit depth of 3 for colour type 0, gray (it allows 1, 2, 4, 8 or 16)"),
    (_png(bits=4, colour=2), "a bit depth of 4 for colour type 2, RGB (it allows 8 or 16)"),
    (_png(bits=16, colour=3), "a bit depth of 16 for colour type 3, palette (it allows 1, 2, 4 or 8)"),
    (_png(colour=5), "colour type 5 (a PNG's are 0, gray; 2, RGB; 3, palette; 4, gray + alpha; 6, RGB + alpha)"),
    (_png(filtering=1), "filter method 1 (a PNG's is 0)"),
    (_png(interlace=2), "interlace method 2 (a PNG's is 0, none, or 1, Adam7)"),
], ids=["zero-width", "zero-height", "width-2^31", "gray-3-bit", "rgb-4-bit", "palette-16-bit", "colour-type-5",
        "filter-1", "interlace-2"])
def test_a_png_header_pillow_refuses_is_said_in_its_values(data, said):
    """A PNG of width 0, 3-bit gray or colour type 5 was "a PNG file whose header cannot be read: damaged, truncated, or
    a PNG variant this decoder does not support", a width over PNG's 2**31 - 1 "image is 2147483648x64 pixels" and
    interlace method 2 "image data is corrupt or truncated (OSError)": each a damaged header, said in its values."""
    assert read_image(_png()).shape == (64, 64)  # the hand-made PNG itself is right
    with pytest.raises(ImageError, match=f"^a PNG file whose header is damaged: it declares {re.escape(said)}$"):
        read_image(data)
    with pytest.raises(ImageError, match=f"^{re.escape(TRUNCATED)}$"):
        read_image(_png()[:200])  # a good header over pixels cut short: said so


@pytest.mark.parametrize(("data", "said"), [
    (_jpeg_of_precision(16), "its baseline frame (SOF0) declares 16-bit samples (it allows 8)"),
    (_jpeg_of_precision(12), "its baseline frame (SOF0) declares 12-bit samples (it allows 8)"),
    (_jpeg_of_precision(0), "its baseline frame (SOF0) declares 0-bit samples (it allows 8)"),
    (_jpeg_of_precision(16, 0xC2), "its DCT frame (SOF2) declares 16-bit samples (it allows 8 or 12)"),
    (_jpeg_of_precision(255, 0xC3), "its lossless frame (SOF3) declares 255-bit samples (it allows 2 to 16)"),
], ids=["baseline-16-bit", "baseline-12-bit", "baseline-0-bit", "progressive-16-bit", "lossless-255-bit"])
def test_a_jpeg_precision_its_process_does_not_allow_is_a_damaged_header(data, said):
    """A baseline JPEG allows 8-bit samples only: one declaring 16 (or 12) was "a 16-bit JPEG (as DICOM stores deeper
    slices), which this decoder does not read", and 0 bits "damaged, truncated, or a JPEG variant". A deeper JPEG of a
    process that allows it (DICOM's 12-bit extended, 16-bit lossless) is still said to be one."""
    with pytest.raises(ImageError, match=f"^a JPEG file whose header is damaged: {re.escape(said)}$"):
        read_image(data)
    for bits, marker in ((12, 0xC1), (16, 0xC3)):
        with pytest.raises(ImageError, match=f"^a {bits}-bit JPEG \\(as DICOM stores deeper slices\\)"):
            read_image(_jpeg_of_precision(bits, marker))


def test_a_12_bit_dicom_frame_saved_as_a_jpeg_is_said_to_be_one():
    """pydicom's JPEG-lossy.dcm's frame (JPEG Extended, SOF1, 12 bits), as a user saves it as .jpg: a deeper JPEG,
    not a damaged one."""
    pydicom = pytest.importorskip("pydicom")
    from pydicom.data import get_testdata_file
    from pydicom.encaps import generate_fragmented_frames

    ds = pydicom.dcmread(get_testdata_file("JPEG-lossy.dcm"))
    frame = b"".join(next(generate_fragmented_frames(ds.PixelData)))
    with pytest.raises(ImageError, match=r"^a 12-bit JPEG \(as DICOM stores deeper slices\), which this decoder "):
        read_image(frame)


@pytest.mark.parametrize(("before", "said"), [(b"\xff\xc0", "frame header"), (b"\xff\xda", "first scan")],
                         ids=["before-its-frame", "before-its-scan"])
def test_a_jpeg_whose_end_marker_comes_before_its_image_says_so(before, said):
    """An EOI marker before a JPEG file's frame header (or its first scan): Pillow opens it, reading past the EOI,
    and libjpeg, which reads nothing after it, fails; the file was "image data could not be decoded", where a DICOM
    frame or a TIFF strip so damaged is told by name (jpeg_markers). A decode that fails walks the file's segments."""
    data = encode(synthetic_head(64), "JPEG")
    at = data.index(before)
    with pytest.raises(ImageError, match=rf"^JPEG file ends \(an EOI marker\) before its {said}: damaged, not "
                                         r"decoded$"):
        read_image(data[:at] + b"\xff\xd9" + data[at:])
