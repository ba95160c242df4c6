"""Inputs and slices that could not be read are counted "unreadable" (``wording.UNREADABLE``) on the CLI's last line
and a scan's summary as on the page's "Done:" line, series line and per-slice text: the CLI's last line said "1
failed" beside the page's "1 could not be read", a scan's summary "1 failed" under the page's "1 unreadable", and
the line after the CLI's last "1 input(s) could not be classified", close to a refusal's "not classified".
Synthetic summaries and counts; the page's template rendered with a tiny model; its scripts read as text."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from series_render import series_html

from braintumor.cli import main
from braintumor.run_tally import tally_text
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


def test_the_cli_last_lines_say_unreadable_as_the_page_done_line(tmp_path, capsys):
    line = tally_text(Counter(ok=1, review=1, ood=1, error=2))
    assert line == ("5 scored: 2 classified, 1 of them with lower confidence (under 99.0%), 1 not classified (unlike "
                    f"brain MRI), 2 {UNREADABLE}")
    script = (WEB / "static" / "run-status.js").read_text(encoding="utf-8")
    assert f'tally.error + " {UNREADABLE}"' in script  # the page's "Done: 2 classified, ..., 2 unreadable" (a piece)
    (tmp_path / "notes.png").write_text("not an image")
    assert main(["predict", str(tmp_path / "notes.png"), "--format", "jsonl"]) == 1
    assert capsys.readouterr().err == f"1 {UNREADABLE} input\n"  # a pipe's one line: the exit code's reason


def test_the_page_says_the_same_word(tiny_classifier):
    html = series_html(tiny_classifier, "head.nii", SUMMARY,
                       [{"slice": 3, "label": None, "state": "failed", "turned": False, "p": None,
                        "review": None}])
    assert "· 1 not classified (unlike brain MRI) · 1 unreadable</p>" in html
    assert "<li>slice 3: unreadable</li>" in html and "failed</" not in html
    script = (WEB / "static" / "series.js").read_text(encoding="utf-8")
    assert f'" {UNREADABLE}"' in script and f'": {UNREADABLE}"' in script  # the series line, a slice's text


def test_the_api_and_metrics_describe_unreadable_files_in_the_same_word(tiny_classifier):
    """The API's schema and the errors metric said "could not be classified", as a refusal is "not classified"."""
    from braintumor.web.api_schemas import component_schemas

    schemas = component_schemas(["glioma", "notumor"])
    assert f"({UNREADABLE}, as the page and the CLI count it" in schemas["FileError"]["description"]
    failed = schemas["Series"]["properties"]["summary"]["properties"]["failed"]["description"]
    assert failed == f"slices that could not be read ({UNREADABLE}, as the page and the CLI count them)"
    metrics = create_app(classifier=tiny_classifier).test_client().get("/metrics").get_data(as_text=True)
    assert (f"# HELP braintumor_errors_total Errors by kind: HTTP errors, {UNREADABLE} files (invalid_image), files "
            "the model gave scores that are not finite (model_failure) and clients gone before the end of their upload "
            "(client_disconnect).") in metrics.splitlines()
    assert "could not be classified" not in str(schemas) + metrics
