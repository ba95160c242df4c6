"""train --resume and the best.pt beside last.pt: another run's best.pt copied into a run folder stayed its best.pt
through --resume (last.pt never read it) and ``export RUN`` shipped the other run's weights. Tiny synthetic runs."""

from __future__ import annotations

import json
import shutil

import pytest
from cli_runner import run_cli
from conftest import encode, extra_reason, synthetic_head

from braintumor.classes import CLASSES

torch = pytest.importorskip("torch", reason=extra_reason("torch"))

AGAIN = ("(another run's best.pt copied into it?), and export would ship it as this run's; --overwrite starts the run "
         "again, or remove best.pt to resume: the best epoch from here on becomes it")


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """Three one-epoch runs on one synthetic dataset: r32 and its twin s32 of another --seed, and r48 of another
    --image-size. Each test copies the runs it changes."""
    root = tmp_path_factory.mktemp("resume_best")
    for i, name in enumerate(CLASSES):
        (root / "d" / "Training" / name).mkdir(parents=True)
        for j in range(6):
            (root / "d" / "Training" / name / f"{j}.png").write_bytes(encode(synthetic_head(64, seed=i * 100 + j)))
    for run, extra in (("r32", ()), ("s32", ("--seed", "1")), ("r48", ("--image-size", "48"))):
        assert _train(root, run, extra) == 0
    return root


def _train(root, run, extra) -> int:
    from braintumor.cli import main

    return main(["train", "--data", str(root / "d"), "--out", str(root / run), "--epochs", "1", "--image-size", "32",
                 "--batch-size", "8", "--no-group-duplicates", "--cache-dir", str(root / "cache"), *extra])


def _resume(runs, run, capsys) -> tuple[int, str]:
    rc, _, err = run_cli(["train", "--data", str(runs / "d"), "--out", str(run), "--resume", "--epochs", "2"], capsys)
    return rc, err


def _apart(one: tuple[float, float], other: tuple[float, float]) -> tuple[str, str]:
    """Two different scores as an error says them: in as many digits as tell them apart (the twin runs' scores are
    alike to 4 digits: "val_ema acc 0.2500 (loss 1.3871), where its last.pt's best is val_ema acc 0.2500 (loss
    1.3871)" said two different scores in one text)."""
    from braintumor.resume_state import _score

    texts = next(t for d in (4, 6, 8, 17) if (t := (_score(*one, d), _score(*other, d)))[0] != t[1])
    assert one != other and texts[0] != texts[1]
    return texts


def _one_error(err: str) -> str:
    assert "Traceback" not in err, err
    errors = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, err
    return errors[0]


@pytest.mark.parametrize("other, said", [
    ("r48", "was trained with image_size 48, its config.json has image_size 32"),
    ("s32", "was trained with seed 1, its config.json has seed 0"),
    ("s32 older", "is of epoch 1 with val_ema acc {other}, where its last.pt's best of 1 epoch is val_ema acc {own}"),
])
def test_another_runs_best_pt_copied_in_is_refused_on_resume(other, said, runs, tmp_path, capsys):
    """`cp r48/best.pt r32/ && train --out r32 --resume` exited 0 and export r32 shipped r48's weights. Its
    preprocessing, network, classes and settings (a best.pt written before it recorded them: its score, against the
    best that last.pt records) must be the run's; the folder is left as it was."""
    run = tmp_path / "run"
    shutil.copytree(runs / "r32", run)
    copied = torch.load(runs / other.split()[0] / "best.pt", weights_only=False)
    if other.endswith("older"):  # written before best.pt recorded its settings
        del copied["settings"]
    torch.save(copied, run / "best.pt")
    own = torch.load(runs / "r32" / "best.pt", weights_only=False)
    texts = _apart((copied["val_acc"], -copied["val_loss"]), (own["val_acc"], -own["val_loss"]))
    said = said.format(other=texts[0][len("val_ema acc "):], own=texts[1][len("val_ema acc "):])
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    rc, err = _resume(runs, run, capsys)
    assert rc == 2 and _one_error(err) == f"error: cannot resume {run}: its best.pt {said} {AGAIN}"
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


