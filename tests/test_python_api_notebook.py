"""What a researcher ran into using the Python API from a notebook, beyond the README's example: the lower-level
methods fed a batch of the wrong shape or type, arguments of numpy's types, the heat map's and the scans' objects.
Each was a traceback from deep inside a library, a misleading message or a silently wrong answer."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import synthetic_head

from braintumor import Classifier
from braintumor.heatmap import explain_batch, explain_crops


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.load(threads=1)


HEAD = synthetic_head(200, canvas=(224, 224), offset=(12, 12))


def accepted(clf: Classifier, source: np.ndarray):
    """``source``'s answer as if accepted: a map drawn by hand needs one (a refused answer's Explanation has no map,
    and the synthetic head is refused)."""
    from braintumor.prediction import prediction_from_probs

    return prediction_from_probs(clf.classes, np.array(list(clf.predict(source).probabilities.values())))


def test_a_batch_of_the_wrong_shape_or_type_says_what_the_network_takes(clf):
    """``predict_proba(clf.preprocess(x))`` (one image's (1, S, S) input) was ONNX Runtime's "Invalid rank for
    input"; uint8 crops as a batch were read as levels 0-255 (a silently wrong answer); one crop given to
    ``classify_crops`` said "zip() argument 2 is longer than argument 1"."""
    size = clf.image_size
    x = clf.preprocess(HEAD)
    crop = clf.inspect_crop(HEAD)[0]
    wrong_shape = f"shape \\(N, 1, {size}, {size}\\), got one of shape \\(1, {size}, {size}\\): x\\[None\\]"
    for call in (clf.predict_proba, clf.run, clf.run_all, clf.classify, lambda b: explain_batch(clf, b)):
        with pytest.raises(ValueError, match=wrong_shape):
            call(x)
        with pytest.raises(ValueError, match=r"floats in \[0, 1\].*not uint8.*classify_crops"):
            call(crop[None, None])
    for call in (clf.classify_crops, lambda c: explain_crops(clf, c)):
        with pytest.raises(ValueError, match=f"uint8 crops of shape \\(N, {size}, {size}\\), got uint8 of shape "
                                             f"\\({size}, {size}\\): crop\\[None\\]"):
            call(crop)
        with pytest.raises(ValueError, match="got float32 of shape"):
            call(crop[None].astype(np.float32) / 255)
    # what they take is unchanged: the same answer as predict's
    assert clf.classify(x[None])[0][0] == clf.classify_crops(crop[None])[0][0] == clf.predict(HEAD)
    assert np.array_equal(clf.predict_proba([x, x]), clf.predict_proba(np.stack([x, x])))  # a list of inputs too


def test_numpy_integers_are_whole_numbers_for_batch_size_and_threads(clf):
    """``batch_size=np.int64(2)`` (from arithmetic on an array's shape) said "must be a whole number", as did
    ``threads=np.int32(1)``; booleans, fractions and zero are still refused."""
    answers = [p for _, p in clf.predict_many([HEAD, HEAD, HEAD], batch_size=np.int64(2))]
    assert answers == [clf.predict(HEAD)] * 3
    loaded = Classifier.load(threads=np.int32(1))
    assert loaded.session.get_session_options().intra_op_num_threads == 1
    for bad in (np.int64(0), np.float64(2.0), np.bool_(True), True):
        with pytest.raises(ValueError, match="batch_size must be a whole number"):
            clf.predict_many([HEAD], batch_size=bad)
        with pytest.raises(ValueError, match="threads must be a whole number"):
            Classifier.load(threads=bad)


def test_read_volumes_takes_an_open_file_and_names_a_wrong_kind_of_argument(tmp_path, caplog):
    """``read_volumes(open("scan.nii.gz", "rb"))`` (``predict`` takes an open file) said "this scan could not be read
    (TypeError)" and logged an unexpected error, as did None, a list of paths and an array: a TypeError says what it
    takes."""
    from dicom_factory import nifti_bytes
    from PIL import Image

    from braintumor.volume_io import read_volumes

    path = tmp_path / "head.nii"
    path.write_bytes(nifti_bytes(np.stack([HEAD] * 3, axis=-1)))
    want = read_volumes(path)
    with open(path, "rb") as f:
        got = read_volumes(f)
    assert [v.path for v in got] == [str(path)] and got[0].slices[0].meta == want[0].slices[0].meta
    assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(got[0].slices, want[0].slices, strict=True))
    import io

    assert read_volumes(io.BytesIO(path.read_bytes()), name="upload.nii")[0].path == "upload.nii"
    with open(path) as text, pytest.raises(TypeError, match="text mode"):
        read_volumes(text)
    for wrong, hint in ((None, "NoneType$"), ([path], "list$"), (np.zeros((4, 4, 4)), "ndarray: Classifier.predict"),
                        (Image.new("L", (4, 4)), "Image: Classifier.predict")):
        with pytest.raises(TypeError, match=r"^read_volumes takes a path, bytes, a binary file, a pydicom Dataset "
                                            rf"\(or a series' list of them\) or a nibabel NIfTI image, not .*{hint}"):
            read_volumes(wrong)
    assert "unexpected" not in caplog.text


def test_explain_names_a_wrong_first_argument(clf):
    """``explain("model.onnx", x)`` and ``explain(x, clf)`` said "'str' object has no attribute 'inspect_crop'"."""
    from braintumor.heatmap import explain

    for wrong in ("model.onnx", HEAD):
        with pytest.raises(TypeError, match=r"^explain\(clf, source\) takes a loaded Classifier first"):
            explain(wrong, HEAD)
    assert explain(clf, HEAD).prediction == clf.predict(HEAD)


def test_the_overlay_takes_a_weight_from_0_to_1(clf):
    """``heatmap_png(alpha)`` drew inverted colours for -1, clipped ones for 1.5 and a garbled image with a
    RuntimeWarning for NaN, where the weight is from 0 (the scan alone) to 1."""
    from braintumor.heatmap import Explanation

    size = clf.image_size  # a map drawn by hand: the synthetic head is refused, and a refused input has none
    cam = np.outer(np.linspace(0, 1, size), np.ones(size)).astype(np.float32)
    explained = Explanation(accepted(clf, HEAD), cam, clf.inspect_crop(HEAD)[0])
    for bad in (-1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="from 0 to 1"):
            explained.heatmap_png(bad)
    assert explained.heatmap_png(0) == explained.heatmap_png(0.0) and explained.heatmap_png(1) is not None


def test_slices_volumes_and_explanations_compare_by_value(clf):
    """``explain(clf, x) == explain(clf, x)``, and two Slices or Volumes of equal pixels, raised "The truth value of an
    array with more than one element is ambiguous"; like a Prediction, none is hashable."""
    from braintumor.heatmap import Explanation, explain
    from braintumor.volume_objects import Slice, Volume

    def volume(pixels: np.ndarray, meta: dict) -> Volume:
        return Volume("scan.nii", "nifti", [Slice(pixels.copy(), meta)])

    assert volume(HEAD, {"nifti": {"z_mm": 1.0}}) == volume(HEAD, {"nifti": {"z_mm": 1.0}})
    assert volume(HEAD, {"nifti": {"z_mm": 1.0}}) != volume(HEAD, {"nifti": {"z_mm": 2.0}})
    assert Slice(HEAD) != Slice(HEAD[::-1]) and Slice(HEAD) != Slice(HEAD, colourfulness=20.0)
    assert Slice(HEAD) != Slice(HEAD[:100]) and Slice(HEAD) != "scan.nii"
    assert explain(clf, HEAD) == explain(clf, HEAD.copy())
    crop = clf.inspect_crop(HEAD)[0]
    drawn = Explanation(accepted(clf, HEAD), np.ones(crop.shape, np.float32), crop)
    assert drawn != explain(clf, HEAD) and explain(clf, HEAD) != drawn
    assert drawn != Explanation(drawn.prediction, None, crop) != drawn  # the same answer, a map or none
    assert drawn != Explanation(drawn.prediction, np.zeros(crop.shape, np.float32), crop)
    assert drawn == Explanation(drawn.prediction, drawn.cam.copy(), crop.copy())
    for unhashable in (Slice(HEAD), drawn):
        with pytest.raises(TypeError, match="unhashable"):
            hash(unhashable)


def test_a_volume_and_a_slice_show_in_one_line_with_their_sizes():
    """A notebook cell ending in ``read_volumes(...)`` printed each slice's pixels: 900 lines for a 150-slice
    volume. Their reprs now say how many slices of what size, and the safe metadata, in one line each."""
    from braintumor.volume_objects import Slice, Volume

    one = Slice(np.zeros((256, 256), np.uint8), {"nifti": {"z_mm": 1.5}})
    assert repr(one) == "Slice(pixels=<256 x 256 uint8>, meta={'nifti': {'z_mm': 1.5}}, colourfulness=0.0)"
    volume = Volume("scan.nii", "nifti", [one] * 150, notes=("a note",))
    assert repr(volume) == ("Volume(path='scan.nii', kind='nifti', slices=<150 slices of 256 x 256 uint8>, "
                            "series=None, notes=('a note',))")
    mixed = Volume("series.zip", "dicom", [one, Slice(np.zeros((64, 80), np.uint8))], series=1)
    assert "slices=<2 slices of several sizes>, series=1" in repr(mixed)
    assert "slices=<1 slice of 256 x 256 uint8>" in repr(Volume("a.dcm", "dicom", [one]))


def test_a_pil_image_of_every_mode_pillow_converts_is_read_as_its_gray_levels():
    """A premultiplied gray + alpha image (mode "La", as Pillow's resizing makes one) said "image cannot be read as
    grayscale (ValueError)": Pillow converts it to LA only. Each 8-bit mode gives the gray levels its L image has."""
    from PIL import Image

    from braintumor.image_arrays import gray_from_memory

    gray = Image.fromarray(HEAD)
    opaque = gray.convert("LA")
    half = Image.merge("LA", (gray, Image.new("L", gray.size, 128)))
    want = np.asarray(gray)
    for img in (gray, gray.convert("RGB"), gray.convert("RGBA"), opaque, opaque.convert("La"), gray.convert("RGBX"),
                gray.convert("RGBA").convert("RGBa"), gray.convert("P"), gray.convert("PA"), gray.convert("CMYK"),
                gray.convert("YCbCr")):
        got = gray_from_memory(img)[0]
        assert np.abs(got.astype(int) - want).max() <= 1, img.mode
    # transparency on black: the premultiplied image gives what its straight form gives
    assert np.array_equal(gray_from_memory(half.convert("La"))[0], gray_from_memory(half)[0])


def test_a_batch_of_images_in_one_array_is_told_how_to_predict_each(clf):
    """A (N, 1, H, W) or (N, C, H, W) array, as torch's DataLoader gives a batch, was refused with its shape only; the
    hint's call predicts each image of it."""
    from braintumor import ImageError

    gray = np.stack([HEAD, HEAD])[:, None]  # (2, 1, H, W)
    colour = np.repeat(gray, 3, axis=1)  # (2, 3, H, W)
    for batch, call in ((gray, r"predict_many\(list\(batch\)\)"),
                        (colour, r"predict_many\(list\(np\.moveaxis\(batch, 1, -1\)\)\)")):
        with pytest.raises(ImageError, match=rf"not one of shape \(2, \d, 224, 224\) \(a batch of images\? {call} "):
            clf.predict(batch)
    assert [p for _, p in clf.predict_many(list(gray))] == [p for _, p in clf.predict_many(
        list(np.moveaxis(colour, 1, -1)))] == [clf.predict(HEAD)] * 2


def test_a_folder_given_to_predict_is_told_how_to_predict_its_images(clf, tmp_path):
    """``predict("scans/")`` said only "is a folder, not an image"; the hint's calls read what it holds."""
    from conftest import encode

    from braintumor import ImageError
    from braintumor.image_io import expand_inputs

    (tmp_path / "a.png").write_bytes(encode(HEAD))
    for folder in (tmp_path, str(tmp_path)):
        with pytest.raises(ImageError, match=r"^is a folder, not an image: .*\(predict_many\(braintumor\.image_io\."
                                             r"expand_inputs\(\[folder\]\)\) predicts the images in it; "):
            clf.predict(folder)
    assert [p for _, p in clf.predict_many(expand_inputs([tmp_path]))] == [clf.predict(HEAD)]


def test_an_explanation_shows_in_one_line_with_its_arrays_sizes(clf):
    """A notebook cell ending in ``explain(clf, x)`` showed numpy's summaries of both arrays: 15 lines."""
    from braintumor.heatmap import Explanation, explain

    explained = explain(clf, HEAD)
    refused = Explanation(explained.prediction, None, explained.image)  # as a refused input's (HEAD's, today)
    size = clf.image_size
    assert repr(refused) == (f"Explanation(prediction={refused.prediction!r}, cam=None, "
                             f"image=<{size} x {size} uint8>)")
    drawn = Explanation(accepted(clf, HEAD), np.zeros((size, size), np.float32), refused.image)
    assert repr(drawn).endswith(f"cam=<{size} x {size} float32>, image=<{size} x {size} uint8>)")
    assert "\n" not in repr(drawn)


def test_a_nibabel_volume_is_told_a_call_that_reads_it_upright(clf):
    """A volume with its slices last was told ``predict_many(np.moveaxis(volume, -1, 0))``, which raised TypeError
    (predict_many takes no array) and, given as a list, had every slice refused as on its side: nibabel's array is in
    (x, y) order. The hint's call reads it upright."""
    import nibabel as nib
    from dicom_factory import axial_volume

    from braintumor import ImageError
    from braintumor.volume_io import read_volumes

    image = nib.Nifti1Image(axial_volume([HEAD] * 12).astype(np.int16), np.eye(4))
    with pytest.raises(ImageError, match=r"as nibabel gives one\? braintumor\.volume_io\.read_volumes reads its file, "
                                         r"or the nibabel image itself, into upright slices") as said:
        clf.predict(np.asarray(image.dataobj))
    assert "predict_many(np.moveaxis" not in str(said.value)
    (volume,) = read_volumes(image)
    for s in volume.slices:  # HEAD as it is shown (its levels rescaled), not turned
        assert s.pixels.shape == HEAD.shape and np.corrcoef(s.pixels.ravel(), HEAD.ravel())[0, 1] > 0.99
        assert "on its side" not in (clf.predict(s).reason or "")


def test_a_float_or_signed_three_channel_array_is_told_what_else_it_may_be(clf):
    """An (H, W, 3) float64 array, as nibabel's ``get_fdata()`` gives a volume of 3 slices, or a colour image in [0, 1],
    was told only that a colour array must be uint8; the first hint's call gives the uint8 image's answer."""
    from braintumor import ImageError

    rgb = np.repeat(HEAD[..., None], 3, axis=-1)
    unit = rgb / 255.0
    with pytest.raises(ImageError, match=r"not float64 \(colour in \[0, 1\]\? np\.round\(arr \* 255\)\.astype\(np\."
                                         r"uint8\) makes it 8-bit; 3 slices of a volume, as nibabel gives one\? "
                                         r"braintumor\.volume_io\.read_volumes reads its file"):
        clf.predict(unit)
    assert clf.predict(np.round(unit * 255).astype(np.uint8)) == clf.predict(rgb)
    with pytest.raises(ImageError, match=r"not int16 \(3 slices of a volume, as nibabel gives one\? "):
        clf.predict(rgb.astype(np.int16))


def test_predict_many_takes_an_array_of_file_names(clf, tmp_path):
    """``predict_many(np.array(glob(...)))`` or a data frame column's ``.values`` was refused as "a stack of slices in
    one (N, H, W) array"; an array of images is still refused."""
    from conftest import encode

    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    for path in paths:
        path.write_bytes(encode(HEAD))
    want = [clf.predict(HEAD)] * 2
    for names in (np.array([str(p) for p in paths]), np.array(paths, dtype=object)):
        assert [(str(src), p) for src, p in clf.predict_many(names)] == list(zip(map(str, paths), want, strict=True))
    with pytest.raises(TypeError, match=r"a stack of slices in one \(N, H, W\) array list\(stack\)"):
        clf.predict_many(np.stack([HEAD, HEAD]))


def test_a_batch_holding_nan_or_infinity_is_refused_not_answered_as_the_first_class(clf):
    """A model input with a NaN or an infinite value (a researcher's own normalisation of a float slice, made
    without ``preprocess``) gave NaN probabilities, and ``classify`` the first class as its label, ``ood`` False:
    a silently wrong answer. ``predict(array)`` reads such values as background; a batch says which image holds them."""
    x = clf.preprocess(HEAD)
    for bad in (np.nan, np.inf, -np.inf):
        batch = np.stack([x, x, x])
        batch[1, 0, 5, 5] = bad
        for call in (clf.predict_proba, clf.run, clf.run_all, clf.classify, lambda b: explain_batch(clf, b)):
            with pytest.raises(ValueError, match=r"NaN or infinite values \(image 1 first\).*predict\(array\)"):
                call(batch)
    assert clf.classify(np.stack([x, x]))[0][0] == clf.predict(HEAD)  # finite inputs: answered as before


def test_a_batch_outside_the_preprocessed_range_is_refused_not_answered(clf):
    """A batch of levels 0-255 (``crop.astype(np.float32)`` without the / 255), or normalised by the caller to [-1, 1]
    or mean 0, was answered: ``predict_proba`` as confidently as ever (the network standardises each image), and
    ``classify`` refused every image as "far from every training slice". It says the range and what makes it."""
    x = clf.preprocess(HEAD)
    good = np.stack([x, x, x])
    for bad in (good * 255, good * 2 - 1, (good - good.mean()) / good.std()):
        batch = good.copy()
        batch[2] = bad[2]
        for call in (clf.predict_proba, clf.run, clf.run_all, clf.classify, lambda b: explain_batch(clf, b)):
            with pytest.raises(ValueError, match=r"model inputs must be in \[0, 1\] \(what preprocess\(\) gives\), "
                                                 r"got values from -?[0-9.]+ to [0-9.]+ \(image 2 first\)"):
                call(batch)
    with pytest.raises(ValueError, match=r"0-255 levels\? divide by 255"):
        clf.predict_proba(good * 255)
    edges = good.copy()
    edges[0, 0, 0, :2] = (0.0, 1.0)  # the range's own ends, and a little past them (a resize's overshoot), are taken
    edges[1, 0, 0, :2] = (-0.01, 1.01)
    assert clf.classify(edges)[0][2] == clf.predict(HEAD)


def test_a_float64_batch_is_checked_as_the_float32_the_network_takes(clf):
    """A float64 batch is run as float32: a value finite in float64 but past float32's range (1e39) became infinite
    there and was answered with NaN probabilities (classify: the first class, ood False), past the NaN check."""
    x = clf.preprocess(HEAD).astype(np.float64)
    batch = np.stack([x, x])
    batch[1, 0, 5, 5] = 1e39
    for call in (clf.predict_proba, clf.classify):
        with pytest.raises(ValueError, match=r"NaN or infinite values \(image 1 first\)"):
            call(batch)
    batch[1, 0, 5, 5] = batch[0, 0, 5, 5]
    assert clf.classify(batch)[0] == clf.classify(batch.astype(np.float32))[0]  # float64 answered as before


def test_explain_batch_takes_a_batch_of_nested_lists_as_classify_does(clf):
    """``classify`` and ``predict_proba`` take a batch as nested lists (read back from JSON, say); ``explain_batch``
    failed on it with "'list' object has no attribute 'shape'" after the network had run."""
    batch = np.stack([clf.preprocess(HEAD)] * 2)
    assert explain_batch(clf, batch.tolist()) == explain_batch(clf, batch)


def test_an_npz_archive_loaded_is_told_to_pass_its_arrays(clf, tmp_path):
    """``np.load("slices.npz")`` is an archive of named arrays, not one: ``predict`` of it said only "not NpzFile", and
    ``predict_many`` of it iterated its keys, each "file not found: slice0"."""
    np.savez(tmp_path / "slices.npz", slice0=HEAD, slice1=HEAD)
    with np.load(tmp_path / "slices.npz") as archive:
        with pytest.raises(TypeError, match=r"not NpzFile: an \.npz archive of arrays \(slice0, slice1\): pass one, "
                                            r"archive\[key\]"):
            clf.predict(archive)
        with pytest.raises(TypeError, match=r"not an \.npz archive, which iterates its keys: pass its arrays, "
                                            r"\[archive\[key\] for key in archive\.files\]"):
            clf.predict_many(archive)
        assert [p for _, p in clf.predict_many([archive[key] for key in archive.files])] == [clf.predict(HEAD)] * 2


def test_a_finite_batch_is_checked_without_a_copy_of_its_size(clf):
    """The NaN check made a bool copy of the whole batch (a quarter of its bytes) on every call; its finite minimum
    and maximum say the batch is finite without one. Large finite values (past the range) are refused without a
    warning."""
    import tracemalloc
    import warnings

    from braintumor.model_inputs import check_model_input

    size = clf.image_size
    batch = np.full((64, 1, size, size), 0.5, dtype=np.float32)
    tracemalloc.start()
    try:
        check_model_input(batch, size)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < batch.nbytes / 16
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with pytest.raises(ValueError, match=r"must be in \[0, 1\]"):
            check_model_input(np.full((2, 1, size, size), 3e38, np.float32), size)


def test_a_tensor_numpy_cannot_read_is_a_type_error_saying_how_to_convert_it(clf):
    """A torch tensor that requires grad (or lives on a GPU) handed to ``predict_proba``, ``classify`` or
    ``classify_crops`` raised torch's RuntimeError from inside numpy; ``predict``'s hint (``x.cpu().numpy()``) failed
    on it the same way."""

    class GradTensor:  # what torch does (no torch needed): numpy() refused while the tensor requires grad
        def __array__(self, dtype=None, copy=None):
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. Use tensor.detach().numpy() instead.")

    said = r"not GradTensor, which numpy cannot read \(Can't call numpy\(\).*\): a torch tensor: x\.detach\(\)\.cpu\(\)"
    for call in (clf.predict_proba, clf.run, clf.classify, clf.classify_crops):
        with pytest.raises(TypeError, match=said):
            call(GradTensor())
    with pytest.raises(TypeError, match=r"not GradTensor: np\.asarray\(x\) .*\(a torch tensor: x\.detach\(\)\.cpu\(\)"):
        clf.predict(GradTensor())


def test_a_list_of_inputs_of_different_shapes_names_the_odd_one(clf):
    """``predict_proba([x, x[:, :5]])`` showed numpy's own "setting an array element with a sequence ... inhomogeneous
    shape"; a list of crops of different sizes given to ``classify_crops`` too."""
    size = clf.image_size
    x = clf.preprocess(HEAD)
    crop = clf.inspect_crop(HEAD)[0]
    said = (f"expected model inputs of one shape, \\(1, {size}, {size}\\) each, got a list of 3 whose item 2 has shape "
            f"\\(1, 5, {size}\\) \\(item 0: \\(1, {size}, {size}\\)\\): each must be of the same shape")
    for call in (clf.predict_proba, clf.classify):
        with pytest.raises(ValueError, match=said):
            call([x, x, x[:, :5]])
    with pytest.raises(ValueError, match=f"crops of one shape, \\({size}, {size}\\) each, got a tuple of 2 whose "
                                         f"item 0 has shape \\(5, {size}\\): each must"):
        clf.classify_crops((crop[:5], crop))
    with pytest.raises(ValueError, match=r"item 1 has shape ragged \(rows of different lengths\)"):
        clf.predict_proba([x, [[[0.0] * size] * size, [[0.0] * 3]]])
