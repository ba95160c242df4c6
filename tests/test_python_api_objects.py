"""What a Python user sees of the API's objects: a Classifier's repr, a Prediction's equality and hash, the errors."""

from __future__ import annotations

import copy
import json
import pickle
from collections.abc import Hashable
from dataclasses import asdict, replace
from types import SimpleNamespace

import pytest
from conftest import synthetic_head
from PIL import Image

from braintumor import Classifier, ImageError, Prediction
from braintumor.model_files import default_model_path


def test_a_classifier_shows_what_was_loaded():
    """The default repr named only an address: <braintumor.predictor.Classifier object at 0x7f...>."""
    clf = Classifier.load(threads=1)
    assert repr(clf) == ("<Classifier braintumor-tumornet-s.onnx: image_size 160, classes glioma, meningioma, "
                         "notumor, pituitary; threads 1>")

    class InMemory:  # a session not from a file, nor ONNX Runtime's
        def get_inputs(self) -> list[SimpleNamespace]:
            return [SimpleNamespace(name="image")]

        get_outputs = get_inputs

    built = Classifier(InMemory(), {"classes": ["a", "b"], "preprocess": {"image_size": 48}})
    assert repr(built) == "<Classifier (no file): image_size 48, classes a, b; threads ?>"


def test_a_prediction_compares_by_value_and_says_it_is_unhashable():
    """A frozen dataclass whose probabilities are a dict: hash() raised "unhashable type: 'dict'" while
    isinstance(p, Hashable) said True. Unhashable on purpose, like the dict it holds."""
    p = Prediction("glioma", 0.999943, {"glioma": 0.999943, "meningioma": 1.7e-05, "notumor": 2.2e-05,
                                        "pituitary": 1.8e-05}, ood_score=0.5531)
    assert p == replace(p) and p != replace(p, note="a caution")
    assert not isinstance(p, Hashable)
    with pytest.raises(TypeError, match="unhashable type: 'Prediction'"):
        hash(p)


def test_a_predictions_probabilities_cannot_be_changed_and_survive_pickle_and_json():
    """``p.probabilities`` was the dict itself: ``p.probabilities["glioma"] = 0.1`` (or changing the dict it was made
    from) changed a frozen Prediction for every consumer, and its to_dict() showed numbers the model never gave."""
    given = {"glioma": 0.97, "meningioma": 0.01, "notumor": 0.01, "pituitary": 0.01}
    p = Prediction("glioma", 0.97, given, ood_score=0.48, review=True)
    given["glioma"] = 0.1  # the caller's dict, changed afterwards
    changes = [lambda d: d.__setitem__("glioma", 0.1), lambda d: d.__delitem__("glioma"), lambda d: d.clear(),
               lambda d: d.pop("glioma"), lambda d: d.popitem(), lambda d: d.setdefault("x", 1.0),
               lambda d: d.update(glioma=0.1), lambda d: d.__ior__({"glioma": 0.1}),
               lambda d: d.__init__({"glioma": 0.1})]  # dict's __init__ called again added to it
    for change in changes:
        with pytest.raises(TypeError, match=r"read-only: dict\(p.probabilities\) is a copy to change"):
            change(p.probabilities)
    want = {"glioma": 0.97, "meningioma": 0.01, "notumor": 0.01, "pituitary": 0.01}
    assert p.probabilities == want and p.to_dict()["probabilities"] == want
    assert isinstance(p.probabilities, dict) and p.probabilities["glioma"] == 0.97  # still indexed as a dict
    assert json.loads(json.dumps(p.probabilities)) == want and json.loads(json.dumps(p.to_dict()))["confidence"] == 0.97
    record = p.to_dict()
    record["probabilities"]["glioma"] = 0.5  # a record is the caller's own copy
    assert p.probabilities["glioma"] == 0.97
    for copied in (pickle.loads(pickle.dumps(p)), copy.deepcopy(p), copy.copy(p), replace(p),
                   Prediction(**asdict(p))):  # a Pool sends answers back by pickle
        assert copied == p and copied.to_dict() == p.to_dict()
        with pytest.raises(TypeError, match="read-only"):
            copied.probabilities["glioma"] = 0.1
    assert p == Prediction("glioma", 0.97, want, ood_score=0.48, review=True)
    assert p != replace(p, probabilities={**want, "meningioma": 0.02, "notumor": 0.0})
    changeable = dict(p.probabilities)
    changeable["glioma"] = 0.1  # the copy to change
    assert p.probabilities["glioma"] == 0.97
    made = type(p.probabilities).fromkeys(want, 0.25)  # dict's set each key on an empty one: 'read-only'
    assert made == dict.fromkeys(want, 0.25) and type(made) is type(p.probabilities)


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_the_classifiers_answers_are_read_only_and_pickled_whole():
    clf = Classifier.load(threads=1)
    pred = clf.predict(synthetic_head())
    with pytest.raises(TypeError, match="read-only"):
        pred.probabilities[clf.classes[0]] = 1.0
    assert pickle.loads(pickle.dumps(pred)) == pred and list(pred.probabilities) == list(clf.classes)


