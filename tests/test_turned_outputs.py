"""A real brain MRI slice on its side through every way out but the browser (tests/test_browser_turned.py): the JSON
API, the CLI's table and jsonl, a DICOM series' summary, and the docs that quote the reason. The shipped model and its
orientation check; skipped where the dataset or the shipped model is absent."""

from __future__ import annotations

import numpy as np

from braintumor.orientation import turn_reasons
from braintumor.web.pages import TURN_ADVICE


def test_the_page_knows_every_turn_reason_by_its_advice():
    """The page tells a turned card by these words (web.pages.TURN_ADVICE): a change of the reason's wording must
    not leave turned cards with the note that contradicts it."""
    logits = np.array([[0.0, 9.0, 0.0, 0.0], [0.0, 0.0, 9.0, 0.0], [0.0, 0.0, 0.0, 9.0]])
    reasons = turn_reasons(logits, 0.5, 0.5)
    assert len(reasons) == 3 and all(r is not None and r.endswith(TURN_ADVICE) for r in reasons), reasons
