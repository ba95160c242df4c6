"""The training-side commands (train, export, calibrate, quantize, orientation) given a student's broken dataset or
run folder: one ``error:`` line and exit code 2, never a traceback, never a run folder or model file left behind."""

from __future__ import annotations

import io

import pytest
from cli_runner import run_cli
from conftest import encode, extra_reason, synthetic_head

from braintumor.classes import CLASSES

pytest.importorskip("torch", reason=extra_reason("torch"))


def _dataset(root, per_class: int = 6):
    """ROOT/Training/<class>/ of distinct synthetic heads (no real data needed)."""
    for i, name in enumerate(CLASSES):
        folder = root / "Training" / name
        folder.mkdir(parents=True)
        for j in range(per_class):
            (folder / f"{name[:2]}{j}.png").write_bytes(encode(synthetic_head(64, seed=i * 100 + j)))
    return root


def _copies(root, per_class: int = 8):
    """ROOT/Training/<class>/ holding ``per_class`` copies of one image each."""
    data = _dataset(root, per_class=1)
    for folder in (data / "Training").iterdir():
        first = next(folder.iterdir())
        for j in range(1, per_class):
            (folder / f"copy{j}.png").write_bytes(first.read_bytes())
    return data


def _train(data, out, cache, *extra) -> list[str]:
    return ["train", "--data", str(data), "--out", str(out), "--epochs", "1", "--image-size", "32", "--batch-size",
            "8", "--no-group-duplicates", "--cache-dir", str(cache), *extra]


def _one_error(err: str) -> str:
    """The single ``error:`` line of a refusal (no traceback above it)."""
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    return errors[0]


def test_a_class_whose_every_image_is_unreadable_is_refused_not_trained_without(tmp_path, capsys):
    """Every glioma file corrupt (a failed copy, text saved as .jpg): the folder had files, so the run went on and
    trained a four-class network on three classes, exit code 0."""
    data = _dataset(tmp_path / "d")
    folder = data / "Training" / "glioma"
    for path in folder.iterdir():
        path.write_bytes(b"not an image")
    rc, _, err = run_cli(_train(data, tmp_path / "run", tmp_path / "cache"), capsys)
    assert rc == 2 and _one_error(err) == (
        f"error: class 'glioma' has no readable image in {data / 'Training'}: each of its files was skipped as "
        "unreadable (above); training a model of the 4 classes (glioma, meningioma, notumor, pituitary), or "
        "calibrating one, needs images of each")
    assert f"skipped unreadable file {folder / 'gl0.png'}" in err
    assert not (tmp_path / "run").exists()


def _copy_run(run, dest):
    import shutil

    shutil.copytree(run, dest, ignore=shutil.ignore_patterns("*.onnx"))
    return dest


def _command_on_edited_run(command, config_text, tiny_run, tiny_model, tmp_path, capsys):
    """Run ``command`` (export, calibrate, quantize, orientation) on a copy of ``tiny_run`` whose config.json holds
    ``config_text`` (a function of the old text): (exit code, its one error line, run folder, output, model file, the
    model's bytes before)."""
    import shutil

    run = _copy_run(tiny_run, tmp_path / "run")
    (run / "config.json").write_text(config_text((run / "config.json").read_text()))
    model = shutil.copy(tiny_model, tmp_path / "model.onnx")
    before = model.read_bytes()
    out = tmp_path / "out.onnx"
    args = {"export": ["export", str(run), "--out", str(out)],
            "calibrate": ["calibrate", str(model), "--run", str(run)],
            "quantize": ["quantize", str(model), "--run", str(run), "--out", str(out)],
            "orientation": ["orientation", str(model), "--run", str(run), "--epochs", "1"]}[command]
    rc, _, err = run_cli(args, capsys)
    return rc, _one_error(err), run, out, model, before


@pytest.mark.parametrize("text", ["{bad", "[1, 2]"])
@pytest.mark.parametrize("command", ["export", "calibrate", "quantize", "orientation"])
def test_a_runs_broken_config_json_is_one_error_line(command, text, tiny_run, tiny_model, tmp_path, capsys):
    """A config.json cut short or edited by hand was a JSONDecodeError (or AttributeError) traceback in every command
    that reads a run folder; the model file given stays as it was and no output is written."""
    rc, line, run, out, model, before = _command_on_edited_run(command, lambda _: text, tiny_run, tiny_model,
                                                               tmp_path, capsys)
    assert rc == 2 and line.startswith(f"error: cannot read {run / 'config.json'}: "), line
    assert line.endswith("it is written by 'braintumor train'"), line
    assert not out.exists() and model.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx", "run"]  # no temporary file either


