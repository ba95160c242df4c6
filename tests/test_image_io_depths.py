"""High bit depths become 8-bit gray levels that look like the image: float32 across its whole range, 16-bit colour
and gray + alpha files, and the same pixels held in memory."""

from __future__ import annotations

import io
import re
import struct
import warnings
import zlib

import numpy as np
import pytest
from conftest import encode, synthetic_head
from PIL import Image

from braintumor.gray_levels import minmax_uint8
from braintumor.image_arrays import gray_from_memory
from braintumor.image_io import ImageError, read_image
from braintumor.preprocess import prepare


def _tiff(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="TIFF")
    return buf.getvalue()


def test_a_float32_image_across_float32s_range_is_stretched_as_it_looks():
    """A float32 image from -3.4e38 to 3.4e38 was stretched in float32: each pixel minus the minimum overflowed to inf,
    so its brightest pixels came out black (inf cast to uint8, with a RuntimeWarning on stderr)."""
    gray = np.minimum(synthetic_head(96), 254)
    gray[0, 0] = 254  # levels 0-254: times 2**121, -127 and +127 are +-3.37e38, exact in float32
    wide = (gray.astype(np.float32) - 127) * np.float32(2.0**121)
    assert np.isfinite(wide).all() and wide.max() > 3.3e38 and wide.min() < -3.3e38
    want = minmax_uint8(gray.astype(np.float64))  # the same stretch, of the same levels (exactly: a power of 2)
    assert want.max() == 255 and want[gray == 254].min() == 255
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow on the way
        assert np.array_equal(minmax_uint8(wide), want)
        assert np.array_equal(read_image(_tiff(wide)), want)  # a TIFF of mode F
        assert np.array_equal(gray_from_memory(wide)[0], want)  # Classifier.predict(array)


