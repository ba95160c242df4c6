"""What a researcher passes the Python API from a notebook, beyond a file name: streams in every state, arrays laid
out as other libraries lay them out. Each gets its answer or one precise error, never a raw traceback."""

from __future__ import annotations

import io
import os
import re

import numpy as np
import pytest
from conftest import encode, synthetic_head

from braintumor import Classifier, ImageError
from braintumor.image_arrays import gray_from_memory
from braintumor.image_io import read_image
from braintumor.wording import DOWNSCALE


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.load()


def test_a_closed_or_write_only_file_is_an_image_error(tmp_path):
    """Both were raw exceptions from read() ("read of closed file", io.UnsupportedOperation), and one of them in a
    predict_many list ended the whole stream."""
    path = tmp_path / "a.png"
    path.write_bytes(encode(synthetic_head(64)))
    with open(path, "rb") as fh:
        pass
    with pytest.raises(ImageError, match=r"^the file is closed: predict it inside its 'with open\(\.\.\.\)' block"):
        read_image(fh)
    with open(tmp_path / "b.png", "wb") as out, \
            pytest.raises(ImageError, match=r"^the file is not open for reading: open it with 'rb'"):
        read_image(out)
    images = [synthetic_head(64), fh, synthetic_head(64)]
    assert [type(outcome).__name__ for _, outcome in Classifier.load().predict_many(images)] == \
        ["Prediction", "ImageError", "Prediction"]


def test_a_stream_left_at_its_end_says_so_not_that_the_file_is_empty():
    """The notebook habit: save an image into a BytesIO and pass it without seek(0). It was "file is empty (0 bytes)",
    of a buffer holding a whole PNG."""
    buf = io.BytesIO()
    buf.write(encode(synthetic_head(64)))
    with pytest.raises(ImageError, match=re.escape(f"nothing left to read: the stream is at its end (position "
                                                   f"{buf.tell()}); seek(0) after writing it")):
        read_image(buf)
    buf.seek(0)
    assert read_image(buf).shape == (64, 64)
    with pytest.raises(ImageError, match=r"^file is empty \(0 bytes\)$"):
        read_image(io.BytesIO())


def test_a_memoryview_is_held_to_the_size_limit_by_its_bytes(monkeypatch):
    """len() of a memoryview counts its items: one of uint16 or float64 items passed the byte limit at 2 or 8 times
    it (a numpy array's .data is such a view)."""
    import braintumor.image_io as image_io

    data = encode(synthetic_head(64))
    data += b"\0" * (-len(data) % 8)  # whole items: trailing bytes after a PNG's end are ignored
    monkeypatch.setattr(image_io, "MAX_FILE_BYTES", len(data) - 1)
    for items in (np.frombuffer(data, np.uint16), np.frombuffer(data, np.float64).reshape(2, -1)):
        with pytest.raises(ImageError, match=f"^image is {len(data)} bytes; the limit is {len(data) - 1} bytes: "
                                             f"{re.escape(DOWNSCALE)}$"):
            read_image(memoryview(items))
    monkeypatch.setattr(image_io, "MAX_FILE_BYTES", len(data))
    assert read_image(memoryview(np.frombuffer(data, np.uint16))).shape == (64, 64)


def _gray() -> np.ndarray:
    return synthetic_head(200, canvas=(224, 224), offset=(12, 12))


def test_a_one_channel_image_laid_out_channel_first_is_read_as_its_gray_levels(clf):
    """(1, H, W), as torch and torchvision give one gray image, was refused though (H, W, 1) was read."""
    gray = _gray()
    want = clf.predict(gray).to_dict()
    assert clf.predict(gray[None]).to_dict() == want
    unit = gray.astype(np.float32)[None] / 255  # torchvision's ToTensor(): float in [0, 1]
    assert clf.predict(unit).to_dict() == clf.predict(unit[0]).to_dict()


