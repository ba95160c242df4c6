"""evaluate's line and report.html on the answers flagged under 99 %: with every accepted answer flagged they said
"(n/a of the others)", and with none flagged "n/a of them right": a part with nothing to measure is left out.
Synthetic confidences; no model."""

from __future__ import annotations

import numpy as np

from braintumor.evaluation_summary import review_line
from braintumor.metrics import review_summary
from braintumor.report import _refused_and_flagged


def summary(conf: list[float], correct: list[bool]) -> dict:
    return review_summary(np.array(conf), np.array(correct), np.ones(len(conf), bool), 0.99)


def test_some_flagged_says_both_rates_as_before():
    r = summary([0.5, 0.6, 0.999, 0.999], [True, False, True, True])
    assert review_line(r) == ("lower confidence (under 99.0%): 2 of 4 accepted, 50.00% of them right "
                              "(100.00% of the others); they hold 1 of the 1 wrong accepted answers")


def test_every_answer_flagged_says_no_n_a():
    r = summary([0.5, 0.6], [True, False])
    line, html = review_line(r), _refused_and_flagged(None, r)
    assert line == ("lower confidence (under 99.0%): 2 of 2 accepted (all of them), 50.00% of them right; "
                    "they hold 1 of the 1 wrong accepted answers")
    assert ("2 of the 2 accepted answers had lower confidence (under 99.0%), all of them; 50.00% of them "
            "were right, and they hold 1 of the 1 wrong accepted answers.") in html
    assert "n/a" not in line + html


def test_none_flagged_says_no_n_a():
    r = summary([0.999, 0.999], [True, False])
    line, html = review_line(r), _refused_and_flagged(None, r)
    assert line == "lower confidence (under 99.0%): 0 of 2 accepted, which were 50.00% right"
    assert "0 of the 2 accepted answers had lower confidence (under 99.0%); 50.00% of them were right." \
        in html
    assert "n/a" not in line + html


def test_no_accepted_answer_says_no_rate():
    r = summary([], [])
    assert review_line(r) == "lower confidence (under 99.0%): 0 of 0 accepted"
    assert "n/a" not in _refused_and_flagged(None, r)
