"""Prediction.from_dict: a Prediction rebuilt from its to_dict() or from a record of the CLI's jsonl (README, Python
API). ``Prediction(**p.to_dict())`` raised TypeError on ``note_kind``, and a jsonl record had no way back."""

from __future__ import annotations

import json

import numpy as np
import pytest
from cli_runner import jsonl, run_predict
from conftest import synthetic_head
from PIL import Image

from braintumor import Classifier, Prediction
from braintumor.prediction import prediction_from_probs
from braintumor.wording import STRIPPED_NOTE

PROBS = {"glioma": 0.97, "meningioma": 0.01, "notumor": 0.01, "pituitary": 0.01}
PREDICTIONS = [
    Prediction("glioma", 0.97, PROBS, ood_score=0.48, review=True),
    Prediction("notumor", 0.999, {"glioma": 0.0, "meningioma": 0.0005, "notumor": 0.999, "pituitary": 0.0005},
               ood_score=None, note=STRIPPED_NOTE),
    Prediction("glioma", 0.97, PROBS, note="a note of its own (no note_kind)"),
    prediction_from_probs(("glioma", "meningioma", "notumor", "pituitary"), [0.7, 0.1, 0.1, 0.1], ood_score=2.5,
                          reason="too few edges"),
]


@pytest.mark.parametrize("p", PREDICTIONS)
def test_a_prediction_comes_back_from_its_dict_and_its_json(p):
    """With and without a note (and its derived note_kind), refused or not, through JSON too."""
    assert Prediction.from_dict(p.to_dict()) == p
    assert Prediction.from_dict(json.loads(json.dumps(p.to_dict()))) == p


def test_a_jsonl_record_with_its_heat_map_and_path_gives_the_prediction(test_images, tmp_path, capsys):
    """The CLI's records (path, heatmap) of an accepted slice and a refused photo: the classifier's own answers."""
    photo = tmp_path / "photo.png"
    Image.fromarray(synthetic_head()).convert("RGB").resize((300, 200)).save(photo)
    good = test_images["glioma"][0]
    rc, out, _ = run_predict([good, photo, "--format", "jsonl", "--heatmap", tmp_path / "maps"], capsys)
    records = jsonl(out)
    assert rc == 0 and "heatmap" in records[0] and records[1]["ood"], records
    clf = Classifier.load(threads=1)
    assert [Prediction.from_dict(r) for r in records] == [clf.predict(good), clf.predict(photo)]


def test_a_record_with_no_answer_is_refused_in_words():
    with pytest.raises(ValueError, match=r"not a prediction's record \(no label, confidence, probabilities\): an "
                                         r"input that was not answered, its 'error' says why"):
        Prediction.from_dict({"path": "a.png", "error": "not a recognised image"})
    with pytest.raises(ValueError, match="a scan's summary"):
        Prediction.from_dict({"path": "head.nii", "summary": {"slices": 3}})
    with pytest.raises(TypeError, match="takes a dict"):
        Prediction.from_dict('{"label": "glioma"}')


@pytest.mark.parametrize("probs, said", [
    # it said "zip() argument 2 is shorter than argument 1"
    ([0.5, 0.5], r"4 probabilities, one per class \(glioma, meningioma, notumor, pituitary\), not 2"),
    ([[0.7, 0.1, 0.1, 0.1]] * 2, r"one image's row of 4 probabilities, not an array of shape \(2, 4\): "
                                 r"\[prediction_from_probs\(row\) for row in probs\]"),
    # it was labelled glioma, ood False
    ([float("nan"), 0.2, 0.3, 0.4], r"probabilities in \[0, 1\] \(what predict_proba gives\), not nan"),
    ([-1.0, 0.2, 0.3, 0.4], r"probabilities in \[0, 1\] \(what predict_proba gives\), not -1.0"),
])
def test_probabilities_of_a_wrong_shape_or_value_are_a_value_error(probs, said):
    """``clf.prediction_from_probs(clf.predict_proba(batch))`` (the whole batch, not one row) failed on "type list
    doesn't define __round__ method", and a NaN row was labelled the first class, accepted."""
    with pytest.raises(ValueError, match=f"^prediction_from_probs takes {said}"):
        prediction_from_probs(("glioma", "meningioma", "notumor", "pituitary"), np.array(probs))