@pytest.mark.parametrize("shape, hint", [
    ((3, 224, 224), "channels first? np.moveaxis(arr, 0, -1) puts them last"),
    ((4, 224, 224), "channels first? np.moveaxis(arr, 0, -1) puts them last"),
    ((12, 224, 224), "a stack of slices? predict_many(list(stack)) predicts each"),
    ((224, 224, 12), "a volume with its slices last, as nibabel gives one? braintumor.volume_io.read_volumes"),
])
def test_a_colour_image_channel_first_or_a_stack_is_told_how_to_pass_it(clf, shape, hint):
    """Each was told only that its shape is not taken."""
    arr = np.zeros(shape, np.uint8)
    with pytest.raises(ImageError, match=re.escape(f"not one of shape {shape} ({hint}")):
        clf.predict(arr)
    with pytest.raises(ImageError, match=re.escape("not one of shape (224, 240, 224)") + "$"):  # no layout to guess
        clf.predict(np.zeros((224, 240, 224), np.uint8))


def test_predict_many_answers_the_images_before_a_wrong_kind_of_item_and_names_it(clf):
    """A pandas column of paths with one missing value (NaN, a float) ended the stream with "not float": the images
    of the batch before it went unanswered, and nothing said which item it was."""
    gray = _gray()
    got = []
    with pytest.raises(TypeError, match=r"^item 2 of the images: expected a path, .* not float: a number is no image \("
                       r"an empty cell of a column of names"):
        for _, outcome in clf.predict_many([gray, gray, float("nan"), gray]):
            got.append(outcome)
    assert got == [clf.predict(gray)] * 2


def test_masked_pixels_of_a_masked_array_are_background_as_nan_is(clf):
    """np.ma.masked_where(brain_mask == 0, img) kept whatever lay under the mask (np.asarray drops a mask): a fill of
    -32768 or 255 there was read as pixels, a bright frame around the head or a stretch that darkened it."""
    gray = _gray()
    background = gray == 0
    want = clf.predict(np.where(background, np.nan, gray.astype(np.float32))).to_dict()
    for under in (np.int16(-32768), np.int16(4095)):
        masked = np.ma.masked_array(np.where(background, under, gray.astype(np.int16)), mask=background)
        assert clf.predict(masked).to_dict() == want
    rgb = np.ma.masked_array(np.dstack([np.where(background, 255, gray).astype(np.uint8)] * 3),
                             mask=np.dstack([background] * 3))
    darkest = np.where(background, gray[~background].min(), gray)  # uint8 is not stretched: the darkest level as it is
    assert clf.predict(rgb).to_dict() == clf.predict(np.dstack([darkest] * 3)).to_dict()
    with pytest.raises(ImageError, match=r"^the masked array has no unmasked values$"):
        clf.predict(np.ma.masked_all((64, 64), np.float32))
    for kind, said in (("<U1", "an array of strings"), (bool, "a bool array"), (complex, "a complex128 array")):
        # refused by type, as unmasked ones are ("<U1": min() raised UFuncTypeError)
        with pytest.raises(ImageError, match=f"not {said}$"):
            clf.predict(np.ma.masked_array(np.zeros((64, 64), kind), mask=np.eye(64, dtype=bool)))
    huge = np.ma.masked_array(np.broadcast_to(np.uint8(0), (20_000, 20_000)), mask=np.ma.nomask)
    with pytest.raises(ImageError, match="the limit is 40,000,000 pixels"):  # before any pass over its mask
        clf.predict(huge)


def test_a_float64_image_across_its_whole_range_is_stretched_without_overflow():
    """max - min past float64's largest value was inf: every pixel became NaN, cast to uint8 as whatever the platform
    gives, with three RuntimeWarnings on the way (a traceback under warnings-as-errors, as pytest runs notebooks)."""
    import warnings

    from braintumor.gray_levels import minmax_uint8

    top = np.finfo(np.float64).max
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert minmax_uint8(np.array([[-top, -1.0, 0.0, 1e300, top]])).tolist() == [[0, 128, 128, 128, 255]]



