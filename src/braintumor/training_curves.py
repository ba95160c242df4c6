"""A training run's per-epoch log read back, and drawn as evaluate's training-curves figure (``--run``).

Why its own module: the log is the training run's, not the evaluation's (scripts/compare_runs.py reads it to tell
where two runs part), and its figure is the only one drawn from a file rather than from the evaluated answers. Where
evaluate finds the log is :mod:`braintumor.evaluation_figures`'; the figure is drawn and saved as every other is, with
:mod:`braintumor.figures`' ``new_figure`` and ``save_png`` (the ``[eval]`` extra: matplotlib).
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

from .figures import new_figure, save_png
from .wording import counted


def read_training_log(metrics_jsonl_path: str | os.PathLike) -> list[dict]:
    """The epoch rows of a run's metrics.jsonl; unparsable lines (e.g. a torn last write), and rows whose epoch is
    no number (a hand edit), are skipped."""
    rows = []
    for line in Path(metrics_jsonl_path).read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            row = json.loads(line)
        except ValueError:
            continue
        if isinstance(row, dict) and _number(row.get("epoch")):
            rows.append(row)
    return rows


def plot_training_curves(metrics_jsonl_path: str | os.PathLike, out: str | os.PathLike) -> Path:
    """Loss, accuracy and learning rate per epoch, as recorded by training."""
    rows = read_training_log(metrics_jsonl_path)
    fig = new_figure(12.0, 4.0)
    axes = fig.subplots(1, 3)
    series = {"train": "Train", "val": "Validation", "val_ema": "Validation (EMA weights)"}
    for ax, metric, title in ((axes[0], "loss", "Loss"), (axes[1], "acc", "Accuracy")):
        for key, label in series.items():
            pts = [(r["epoch"], r[f"{key}_{metric}"]) for r in rows if _number(r.get(f"{key}_{metric}"))]
            if pts:
                ax.plot(*zip(*pts, strict=True), marker="." if len(pts) < 40 else None, label=label)
        ax.set(xlabel="Epoch", title=title)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend()
    lr = [(r["epoch"], r["lr"]) for r in rows if _number(r.get("lr"))]
    if lr:
        axes[2].plot(*zip(*lr, strict=True), color="#555555")
    axes[2].set(xlabel="Epoch", title="Learning rate (end of epoch)")
    axes[2].grid(alpha=0.3)
    from matplotlib.ticker import MaxNLocator  # epochs are whole: a 2-epoch run's axes read 1.0, 1.2, ..., 2.0

    for ax in axes:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    fig.suptitle(f"Training curves ({counted(len(rows), 'epoch')})" if rows else "Training curves: no epochs recorded")
    return save_png(fig, out)


#: The largest magnitude drawn: two values past it span more than float64 holds, which matplotlib's ticks cannot
#: count ("arange: cannot compute length"); no training loss comes near it (float32 ends at 3.4e38).
LARGEST_DRAWN: float = 1e300


def _number(value: object) -> bool:
    """A value the curves can draw: a hand-edited log's object ({"a": 1}: a matplotlib TypeError traceback), string
    (drawn as a category), true/false, an integer float64 cannot hold (400 digits: an OverflowError) or a magnitude
    past :data:`LARGEST_DRAWN` is left out, as an unparsable line is. NaN and infinity are kept: a diverged run's
    loss, drawn as a gap in its line."""
    if not isinstance(value, int | float) or isinstance(value, bool):
        return False
    try:
        return not math.isfinite(number := float(value)) or abs(number) <= LARGEST_DRAWN
    except OverflowError:
        return False
