"""The JSON model card (the page's "model card" link) says what the model is for and what it cannot do."""

from __future__ import annotations

import pytest

from braintumor.model_files import default_model_path
from braintumor.predictor import Classifier
from braintumor.web import create_app

pytestmark = pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")


def test_the_card_a_clinician_opens_from_the_page_says_what_the_model_cannot_do():
    """The page's "model card" link gave the metadata, preprocessing and training settings, and of its limits only
    the disclaimer: nothing said that any other finding gets one of the four answers, that "No tumour" is about one
    slice, or that the confidence is too high on scans from elsewhere (models/MODEL_CARD.md, "What it cannot do");
    nor that skull-stripped slices and CT saved as images get wrong answers (scripts/skull_stripped.py,
    scripts/clinician_inputs.py)."""
    client = create_app(classifier=Classifier.load(threads=1)).test_client()
    card = client.get("/api/v1/model").get_json()
    assert "not a medical device" in card["intended_use"].lower() and "research" in card["intended_use"].lower()
    said = " ".join(card["limitations"])
    for words in ("4 answers only", "Glioma, Meningioma, No tumour, Pituitary tumour", "is not refused",
                  '"No tumour" is about one slice', "no patient-level answer", "not a tumour outline",
                  "too high", "under 99.0%", "skull-stripped slice", "a CT saved as an image"):
        assert words in said, words
    spec = client.get("/api/v1/openapi.json").get_json()["components"]["schemas"]["ModelCard"]
    assert {"intended_use", "limitations"} <= set(spec["properties"])


def test_a_model_without_no_tumour_is_not_told_about_it():
    """A model of other classes (a hospital's own) gets the limits that hold for it, naming its own classes."""
    from braintumor.prediction import limitations

    said = " ".join(limitations(["glioma", "meningioma"], {"glioma": "Glioma", "meningioma": "Meningioma"}))
    assert "2 answers only (Glioma, Meningioma)" in said and "No tumour" not in said


def test_a_model_exported_without_calibration_is_not_said_to_be_calibrated(tiny_classifier):
    """The card of a model exported with --no-calibrate said "The confidence is calibrated on slices like the
    training ones", as its answers' cards did not: each says what the confidence of the model served is."""
    from braintumor.prediction import CONFIDENCE_CALIBRATED, CONFIDENCE_UNCALIBRATED

    assert "calibration" not in tiny_classifier.metadata
    said = " ".join(create_app(classifier=tiny_classifier).test_client().get("/api/v1/model").get_json()["limitations"])
    assert CONFIDENCE_UNCALIBRATED in said and CONFIDENCE_CALIBRATED not in said and "under 99.0%" in said
