"""Arguments a Python user passes by accident (an empty name, a name as bytes, an empty batch, a failing generator)
and what the API says of them: the same words whichever call was given them."""

from __future__ import annotations

import os

import numpy as np
import pytest

from braintumor import Classifier


def test_an_empty_model_name_is_refused_not_read_as_the_shipped_model(monkeypatch):
    """``Classifier.load(os.environ.get("MODEL", ""))`` loaded the shipped model without a word (the CLI refuses
    ``--model ""`` for that reason); None still means $BRAINTUMOR_MODEL, else the shipped one."""
    monkeypatch.delenv("BRAINTUMOR_MODEL", raising=False)
    with pytest.raises(ValueError, match=r"^expected a model file name, got an empty string \(None: "):
        Classifier.load("")
    assert Classifier.load(None).path.name == "braintumor-tumornet-s.onnx"


def test_an_empty_image_name_is_refused_as_empty_not_read_as_the_working_folder(clf, tmp_path, monkeypatch):
    """``Path("")`` is ".": ``predict("")`` said "is a folder, not an image: ." with a hint to predict the folder's
    images, ``expand_inputs([""])`` (an empty cell of a column of paths) walked the working folder and predicted what
    it held, and ``read_volumes("")`` read it as a DICOM folder; the CLI refuses an empty name."""
    from conftest import encode, synthetic_head

    from braintumor import ImageError
    from braintumor.heatmap import explain
    from braintumor.image_io import expand_inputs
    from braintumor.volume_io import read_volumes

    (tmp_path / "slice.png").write_bytes(encode(synthetic_head()))
    monkeypatch.chdir(tmp_path)
    for call in (clf.predict, lambda name: explain(clf, name), read_volumes):
        with pytest.raises(ImageError, match=r"^expected a file (or folder )?name, got an empty string$"):
            call("")
    [(_, outcome)] = clf.predict_many([""])
    assert str(outcome) == "expected a file name, got an empty string"
    with pytest.raises(ValueError, match=r"^expand_inputs: item 1 is an empty string, which names no file or folder$"):
        list(expand_inputs(["slice.png", ""]))
    assert [p.name for p in expand_inputs(["."])] == ["slice.png"]  # the folder, named, is still walked


def test_explain_refuses_a_folder_or_a_file_of_no_image_format_in_the_words_predict_uses(clf, tmp_path):
    """``explain(clf, folder)`` said only "is a folder, not an image" and ``explain(clf, notes)`` only "not a
    recognised image", where ``predict`` of the same names says which call reads them."""
    from braintumor import ImageError
    from braintumor.heatmap import explain

    (tmp_path / "notes.txt").write_text("not an image")
    for name in (tmp_path, str(tmp_path), tmp_path / "notes.txt", b"not an image"):
        with pytest.raises(ImageError) as said_by_predict:
            clf.predict(name)
        with pytest.raises(ImageError) as said_by_explain:
            explain(clf, name)
        assert str(said_by_explain.value) == str(said_by_predict.value)
        assert type(said_by_explain.value) is type(said_by_predict.value)
        assert "braintumor.volume_io.read_volumes" in str(said_by_predict.value)


def test_an_empty_batch_has_no_answers_as_it_has_no_probabilities(clf):
    """``classify``, ``classify_crops``, ``explain_batch`` and ``explain_crops`` of an empty batch (a list of slices
    filtered down to none, then np.stack'ed with its shape) raised numpy's "AxisError: axis 1 is out of bounds" from
    inside the input checks, where ``predict_proba`` gives its (0, K) probabilities."""
    from braintumor.heatmap import explain_batch, explain_crops

    size = clf.image_size
    batch, crops = np.zeros((0, 1, size, size), np.float32), np.zeros((0, size, size), np.uint8)
    assert clf.predict_proba(batch).shape == (0, len(clf.classes))
    assert clf.classify(batch)[0] == clf.classify_crops(crops)[0] == []
    assert explain_batch(clf, batch) == explain_crops(clf, crops) == []


