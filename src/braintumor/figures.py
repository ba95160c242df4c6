"""PNG figures for evaluation reports (needs the ``[eval]`` extra: matplotlib), drawn by
:mod:`braintumor.evaluation_figures` into the folder evaluate made (its ``--out``): a plot function makes no folder.

Figures are drawn on bare ``Figure`` objects with the Agg canvas, never through pyplot,
so no GUI backend is touched and no global figure state leaks between calls. matplotlib
is imported on first use, so the predict-only install never needs it. The training curves, drawn from a run's log
rather than from the evaluated answers, are :mod:`braintumor.training_curves`' (with this module's ``new_figure`` and
``save_png``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .atomic_files import require_file_destination, written_whole
from .classes import display_name
from .metrics import (
    N_BINS,
    expected_calibration_error,
    precision_recall_curve,
    reliability_bins,
    roc_auc,
    roc_curve,
)
from .prediction import probability_text

DPI: int = 110
MISSING_MATPLOTLIB = "matplotlib is needed for figures: pip install 'braintumor[eval]'"
GOOD, BAD, REFUSED = "#1a7f37", "#cf222e", "#57606a"


class FiguresUnavailable(ImportError):
    """matplotlib is not installed; the message says how to get it."""


def require_matplotlib() -> None:
    """Fail early (before a long prediction run) when figures cannot be drawn."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        raise FiguresUnavailable(MISSING_MATPLOTLIB) from None


def new_figure(width: float, height: float) -> Any:
    """A bare Agg ``Figure`` of ``width`` x ``height`` inches (see the module's docstring: no pyplot), after
    :func:`require_matplotlib`."""
    require_matplotlib()
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Any, out: str | os.PathLike) -> Path:
    """Write via a temporary name so a crash never leaves a truncated PNG behind. Into a folder that exists (evaluate
    makes its --out folder first): a missing one is said, not made, as for every other file written."""
    out = Path(out)
    require_file_destination(out)
    with written_whole(out) as tmp:
        fig.savefig(tmp, format="png", dpi=DPI)
    return out


def _names(classes: Sequence[str]) -> list[str]:
    return [display_name(c) for c in classes]


def plot_confusion_matrix(cm: Sequence[Sequence[int]], classes: Sequence[str], out: str | os.PathLike) -> Path:
    """Counts with row-normalised % (recall per true class); colour follows the %. A class with no images has no %
    ("n/a", as metrics.json's recall): its row of "0.0%" read as a recall of 0 for a class never there."""
    cm = np.asarray(cm, dtype=np.int64)
    rows = cm.sum(axis=1, keepdims=True)
    pct = np.divide(cm, rows, out=np.zeros(cm.shape), where=rows > 0) * 100.0
    k = len(classes)
    fig = new_figure(1.6 + 1.3 * k, 1.2 + 1.1 * k)
    ax = fig.add_subplot()
    im = ax.imshow(pct, cmap="Blues", vmin=0, vmax=100)
    for i in range(k):
        for j in range(k):
            ax.text(j, i, f"{cm[i, j]}\n" + (f"{pct[i, j]:.1f}%" if rows[i, 0] else "n/a"), ha="center",
                    va="center", fontsize=10, color="white" if pct[i, j] > 55 else "black")
    names = _names(classes)
    ax.set_xticks(range(k), names, rotation=20, ha="right")
    ax.set_yticks(range(k), [name if rows[i, 0] else f"{name}\n(no images)" for i, name in enumerate(names)])
    ax.set_xlabel("Predicted class")
    ax.set_ylabel("True class")
    ax.set_title(f"Confusion matrix (n = {int(cm.sum())}; % of each true class)")
    fig.colorbar(im, ax=ax, shrink=0.8, label="% of true class")
    return save_png(fig, out)