def test_an_ensemble_members_broken_split_json_is_one_error_line(tiny_run, tmp_path, capsys):
    """export A B with B's split.json cut short: a JSONDecodeError traceback (one member alone: already an error)."""
    a, b = _copy_run(tiny_run, tmp_path / "a"), _copy_run(tiny_run, tmp_path / "b")
    (b / "split.json").write_text('{"val": ["glioma/')
    out = tmp_path / "ens.onnx"
    rc, _, err = run_cli(["export", str(a), str(b), "--out", str(out), "--no-calibrate"], capsys)
    line = _one_error(err)
    assert rc == 2 and line.startswith(f"error: cannot read {b / 'split.json'}: "), line
    assert not out.exists()


def _other_networks_state(last):
    """``last``'s training state holding the weights of a tumornet-xs: another run's last.pt copied over it."""
    import torch

    from braintumor.model import create_model

    ck = torch.load(last, weights_only=False)
    ck["model"] = create_model("tumornet-xs", len(CLASSES)).state_dict()
    torch.save(ck, last)


@pytest.mark.parametrize("damage", ["truncated", "best.pt", "another network"])
def test_resume_from_a_broken_last_pt_is_one_error_line(damage, tiny_run, data_root, tmp_path, capsys):
    """--resume over a last.pt cut short said "error: Invalid argument (writing RUN)", as if writing had failed; a
    best.pt copied over it (both are .pt files) was a KeyError traceback; another architecture's last.pt (of a run
    beside it) was a RuntimeError traceback of some fifty 'size mismatch' lines, after every image's decode."""
    run = _copy_run(tiny_run, tmp_path / "run")
    last = run / "last.pt"
    if damage == "another network":
        _other_networks_state(last)
    else:
        last.write_bytes(last.read_bytes()[:5000] if damage == "truncated" else (run / "best.pt").read_bytes())
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    rc, _, err = run_cli(["train", "--data", str(data_root), "--out", str(run), "--resume", "--epochs", "2"], capsys)
    said = {"truncated": "is corrupt or truncated",
            "best.pt": "is not the training state 'braintumor train' writes (a best.pt copied over it?)",
            "another network": "holds the weights of another network than the run's tumornet-s (another run's "
                               "last.pt copied over it?)"}[damage]
    line = _one_error(err)
    assert rc == 2 and line.startswith(f"error: cannot resume {run}: its last.pt {said}"), line
    assert line.endswith("; --overwrite starts the run again"), line
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_resume_from_another_image_sizes_last_pt_is_refused_and_an_older_last_pt_resumes(tmp_path, capsys):
    """A last.pt copied from a run of another --image-size and the same network resumed silently (the convolutions'
    weights fit any size): last.pt records the settings a resumed run keeps, and one that differs from the run's
    config.json is refused, naming it and both values. A last.pt written before they were recorded still resumes."""
    import shutil

    import torch

    from braintumor.checkpoints import pinned_settings
    from braintumor.resume_state import load_training_state
    from braintumor.train_config import TrainConfig

    data = _dataset(tmp_path / "d")
    for size in ("48", "32"):
        rc, _, err = run_cli(_train(data, tmp_path / f"r{size}", tmp_path / "cache", "--image-size", size), capsys)
        assert rc == 0, err
    run, last = tmp_path / "r32", tmp_path / "r32" / "last.pt"
    own = last.read_bytes()
    shutil.copy(tmp_path / "r48" / "last.pt", last)
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    rc, _, err = run_cli(["train", "--data", str(data), "--out", str(run), "--resume", "--epochs", "2"], capsys)
    assert rc == 2 and _one_error(err) == (
        f"error: cannot resume {run}: its last.pt was trained with image_size 48, its config.json has image_size 32 "
        "(another run's last.pt copied over it?); --overwrite starts the run again")
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before
    cfg = TrainConfig(data=str(data), out=str(run), image_size=32, batch_size=8, group_duplicates=False)
    ck = torch.load(io.BytesIO(own), weights_only=False)
    assert ck["settings"] == pinned_settings(cfg)
    ck["settings"]["classes"] = ["glioma", "other"]  # a model of other classes: said as the classes trained now
    torch.save(ck, last)
    assert load_training_state(last, 2, "tumornet-s", pinned_settings(cfg)) == (
        f"cannot resume {run}: its last.pt was trained with classes [\"glioma\", \"other\"], this version trains "
        f"[\"glioma\", \"meningioma\", \"notumor\", \"pituitary\"] (another run's last.pt copied over it?); "
        "--overwrite starts the run again")
    del ck["settings"]  # written before last.pt recorded its settings: resumed as before
    torch.save(ck, last)
    rc, _, err = run_cli(["train", "--data", str(data), "--out", str(run), "--resume", "--epochs", "2"], capsys)
    assert rc == 0 and "resuming after epoch 1" in err, err
    assert torch.load(last, weights_only=False)["settings"] == pinned_settings(cfg)  # and recorded from then on


