"""Classification metrics in plain numpy, so evaluating needs neither sklearn nor torch.

Every quantity has one definition here; the figures and the report read them from
:func:`compute_metrics` or the curve helpers, never recompute them their own way.
Undefined ratios (an empty bin, a class never predicted) are 0.0, and an undefined AUC
(no positives or no negatives) is ``None``, so results are deterministic and JSON-safe.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: Bins of the reliability diagram and the expected calibration error.
N_BINS: int = 15


def _ratio(num: float, den: float) -> float:
    return float(num) / float(den) if den else 0.0


def percent(value: float | None) -> str:
    """A share for people to read: "12.34%", or "n/a" where it is undefined (nothing to count)."""
    return "n/a" if value is None else f"{value:.2%}"


#: z of a two-sided 95 % interval: the standard normal distribution's 97.5th percentile.
Z95: float = 1.959963984540054


def accuracy_interval(correct: int, n: int, z: float = Z95) -> list[float] | None:
    """The 95 % Wilson score interval of an accuracy of ``correct`` in ``n`` (None without images): 0.25 on 24 test
    images is anywhere from 0.12 to 0.45, and a bare "0.2500" read like a measurement on thousands. Wilson's, not the
    normal approximation, because it stays inside [0, 1] and keeps its width at 0 or ``n`` right, where that one
    collapses to a point."""
    if not n:
        return None
    p, z2 = correct / n, z * z
    centre, half = p + z2 / (2 * n), z * np.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    return [max(0.0, float((centre - half) / (1 + z2 / n))), min(1.0, float((centre + half) / (1 + z2 / n)))]


def _check(y_true: np.ndarray, probs: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    y = np.asarray(y_true, dtype=np.int64).reshape(-1)
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] != y.shape[0] or p.shape[1] != n_classes:
        raise ValueError(f"probs must be (N, {n_classes}) with N = len(y_true) = {y.shape[0]}; got {p.shape}")
    if y.size and (y.min() < 0 or y.max() >= n_classes):
        raise ValueError(f"labels must be in [0, {n_classes - 1}]")
    return y, p


def average_ranks(values: np.ndarray) -> np.ndarray:
    """1-based ranks with tied values sharing their mean rank (what a rank AUC needs)."""
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(v, kind="mergesort")
    sorted_v = v[order]
    # Start index of each run of equal values, and the mean rank of that run.
    starts = np.flatnonzero(np.r_[True, sorted_v[1:] != sorted_v[:-1]])
    stops = np.r_[starts[1:], v.size]
    run_rank = (starts + 1 + stops) / 2.0
    ranks = np.empty(v.size, dtype=np.float64)
    ranks[order] = np.repeat(run_rank, stops - starts)
    return ranks


def roc_auc(y_bin: np.ndarray, scores: np.ndarray) -> float | None:
    """Area under the ROC curve via the Mann-Whitney U statistic; ties count one half."""
    y = np.asarray(y_bin).astype(bool).reshape(-1)
    n_pos = int(y.sum())
    n_neg = y.size - n_pos
    if n_pos == 0 or n_neg == 0:
        return None
    ranks = average_ranks(np.asarray(scores, dtype=np.float64).reshape(-1))
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2.0) / (n_pos * n_neg))


def _cumulative_hits(y_bin: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
    """(true positives, false positives) at each distinct threshold, highest first; and P."""
    y = np.asarray(y_bin).astype(bool).reshape(-1)
    s = np.asarray(scores, dtype=np.float64).reshape(-1)
    order = np.argsort(-s, kind="mergesort")
    y, s = y[order], s[order]
    last_of_run = np.r_[np.flatnonzero(s[1:] != s[:-1]), s.size - 1] if s.size else np.array([], dtype=int)
    tp = np.cumsum(y)[last_of_run]
    fp = (last_of_run + 1) - tp
    return tp.astype(np.float64), fp.astype(np.float64), int(y.sum())


def roc_curve(y_bin: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(false positive rate, true positive rate) from (0, 0) to (1, 1), one step per distinct score."""
    tp, fp, n_pos = _cumulative_hits(y_bin, scores)
    n_neg = int(np.asarray(y_bin).size) - n_pos
    tpr = np.r_[0.0, tp / n_pos if n_pos else np.zeros_like(tp)]
    fpr = np.r_[0.0, fp / n_neg if n_neg else np.zeros_like(fp)]
    return fpr, tpr


