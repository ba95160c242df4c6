"""More of the training-side commands' refusals (tests/test_train_bad_inputs.py holds the first ones): a --cache-dir
that is a file, a run's hand-edited config.json, a dataset short of a class, another model's --metrics."""

from __future__ import annotations

import pytest
from cli_runner import run_cli
from test_train_bad_inputs import _dataset, _one_error, _train

pytest.importorskip("torch")


def test_a_cache_dir_that_is_a_file_is_refused_before_any_work(tmp_path, capsys):
    """--cache-dir FILE trained, decoding every image, and cached none of them (a warning at the end of decoding at
    best); the next run decoded them all again."""
    data = _dataset(tmp_path / "d")
    cache = tmp_path / "cache.npz"
    cache.write_bytes(b"a file")
    rc, _, err = run_cli(_train(data, tmp_path / "run", cache), capsys)
    assert rc == 2 and _one_error(err) == f"error: --cache-dir {cache} is a file, not a folder: nothing could be " \
                                          "cached in it; name a folder (made if missing)"
    assert not (tmp_path / "run").exists() and cache.read_bytes() == b"a file"


@pytest.mark.parametrize(("edit", "said"), [({"image_size": "160"}, "image_size '160'"),
                                            ({"background_percentile": [1]}, "background_percentile [1]")])
@pytest.mark.parametrize("command", ["export", "calibrate", "quantize"])
def test_a_runs_config_json_setting_of_the_wrong_type_is_one_error_line(command, edit, said, tiny_run, tiny_model,
                                                                         tmp_path, capsys):
    """A hand-edited value of the wrong type was checked on train --resume only: export stored it in the model's
    metadata, calibrate and quantize went on with it, all three without a word (exit code 0)."""
    import json
    import shutil

    from test_train_bad_inputs import _copy_run

    run = _copy_run(tiny_run, tmp_path / "run")
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, **edit}))
    model = shutil.copy(tiny_model, tmp_path / "model.onnx")
    before = model.read_bytes()
    out = tmp_path / "out.onnx"
    args = {"export": ["export", str(run), "--out", str(out)],
            "calibrate": ["calibrate", str(model), "--run", str(run)],
            "quantize": ["quantize", str(model), "--run", str(run), "--out", str(out)]}[command]
    rc, _, err = run_cli(args, capsys)
    assert rc == 2 and _one_error(err) == f"error: cannot read {run / 'config.json'}: it has {said}, not a value " \
                                          "'braintumor train' writes"
    assert not out.exists() and model.read_bytes() == before


@pytest.mark.parametrize("command", ["export", "calibrate"])
def test_data_without_a_class_says_what_calibration_needs_too(command, tiny_run, tiny_model, tmp_path, capsys):
    """export/calibrate --data ROOT short of a class said "training needs images of all 4 classes", as if they
    trained: the message is one for both."""
    import shutil

    from test_train_bad_inputs import _copy_run

    run = _copy_run(tiny_run, tmp_path / "run")
    data = _dataset(tmp_path / "d", per_class=1)
    shutil.rmtree(data / "Training" / "pituitary")
    model = shutil.copy(tiny_model, tmp_path / "model.onnx")
    out = tmp_path / "out.onnx"
    args = {"export": ["export", str(run), "--out", str(out), "--data", str(data)],
            "calibrate": ["calibrate", str(model), "--run", str(run), "--data", str(data)]}[command]
    rc, _, err = run_cli(args, capsys)
    assert rc == 2 and _one_error(err) == f"error: no folder for class 'pituitary' in {data / 'Training'}: training " \
                                          "a model of the 4 classes (glioma, meningioma, notumor, pituitary), or " \
                                          "calibrating one, needs images of each"
    assert not out.exists()