def _per_class_curves(y_true: np.ndarray, probs: np.ndarray, classes: Sequence[str], out: str | os.PathLike,
                      kind: str) -> Path:
    y, p = np.asarray(y_true), np.asarray(probs, dtype=np.float64)
    fig = new_figure(6.4, 5.6)
    ax = fig.add_subplot()
    # said in the legend: a class with no images, and one with every image (no negatives: its curve is undefined too)
    unsaid = [f"{display_name(name)}: {'no images' if not (y == i).any() else 'no images of another class'}, no curve"
              for i, name in enumerate(classes) if not (y == i).any() or (y == i).all()]
    for i, name in enumerate(classes):
        positives = y == i
        if not positives.any() or positives.all():
            continue  # curve undefined for this class
        if kind == "roc":
            fpr, tpr = roc_curve(positives, p[:, i])
            auc = roc_auc(positives, p[:, i]) or 0.0
            ax.plot(fpr, tpr, lw=2, label=f"{display_name(name)} (AUC {auc_text(auc)})")
        else:
            precision, recall, ap = precision_recall_curve(positives, p[:, i])
            # the thresholds below the last positive add only false positives: drawn, every curve fell straight down
            # to its class's share of the images at recall 1
            end = int(np.argmax(recall >= recall[-1])) + 1
            ax.step(recall[:end], precision[:end], where="pre", lw=2, label=f"{display_name(name)} (AP {auc_text(ap)})")
    if kind == "roc":
        ax.plot([0, 1], [0, 1], ls="--", color="grey", lw=1, label="Chance")
        ax.set(xlabel="False positive rate", ylabel="True positive rate (sensitivity)",
               title="ROC curves, one class vs rest")
    else:
        ax.set(xlabel="Recall (sensitivity)", ylabel="Precision", title="Precision-recall curves, one class vs rest")
    ax.set(xlim=(-0.01, 1.01), ylim=(-0.01, 1.02))
    ax.grid(alpha=0.3)
    if len(ax.lines) <= (1 if kind == "roc" else 0):
        ax.text(0.5, 0.5, "No class has both positive and negative images:\nno curve can be drawn.",
                ha="center", va="center", transform=ax.transAxes)
    for label in unsaid:  # an empty line: a legend entry only
        ax.plot([], [], ls="none", label=label)
    if any(not line.get_label().startswith("_") for line in ax.lines):
        ax.legend(loc="lower right" if kind == "roc" else "lower left")
    return save_png(fig, out)


def plot_roc(y_true: np.ndarray, probs: np.ndarray, classes: Sequence[str], out: str | os.PathLike) -> Path:
    """One-vs-rest ROC curve per class, AUC in the legend."""
    return _per_class_curves(y_true, probs, classes, out, "roc")


def plot_pr(y_true: np.ndarray, probs: np.ndarray, classes: Sequence[str], out: str | os.PathLike) -> Path:
    """One-vs-rest precision-recall curve per class, average precision in the legend."""
    return _per_class_curves(y_true, probs, classes, out, "pr")


def _top1(y_true: np.ndarray, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    p = np.asarray(probs, dtype=np.float64)
    return p.max(axis=1), p.argmax(axis=1) == np.asarray(y_true)


def plot_reliability(y_true: np.ndarray, probs: np.ndarray, out: str | os.PathLike, n_bins: int = N_BINS,
                     title: str = "Reliability of top-1 confidence", note: str = "") -> Path:
    """Accuracy per top-1 confidence bin against the diagonal of perfect calibration, with each bin's mean confidence
    and the gap between them (above or below the accuracy); ``title`` says whose probabilities (the PNG may be seen
    alone); ``note`` goes before the ECE in its brackets, on a second line (on one, the title was cut at the
    edges)."""
    conf, correct = _top1(y_true, probs)
    centers, acc, mean_conf, counts = reliability_bins(conf, correct, n_bins)
    ece = expected_calibration_error(conf, correct, n_bins)
    fig = new_figure(6.4, 6.4)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    filled = counts > 0
    width = 1.0 / n_bins
    x, acc, mean_conf = centers[filled], acc[filled], mean_conf[filled]
    top.bar(x, acc, width=width, edgecolor="black", color="#4c72b0", label="Accuracy")
    # the gap as an unfilled box from the lower of the two to the higher, and the confidence as a line: a filled gap
    # drawn down from the accuracy (under-confident bins) tinted the accuracy bar, which read as stopping there
    top.bar(x, np.abs(mean_conf - acc), bottom=np.minimum(acc, mean_conf), width=width, fill=False, edgecolor=BAD,
            linewidth=0, hatch="//", label="Gap to mean confidence")
    top.hlines(mean_conf, x - width / 2, x + width / 2, color=BAD, linewidth=2.5, label="Mean confidence")
    top.plot([0, 1], [0, 1], ls="--", color="grey", label="Perfect calibration")
    said = f"({note}ECE {ece:.4f}, {n_bins} bins)"
    top.set(ylabel="Accuracy", ylim=(0, 1.02), title=f"{title}\n{said}" if note else f"{title} {said}")
    top.grid(alpha=0.3)
    # under the plot: in the upper left it hid the low bins, where an uncalibrated model's accuracy is highest
    fig.legend(*top.get_legend_handles_labels(), loc="outside lower center", ncols=2)
    bottom.bar(centers, counts, width=width, edgecolor="black", color="#8da0cb")
    bottom.set(xlabel="Top-1 confidence", ylabel="Images", xlim=(0, 1))
    if counts.max(initial=0) > 0:
        bottom.set_yscale("symlog", linthresh=1)
    return save_png(fig, out)


def plot_confidence_hist(y_true: np.ndarray, probs: np.ndarray, out: str | os.PathLike, bins: int = 20) -> Path:
    """Top-1 confidence of correct and of wrong answers, each on its own scale."""
    conf, correct = _top1(y_true, probs)
    edges = np.linspace(0.0, 1.0, bins + 1)
    fig = new_figure(6.4, 5.2)
    axes = fig.subplots(2, 1, sharex=True)
    for ax, mask, label, color in ((axes[0], correct, "Correct", GOOD), (axes[1], ~correct, "Wrong", BAD)):
        ax.hist(conf[mask], bins=edges, color=color, alpha=0.8, edgecolor="black")
        ax.set(ylabel="Images", title=f"{label} predictions (n = {int(mask.sum())})")
        ax.grid(alpha=0.3)
    axes[1].set(xlabel="Top-1 confidence", xlim=(0, 1))
    fig.suptitle("How confident is the model when it is right, and when it is wrong?")
    return save_png(fig, out)


def _image_axes(fig: Any, n_rows: int, n_cols: int) -> np.ndarray:
    axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).reshape(n_rows, n_cols)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
        for spine in ax.spines.values():
            spine.set_visible(False)
    return axes