def test_a_2d_image_given_to_read_volumes_is_told_which_call_reads_it(tmp_path):
    """``read_volumes("slice.png")`` said only "not a recognised volume", where ``predict`` of a DICOM file says that
    read_volumes reads it; content of no format says what it was told before."""
    from conftest import encode, synthetic_head

    from braintumor import ImageError
    from braintumor.volume_io import read_volumes

    png = encode(synthetic_head())
    (tmp_path / "slice.png").write_bytes(png)
    for source in (tmp_path / "slice.png", png, encode(synthetic_head(), "JPEG")):
        with pytest.raises(ImageError, match=r"^not a recognised volume: .* files \(a 2-D image: Classifier\.predict "
                                             r"reads it\)$"):
            read_volumes(source)
    with pytest.raises(ImageError, match=r"^not a recognised volume: expected DICOM, NIfTI \(\.nii, \.nii\.gz\) or a "
                                         r"\.zip of DICOM or NIfTI files$"):
        read_volumes(b"plain text, no image")


@pytest.mark.parametrize("alpha", ["0.5", None, [0.5]], ids=["str", "None", "list"])
def test_an_overlay_weight_that_is_no_number_is_told_so(clf, alpha):
    """``heatmap_png("0.5")`` (a weight read from a config file or a form) said "'<=' not supported between instances
    of 'float' and 'str'"; numbers of any type, numpy's too, are still taken."""
    import numpy as np

    from braintumor.heatmap import Explanation
    from braintumor.prediction import Prediction

    size = clf.image_size  # an accepted answer: a refused one (a blank image's) has no map
    cam = np.outer(np.linspace(0, 1, size), np.ones(size)).astype(np.float32)
    answer = Prediction("glioma", 0.9, {"glioma": 0.9, "notumor": 0.1})
    explained = Explanation(answer, cam, np.zeros((size, size), np.uint8))
    with pytest.raises(TypeError, match=r"^alpha is the colour's weight at the hottest pixel, a number from 0 to 1, "
                                        rf"not {type(alpha).__name__}$"):
        explained.heatmap_png(alpha)
    assert explained.heatmap_png(np.float32(0.5)) == explained.heatmap_png(np.array(0.5)) == explained.heatmap_png(0.5)


def test_predict_many_answers_the_images_taken_before_the_iterable_itself_fails(clf):
    """A generator that fails (a share gone away, a NaN in a column of names given to ``expand_inputs``) lost the
    answers of the images taken before it in the same batch, where an item that is no image (tests/
    test_python_api_inputs.py) has them answered first."""
    from conftest import synthetic_head

    head = synthetic_head()

    def images():
        yield head
        yield head[::-1]
        raise OSError("the share went away")

    answered = []
    with pytest.raises(OSError, match=r"^the share went away$"):
        for source, outcome in clf.predict_many(images(), batch_size=8):
            answered.append((source, outcome))
    assert [outcome for _, outcome in answered] == [clf.predict(head), clf.predict(head[::-1])]
    assert answered[0][0] is head  # each source as it was given


def test_expand_inputs_names_an_item_that_is_no_name_and_takes_names_as_bytes(tmp_path):
    """A NaN (an empty cell of a data frame's column of paths) said pathlib's "expected str, bytes or os.PathLike
    object, not float", naming no item; a name as bytes (``os.listdir(b".")``) said "argument should be a str
    object", where ``predict`` reads such a file by its name as str."""
    from conftest import encode, synthetic_head

    from braintumor.image_io import expand_inputs

    (tmp_path / "slice.png").write_bytes(encode(synthetic_head()))
    with pytest.raises(TypeError, match=r"^expand_inputs: item 1 \(float\) is not a file or folder name$"):
        list(expand_inputs([tmp_path, float("nan")]))
    assert list(expand_inputs([bytes(tmp_path)])) == list(expand_inputs([tmp_path])) == [tmp_path / "slice.png"]
    assert list(expand_inputs([bytes(tmp_path / "slice.png")])) == [tmp_path / "slice.png"]
    for no_list in (None, 5):  # raised "'NoneType' object is not iterable" from inside, when the result was iterated
        with pytest.raises(TypeError, match=rf"^expand_inputs takes a list of files and folders, not "
                                            rf"{type(no_list).__name__}$"):
            expand_inputs(no_list)


