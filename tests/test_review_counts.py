"""The counts of answers under 99 % say what each answer's note says, "lower confidence": they said "N flagged for
review", as if only those answers needed a clinician (every answer does: the disclaimer on every page). Checked on
every output that counts them: the CLI's last line and a scan's summary, the page's templates and scripts (its
"Done:" line, a series' line, the dashboard), evaluate's console line and report.html, the model card's words, the
API's and the metrics' descriptions. The machine fields keep their names (``review``, ``flagged``)."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import numpy as np
from series_render import series_html

from braintumor.metrics import review_summary
from braintumor.prediction import limitations
from braintumor.report import _refused_and_flagged
from braintumor.run_tally import tally_text
from braintumor.series import summary_text
from braintumor.web import create_app
from braintumor.wording import LOWER_CONFIDENCE, review_text

WEB = Path(__file__).resolve().parents[1] / "src" / "braintumor" / "web"
OLD = re.compile(r"flagged|for review", re.I)


def js_strings(path: Path) -> str:
    """The string literals of a script, what it can show (``s.flagged``, a field's name, is not said)."""
    code = re.sub(r"^\s*//.*$|\s//[^\"'\n]*$", "", path.read_text(encoding="utf-8"), flags=re.M)
    return "\n".join(m.group(2) for m in re.finditer(r"([\"'])((?:\\.|(?!\1).)*)\1", code))


def template_text(path: Path) -> str:
    """A template's words, its Jinja code and comments left out (``s.flagged`` there is a field's name)."""
    return re.sub(r"\{#.*?#\}|\{\{.*?\}\}|\{%.*?%\}", " ", path.read_text(encoding="utf-8"), flags=re.S)


def test_the_cli_counts_say_lower_confidence():
    line = tally_text(Counter(ok=3, review=2, ood=1, error=0))
    assert line == ("6 scored: 5 classified, 2 of them with lower confidence (under 99.0%), 1 not classified "
                    "(unlike brain MRI), 0 unreadable")
    scan = summary_text({"path": "head.nii.gz", "summary": {
        "kind": "nifti", "slices": 3, "classified": 3, "refused": 0, "failed": 0, "flagged": 1,
        "counts": {"glioma": 3}, "most_suspicious": []}})
    assert scan == "head.nii.gz: 3 slices, 3 classified: Glioma 3; 1 with lower confidence (under 99.0%)"
    assert not OLD.search(line + scan)


def test_evaluate_says_lower_confidence():
    r = review_summary(np.array([0.5, 0.6, 0.999, 0.999]), np.array([True, False, True, True]), np.ones(4, bool), 0.99)
    line, html = review_text(r), _refused_and_flagged(2, r)
    assert line.startswith("2 of the 4 accepted answers had lower confidence (under 99.0%): 50.00% of them were right")
    assert "<h2>Refusals and lower confidence</h2>" in html
    assert f"<p>2 not classified (unlike brain MRI): users are shown no answer for these, but the network's answers " \
           f"are counted above. {line}.</p>" in html
    assert not OLD.search(line + html)


def test_the_page_counts_say_lower_confidence(tiny_classifier):
    html = series_html(tiny_classifier, "head.nii.gz", {
        "slices": 2, "classified": 2, "refused": 0, "refused_turned": 0, "failed": 0, "flagged": 1,
        "counts": {"glioma": 2}})
    assert "2 slices · Glioma 2 · 1 with lower confidence</p>" in html
    assert '" of them with ' + LOWER_CONFIDENCE + '"' in (WEB / "static" / "run-status.js").read_text(encoding="utf-8")
    assert '" with ' + LOWER_CONFIDENCE + '"' in (WEB / "static" / "series.js").read_text(encoding="utf-8")
    said = {p.name: template_text(p) for p in (WEB / "templates").glob("*.html")}
    said |= {p.name: js_strings(p) for p in (WEB / "static").glob("*.js")}
    assert [name for name, text in said.items() if OLD.search(text)] == []
    assert "Refusals and lower confidence" in said["dashboard.html"]
    assert "lower-confidence rate" in said["dashboard.html"]


def test_the_model_card_api_and_metrics_descriptions_say_lower_confidence(tiny_classifier):
    from braintumor.web.api_schemas import component_schemas

    card = " ".join(limitations(["glioma", "notumor"], {}))
    assert f"are said to have {LOWER_CONFIDENCE}" in card
    described = str(component_schemas(["glioma", "notumor"]))
    metrics = create_app(classifier=tiny_classifier).test_client().get("/metrics").get_data(as_text=True)
    help_line = next(x for x in metrics.splitlines() if x.startswith("# HELP braintumor_review_flags_total"))
    assert LOWER_CONFIDENCE in help_line
    assert not [t for t in (card, described, help_line) if re.search(r"flagged for|for review", t)]
