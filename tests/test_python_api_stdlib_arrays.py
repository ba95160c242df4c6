"""Values of no image's kind handed to the Python API (README, Python API) are told what to pass: the standard
library's ``array.array`` (a file read into ``array("B", data)``, or pixels kept in one, were told only "not array",
where a numpy array of a file's bytes is told to pass ``arr.tobytes()``), a number (a NaN of an empty cell),
a (path, label) pair among predict_many's images."""

from __future__ import annotations

import array
import ctypes
import mmap

import numpy as np
import pytest
from conftest import encode, synthetic_head

from braintumor.heatmap import explain
from braintumor.image_io import ImageError

EXPECTED = r"^expected a path, bytes, a binary file, a numpy array, a PIL image or a scan's Slice, not array"


def test_an_image_files_bytes_in_an_array_are_told_to_be_passed_as_bytes(clf):
    """As ``np.frombuffer(data, np.uint8)`` is told: ``arr.tobytes()`` is then the answer the file gets."""
    data = encode(synthetic_head())
    held = array.array("B", data)
    said = EXPECTED + r": it holds a PNG file's bytes, which predict takes as bytes, arr\.tobytes\(\)$"
    for call in (clf.predict, lambda source: explain(clf, source)):
        with pytest.raises(TypeError, match=said):
            call(held)
    with pytest.raises(TypeError, match=r"^item 0 of the images: .*not array: it holds a PNG file's bytes"):
        list(clf.predict_many([held]))
    assert clf.predict(held.tobytes()) == clf.predict(data)


@pytest.mark.parametrize("held", [array.array("f", [0.5] * 64 * 64), array.array("B", b"no image" * 600)])
def test_pixels_or_other_values_in_an_array_are_told_both_ways_to_pass_them(clf, held):
    """Pixels (or bytes of no image) in an array.array: what to pass for either a file's bytes or an image's pixels."""
    with pytest.raises(TypeError, match=EXPECTED + rf": an array\.array of {len(held)} values; pass an image file's "
                       r"bytes as bytes, arr\.tobytes\(\), pixels as a numpy array of the image's shape, "
                       r"np\.array\(arr\)\.reshape\(height, width\)$"):
        clf.predict(held)
    head = synthetic_head()
    assert clf.predict(np.array(array.array("B", head.tobytes()), np.uint8).reshape(head.shape)) == clf.predict(head)


def test_a_ctypes_array_of_bytes_is_told_what_to_pass(clf):
    """A ctypes array holding a file's bytes (or pixels) said only "not c_ubyte_Array_4096". Not read as the file
    (bytes, bytearray and memoryview are): such a buffer holds a camera library's pixels as often."""
    data = encode(synthetic_head())
    held = (ctypes.c_ubyte * len(data)).from_buffer_copy(data)
    for call in (clf.predict, lambda source: explain(clf, source)):
        with pytest.raises(TypeError, match=EXPECTED.replace("not array", f"not {type(held).__name__}") + r": it "
                           r"holds a PNG file's bytes, which predict takes as bytes, bytes\(x\)$"):
            call(held)
    with pytest.raises(TypeError, match=r"^item 0 of the images: .*not c_ubyte_Array_\d+: it holds a PNG file's"):
        list(clf.predict_many([held]))
    assert clf.predict(bytes(held)) == clf.predict(data) == clf.predict(memoryview(held))
    pixels = (ctypes.c_ubyte * 4800).from_buffer_copy(b"no image" * 600)
    with pytest.raises(TypeError, match=EXPECTED.replace("not array", "not c_ubyte_Array_4800") + r": a buffer of "
                       r"4800 bytes; pass an image file's bytes as bytes, bytes\(x\), pixels as a numpy array of the "
                       r"image's shape, np\.array\(x\)\.reshape\(height, width\)$"):
        clf.predict(pixels)


def test_an_mmap_of_a_file_is_read_as_the_file(clf, tmp_path):
    """An mmap has read(): it is read as a binary file is, from its position (the buffer hint above is not its); read
    to its end, it was told "open it again: it cannot seek", where it has seek() (not seekable(), before 3.13)."""
    data = encode(synthetic_head())
    (tmp_path / "head.png").write_bytes(data)
    with open(tmp_path / "head.png", "rb") as f, mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) as held:
        assert clf.predict(held) == clf.predict(data)
        with pytest.raises(ImageError, match=rf"^nothing left to read: the stream is at its end \(position "
                           rf"{len(data)}\); seek\(0\) after writing it$"):
            clf.predict(held)
        held.seek(0)
        assert clf.predict(held) == clf.predict(data)


@pytest.mark.parametrize("number", [float("nan"), np.float64("nan"), 3, np.int64(3)])
def test_a_number_among_the_images_is_told_it_is_no_image(clf, number):
    """A NaN from an empty cell of a column of paths (``df["path"]``), as a numpy scalar, was told "np.asarray(x)
    makes a numpy array of it"; as a float, only "not float"."""
    said = r"not (float|float64|int|int64): a number is no image \(an empty cell of a column of names, NaN\? "
    with pytest.raises(TypeError, match=EXPECTED.replace("not array", said)):
        clf.predict(number)
    with pytest.raises(TypeError, match=r"^item 1 of the images: .*: a number is no image"):
        list(clf.predict_many(iter([synthetic_head(), number])))


def test_pairs_of_image_and_label_are_told_to_pass_the_images_alone(clf):
    """``predict_many(labels.items())`` or a dataset's (path, label) samples said only "not tuple"; the images before
    the pair are still answered."""
    head = synthetic_head()
    got = []
    with pytest.raises(TypeError, match=r"^item 1 of the images: .*not tuple: a pair of an image and its label\? "
                       r"predict_many takes the images alone, \(image for image, _ in pairs\)$"):
        for _, outcome in clf.predict_many([head, (head, "glioma")]):
            got.append(outcome)
    assert got == [clf.predict(head)]
