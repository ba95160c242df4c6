"""scripts/heatmap_eval.py's deletion test: a map that points at the evidence must score below a random one.

Why: the script's numbers (docs/RESULTS.md, "Heat maps: do they show where the evidence is?") say whether the heat
maps clinicians read are faithful; a ranking or area bug would make any map look good or bad."""

from __future__ import annotations

import importlib.util

import numpy as np
from conftest import REPO

spec = importlib.util.spec_from_file_location("heatmap_eval", REPO / "scripts" / "heatmap_eval.py")
heatmap_eval = importlib.util.module_from_spec(spec)
spec.loader.exec_module(heatmap_eval)


def _evidence_top_left(batch: np.ndarray) -> np.ndarray:
    """A 'network' whose class 0 rests on the top-left quadrant's brightness alone."""
    s = batch.shape[-1] // 2
    p = batch[:, 0, :s, :s].mean(axis=(1, 2))
    return np.stack([p, 1 - p], axis=1)


def test_deleting_the_evidence_first_scores_below_a_random_map_and_inside_out_above():
    size = 64
    crop = np.full((size, size), 255, dtype=np.uint8)
    yy, xx = np.mgrid[:size, :size]
    ties = 1e-3 * np.random.default_rng(0).random((size, size))
    heat = ((yy < size // 2) & (xx < size // 2)).astype(np.float32) + ties
    rng = np.random.default_rng(1)
    curves = {name: heatmap_eval.deletion_curve(crop, ranking, 0, _evidence_top_left)
              for name, ranking in (("heat", heat), ("inside out", -heat),
                                    ("random", heatmap_eval.random_smooth_map(rng, size, stride=16)))}
    assert curves["heat"][0] == curves["random"][0] == 1.0  # nothing deleted yet
    # 25 % of the pixels hold all the evidence: deleting them first empties it by the 25 % step
    fractions = np.array(heatmap_eval.FRACTIONS)
    assert np.allclose(curves["heat"], np.clip(1 - fractions / 0.25, 0, 1), atol=0.02)
    assert np.allclose(curves["inside out"], 1.0)  # the other 75 % first: the evidence survives 50 % deleted
    areas = {name: heatmap_eval.area(c) for name, c in curves.items()}
    assert areas["heat"] < areas["random"] < areas["inside out"] == 1.0


def test_the_area_is_the_curve_s_mean_height():
    f = heatmap_eval.FRACTIONS
    assert heatmap_eval.area(np.full(len(f), 0.7)) == 0.7
    assert abs(heatmap_eval.area(1 - np.array(f) / f[-1]) - 0.5) < 1e-12  # a straight fall to 0: half


def test_a_random_map_is_as_smooth_as_a_heat_map_and_in_range():
    m = heatmap_eval.random_smooth_map(np.random.default_rng(0), 160)
    assert m.shape == (160, 160) and m.min() >= 0.0 and m.max() <= 1.0
    assert np.abs(np.diff(m, axis=0)).max() < 0.05  # upsampled cells, not pixel noise


def test_each_answer_and_the_tumour_answers_get_their_own_mean_curve():
    """RESULTS.md quoted how far a tumour answer's probability falls ("about 0.6") where the script printed only the
    mean over all answers, "no tumour" included: it now gives each answer's mean curve, then the tumour answers'
    (every answer but no tumour, weighted by slice, not by answer)."""
    curves = {"glioma": [np.array([1.0, 0.2]), np.array([1.0, 0.4])], "notumor": [np.array([1.0, 1.0])],
              "pituitary": [np.array([1.0, 0.9])]}
    means = heatmap_eval.answer_means(curves)
    assert list(means) == ["glioma", "notumor", "pituitary", heatmap_eval.TUMOUR_ANSWERS]
    assert np.allclose(means["glioma"], [1.0, 0.3]) and np.allclose(means["notumor"], [1.0, 1.0])
    assert np.allclose(means[heatmap_eval.TUMOUR_ANSWERS], [1.0, 0.5])
    assert list(heatmap_eval.answer_means({"notumor": curves["notumor"]})) == ["notumor"]  # no tumour answer: no row