def test_a_float_image_of_subnormal_values_keeps_its_gray_levels(clf):
    """255 / (max - min) overflowed for a range of subnormal numbers (float64 under ~1e-306, float32 under ~1e-36):
    every pixel became NaN, then 0 or whatever the platform casts NaN to, with numpy's RuntimeWarnings (a traceback
    under warnings-as-errors); refused as blank. Its levels are those of the same image at a usual scale."""
    import warnings

    head = synthetic_head(200, canvas=(224, 224), offset=(12, 12))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for tiny in (head * 1e-320, head.astype(np.float32) * np.float32(1e-44)):
            assert clf.predict(tiny) == clf.predict(head.astype(np.float64))
            assert np.array_equal(gray_from_memory(tiny)[0], gray_from_memory(head.astype(np.float64))[0])

def test_an_array_like_that_is_not_numpy_is_told_to_convert_it(clf):
    """A torch tensor (or any object with __array__) was "expected a path, ... not Tensor": true, silent on the fix."""

    class TensorLike:
        def __array__(self, dtype=None, copy=None):
            return np.zeros((8, 8), dtype=np.uint8)

    with pytest.raises(TypeError, match=r"not TensorLike: np\.asarray\(x\) makes a numpy array of it"):
        clf.predict(TensorLike())
    with pytest.raises(TypeError, match=r"not object$"):
        clf.predict(object())


def test_an_array_of_names_as_bytes_is_answered_as_a_list_of_them(clf, tmp_path):
    """``predict_many(np.array([b"a.png"]))`` (dtype "S": ``np.array(os.listdir(b"."))``) was refused as "not an
    iterable of images" where an array of str names and a list of bytes are iterated; and each bytes name, read as
    content, said only "not a recognised image" where ``predict(b"a.png")`` says they are a name, to pass as a str."""
    name = tmp_path / "a.png"
    name.write_bytes(encode(synthetic_head()))
    as_list = [(bytes(src), str(outcome)) for src, outcome in clf.predict_many([bytes(name)])]
    as_array = [(bytes(src), str(outcome)) for src, outcome in clf.predict_many(np.array([bytes(name)]))]
    with pytest.raises(ImageError) as alone:
        clf.predict(bytes(name))
    assert as_array == as_list == [(bytes(name), str(alone.value))]
    assert str(alone.value).endswith(": bytes are read as content, and these are a file's or folder's name: pass it "
                                     "as a str (os.fsdecode)")
    [(_, outcome)] = clf.predict_many(np.array([str(name)]))  # the same names as str: read as names
    assert outcome == clf.predict(name)


def test_scans_in_a_folder_are_named_by_predict_many_not_dropped(clf, tmp_path):
    """expand_inputs([folder]) left out its DICOM, NIfTI and zip files without a word: a folder of .dcm files gave
    predict_many nothing to answer and nothing said; each is now told that read_volumes reads it."""
    from dicom_factory import make_dicom, nifti_bytes, series, zip_bytes

    from braintumor.image_io import expand_inputs

    head = synthetic_head(200, canvas=(224, 224), offset=(12, 12))
    (tmp_path / "series").mkdir()
    volume = np.stack([head] * 3, -1)
    files = {"a.png": encode(head), "series/IM1.DCM": make_dicom(head), "t1.nii.gz": nifti_bytes(volume),
             "t2.nii": nifti_bytes(volume, gz=False), "study.zip": zip_bytes(series([head] * 2))}
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    found = {p.relative_to(tmp_path).as_posix(): o for p, o in clf.predict_many(expand_inputs([tmp_path]))}
    assert sorted(found) == sorted(files)
    assert found.pop("a.png") == clf.predict(tmp_path / "a.png")
    kinds = {"series/IM1.DCM": "a DICOM file", "t1.nii.gz": "a NIfTI volume", "t2.nii": "a NIfTI volume",
             "study.zip": "a zip file"}
    assert {name: str(outcome) for name, outcome in found.items()} == {
        name: f"{kind}, not a 2-D image: braintumor.volume_io.read_volumes reads scans into slices"
        for name, kind in kinds.items()}


