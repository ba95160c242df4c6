"""Every bad input ends in an ImageError with a clear message, never a crash or a hang."""

from __future__ import annotations

import os
import struct
import zlib

import numpy as np
import pytest
from conftest import encode, synthetic_head
from PIL import Image

from braintumor.image_io import MAX_PIXELS, ImageError, expand_inputs, read_image, walk_images


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


def test_truncated_jpeg_is_refused():
    data = encode(synthetic_head(), "JPEG")
    with pytest.raises(ImageError, match="corrupt or truncated"):
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


def test_modes_become_gray_uint8():
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 255
    rgba[:5, :, 3] = 0  # transparent rows become black
    out = read_image(encode(rgba))
    assert out.dtype == np.uint8 and out.shape == (20, 20)
    assert out[:5].max() == 0 and out[10, 10] > 0
    pal = Image.fromarray(synthetic_head()).convert("P")
    import io
    buf = io.BytesIO()
    pal.save(buf, format="PNG")
    assert read_image(buf.getvalue()).ndim == 2


def test_exif_orientation_is_applied():
    arr = np.zeros((40, 80), np.uint8)
    arr[:, :10] = 255
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    import io
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    out = read_image(buf.getvalue())
    assert out.shape == (80, 40)


def test_walk_skips_hidden_and_non_images(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / ".ipynb_checkpoints").mkdir()
    for p in ("a/x.jpg", "b.PNG", ".hidden.jpg", ".ipynb_checkpoints/y.jpg", "notes.txt"):
        (tmp_path / p).write_bytes(b"x")
    os.mkfifo(tmp_path / "a" / "pipe.jpg")  # opening it would block for ever: it hung 'data audit' and training
    (tmp_path / "a" / "gone.jpg").symlink_to(tmp_path / "nowhere.jpg")  # kept: reading it reports it
    found = [p.relative_to(tmp_path).as_posix() for p in walk_images(tmp_path)]
    assert sorted(found) == ["a/gone.jpg", "a/x.jpg", "b.PNG"]
    explicit = list(expand_inputs([tmp_path / "notes.txt", tmp_path / "a"]))
    assert [p.name for p in explicit] == ["notes.txt", "gone.jpg", "x.jpg"]
    os.mkfifo(tmp_path / "a" / "pipe")  # no image ending: predict sniffed it for DICOM, and hung
    from braintumor.volume_io import plan_inputs

    assert [p.name for p in plan_inputs([tmp_path / "a"])] == ["gone.jpg", "x.jpg"]


def _jpeg_bytes(arr: np.ndarray, **options) -> bytes:
    import io
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=90, **options)
    return buf.getvalue()


def _reference_gray_and_colour(data: bytes, draft_size: int) -> tuple[np.ndarray, float]:
    """What the decoder did before colour JPEGs were read once as YCbCr: a grayscale decode (libjpeg's Y)
    and the colourfulness of a separate RGB decode."""
    import io

    from braintumor.colour import colourfulness
    with Image.open(io.BytesIO(data)) as img:
        img.draft("L", (draft_size, draft_size))
        gray = np.asarray(img.convert("L"))
    with Image.open(io.BytesIO(data)) as img:
        rgb = np.asarray(img.convert("RGB"))
    return gray, colourfulness(rgb)


@pytest.mark.parametrize("options", [{}, {"subsampling": 0}, {"progressive": True}])
def test_colour_jpeg_gray_plane_is_the_grayscale_decode(options):
    """One YCbCr decode replaces two; its Y plane must be bit for bit what models were trained on."""
    from braintumor.image_io import decode_image
    rng = np.random.default_rng(0)
    head = np.repeat(synthetic_head(size=300)[..., None], 3, axis=2).astype(np.int16)
    tinted = np.clip(head + rng.integers(-6, 7, head.shape), 0, 255).astype(np.uint8)  # faint colour noise
    for arr, draft in ((tinted, 320), (tinted, 128), (head.astype(np.uint8), 128)):
        data = _jpeg_bytes(arr, **options)
        gray, info = decode_image(data, draft_size=draft)
        ref_gray, ref_colour = _reference_gray_and_colour(data, draft)
        np.testing.assert_array_equal(gray, ref_gray)
        assert abs(info.colourfulness - ref_colour) < 1.5  # measured on a reduced copy, as before


