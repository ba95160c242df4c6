"""``braintumor calibrate``: the temperature and the out-of-distribution statistics are fitted on the run's own
splits (validation, training and its augmented and framing copies) and stored in the model file."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from conftest import encode, needs_torch, synthetic_head

from braintumor.ood import fit_temperature, joint_features, temperature_at_bound
from braintumor.prediction import softmax
from braintumor.predictor import Classifier


def test_calibrate_writes_temperature_and_ood_into_the_model(tiny_run, tiny_model, tmp_path, capsys):
    """...and says which file it rewrote, as export and quantize do (it printed no "wrote" line)."""
    from braintumor.cli import main

    model = tmp_path / "calibrated.onnx"
    shutil.copy(tiny_model, model)
    capsys.readouterr()
    assert main(["calibrate", str(model), "--run", str(tiny_run)]) == 0
    assert capsys.readouterr().out == f"wrote {model} ({model.stat().st_size / 1e6:.2f} MB)\n"
    clf = Classifier.load(model)
    assert clf.temperature > 0 and clf.ood is not None
    assert clf.metadata["calibration"]["fitted_on"].startswith("validation split")
    pred = clf.predict(encode(synthetic_head()))
    assert isinstance(pred.ood, bool) and pred.ood_score is not None


def test_calibration_is_fitted_on_the_validation_split_and_reports_it(tiny_run, tiny_model, tmp_path):
    """The temperature is the validation split's, the OOD threshold its highest score (1 % of a few slices: none
    refused) as served predictions score it, the colour limit its floor (gray MRI), and the reported numbers are
    those of the validation split."""
    from braintumor.calibrate import MIN_COLOUR_LIMIT, network_outputs
    from braintumor.cli import main
    from braintumor.metrics import expected_calibration_error
    from braintumor.preprocess import to_model_input
    from braintumor.run_split import prepared_run_images

    model = tmp_path / "calibrated.onnx"
    shutil.copy(tiny_model, model)
    assert main(["calibrate", str(model), "--run", str(tiny_run)]) == 0
    clf = Classifier.load(model)
    images, full, is_val = prepared_run_images(clf, tiny_run)
    logits = network_outputs(clf, images[is_val])[0]
    y = full.labels[is_val]
    assert clf.temperature == pytest.approx(fit_temperature(logits, y), rel=1e-4)
    preds, _ = clf.classify(to_model_input(images[is_val]))
    assert max(p.ood_score for p in preds) == pytest.approx(1.0, abs=1e-3)
    assert clf.ood.max_colourfulness >= MIN_COLOUR_LIMIT
    cal, p = clf.metadata["calibration"], softmax(logits, clf.temperature)
    assert cal["n_val"] == len(y) and cal["val_accuracy"] == pytest.approx(np.mean(logits.argmax(1) == y), abs=1e-5)
    assert cal["val_after"]["ece"] == pytest.approx(expected_calibration_error(p.max(1), p.argmax(1) == y), abs=1e-4)
    assert cal["val_after"]["nll"] == pytest.approx(-np.log(p[np.arange(len(y)), y]).mean(), abs=1e-4)


def test_calibrate_adds_background_subtraction_and_augmented_copies_and_keeps_them(tiny_run, tiny_model, tmp_path):
    from braintumor.cli import main

    model = tmp_path / "calibrated.onnx"
    shutil.copy(tiny_model, model)
    assert Classifier.load(model).preprocess_config.background_percentile == 0.0  # the tiny run trained without
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"n": 3, "accuracy": 0.5, "ece": 0.1, "confusion_matrix": [[1]]}))
    assert main(["calibrate", str(model), "--run", str(tiny_run), "--background-percentile", "1",
                 "--ood-augment", "1", "--metrics", str(metrics)]) == 0
    meta = Classifier.load(model).metadata
    assert meta["preprocess"]["background_percentile"] == 1.0 and meta["ood"]["augmented_copies"] == 1
    assert meta["metrics"] == {"n": 3, "accuracy": 0.5, "ece": 0.1}
    assert main(["calibrate", str(model), "--run", str(tiny_run)]) == 0  # a plain recalibration keeps both
    meta = Classifier.load(model).metadata
    assert meta["preprocess"]["background_percentile"] == 1.0 and meta["ood"]["augmented_copies"] == 1
    assert meta["ood"]["framing_copies"] == 0


def test_calibrate_records_framing_copies_and_a_recalibration_keeps_them(tiny_run, tiny_model, tmp_path):
    from braintumor.cli import main

    model = tmp_path / "framed.onnx"
    shutil.copy(tiny_model, model)
    assert main(["calibrate", str(model), "--run", str(tiny_run), "--ood-framing", "2"]) == 0
    ood = Classifier.load(model).metadata["ood"]
    assert ood["framing_copies"] == 2 and ood["augmented_copies"] == 0
    # each copy is fitted with its own slice's class: the class means are those of originals + copies
    from braintumor.calibrate import network_outputs
    from braintumor.calibration_copies import framing_copies
    from braintumor.run_split import prepared_run_images

    clf = Classifier.load(model)
    images, full, is_val = prepared_run_images(clf, tiny_run)
    tr = np.flatnonzero(~is_val)
    fit = np.concatenate([images[tr], framing_copies([full.paths[i] for i in tr], clf.preprocess_config, 2)])
    y = np.tile(full.labels[tr], 3)
    _, pooled, middle = network_outputs(clf, fit)
    x = joint_features(pooled, fit, middle if clf.ood.uses_middle else None)
    np.testing.assert_allclose(clf.ood.means, [x[y == k].mean(axis=0) for k in np.unique(y)], rtol=2e-3, atol=2e-4)
    means = ood["means"]
    assert main(["calibrate", str(model), "--run", str(tiny_run)]) == 0
    assert Classifier.load(model).metadata["ood"]["framing_copies"] == 2
    assert Classifier.load(model).metadata["ood"]["means"] == means  # same copies: the fit is reproducible


def test_framing_copies_cut_the_frame_then_prepare_as_serving_does(tmp_path):
    from braintumor.calibration_copies import framing_copies
    from braintumor.preprocess import PreprocessConfig, prepare

    paths = []
    for s in range(3):
        paths.append(tmp_path / f"{s}.png")
        paths[-1].write_bytes(encode(synthetic_head(96, seed=s), fmt="PNG"))
    config = PreprocessConfig(image_size=48)
    a, b = framing_copies(paths, config, 2, seed=3), framing_copies(paths, config, 2, seed=3)
    assert a.shape == (6, 48, 48) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    plain = np.stack([prepare(p, config) for p in paths])
    assert not np.array_equal(a[:3], plain) and not np.array_equal(a[:3], a[3:])
    np.testing.assert_array_equal(framing_copies(paths, config, 1, max_cut=0.0), plain)  # no cut: the served crop
    assert framing_copies(paths, config, 0).shape == (0, 48, 48)


@needs_torch
def test_augmented_copies_are_reproducible_uint8_crops_unlike_the_originals():
    from braintumor.calibration_copies import augmented_copies

    images = np.stack([synthetic_head(64, seed=s) for s in range(5)])
    a, b = augmented_copies(images, 2, seed=1), augmented_copies(images, 2, seed=1)
    assert a.shape == (10, 64, 64) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a[:5], images) and not np.array_equal(a[:5], a[5:])
    assert augmented_copies(images, 0).shape == (0, 64, 64)
    # the run's own optional augmentation (config.json) goes into the copies; none of it: the plain recipe
    np.testing.assert_array_equal(augmented_copies(images, 2, seed=1, options={"reframe": 0.0, "erase": 0.0}), a)
    assert not np.array_equal(augmented_copies(images, 2, seed=1, options={"reframe": 1.0}), a)


def test_calibrate_refuses_impossible_settings_before_touching_the_file(tiny_run, tiny_model, tmp_path):
    from braintumor.calibrate import calibrate
    from braintumor.data import DatasetError

    model = tmp_path / "calibrated.onnx"
    shutil.copy(tiny_model, model)
    before = model.read_bytes()
    with pytest.raises(DatasetError, match="background-percentile"):
        calibrate(model, tiny_run, background_percentile=60.0)
    with pytest.raises(DatasetError, match="ood-augment"):
        calibrate(model, tiny_run, ood_augment=-1)
    with pytest.raises(DatasetError, match="ood-framing"):
        calibrate(model, tiny_run, ood_framing=-1)
    for flag, copies in (("augment", {"ood_augment": 11}), ("framing", {"ood_framing": 11})):  # 10**8: hours, then
        with pytest.raises(DatasetError, match=rf"^--ood-{flag} must be in \[0, 10\], got 11$"):  # a MemoryError
            calibrate(model, tiny_run, **copies)
    assert model.read_bytes() == before


def test_validation_images_are_the_ones_the_run_held_out(tiny_run, data_root):
    """What scripts score design decisions on (``--run``): exactly split.json's validation list, from Training."""
    from braintumor.run_split import validation_images

    ds = validation_images(data_root, tiny_run)
    listed = json.loads((tiny_run / "split.json").read_text())["val"]
    assert sorted(str(p.relative_to(ds.root)) for p in ds.paths) == sorted(listed) and len(listed) > 0
    assert all(ds.classes[y] == p.parent.name for p, y in zip(ds.paths, ds.labels, strict=True))


