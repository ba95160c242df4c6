"""A Prediction made by hand or from a record keeps the promises of the ones the model makes (README, Python API):
a refusal says why, an accepted answer's distance is within the threshold, its texts are plain str."""

from __future__ import annotations

import json

import numpy as np
import pytest

from braintumor import Prediction
from braintumor.prediction import OOD_MESSAGE, prediction_from_probs

CLASSES = ("glioma", "meningioma", "notumor", "pituitary")
PROBS = {"glioma": 0.97, "meningioma": 0.01, "notumor": 0.01, "pituitary": 0.01}


@pytest.mark.parametrize("make", [lambda: Prediction(None, None, PROBS, ood=True),
                                  lambda: Prediction.from_dict({"label": None, "confidence": None, "ood": True,
                                                                "probabilities": PROBS, "reason": None})])
def test_a_refusal_made_without_a_reason_gets_the_generic_one(make):
    """``Prediction(None, None, probs, ood=True)`` kept ``reason=None``: its to_dict() gave a refusal no why
    ("reason": null), which every record of the model's carries and the CLI's row and the web's card show."""
    p = make()
    assert p.reason == OOD_MESSAGE
    assert p.to_dict()["reason"] == OOD_MESSAGE
    assert Prediction.from_dict(json.loads(json.dumps(p.to_dict()))) == p


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_blank_reason_is_refused(reason):
    """"" was kept (a refusal's why shown as nothing), and ``prediction_from_probs(..., reason="")`` made it
    "unlike the brain MRI slices the model was trained on: " with nothing after it."""
    with pytest.raises(ValueError, match=r"^a refused Prediction's reason says why it was refused, not str"):
        Prediction(None, None, PROBS, ood=True, reason=reason)
    with pytest.raises(ValueError, match=r"^a refused Prediction's reason says why it was refused, not str"):
        prediction_from_probs(CLASSES, [0.7, 0.1, 0.1, 0.1], ood_score=2.0, reason=reason)


@pytest.mark.parametrize("make", [lambda: Prediction("glioma", 0.97, PROBS, ood_score=1.5),
                                  lambda: Prediction.from_dict({"label": "glioma", "confidence": 0.97, "ood": False,
                                                                "probabilities": PROBS, "ood_score": 7}),
                                  lambda: prediction_from_probs(CLASSES, [0.7, 0.1, 0.1, 0.1], ood_score=2.0)])
def test_an_accepted_answer_beyond_the_threshold_is_refused(make):
    """ood_score is the distance scaled so that 1 is the refusal threshold (README, docs/CLI.md, the model card's
    refused_above_ood_score): an accepted answer at 1.5 was kept, one the model never gives."""
    with pytest.raises(ValueError, match=r"^a Prediction's ood_score is at most 1 \(the threshold\) on an accepted"):
        make()


def test_the_threshold_itself_and_refusals_beyond_it_stay():
    """At 1 the model still accepts (it refuses above); a refusal has any distance, another reason below 1."""
    assert Prediction("glioma", 0.97, PROBS, ood_score=1).ood_score == 1.0
    assert Prediction(None, None, PROBS, ood=True, ood_score=0.4, reason="colour image").ood_score == 0.4
    assert prediction_from_probs(CLASSES, [0.7, 0.1, 0.1, 0.1], ood_score=2.0, reason="far").ood_score == 2.0


def test_numpy_and_enum_strings_become_plain_str():
    """A label, class names, reason or note of ``np.str_`` (``clf.classes`` read into an array, ``names[k]``) were
    kept: the repr read ``label=np.str_('glioma')`` and pickling needed numpy; a str Enum's member showed its name."""
    import enum
    import pickle

    class Kind(str, enum.Enum):
        GLIOMA = "glioma"

    names = np.array(CLASSES)
    probs = {k: v for k, v in zip(names, PROBS.values(), strict=True)}
    ps = [Prediction(names[0], np.float64(0.97), probs, note=np.str_("a note")),
          Prediction(Kind.GLIOMA, 0.97, PROBS),
          Prediction(None, None, probs, ood=True, reason=np.str_("far")),
          prediction_from_probs(tuple(names), [0.7, 0.1, 0.1, 0.1], reason=np.str_("far"))]
    for p in ps:
        for text in (p.label, p.reason, p.note, *p.probabilities):
            assert text is None or type(text) is str
        assert "np.str_" not in repr(p) and "Kind" not in repr(p)
        assert pickle.loads(pickle.dumps(p)) == p
    assert repr(ps[0]).startswith("Prediction(label='glioma', confidence=0.97, probabilities={'glioma': 0.97")


@pytest.mark.parametrize("make", [lambda: Prediction(None, None, {}, ood=True, reason="far"),
                                  lambda: Prediction.from_dict({"label": None, "confidence": None, "ood": True,
                                                                "probabilities": {}, "reason": "far"})])
def test_a_prediction_of_no_class_is_refused(make):
    """A refusal with probabilities {} was kept (an accepted one failed on its label): no model answers so."""
    with pytest.raises(ValueError, match=r"^a Prediction's probabilities hold one per class of its model, not none"):
        make()


