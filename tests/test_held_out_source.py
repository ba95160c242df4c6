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
    held NaN there, which JSON readers refuse (JavaScript's JSON.parse)."""
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


def _refuse_constant(name: str) -> None:
    raise AssertionError(f"{name} is not JSON")


def test_scores_of_images_refused_before_the_network_are_null_in_json(small_data: Path, tmp_path: Path):
    """An image refused by an input check before the network scores infinity: --json wrote ``Infinity`` in
    ``scores``, which jq, JavaScript's JSON.parse and strict parsers refuse. It is null there now, and the
    threshold trade-off still counts it as above every threshold."""
    import held_out_source
    import numpy as np

    from braintumor.data import load_dataset

    shutil.copytree(small_data, tmp_path / "data")
    (tmp_path / "data" / "Testing" / "glioma" / "zz_broken.jpg").unlink()
    result = held_out_source.score_set(FakeClassifier(), load_dataset(tmp_path / "data", "Testing"))
    scores = result["scores"]
    assert None in scores and 0.5 in scores  # the fake refuses every fifth image by an input check ("far")
    text = json.dumps(result)
    assert json.loads(text, parse_constant=_refuse_constant)["scores"] == scores
    h = held_out_source.score_array(scores)
    assert np.isinf(h[[s is None for s in scores]]).all() and (h[[s is not None for s in scores]] == 0.5).all()


def test_a_run_not_trained_without_the_source_is_said_so(tmp_path: Path):
    """``held_out_source.py --run`` of a run trained on every source (a smoke run, ``--limit-per-class``) reported
    the mode's unseen Training images as "held-out source" without a word: its score is no new hospital's."""
    import held_out_source

    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"hold_out_mode": "L", "seed": 0}))
    assert held_out_source.source_note(run, "L") is None
    for config in ({"hold_out_mode": None}, {"seed": 0}, {"hold_out_mode": "RGB"}, None):  # None: no config.json
        if config is None:
            (run / "config.json").unlink()
        else:
            (run / "config.json").write_text(json.dumps(config))
        assert held_out_source.source_note(run, "L") == (
            f"note: {run} was not trained with --hold-out-mode L: its training images may include that source's "
            "(stored as L), so these are images it never saw, not a source it never saw")


def test_framing_check_says_it_of_its_held_out_set_too(small_data: Path, tmp_path: Path, monkeypatch, capsys):
    """framing_check.py --set heldout takes held_out_source's images, and was as silent about a smoke run's."""
    import framing_check

    from braintumor.data import load_dataset

    shutil.copytree(small_data, tmp_path / "data")
    (tmp_path / "data" / "Testing" / "glioma" / "zz_broken.jpg").unlink()
    images = load_dataset(tmp_path / "data", "Testing")
    monkeypatch.setattr(framing_check, "run_sets", lambda run, data, mode: (images, images))
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(json.dumps({"hold_out_mode": None}))
    model = str(Path(__file__).resolve().parents[1] / "models" / "braintumor-tumornet-s.onnx")
    assert framing_check.main(["--model", model, "--run", str(run), "--set", "heldout"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith(f"note: {run} was not trained with --hold-out-mode L:")
    (run / "config.json").write_text(json.dumps({"hold_out_mode": "L"}))
    assert framing_check.main(["--model", model, "--run", str(run), "--set", "heldout"]) == 0
    assert "note:" not in capsys.readouterr().out