@pytest.fixture(scope="module")
def alike_run(tmp_path_factory):
    """A run trained on copies of one image per class: no out-of-distribution statistics can be fitted on them."""
    from braintumor.cli import main

    root = tmp_path_factory.mktemp("alike")
    data = _copies(root / "d")
    assert main(_train(data, root / "run", root / "cache")) == 0
    assert main(["export", str(root / "run"), "--out", str(root / "plain.onnx"), "--no-calibrate"]) == 0
    return root / "run"


def test_a_degenerate_calibration_is_refused_not_stored(alike_run, tmp_path, capsys):
    """Its whitening matrix overflowed float16: the model was written with a NaN OOD threshold (refusing nothing
    on its features, and warning "invalid value encountered" on every load), and export said 0 % refused, exit 0."""
    import shutil

    out = tmp_path / "model.onnx"
    rc, _, err = run_cli(["export", str(alike_run), "--out", str(out)], capsys)
    line = _one_error(err)
    assert rc == 2 and line.startswith("error: the out-of-distribution statistics fitted on 28 training images are "
                                       "degenerate"), line
    assert "RuntimeWarning" not in err and not out.exists() and not list(tmp_path.iterdir())
    model = shutil.copy(alike_run.parent / "plain.onnx", tmp_path / "plain.onnx")
    before = model.read_bytes()
    rc, _, err = run_cli(["calibrate", str(model), "--run", str(alike_run)], capsys)
    assert rc == 2 and _one_error(err) == line and model.read_bytes() == before


def test_a_split_left_empty_by_near_duplicate_groups_says_so(tmp_path, capsys):
    """32 images and --val-fraction 0.1 gave "32 to train and 0 to validate: too few for a validation split", with
    nothing of why: each class is copies of one image, and a group of near duplicates is never split."""
    data = _copies(tmp_path / "d")
    args = [a for a in _train(data, tmp_path / "run", tmp_path / "cache") if a != "--no-group-duplicates"]
    rc, _, err = run_cli(args, capsys)
    line = _one_error(err)
    assert rc == 2 and line.startswith("error: 32 images give 32 to train and 0 to validate (--val-fraction 0.1): "
                                       "too few for a validation split; near duplicates stay on one side of it, and "
                                       "these 32 images are "), line
    assert line.endswith(" (--no-group-duplicates splits them image by image, near duplicates and all)"), line
    assert not (tmp_path / "run").exists()


def test_a_class_of_one_image_left_out_of_validation_says_so(tmp_path, capsys):
    """A class of one image trains it, and the validation split held no image of that class without a word: best.pt
    was chosen, and the model calibrated, on the other three classes alone."""
    data = _dataset(tmp_path / "d")
    for extra in sorted((data / "Training" / "glioma").iterdir())[1:]:
        extra.unlink()
    rc, _, err = run_cli(_train(data, tmp_path / "run", tmp_path / "cache"), capsys)
    assert rc == 0 and "warning: no validation image of glioma (one image, or one group of near duplicates, trains): " \
        "best.pt is chosen, and the exported model calibrated, on the other classes alone\n" in err, err
    rc, _, err = run_cli(_train(_dataset(tmp_path / "d2"), tmp_path / "run2", tmp_path / "cache"), capsys)
    assert rc == 0 and "warning" not in err, err


