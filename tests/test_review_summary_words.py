"""evaluate's line and report.html on the answers flagged under 99 %, said by one function
(``wording.review_text``): each said it in its own words ("lower confidence (under 99%): 2 of 4 accepted" on the
console, "2 of the 4 accepted answers had lower confidence" in the report) and handled the none- and all-flagged
cases on its own; with every accepted answer flagged they said "(n/a of the others)", and with none flagged "n/a of
them right": a part with nothing to measure is left out. Synthetic confidences; no model."""

from __future__ import annotations

import contextlib
import io
from types import SimpleNamespace

import numpy as np

from braintumor import evaluation_summary
from braintumor.metrics import review_summary
from braintumor.report import _refused_and_flagged
from braintumor.wording import review_text


def summary(conf: list[float], correct: list[bool]) -> dict:
    return review_summary(np.array(conf), np.array(correct), np.ones(len(conf), bool), 0.99)


def console(r: dict, temperature: float = 1.0, line: int = -2) -> str:
    """evaluate's console line on ``r`` (print_summary's, with the other lines' inputs stubbed)."""
    result = {"counts": {}, "macro_roc_auc": None, "accuracy": 1.0, "macro_f1": 1.0, "ece": 0.0, "n": 1,
              "accuracy_interval": [0.2065, 1.0],
              "data": {"errors": []}, "leak_free": None, "leak_free_note": None, "ood_refused": 0,
              "calibration": {"temperature": temperature, "before": {"ece": 0.0}, "after": {"ece": 0.0}}, "review": r}
    dataset = SimpleNamespace(classes=[], labels=np.zeros(0), root="ROOT", hidden={})
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        evaluation_summary.print_summary(result, dataset, "OUT")
    return out.getvalue().splitlines()[line]


def said_alike(r: dict) -> str:
    """The one sentence, as the console prints it and as report.html says it (with a full stop)."""
    line, html = console(r), _refused_and_flagged(None, r)
    assert line == review_text(r) and f"<p>{line[:1].upper() + line[1:]}.</p>" in html, (line, html)
    assert "n/a" not in line + html and "accepted, " not in line and "under 99%" not in line + html
    return line


def test_some_flagged_says_both_rates():
    assert said_alike(summary([0.5, 0.6, 0.999, 0.999], [True, False, True, True])) == (
        "2 of the 4 accepted answers had lower confidence (under 99.0%): 50.00% of them were right, against "
        "100.00% of the others; the one wrong accepted answer is among them")


def test_every_answer_flagged_says_no_n_a():
    assert said_alike(summary([0.5, 0.6], [True, False])) == (
        "2 of the 2 accepted answers had lower confidence (under 99.0%), all of them: 50.00% of them were right; "
        "the one wrong accepted answer is among them")


def test_none_flagged_says_no_n_a():
    assert said_alike(summary([0.999, 0.999], [True, False])) == (
        "0 of the 2 accepted answers had lower confidence (under 99.0%); 50.00% of the 2 were right")


def test_no_wrong_answer_says_so_not_0_of_the_0():
    """A test split of one class, every answer right, said "they hold 0 of the 0 wrong accepted answers"."""
    assert said_alike(summary([0.5, 0.999], [True, True])) == (
        "1 of the 2 accepted answers had lower confidence (under 99.0%): 100.00% of them were right, against "
        "100.00% of the others; no accepted answer was wrong")
    assert said_alike(summary([0.5, 0.999], [True, False])).endswith(
        "; the one wrong accepted answer is not among them")
    assert said_alike(summary([0.5, 0.6, 0.7], [False, False, True])).endswith(
        "; they hold 2 of the 2 wrong accepted answers")


def test_one_accepted_answer_is_not_1_of_the_1():
    """One accepted answer was "1 of the 1 accepted answers had ..., all of them: 0.00% of them were right"."""
    assert said_alike(summary([0.5], [False])) == (
        "the one accepted answer had lower confidence (under 99.0%), and was wrong")
    assert said_alike(summary([0.999], [True])) == (
        "the one accepted answer did not have lower confidence (under 99.0%), and was right")


def test_no_accepted_answer_says_so_and_no_count():
    """With every image refused it said "0 of the 0 accepted answers had lower confidence"."""
    r = review_summary(np.array([0.5, 0.999]), np.array([True, False]), np.zeros(2, bool), 0.99)
    assert console(r) == review_text(r) == "no answer was accepted"
    assert "<p>No answer was accepted.</p>" in _refused_and_flagged(None, r)  # a sentence of its own there


def test_the_accuracy_interval_counts_one_image_in_the_singular():
    """One image scored was "0.0000-0.7935 on 1 images"; the leak-free subset's the same."""
    block = {"accuracy_interval": [0.0, 0.7935], "n": 1}
    assert evaluation_summary.sample_notes({**block, "leak_free": dict(block)}) == [
        "95% interval of the accuracy (Wilson score): 0.0000-0.7935 on 1 image; leak-free 0.0000-0.7935 on 1 image"]


def test_a_temperature_on_an_end_of_its_search_is_said_so_by_evaluate_too():
    """calibrate said "an end of its search range" of a temperature of 10 fitted on 4 validation images, while
    evaluate printed "temperature 10.0000 (fitted on validation)" of the same file, as if fitted."""
    r = summary([0.999, 0.999], [True, True])
    assert "not a fitted minimum" in console(r, temperature=10.0, line=-3)
    assert "not a fitted minimum" not in console(r, temperature=0.3655, line=-3)