def test_colour_photo_jpeg_is_still_colourful():
    from braintumor.image_io import decode_image
    rng = np.random.default_rng(1)
    photo = np.zeros((200, 240, 3), np.uint8)
    photo[..., 0] = np.linspace(0, 255, 240, dtype=np.uint8)[None]
    photo[..., 1] = rng.integers(0, 256, (200, 240), dtype=np.uint8)
    photo[..., 2] = 255 - photo[..., 0]
    data = _jpeg_bytes(photo)
    _, info = decode_image(data, draft_size=320)
    assert info.colourfulness > 30
    assert abs(info.colourfulness - _reference_gray_and_colour(data, 320)[1]) < 0.05 * info.colourfulness
    gray_rgb = np.repeat(synthetic_head()[..., None], 3, axis=2)
    assert decode_image(_jpeg_bytes(gray_rgb), draft_size=320)[1].colourfulness == 0.0


def test_rgb_coded_jpeg_is_decoded_too():
    """A JPEG whose components are R, G, B (Adobe transform 0) cannot be read as YCbCr: the old route."""
    from braintumor.image_io import decode_image
    arr = np.repeat(synthetic_head(size=200)[..., None], 3, axis=2)
    arr[..., 0] = np.clip(arr[..., 0].astype(np.int16) + 60, 0, 255)
    data = _jpeg_bytes(arr, keep_rgb=True)
    with Image.open(__import__("io").BytesIO(data)) as img:
        assert img.info.get("adobe_transform") == 0
    gray, info = decode_image(data, draft_size=320)
    ref_gray, ref_colour = _reference_gray_and_colour(data, 320)
    np.testing.assert_array_equal(gray, ref_gray)
    assert info.colourfulness > 5 and abs(info.colourfulness - ref_colour) < 2


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


def test_a_malformed_exif_tag_neither_crashes_nor_loses_the_orientation():
    """Orientation 6 beside a text value under a number-only tag (0x0119): ImageOps.exif_transpose rotated the
    pixels, then raised struct.error rewriting the EXIF block (a traceback in the CLI, HTTP 500 for the batch)."""
    import io

    pixels = synthetic_head(120, canvas=(160, 120))
    exif = Image.Exif()
    exif[0x0112], exif[0x010E] = 6, "desc"
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", exif=exif.tobytes())  # no checksum over the EXIF block
    good = buf.getvalue()
    bad = good.replace(b"\x01\x0e\x00\x02", b"\x01\x19\x00\x02", 1).replace(b"\x0e\x01\x02\x00",
                                                                              b"\x19\x01\x02\x00", 1)
    assert bad != good
    import struct

    from PIL import ImageOps

    with pytest.raises(struct.error):  # what the old decoder ran into
        ImageOps.exif_transpose(Image.open(io.BytesIO(bad)), in_place=True)
    assert np.array_equal(read_image(bad), read_image(good))
    from braintumor.image_arrays import gray_from_memory  # the Python API's PIL images too

    assert np.array_equal(gray_from_memory(Image.open(io.BytesIO(bad)))[0], read_image(good))
    assert read_image(good).shape == pixels.shape[::-1]  # rotated upright


def test_a_decoder_error_nobody_foresaw_is_an_image_error(monkeypatch):
    import struct

    def broken(img):
        raise struct.error("required argument is not an integer")

    monkeypatch.setattr("braintumor.image_io.to_gray", broken)
    with pytest.raises(ImageError, match=r"^image data is corrupt or unreadable \(error\)$"):
        read_image(encode(synthetic_head(), "PNG"))


