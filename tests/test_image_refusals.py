"""Every bad image input ends in an ImageError with a clear message, never a crash or a hang."""

from __future__ import annotations

import os
import re
import struct
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import encode, synthetic_head
from PIL import Image

from braintumor.image_io import MAX_PIXELS, TRUNCATED, UNDECODABLE, ImageError, read_image


def _png_header_only(width: int, height: int) -> bytes:
    """A valid PNG signature + IHDR declaring huge dimensions, with almost no pixel data."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"hello, I am a text file named scan.jpg\n", "not a recognised image"),
        (b"GIF89a" + b"\0" * 100, "not a recognised image"),
        (_png_header_only(50_000, 50_000), "limit"),
    ],
)
def test_bad_bytes_are_refused_with_a_message(data, message):
    with pytest.raises(ImageError, match=message):
        read_image(data)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "BMP", "TIFF"])
def test_a_truncated_image_is_refused_saying_it_was_cut_short(fmt):
    """It was "image data is corrupt or truncated (OSError)": a Python class name, and a doubt where Pillow knows the
    pixels stop short (a file cut in a copy or a download, as a researcher's dragged files sometimes are)."""
    data = encode(synthetic_head(), fmt)
    with pytest.raises(ImageError, match=f"^{re.escape(TRUNCATED)}$"):
        read_image(data[: len(data) // 2])


def test_corrupted_middle_of_png_is_refused():
    data = bytearray(encode(synthetic_head(), "PNG"))
    data[100:140] = b"\xff" * 40
    with pytest.raises(ImageError):
        read_image(bytes(data))


def test_huge_dimensions_refused_before_decoding():
    side = int(MAX_PIXELS**0.5) + 10
    with pytest.raises(ImageError, match=f"{side}x{side}"):
        read_image(_png_header_only(side, side))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(ImageError, match="file not found"):
        read_image(tmp_path / "nope.jpg")
    with pytest.raises(ImageError, match="folder"):
        read_image(tmp_path)


def test_content_decides_not_the_file_name(tmp_path):
    png_named_jpg = tmp_path / "scan.jpg"
    png_named_jpg.write_bytes(encode(synthetic_head(), "PNG"))
    assert read_image(png_named_jpg).shape == (200, 200)


@pytest.mark.parametrize(("fmt", "kind"), [("TIFF", "a multi-page TIFF"), ("PNG", "an animated PNG"),
                                           ("WEBP", "an animated WEBP")])
def test_a_stack_in_one_image_file_is_refused_not_read_as_its_first_slice(fmt, kind):
    import io

    frames = [Image.fromarray(synthetic_head(64, seed=i)) for i in range(3)]
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True, append_images=frames[1:])
    with pytest.raises(ImageError, match=f"^{kind}: braintumor reads one slice per image file"):
        read_image(buf.getvalue())
    from braintumor.image_arrays import gray_from_memory  # the same file opened by the caller: the same answer

    with pytest.raises(ImageError, match=f"^{kind}: "):
        gray_from_memory(Image.open(io.BytesIO(buf.getvalue())))
    buf = io.BytesIO()
    frames[0].save(buf, fmt, save_all=True)  # one page: read as ever
    assert read_image(buf.getvalue()).shape == (64, 64)


def test_a_decoder_error_nobody_foresaw_is_an_image_error(monkeypatch):
    import struct

    def broken(img):
        raise struct.error("required argument is not an integer")

    monkeypatch.setattr("braintumor.image_io.gray_plane", broken)
    with pytest.raises(ImageError) as caught:  # said "image data is corrupt or unreadable (error)": a class name
        read_image(encode(synthetic_head(), "PNG"))
    assert str(caught.value) == UNDECODABLE


def test_a_tiff_of_many_pages_is_refused_without_counting_them():
    """Counting pages walks every IFD, in quadratic time: 64 000 one-pixel pages took 39 s to be refused."""
    import io

    pages = [Image.new("L", (1, 1), i % 256) for i in range(300)]
    buf = io.BytesIO()
    pages[0].save(buf, "TIFF", save_all=True, append_images=pages[1:])
    with pytest.raises(ImageError, match=r"^a multi-page TIFF: braintumor reads one slice per image file"):
        read_image(buf.getvalue())


def test_image_bytes_are_held_to_the_file_size_limit():
    """A file over MAX_FILE_BYTES was refused, the same bytes uploaded or passed to the API were decoded."""
    from braintumor.image_io import MAX_FILE_BYTES

    data = encode(synthetic_head(), "PNG")
    big = data + bytes(MAX_FILE_BYTES + 1 - len(data))  # a PNG with trailing bytes: Pillow would read it
    with pytest.raises(ImageError, match=rf"^image is {MAX_FILE_BYTES + 1} bytes; the limit is {MAX_FILE_BYTES}"):
        read_image(big)
    assert read_image(data).shape == (200, 200)


@pytest.mark.parametrize("gone_before", ["stat", "open"])
def test_a_scan_removed_after_its_existence_check_is_file_not_found(tmp_path, monkeypatch, gone_before):
    """A scan removed between read_path's exists() and its stat was 'this scan could not be read (FileNotFoundError)'
    (and a warning in the log), one removed before its open 'cannot read file: No such file or directory': an image
    removed the same way says ``file not found: PATH`` (image_files.unreadable_text), and a scan now does too."""
    from pathlib import Path

    from braintumor import file_reads, image_io
    from braintumor.volume_io import read_volumes

    scan = tmp_path / "head.nii.gz"
    if gone_before == "stat":
        monkeypatch.setattr(Path, "exists", lambda self: True)  # it was there when checked
    else:
        scan.write_bytes(b"\0" * 400)
        read = file_reads.read_limited

        def removed(path: Path, limit: int, check: object = None) -> bytes:  # (check: read_file's refusals)
            path.unlink()
            return read(path, limit, check)

        monkeypatch.setattr(image_io, "read_limited", removed)  # read_path reads through image_io.read_file
    with pytest.raises(ImageError) as refused:
        read_volumes(scan)
    assert str(refused.value) == f"file not found: {scan}"


def _other_formats() -> dict[str, bytes]:
    """Good files of image formats braintumor does not read (Pillow writes GIF, PGM and ICO everywhere; the others
    begin as their encoders begin them: JPEG 2000's JP2 box and bare codestream, an iPhone's HEIC, AVIF, JPEG XL)."""
    head = synthetic_head(64)
    return {
        "GIF": encode(head, "GIF"), "Netpbm (PGM, PPM, PBM or PAM)": encode(head, "PPM"),
        "Windows icon (ICO)": encode(head, "ICO"), "JPEG 2000": b"\0\0\0\x0cjP  \r\n\x87\n" + b"\0" * 60,
        "JPEG 2000 codestream": b"\xff\x4f\xff\x51" + b"\0" * 60, "HEIC": b"\0\0\0\x18ftypheic" + b"\0" * 60,
        "AVIF": b"\0\0\0\x1cftypavif" + b"\0" * 60, "JPEG XL": b"\xff\x0a" + b"\xfa" * 60,
    }


@pytest.mark.parametrize(("name", "data"), list(_other_formats().items()), ids=list(_other_formats()))
def test_a_good_file_of_a_format_not_read_is_named_as_that_format(name, data):
    """A GIF, a PGM, a JPEG 2000 or a phone's HEIC was "not a recognised image", as a text file or a damaged one is: the
    user could not tell a good file of another format from a broken one, nor what to convert it to."""
    name = name.removesuffix(" codestream")
    with pytest.raises(ImageError, match=rf"^{re.escape(name)} image, a format braintumor does not read: convert it "
                                         r"to PNG \(lossless, 8- or 16-bit\) or to JPEG, BMP, TIFF or WebP$"):
        read_image(data)


@pytest.mark.parametrize("data", [b"GIF89a" + b"\0" * 100, b"P5 is a text file\n", b"\0\0\1\0\0\0" + b"\0" * 40],
                         ids=["gif-without-size", "text-starting-P5", "ico-without-images"])
def test_a_signature_alone_is_not_named_as_a_format(data):
    """Only strict signatures name a format: a text or a damaged file stays "not a recognised image"."""
    with pytest.raises(ImageError, match=r"^not a recognised image"):
        read_image(data)


def _tiff(samples: np.ndarray, sample_format: int, planar: bool = False) -> bytes:
    """A little-endian TIFF of one strip of ``samples`` ((H, W) or (H, W, S)), as tifffile writes numpy's types: its
    SampleFormat (1 unsigned, 2 signed, 3 float) and BitsPerSample from the array's."""
    per_pixel = 1 if samples.ndim == 2 else samples.shape[2]
    pixels = (np.moveaxis(samples, -1, 0) if planar else samples).astype(samples.dtype.newbyteorder("<")).tobytes()
    height, width = samples.shape[:2]
    bits = (samples.dtype.itemsize * 8,) * per_pixel
    entries = [(256, 3, 1, width), (257, 3, 1, height), (258, 3, per_pixel, bits), (259, 3, 1, 1),
               (262, 3, 1, 1 if per_pixel < 3 else 2), (273, 4, 1, 0), (277, 3, 1, per_pixel),
               (278, 3, 1, height), (279, 4, 1, len(pixels)), (284, 3, 1, 2 if planar else 1),
               (339, 3, per_pixel, (sample_format,) * per_pixel)]
    if per_pixel in (2, 4):
        entries.append((338, 3, 1, 2))  # ExtraSamples: unassociated alpha
    entries.sort()
    ifd_size = 2 + 12 * len(entries) + 4
    extra_at, extra, table = 8 + ifd_size, b"", b""
    values_at = extra_at + sum(2 * count for _, _, count, _ in entries if count > 2)
    for tag, kind, count, value in entries:
        if tag == 273:
            value = values_at
        if count > 2:  # (SHORTs) stored after the directory
            table += struct.pack("<HHLL", tag, kind, count, extra_at + len(extra))
            extra += struct.pack(f"<{count}H", *value)
        elif count == 2:
            table += struct.pack("<HHL2H", tag, kind, count, *value)
        else:
            value = value[0] if isinstance(value, tuple) else value
            table += struct.pack("<HHLL" if kind == 4 else "<HHLH2x", tag, kind, count, value)
    return b"II*\0" + struct.pack("<L", 8) + struct.pack("<H", len(entries)) + table + b"\0" * 4 + extra + pixels


@pytest.mark.parametrize(("samples", "sample_format", "planar", "said"), [
    (synthetic_head(64).astype(np.float64), 3, False, "64-bit floating-point grayscale samples"),
    (synthetic_head(64).astype(np.float16), 3, False, "16-bit floating-point grayscale samples"),
    (np.dstack([synthetic_head(64).astype(np.uint16) * 257] * 2), 1, False, "16-bit unsigned-integer gray + alpha "
                                                                            "samples"),
    (np.dstack([synthetic_head(64).astype(np.uint16)] * 2), 1, True, "16-bit unsigned-integer gray + alpha samples, "
                                                                     "stored plane by plane"),
    (np.dstack([synthetic_head(64).astype(np.float32)] * 3), 3, False, "32-bit floating-point colour samples"),
], ids=["float64", "float16", "16-bit-gray-alpha", "16-bit-gray-alpha-planar", "float32-colour"])
def test_a_good_tiff_of_samples_pillow_has_no_mode_for_says_what_they_are(samples, sample_format, planar, said):
    """numpy's default float64 saved by tifffile, or GIMP's 16-bit gray + alpha, was "a TIFF file whose header cannot
    be read: damaged, truncated, or a TIFF variant this decoder does not support": the file is good, and its owner
    is told what it holds and what to save instead."""
    data = _tiff(samples, sample_format, planar)
    with pytest.raises(ImageError, match=rf"^a TIFF of {re.escape(said)}, which this decoder does not read: save it "
                                         r"as 8- or 16-bit grayscale, or as 32-bit floating-point grayscale$"):
        read_image(data)


def test_the_hand_made_tiff_is_read_where_pillow_has_a_mode():
    """The test's TIFF writer itself is right: the same file of 16-bit gray or 32-bit floats is read."""
    deep, floats = synthetic_head(64).astype(np.uint16) * 257, synthetic_head(64).astype(np.float32) / 7
    assert np.array_equal(read_image(_tiff(deep, 1)), read_image(encode(deep)))  # Pillow's 16-bit PNG
    assert np.array_equal(read_image(_tiff(floats, 3)), read_image(encode(floats, "TIFF")))  # Pillow's float TIFF


def _deeper_jpeg(bits: int) -> bytes:
    """A JPEG whose extended (SOF1) frame header says ``bits`` per sample (12: DICOM's JPEG Extended frames, saved as
    .jpg; a baseline frame allows 8 bits only)."""
    data = bytearray(encode(synthetic_head(64), "JPEG"))
    at = data.index(b"\xff\xc0")
    data[at + 1], data[at + 4] = 0xC1, bits
    return bytes(data)


@pytest.mark.parametrize(("data", "said"), [
    (_deeper_jpeg(12), "a 12-bit JPEG (as DICOM stores deeper slices), which this decoder does not read: it reads "
                       "8-bit JPEGs; save it as PNG or TIFF (16-bit grayscale, lossless)"),
    (bytes.fromhex("ffd8fff7000b08004000400101110000"), "a JPEG-LS image, which this decoder does not read: save it as "
                                                        "PNG or TIFF (8- or 16-bit grayscale, lossless)"),
], ids=["12-bit", "jpeg-ls"])
def test_a_jpeg_of_a_kind_pillow_does_not_open_says_which(data, said):
    """A 12-bit JPEG or a JPEG-LS one (DICOM frames saved as files) was "a JPEG file whose header cannot be read:
    damaged, truncated, or a JPEG variant this decoder does not support"."""
    with pytest.raises(ImageError, match=f"^{re.escape(said)}$"):
        read_image(data)



@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="counts this process's open descriptors in /proc")
def test_reading_a_file_leaves_no_descriptor_open_and_reads_it_whole_or_to_the_limit_plus_one(tmp_path):
    """read_limited reads through the descriptor itself (no file object to close it): every way out closes it, a file
    of several reads' worth (1 MiB each) comes back whole, and one past the limit stops at the limit plus one byte."""
    from braintumor import file_reads

    big = tmp_path / "big.bin"
    big.write_bytes(bytes(range(256)) * 10_000)  # 2.56 MB: three reads
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(3):
        assert file_reads.read_limited(big, 10**7) == big.read_bytes()
        assert file_reads.read_limited(big, 1_500_000) == big.read_bytes()[:1_500_001]
        with pytest.raises(OSError, match="it is a folder, not a file"):
            file_reads.read_limited(tmp_path, 10)
        with pytest.raises(OSError, match="a character device"):
            file_reads.read_limited(Path(os.devnull), 10)
    assert len(os.listdir("/proc/self/fd")) == before


def test_a_file_is_read_without_a_stat_of_its_name_and_refused_as_before(tmp_path, monkeypatch):
    """read_file takes what it refuses (a folder, a file over the limit) from the open file's fstat: a stat of the
    name before the open was one more call into the system per image. Each refusal is said as before, and a folder
    that cannot be opened (one its user may not read; Windows opens none) is still called a folder."""
    from braintumor import file_reads, image_io

    scan = tmp_path / "scan.png"
    scan.write_bytes(encode(synthetic_head(64)))
    size = scan.stat().st_size
    monkeypatch.setattr(Path, "stat", lambda *a, **k: pytest.fail("stat() of the name"))
    assert image_io.read_file(scan, 10**6) == scan.read_bytes()
    with pytest.raises(ImageError, match=rf"^file is {size} bytes; the limit is 10 bytes$"):
        image_io.read_file(scan, 10)
    folder = f"^is a folder, not an image: {re.escape(str(tmp_path))}$"
    with pytest.raises(ImageError, match=folder):
        image_io.read_file(tmp_path, 10)
    opened = os.open

    def no_folder(path: Path, *args: int) -> int:
        if os.path.isdir(path):
            raise PermissionError(13, "Permission denied", str(path))
        return opened(path, *args)

    with monkeypatch.context() as patch, pytest.raises(ImageError, match=folder):
        patch.setattr(file_reads.os, "open", no_folder)
        image_io.read_file(tmp_path, 10)