@pytest.mark.parametrize("args, said", [
    # "'<=' not supported between instances of 'float' and 'str'", and of 'NoneType'
    ((["0.7", "0.1", "0.1", "0.1"],), r"^prediction_from_probs takes probabilities as numbers, not str '0.7'"),
    (([0.7, 0.1, 0.1, None],), r"^prediction_from_probs takes probabilities as numbers, not NoneType None"),
    (([0.7, 0.1, 0.1, 0.1j],), r"^prediction_from_probs takes probabilities as numbers, not complex"),
    # "'int' object has no attribute 'endswith'"
    (([0.7, 0.1, 0.1, 0.1], 2.0, 5), r"^a Prediction's reason is a str or None, not int 5"),
    # float("2.5") took a str the Prediction itself refuses
    (([0.7, 0.1, 0.1, 0.1], "2.5", "far"), r"^a Prediction's ood_score is a number, not str '2.5'"),
    (([0.7, 0.1, 0.1, 0.1], "far", "far"), r"^a Prediction's ood_score is a number, not str 'far'"),
])
def test_prediction_from_probs_arguments_of_a_wrong_type_are_a_type_error_naming_them(args, said):
    """``Classifier.prediction_from_probs`` (public) raised Python's own TypeError or AttributeError from inside."""
    with pytest.raises(TypeError, match=said):
        prediction_from_probs(("glioma", "meningioma", "notumor", "pituitary"), *args)


@pytest.mark.parametrize("score", [np.array(2.0), np.array(2, dtype=np.int64), np.array(2.0, dtype=np.float32),
                                   np.float64(2.0), np.int32(2)])
def test_an_ood_score_given_as_a_numpy_number_or_0d_array_is_taken(score):
    """``ood_score=np.array(2.0)`` (a 0-d array, as indexing or reducing an array gives) was taken until the numbers'
    type check, then a TypeError 'is a number, not ndarray'; a str, None, complex or a 1-item array still is one."""
    classes = ("glioma", "meningioma", "notumor", "pituitary")
    refused = prediction_from_probs(classes, [0.7, 0.1, 0.1, 0.1], score, "far")
    assert type(refused.ood_score) is float and refused.ood_score == 2.0
    assert Prediction(None, None, dict(zip(classes, [0.7, 0.1, 0.1, 0.1], strict=True)), ood=True, ood_score=score,
                      reason="far").ood_score == 2.0
    for odd in (np.array("2.0"), np.array(None), np.array(2j), np.array(True), np.array([2.0])):
        with pytest.raises(TypeError, match=r"^a Prediction's ood_score is a number, not "):
            prediction_from_probs(classes, [0.7, 0.1, 0.1, 0.1], odd, "far")


@pytest.mark.parametrize("probs", [[0.97, 0.01, 0.01, 0.01], None, np.array([0.97, 0.01, 0.01, 0.01])])
def test_probabilities_that_are_no_mapping_are_a_type_error_naming_them(probs):
    """``Prediction(label, confidence, [0.97, ...])`` (the row itself, or a record's list read back) failed on dict's
    own "cannot convert dictionary update sequence element #0 to a sequence", None on "'NoneType' object is not
    iterable"; from_dict of such a record too."""
    said = r"^a Prediction's probabilities are a mapping of class name to probability \(a dict\), not "
    with pytest.raises(TypeError, match=said):
        Prediction("glioma", 0.97, probs)
    with pytest.raises(TypeError, match=said):
        Prediction.from_dict({"label": "glioma", "confidence": 0.97, "probabilities": probs})


@pytest.mark.parametrize("field, value, error, said", [
    # bool("false") is True: a record's "ood": "false" came back as a refusal, "review": "no" as flagged
    ("ood", "false", TypeError, r"ood is true or false \(a bool\), not str 'false'"),
    ("review", "no", TypeError, r"review is true or false \(a bool\), not str 'no'"),
    ("ood", None, TypeError, r"ood is true or false \(a bool\), not NoneType None"),
    ("review", 0, TypeError, r"review is true or false \(a bool\), not int 0"),
    # a number given as a str was kept as it was, and to_dict() gave the str back
    ("ood_score", "0.48", TypeError, r"ood_score is a number, not str '0.48'"),
    ("probabilities", {**PROBS, "glioma": "0.97"}, TypeError, r"probabilities\['glioma'\] is a number, not str"),
    ("probabilities", {**PROBS, "glioma": float("nan")}, ValueError,
     r"probabilities\['glioma'\] is a probability in \[0, 1\], not nan"),
    ("probabilities", {0: 0.97, 1: 0.03}, TypeError, r"probabilities are keyed by class name \(a str\), not int 0"),
    # an int past float's range (JSON's 1 and 400 zeros) raised OverflowError from float()
    ("ood_score", 10**400, ValueError, r"ood_score is a finite distance >= 0 \(1 = the threshold\), not inf"),
    ("probabilities", {**PROBS, "glioma": -10**400}, ValueError,
     r"probabilities\['glioma'\] is a probability in \[0, 1\], not -inf"),
    ("reason", 3, TypeError, r"reason is a str or None, not int 3"),
    ("note", ["x"], TypeError, r"note is a str or None, not list \['x'\]"),
])
def test_a_field_of_a_wrong_type_is_refused_naming_it(field, value, error, said):
    """JSON gives real booleans and numbers: a str (or None) in their place is a caller's mistake, refused by
    from_dict and by the constructor alike rather than read as bool() or kept."""
    record = {**PREDICTIONS[0].to_dict(), field: value}
    with pytest.raises(error, match=f"^a Prediction's {said}"):
        Prediction.from_dict(record)
    with pytest.raises(error, match=f"^a Prediction's {said}"):
        Prediction(**{k: v for k, v in record.items() if k != "note_kind"})


