"""One PIL image opened lazily (``Image.open``, pixels not read yet) and given to the API more than once: predicted,
then explained. Each time gets the answer its file gets."""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import synthetic_head
from PIL import Image
from test_image_gray_conversion import _png16

from braintumor import Classifier
from braintumor.heatmap import explain


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.load(threads=1)


def test_a_lazy_16_bit_colour_png_gets_its_files_answer_every_time(clf):
    """The first call loaded the caller's image, which dropped its file: the second read Pillow's high bytes alone (a
    12-bit image's levels 0-15 of 255), another image, another answer; an explanation after a prediction explained
    that one."""
    twelve = synthetic_head(200).astype(np.uint16) * 16 + 7
    data = _png16(np.dstack([twelve] * 3))
    want = clf.predict(data)
    img = Image.open(io.BytesIO(data))
    assert [clf.predict(img), clf.predict(img), explain(clf, img).prediction] == [want] * 3
    assert explain(clf, img).image.tobytes() == explain(clf, data).image.tobytes()