def test_a_temperature_on_an_end_of_its_search_is_said_and_recorded(tiny_run, tiny_model, tmp_path, capsys,
                                                                    monkeypatch):
    """A fit on 4 validation images printed "temperature 10.0000" as if fitted: it is the search's end (what the
    real search gives there: tests/test_ood.py), which the line and the model's metadata now say."""
    import braintumor.calibrate as calibrate_module
    from braintumor.cli import main
    from braintumor.ood import TEMPERATURE_RANGE

    model = tmp_path / "bound.onnx"
    shutil.copy(tiny_model, model)
    monkeypatch.setattr(calibrate_module, "fit_temperature", lambda logits, labels: TEMPERATURE_RANGE[1])
    capsys.readouterr()
    assert main(["calibrate", str(model), "--run", str(tiny_run)]) == 0
    err = capsys.readouterr().err
    assert "temperature 10.0000 (an end of its search range 0.05-10, not a fitted minimum: " in err, err
    meta = Classifier.load(model).metadata
    assert meta["temperature"] == 10.0 and meta["calibration"]["temperature_at_bound"] is True
    monkeypatch.undo()
    assert main(["calibrate", str(model), "--run", str(tiny_run)]) == 0
    clf = Classifier.load(model)  # the real fit: flagged exactly when it is on an end
    t = clf.temperature
    assert clf.metadata["calibration"]["temperature_at_bound"] == temperature_at_bound(t)
    assert ("not a fitted minimum" in capsys.readouterr().err) == temperature_at_bound(t)


