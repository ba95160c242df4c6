"""A refusal by the out-of-distribution check is said "unlike brain MRI" everywhere: the CLI's last line, evaluate's
console line, report.html, the refused gallery and a volume's summary. The CLI and evaluate said "refused as not
brain MRI" while the page and the summaries said "unlike brain MRI": most refused Testing slices are brain MRI (or CT
filed as MRI) far from the training slices; the check measures a distance, it cannot tell what an image is.
Synthetic counts and records: no model, no dataset."""

from __future__ import annotations

import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

from braintumor.orientation import TURN_ADVICE
from braintumor.prediction import OOD_MESSAGE
from braintumor.refusal_wording import refusals_text
from braintumor.report import _refused_and_flagged
from braintumor.run_tally import tally_text
from braintumor.series import summary_text, turned

REPO = Path(__file__).resolve().parents[1]
OLD = "not brain MRI"


def test_the_cli_tally_says_not_classified_unlike_brain_mri_as_the_page():
    """It said "3 refused as not brain MRI", the page's batch line "3 not classified (unlike brain MRI)"."""
    assert tally_text(Counter(ok=5, review=1, ood=3, error=0)) == (
        "9 scored: 6 classified, 1 of them with lower confidence (under 99.0%), 3 not classified (unlike brain MRI), "
        "0 unreadable")
    assert tally_text(Counter(ok=5, ood=3, turned=2, error=1)) == (
        "11 scored: 5 classified, 0 of them with lower confidence (under 99.0%), 3 not classified (unlike brain MRI), "
        "2 not classified (turned: rotate upright and resend), 1 unreadable")
    assert tally_text(Counter(ok=1, turned=1)) == (
        "2 scored: 1 classified, 0 of them with lower confidence (under 99.0%), 0 not classified (unlike brain MRI), "
        "1 not classified (turned: rotate upright and resend), 0 unreadable")


def test_evaluate_and_its_report_say_not_classified_as_the_cli_and_the_page():
    """They said "refused as unlike brain MRI: 37" and "2 image(s) were refused as unlike brain MRI", where the CLI's
    last line and the page say "37 not classified (unlike brain MRI)"."""
    assert refusals_text(37, 0) == "37 not classified (unlike brain MRI)"
    assert refusals_text(0, 0) == "0 not classified (unlike brain MRI)"  # as the CLI's last line: the count is news
    assert refusals_text(45, 9) == ("36 not classified (unlike brain MRI), 9 not classified (turned: rotate "
                                    "upright and resend)")
    one = _refused_and_flagged(2, None)
    assert ("<p>2 not classified (unlike brain MRI): users are shown no answer for these, but the network's answers "
            "are counted above.</p>") in one
    html = _refused_and_flagged(2, None, side=1)
    assert ("1 not classified (unlike brain MRI), 1 not classified (turned: rotate upright and resend): users are "
            "shown no answer for these") in html
    assert "0 not classified (unlike brain MRI).</p>" in _refused_and_flagged(0, None)
    assert not re.search(r"refused as|were refused|refused:", "".join([refusals_text(37, 0), refusals_text(45, 9),
                                                                       one, html]))
    assert OLD not in html + one


def test_a_volume_summary_says_not_classified_as_the_page_and_tells_those_on_their_side_apart():
    """It said "3 refused (unlike brain MRI); 1 refused on its side (rotate and resend)" under the page's "3 not
    classified (unlike brain MRI) · 1 not classified (on its side: rotate and resend)", now "(turned: rotate upright and
    resend)"."""
    rec = {"path": "head.nii", "summary": {"slices": 6, "classified": 2, "counts": {"glioma": 2}, "refused": 4,
                                            "refused_turned": 1, "failed": 0, "most_suspicious": []}}
    line = summary_text(rec)
    assert line.endswith("; 3 not classified (unlike brain MRI); 1 not classified (turned: rotate upright and "
                         "resend)"), line
    assert OLD not in line and "refused" not in line


def test_the_cli_table_says_not_classified_as_the_page(capsys):
    """A refused row read "refused: REASON" where the page's card reads "Not classified: REASON"."""
    import io

    from braintumor.predict_output import Formatter

    out = io.StringIO()
    fmt = Formatter("table", out, ("glioma", "notumor"))
    fmt.write({"path": "cat.jpg", "ood": True, "reason": f"{OOD_MESSAGE}: colour image", "label": None})
    fmt.close()
    row = out.getvalue().splitlines()[1]
    assert row.endswith(f"  not classified: {OOD_MESSAGE}: colour image") and "refused" not in row


def test_a_refused_csv_row_leaves_its_class_columns_empty_as_its_label():
    """A refused photo's row read 0.9996 under meningioma: a spreadsheet filter on that column (a researcher's
    "meningioma > 0.9") picked it up among the answers. Its class columns are blank, as its label and confidence;
    an accepted row keeps its probabilities, and the JSON keeps the refused one's under its "ood": true."""
    import csv
    import io

    from braintumor.predict_output import Formatter

    probs = {"glioma": 0.0001, "meningioma": 0.9996, "notumor": 0.0002, "pituitary": 0.0001}
    refused = {"path": "photo.jpg", "label": None, "confidence": None, "probabilities": probs, "ood": True,
               "ood_score": 3.2, "review": False, "reason": f"{OOD_MESSAGE}: colour image"}
    accepted = {**refused, "path": "scan.jpg", "label": "meningioma", "confidence": 0.9996, "ood": False,
                "ood_score": 0.4, "reason": None}
    out = io.StringIO()
    fmt = Formatter("csv", out, tuple(probs))
    fmt.write(refused)
    fmt.write(accepted)
    fmt.close()
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert [rows[0][c] for c in ("label", "confidence", *probs)] == [""] * 6 and rows[0]["ood"] == "True"
    assert [float(rows[1][c]) for c in probs] == list(probs.values())
    assert refused["probabilities"] == probs  # the record (json, jsonl) keeps them


