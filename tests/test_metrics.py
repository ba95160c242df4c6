"""Metrics against hand-computed values (numbers worked out in the comments)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from braintumor.metrics import (
    Z95,
    accuracy_interval,
    average_ranks,
    calibration_summary,
    compute_metrics,
    confusion_matrix,
    expected_calibration_error,
    negative_log_likelihood,
    precision_recall_curve,
    reliability_bins,
    review_summary,
    roc_auc,
    roc_curve,
    uncalibrated,
)

CLASSES3 = ("a", "b", "c")


def one_hot_probs(pred: list[int], k: int, top: float = 0.8) -> np.ndarray:
    probs = np.full((len(pred), k), (1.0 - top) / (k - 1))
    probs[np.arange(len(pred)), pred] = top
    return probs


def test_perfect_predictions():
    y = np.array([0, 1, 2, 3, 0, 2])
    m = compute_metrics(y, np.eye(4)[y], ("glioma", "meningioma", "notumor", "pituitary"))
    assert m["n"] == 6 and m["accuracy"] == 1.0 and m["macro_f1"] == 1.0
    assert m["macro_roc_auc"] == 1.0 and m["ece"] == 0.0
    assert m["confusion_matrix"] == [[2, 0, 0, 0], [0, 1, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]]
    assert m["counts"] == {"glioma": 2, "meningioma": 1, "notumor": 2, "pituitary": 1}
    for stats in m["per_class"].values():
        assert stats["precision"] == stats["recall"] == stats["f1"] == stats["roc_auc"] == 1.0


def test_known_confusion_matrix():
    # true 0 0 0 1 1 2, predicted 0 0 1 1 2 2
    y, pred = [0, 0, 0, 1, 1, 2], [0, 0, 1, 1, 2, 2]
    m = compute_metrics(np.array(y), one_hot_probs(pred, 3), CLASSES3)
    assert m["confusion_matrix"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]
    assert m["accuracy"] == pytest.approx(4 / 6)
    a, b, c = (m["per_class"][k] for k in CLASSES3)
    assert (a["precision"], a["recall"], a["f1"]) == pytest.approx((1.0, 2 / 3, 0.8))
    assert (b["precision"], b["recall"], b["f1"]) == pytest.approx((0.5, 0.5, 0.5))
    assert (c["precision"], c["recall"], c["f1"]) == pytest.approx((0.5, 1.0, 2 / 3))
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert [a["support"], b["support"], c["support"]] == [3, 2, 1]
    # every confidence is 0.8 (one bin) and accuracy is 4/6
    assert m["ece"] == pytest.approx(abs(0.8 - 4 / 6))
    json.dumps(m)  # JSON-serialisable as is


def test_auc_of_known_rankings():
    assert roc_auc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]) == pytest.approx(0.75)
    assert roc_auc([0, 1, 0, 1], [0.5, 0.5, 0.5, 0.5]) == pytest.approx(0.5)  # all tied
    assert roc_auc([0, 0, 1, 1], [0.1, 0.5, 0.5, 0.9]) == pytest.approx(0.875)  # one tie counts 1/2
    assert roc_auc([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == 0.0
    assert roc_auc([1, 1], [0.3, 0.4]) is None and roc_auc([0, 0], [0.3, 0.4]) is None


def test_average_ranks_share_ties():
    assert average_ranks(np.array([3.0, 1.0, 3.0, 2.0])).tolist() == [3.5, 1.0, 3.5, 2.0]


def test_roc_curve_steps_and_area_match_rank_auc():
    fpr, tpr = roc_curve(np.array([0, 0, 1, 1]), np.array([0.1, 0.5, 0.5, 0.9]))
    assert fpr.tolist() == [0.0, 0.0, 0.5, 1.0] and tpr.tolist() == [0.0, 0.5, 1.0, 1.0]
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 200)
    s = np.round(rng.random(200) + 0.3 * y, 1)  # rounding makes many ties
    fpr, tpr = roc_curve(y, s)
    area = float(np.sum(np.diff(fpr) * (tpr[1:] + tpr[:-1]) / 2))
    assert area == pytest.approx(roc_auc(y, s))


def test_precision_recall_curve():
    # sorted by score: 0.8 (pos), 0.4 (neg), 0.35 (pos), 0.1 (neg)
    precision, recall, ap = precision_recall_curve(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    assert recall.tolist() == [0.0, 0.5, 0.5, 1.0, 1.0]
    assert precision == pytest.approx([1.0, 1.0, 0.5, 2 / 3, 0.5])
    assert ap == pytest.approx(0.5 * 1.0 + 0.5 * 2 / 3)
    assert precision_recall_curve(np.array([0, 0]), np.array([0.2, 0.9]))[2] == 0.0


def test_ece_and_reliability_bins_of_known_case():
    conf = np.array([0.95, 0.95, 0.55, 0.55])
    correct = np.array([True, False, True, True])
    # bin 14 (0.933, 1]: accuracy 0.5 vs 0.95; bin 8 (0.533, 0.6]: accuracy 1.0 vs 0.55
    assert expected_calibration_error(conf, correct) == pytest.approx(0.45)
    centers, acc, mean_conf, counts = reliability_bins(conf, correct, 15)
    assert counts.tolist() == [0] * 8 + [2] + [0] * 5 + [2]
    assert acc[14] == 0.5 and acc[8] == 1.0 and mean_conf[14] == pytest.approx(0.95)
    assert acc[0] == 0.0 and mean_conf[0] == 0.0  # empty bins are 0.0, not NaN
    assert centers[0] == pytest.approx(1 / 30) and centers[-1] == pytest.approx(29 / 30)
    # 0 and 1 land in the first and last bins
    assert reliability_bins(np.array([0.0, 1.0]), np.array([0, 1]), 15)[3][[0, 14]].tolist() == [1, 1]
    # a bin's upper edge is in it: 0.2 and 0.5 of 10 bins are bins 1 and 4, not 2 and 5
    assert np.flatnonzero(reliability_bins(np.array([0.2, 0.5]), np.array([1, 1]), 10)[3]).tolist() == [1, 4]
    assert expected_calibration_error(np.full(10, 0.9), np.arange(10) < 9) == pytest.approx(0.0)
    # bins weigh by their counts: three at 0.95 right 2/3 of the time (gap 0.95 - 2/3), one at 0.55 right (0.45)
    uneven = expected_calibration_error(np.array([0.95, 0.95, 0.95, 0.55]), np.array([True, True, False, True]))
    assert uneven == pytest.approx((3 * (0.95 - 2 / 3) + 0.45) / 4)


def test_review_summary_of_a_known_case():
    """Accepted answers under ``below`` are flagged (as Prediction.review flags them: 0.99 itself is not); refused
    answers are neither flagged nor counted among the wrong accepted ones."""
    conf = np.array([0.5, 0.95, 0.99, 0.999, 0.3])
    correct = np.array([False, True, True, False, False])
    accepted = np.array([True, True, True, True, False])
    assert review_summary(conf, correct, accepted, 0.99) == {
        "below": 0.99, "accepted": 4, "flagged": 2, "flagged_right": 1, "accuracy_flagged": 0.5,
        "accuracy_not_flagged": 0.5, "wrong_accepted": 2, "wrong_flagged": 1}
    none = review_summary(np.array([0.999]), np.array([True]), np.array([True]), 0.99)
    assert none["accuracy_flagged"] is None and none["accuracy_not_flagged"] == 1.0


def test_edge_cases_are_deterministic():
    empty = compute_metrics(np.zeros(0, dtype=int), np.zeros((0, 3)), CLASSES3)
    assert empty["n"] == 0 and empty["accuracy"] == 0.0 and empty["ece"] == 0.0
    assert empty["macro_f1"] == 0.0 and empty["macro_roc_auc"] is None
    json.dumps(empty)
    # class "c" never occurs and is never predicted: AUC undefined, left out of the macro scores
    m = compute_metrics(np.array([0, 1, 1]), np.array([[0.6, 0.4, 0.0], [0.7, 0.3, 0.0], [0.2, 0.8, 0.0]]),
                        CLASSES3)
    assert m["per_class"]["c"] == {"precision": None, "recall": None, "f1": None, "support": 0, "roc_auc": None}
    # a class never in the labels but predicted: precision 0 (defined), recall undefined, F1 0
    m2 = compute_metrics(np.array([0, 1]), np.array([[0.6, 0.4, 0.0], [0.1, 0.2, 0.7]]), CLASSES3)
    assert m2["per_class"]["c"] == {"precision": 0.0, "recall": None, "f1": 0.0, "support": 0, "roc_auc": None}
    assert m2["per_class"]["b"]["precision"] is None and m2["per_class"]["b"]["recall"] == 0.0
    assert m2["macro_f1"] == pytest.approx((1.0 + 0.0 + 0.0) / 3)  # c, predicted though absent, counts
    assert m["macro_roc_auc"] == pytest.approx(0.5)  # a: 0.6 beats 0.2 not 0.7; b: 0.8 beats 0.4, 0.3 does not
    assert m["macro_f1"] == pytest.approx((2 / 3 + 2 / 3) / 2)
    # ties in the probabilities predict the first class
    assert compute_metrics(np.array([1]), np.array([[0.5, 0.5, 0.0]]), CLASSES3)["confusion_matrix"][1][0] == 1


def test_bad_input_is_refused():
    with pytest.raises(ValueError):
        compute_metrics(np.array([0, 1]), np.zeros((3, 3)), CLASSES3)
    with pytest.raises(ValueError):
        compute_metrics(np.array([0, 3]), np.zeros((2, 3)), CLASSES3)
    assert confusion_matrix(np.array([0, 1]), np.array([1, 1]), 2).tolist() == [[0, 1], [0, 1]]


def test_accuracy_interval_is_wilsons_score_interval():
    """An accuracy on 24 images was printed as bare as one on 1311. Newcombe (Stat. Med. 1998, table I) gives the
    Wilson intervals 0.2553-0.3662 for 81 of 263 and 0.0624-0.1605 for 15 of 148; each end is where the score test
    of that proportion is at z, and 0 or n right keep a width (the normal approximation's would be a point)."""
    assert np.round(accuracy_interval(81, 263), 4).tolist() == [0.2553, 0.3662]
    assert np.round(accuracy_interval(15, 148), 4).tolist() == [0.0624, 0.1605]
    for k, n in ((6, 24), (1304, 1311), (1, 3)):
        for end in accuracy_interval(k, n):
            assert abs(k / n - end) == pytest.approx(Z95 * np.sqrt(end * (1 - end) / n), rel=1e-9)
    low, high = accuracy_interval(0, 10)
    assert low == 0.0 and high == pytest.approx(0.2775, abs=1e-4)
    assert accuracy_interval(10, 10)[0] == pytest.approx(1 - high) and accuracy_interval(0, 0) is None
    doc = compute_metrics(np.array([0, 1, 2, 0]), one_hot_probs([0, 1, 1, 0], 3), CLASSES3)
    assert doc["accuracy_interval"] == accuracy_interval(3, 4)


def test_probabilities_before_the_temperature_are_recovered_where_the_calibrated_ones_are_tiny():
    """A temperature under 1 sharpens: logits (0, 12) at T = 0.35 give a calibrated 1.3e-15 for the first class. It
    was clipped to 1e-12 before the logarithm, so the probabilities "before the temperature" came back as if the
    logit gap were 9.7, not 12, and a confidently wrong answer's NLL before it read 9.67 instead of 12.0."""
    logits, t = np.array([[0.0, 12.0], [3.0, 0.0]]), 0.35

    def softmax(z: np.ndarray) -> np.ndarray:
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)

    calibrated, raw = softmax(logits / t), softmax(logits)
    assert calibrated[0, 0] < 1e-12
    np.testing.assert_allclose(uncalibrated(calibrated, t), raw, rtol=1e-9, atol=0)
    before = calibration_summary(np.array([0, 0]), calibrated, uncalibrated(calibrated, t), t)["before"]
    assert before["nll"] == pytest.approx(-np.log(raw[[0, 1], [0, 0]]).mean(), rel=1e-9)


def test_nll_is_not_capped_at_a_confidently_wrong_answer():
    """The NLL evaluate and calibrate report clipped each probability at 1e-12, so an answer that gave the true class
    1e-20 cost 27.6 instead of 46.1: a sharpening temperature makes such answers, and the fit itself minimises the
    NLL unclipped. One definition for both (metrics.negative_log_likelihood)."""
    probs = np.array([[1e-20, 1.0 - 1e-20], [0.9, 0.1]])
    y = np.array([0, 0])
    expected = (46.0517 + -np.log(0.9)) / 2
    assert negative_log_likelihood(probs, y) == pytest.approx(expected, rel=1e-4)
    assert calibration_summary(y, probs, probs, 1.0)["after"]["nll"] == pytest.approx(expected, rel=1e-4)
    assert negative_log_likelihood(np.array([[0.0, 1.0]]), np.array([0])) == pytest.approx(708.4, rel=1e-3)  # finite
    assert negative_log_likelihood(np.zeros((0, 2)), np.zeros(0, dtype=int)) is None
