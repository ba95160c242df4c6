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
        said = (f"an 8-bit gray TIFF of {count} samples per pixel (SamplesPerPixel {count}, {layout}: {count} slices "
                "in one page?), which is not supported")
        with pytest.raises(ImageError, match="^" + re.escape(said)):
            read_image(out.getvalue())


@pytest.mark.parametrize("photometric", [1, 0])
def test_a_turned_tiff_opened_by_the_caller_is_turned_once_and_keeps_its_white_is_zero(photometric):
    """A TIFF's Orientation is applied by Pillow as it loads the file: a caller's PIL image, not loaded yet, was turned
    by its tag and then again as it loaded (upside down), and the turned copy had lost its WhiteIsZero (a negative)."""
    twelve = _twelve_bit()
    want = np.rot90(read_image(encode(twelve)), -1)
    data = _tiff16(twelve if photometric else 65535 - twelve, photometric=photometric, orientation=6)
    assert np.array_equal(read_image(data), want)
    assert np.array_equal(prepare(data), prepare(want))  # cropped from those levels, not from what Pillow decoded
    assert np.array_equal(gray_from_memory(Image.open(io.BytesIO(data)))[0], want)


def test_a_16_bit_gray_and_alpha_png_is_stretched_by_its_range_as_a_16_bit_gray_one_is():
    """A 16-bit gray + alpha PNG (Pillow: RGBA from its high bytes) came out nearly black (at most 15); so did its
    (H, W, 2) uint16 array, read 'as the file is'. Transparent pixels stay black background."""
    twelve = _twelve_bit()
    gray = read_image(encode(twelve))
    opaque = np.dstack([twelve, np.full_like(twelve, 65535)])
    assert np.array_equal(read_image(_png16(opaque)), gray)
    assert np.array_equal(gray_from_memory(opaque)[0], gray)
    holed = opaque.copy()
    holed[40:60, 50:70, 1] = 0  # a transparent square in the head
    want = gray.copy()
    want[40:60, 50:70] = 0
    assert np.array_equal(read_image(_png16(holed)), want)
    assert np.array_equal(gray_from_memory(holed)[0], want)
    assert np.array_equal(gray_from_memory(Image.open(io.BytesIO(_png16(holed))))[0], want)


_SAME_LEVELS = {  # a 12-bit or high-byte-only 16-bit slice, as scanners and microscopes store it -> its TIFF's samples
    "I;16": lambda v: v, "I;16B": lambda v: v.astype(">u2"), "I;16S": lambda v: (v.astype(np.int32) - 2**15).astype(
        np.int16), "I;32S": lambda v: v.astype(np.int32) * 3 - 5000, "I;32F": lambda v: v.astype(np.float32) / 4096}


@pytest.mark.parametrize("levels", ["12-bit", "high byte"])
@pytest.mark.parametrize(("mode", "deflate"), [(m, False) for m in _SAME_LEVELS] + [("I;16", True), ("I;16B", True)])
def test_a_deep_gray_tiff_is_stretched_by_its_range_as_the_same_16_bit_png_is(levels, mode, deflate):
    """A 12-bit MRI slice (0-4095) or one whose 16 bits use only their high byte, saved as TIFF in any gray mode Pillow
    opens (either byte order, signed, 32-bit, float; raw or through libtiff), gives the 8-bit levels the same slice
    gives as a 16-bit PNG: stretched by its own range, not by its type's."""
    base = synthetic_head(96, canvas=(100, 120), offset=(2, 12)).astype(np.uint16)
    slice_ = base * 16 + 7 if levels == "12-bit" else base * 256
    want = read_image(encode(slice_))
    assert want.max() == 255
    data = _tiff16(_SAME_LEVELS[mode](slice_), order=">" if mode.endswith("B") else "<", deflate=deflate)
    assert np.array_equal(read_image(data), want)
    assert np.array_equal(prepare(data), prepare(want))  # cropped from those levels, not from what Pillow decoded
    assert np.array_equal(gray_from_memory(Image.open(io.BytesIO(data)))[0], want)


@pytest.mark.parametrize("stored", ["uint16", "float32", "uint8"])
def test_a_white_is_zero_tiff_reads_as_it_shows_at_every_depth(stored):
    """PhotometricInterpretation 0 (WhiteIsZero: scanners, film digitisers) stores a slice as its negative. Pillow
    inverts a 1- or 8-bit one as it decodes it, not a 16-bit or float one: those came out as their negative (a white
    background around a dark head), where the same slice as PNG, or as a BlackIsZero TIFF, is read upright."""
    base = synthetic_head(96, canvas=(100, 120), offset=(2, 12))
    shown = base if stored == "uint8" else base.astype(np.uint16) * 16 + 7
    negative = {"uint16": lambda v: 65535 - v, "float32": lambda v: (4095 - v).astype(np.float32),
                "uint8": lambda v: 255 - v}[stored](shown)
    want = read_image(encode(shown))
    data = _tiff16(negative, photometric=0)
    assert Image.open(io.BytesIO(data)).mode == {"uint16": "I;16", "float32": "F", "uint8": "L"}[stored]
    assert np.array_equal(read_image(data), want)
    assert np.array_equal(prepare(data), prepare(want))  # cropped from those levels, not from what Pillow decoded
    assert np.array_equal(gray_from_memory(Image.open(io.BytesIO(data)))[0], want)
    assert np.array_equal(read_image(_tiff16(negative, photometric=0, deflate=True)), want)  # through libtiff