def test_a_run_whose_best_pt_was_removed_resumes_and_finds_its_own_best(runs, tmp_path, capsys):
    """The refusal's way on: without best.pt the resumed epochs' best becomes it (last.pt's best was the removed
    one's, so no later epoch needed to beat it, and the run could end without a best.pt); its own best.pt resumes."""
    run = tmp_path / "run"
    shutil.copytree(runs / "r32", run)
    rc, err = _resume(runs, run, capsys)  # its own best.pt: resumed as before
    assert rc == 0 and "no best.pt" not in err, err
    again = tmp_path / "again\x1b[2J"  # its name shown escaped: it printed raw, clearing the terminal
    shutil.copytree(runs / "r32", again)
    (again / "best.pt").unlink()
    rc, err = _resume(runs, again, capsys)
    assert rc == 0 and f"{tmp_path}/again\\x1b[2J has no best.pt: the best epoch from here on becomes it" in err, err
    assert "\x1b" not in err, err
    best = torch.load(again / "best.pt", weights_only=False)
    last = torch.load(again / "last.pt", weights_only=False)
    assert best["epoch"] == 2 and [best["val_acc"], -best["val_loss"]] == last["best"]
    assert best["settings"] == last["settings"]


def test_a_best_pt_of_the_epoch_after_last_pt_is_this_runs(runs, tmp_path):
    """best.pt is written before last.pt: a run stopped between the two has a best.pt one epoch ahead of last.pt, with
    a better score than last.pt's best. That is this run's; the resumed run trains that epoch again."""
    from braintumor.checkpoints import pinned_settings
    from braintumor.resume_state import load_training_state
    from braintumor.train_config import TrainConfig

    run = tmp_path / "run"
    shutil.copytree(runs / "r32", run)
    best = torch.load(run / "best.pt", weights_only=False)
    best["epoch"], best["val_acc"] = 2, best["val_acc"] + 0.1
    torch.save(best, run / "best.pt")
    cfg = TrainConfig(data=str(runs / "d"), out=str(run), image_size=32, batch_size=8, group_duplicates=False)
    args = (2, "tumornet-s", pinned_settings(cfg), cfg.preprocess_config().to_dict())
    assert isinstance(load_training_state(run / "last.pt", *args), dict)
    best["epoch"] = 3  # an epoch neither trained nor being trained
    torch.save(best, run / "best.pt")
    assert "its best.pt is of epoch 3 with" in load_training_state(run / "last.pt", *args)


def test_resume_checks_last_pts_weights_against_the_network_the_run_trains(runs, tmp_path):
    """--resume built the network it checks last.pt's weights against with len(CLASSES) outputs, train.py the one it
    trains with one per class of the run's data: two definitions, and a last.pt of a run of two classes (its settings
    say so) was "the weights of another network". One definition now, checkpoints.run_network."""
    from braintumor.checkpoints import pinned_settings, run_network
    from braintumor.resume_state import load_training_state
    from braintumor.train_config import TrainConfig

    run = tmp_path / "run"
    shutil.copytree(runs / "r32", run)
    cfg = TrainConfig(data=str(runs / "d"), out=str(run), image_size=32, batch_size=8, group_duplicates=False)
    settings = pinned_settings(cfg, ["glioma", "notumor"])
    ck = torch.load(run / "last.pt", weights_only=False)
    ck["model"], ck["settings"] = run_network("tumornet-s", settings["classes"]).state_dict(), settings
    torch.save(ck, run / "last.pt")
    (run / "best.pt").unlink()
    assert isinstance(load_training_state(run / "last.pt", 2, "tumornet-s", settings), dict)
    del ck["settings"]  # an older last.pt of two classes, resumed by a run of every class: another network
    torch.save(ck, run / "last.pt")
    assert "holds the weights of another network" in load_training_state(run / "last.pt", 2, "tumornet-s",
                                                                          pinned_settings(cfg))