def test_a_file_name_given_as_bytes_is_told_that_bytes_are_content(clf, tmp_path):
    """``predict(b"scan.png")`` or ``read_volumes(b"series.zip")`` (a name from ``os.listdir(b".")`` or a bytes
    column) said only "not a recognised image" (pointing at read_volumes) or "volume": bytes are content, and these
    are a name."""
    from conftest import encode, synthetic_head

    from braintumor.heatmap import explain
    from braintumor.image_io import ImageError, UnrecognisedImage
    from braintumor.volume_io import read_volumes

    name = tmp_path / "scan.png"
    name.write_bytes(encode(synthetic_head()))
    named = r": bytes are read as content, and these are a file's or folder's name: pass it as a str \(os\.fsdecode\)$"
    for call in (clf.predict, lambda source: explain(clf, source)):
        with pytest.raises(UnrecognisedImage, match=r"^not a recognised image: .*" + named):
            call(bytes(name))
    for source in (name, tmp_path):
        with pytest.raises(ImageError, match=r"^not a recognised volume: .* NIfTI files" + named):
            read_volumes(bytes(source))
    with pytest.raises(UnrecognisedImage, match=r"\(Classifier\.predict reads 2-D images; "):
        clf.predict(bytes(tmp_path / "gone.png"))  # no file of that name: what any other bytes are told
    assert clf.predict(os.fsdecode(bytes(name))) == clf.predict(name)


def test_a_model_path_as_bytes_is_read_and_one_of_no_path_type_is_told_what_load_takes():
    """``Classifier.load(b"model.onnx")`` said pathlib's "argument should be a str object ...", and
    ``Classifier.load(3)`` "expected str, bytes or os.PathLike object, not int", naming bytes it did not take."""
    shipped = Classifier.load()
    assert Classifier.load(os.fsencode(shipped.path)).path == shipped.path
    with pytest.raises(TypeError, match=r"^Classifier\.load takes a model file's path or None, not int$"):
        Classifier.load(3)


def test_an_overlay_of_an_image_that_is_not_8_bit_gray_or_not_the_maps_shape_is_refused():
    """``overlay`` (and the heat map of an Explanation built by hand) drew a float image in [0, 1] black, and raised
    numpy's IndexError for 16-bit levels or a map of another size, where it blends a uint8 image with its map."""
    import numpy as np

    from braintumor.heatmap import overlay

    heat = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    levels = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    for gray, map_ in ((levels / 255.0, heat), (levels.astype(np.uint16) * 257, heat), (levels, heat[:4])):
        with pytest.raises(ValueError, match=r"^expected a uint8 gray image and a heat map of its shape, got "):
            overlay(gray, map_)
    assert overlay(levels, heat).shape == (8, 8, 3)


def test_a_heat_map_holding_a_nan_is_refused_in_words():
    """``overlay``, ``colorize`` and an Explanation's ``heatmap_png`` of a map holding a NaN (one built by hand)
    raised numpy's "IndexError: index -9223372036854775808 is out of bounds"."""
    import warnings

    from braintumor.heatmap import Explanation, colorize, overlay
    from braintumor.prediction import Prediction

    heat = np.linspace(0, 1, 64, dtype=np.float32).reshape(8, 8)
    heat[3, 4] = np.nan
    levels = np.arange(64, dtype=np.uint8).reshape(8, 8) * 4
    said = r"^a heat map's values are numbers from 0 to 1 \(an Explanation's cam\), not NaN$"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's of the NaN's cast
        for draw in (lambda: overlay(levels, heat), lambda: colorize(heat),
                     lambda: Explanation(Prediction("glioma", 0.9, {"glioma": 0.9, "notumor": 0.1}), heat,
                                                   levels).heatmap_png()):
            with pytest.raises(ValueError, match=said):
                draw()