@pytest.mark.parametrize("deflate", [False, True])
def test_a_16_bit_colour_tiff_stored_plane_by_plane_reads_as_its_interleaved_twin(deflate):
    """A 16-bit RGB(A) TIFF with one plane per colour (PlanarConfiguration 2, as tifffile saves a (3, height, width)
    array) came out as noise (Pillow reads each plane as 8-bit samples, or mixes their bytes through libtiff), then was
    refused. Each plane is now decoded on its own: the pixels of the same samples interleaved, from a file or a PIL
    image; an 8-bit one, which Pillow reads right, is still read."""
    twelve = _twelve_bit()
    for samples in (np.dstack([twelve, twelve // 2, 4095 - twelve]), np.dstack([twelve] * 3 + [twelve * 16])):
        want = read_image(_tiff16(samples, deflate=deflate))
        data = _tiff16(samples, planar=True, deflate=deflate)
        assert np.array_equal(read_image(data), want)
        assert np.array_equal(gray_from_memory(Image.open(io.BytesIO(data)))[0], want)
    eight = synthetic_head(96, canvas=(100, 120), offset=(2, 12))
    assert np.array_equal(read_image(_tiff16(np.dstack([eight] * 3), planar=True, deflate=deflate)),
                          read_image(encode(eight)))


def test_tifffiles_16_bit_colour_planes_read_in_each_layout_or_are_refused():
    """tifffile's planes in strips and tiles, in either byte order, with a predictor, read as interleaved; a
    compression not handed to Pillow plane by plane (LZMA) is refused with what is read, a truncated file as one."""
    from braintumor.image_io import ImageError

    tifffile = pytest.importorskip("tifffile")
    twelve = _twelve_bit()
    planes = np.stack([twelve, twelve // 2, 4095 - twelve])

    def saved(**kw) -> bytes:
        out = io.BytesIO()
        tifffile.imwrite(out, planes, photometric="rgb", planarconfig="separate", **kw)
        return out.getvalue()

    want = read_image(_tiff16(np.moveaxis(planes, 0, -1)))
    for kw in ({}, {"tile": (32, 32)}, {"byteorder": ">", "compression": "zlib", "predictor": True},
               {"rowsperstrip": 7, "compression": "zlib"}):
        assert np.array_equal(read_image(saved(**kw)), want), kw
    with pytest.raises(ImageError, match=re.escape("a 16-bit colour TIFF stored plane by plane (PlanarConfiguration "
                                                   "2), of a kind not read here (16-bit unsigned RGB or RGBA, ")):
        read_image(saved(compression="lzma"))
    cut = saved()[:-100]  # the last plane's strip past the end, not read from what follows
    with pytest.raises(ImageError, match=f"^TIFF data is truncated: .* up to byte {len(cut) + 100:,}, and the file "):
        read_image(cut)


def test_a_truncated_compressed_tiff_is_refused_saying_so_with_nothing_from_libtiff_on_stderr(capfd):
    """A deflate TIFF cut short, its samples interleaved, was "image data is corrupt or truncated (OSError)", and
    libtiff printed "TIFFFillStrip: Read error on strip 0; got 1336 bytes, expected 2672." on stderr (fd 2: no Python
    setting silences it). It is refused before libtiff reads it, from a file or a PIL image, saying where it ends."""
    from braintumor.image_io import ImageError

    head = synthetic_head(96, canvas=(100, 120), offset=(2, 12))
    for arr in (np.dstack([head, head // 2, 255 - head]), head, _twelve_bit()):
        data = _tiff16(arr, deflate=True, strips=3)
        assert read_image(data).shape == arr.shape[:2]
        cut = data[:-30]
        said = f"^TIFF data is truncated: its header places pixel data up to byte {len(data):,}, and the file ends "
        with pytest.raises(ImageError, match=said + f"at byte {len(cut):,}$"):
            read_image(cut)
        with pytest.raises(ImageError, match=said):
            gray_from_memory(Image.open(io.BytesIO(cut)))
    assert capfd.readouterr().err == ""


def _strip_spans(data: bytes) -> list[tuple[int, int]]:
    tags = Image.open(io.BytesIO(data)).tag_v2
    return list(zip(tags[273], tags[279], strict=True))


def test_a_complete_tiff_whose_deflate_data_is_damaged_is_refused_by_strip_with_nothing_from_libtiff_on_stderr(capfd):
    """A deflate TIFF, all its bytes there, whose stream is damaged was "image data is corrupt or truncated (OSError)",
    and libtiff printed "ZIPDecode: Decoding error at scanline 0, invalid block type." (or "Not enough data at
    scanline ...") on fd 2, which the web server cannot point away while other requests log. zlib inflates the strips
    first: refused naming the strip and why, from a file or a PIL image, and libtiff says nothing."""
    from braintumor.image_io import ImageError

    head = _twelve_bit()
    for arr in (head, np.dstack([head, head // 2, 4095 - head])):
        data = _tiff16(arr, deflate=True, strips=3)
        assert read_image(data).shape == head.shape  # intact: read
        (start, size), rows = _strip_spans(data)[1], -(-head.shape[0] // 3)
        need = rows * head.shape[1] * arr[0, 0].size * 2
        flipped, unchecked, short = bytearray(data), bytearray(data), bytearray(data)
        flipped[start + size // 2:start + size // 2 + 8] = bytes(8)
        unchecked[start + size - 4:start + size] = bytes(4)  # its Adler-32: the samples inflate, the check fails
        fewer = zlib.compress(zlib.decompress(data[start:start + size])[:need // 2])
        short[start:start + size] = fewer + bytes(size - len(fewer))  # a whole stream, of half its rows' bytes
        said = "^TIFF strip 2 of 3 is damaged: its deflate data "
        for damaged, why in ((flipped, r"does not inflate \(.+\)$"), (unchecked, r"does not inflate \(incorrect data "
                             r"check\)$"), (short, f"inflates to {need // 2:,} bytes where its rows need {need:,}$")):
            with pytest.raises(ImageError, match=said + why):
                read_image(bytes(damaged))
            with pytest.raises(ImageError, match=said + why):
                gray_from_memory(Image.open(io.BytesIO(bytes(damaged))))
    assert capfd.readouterr().err == ""


def test_gray_planes_in_one_tiff_page_are_said_to_be_slices_not_colour():
    """A 16-bit TIFF of 3 gray samples per pixel (SamplesPerPixel 3 under a gray PhotometricInterpretation: three
    slices in one page) was refused as "a 16-bit colour TIFF", or one "of colour samples"."""
    from braintumor.image_io import ImageError

    planes = np.dstack([_twelve_bit()] * 3)
    for planar, layout in ((True, "stored plane by plane"), (False, "interleaved")):
        said = (f"a 16-bit gray TIFF of 3 samples per pixel (SamplesPerPixel 3, {layout}: 3 slices in one page?), "
                "which is not supported: braintumor reads one slice per image file (save each slice as its own image")
        with pytest.raises(ImageError, match="^" + re.escape(said)):
            read_image(_tiff16(planes, photometric=1, planar=planar))


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


def test_a_sample_depth_takes_the_article_it_is_read_with():
    """"a 8-bit gray TIFF" was said of 8-bit slices in one page (16-bit ones read "a 16-bit", rightly)."""
    from braintumor.wording import bits_text

    assert [bits_text(b) for b in (1, 8, 11, 12, 16, 18, 32, 64)] == [
        "a 1-bit", "an 8-bit", "an 11-bit", "a 12-bit", "a 16-bit", "an 18-bit", "a 32-bit", "a 64-bit"]


@pytest.mark.parametrize("extra", [2, 1])  # unassociated alpha; associated (premultiplied: Pillow's La)
def test_tifffiles_8_bit_gray_and_alpha_planes_read_as_their_interleaved_twin_or_are_refused(extra):
    """tifffile's (2, H, W) gray + alpha saved plane by plane: uncompressed, it was "image data could not be decoded:
    the file is damaged" (Pillow has no raw mode for LA's planes); deflate, it was read through libtiff with its alpha
    0, a blank image, unsaid. Read a plane at a time, as the interleaved file is, from a file or a PIL image (its
    transparent pixels black, a premultiplied one's half-transparent ones as premultiplied); a compression not read so
    (LZMA) is refused with what is."""
    tifffile = pytest.importorskip("tifffile")
    head = synthetic_head(96, canvas=(100, 120), offset=(2, 12))
    alpha = np.where(np.arange(120) < 100, 255, 0).astype(np.uint8)[None, :].repeat(100, 0)  # a transparent margin
    alpha[:, 50:100] = 128  # half transparent: premultiplied or not reads otherwise

    def saved(planes: np.ndarray, **kw) -> bytes:
        out = io.BytesIO()
        tifffile.imwrite(out, planes, photometric="minisblack", extrasamples=[extra], **kw)
        return out.getvalue()

    want = read_image(saved(np.dstack([head, alpha]), planarconfig="contig"))
    assert want[:, 100:].max() == 0 and np.array_equal(want[:, :50], head[:, :50])
    for kw in ({}, {"tile": (32, 32)}, {"compression": "zlib"}, {"compression": "zlib", "predictor": True}):
        data = saved(np.stack([head, alpha]), planarconfig="separate", **kw)
        assert np.array_equal(read_image(data), want), kw
        assert np.array_equal(gray_from_memory(Image.open(io.BytesIO(data)))[0], want), kw
    with pytest.raises(ImageError, match="^" + re.escape("an 8-bit gray + alpha TIFF stored plane by plane "
                                                         "(PlanarConfiguration 2), of a kind not read here (")):
        read_image(saved(np.stack([head, alpha]), planarconfig="separate", compression="lzma"))
