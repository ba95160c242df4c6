"""scripts/held_out_source.py on a set whose answers leave a band of shown confidence empty, as a short run's do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from evaluate_fakes import DATA, TESTING, FakeClassifier

pytestmark = pytest.mark.skipif(not TESTING.is_dir(), reason=f"dataset not found at {DATA}")


def test_an_empty_confidence_band_is_n_a_and_its_json_is_json(small_data: Path, tmp_path: Path, capsys):
    """A smoke run's held-out report printed "90-99 %: 0 answers, nan% right (mean shown nan%)" and its --json file
    held NaN there, which JSON readers refuse (JavaScript's JSON.parse). (Its per-image ``scores`` keep Infinity for
    an image refused before the network: a value, not a hole.)"""
    import held_out_source

    from braintumor.data import load_dataset

    shutil.copytree(small_data, tmp_path / "data")
    (tmp_path / "data" / "Testing" / "glioma" / "zz_broken.jpg").unlink()  # the script stops on unreadable files
    result = held_out_source.score_set(FakeClassifier(), load_dataset(tmp_path / "data", "Testing"))
    empty = result["confidence_bands"]["90-99 %"]  # the fake's answers are shown at 70 % or 99.7 %
    assert empty == {"n": 0, "accuracy": None, "mean_confidence": None}
    summary = {k: v for k, v in result.items() if k != "scores"}
    json.dumps(summary, allow_nan=False)  # was ValueError: Out of range float values are not JSON compliant
    held_out_source._print_set("set", result)
    printed = capsys.readouterr().out
    assert "90-99 %: 0 answers, n/a right (mean shown n/a)" in printed and "nan" not in printed