def precision_recall_curve(y_bin: np.ndarray, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """(precision, recall, average precision), recall rising from 0 (where precision is 1).

    Average precision is the step-wise sum of precision times each recall increment (no
    interpolation), the usual definition; 0.0 when there are no positives.
    """
    tp, fp, n_pos = _cumulative_hits(y_bin, scores)
    precision = np.r_[1.0, np.divide(tp, tp + fp, out=np.zeros_like(tp), where=(tp + fp) > 0)]
    recall = np.r_[0.0, tp / n_pos if n_pos else np.zeros_like(tp)]
    ap = float(np.sum(np.diff(recall) * precision[1:])) if n_pos else 0.0
    return precision, recall, ap


def reliability_bins(
    conf: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(bin centers, accuracy, mean confidence, count) over equal-width bins of [0, 1].

    Bin i holds confidences in (i/n, (i+1)/n] (0 goes to the first bin); empty bins
    report 0.0 accuracy and confidence with a count of 0.
    """
    c = np.clip(np.asarray(conf, dtype=np.float64).reshape(-1), 0.0, 1.0)
    ok = np.asarray(correct, dtype=np.float64).reshape(-1)
    idx = np.clip(np.ceil(c * n_bins).astype(np.int64) - 1, 0, n_bins - 1)
    counts = np.bincount(idx, minlength=n_bins).astype(np.int64)
    acc_sum = np.bincount(idx, weights=ok, minlength=n_bins)
    conf_sum = np.bincount(idx, weights=c, minlength=n_bins)
    safe = np.maximum(counts, 1)
    centers = (np.arange(n_bins) + 0.5) / n_bins
    return centers, np.where(counts > 0, acc_sum / safe, 0.0), np.where(counts > 0, conf_sum / safe, 0.0), counts


def expected_calibration_error(conf: np.ndarray, correct: np.ndarray, n_bins: int = N_BINS) -> float:
    """Bin-count-weighted mean |accuracy - confidence|: how far confidence is from being a probability."""
    _, acc, mean_conf, counts = reliability_bins(conf, correct, n_bins)
    total = counts.sum()
    return float(np.sum(counts * np.abs(acc - mean_conf)) / total) if total else 0.0


def review_summary(conf: np.ndarray, correct: np.ndarray, accepted: np.ndarray, below: float) -> dict:
    """What flagging accepted answers with a confidence under ``below`` does: how many are flagged, how often
    the flagged and the others are right (None when there are none), and how many of the wrong answers the flag
    catches."""
    conf, correct, accepted = np.asarray(conf, float), np.asarray(correct, bool), np.asarray(accepted, bool)
    flagged = accepted & (conf < below)
    sure = accepted & ~flagged
    return {"below": below, "accepted": int(accepted.sum()), "flagged": int(flagged.sum()),
            "flagged_right": int((flagged & correct).sum()),
            "accuracy_flagged": _ratio((flagged & correct).sum(), flagged.sum()) if flagged.any() else None,
            "accuracy_not_flagged": _ratio((sure & correct).sum(), sure.sum()) if sure.any() else None,
            "wrong_accepted": int((accepted & ~correct).sum()), "wrong_flagged": int((flagged & ~correct).sum())}


#: The smallest normal float64: probabilities are clipped only here (an underflowed 0), never at a round 1e-12.
TINY: float = float(np.finfo(np.float64).tiny)


def negative_log_likelihood(probs: np.ndarray, y: np.ndarray) -> float | None:
    """Mean -log of the true class's probability (None without images). Clipped at :data:`TINY` only: a clip at
    1e-12 capped a confidently wrong answer's cost at 27.6, where the temperature's fit, unclipped, saw 46 for 1e-20."""
    p = np.asarray(probs, dtype=np.float64)
    y = np.asarray(y, dtype=np.int64).reshape(-1)
    return float(-np.log(np.clip(p[np.arange(len(y)), y], TINY, 1.0)).mean()) if len(y) else None


def uncalibrated(probs: np.ndarray, temperature: float) -> np.ndarray:
    """The probabilities at temperature 1, recovered from calibrated ones (p_T is softmax(z / T)). Clipped only at
    float64's smallest normal number (an underflowed 0): a temperature under 1 makes calibrated probabilities far
    below 1e-12, and a clip there gave a logit gap of 9.7 for 12 at T = 0.35 (a wrong answer's NLL before it 9.7)."""
    z = temperature * np.log(np.clip(probs, TINY, 1.0))
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def calibration_summary(y: np.ndarray, probs: np.ndarray, raw: np.ndarray, temperature: float,
                        n_bins: int = N_BINS) -> dict:
    """ECE and NLL with and without (``raw``) the model's temperature (fitted on validation, never on this split);
    NLL None without images."""
    def summary(p: np.ndarray) -> dict:
        ece = expected_calibration_error(p.max(axis=1), p.argmax(axis=1) == y, n_bins)
        return {"ece": float(ece), "nll": negative_log_likelihood(p, y)}

    return {"temperature": temperature, "before": summary(raw), "after": summary(probs)}


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """(K, K) counts; rows are true classes, columns predicted classes."""
    cm = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(cm, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    return cm


def compute_metrics(
    y_true: np.ndarray, probs: np.ndarray, classes: Sequence[str], n_bins: int = N_BINS
) -> dict:
    """Accuracy (with its 95 % interval, :func:`accuracy_interval`), per-class precision/recall/F1/AUC, calibration
    and the confusion matrix.

    Predictions are the arg-max of ``probs`` (first class on ties). Macro-F1 averages the
    classes that occur in the labels or the predictions (a class absent from both says
    nothing); macro AUC averages the classes whose AUC is defined. A class's recall is None
    without support, its precision None when never predicted, its F1 None when both.
    """
    classes = list(classes)
    y, p = _check(y_true, probs, len(classes))
    k = len(classes)
    pred = p.argmax(axis=1) if y.size else np.zeros(0, dtype=np.int64)
    cm = confusion_matrix(y, pred, k)
    tp = np.diag(cm)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    per_class: dict[str, dict] = {}
    f1s: list[float] = []
    aucs: list[float] = []
    for i, name in enumerate(classes):
        # undefined (None, "n/a" in the report) rather than 0: a test folder may hold only some classes
        precision = _ratio(tp[i], predicted[i]) if predicted[i] else None
        recall = _ratio(tp[i], support[i]) if support[i] else None
        f1 = _ratio(2 * (precision or 0.0) * (recall or 0.0), (precision or 0.0) + (recall or 0.0))
        auc = roc_auc(y == i, p[:, i])
        per_class[name] = {"precision": precision, "recall": recall, "f1": f1 if support[i] or predicted[i] else None,
                           "support": int(support[i]), "roc_auc": auc}
        if support[i] or predicted[i]:
            f1s.append(f1)
        if auc is not None:
            aucs.append(auc)
    conf = p.max(axis=1) if y.size else np.zeros(0)
    return {
        "n": int(y.size),
        "accuracy": _ratio(tp.sum(), y.size),
        "accuracy_interval": accuracy_interval(int(tp.sum()), int(y.size)),
        "macro_f1": float(np.mean(f1s)) if f1s else 0.0,
        "macro_roc_auc": float(np.mean(aucs)) if aucs else None,
        "ece": expected_calibration_error(conf, pred == y, n_bins),
        "n_bins": int(n_bins),
        "per_class": per_class,
        "confusion_matrix": cm.tolist(),
        "counts": {name: int(support[i]) for i, name in enumerate(classes)},
        "classes": classes,
    }
