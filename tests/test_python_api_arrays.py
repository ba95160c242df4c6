"""The Python API takes the images its users hold in memory: numpy arrays of every layout and depth, and PIL images.

An array must get the answer a file of the same pixels gets, and an unusable one a precise error (never a silently
wrong answer: a 12-bit array cast to uint8 wraps around). Files, bytes, streams and the rest of the API are in
tests/test_python_api.py."""

from __future__ import annotations

import io
import re
import struct
import zlib

import numpy as np
import pytest
from conftest import encode, synthetic_head
from PIL import Image

from braintumor import ImageError


def _tiff(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="TIFF")
    return buf.getvalue()


def _png16(arr: np.ndarray) -> bytes:
    """A 16-bit RGB PNG (Pillow writes none): each row filter 0, big-endian samples."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\0" + row.astype(">u2").tobytes() for row in arr)
    header = struct.pack(">IIBBBBB", arr.shape[1], arr.shape[0], 16, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def _same_pixels_as_files() -> dict[str, tuple[np.ndarray, bytes]]:
    gray = synthetic_head(200, canvas=(224, 224), offset=(12, 12))
    tinted = np.stack([gray, (gray * 0.6).astype(np.uint8), (gray * 0.2).astype(np.uint8)], axis=-1)
    rgba = np.dstack([np.repeat(gray[..., None], 3, axis=-1), np.where(gray > 0, 255, 0).astype(np.uint8)])
    twelve_bit = gray.astype(np.uint16) * 16 + 7  # 7-4087: a uint8 cast would wrap it around
    unit_float = gray.astype(np.float32) / 255.0
    masked = np.where(gray > 0, unit_float, np.float32(np.nan))  # NaN outside the head, as a brain mask leaves it
    gray_alpha = np.dstack([gray, np.where(gray > 0, 255, 0).astype(np.uint8)])
    gray_rgb = np.repeat(gray[..., None], 3, axis=-1)
    rgb16 = (gray_rgb.astype(np.uint16) << 8) + 90  # its range: 90-65370, its high byte the gray levels
    return {
        "uint8 gray": (gray, encode(gray)),
        "uint8 RGB, gray content": (gray_rgb, encode(gray_rgb)),
        "uint8 RGB, colour content": (tinted, encode(tinted)),
        "uint8 RGBA": (rgba, encode(rgba)),
        "uint8 (H, W, 1)": (gray[..., None], encode(gray)),
        "uint8 gray + alpha (H, W, 2)": (gray_alpha, encode(gray_alpha)),  # was refused, though its LA image is read
        "16-bit RGB in uint16": (rgb16, _png16(rgb16)),  # was refused ("must be uint8"), though its file is read
        "12-bit in uint16": (twelve_bit, encode(twelve_bit)),
        "12-bit RGB in uint16": (np.dstack([twelve_bit] * 3), _png16(np.dstack([twelve_bit] * 3))),  # was near black
        "float32 in [0, 1]": (unit_float, _tiff(unit_float)),
        "float32, NaN background": (masked, _tiff(masked)),  # was refused, though its float TIFF is read
    }


@pytest.mark.parametrize("name", list(_same_pixels_as_files()))
def test_an_array_gets_the_answer_a_file_of_its_pixels_gets(clf, name):
    arr, data = _same_pixels_as_files()[name]
    from_file = clf.predict(data).to_dict()
    assert clf.predict(arr).to_dict() == from_file
    assert clf.predict(Image.open(io.BytesIO(data))).to_dict() == from_file  # the PIL image of the same file
    if name == "12-bit RGB in uint16":  # stretched by its range, as the same 12 bits of gray are
        assert from_file == clf.predict(encode(arr[..., 0])).to_dict()
    if name == "uint8 RGB, colour content":
        assert from_file["ood"] and "colour" in from_file["reason"]
    else:
        assert "colour" not in (from_file.get("reason") or "")


def test_a_pil_image_is_turned_upright_like_its_file_and_left_as_it_was(clf):
    gray = synthetic_head(200, canvas=(224, 240), offset=(12, 20))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees to show
    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="PNG", exif=exif)
    img = Image.open(io.BytesIO(buf.getvalue()))
    assert clf.predict(img).to_dict() == clf.predict(buf.getvalue()).to_dict()
    assert clf.predict(img).to_dict() != clf.predict(gray).to_dict()  # the orientation did change the pixels
    assert img.size == (240, 224) and img.getexif().get(0x0112) == 6


def test_many_arrays_stream_through_predict_many(clf):
    images = [synthetic_head(200, seed=s) for s in range(3)]
    out = list(clf.predict_many([images[0], np.zeros((0, 5), np.uint8), Image.fromarray(images[1]), images[2]]))
    assert [type(o).__name__ for _, o in out] == ["Prediction", "ImageError", "Prediction", "Prediction"]
    assert out[2][1].to_dict() == clf.predict(images[1]).to_dict()


@pytest.mark.parametrize("arr, message", [
    (np.zeros((0, 0), np.uint8), "no pixels"),
    (np.zeros((50_176,), np.uint8), "not one of shape (50176,)"),
    (np.zeros((2, 4, 4, 3), np.uint8), "not one of shape (2, 4, 4, 3)"),
    (np.zeros((64, 64, 5), np.uint8), "not one of shape (64, 64, 5)"),
    (np.ones((64, 64), bool), "not a bool array"),
    (np.full((64, 64), "a"), "not an array of strings"),  # it said "not a <U1 array"
    (np.full((64, 64), None), "not an object array"),  # it said "not a object array"
    (np.full((64, 64), b"a"), "not an array of byte strings"),
    (np.zeros((64, 64), "m8[s]"), "not an array of time spans"),  # numpy calls them integers: it was answered
    (np.zeros((64, 64, 3), "U2"), "must be uint8 (0-255 per channel) or uint16 (as a 16-bit file), not an array of "
                                  "strings"),
    (np.full((64, 64), np.nan, np.float32), "no finite values"),
    (np.full((64, 64), -np.inf), "no finite values"),
    (np.zeros((64, 64, 3), np.float32), "must be uint8 (0-255 per channel) or uint16 (as a 16-bit file), not float32"),
    (np.zeros((64, 64, 2), np.int32), "must be uint8 (0-255 per channel) or uint16 (as a 16-bit file), not int32"),
    (np.zeros((7000, 7000), np.uint8), "the limit is 40,000,000 pixels"),
])
def test_an_unusable_array_is_a_precise_image_error(clf, arr, message):
    with pytest.raises(ImageError, match=re.escape(message)):
        clf.predict(arr)


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_files_bytes_held_as_an_array_are_told_to_be_passed_as_bytes(clf, fmt):
    """``np.frombuffer(data, np.uint8)`` (what cv2.imdecode takes) was told only "not one of shape (6309,)"."""
    data = encode(synthetic_head(), fmt)
    with pytest.raises(ImageError, match=re.escape(f"not one of shape ({len(data)},): it holds a {fmt} file's "
                                                   "bytes, which predict takes as bytes, arr.tobytes()")):
        clf.predict(np.frombuffer(data, np.uint8))
    assert clf.predict(np.frombuffer(data, np.uint8).tobytes()) == clf.predict(data)
    with pytest.raises(ImageError, match=r"not one of shape \(50176,\)$"):  # no file's bytes: no such hint
        clf.predict(np.zeros((50_176,), np.uint8))


def test_wide_arrays_keep_their_gray_levels(clf):
    """float64 and 32/64-bit integer arrays were cast to float32 before their min-max scaling: 2**40 + gray levels fell
    on one float32 level (a blank image, refused), 1e9 + levels on a few, and values past 3.4e38 became inf."""
    gray = synthetic_head(200, canvas=(224, 224), offset=(12, 12))
    want = clf.predict(gray.astype(np.uint16)).to_dict()  # min-max scaled in float32 exactly
    # near the ends of 64-bit integers float64's steps are 2048 apart: gray levels there fell on one (refused as blank)
    wide = {"int64 + 2**40": gray.astype(np.int64) + 2**40, "float64 + 1e9": gray + 1e9,
            "uint64 near its top": gray.astype(np.uint64) + np.uint64(2**64 - 256),
            "int64 near its bottom": gray.astype(np.int64) + np.int64(-2**63),
            "float64 * 1e37": gray * 1e37, "float64 * 1e-300": gray * 1e-300}
    assert {name: clf.predict(arr).to_dict() == want for name, arr in wide.items()} == dict.fromkeys(wide, True)
    # float32 across its whole range (+-3.4e38) was stretched in float32: its brightest pixels overflowed to black
    across = (gray.astype(np.float32) - 127) * np.float32(2.0**121)  # exact: the float64 stretch gives gray's levels
    assert across.max() > 1e38 and clf.predict(across).to_dict() == clf.predict(gray.astype(np.float64)).to_dict()


def test_a_large_array_gets_the_answer_its_lossless_file_gets(clf, test_images):
    """A file much larger than the model input is box-reduced while it is decoded (a speed step); an array or PIL image
    of the same pixels was read at full size, and got another answer: a real slice in a 4000 px canvas was refused as
    PNG and accepted as an array (docs/RESULTS.md, "Inputs a clinician may send"). Here a real slice enlarged to 1300
    px (reduced 4x), as PNG, array, PIL image and 16-bit array, and inside a black 4000 px canvas (reduced 12x)."""
    from braintumor.image_io import read_image

    gray = np.asarray(Image.fromarray(read_image(test_images["glioma"][0])).resize((1300, 1300), Image.BICUBIC))
    canvas = np.zeros((4000, 4000), np.uint8)
    canvas[1888:2112, 1888:2112] = read_image(test_images["glioma"][0])[:224, :224]
    for image in (gray, canvas):
        want = clf.predict(encode(image)).to_dict()
        assert clf.predict(image).to_dict() == clf.predict(Image.fromarray(image)).to_dict() == want
    wide = gray.astype(np.uint16) * 257  # as a 16-bit PNG of it is read: stretched, then reduced
    assert clf.predict(wide).to_dict() == clf.predict(encode(wide)).to_dict()


@pytest.mark.parametrize("fill", [np.nan, np.inf, -np.inf])
def test_a_float_image_with_no_finite_pixel_is_refused_as_its_array_is(clf, tmp_path, fill):
    """An all-NaN float TIFF (a brain mask's outside saved on its own, a failed export) was answered 'blank or nearly
    uniform image' with probabilities, in the CLI, the web and the Python API, where its array and a NIfTI volume of
    such voxels are refused: no pixel holds a value."""
    arr = np.full((96, 96), fill, np.float32)
    path = tmp_path / "empty.tif"
    path.write_bytes(_tiff(arr))
    for source in (arr, path, path.read_bytes(), Image.open(path)):
        with pytest.raises(ImageError, match=re.escape("no finite values (all NaN or infinite)")):
            clf.predict(source)
    arr[5, 5] = 1.0  # one finite pixel is an image (a flat one)
    path.write_bytes(_tiff(arr))
    assert clf.predict(path).reason.endswith("blank or nearly uniform image")