def test_a_class_of_near_duplicate_groups_too_large_for_validation_says_why(tmp_path, capsys):
    """Six glioma images in two groups of three copies: each group is larger than the class's share of the
    validation split (one image), so none of glioma validates. The warning said "one image, or one group of near
    duplicates, trains" of a class of six images and two groups."""
    import shutil

    data = _dataset(tmp_path / "d")
    folder = data / "Training" / "glioma"
    for k, image in enumerate(sorted(folder.iterdir())):
        if k % 3:
            image.unlink()
            shutil.copyfile(folder / f"gl{k - k % 3}.png", image)
    args = [a for a in _train(data, tmp_path / "run", tmp_path / "cache") if a != "--no-group-duplicates"]
    rc, _, err = run_cli(args, capsys)
    assert rc == 0 and "warning: no validation image of glioma (near-duplicate groups, each larger than the class's " \
        "share of --val-fraction 0.1; a group is never split: --no-group-duplicates splits image by image): " \
        "best.pt is chosen" in err, err


def test_evaluate_run_without_a_training_log_is_refused_not_silently_drawn_without(tmp_path, capsys):
    """--run runs (the folder above the run) or --run RUN/best.pt: the report silently had no training curves (only
    a missing folder was refused)."""
    from braintumor.evaluate import run_evaluate

    runs = tmp_path / "runs"
    (runs / "my-run").mkdir(parents=True)
    (runs / "my-run" / "best.pt").write_bytes(b"x")
    for run, said in ((runs, "holds no training log (metrics.jsonl, as 'braintumor train' writes it): name the run's "
                             "own folder"),
                      (runs / "my-run" / "best.pt", "is a file: --run takes the training run's folder, whose log "
                                                    "draws the curves")):
        assert run_evaluate(None, str(tmp_path / "data"), str(tmp_path / "out"), run_dir=str(run), progress=False) == 2
        assert capsys.readouterr().err == f"error: --run {run} {said}\n"
    assert not (tmp_path / "out").exists()


def test_evaluate_run_whose_training_log_holds_no_epoch_is_refused_not_drawn_empty(tmp_path, capsys):
    """A metrics.jsonl damaged (every line torn or edited) drew a training-curves figure of no epochs into the report,
    with exit code 0 and not a word on the console; it is refused as a run without a log is, before any work."""
    from braintumor.evaluate import run_evaluate

    run = tmp_path / "run"
    run.mkdir()
    (run / "metrics.jsonl").write_text('garbage{\n{"epoch": "one"}\n')
    assert run_evaluate(None, str(tmp_path / "data"), str(tmp_path / "out"), run_dir=str(run), progress=False) == 2
    assert capsys.readouterr().err == (
        f"error: --run {run}: its metrics.jsonl holds no epoch row as 'braintumor train' writes them (damaged or "
        "edited?): name the run's own folder, or leave --run out\n")
    assert not (tmp_path / "out").exists()


def test_an_export_that_cannot_calibrate_says_so(tiny_run, tmp_path, capsys):
    """A best.pt copied out of its run folder (no split.json beside it) was exported uncalibrated without a word: a
    model with no out-of-distribution check, served as if it had one."""
    import shutil

    from braintumor.predictor import Classifier

    ck = shutil.copy(tiny_run / "best.pt", tmp_path / "best.pt")
    out = tmp_path / "model.onnx"
    rc, _, err = run_cli(["export", str(ck), "--out", str(out)], capsys)
    assert rc == 0 and Classifier.load(out).ood is None
    assert f"note: no split.json in {tmp_path}: {out} is not calibrated (no temperature, no out-of-distribution " \
           "check); 'braintumor calibrate MODEL --run RUN_DIR' fits them on the run's own split" in err
    rc, _, err = run_cli(["export", str(ck), "--out", str(tmp_path / "plain.onnx"), "--no-calibrate"], capsys)
    assert rc == 0 and "note:" not in err  # asked for