@pytest.mark.parametrize("other, said", [
    ("r48", "was trained with image_size 48, its config.json has image_size 32"),
    ("r48 older", "was trained with image_size 48, its config.json has image_size 32"),  # its meta's preprocessing
    ("s32", "was trained with seed 1, its config.json has seed 0"),
])
def test_export_refuses_another_runs_best_pt_copied_in(other, said, runs, tmp_path, capsys):
    """`cp r48/best.pt r32/ && braintumor export r32` exited 0: the file recorded r32's config.json beside r48's
    weights and preprocessing. best.pt's settings (an older one: what its meta records) must be the run's."""
    run, out = tmp_path / "run", tmp_path / "m.onnx"
    shutil.copytree(runs / "r32", run)
    copied = torch.load(runs / other.split()[0] / "best.pt", weights_only=False)
    if other.endswith("older"):  # written before best.pt recorded its settings
        del copied["settings"]
    torch.save(copied, run / "best.pt")
    rc, _, err = run_cli(["export", str(run), "--out", str(out)], capsys)
    assert rc == 2 and _one_error(err) == (
        f"error: cannot export {run}: its best.pt {said} (another run's best.pt copied into it?); export the run it "
        "was trained in, or train this one again (--overwrite, or remove it and --resume with more --epochs)")
    assert not out.exists()


def test_export_accepts_a_best_pt_consistent_with_its_run(runs, tmp_path):
    """The run's own best.pt, and an older one of it (no settings recorded), load; without last.pt (a best.pt kept
    alone with its config.json) an older one whose meta agrees with config.json loads too: nothing says otherwise."""
    from braintumor.export import load_checkpoint

    run = tmp_path / "run"
    shutil.copytree(runs / "r32", run)
    assert load_checkpoint(run)[2]["image_size"] == 32
    own = torch.load(run / "best.pt", weights_only=False)
    del own["settings"]
    torch.save(own, run / "best.pt")
    assert load_checkpoint(run)[1]["meta"]["model_name"] == "tumornet-s"
    copied = torch.load(runs / "s32" / "best.pt", weights_only=False)
    del copied["settings"]  # another seed, but nothing recorded says so
    torch.save(copied, run / "best.pt")
    (run / "last.pt").unlink()
    assert load_checkpoint(run / "best.pt")[1]["meta"]["model_name"] == "tumornet-s"


@pytest.mark.parametrize("other", ["s32 older", "two classes"])
def test_export_refuses_an_older_best_pt_its_last_pt_or_split_tells_apart(other, runs, tmp_path, capsys):
    """An older best.pt (no settings recorded) of a twin run of another --seed, or of a run of two classes, was
    exported as this run's: config.json records neither. Its score against last.pt's best (as --resume checks it) and
    its classes against split.json's tell them apart."""
    from braintumor.checkpoints import run_network

    run, out = tmp_path / "run", tmp_path / "m.onnx"
    shutil.copytree(runs / "r32", run)
    copied = torch.load(runs / ("s32" if other == "s32 older" else "r32") / "best.pt", weights_only=False)
    del copied["settings"]
    if other == "two classes":
        copied["meta"]["classes"] = ["glioma", "notumor"]
        copied["model"] = run_network("tumornet-s", ["glioma", "notumor"]).state_dict()
    torch.save(copied, run / "best.pt")
    mine = torch.load(runs / "r32" / "best.pt", weights_only=False)
    texts = _apart((copied["val_acc"], -copied["val_loss"]), (mine["val_acc"], -mine["val_loss"])) \
        if other == "s32 older" else ()
    said = (f"is of epoch 1 with {texts[0]}, where its last.pt's best of 1 epoch is {texts[1]}"
            if other == "s32 older" else
            f'was trained with classes ["glioma", "notumor"], its split.json has {json.dumps(list(CLASSES))}')
    rc, _, err = run_cli(["export", str(run), "--out", str(out)], capsys)
    assert rc == 2 and _one_error(err) == (
        f"error: cannot export {run}: its best.pt {said} (another run's best.pt copied into it?); export the run it "
        "was trained in, or train this one again (--overwrite, or remove it and --resume with more --epochs)")
    assert not out.exists()


def test_resume_goes_on_on_the_runs_own_device(runs, tmp_path, monkeypatch, capsys):
    """`train --resume` without --device picked the flag's default ("auto": a GPU where there is one) before the
    run's config.json was read, so a run of --device cpu went on on the GPU; its own --device is picked now."""
    from braintumor import train as T
    from braintumor import train_device

    run = tmp_path / "run"
    shutil.copytree(runs / "r32", run)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "device": "cpu"}))
    picked = []

    def pick(name, run=None):
        picked.append(name)
        return torch.device("cpu")

    monkeypatch.setattr(T, "pick_device", pick)
    monkeypatch.setattr(train_device, "pick_device", pick)
    rc, err = _resume(runs, run, capsys)
    assert rc == 0, err
    assert picked[-1] == "cpu" and json.loads((run / "config.json").read_text())["device"] == "cpu"