def test_a_missing_model_is_told_in_words_of_python_and_the_cli_in_its_own(tmp_path, capsys):
    """Classifier.load("nope.onnx") said "(train and export one, or pass --model)", then "--model in the CLI": a CLI
    flag in a Python error. Python is told Classifier.load(path), the CLI --model, from one text."""
    from braintumor.cli import main

    with pytest.raises(FileNotFoundError) as missing:
        Classifier.load(tmp_path / "nope.onnx")
    assert str(missing.value) == (f"model file not found: {tmp_path / 'nope.onnx'} (train and export one, or pass "
                                  "another path: Classifier.load(path); a shipped one by its file name alone: "
                                  "braintumor-tumornet-s-int8.onnx, braintumor-tumornet-s.onnx)")
    with pytest.raises(FileNotFoundError) as folder:
        Classifier.load(tmp_path)
    assert str(folder.value) == f"{tmp_path} is a folder: pass an ONNX model file (Classifier.load(path))"
    for error in (missing.value, folder.value):  # the CLI prints the same text with its own way
        cli = str(error).replace("Classifier.load(path)", "--model FILE")
        assert "--model" not in str(error) and error.cli_text == cli
        copy = pickle.loads(pickle.dumps(error))  # as a --workers process or a Pool sends it
        assert (type(copy), str(copy), copy.cli_text) == (type(error), str(error), cli)
    assert main(["predict", "x.jpg", "--model", str(tmp_path / "nope.onnx")]) == 2
    assert capsys.readouterr().err == f"error: {missing.value.cli_text}\n"



def test_a_closed_pil_image_is_told_as_closed(tmp_path):
    """`with Image.open(p) as im: pass` then predict(im) said "image cannot be read as grayscale (AssertionError)";
    im.close() after loading said "(ValueError)"."""
    path = tmp_path / "slice.png"
    Image.fromarray(synthetic_head()).save(path)
    with Image.open(path) as never_loaded:
        pass
    loaded = Image.open(path)
    loaded.load()
    loaded.close()
    clf = Classifier.load(threads=1)
    for closed in (never_loaded, loaded, Image.fromarray(synthetic_head())):
        closed.close()
        with pytest.raises(ImageError) as error:
            clf.predict(closed)
        assert str(error.value) == ("the PIL image is closed (its pixels were never read, or close() freed them): "
                                    "predict it inside its 'with Image.open(...)' block, or pass a .copy() made there")
    with Image.open(path) as im:
        kept = im.copy()
    assert clf.predict(kept).to_dict() == clf.predict(path).to_dict()


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_a_scans_slice_is_checked_as_the_cli_checks_it(test_images, tmp_path):
    """README's loop over ``read_volumes`` passed ``s.pixels``: a CT series' slices and a colour-mapped DICOM were
    classified (glioma, 99.99 %), the modality and the colour being left behind, where ``braintumor predict``
    refuses them. A Slice itself now goes to predict, predict_many and explain with both."""
    import numpy as np
    from dicom_factory import make_dicom
    from pydicom.uid import CTImageStorage

    from braintumor.heatmap import explain
    from braintumor.image_io import read_image
    from braintumor.volume_io import read_volumes

    gray = read_image(test_images["glioma"][0])
    hot = np.stack([np.clip(3 * gray.astype(np.int32) - k * 255, 0, 255) for k in range(3)], axis=-1).astype(np.uint8)
    (tmp_path / "ct.dcm").write_bytes(make_dicom(gray, Modality="CT", sop_class=CTImageStorage))
    (tmp_path / "hot.dcm").write_bytes(make_dicom(hot, photometric="RGB"))
    (tmp_path / "mr.dcm").write_bytes(make_dicom(gray))
    ct, colour, mr = (read_volumes(tmp_path / name)[0].slices[0] for name in ("ct.dcm", "hot.dcm", "mr.dcm"))
    clf = Classifier.load()
    refused = clf.predict(ct)
    assert refused.ood and refused.label is None and refused.reason.endswith("CT image (DICOM modality CT); "
                                                                            "the model reads MRI only")
    assert clf.predict(colour).reason.endswith("colour image (MRI slices are grayscale)")
    assert clf.predict(mr) == clf.predict(mr.pixels) and clf.predict(mr).label == "glioma"
    assert [p.ood for _, p in clf.predict_many([ct, colour, mr])] == [True, True, False]
    assert explain(clf, ct).prediction == refused


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_every_entry_point_takes_a_slice_with_its_modality_and_colour():
    """predict, predict_many (a list of Slices, in batches) and explain give a Slice the same checks, without any
    real data: a CT-modality or colour slice is refused by each alike, an MR one answered as its bare pixels are."""
    from dataclasses import replace

    import numpy as np

    from braintumor.heatmap import explain
    from braintumor.ood import CROP_HINT
    from braintumor.volume_objects import Slice, Volume

    head = synthetic_head(200)
    ct = Slice(head, {"dicom": {"modality": "CT"}})
    colour = Slice(head, {"dicom": {"modality": "MR"}}, colourfulness=1e3)
    mr = Slice(head, {"dicom": {"modality": "MR"}})
    clf = Classifier.load()
    said = "CT image (DICOM modality CT); the model reads MRI only"
    assert clf.predict(ct).reason.endswith(said) and explain(clf, ct).prediction == clf.predict(ct)
    assert explain(clf, ct).cam is None and explain(clf, colour).prediction == clf.predict(colour)
    assert clf.predict(colour).reason.endswith("colour image (MRI slices are grayscale)")
    # as its bare pixels are, but for the advice an image refused for its distance gets (a scan's slice is no
    # screenshot)
    bare = clf.predict(mr.pixels)
    bare = replace(bare, reason=bare.reason and bare.reason.removesuffix(f"; {CROP_HINT}"))
    assert clf.predict(mr) == bare == explain(clf, mr).prediction
    for batch_size in (1, 2, 32):
        got = list(clf.predict_many([ct, colour, mr, ct], batch_size=batch_size))
        assert [src for src, _ in got] == [ct, colour, mr, ct]
        assert [p for _, p in got] == [clf.predict(s) for s in (ct, colour, mr, ct)]
        assert got[0][1].reason.endswith(said) and got[2][1] == bare
    volume = Volume("scan.dcm", "dicom", [ct, mr])
    # a Volume or one Slice is not an iterable of images: said at the call (it was "'Volume' object is not
    # iterable" at the first next()), and predict names what it takes (the Slice was not among them)
    for wrong in (volume, ct):
        with pytest.raises(TypeError, match=r"for one image or Slice use predict\(\), .*for a scan's volume.slices"):
            clf.predict_many(wrong)
    with pytest.raises(TypeError, match=r"a scan's Slice, not Volume: .*predict_many\(volume.slices\)"):
        clf.predict(volume)
    with pytest.raises(TypeError, match=r"a scan's Slice, not Volume"):
        explain(clf, volume)
    assert np.array_equal(explain(clf, mr).image, clf.inspect_crop(mr)[0])


