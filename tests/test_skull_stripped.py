"""scripts/skull_stripped.py, which measures what the model does with skull-stripped slices (an approximation made
from Testing): its strip must keep the brain and drop the scalp across thin links, its rows count a refusal as not
right, and it must run end to end."""

from __future__ import annotations

import importlib.util
import json

import numpy as np
import pytest
from conftest import REPO
from PIL import Image

from braintumor.image_io import ImageError
from braintumor.model_files import default_model_path
from braintumor.predictor import Prediction

spec = importlib.util.spec_from_file_location("skull_stripped", REPO / "scripts" / "skull_stripped.py")
skull_stripped = importlib.util.module_from_spec(spec)
spec.loader.exec_module(skull_stripped)


def _head(size: int = 224) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A synthetic axial head: a bright scalp ring, a dark skull ring crossed by 3 px bridges, a textured brain with
    a dark ventricle. Returns (image, brain disk, scalp ring)."""
    yy, xx = np.mgrid[:size, :size]
    r = np.hypot(yy - size / 2, xx - size / 2)
    brain, scalp = r <= 80, (r > 88) & (r <= 98)
    img = np.zeros((size, size), np.float64)
    img[scalp] = 170
    img[(r > 80) & (r <= 88)] = 8  # the skull: dark in T1, T2 and FLAIR
    img[brain] = 100 + 20 * np.sin(xx[brain] / 5.0)
    img[r <= 12] = 25  # a ventricle, darker than the cut-off: kept by the hole filling
    for col in (60, 160):  # thin links across the skull ring, which the erosion must cut
        img[(abs(xx - col) <= 1) & (r > 78) & (r <= 90)] = 150
    return img.astype(np.uint8), brain, scalp


def test_the_strip_keeps_the_brain_and_drops_the_scalp_across_thin_links():
    img, brain, scalp = _head()
    mask, share = skull_stripped.strip(img)
    assert (mask & scalp).sum() == 0
    assert (mask & brain).sum() / brain.sum() > 0.99 and (mask & ~brain).sum() < 0.01 * brain.sum()
    assert skull_stripped.PLAUSIBLE[0] <= share <= skull_stripped.PLAUSIBLE[1]


def test_a_blank_slice_keeps_nothing():
    mask, share = skull_stripped.strip(np.zeros((100, 100), np.uint8))
    assert share == 0 and not mask.any()


def test_a_refusal_or_an_unreadable_image_is_not_right():
    probs = {"a": 0.5, "b": 0.5}
    outcomes = [Prediction("a", 0.999, probs), Prediction("b", 0.95, probs, review=True),
                Prediction(None, None, probs, ood=True, reason="unlike: its features are far"),
                ImageError("image is 1 x 1 pixels")]
    row = skull_stripped.tally(["a", "a", "b", "b"], outcomes, ("a", "b"))
    assert (row["right"], row["accepted"], row["refused"], row["accuracy"]) == (1, 2, 2, 0.25)
    assert row["recall"] == {"a": 0.5, "b": 0.0} and row["wrong_as"] == {"a as b": 1}
    assert (row["wrong_accepted"], row["wrong_flagged"], row["wrong_mean_confidence"]) == (1, 1, 0.95)
    assert row["reasons"] == {"its features are far": 1, "image is 1 x 1 pixels": 1}


@pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
def test_the_script_runs_on_a_few_slices(data_root, tmp_path, capsys):
    out, picture = tmp_path / "s.json", tmp_path / "g.png"
    assert skull_stripped.main(["--data", str(data_root), "--limit", "6", "--json", str(out),
                                "--gallery", str(picture)]) == 0
    doc = json.loads(out.read_text())
    assert list(doc["rows"]) == ["as it is, all slices", "as it is", "skull-stripped", "skull-stripped, int8 file"]
    assert doc["rows"]["as it is"]["n"] == doc["passed"] == sum(doc["classes"].values()) <= doc["slices"]
    with Image.open(picture) as img:
        assert img.mode == "L" and img.width == 4 * 2 * 112
    assert "| skull-stripped |" in capsys.readouterr().out
