"""scripts/small_images.py, which measures why images under ``image_io.MIN_SIDE`` are refused: it must answer as
``Classifier.predict`` does in all but that refusal, or its figures (docs/RESULTS.md "Small images", docs/WEB.md's
limits) would describe another path than the one users get."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import REPO
from PIL import Image

from braintumor.image_io import MIN_SIDE, ImageError
from braintumor.predictor import Classifier

spec = importlib.util.spec_from_file_location("small_images", REPO / "scripts" / "small_images.py")
small_images = importlib.util.module_from_spec(spec)
spec.loader.exec_module(small_images)


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.load(threads=1)


def test_it_answers_as_predict_does_but_for_the_minimum_size(clf, test_images):
    """The file as it is, and shrunk copies down to MIN_SIDE, get predict's answer, refusals and flags included;
    below MIN_SIDE predict refuses and the script still answers."""
    for path in [paths[0] for paths in test_images.values()]:
        assert small_images.predict_any_size(clf, path) == clf.predict(path)
        with Image.open(path) as img:
            img.load()
        for side in (MIN_SIDE, 96):
            copy = small_images.shrunk(img, side)
            assert min(copy.size) == side
            assert small_images.predict_any_size(clf, copy) == clf.predict(copy)
        tiny = small_images.shrunk(img, 32)
        with pytest.raises(ImageError, match="at least 64x64"):
            clf.predict(tiny)
        assert small_images.predict_any_size(clf, tiny).probabilities


def test_shrinking_keeps_the_aspect_and_never_enlarges():
    img = Image.new("L", (300, 200))
    assert small_images.shrunk(img, 40).size == (60, 40)
    assert small_images.shrunk(img, 400) is img and small_images.shrunk(img, None) is img