def test_a_slice_made_by_hand_without_metadata_is_predicted_as_one_with_none(clf):
    """``predict(Slice(pixels, None))`` and a meta of ``{"dicom": None}`` raised AttributeError ('NoneType' object has
    no attribute 'get'), which predict_many let through mid-batch; a meta that is no dict is refused when made."""
    from conftest import synthetic_head

    from braintumor.volume_objects import Slice

    head = synthetic_head()
    assert Slice(head, None) == Slice(head) and Slice(head, None).meta == {}
    assert clf.predict(Slice(head, None)) == clf.predict(Slice(head, {"dicom": None})) == clf.predict(Slice(head))
    with pytest.raises(TypeError, match=r"^a Slice's meta is a dict \(or None\), not str$"):
        Slice(head, "MR")
    # a DICOM part that is no dict, or a modality that is no str, failed in predict on "'str' object has no attribute
    # 'get'" or "'int' object has no attribute 'strip'"; refused when made, as the meta itself is
    for meta, said in (({"dicom": "MR"}, r"meta\['dicom'\] is a dict \(or None\), not str"),
                       ({"dicom": {"modality": 5}}, r"meta\['dicom'\]\['modality'\] is a str \(or None\), not int")):
        with pytest.raises(TypeError, match=f"^a Slice's {said}$"):
            Slice(head, meta)
    assert clf.predict(Slice(head, {"dicom": {"modality": None}})) == clf.predict(Slice(head))


@pytest.mark.parametrize(("fields", "said"), [
    ({"colourfulness": "x"}, "colourfulness is a number, not str"),
    ({"colourfulness": None}, "colourfulness is a number, not NoneType"),
    ({"colourfulness": True}, "colourfulness is a number, not bool"),
    ({"error": 5}, r"error is a str \(or None\), not int"),
    ({"stored": "1"}, "stored is an int, not str"),
    ({"stored": 1.5}, "stored is an int, not float"),
    ({"modality_source": "CT"}, r"modality_source is a tuple of two str \(or None\), not 'CT'"),
    ({"pixels": [[0] * 64] * 64}, "pixels are a numpy array, not list"),
])
def test_a_slice_made_by_hand_with_a_wrong_type_names_the_field(clf, fields, said):
    """``Slice(pixels, colourfulness="x")`` failed inside predict with "'>' not supported between instances of 'str'
    and 'float'" (a list of pixels: "expected ... a scan's Slice, not list", of a Slice); refused when made."""
    from conftest import synthetic_head

    from braintumor.volume_objects import Slice

    head = synthetic_head()
    with pytest.raises(TypeError, match=f"^a Slice's {said}$"):
        Slice(**{"pixels": head, **fields})
    with pytest.raises(ValueError, match=r"^a Slice's colourfulness is a number >= 0, not nan$"):
        Slice(head, colourfulness=float("nan"))  # a colour slice said so was checked as gray
    source = ("Rescale Type", "HU")
    kept = Slice(head, colourfulness=np.float32(3), stored=np.int64(5), modality_source=source)  # numpy's numbers
    assert clf.predict(kept) == clf.predict(Slice(head, colourfulness=3, stored=5, modality_source=source))