def test_an_array_of_file_names_given_to_predict_is_told_how_names_are_given(clf, tmp_path):
    """A cell or a column's ``.values`` (an array of names) given to predict was told only "expected a 2-D grayscale
    array ..., not one of shape (1,)", the shape of a column, not what to call."""
    (tmp_path / "a.png").write_bytes(encode(synthetic_head()))
    names = np.array([str(tmp_path / "a.png")])
    for arr in (names, names[0:1].reshape(()), names.astype(bytes), names.astype(object)):
        with pytest.raises(ImageError, match=rf"^expected an image, not an? [\w ]+ of shape \({'1,' * arr.ndim}\): "
                                             r"file names\? predict takes one as a str, and predict_many\(names\) "
                                             r"predicts each of several$"):
            clf.predict(arr)
    assert [o for _, o in clf.predict_many(names)] == [clf.predict(str(names[0]))]  # as it says


def test_a_torch_checkpoint_given_to_predict_is_told_to_be_exported_as_the_cli_tells_it(clf, tmp_path):
    """``Classifier.predict("runs/x/best.pt")`` said 'a zip file, not a 2-D image: braintumor.volume_io.read_volumes
    reads scans into slices', where ``braintumor predict`` said what the file is and how to use it. (A zip laid out
    as torch.save lays one out: no torch needed.)"""
    import zipfile

    path = tmp_path / "best.pt"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("best/data.pkl", b"\x80\x02}q\x00.")
        zf.writestr("best/version", "3\n")
    said = ("a torch checkpoint (what 'braintumor train' writes), not an image or scan: export it first (braintumor "
            "export {} --out model.onnx) and use that file as the model (--model model.onnx; in Python, "
            "Classifier.load('model.onnx'))")
    for source, name in ((path, str(path)), (str(path), str(path)), (path.read_bytes(), "RUN/best.pt")):
        with pytest.raises(ImageError) as caught:
            clf.predict(source)
        assert str(caught.value) == said.format(name)
    with zipfile.ZipFile(path, "w") as zf:  # another zip is still told to read_volumes
        zf.writestr("notes/a.txt", "x")
    with pytest.raises(ImageError, match=r"^a zip file, not a 2-D image: braintumor\.volume_io\.read_volumes reads"):
        clf.predict(path)


def test_entries_of_a_folder_listed_as_bytes_are_read_as_their_files(clf, tmp_path):
    """``os.scandir(b"folder")`` gives entries whose path is bytes: ``predict(entry)`` failed on pathlib's "argument
    should be a str object or an os.PathLike object returning str", and ``read_volumes(entry)`` said the scan was
    damaged. A path-like object names a file whatever type its path is (bare bytes are still content)."""
    from dicom_factory import make_dicom

    from braintumor.volume_io import read_volumes

    head = synthetic_head(200, canvas=(224, 224), offset=(12, 12))
    (tmp_path / "a.png").write_bytes(encode(head))
    (tmp_path / "b.dcm").write_bytes(make_dicom(head))
    entries = {os.fsdecode(e.name): e for e in os.scandir(os.fsencode(tmp_path))}
    assert clf.predict(entries["a.png"]) == clf.predict(tmp_path / "a.png")
    assert [p for _, p in clf.predict_many([entries["a.png"]])] == [clf.predict(tmp_path / "a.png")]
    assert read_volumes(entries["b.dcm"]) == read_volumes(tmp_path / "b.dcm")


def test_a_memoryview_of_an_arrays_pixels_is_told_to_pass_the_array(clf):
    """``predict(arr.data)`` (or ``memoryview(arr)``) reads the view as a file's bytes, and a 2-D array's pixels were
    told only "not a recognised image: expected JPEG, PNG, ..."; predict_many's item says so too."""
    head = synthetic_head(200, canvas=(224, 224), offset=(12, 12))
    said = r"not a recognised image.*: a memoryview of 224 x 224 values \(an array's pixels\?\) is read as a file's " \
           r"bytes: pass the array itself, np\.asarray\(view\)"
    with pytest.raises(ImageError, match=said):
        clf.predict(head.data)
    assert re.search(said, str(next(clf.predict_many([memoryview(head)]))[1]))
    assert clf.predict(memoryview(encode(head))) == clf.predict(head)  # a file's bytes as a view: read as before