@pytest.mark.parametrize("typed", [False, True])
def test_resume_of_a_gpu_run_where_there_is_none_names_the_runs_device_or_the_typed_flag(typed, runs, tmp_path,
                                                                                          monkeypatch, capsys):
    """A --device cuda run resumed without a GPU said "--device cuda: no CUDA GPU ...", a flag the user never typed:
    the run's own setting (its config.json) is named now; typed, the flag is, as a new run says it."""
    run = tmp_path / "run"
    shutil.copytree(runs / "r32", run)
    config = json.loads((run / "config.json").read_text())
    (run / "config.json").write_text(json.dumps({**config, "device": "cuda"}))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    rc, _, err = run_cli(["train", "--data", str(runs / "d"), "--out", str(run), "--resume", "--epochs", "2",
                          *(["--device", "cuda"] if typed else [])], capsys)
    here = f"no CUDA GPU can be used here (torch {torch.__version__})"
    assert rc == 2 and _one_error(err) == (
        f"error: --device cuda: {here}; use --device cpu or auto" if typed else
        f"error: the run {run} was trained with --device cuda (its config.json), and {here}: resume with --device cpu "
        "or --device auto")


@pytest.mark.parametrize("damage, said", [
    ("cut", "is corrupt or truncated (cut short in a copy, or written by a run that was killed)"),
    ("last.pt", "is not the best.pt 'braintumor train' writes (a last.pt copied over it?)"),
])
def test_a_damaged_best_pt_on_resume_is_not_said_to_be_another_runs(damage, said, runs, tmp_path, capsys):
    """A best.pt cut short, or last.pt copied over it, was said to be "(another run's best.pt copied into it?), and
    export would ship it as this run's": export refuses it, and it is no other run's. Its own cause is said."""
    run = tmp_path / "run"
    shutil.copytree(runs / "r32", run)
    if damage == "cut":
        (run / "best.pt").write_bytes((run / "best.pt").read_bytes()[:100])
    else:
        shutil.copy(run / "last.pt", run / "best.pt")
    rc, err = _resume(runs, run, capsys)
    assert rc == 2 and _one_error(err) == (
        f"error: cannot resume {run}: its best.pt {said}; --overwrite starts the run again, or remove best.pt to "
        "resume: the best epoch from here on becomes it")


@pytest.mark.parametrize("command", ["resume", "export"])
def test_a_best_pt_that_records_no_epoch_is_not_said_to_be_of_epoch_none(command, runs, tmp_path, capsys):
    """A best.pt without its epoch (hand-edited, another tool's) was said to be "of epoch None", Python's word."""
    run = tmp_path / "run"
    shutil.copytree(runs / "r32", run)
    best = torch.load(run / "best.pt", weights_only=False)
    del best["epoch"]
    torch.save(best, run / "best.pt")
    if command == "resume":
        rc, err = _resume(runs, run, capsys)
    else:
        rc, _, err = run_cli(["export", str(run), "--out", str(tmp_path / "m.onnx")], capsys)
    score = f"val_ema acc {best['val_acc']:.4f} (loss {best['val_loss']:.4f})"
    assert rc == 2 and f"its best.pt records {score} and no epoch, where its last.pt's best of 1 epoch is {score}" \
        in _one_error(err) and "None" not in err


@pytest.mark.parametrize("command", ["resume", "export"])
def test_a_best_pt_setting_config_json_cannot_hold_is_one_error_line(command, runs, tmp_path, capsys):
    """A best.pt whose recorded setting is no JSON value (another tool's, hand-made: a path object) was json.dumps's
    TypeError traceback where the line names the setting that differs."""
    from pathlib import PurePosixPath

    run = tmp_path / "run"
    shutil.copytree(runs / "r32", run)
    best = torch.load(run / "best.pt", weights_only=False)
    best["settings"]["seed"] = PurePosixPath("x")
    torch.save(best, run / "best.pt")
    if command == "resume":
        rc, err = _resume(runs, run, capsys)
    else:
        rc, _, err = run_cli(["export", str(run), "--out", str(tmp_path / "m.onnx")], capsys)
    assert rc == 2 and "its best.pt was trained with seed (a value config.json cannot hold), its config.json has " \
        "seed 0 (another run's best.pt copied into it?)" in _one_error(err) and "Path" not in err