def test_turned_takes_a_prediction_as_it_takes_its_record():
    """``turned(pred)`` raised "'Prediction' object has no attribute 'get'"; the README's ``turned(pred.to_dict())``
    gives the same answer."""
    from braintumor import Prediction
    from braintumor.orientation import TURN_ADVICE
    from braintumor.series import turned

    probs = {"glioma": 0.9, "meningioma": 0.05, "notumor": 0.03, "pituitary": 0.02}
    side = Prediction(None, None, probs, ood=True, ood_score=0.8, reason=f"on its side: {TURN_ADVICE}")
    far = Prediction(None, None, probs, ood=True, ood_score=2.0, reason="its features are far from every slice")
    sure = Prediction("glioma", 0.9, probs, ood_score=0.5)
    assert [turned(p) for p in (side, far, sure)] == [turned(p.to_dict()) for p in (side, far, sure)] == [
        True, False, False]
    for no_record in (None, "x", [side]):  # "'NoneType' object has no attribute 'get'"
        with pytest.raises(TypeError, match=rf"^turned takes a Prediction or its record \(a dict\), not "
                                            rf"{type(no_record).__name__}$"):
            turned(no_record)


@pytest.mark.parametrize("limit", [None, 0, -1, 2.5, True], ids=["None", "0", "-1", "2.5", "True"])
def test_a_scan_limit_that_is_no_count_is_refused_by_name_not_blamed_on_the_scan(stack, limit):
    """``read_volumes(zip, max_slices=None)`` (meant as "no limit") said "no DICOM image found (skipped 6 file(s):
    DICOM header cannot be read (TypeError))" of a sound series, ``max_slices=0`` "DICOM file has 1 frames; the limit
    is 0", and ``max_pixels=None`` "this scan could not be read (TypeError)" with a warning logged."""
    import numpy as np
    from dicom_factory import axial_volume, nifti_bytes, series, zip_bytes

    from braintumor.volume_io import read_volumes

    scans = (zip_bytes(series(stack)), nifti_bytes(axial_volume(stack)))
    for scan in scans:
        for argument in ("max_slices", "max_pixels"):
            with pytest.raises(ValueError, match=rf"^{argument} must be a whole number of at least 1, got {limit!r}$"):
                read_volumes(scan, **{argument: limit})
        assert len(read_volumes(scan, max_slices=np.int64(len(stack)))[0].slices) == len(stack)
    with pytest.raises(TypeError, match=r"^name is what results call the input: a str or None, not int$"):
        read_volumes(scans[0], name=3)


def test_two_slices_in_one_array_are_told_to_be_predicted_each_not_only_to_move_channels_last(clf):
    """A (2, H, W) array was told only "channels first? np.moveaxis(arr, 0, -1) puts them last": done, its second
    slice was read as the first's transparency (gray + alpha), and the pair got one answer."""
    import re

    import numpy as np
    from conftest import synthetic_head

    from braintumor import ImageError

    pair = np.stack([synthetic_head(), synthetic_head()[::-1]])
    with pytest.raises(ImageError, match=re.escape(f"not one of shape {pair.shape} (two slices? predict_many(list("
                                                   "stack)) predicts each; gray + alpha channels first? ")):
        clf.predict(pair)
    assert [p for _, p in clf.predict_many(list(pair))] == [clf.predict(pair[0]), clf.predict(pair[1])]


def test_several_images_given_to_predict_or_explain_are_told_that_predict_many_takes_them(clf):
    """``predict(["a.jpg", "b.jpg"])`` said only "expected a path, ..., not list"; an item of predict_many that is a
    list is told what it is, without the hint (it is already in predict_many)."""
    from braintumor.heatmap import explain

    for several in (["a.jpg", "b.jpg"], ("a.jpg",), iter(["a.jpg"])):
        for call in (clf.predict, lambda images: explain(clf, images)):
            with pytest.raises(TypeError, match=rf"not {type(several).__name__}: predict_many\(images\) predicts each "
                                                r"of several$"):
                call(several)
    with pytest.raises(TypeError, match=r"^expected a path, .* not NoneType$"):
        clf.predict(None)
    with pytest.raises(TypeError, match=r"^item 0 of the images: expected a path, .* not list$"):
        list(clf.predict_many([["a.jpg"]]))