def test_numpy_numbers_and_flags_become_plain_ones_and_missing_flags_are_false():
    """A float32 probability or an np.bool_ flag (a caller's own numpy arithmetic) is kept as the Python value:
    json.dumps(p.to_dict()) refused a float32; extra keys of a record (path, heatmap) are ignored, as documented."""
    p = Prediction("glioma", 0.97, {k: np.float32(v) for k, v in PROBS.items()}, ood_score=np.float64(0.5),
                   review=np.bool_(True))
    assert type(p.review) is bool and type(p.ood_score) is float and json.dumps(p.to_dict())
    assert all(type(v) is float for v in p.probabilities.values())
    record = {"label": "glioma", "confidence": 0.97, "probabilities": PROBS, "path": "a.png", "heatmap": "a.png"}
    assert Prediction.from_dict(record) == Prediction("glioma", 0.97, PROBS)


@pytest.mark.parametrize("args, kwargs, error, said", [
    # a str confidence was kept, and to_dict() gave the str back
    (("glioma", "x", PROBS), {}, TypeError, r"^a Prediction's confidence is a number, not str 'x'"),
    (("glioma", float("nan"), PROBS), {}, ValueError,
     r"^a Prediction's confidence is a probability in \[0, 1\], not nan"),
    (("glioma", 1.5, PROBS), {}, ValueError, r"^a Prediction's confidence is a probability in \[0, 1\], not 1.5"),
    # a label that is none of its probabilities' classes was accepted
    (("tumour", 0.97, PROBS), {}, ValueError, r"^a Prediction's label is one of its probabilities' classes "
                                              r"\(glioma, meningioma, notumor, pituitary\) or None, not str 'tumour'"),
    ((3, 0.97, PROBS), {}, TypeError, r"^a Prediction's label is one of .* not int 3"),
    # half an answer: an accepted Prediction with no label, a refused one with one
    ((None, None, PROBS), {}, ValueError, r"^a refused Prediction \(ood true\) withholds label and confidence "
                                          r"\(None\), an accepted one has both: got ood=False, label=None, "
                                          r"confidence=None"),
    (("glioma", None, PROBS), {}, ValueError, r"got ood=False, label='glioma', confidence=None"),
    (("glioma", 0.97, PROBS), {"ood": True}, ValueError, r"got ood=True, label='glioma', confidence=0.97"),
    # a reason on an accepted answer was kept, then left out of to_dict(): from_dict(p.to_dict()) != p
    (("glioma", 0.97, PROBS), {"reason": "x"}, ValueError, r"^a Prediction's reason says why it was refused: an "
                                                           r"accepted one \(ood false\) has none, not str 'x'"),
])
def test_a_label_or_confidence_of_a_wrong_type_or_value_is_refused(args, kwargs, error, said):
    """``Prediction("glioma", "x", probs)`` was accepted; from_dict of such a record too."""
    with pytest.raises(error, match=said):
        Prediction(*args, **kwargs)
    record = {"label": args[0], "confidence": args[1], "probabilities": args[2], **kwargs}
    with pytest.raises(error, match=said):
        Prediction.from_dict(record)


def test_a_numpy_confidence_becomes_a_float():
    p = Prediction("glioma", np.float32(0.5), {**PROBS, "glioma": 0.5, "notumor": 0.48})
    assert type(p.confidence) is float and p.confidence == 0.5 and json.dumps(p.to_dict())


