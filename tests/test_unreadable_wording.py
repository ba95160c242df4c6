"""A scan's slices that could not be read are counted "unreadable" on the CLI's summary as on the page's series
line and its per-slice text (``wording.UNREADABLE``): the CLI said "1 failed" under the page's "1 unreadable".
Synthetic summaries; the page's template rendered with a tiny model; its script read as text."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from braintumor.series import summary_text
from braintumor.web import create_app
from braintumor.wording import UNREADABLE

WEB = Path(__file__).resolve().parents[1] / "src" / "braintumor" / "web"
SUMMARY = {"slices": 4, "classified": 2, "refused": 1, "refused_turned": 0, "failed": 1, "flagged": 0,
           "counts": {"glioma": 2}, "most_suspicious": []}


def test_the_cli_summary_says_unreadable_as_the_page():
    line = summary_text({"path": "head.nii", "summary": SUMMARY})
    assert UNREADABLE == "unreadable"
    assert line.endswith("; 1 not classified (unlike brain MRI); 1 unreadable"), line
    assert "failed" not in line


def test_the_page_says_the_same_word(tiny_classifier):
    app = create_app(classifier=tiny_classifier)
    entry = SimpleNamespace(summary={"path": "head.nii", "summary": SUMMARY}, refusals=[], shown_top=[],
                            strip=[{"slice": 3, "label": None, "state": "failed", "turned": False, "p": None}])
    with app.test_request_context("/"):
        template = app.jinja_env.from_string('{% from "_series.html" import series_block %}'
                                             '{{ series_block(entry, ["glioma"], False) }}')
        html = " ".join(template.render(entry=entry).split())
    assert "· 1 not classified (unlike brain MRI) · 1 unreadable</p>" in html
    assert "<li>slice 3: unreadable</li>" in html and "failed</" not in html
    script = (WEB / "static" / "series.js").read_text(encoding="utf-8")
    assert f'" {UNREADABLE}"' in script and f'": {UNREADABLE}"' in script  # the series line, a slice's text