def _titled(fig: Any, title: str) -> None:
    """``title`` over ``fig``, widened to it: one or two images are narrower than a title, which was cut at both
    edges ("ed as not brain MRI (farthes")."""
    need = fig.suptitle(title).get_window_extent(fig.canvas.get_renderer()).width / fig.dpi + 0.3
    fig.set_figwidth(max(fig.get_figwidth(), need))


def plot_sample_grid(images_by_class: dict[str, list[np.ndarray]], out: str | os.PathLike,
                     title: str = "Dataset samples, as the model sees them") -> Path:
    """A row of example images per class: a quick look at what the data are."""
    n_rows = max(1, len(images_by_class))
    n_cols = max([1] + [len(v) for v in images_by_class.values()])
    fig = new_figure(1.7 * n_cols + 0.6, 1.8 * n_rows + 0.5)
    axes = _image_axes(fig, n_rows, n_cols)
    for r, (label, images) in enumerate(images_by_class.items()):
        axes[r, 0].set_ylabel(f"{display_name(label)}\n({len(images)} shown)", fontsize=11)
        for c, img in enumerate(images):
            axes[r, c].imshow(img, cmap="gray", vmin=0, vmax=255)
    _titled(fig, title)
    return save_png(fig, out)


def auc_text(auc: float) -> str:
    """Three decimals, but an AUC (or average precision) short of 1 never reads as a perfect "1.000" (0.9998 did)."""
    text = f"{auc:.3f}"
    return ">0.999" if auc < 1 and text == "1.000" else text


def plot_gallery(items: Sequence[tuple[np.ndarray, str, str | None, float]], out: str | os.PathLike, title: str,
                 empty_message: str = "No images in this group.", withheld: Sequence[bool] = (),
                 turned: Sequence[bool] = ()) -> Path:
    """Images with true label, prediction and confidence; green when right, red when wrong. A prediction of None
    is a refusal: its number is the OOD score (1 = the threshold), in gray; ``turned[k]``: item k was refused as
    turned (a quarter, or upside down), a brain MRI to rotate upright and resend (said under it), not as unlike
    brain MRI. ``withheld[k]``: item k's answer was refused, so no user saw it (said under it: a refused slice in the
    wrong gallery looked shown)."""
    if not items:
        fig = new_figure(6.4, 2.0)
        fig.text(0.5, 0.6, title, ha="center", va="center", fontsize=14, weight="bold")
        fig.text(0.5, 0.35, empty_message, ha="center", va="center", fontsize=12)
        return save_png(fig, out)
    n_cols = min(len(items), max(4, math.ceil(math.sqrt(len(items)))))
    n_rows = math.ceil(len(items) / n_cols)
    fig = new_figure(2.2 * n_cols, 2.5 * n_rows + 0.5)
    axes = _image_axes(fig, n_rows, n_cols)
    for k, (ax, (img, true, pred, conf)) in enumerate(zip(axes.flat, items, strict=False)):
        ax.imshow(img, cmap="gray", vmin=0, vmax=255)
        if pred is None:
            color, answer = REFUSED, f"refused (score {conf:.2f})"
            if k < len(turned) and turned[k]:
                answer = f"refused: turned\n(rotate upright and resend; score {conf:.2f})"
        else:
            color, answer = (GOOD if true == pred else BAD), f"pred: {display_name(pred)} ({probability_text(conf)})"
            if k < len(withheld) and withheld[k]:
                answer += "\nrefused: not shown to users"
        ax.set_title(f"true: {display_name(true)}\n{answer}", fontsize=9, color=color)
        for spine in ax.spines.values():
            spine.set(visible=True, color=color, linewidth=2)
    for ax in list(axes.flat)[len(items):]:
        ax.set_visible(False)
    _titled(fig, title)
    return save_png(fig, out)