@pytest.mark.parametrize(("said", "kwargs", "error"), [
    ("`probabilities` a mapping of class to probability (a list or array raises TypeError)",
     {"probabilities": [0.97, 0.01, 0.01, 0.01]}, TypeError),
    ("`ood_score` (a distance, 1 the refusal threshold) finite and not negative", {"ood_score": float("nan")},
     ValueError),
    ("`ood_score` (a distance, 1 the refusal threshold) finite and not negative", {"ood_score": -0.5}, ValueError),
    ("`label` the most probable class (either of a tie)", {"label": "notumor"}, ValueError),
    ("`confidence` its probability (to 6 decimals, as records write both)", {"confidence": 0.9}, ValueError),
    ("`review` true exactly when an accepted answer's confidence is under 99 %", {"review": False}, ValueError),
])
def test_the_readme_names_each_check_a_prediction_makes(said, kwargs, error):
    """README's list of what ``Prediction(...)`` checks left out two refusals made today (an ood_score that is NaN,
    infinite or negative; probabilities that are no mapping): each check it names is made, and each made is named."""
    from conftest import REPO

    assert said in " ".join((REPO / "README.md").read_text().split())
    answer = {"label": "glioma", "confidence": 0.97, "ood_score": 0.5,
              "probabilities": {"glioma": 0.97, "meningioma": 0.01, "notumor": 0.01, "pituitary": 0.01}}
    with pytest.raises(error):
        Prediction(**{**answer, **kwargs})


SURE = {"glioma": 0.995, "meningioma": 0.003, "notumor": 0.001, "pituitary": 0.001}


@pytest.mark.parametrize("args, kwargs, said", [
    # each field was checked alone: an answer the model never gives was kept, and shown as its answer
    (("glioma", 0.1, {**PROBS, "glioma": 0.1, "notumor": 0.88}), {"review": True},
     r"^a Prediction's label is its most probable class \('notumor': 0.88\), not 'glioma' \(0.1\)"),
    (("glioma", 0.5, PROBS), {"review": True},
     r"^a Prediction's confidence is its label's probability \('glioma': 0.97, to 6 decimals\), not 0.5"),
    (("glioma", 0.97, PROBS), {"review": False}, r"^a Prediction's review is true when its confidence is under 0.99 "
                                                 r"\(REVIEW_BELOW\), false otherwise: not False with confidence 0.97"),
    (("glioma", 0.995, SURE), {"review": True}, r"^a Prediction's review is true .* not True with confidence 0.995"),
    ((None, None, PROBS), {"ood": True, "reason": "far", "review": True},
     r"^a refused Prediction \(ood true\) has review false: the flag is about an accepted answer's confidence"),
    ((None, None, PROBS), {"ood": True, "reason": "far", "note": STRIPPED_NOTE},
     r"^a refused Prediction \(ood true\) has no note \(a caution shown with an accepted answer\), not str"),
])
def test_fields_that_disagree_are_refused_in_words(args, kwargs, said):
    """``Prediction("glioma", 0.1, {"notumor": 0.9, ...})`` was accepted, ``review=False`` at 50 % too; from_dict of a
    hand-edited record as well, and carried on as the model's answer."""
    with pytest.raises(ValueError, match=said):
        Prediction(*args, **kwargs)
    with pytest.raises(ValueError, match=said):
        Prediction.from_dict({"label": args[0], "confidence": args[1], "probabilities": args[2], **kwargs})


def test_ties_rounding_and_a_review_left_out_are_accepted():
    """A tie's label is either class; a confidence unrounded beside probabilities rounded to 6 decimals (as records
    write them) is its probability; ``review`` left out is the model's own rule, refused answers never flagged."""
    assert Prediction("notumor", 0.5, {"glioma": 0.5, "notumor": 0.5}).review is True
    assert Prediction("glioma", 0.9949996, SURE | {"glioma": 0.995}).confidence == 0.9949996
    assert Prediction("glioma", 0.995, SURE).review is False and Prediction("glioma", 0.97, PROBS).review is True
    assert Prediction(None, None, PROBS, ood=True, reason="far").review is False
    assert Prediction.from_dict({"label": "glioma", "confidence": 0.97, "probabilities": PROBS}).review is True


def test_read_only_probabilities_given_are_checked_too():
    """A :class:`~braintumor.prediction.Probabilities` given skipped every check: its str "x" was kept."""
    from braintumor.prediction import Probabilities

    with pytest.raises(TypeError, match=r"^a Prediction's probabilities\['glioma'\] is a number, not str 'x'"):
        Prediction("glioma", 0.97, Probabilities({**PROBS, "glioma": "x"}))
    p = Prediction("glioma", 0.97, Probabilities({k: np.float32(v) for k, v in PROBS.items()}))
    assert all(type(v) is float for v in p.probabilities.values())
