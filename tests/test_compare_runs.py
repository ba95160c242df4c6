"""scripts/compare_runs.py: where two training logs part, and whether two model files compute the same logits."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from conftest import REPO, extra_reason, synthetic_head
from PIL import Image

spec = importlib.util.spec_from_file_location("compare_runs", REPO / "scripts" / "compare_runs.py")
compare_runs = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compare_runs)

SHIPPED = REPO / "models" / "braintumor-tumornet-s.onnx"
INT8 = REPO / "models" / "braintumor-tumornet-s-int8.onnx"


def _log(n: int, **change) -> list[dict]:
    rows = [{"epoch": e, "train_loss": 1.0 / e, "val_acc": 0.5 + e / 100, "epoch_seconds": 50.0 + e}
            for e in range(1, n + 1)]
    for epoch, (key, value) in change.items():
        rows[int(epoch.lstrip("e")) - 1][key] = value
    return rows


def _write(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return path


def test_equal_logs_match_whatever_the_wall_time():
    a, b = _log(5), _log(5)
    for r in b:
        r["epoch_seconds"] *= 2
        r["image_size"] = 160  # a key only the newer trainer logs is not compared
    assert compare_runs.compare_logs(a, b) == (5, None)


def test_the_first_differing_epoch_is_named_with_its_values():
    equal, first = compare_runs.compare_logs(_log(5), _log(5, e3=("val_acc", 0.6)))
    assert equal == 2
    assert first.startswith("epoch 3 differs") and "val_acc: 0.53 vs 0.6" in first


def test_a_shorter_log_is_a_difference():
    assert compare_runs.compare_logs(_log(5), _log(3)) == (3, "one log has 5 epochs, the other 3")


def test_exit_status_says_whether_logs_match(tmp_path, capsys):
    a = _write(tmp_path / "a.jsonl", _log(4))
    assert compare_runs.main(["--logs", str(a), str(_write(tmp_path / "b.jsonl", _log(4)))]) == 0
    assert compare_runs.main(["--logs", str(a), str(_write(tmp_path / "c.jsonl", _log(4, e4=("train_loss", 9))))]) == 1
    assert "first difference: epoch 4" in capsys.readouterr().out
    assert compare_runs.main(["--logs", str(a), str(tmp_path / "missing.jsonl")]) == 2
    assert "error:" in capsys.readouterr().err


@pytest.fixture()
def run_with_val_images(tmp_path, monkeypatch) -> Path:
    """A run folder whose split.json lists a few synthetic slices, with its own preprocessing cache: a stand-in for
    the shipped model's run (5708 images), which calibrate's check that --run is the model's own would refuse."""
    import braintumor.run_split

    monkeypatch.setattr(braintumor.run_split, "check_same_split", lambda *args, **kwargs: None)
    root = tmp_path / "data"
    names = []
    for k, cls in enumerate(("glioma", "meningioma", "notumor")):  # the dataset reader wants every class folder filled
        (root / cls).mkdir(parents=True)
        Image.fromarray(synthetic_head(seed=k)).save(root / cls / f"s{k}.png")
        names.append(f"{cls}/s{k}.png")
    (root / "pituitary").mkdir()
    Image.fromarray(synthetic_head(seed=3)).save(root / "pituitary" / "train.png")  # listed nowhere: left out
    run = tmp_path / "run"
    run.mkdir()
    (run / "split.json").write_text(json.dumps({"root": str(root), "val": names, "train": []}))
    (run / "config.json").write_text(json.dumps({"cache_dir": str(tmp_path / "cache")}))
    return run


def test_a_model_matches_itself_and_not_its_int8_copy(run_with_val_images, capsys):
    assert compare_runs.compare_models(SHIPPED, SHIPPED, run_with_val_images) == (0.0, 0, 3)
    largest, disagree, n = compare_runs.compare_models(SHIPPED, INT8, run_with_val_images)
    assert n == 3 and largest > 0.0  # int8 arithmetic moves the logits
    args = ["--models", str(SHIPPED), str(INT8), "--run", str(run_with_val_images)]
    assert compare_runs.main(args) == 1
    assert compare_runs.main([*args, "--tolerance", repr(largest)]) == (0 if disagree == 0 else 1)
    assert "largest logit difference" in capsys.readouterr().out


def test_files_that_preprocess_differently_are_refused_naming_the_settings(run_with_val_images, tmp_path, capsys):
    """docs/TRAINING.md's rerun compared before its calibrate line stopped with "the two files preprocess differently"
    alone: which setting differs (the background percentile calibrate sets) was for the reader to find."""
    pytest.importorskip("onnx", reason=extra_reason("onnx"))
    from braintumor.calibrate import write_metadata
    from braintumor.predictor import Classifier

    other = tmp_path / "rerun.onnx"
    other.write_bytes(SHIPPED.read_bytes())
    preprocess = Classifier.load(SHIPPED).preprocess_config.to_dict()
    assert preprocess["background_percentile"] == 1.0
    write_metadata(other, {"preprocess": {**preprocess, "background_percentile": 0.0}})
    with pytest.raises(ValueError, match=r"^the two files preprocess differently \(background_percentile 1\.0 against "
                                         r"0\.0\): their logits cannot be compared image for image$"):
        compare_runs.compare_models(SHIPPED, other, run_with_val_images)
    assert compare_runs.main(["--models", str(SHIPPED), str(other), "--run", str(run_with_val_images)]) == 2
    assert capsys.readouterr().err.startswith("error: the two files preprocess differently (background_percentile")