def test_high_bit_depths_are_stretched_onto_0_255_rounded():
    """min -> 0, max -> 255, the rest rounded to the nearest level (not truncated); a flat image is all 0."""
    import warnings

    from braintumor.image_io import minmax_uint8

    assert minmax_uint8(np.array([[-3.0, 1.0, 2.0, 7.0]])).tolist() == [[0, 102, 128, 255]]  # 102.0, 127.5, 255
    assert minmax_uint8(np.array([[0, 1, 2]], np.uint16)).tolist() == [[0, 128, 255]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero on the way
        assert minmax_uint8(np.full((3, 4), 7.5, np.float32)).tolist() == [[0] * 4] * 3


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_float_image_with_a_non_finite_pixel_is_stretched_by_its_finite_ones(bad):
    """One NaN or inf pixel of a float TIFF made min/max NaN or inf: the whole image black, refused as blank."""
    import io

    values = synthetic_head(96).astype(np.float32) * 3.5 - 100.0
    clean = io.BytesIO()
    Image.fromarray(values, mode="F").save(clean, "TIFF")
    values[0, 0] = bad  # the background corner: its stretched value is the minimum's either way
    dirty = io.BytesIO()
    Image.fromarray(values, mode="F").save(dirty, "TIFF")
    expected = read_image(clean.getvalue())
    assert expected.max() == 255 and np.array_equal(read_image(dirty.getvalue()), expected)


def test_a_folder_that_cannot_be_read_is_reported_not_skipped(tmp_path, monkeypatch, capsys):
    """os.walk skips an unreadable folder without a word: predict said '0 failed' and data check 'all images
    decode' with a locked folder of images. (Permissions do not stop root, so the refusal is simulated.)"""
    import json

    from braintumor.cli import main
    from braintumor.data import DatasetError, load_dataset

    for c in ("glioma", "meningioma", "notumor", "pituitary"):
        (tmp_path / "Testing" / c / "locked").mkdir(parents=True)
        (tmp_path / "Testing" / c / "a.png").write_bytes(encode(synthetic_head(), "PNG"))
    real = os.scandir

    def scandir(path="."):
        if os.fspath(path).endswith("locked"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)
    with pytest.raises(DatasetError, match=r"cannot read folder .*glioma/locked: Permission denied"):
        load_dataset(tmp_path, "Testing")
    assert main(["predict", str(tmp_path / "Testing" / "glioma"), "--format", "jsonl"]) == 1
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rows[-1] == {"path": str(tmp_path / "Testing" / "glioma" / "locked"),
                        "error": "cannot read folder: Permission denied"}


def _repeated_scans(extra: int) -> tuple[bytes, bytes]:
    """(a progressive JPEG, the same with one of its AC scans repeated ``extra`` times before the end marker)."""
    import io

    buf = io.BytesIO()
    Image.fromarray(synthetic_head(256)).save(buf, "JPEG", progressive=True, quality=90)
    data = buf.getvalue()
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xDA]
    first, second = starts[1], starts[2]  # the second scan (an AC scan), up to the next one
    return data, data[:-2] + data[first:second] * extra + data[-2:]


def test_a_jpeg_of_too_many_scans_is_refused_before_decoding():
    """One 1 MB progressive JPEG of 13 000 repeated scans took a web worker 48 s (each scan is decoded in full)."""
    from braintumor.image_io import MAX_JPEG_SCANS

    normal, bomb = _repeated_scans(MAX_JPEG_SCANS)
    assert read_image(normal).shape == (256, 256) and normal.count(b"\xff\xda") < 20
    with pytest.raises(ImageError, match=rf"^JPEG has more than {MAX_JPEG_SCANS} scans"):
        read_image(bomb)
    at_limit = _repeated_scans(MAX_JPEG_SCANS - normal.count(b"\xff\xda"))[1]  # the limit itself is allowed
    assert at_limit.count(b"\xff\xda") == MAX_JPEG_SCANS and read_image(at_limit).shape == (256, 256)
    with pytest.raises(ImageError, match=r"^JPEG has more than"):
        read_image(_repeated_scans(MAX_JPEG_SCANS + 1 - normal.count(b"\xff\xda"))[1])