def test_a_wrong_number_of_infos_is_told_how_many_for_how_many_images(clf):
    """``classify(batch, infos)`` and ``classify_crops`` with one info too few or too many raised zip()'s own
    "zip() argument 2 is longer than argument 1", naming neither the infos nor the images."""
    from conftest import synthetic_head

    crop, info = clf.inspect_crop(synthetic_head())
    crops = np.stack([crop, crop])
    with pytest.raises(ValueError, match=r"^1 info given for 2 images: one per image$"):
        clf.classify(clf.preprocess(synthetic_head())[None].repeat(2, axis=0), [info])
    with pytest.raises(ValueError, match=r"^3 infos given for 2 images: "):
        clf.classify_crops(crops, [info, None, None])
    assert clf.classify_crops(crops, [info, info])[0] == clf.classify_crops(crops)[0]


def test_infos_of_a_wrong_type_are_a_type_error_naming_the_item(clf):
    """``classify(batch, infos)`` with an info that is no InputInfo (a dict, a str of two letters, an int) failed
    deep in the refusal checks on "'dict' object has no attribute 'modality'", and infos as a generator on
    "object of type 'generator' has no len()"; a tuple of them is taken as a list is."""
    from conftest import synthetic_head

    crop, info = clf.inspect_crop(synthetic_head())
    crops, batch = np.stack([crop, crop]), clf.preprocess(synthetic_head())[None].repeat(2, axis=0)
    for call, images in ((clf.classify, batch), (clf.classify_crops, crops)):
        for infos, said in (([info, {}], "item 1 of infos is dict"), ("ab", "item 0 of infos is str"),
                            ([3, None], "item 0 of infos is int")):
            with pytest.raises(TypeError, match=f"^{said}: each is an InputInfo .*inspect_crop.* or None"):
                call(images, infos)
        with pytest.raises(TypeError, match=r"^infos must be a list \(one InputInfo or None per image\), not gen"):
            call(images, (i for i in [info, info]))
        assert call(images, (info, None))[0] == call(images, [info, None])[0]


def test_a_name_holding_a_nul_is_an_image_error_of_its_own_and_the_batch_goes_on(clf, tmp_path):
    """A name with a NUL in it (``find -print0`` output split at newlines) raised Python's bare 'embedded null byte'
    ValueError out of predict, explain and read_volumes, and ended a predict_many loop there: the images after it
    were never answered, where an empty or missing name is its own item's ImageError."""
    from conftest import encode, synthetic_head

    from braintumor import ImageError
    from braintumor.heatmap import explain
    from braintumor.volume_io import read_volumes

    good = tmp_path / "slice.png"
    good.write_bytes(encode(synthetic_head()))
    said = r"^not a file name: it holds a NUL character \(\\0\), which no file name can hold"
    bad = f"{good}\0{good}"
    for call in (clf.predict, lambda name: explain(clf, name), read_volumes):
        with pytest.raises(ImageError, match=said):
            call(bad)
    outcomes = [outcome for _, outcome in clf.predict_many([str(good), bad, str(good)])]
    assert [type(o).__name__ for o in outcomes] == ["Prediction", "ImageError", "Prediction"]


def test_predict_many_of_no_iterable_is_told_so_when_called_not_when_iterated(clf):
    """``clf.predict_many(None)`` returned a stream, and only iterating it raised Python's own "'NoneType' object is
    not iterable" from inside it; the call says what it takes. An iterable is iterated once, by the stream alone (a
    torch DataLoader's iter() starts its workers), and one of ``__getitem__`` alone is iterable too."""
    from conftest import synthetic_head

    for wrong in (None, 3, 2.5):
        with pytest.raises(TypeError, match=r"^predict_many takes an iterable of images \(a list of paths, arrays, PIL "
                                            rf"images or Slices\), not {type(wrong).__name__}$"):
            clf.predict_many(wrong)

    class Loader:  # counts its iterations
        iterated = 0

        def __iter__(self):
            Loader.iterated += 1
            return iter([synthetic_head()])

    class Indexed:  # the old protocol: iterable by index
        def __getitem__(self, k):
            if k:
                raise IndexError(k)
            return synthetic_head()

    stream = clf.predict_many(Loader())
    assert Loader.iterated == 0 and len(list(stream)) == 1 and Loader.iterated == 1
    assert [outcome for _, outcome in clf.predict_many(Indexed())] == [clf.predict(synthetic_head())]