def test_a_turn_is_told_by_the_orientation_checks_constant_whatever_the_words_around_it():
    """series.turned keys on orientation.TURN_ADVICE, the one home of the words a turn's reason ends with."""
    assert turned({"ood": True, "reason": f"{OOD_MESSAGE}: it looks turned 90 degrees; {TURN_ADVICE}"})
    assert not turned({"ood": True, "reason": f"{OOD_MESSAGE}: colour image"})
    assert not turned({"ood": False, "reason": TURN_ADVICE})


def test_score_jsonl_says_unlike_brain_mri():
    text = ('{"path": "glioma/a.jpg", "label": null, "confidence": null, "ood": true, "reason": "x", '
            '"probabilities": {"glioma": 0.9, "meningioma": 0.04, "notumor": 0.03, "pituitary": 0.03}}\n')
    done = subprocess.run([sys.executable, str(REPO / "scripts" / "score_jsonl.py")], input=text,
                          capture_output=True, text=True, timeout=60)
    assert "1 not classified (unlike brain MRI);" in done.stdout and OLD not in done.stdout


def test_the_api_describes_refusals_as_unlike_brain_mri():
    """The API's schema said a summary's ``refused`` counted slices refused "as not brain MRI"."""
    from braintumor.web.api_schemas import component_schemas

    described = " ".join(str(component_schemas(["glioma", "notumor"])).split())
    assert "slices refused (not classified): as unlike brain MRI, or as turned" in described
    assert not re.search(r"not\s+(a\s+)?brain\s+MRI", described)


def test_the_docs_no_longer_say_refused_as_not_brain_mri():
    """README and docs say what the tools print (docs/PERFORMANCE.md quotes one past run's line verbatim)."""
    for doc in [REPO / "README.md", *sorted((REPO / "docs").glob("*.md")), REPO / "models" / "MODEL_CARD.md"]:
        text = doc.read_text(encoding="utf-8")
        if doc.name == "PERFORMANCE.md":
            text = text.replace("`1274 classified, 26 of them flagged for review, 37 refused as not brain MRI, "
                                "0 failed`", "")
        assert not re.search(r"(as|what is) not\s+(a\s+)?brain\s+MRI", text), doc.name  # README: "Refuses what is"


#: How the count of slices refused as turned reads (refusal_wording.TURNED_RESEND); it said "on its side" / "on their
#: side".
TURNED_WORDS = "turned: rotate upright and resend"


def test_an_upside_down_slice_is_counted_as_turned_not_as_on_its_side():
    """Since upside down is refused too, a count of slices refused as turned holds upside-down ones (evaluate's 11
    held 3), yet every count said "(on their side: rotate and resend)" under their own reason "it looks upside down".
    The CLI's last line, evaluate's, report.html, a scan's summary and score_jsonl now say one word for both turns."""
    import importlib.util

    import numpy as np

    from braintumor.orientation import turn_reasons
    from braintumor.refusal_wording import TURNED_RESEND

    assert TURNED_RESEND == TURNED_WORDS
    reason = turn_reasons(np.array([[0.0, 0.0, 9.0, 0.0]]), 0.5, 0.5)[0]
    upside_down = {"ood": True, "reason": f"{OOD_MESSAGE}: {reason}"}
    assert "upside down" in upside_down["reason"] and turned(upside_down)  # counted in refused_turned, "turned"
    summary = {"path": "head.nii", "summary": {"slices": 2, "classified": 0, "counts": {}, "refused": 2,
                                                "refused_turned": 2, "failed": 0, "most_suspicious": []}}
    spec = importlib.util.spec_from_file_location("score_jsonl", REPO / "scripts" / "score_jsonl.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    said = [tally_text(Counter(turned=1)), tally_text(Counter(turned=3)), refusals_text(4, 1), summary_text(summary),
            _refused_and_flagged(3, None, side=2), script.refusals_text(3, 1), script.refusals_text(3, 2)]
    for text in said:
        assert f"not classified ({TURNED_WORDS})" in text and "side" not in text, text


def test_the_page_gets_the_turned_count_words_from_the_server(tiny_classifier):
    """series.js and app.js said "on its side" / "on their side: rotate and resend" in their own copies of the words;
    they read them from the form's data-turned-resend, which the server fills from refusal_wording.TURNED_RESEND, as the
    series block it renders without JavaScript (_series.html) says them."""
    from html import unescape

    from braintumor.web import create_app

    page = unescape(create_app(classifier=tiny_classifier).test_client().get("/").get_data(as_text=True))
    assert f'data-turned-resend="{TURNED_WORDS}"' in page
    static = REPO / "src" / "braintumor" / "web" / "static"
    for name in ("series.js", "run-status.js"):
        code = (static / name).read_text(encoding="utf-8")
        assert "dataset.turnedResend" in code and "side: rotate" not in code and "rotate upright and resend\"" \
            not in code, name
    series = (REPO / "src" / "braintumor" / "web" / "templates" / "_series.html").read_text(encoding="utf-8")
    assert series.count("turned_resend()") == 2 and "side: rotate" not in series