def test_a_pil_image_whose_file_was_closed_is_told_so(tmp_path):
    """`with open(p, "rb") as f: im = Image.open(f)`, then predict(im) outside the block: Image.open is lazy, the
    pixels were read from a closed file, and predict said "the file is damaged, cut short, or a variant this decoder
    does not read" of a sound file."""
    path = tmp_path / "slice.png"
    Image.fromarray(synthetic_head()).save(path)
    with open(path, "rb") as f:
        im = Image.open(f)
    clf = Classifier.load(threads=1)
    said = ("the file the PIL image was opened from is closed, and Image.open reads pixels only when they are used: "
            "predict it inside the file's 'with open(...)' block, or call image.load() there")
    with pytest.raises(ImageError) as error:
        clf.predict(im)
    assert str(error.value) == said
    assert [str(outcome) for _, outcome in clf.predict_many([im])] == [said]
    with open(path, "rb") as f:
        im = Image.open(f)
        im.load()
    assert clf.predict(im).to_dict() == clf.predict(path).to_dict()


@pytest.mark.parametrize("args", [(None, {}), ("model.onnx", {}), ("session", None), ("session", '{"classes": []}')])
def test_a_classifier_made_of_no_session_or_no_metadata_is_told_what_it_takes(args):
    """``Classifier(None, {})`` or ``Classifier(session, None)`` raised AttributeError from inside ("'NoneType' object
    has no attribute 'get_outputs'", "... 'get'"), where Classifier.load(path) is what most callers want."""
    session, metadata = args
    if session == "session":
        session = Classifier.load(threads=1).session
    with pytest.raises(TypeError, match=rf"^Classifier\(session, metadata\) takes an ONNX Runtime session and its "
                                        rf"model's metadata \(a dict\), not {type(session).__name__} and "
                                        rf"{type(metadata).__name__}: Classifier\.load\(path\) reads both"):
        Classifier(session, metadata)


def test_a_volume_compares_by_value_and_says_it_is_unhashable():
    """A frozen dataclass holding a list of slices: hash() raised "unhashable type: 'list'" while
    isinstance(v, Hashable) said True, as a Prediction's did."""
    import numpy as np

    from braintumor.volume_objects import Slice, Volume

    volume = Volume("series.zip", "dicom", [Slice(np.zeros((64, 64), np.uint8), {})])
    assert volume == pickle.loads(pickle.dumps(volume)) and volume != replace(volume, series=1)
    assert not isinstance(volume, Hashable)
    with pytest.raises(TypeError, match="unhashable type: 'Volume'"):
        hash(volume)