@pytest.mark.parametrize("three", ["run", "last.pt"])
def test_resume_compares_last_pt_with_the_runs_own_classes(three, runs, tmp_path, capsys):
    """A run of three classes (split.json and last.pt say so: another version's) had its own last.pt compared with
    this version's four classes and said to be "another run's last.pt copied over it". Its split.json's classes are
    compared with last.pt's (like with like), and a run this version cannot train is said to be one, with what to do;
    the folder is left as it was."""
    run, classes = tmp_path / "run", list(CLASSES[:3])
    shutil.copytree(runs / "r32", run)
    if three == "run":
        split = json.loads((run / "split.json").read_text())
        (run / "split.json").write_text(json.dumps({**split, "classes": classes}))
    last = torch.load(run / "last.pt", weights_only=False)
    last["settings"]["classes"] = classes
    torch.save(last, run / "last.pt")
    before = {p.name: p.read_bytes() for p in run.iterdir()}
    rc, err = _resume(runs, run, capsys)
    assert rc == 2 and _one_error(err) == (
        f"error: cannot resume {run}: it was trained on 3 classes ({', '.join(classes)}; its split.json), this version "
        f"trains 4 ({', '.join(CLASSES)}); resume it with the version that trained it, or train a new run (another "
        "--out) on images of each of this version's classes" if three == "run" else
        f"error: cannot resume {run}: its last.pt was trained with classes {json.dumps(classes)}, its split.json has "
        f"{json.dumps(list(CLASSES))} (another run's last.pt copied over it?); --overwrite starts the run again")
    assert {p.name: p.read_bytes() for p in run.iterdir()} == before


@pytest.mark.parametrize("damage, said", [
    ("cut", "is corrupt or truncated (cut short in a copy, or written by a run that was killed)"),
    ("best.pt", "is not the training state 'braintumor train' writes (a best.pt copied over it?)"),
])
def test_export_of_a_run_whose_last_pt_is_damaged_says_what_to_do(damage, said, runs, tmp_path, capsys):
    """A last.pt cut short (or best.pt copied over it) was passed over, and with it the check of best.pt's score:
    another run's older best.pt was shipped as the run's, exit 0. Refused in one line saying what to do; without
    last.pt, best.pt is checked against config.json and split.json (and exported), as before."""
    from braintumor.export import load_checkpoint

    run, out = tmp_path / "run", tmp_path / "m.onnx"
    shutil.copytree(runs / "r32", run)
    if damage == "cut":
        (run / "last.pt").write_bytes((run / "last.pt").read_bytes()[:1000])
    else:
        shutil.copy(run / "best.pt", run / "last.pt")
    for given in (run, run / "best.pt"):
        rc, _, err = run_cli(["export", str(given), "--out", str(out)], capsys)
        assert rc == 2 and _one_error(err) == (
            f"error: cannot export {run}: its last.pt {said}, and only the best score it records tells this run's "
            "best.pt from another run's; copy the run folder again, or remove last.pt (nothing resumes from it) to "
            "export best.pt checked against config.json and split.json alone")
        assert not out.exists()
    (run / "last.pt").unlink()
    assert load_checkpoint(run)[2]["image_size"] == 32


@pytest.mark.parametrize("last", [True, False])
def test_export_of_a_best_pt_cut_short_says_what_to_do(last, runs, tmp_path, capsys):
    """A best.pt cut short was "corrupt or truncated, or not a PyTorch checkpoint" and no more: what was wrong, not
    what to do. Copy it again, export another run, or train again (with last.pt beside it: --resume without it)."""
    run, out = tmp_path / "run", tmp_path / "m.onnx"
    shutil.copytree(runs / "r32", run)
    (run / "best.pt").write_bytes((run / "best.pt").read_bytes()[:1000])
    if not last:
        (run / "last.pt").unlink()
    rc, _, err = run_cli(["export", str(run), "--out", str(out)], capsys)
    todo = ("this one again (--overwrite, or remove it and --resume with more --epochs: the best epoch from there on "
            "becomes it)") if last else "one again"
    assert rc == 2 and _one_error(err) == (
        f"error: cannot read the checkpoint {run / 'best.pt'}: corrupt or truncated, or not a PyTorch checkpoint; copy "
        f"it again from where it was trained, export another run, or train {todo}")
    assert not out.exists()