@pytest.mark.parametrize("note", ["", "  "])
def test_a_blank_note_is_no_note(note):
    """A blank note (a csv row's empty note cell, read back) was kept: to_dict() gave ``"note": ""``, a caution of
    nothing where the API's records carry a note only with a caution; a refusal with one was refused as noted."""
    p = Prediction("glioma", 0.97, PROBS, note=note)
    assert p.note is None and "note" not in p.to_dict() and p == Prediction("glioma", 0.97, PROBS)
    assert Prediction(None, None, PROBS, ood=True, reason="far", note=note).note is None


def test_classes_named_twice_are_refused():
    """``prediction_from_probs(("a", "a", "b", "c"), row)`` kept one "a" (its second probability) and answered, a
    distribution of three classes from a row of four."""
    with pytest.raises(ValueError, match=r"^prediction_from_probs takes one name per class, not tuple \('glioma', "
                       r"'glioma', .*\), which repeats one$"):
        prediction_from_probs(("glioma", "glioma", "notumor", "pituitary"), [0.1, 0.2, 0.3, 0.4])


@pytest.mark.parametrize("row", [[True, False, False, False], np.array([True, False, False, False]),
                                 [True, 0.0, 0.0, 0.0], (np.True_, 0.0, 0.0, 0.0),
                                 np.array([True, 0.0, 0.0, 0.0], dtype=object)],
                         ids=["list", "bool array", "among floats", "numpy's", "object array"])
def test_true_or_false_for_a_probability_is_refused(row):
    """``prediction_from_probs(classes, [True, False, False, False])`` answered glioma with 1.0 (True read as 1),
    where ``Prediction`` itself refuses True among its probabilities."""
    true = r"bool_? (np\.)?True_?$"  # numpy's True_ as numpy 1 or 2 names it
    with pytest.raises(TypeError, match=r"^prediction_from_probs takes probabilities as numbers, not " + true):
        prediction_from_probs(CLASSES, row)
    with pytest.raises(TypeError, match=r"^a Prediction's probabilities\['glioma'\] is a number, not " + true):
        Prediction("glioma", 1.0, dict(zip(CLASSES, row, strict=True)))
    assert prediction_from_probs(CLASSES, np.array([1, 0, 0, 0])).confidence == 1.0  # integers stay numbers


def test_a_negative_distance_is_refused_even_when_it_rounds_to_zero():
    """``prediction_from_probs(classes, row, ood_score=-0.00001, ...)`` rounded it to -0.0 and kept it, where the
    distance is a norm (never negative, ood.py) and ``Prediction(ood_score=-0.00001)`` is refused."""
    for reason in ("far", None):
        with pytest.raises(ValueError, match=r"^a Prediction's ood_score is a finite distance >= 0 \(1 = the "
                           r"threshold\), not -1e-05$"):
            prediction_from_probs(CLASSES, [0.97, 0.01, 0.01, 0.01], ood_score=-0.00001, reason=reason)


def test_minus_zero_is_written_as_zero():
    """A -0.0 (a probability or distance of a record read back, a row holding one) was kept, and JSON wrote -0.0."""
    row = {"glioma": 1.0, "meningioma": -0.0, "notumor": 0.0, "pituitary": np.float64(-0.0)}
    made = [prediction_from_probs(CLASSES, list(row.values()), ood_score=-0.0),
            prediction_from_probs(CLASSES, list(row.values()), ood_score=np.float32(-0.0), reason="far"),
            Prediction("glioma", 1.0, row, ood_score=-0.0), Prediction(None, None, row, ood=True, ood_score=-0.0),
            Prediction.from_dict(json.loads('{"label": "glioma", "confidence": 1.0, "ood_score": -0.0, '
                                            '"probabilities": {"glioma": 1.0, "meningioma": -0.0, "notumor": 0, '
                                            '"pituitary": -0.0}}'))]
    for p in made:
        assert "-0.0" not in json.dumps(p.to_dict()), p
        assert p.ood_score == 0.0 and all(type(v) is float for v in p.probabilities.values())


@pytest.mark.parametrize("probs", [{"glioma": 0.9},
                                   {"glioma": 0.9, "meningioma": 0.8, "notumor": 0.1, "pituitary": 0.0},
                                   {"glioma": 0.5, "meningioma": 0.1, "notumor": 0.1, "pituitary": 0.1}],
                         ids=["a class left out", "sigmoids", "short"])
def test_probabilities_that_do_not_sum_to_1_are_refused(probs):
    """A stand-in of one class, or a multi-label model's sigmoids, were kept as a model's answer, and shown as bars
    summing to 90 % or 180 %; records' rounding (and people's, to 0.1 %) stays within the tolerance."""
    total = sum(probs.values())
    said = rf"^a Prediction's probabilities are one per class of its model and sum to 1 \(within 0\.01\), not {total:g}"
    for make in (lambda: Prediction("glioma", probs["glioma"], probs),
                 lambda: Prediction(None, None, probs, ood=True),
                 lambda: Prediction.from_dict({"label": "glioma", "confidence": probs["glioma"],
                                               "probabilities": probs}),
                 lambda: prediction_from_probs(tuple(probs), list(probs.values()))):
        with pytest.raises(ValueError, match=said):
            make()
    rounded = {"glioma": 0.973, "meningioma": 0.012, "notumor": 0.008, "pituitary": 0.004}  # 0.997, as shown
    assert Prediction("glioma", 0.973, rounded).probabilities == rounded