def _png16(arr: np.ndarray) -> bytes:
    """A 16-bit PNG of (H, W, 2) gray + alpha or (H, W, 3) colour samples (Pillow writes neither)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + row.astype(">u2").tobytes() for row in arr)  # each row: filter 0, big-endian samples
    header = struct.pack(">IIBBBBB", arr.shape[1], arr.shape[0], 16, {2: 4, 3: 2}[arr.shape[2]], 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _tiff16(arr: np.ndarray, order: str = "<", strips: int = 1, deflate: bool = False, orientation: int = 0,
            photometric: int | None = None, planar: bool = False) -> bytes:
    """A TIFF of ``arr``'s samples as they are typed (uint16 RGB(A) by default: Pillow writes none; also gray, signed,
    float, with any ``photometric``): ``order`` '<' (II) or '>' (MM), in ``strips`` strips, each deflated (Pillow
    decodes it through libtiff, in native byte order) or raw; ``planar``: a plane per sample (PlanarConfiguration 2)."""
    arr = arr[..., None] if arr.ndim == 2 else arr
    height, width, samples = arr.shape
    rows = -(-height // strips)
    typed = arr.astype(arr.dtype.newbyteorder(order))
    planes = [typed[..., k] for k in range(samples)] if planar else [typed]
    data = [plane[k:k + rows].tobytes() for plane in planes for k in range(0, height, rows)]
    data = [zlib.compress(d) for d in data] if deflate else data
    if photometric is None:
        photometric = 2 if samples >= 3 else 1
    entries = [(256, 3, [width]), (257, 3, [height]), (258, 3, [8 * arr.dtype.itemsize] * samples),
               (259, 3, [8 if deflate else 1]), (262, 3, [photometric]), (273, 4, [0] * len(data)),
               (274, 3, [orientation or 1]), (277, 3, [samples]), (278, 3, [rows]), (279, 4, [len(d) for d in data]),
               (284, 3, [2 if planar else 1])] + [(338, 3, [2])] * (samples == 4) + [
               (339, 3, [{"u": 1, "i": 2, "f": 3}[arr.dtype.kind]] * samples)]
    ifd_end = 8 + 2 + 12 * len(entries) + 4
    extra = b""  # values over 4 bytes, after the IFD; then the strips
    offsets = []
    for _, kind, values in entries:
        offsets.append(ifd_end + len(extra))
        if len(values) * (2 if kind == 3 else 4) > 4:
            extra += struct.pack(order + ("H" if kind == 3 else "L") * len(values), *values)
    strip_at = ifd_end + len(extra)
    entries[5] = (273, 4, [strip_at + sum(len(d) for d in data[:k]) for k in range(len(data))])
    if len(data) > 1:  # the strip offsets are past 4 bytes: rewrite them where the extra values hold them
        at = offsets[5] - ifd_end
        extra = extra[:at] + struct.pack(order + "L" * len(data), *entries[5][2]) + extra[at + 4 * len(data):]
    ifd = struct.pack(order + "H", len(entries))
    for (tag, kind, values), at in zip(entries, offsets, strict=True):
        size = len(values) * (2 if kind == 3 else 4)
        value = struct.pack(order + ("H" if kind == 3 else "L") * len(values), *values) if size <= 4 else \
            struct.pack(order + "L", at)
        ifd += struct.pack(order + "HHL", tag, kind, len(values)) + value.ljust(4, b"\0")
    head = (b"II*\0" if order == "<" else b"MM\0*") + struct.pack(order + "L", 8)
    return head + ifd + b"\0\0\0\0" + extra + b"".join(data)


def _twelve_bit() -> np.ndarray:
    return synthetic_head(96, canvas=(100, 120), offset=(2, 12)).astype(np.uint16) * 16 + 7  # 7-4087


_TIFF_LAYOUTS = {
    "RGB, II": {}, "RGB, MM, 7 strips": {"order": ">", "strips": 7}, "RGB, deflate (libtiff)": {"deflate": True},
    "RGBA, MM, deflate": {"order": ">", "deflate": True}, "RGBA, II, 3 strips": {"strips": 3},
}


@pytest.mark.parametrize("name", list(_TIFF_LAYOUTS))
def test_a_16_bit_colour_tiff_is_stretched_by_its_range_as_a_16_bit_gray_one_is(name):
    """Pillow has no 16-bit colour mode and keeps each sample's high byte: a 12-bit RGB TIFF (0-4095) came out nearly
    black (at most 15), while the same data as 16-bit gray is stretched to 0-255 (as 16-bit colour PNGs now are)."""
    twelve = _twelve_bit()
    gray = read_image(encode(twelve))  # a 16-bit gray PNG
    assert gray.max() == 255
    arr = np.dstack([twelve] * 3 + [np.full_like(twelve, 65535)] * name.startswith("RGBA"))  # opaque
    data = _tiff16(arr, **_TIFF_LAYOUTS[name])
    assert Image.open(io.BytesIO(data)).mode == ("RGBA" if arr.shape[2] == 4 else "RGB")
    assert np.array_equal(read_image(data), gray)
    assert np.array_equal(gray_from_memory(Image.open(io.BytesIO(data)))[0], gray)  # a PIL image of the file
    assert np.array_equal(gray_from_memory(arr)[0], gray)  # its samples in an array


def test_a_16_bit_colour_tiff_keeps_its_orientation():
    """The orientation of a TIFF is among its own tags (a PNG's in its EXIF block): the 8-bit copy must keep it."""
    twelve = _twelve_bit()
    gray = read_image(encode(twelve))
    assert np.array_equal(read_image(_tiff16(np.dstack([twelve] * 3), orientation=6)), np.rot90(gray, -1))


@pytest.mark.parametrize("photometric", ["minisblack", "miniswhite"])
@pytest.mark.parametrize("count", [3, 4])
def test_8_bit_gray_planes_in_one_tiff_page_are_said_to_be_slices_too(photometric, count):
    """README: a gray TIFF of several samples per pixel is refused as slices in one page. At 8 bits, saved by tifffile
    plane by plane (a (3, height, width) uint8 array told it is gray), it was "a TIFF file whose header cannot be read:
    damaged, truncated, or a TIFF variant ..." (Pillow fails on its directory), or as WhiteIsZero "image data could not
    be decoded: the file is damaged ...": a sound file called damaged. Its 16-bit twin, and interleaved ones, were
    told what they are."""
    tifffile = pytest.importorskip("tifffile")
    head = synthetic_head(96, canvas=(100, 120), offset=(2, 12))
    for planar, layout in (("separate", "stored plane by plane"), ("contig", "interleaved")):
        out = io.BytesIO()
        stack = np.stack([head] * count) if planar == "separate" else np.dstack([head] * count)
        tifffile.imwrite(out, stack, photometric=photometric, planarconfig=planar)
        said = (f"a 8-bit gray TIFF of {count} samples per pixel (SamplesPerPixel {count}, {layout}: {count} slices "
                "in one page?), which is not supported")
        with pytest.raises(ImageError, match="^" + re.escape(said)):
            read_image(out.getvalue())


def test_a_signed_8_bit_tiff_reads_its_negative_levels_below_its_positive_ones():
    """SampleFormat 2 (signed) at 8 bits: Pillow decodes it as unsigned 'L', so -1 read as 255 and -128 as 128: a head
    from -128 to 127 came out scrambled (its dark half brighter than its bright half), and was answered as that. Read
    as the levels it holds, it is the same slice as its unsigned twin (stretched by its range, as deeper ones are). A
    WhiteIsZero one Pillow cannot open: refused, saying so."""
    base = synthetic_head(96, canvas=(100, 120), offset=(2, 12))
    signed = (base.astype(np.int16) - 128).astype(np.int8)
    want = read_image(encode(minmax_uint8(signed)))
    data = _tiff16(signed)
    assert Image.open(io.BytesIO(data)).mode == "L"
    assert np.array_equal(read_image(data), want)
    assert np.array_equal(prepare(data), prepare(want))  # cropped from those levels, not from what Pillow decoded
    assert np.array_equal(gray_from_memory(Image.open(io.BytesIO(data)))[0], want)
    assert np.array_equal(read_image(_tiff16(signed, deflate=True)), want)  # through libtiff
    with pytest.raises(ImageError, match=r"^a TIFF of 8-bit signed-integer grayscale samples, which this decoder does "
                                         r"not read"):
        read_image(_tiff16(~signed, photometric=0))