def test_a_big_jpeg_may_have_fewer_scans_than_a_small_one(monkeypatch):
    """Every scan is decoded over the whole image: 100 scans of 6300 x 6300 pixels (a 240 kB file) took 8 s, within
    MAX_JPEG_SCANS. Scans times pixels are bounded too, before decoding; a usual 10-scan progressive JPEG fits."""
    import io
    import struct

    from PIL import ImageFile

    from braintumor.image_io import MAX_JPEG_SCAN_PIXELS, MAX_PIXELS

    side = int(MAX_PIXELS**0.5) - 24  # 6300: within the pixel limit
    most = MAX_JPEG_SCAN_PIXELS // (side * side)

    def claiming(data: bytes) -> bytes:  # the frame header says side x side; no pixel is decoded before the refusal
        sof = data.find(b"\xff\xc2")
        return data[:sof + 5] + struct.pack(">HH", side, side) + data[sof + 9:]

    normal, _ = _repeated_scans(0)
    over, at_limit = (claiming(_repeated_scans(n - normal.count(b"\xff\xda"))[1]) for n in (most + 1, most))
    loads, real = [], ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self.size) or real(self))
    with pytest.raises(ImageError, match=rf"^JPEG has more than {most} scans for its {side}x{side} pixels"):
        read_image(over)
    assert loads == []
    assert read_image(at_limit).shape == (side, side) and set(loads) == {(side, side)}  # the limit itself is decoded
    buf = io.BytesIO()
    Image.new("L", (side, side)).save(buf, "JPEG", progressive=True)
    assert buf.getvalue().count(b"\xff\xda") <= most


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


def test_a_phone_jpeg_with_extra_mpf_images_is_read_as_its_picture():
    """Pillow opens a JPEG with an MPF block (an Ultra HDR gain map, a camera preview) as an 'animated' MPO: it was
    refused as a stack of slices."""
    import io

    head = Image.fromarray(synthetic_head())
    buf = io.BytesIO()
    head.save(buf, "MPO", save_all=True, append_images=[head.resize((50, 50))])
    assert Image.open(io.BytesIO(buf.getvalue())).format == "MPO"
    plain = io.BytesIO()
    head.save(plain, "JPEG")
    assert read_image(buf.getvalue()).shape == read_image(plain.getvalue()).shape == (200, 200)


def test_a_jpeg_with_an_mpf_block_is_held_to_the_scan_limit():
    """Pillow calls a JPEG with an MPF block (a phone's extra images) 'MPO', and the scan limit looked at 'JPEG' only:
    repeated scans in such a file's first image were all decoded (2048 px, 1000 scans: 0.4 s; it grows with both)."""
    import io

    from braintumor.image_io import MAX_JPEG_SCANS

    head = Image.fromarray(synthetic_head(256))
    buf = io.BytesIO()
    head.save(buf, "MPO", save_all=True, append_images=[head.resize((50, 50))], progressive=True)
    data = buf.getvalue()
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xDA]
    end = data.find(b"\xff\xd9", starts[0])  # the first image's end (its scans hold no FF D9)
    bomb = data[:end] + data[starts[1]:starts[2]] * MAX_JPEG_SCANS + data[end:]
    assert Image.open(io.BytesIO(bomb)).format == "MPO" and read_image(data).shape == (256, 256)
    with pytest.raises(ImageError, match=rf"^JPEG has more than {MAX_JPEG_SCANS} scans"):
        read_image(bomb)


def test_scan_bytes_outside_the_decoded_image_cost_no_refusal():
    """FF DA inside a comment or an EXIF thumbnail, or after the end marker (a phone's extra images), is never a scan
    that is decoded; counting those bytes refused a normal slice."""
    from braintumor.image_headers import jpeg_scans
    from braintumor.image_io import MAX_JPEG_SCANS

    normal, bomb = _repeated_scans(MAX_JPEG_SCANS)
    assert jpeg_scans(normal, MAX_JPEG_SCANS) == normal.count(b"\xff\xda") >= 5  # every real scan, entropy data skipped
    many = b"\xff\xda" * (MAX_JPEG_SCANS + 5)
    comment = b"\xff\xfe" + (2 + len(many)).to_bytes(2, "big") + many
    commented = normal[:2] + comment + normal[2:]
    trailing = normal + many
    for data in (commented, trailing):
        assert data.count(b"\xff\xda") > MAX_JPEG_SCANS
        assert np.array_equal(read_image(data), read_image(normal))
    with pytest.raises(ImageError, match="scans"):  # the walk still counts the real ones
        read_image(bomb[:2] + comment + bomb[2:])


