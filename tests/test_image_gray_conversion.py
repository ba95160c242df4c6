"""How images become gray uint8: modes, EXIF orientation, colour JPEGs' gray plane, high bit depths."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from conftest import encode, synthetic_head
from PIL import Image

from braintumor.image_arrays import gray_from_memory
from braintumor.image_io import read_image


def test_modes_become_gray_uint8():
    rgba = np.zeros((20, 20, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[..., 3] = 255
    rgba[:5, :, 3] = 0  # transparent rows become black
    out = read_image(encode(rgba))
    assert out.dtype == np.uint8 and out.shape == (20, 20)
    assert out[:5].max() == 0 and out[10, 10] > 0
    pal = Image.fromarray(synthetic_head()).convert("P")
    buf = io.BytesIO()
    pal.save(buf, format="PNG")
    assert read_image(buf.getvalue()).ndim == 2


def test_exif_orientation_is_applied():
    arr = np.zeros((40, 80), np.uint8)
    arr[:, :10] = 255
    img = Image.fromarray(arr)
    exif = img.getexif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise when shown
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif)
    out = read_image(buf.getvalue())
    assert out.shape == (80, 40)


def _jpeg_bytes(arr: np.ndarray, **options) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="JPEG", quality=90, **options)
    return buf.getvalue()


def _reference_gray_and_colour(data: bytes, draft_size: int) -> tuple[np.ndarray, float]:
    """What the decoder did before colour JPEGs were read once as YCbCr: a grayscale decode (libjpeg's Y)
    and the colourfulness of a separate RGB decode."""

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


def test_a_malformed_exif_tag_neither_crashes_nor_loses_the_orientation():
    """Orientation 6 beside a text value under a number-only tag (0x0119): ImageOps.exif_transpose rotated the
    pixels, then raised struct.error rewriting the EXIF block (a traceback in the CLI, HTTP 500 for the batch)."""

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


def test_high_bit_depths_are_stretched_onto_0_255_rounded():
    """min -> 0, max -> 255, the rest rounded to the nearest level (not truncated); a flat image is all 0."""
    import warnings

    from braintumor.gray_levels import minmax_uint8

    assert minmax_uint8(np.array([[-3.0, 1.0, 2.0, 7.0]])).tolist() == [[0, 102, 128, 255]]  # 102.0, 127.5, 255
    assert minmax_uint8(np.array([[0, 1, 2]], np.uint16)).tolist() == [[0, 128, 255]]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no division by zero on the way
        assert minmax_uint8(np.full((3, 4), 7.5, np.float32)).tolist() == [[0] * 4] * 3


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_a_float_image_with_a_non_finite_pixel_is_stretched_by_its_finite_ones(bad):
    """One NaN or inf pixel of a float TIFF made min/max NaN or inf: the whole image black, refused as blank."""

    values = synthetic_head(96).astype(np.float32) * 3.5 - 100.0
    clean = io.BytesIO()
    Image.fromarray(values, mode="F").save(clean, "TIFF")
    values[0, 0] = bad  # the background corner: its stretched value is the minimum's either way
    dirty = io.BytesIO()
    Image.fromarray(values, mode="F").save(dirty, "TIFF")
    expected = read_image(clean.getvalue())
    assert expected.max() == 255 and np.array_equal(read_image(dirty.getvalue()), expected)


def _png16(arr: np.ndarray, exif: bytes = b"", exif_last: bool = False) -> bytes:
    """A 16-bit PNG of (H, W, 2), (H, W, 3) or (H, W, 4) samples (Pillow writes none): each row filter 0, big-endian
    samples; its eXIf chunk before the pixels or, ``exif_last``, after them (as the PNG standard allows)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + row.astype(">u2").tobytes() for row in arr)
    header = struct.pack(">IIBBBBB", arr.shape[1], arr.shape[0], 16, {2: 4, 3: 2, 4: 6}[arr.shape[2]], 0, 0, 0)
    exif_chunk = chunk(b"eXIf", exif) if exif else b""
    pixels = chunk(b"IDAT", zlib.compress(rows))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + (pixels + exif_chunk if exif_last else exif_chunk + pixels)
            + chunk(b"IEND", b""))


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


@pytest.mark.parametrize("channels", [2, 3, 4], ids=["gray+alpha", "RGB", "RGBA"])
def test_a_16_bit_png_whose_exif_follows_its_pixels_is_turned_upright(channels):
    """A 16-bit colour or gray + alpha PNG whose eXIf chunk came after its pixels (the PNG standard allows it; tools
    that add EXIF to a written PNG put it there) was read as stored, on its side: its orientation was taken from the
    file before Pillow had read that far, as a file, bytes or an opened PIL image alike. 8-bit ones were turned."""
    twelve = synthetic_head(96, canvas=(100, 120), offset=(2, 12)).astype(np.uint16) * 16 + 7
    opaque = np.full_like(twelve, 65535)
    samples = np.dstack({2: [twelve, opaque], 3: [twelve] * 3, 4: [twelve] * 3 + [opaque]}[channels])
    turned = Image.Exif()
    turned[0x0112] = 6
    upright = np.rot90(read_image(encode(twelve)), -1)
    data = _png16(samples, turned.tobytes(), exif_last=True)
    assert np.array_equal(read_image(data), upright)
    assert np.array_equal(gray_from_memory(Image.open(io.BytesIO(data)))[0], upright)


@pytest.mark.parametrize(("width", "height"), [(2000, 1500), (224, 50000), (1801, 1399)])
def test_a_large_colour_image_is_measured_on_its_sampled_rows_alone(width, height):
    """Colourfulness reads every step-th pixel of every step-th row: np.asarray of the whole RGB image held it twice
    over as bytes (a fuzzed 224 x 50 000 PNG strip: 67 MB; a 36 Mpx PNG: 216 MB), for some 16 000 pixels. The
    rows are now copied one by one, and the measure is the same to the bit."""
    import tracemalloc

    from braintumor.colour import colourfulness
    from braintumor.image_gray import _colour_of

    tile = np.random.default_rng(0).integers(0, 256, (37, 41, 3), dtype=np.uint8)
    img = Image.fromarray(np.tile(tile, (height // 37 + 1, width // 41 + 1, 1))[:height, :width])
    step = max(1, max(img.size) // 128)
    tracemalloc.start()
    try:
        got = _colour_of(img)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert got == colourfulness(np.asarray(img)[::step, ::step, :3])
    assert peak < width * height * 3 / 2, f"peak {peak / (width * height * 3):.2f} times the RGB bytes"
