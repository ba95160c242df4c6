"""The lower-confidence threshold is said one way everywhere, "under 99.0%" (``wording.review_below_text``):
evaluate's console line and report.html said "under 99%" (and the API's description "below 99%") where the CLI's
last line, a scan's summary, the page's card and the model card's limitations said "under 99.0%". Synthetic
confidences and counts; no model."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np

from braintumor.metrics import review_summary
from braintumor.prediction import REVIEW_BELOW, limitations
from braintumor.report import _refused_and_flagged
from braintumor.run_tally import tally_text
from braintumor.series import summary_text
from braintumor.wording import review_below_text, review_text

REPO = Path(__file__).resolve().parents[1]
OLD = re.compile(r"(?<![\d.])99%")  # "99%", not "99.0%"


def test_one_formatter_says_the_threshold():
    assert review_below_text() == review_below_text(REVIEW_BELOW) == "under 99.0%"
    assert review_below_text(0.995) == "under 99.5%"


def test_evaluate_and_its_report_say_it_as_the_cli_and_the_page():
    r = review_summary(np.array([0.5, 0.6, 0.999, 0.999]), np.array([True, False, True, True]), np.ones(4, bool),
                       REVIEW_BELOW)
    line, html = review_text(r), _refused_and_flagged(2, r)
    assert line.startswith("2 of the 4 accepted answers had lower confidence (under 99.0%):")
    assert "2 of the 4 accepted answers had lower confidence (under 99.0%):" in html
    cli = tally_text(Counter(ok=3, review=2, ood=1))
    scan = summary_text({"path": "head.nii", "summary": {"slices": 3, "classified": 3, "refused": 0, "failed": 0,
                                                         "flagged": 1, "counts": {"glioma": 3}, "most_suspicious": []}})
    card = " ".join(limitations(["glioma", "notumor"], {}))
    for said in (line, html, cli, scan, card):
        assert "under 99.0%" in said and not OLD.search(said), said


def test_the_api_description_says_it_too():
    from braintumor.web.api_schemas import component_schemas

    described = str(component_schemas(["glioma", "notumor"]))
    assert "confidence is under 99.0%" in described and not OLD.search(described)


def test_no_output_formats_the_threshold_on_its_own():
    """The one home: no module or script formats REVIEW_BELOW (or a document's ``below``) itself."""
    own = re.compile(r"(REVIEW_BELOW|\[['\"]below['\"]\])\s*:\.\d%|probability_text\(\s*REVIEW_BELOW")
    files = [*(REPO / "src" / "braintumor").rglob("*.py"), *(REPO / "scripts").glob("*.py")]
    found = [p.name for p in files if p.name != "wording.py" and own.search(p.read_text(encoding="utf-8"))]
    assert found == []
