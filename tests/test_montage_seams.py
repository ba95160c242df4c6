"""Slices in one image whose tiles abut are told apart by a line without head at the seam where they meet
(``braintumor.seams``): a gap of a few dark lines was bridged as one head. A single slice never has one. Before,
stacked slices whose heads nearly reach their frames' edges read as one head: 16 of 100 random stacked pairs of Testing
slices were answered with one label (4 since). Heads that touch across the seam are not caught (a known limit)."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import encode, synthetic_head

from braintumor import preprocess
from braintumor.image_io import read_image
from braintumor.model_files import default_model_path
from braintumor.ood import MAX_SECOND_HEAD
from braintumor.preprocess import PreprocessConfig, prepare_measured

CONFIG = PreprocessConfig(image_size=160, background_percentile=1.0)  # the shipped model's


def tile(seed: int, margin: int = 2) -> np.ndarray:
    """A head cut by its frame through its widest part (as sagittal slices often are), 100 x 100, with ``margin``
    dark lines along each edge of its frame (0: the head touches the frame)."""
    head = np.ascontiguousarray(synthetic_head(200, seed=seed)[50:150, 50:150])
    if margin:
        head[:margin], head[-margin:], head[:, :margin], head[:, -margin:] = 0, 0, 0, 0
    return head


def grid(rows: int, cols: int, margin: int = 2) -> np.ndarray:
    tiles = [tile(k, margin) for k in range(rows * cols)]
    return np.vstack([np.hstack(tiles[r * cols:(r + 1) * cols]) for r in range(rows)])


def second_head(gray: np.ndarray) -> float:
    return prepare_measured(gray, CONFIG)[1]


@pytest.mark.parametrize("rows, cols", [(2, 1), (1, 2), (2, 2), (3, 3), (1, 3)])
def test_tiles_that_abut_are_several_images(rows, cols):
    """Stacked, side by side and in grids, four dark lines between heads (bridged as one head): measured as a
    second head as long as the first (was 0: one run of head rows and columns)."""
    assert second_head(grid(rows, cols)) >= MAX_SECOND_HEAD


def test_heads_that_touch_across_the_seam_are_not_told_apart():
    """The known limit (seams.py): no line free of head, no seam. Telling them by the jump in gray level caught none
    more of 400 held-out montages and cost ~6 % of a prediction."""
    assert second_head(grid(2, 1, margin=0)) < MAX_SECOND_HEAD


def test_tiles_with_a_gap_too_thin_to_see_are_several_images():
    """Three dark rows on one side of the seam only, the other head touching its frame: bridged as one head (gaps
    of up to 1/50 of the frame are), cut at the seam."""
    top = tile(0, margin=0)
    top[-3:] = 0
    assert second_head(np.vstack([top, tile(1, margin=0)])) >= MAX_SECOND_HEAD


def test_one_head_cut_by_its_frame_has_no_seam():
    """A single head, cut by its frame or whole, of any size: nothing at 1/2 or 1/3 of it is a seam."""
    for size in (64, 100, 200, 512):
        head = synthetic_head(size)
        assert second_head(head) == 0.0
        assert second_head(head[size // 4:size - size // 4]) == 0.0
        assert second_head(np.ascontiguousarray(head[:, size // 4:size - size // 4])) == 0.0


def test_real_slices_have_no_seam(data_root, monkeypatch):
    """Every 4th Testing slice: the seams change no slice's measure (over every Training and Testing slice the
    check refuses none: ``python scripts/clinician_inputs.py``'s head runs, docs/RESULTS.md)."""
    paths = sorted((data_root / "Testing").glob("*/*.jpg"))[::4]
    frames = [read_image(p, draft_size=2 * CONFIG.image_size) for p in paths]
    measured = [second_head(g) for g in frames]
    monkeypatch.setattr(preprocess, "seam_share", lambda *args: 0.0)
    assert measured == [second_head(g) for g in frames]
    assert max(measured) < MAX_SECOND_HEAD


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
@pytest.mark.parametrize("names", [("Te-no_0227.jpg", "Te-no_0063.jpg")])
def test_stacked_real_slices_are_refused_as_several_images(data_root, names):
    """A stacked pair of `clinician_inputs.py --seed 0`'s montages that the shipped model answered with one label
    (notumor), a few dark rows between the heads. (Another, Te-pi_0255 over Te-no_0166, whose heads touch, still is.)"""
    from braintumor.predictor import Classifier

    gray = [read_image(next((data_root / "Testing").glob(f"*/{name}"))) for name in names]
    pred = Classifier.load(threads=1).predict(encode(np.vstack(gray)))
    assert pred.ood and pred.label is None, pred
    assert pred.reason.endswith("several images in one (side by side or in a grid): send each slice on its own")