def test_a_teacher_of_another_image_size_is_named_by_what_differs(tiny_model):
    """The refusal printed both preprocessing dicts whole (seven settings each), leaving the reader to find the one
    that differed."""
    from braintumor.distill import Teacher
    from braintumor.train_config import ConfigError, TrainConfig

    with pytest.raises(ConfigError) as refused:
        Teacher(tiny_model, CLASSES, TrainConfig(data="", out="", image_size=96).preprocess_config(), threads=1)
    assert str(refused.value) == f"--teacher {tiny_model} was trained on other inputs than this run: image_size 64 " \
                                 "(this run: 96)"


def test_a_teacher_whose_graph_takes_a_fixed_batch_is_one_error_line(tiny_model, tmp_path, capsys):
    """A teacher exported for batches of one image (torch.onnx.export without a dynamic batch axis) passed the
    metadata checks, then the first batch was ONNX Runtime's 'invalid dimensions' traceback, after every image's
    decode, leaving a run folder; the graph is now checked as every model's is when loaded."""
    onnx = pytest.importorskip("onnx", reason=extra_reason("onnx"))
    proto = onnx.load_model(str(tiny_model))
    proto.graph.input[0].type.tensor_type.shape.dim[0].dim_value = 1
    teacher = tmp_path / "teacher.onnx"
    onnx.save_model(proto, str(teacher))
    data = _dataset(tmp_path / "d", per_class=2)
    rc, _, err = run_cli(_train(data, tmp_path / "run", tmp_path / "cache", "--image-size", "64", "--teacher",
                                str(teacher)), capsys)
    assert rc == 2 and _one_error(err) == (
        f"error: --teacher {teacher} cannot be used: its graph takes batches of exactly 1 image, not any number (N): "
        "export it again with a dynamic batch dimension")
    assert not (tmp_path / "run").exists()


def test_export_of_a_checkpoint_does_not_overwrite_its_runs_files(tiny_run, tmp_path, capsys):
    """export RUN/best.pt --out RUN/split.json replaced the run's split with the model (export RUN was refused it)."""
    run = _copy_run(tiny_run, tmp_path / "run")
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    for name in ("split.json", "config.json", "last.pt"):
        rc, _, err = run_cli(["export", str(run / "best.pt"), "--out", str(run / name), "--no-calibrate"], capsys)
        assert rc == 2 and _one_error(err) == f"error: --out {run / name} is one of the inputs; writing it would " \
                                              "overwrite that file: choose another name"
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


@pytest.mark.parametrize(("config", "said"), [
    ([1], "config.json is missing or unreadable"),
    ("run", "config.json is missing or unreadable"),
    ({"image_size": "big"}, "config.json has image_size 'big', not a value 'braintumor train' writes"),
    ({"batch_size": None}, "config.json has batch_size None, not a value 'braintumor train' writes"),
    ({"image_size": 5000}, "config.json's image_size must be in [32, 1024], got 5000; 'braintumor train' writes no "
                           "such value"),  # was "--image-size must be at most 1024", a flag not typed
    ({"warmup": float("nan")}, "config.json's warmup must be in [0, 1], got nan; 'braintumor train' writes no such "
                               "value"),  # was a ValueError traceback after decoding every image
])
def test_resume_with_a_hand_edited_config_json_is_one_error_line(config, said, tmp_path, capsys):
    """A config.json that is not an object was an AttributeError traceback on --resume, a setting of the wrong type
    a TypeError one ("'<' not supported between instances of 'str' and 'int'")."""
    import json

    run = tmp_path / "run"
    run.mkdir()
    (run / "last.pt").write_bytes(b"")  # checked first: resuming needs one
    (run / "config.json").write_text(json.dumps(config if not isinstance(config, dict) else
                                                {"data": "d", "out": str(run), "epochs": 3, **config}))
    rc, _, err = run_cli(["train", "--data", str(tmp_path / "d"), "--out", str(run), "--resume"], capsys)
    assert rc == 2 and _one_error(err) == f"error: cannot resume {run}: its {said}"