def test_ff00_between_segments_hides_no_scans_from_the_count():
    """libjpeg skips FF 00 between segments as garbage; the walk read it as a marker with a length and jumped over
    the scans behind it, so a scan bomb behind 'FF 00 LL LL' was decoded in full (4096 px, 1000 scans: 1.8 s)."""
    import io

    from braintumor.image_headers import jpeg_scans
    from braintumor.image_io import MAX_JPEG_SCANS

    normal, bomb = _repeated_scans(MAX_JPEG_SCANS)
    scan = bomb[len(normal) - 2:-2][: (len(bomb) - len(normal)) // MAX_JPEG_SCANS]
    per = 0xF000 // len(scan)
    blocks = b""
    for start in range(0, MAX_JPEG_SCANS, per):
        body = scan * min(per, MAX_JPEG_SCANS - start)
        blocks += b"\xff\x00\xff\x00" + body + bytes(0xFF00 - 2 - len(body))  # the walk jumped exactly this far
    hidden = normal[:-2] + b"\xff\xfe\x00\x02" + blocks + normal[-2:]
    Image.open(io.BytesIO(hidden)).load()  # libjpeg reads it: the garbage is skipped, every scan decoded
    assert jpeg_scans(hidden, MAX_JPEG_SCANS) > MAX_JPEG_SCANS
    with pytest.raises(ImageError, match="scans"):
        read_image(hidden)


def test_a_jpeg_of_endless_segments_is_refused_without_walking_them_all():
    """16 MB of empty comments and 101 FF DA bytes took the scan walk 1.8 s (a Python step per segment)."""
    from braintumor.image_headers import MAX_JPEG_SEGMENTS
    from braintumor.image_io import MAX_JPEG_SCANS

    normal, _ = _repeated_scans(MAX_JPEG_SCANS)
    comments = b"\xff\xfe\x00\x02" * (4 * MAX_JPEG_SEGMENTS) + b"\xff\xfe\x00\x06" + b"\xff\xda" * 2
    crafted = normal[:2] + comments + b"\xff\xfe" + (2 + 2 * MAX_JPEG_SCANS).to_bytes(2, "big") \
        + b"\xff\xda" * MAX_JPEG_SCANS + normal[2:]
    with pytest.raises(ImageError, match=f"more than {MAX_JPEG_SEGMENTS:,} segments"):
        read_image(crafted)


def _png16(arr: np.ndarray, exif: bytes = b"") -> bytes:
    """A 16-bit PNG of (H, W, 3) or (H, W, 4) samples (Pillow writes none): each row filter 0, big-endian samples."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + row.astype(">u2").tobytes() for row in arr)
    header = struct.pack(">IIBBBBB", arr.shape[1], arr.shape[0], 16, {3: 2, 4: 6}[arr.shape[2]], 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + (chunk(b"eXIf", exif) if exif else b"")
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))


def test_a_16_bit_colour_png_is_stretched_by_its_range_as_a_16_bit_gray_one_is():
    """Pillow has no 16-bit colour mode and keeps each sample's high byte: a 12-bit RGB PNG (0-4095) came out nearly
    black (at most 15), while the same data as a 16-bit gray PNG is stretched to 0-255."""
    twelve = synthetic_head(96, canvas=(100, 120), offset=(2, 12)).astype(np.uint16) * 16 + 7  # 7-4087
    gray = read_image(encode(twelve))  # a 16-bit gray PNG
    assert gray.max() == 255
    rgb = np.dstack([twelve] * 3)
    assert np.array_equal(read_image(_png16(rgb)), gray)
    assert np.array_equal(read_image(_png16(np.dstack([rgb, np.full_like(twelve, 65535)]))), gray)  # opaque RGBA
    turned = Image.Exif()
    turned[0x0112] = 6  # and its EXIF orientation is still followed
    assert np.array_equal(read_image(_png16(rgb, turned.tobytes())), np.rot90(gray, -1))
