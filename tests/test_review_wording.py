"""What an answer under 99 % is told, on the page, in the JSON API's description and the CLI: one model's measurement
is not said of another, and no wording suggests that the surer answers need no clinician (every answer does: the
disclaimer on every page and after the CLI's table). The tiny test model: any model a server may be given."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from braintumor.web import create_app

STATIC = Path(__file__).resolve().parents[1] / "src" / "braintumor" / "web" / "static"


@pytest.fixture(scope="module")
def page(tiny_classifier) -> str:
    """The upload page: it holds the result card's template, review note included, that card.js clones."""
    return create_app(classifier=tiny_classifier).test_client().get("/").get_data(as_text=True)


def test_the_review_note_quotes_no_measurement_the_served_model_does_not_carry(page, tiny_classifier):
    """The note said "about 4 in 10 such answers were wrong" (the shipped model on one new source) whatever model was
    served; no model's metadata carries that measurement."""
    assert "review" not in str(tiny_classifier.metadata.get("calibration", {}))
    note = re.search(r'<p class="card-review".*?</p>', page, flags=re.S)[0]
    assert "in 10" not in note and "were wrong" not in note and "hospital the model never saw" not in note