def test_a_cache_dir_inside_the_dataset_is_refused(tmp_path, capsys):
    """--cache-dir ROOT/Training/cache trained, and every later command on the dataset failed with "unknown class
    folder(s): cache". A hidden folder there (never data) stays allowed."""
    data = _dataset(tmp_path / "d")
    cache = data / "Training" / "cache"
    rc, _, err = run_cli(_train(data, tmp_path / "run", cache), capsys)
    assert rc == 2 and _one_error(err) == f"error: --cache-dir {cache} is inside the dataset {data}: its files " \
                                          "would be read as data; choose a folder outside it"
    assert sorted(p.name for p in (data / "Training").iterdir()) == sorted(CLASSES)
    assert not (tmp_path / "run").exists()
    from braintumor.train_config import TrainConfig

    assert TrainConfig(data=str(data), out=str(tmp_path / "run"), cache_dir=str(data / "Training" / ".cache"))


@pytest.mark.parametrize(("edit", "said"), [
    ({"root": 5}, "is not the split of a 'braintumor train' run (its root is no folder name)"),
    ({"val": []}, "lists no validation images"),
    ({"train": []}, "lists no training images"),
])
def test_a_hand_edited_split_json_is_one_error_line(edit, said, tiny_run, tiny_model, tmp_path, capsys):
    """A root that is no string was a TypeError traceback in calibrate (and quantize, orientation), an empty list of
    validation or training images a numpy AxisError one."""
    import json
    import shutil

    run = _copy_run(tiny_run, tmp_path / "run")
    split = json.loads((run / "split.json").read_text())
    (run / "split.json").write_text(json.dumps({**split, **edit}))
    model = shutil.copy(tiny_model, tmp_path / "model.onnx")
    before = model.read_bytes()
    rc, _, err = run_cli(["calibrate", str(model), "--run", str(run)], capsys)
    assert rc == 2 and _one_error(err).startswith(f"error: {run / 'split.json'} {said}"), err
    assert model.read_bytes() == before


def test_a_checkpoint_whose_weights_do_not_fit_its_network_is_one_error_line(tiny_run, tmp_path, capsys):
    """A best.pt naming another architecture than its weights (edited, or saved by another version) was a
    RuntimeError traceback of some fifty 'size mismatch' lines."""
    import torch

    run = _copy_run(tiny_run, tmp_path / "run")
    ck = torch.load(run / "best.pt", weights_only=False)
    ck["meta"]["model_name"] = "tumornet-xs"
    torch.save(ck, run / "best.pt")
    out = tmp_path / "m.onnx"
    rc, _, err = run_cli(["export", str(run), "--out", str(out)], capsys)
    assert rc == 2 and _one_error(err) == f"error: cannot read the checkpoint {run / 'best.pt'}: its weights are not " \
                                          "those of the network it names (tumornet-xs, 4 classes)"
    assert not out.exists()


@pytest.mark.parametrize("key", ["classes", "model_name"])
def test_a_checkpoint_whose_metadata_names_no_network_or_classes_is_one_error_line(key, tiny_run, tmp_path, capsys):
    """A best.pt whose meta holds no class list (hand-edited: null) was len(None)'s TypeError traceback, raised while
    its error line was worded; one with no network name said "(None, 4 classes)"."""
    import torch

    run = _copy_run(tiny_run, tmp_path / "run")
    ck = torch.load(run / "best.pt", weights_only=False)
    ck["meta"][key] = None
    torch.save(ck, run / "best.pt")
    rc, _, err = run_cli(["export", str(run), "--out", str(tmp_path / "m.onnx")], capsys)
    assert rc == 2 and _one_error(err) == f"error: cannot read the checkpoint {run / 'best.pt'}: its metadata names " \
                                          "no network or no class list (hand-edited, or another tool's?)"


def test_train_tells_an_image_past_the_pixel_limit_to_downscale_or_remove_it(tmp_path, capsys):
    """"skipped unreadable file ...: ... downscale it ... and send it again": a web upload's advice in a training
    run, which has nowhere to send it."""
    from test_image_refusals import _png_header_only

    from braintumor.wording import DATASET_DOWNSCALE

    data = _dataset(tmp_path / "d")
    big = data / "Training" / "glioma" / "big.png"
    big.write_bytes(_png_header_only(10_000, 10_000))
    rc, _, err = run_cli(_train(data, tmp_path / "run", tmp_path / "cache"), capsys)
    assert rc == 0 and "send it again" not in err
    assert (f"skipped unreadable file {big}: image is 10000x10000 pixels; the limit is 40,000,000 pixels: "
            f"{DATASET_DOWNSCALE}\n") in err