def test_calibrate_refuses_data_whose_images_are_not_the_runs(tiny_run, tiny_model, data_root, tmp_path, capsys):
    """--data a copy of the run's images with one of them another image under its name (re-saved, edited): the
    names matched, so the temperature and OOD statistics were fitted on other images without a word."""
    import json
    import shutil

    from cli_runner import run_cli

    split = json.loads((tiny_run / "split.json").read_text())
    copy = tmp_path / "copy"
    for name in split["train"] + split["val"]:
        (copy / "Training" / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(data_root / "Training" / name, copy / "Training" / name)
    edited = copy / "Training" / split["val"][0]
    other = next(p for p in sorted(edited.parent.parent.glob("*/*.jpg")) if p.name != edited.name)
    shutil.copy(other, edited)
    model = shutil.copy(tiny_model, tmp_path / "m.onnx")
    before = model.read_bytes()
    rc, out, err = run_cli(["calibrate", str(model), "--run", str(tiny_run), "--data", str(copy)], capsys)
    assert (rc, out, err) == (2, "", f"error: the images under {copy / 'Training'} that {tiny_run}/split.json names "
                                     "are not those the run was trained on (their fingerprint differs: edited or "
                                     "re-saved since?): give the run's own data as --data\n")
    assert model.read_bytes() == before
    shutil.copy(data_root / "Training" / split["val"][0], edited)  # the run's images, elsewhere: calibrated
    assert run_cli(["calibrate", str(model), "--run", str(tiny_run), "--data", str(copy)], capsys)[0] == 0


#: The two commands that rewrite MODEL in place; orientation fits its network with torch (the training extra), which
#: it asks for first.
COMMANDS = ["calibrate", pytest.param("orientation", marks=needs_torch)]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_read_only_model_is_refused_before_any_work(tmp_path, capsys, command):
    """calibrate and orientation rewrite MODEL in place: one kept read-only (chmod a-w) was replaced after the whole
    fit when run as root (a container, CI), as an output file kept so was before the CLI refused those. A usage error
    now, before the run folder is read (here an empty one, whose own error came first)."""
    from braintumor.cli import main
    from braintumor.model_files import resolve_model_path

    shipped = resolve_model_path("braintumor-tumornet-s-int8.onnx")  # the int8 copy: both commands take it
    model = tmp_path / "m.onnx"
    shutil.copy(shipped, model)
    model.chmod(0o444)
    (tmp_path / "run").mkdir()
    assert main([command, str(model), "--run", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert f"{model} is read-only: {command} rewrites it in place" in err and "chmod u+w" in err
    assert model.read_bytes() == shipped.read_bytes()


@pytest.mark.parametrize("command", COMMANDS)
def test_a_shipped_model_named_bare_is_refused_before_any_work(tmp_path, monkeypatch, capsys, command):
    """A bare name not in the working folder is looked up among the shipped models (``--model NAME`` works from any
    folder); calibrate and orientation read that file, fitted it for minutes, then wrote to NAME in the working
    folder: 'No such file or directory' after the work (or, had it written, the shipped model changed)."""
    from braintumor.cli import main

    monkeypatch.chdir(tmp_path)
    (tmp_path / "run").mkdir()
    assert main([command, "braintumor-tumornet-s-int8.onnx", "--run", "run"]) == 2
    err = capsys.readouterr().err
    assert f"braintumor-tumornet-s-int8.onnx is not in {tmp_path}" in err and "copy it here" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


@pytest.mark.parametrize("command", COMMANDS)
def test_a_model_in_a_folder_that_takes_no_new_file_is_refused_before_any_work(tmp_path, monkeypatch, capsys,
                                                                                command):
    """The rewritten model is written beside itself first: on a read-only file system (a volume mounted so) the fit
    ran for minutes, then ended 'Read-only file system'. Now said before the run folder is read."""
    import errno
    from pathlib import Path

    from braintumor import atomic_files
    from braintumor.cli import main
    from braintumor.model_files import resolve_model_path

    model = tmp_path / "m.onnx"
    shutil.copy(resolve_model_path("braintumor-tumornet-s-int8.onnx"), model)
    (tmp_path / "run").mkdir()
    real_open = atomic_files.os.open

    def read_only_file_system(path, *args, **kwargs):
        if Path(path).parent == tmp_path:
            raise OSError(errno.EROFS, "Read-only file system", str(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(atomic_files.os, "open", read_only_file_system)
    assert main([command, str(model), "--run", str(tmp_path / "run")]) == 2
    assert f"{model} cannot be rewritten in place: Read-only file system" in capsys.readouterr().err
