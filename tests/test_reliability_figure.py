"""The reliability diagram's gap bars (``figures.plot_reliability``): read from the artists drawn, no image
comparison."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from evaluate_fakes import needs_matplotlib


@needs_matplotlib
def test_the_gap_spans_accuracy_to_confidence_both_ways_without_tinting_the_accuracy_bar(tmp_path: Path,
                                                                                       monkeypatch):
    """In an under-confident bin the gap was a filled bar drawn down from the accuracy over the accuracy bar, which
    turned it purple and read as accuracy stopping at the confidence. Now: an unfilled hatched box from the lower of
    the two to the higher, and the confidence as a line of its own, in both directions."""
    from braintumor import figures

    drawn = []
    real = figures.save_png
    monkeypatch.setattr(figures, "save_png", lambda fig, out: (drawn.append(fig), real(fig, out))[1])
    low = [0.35, 0.25, 0.2, 0.2]  # bin 0.3-0.4: confidence 0.35, all 4 right (accuracy 1)
    high = [0.95, 0.02, 0.02, 0.01]  # bin 0.9-1.0: confidence 0.95, 2 of 4 right (accuracy 0.5)
    probs = np.array([low] * 4 + [high] * 4)
    y_true = np.array([0, 0, 0, 0, 0, 0, 1, 1])
    figures.plot_reliability(y_true, probs, tmp_path / "r.png", n_bins=10)
    top = drawn[0].axes[0]
    bars = {c.get_label(): c.patches for c in top.containers}
    accuracy, gap = bars["Accuracy"], bars["Gap to mean confidence"]
    assert [(p.get_y(), round(p.get_height(), 6)) for p in accuracy] == [(0.0, 1.0), (0.0, 0.5)]
    assert [(round(p.get_y(), 6), round(p.get_height(), 6)) for p in gap] == [(0.35, 0.65), (0.5, 0.45)]
    assert all(not p.get_fill() and p.get_hatch() for p in gap)  # the accuracy bar keeps its colour under it
    lines = next(c for c in top.collections if c.get_label() == "Mean confidence")
    assert [round(float(seg[0][1]), 6) for seg in lines.get_segments()] == [0.35, 0.95]
    assert "Gap to mean confidence" in [t.get_text() for t in drawn[0].legends[0].get_texts()]