def test_a_dataframe_given_to_predict_many_is_told_to_pass_its_column_of_images(clf, monkeypatch):
    """``clf.predict_many(df)`` in place of ``df["path"]``: a pandas DataFrame iterates its column names, each answered
    "file not found: path"; a polars one its columns. Told when called (the stand-ins iterate as those do: neither
    library is a dependency); a column, or any other iterable, is taken as before."""
    from conftest import synthetic_head

    def frame(module: str) -> object:
        table = type("DataFrame", (), {"__iter__": lambda self: iter(["path", "label"]), "__module__": module})
        return table()

    said = r'^predict_many takes an iterable of images, not a DataFrame, which iterates its columns: pass the column'
    for module in ("pandas.core.frame", "polars.dataframe.frame"):
        with pytest.raises(TypeError, match=said):
            clf.predict_many(frame(module))
    assert [str(outcome) for _, outcome in clf.predict_many(frame("mytables"))] == ["file not found: path",
                                                                                    "file not found: label"]
    Column = type("Series", (list,), {"__module__": "pandas.core.series"})
    assert [outcome for _, outcome in clf.predict_many(Column([synthetic_head()]))] == [clf.predict(synthetic_head())]


@pytest.mark.parametrize("score", [float("nan"), float("inf"), -float("inf"), -0.5, np.float32("nan")])
def test_an_ood_score_that_is_no_finite_distance_is_refused_by_name_not_written_as_nan_json(score):
    """ood_score is a Mahalanobis distance over its scale (``OODDetector.network_scores``): finite and >= 0. Only its
    type was checked, and to_dict() then gave json.dumps a NaN, written as "NaN" (no JSON)."""
    from braintumor.prediction import Prediction

    probs = {"glioma": 0.1, "meningioma": 0.2, "notumor": 0.3, "pituitary": 0.4}
    with pytest.raises(ValueError, match="ood_score is a finite distance >= 0"):
        Prediction(None, None, probs, ood=True, ood_score=score, reason="far")
    assert Prediction(None, None, probs, ood=True, ood_score=np.float32(3.5), reason="far").ood_score == 3.5
    assert Prediction("pituitary", 0.4, probs, ood_score=0).ood_score == 0.0


def test_a_stream_whose_read_gives_no_bytes_is_told_so(clf):
    """A raw stream in non-blocking mode gives None from read() while nothing has come: predict said "object of type
    'NoneType' has no len()"; read_volumes too."""
    import io

    from braintumor.volume_io import read_volumes

    class NonBlocking(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray) -> None:  # nothing to read yet
            return None

    said = (r"^the file's read\(\) gave NoneType, not bytes \(None: a non-blocking stream with nothing to read yet; "
            r"read it in blocking mode, or pass its bytes\)$")
    for call in (clf.predict, read_volumes):
        with pytest.raises(TypeError, match=said):
            call(NonBlocking())


@pytest.mark.parametrize("flag", ["no", "false", 1, None])
def test_with_probabilities_that_is_no_bool_is_refused(clf, flag):
    """``predict_many(paths, with_probabilities="no")`` gave (source, outcome, probabilities) 3-tuples, and
    ``for path, outcome in ...`` then failed with "too many values to unpack"."""
    with pytest.raises(TypeError, match=f"^with_probabilities is True or False, not {type(flag).__name__}$"):
        clf.predict_many([], with_probabilities=flag)
    assert list(clf.predict_many([], with_probabilities=np.bool_(True))) == []
