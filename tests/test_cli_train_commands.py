"""train and data on the command line: datasets and settings refused before work, one-line errors, resumed runs."""

from __future__ import annotations

import json
import re
import sys

import pytest
from cli_runner import run_cli
from conftest import extra_reason, needs_torch

from braintumor.cli import main


@needs_torch
def test_dataset_errors_are_one_line(tmp_path, capsys):
    rc, _, err = run_cli(["train", "--data", str(tmp_path / "nope"), "--out", str(tmp_path / "r")], capsys)
    assert rc == 2 and err.strip() == f"error: dataset folder not found: {tmp_path / 'nope'}"


@pytest.mark.parametrize("args", [["data", "check"], ["evaluate", "--out", "ev"],
                                  pytest.param(["train", "--out", "run"], marks=needs_torch)])
def test_a_missing_default_dataset_says_how_to_name_one(args, tmp_path, monkeypatch, capsys):
    """Outside this checkout (a pip install, a notebook folder) data check, evaluate and train said only "dataset
    folder not found: ../shared/datasets/brain-tumor-mri", a path the user never typed, and nothing of --data."""
    import braintumor.cli
    import braintumor.data

    monkeypatch.delenv("BRAINTUMOR_DATA", raising=False)  # the default as a user without it has it
    for module in (braintumor.cli, braintumor.data):
        monkeypatch.setattr(module, "DEFAULT_DATA_ROOT", "../shared/datasets/brain-tumor-mri")
    monkeypatch.chdir(tmp_path)
    rc, _, err = run_cli(args, capsys)
    assert rc == 2 and err.startswith("error: dataset folder not found: ") and err.count("\n") == 1, err
    assert err.rstrip().endswith(": pass --data ROOT, or fetch the dataset with 'braintumor data download'"), err


def test_data_download_explains_what_to_do_offline(monkeypatch, capsys):
    import types

    fake = types.ModuleType("kagglehub")

    def fail(_name):
        raise ConnectionError("network is unreachable")

    fake.dataset_download = fail
    monkeypatch.setitem(sys.modules, "kagglehub", fake)
    rc, _, err = run_cli(["data", "download"], capsys)
    assert rc == 2 and "Offline" in err and "kaggle.com/datasets/masoudnickparvar" in err
    assert "(network is unreachable). " in err and "ConnectionError" not in err  # its words, not its class name
    monkeypatch.setitem(sys.modules, "kagglehub", None)  # not installed
    rc, _, err = run_cli(["data", "download"], capsys)
    assert rc == 2 and "pip install 'braintumor[download]'" in err


def test_data_check_lists_unreadable_files(tmp_path, capsys):
    from test_data import make_dataset

    root = make_dataset(tmp_path)
    (root / "glioma" / "broken.jpg").write_bytes(b"junk")
    rc, out, _ = run_cli(["data", "check", "--data", str(root)], capsys)
    assert rc == 1 and "broken.jpg" in out and "glioma 4" in out


def test_data_check_names_the_images_predict_and_evaluate_refuse_for_their_size(tmp_path, capsys):
    """A 40 x 40 image decodes, so data check said "all images decode" (exit 0), and evaluate of the same folder
    then skipped it as unreadable: "n 12 (1 unreadable, skipped)"."""
    from conftest import encode, synthetic_head
    from test_data import make_dataset

    from braintumor import Classifier
    from braintumor.image_io import ImageError
    from braintumor.wording import dataset_file_error

    root = make_dataset(tmp_path)
    small = root / "glioma" / "small.png"
    small.write_bytes(encode(synthetic_head(40)))
    with pytest.raises(ImageError) as refused:
        Classifier.load().predict(small)
    rc, out, _ = run_cli(["data", "check", "--data", str(root)], capsys)
    said = dataset_file_error(str(refused.value))  # predict's words, as said of a dataset's file
    assert said.endswith("(use the original slice, or remove it from the dataset)")
    assert rc == 1 and f"  too small: {small}: {said}\n" in out and "all images decode" not in out
    assert out.endswith("\n1 image under 64x64: predict and evaluate refuse it (training reads it)\n")


@pytest.mark.parametrize(("flags", "message"), [
    (["--epochs", "0"], "--epochs must be in [1, 10000], got 0"),  # was 'done' with no best.pt
    (["--batch-size", "1"], "--batch-size must be in [2, 4096] (BatchNorm needs two images), got 1"),
    (["--image-size", "7"], "--image-size must be in [32, 1024], got 7"),
    (["--val-fraction", "0"], "--val-fraction must be between 0 and 1, got 0.0"),  # tracebacks, after decoding all
    (["--val-fraction", "1.5"], "--val-fraction must be between 0 and 1, got 1.5"),
    (["--lr", "-1"], "--lr must be in (0, 1], got -1.0"),
    (["--seed", "-1"], "--seed must be in [0, 4294967295], got -1"),
    (["--seed", "99999999999999999999"], "--seed must be in [0, 4294967295], got 99999999999999999999"),  # torch's
    (["--split-seed", "4294967296"], "--split-seed must be in [0, 4294967295], got 4294967296"),  # overflow traceback
    (["--limit-per-class", "-3"], "--limit-per-class must be >= 0, got -3"),  # trained on 5 images per class
    (["--model", "foo"], "unknown --model 'foo'; choose from tumornet-s, tumornet-xs, tumornet-s24, tumornet-s-patch, "
                         "tumornet-s-deep, tumornet-s-se"),
    (["--device", "gpu"], "unknown --device 'gpu': auto, cpu, cuda, cuda:1 ..."),
    (["--resume"], "nothing to resume in {r}: no last.pt (a run writes it at the end of its first epoch); start it "
                   "without --resume"),  # it started a new run, over any best.pt there
    (["--out", "{d}/Training/run"], "--out {d}/Training/run is inside the dataset {d}: its files would be read as "
                                    "data; choose a folder outside it"),  # the dataset then had a class 'run'
])
@needs_torch
def test_training_settings_that_cannot_train_are_refused(flags, message, tmp_path, capsys):
    data = tmp_path / "d"
    flags = [f.format(d=data) for f in flags]
    rc, _, err = run_cli(["train", "--data", str(data), "--out", str(tmp_path / "r"), *flags], capsys)
    assert (rc, err) == (2, f"error: {message.format(r=tmp_path / 'r', d=data)}\n")
    assert list(tmp_path.iterdir()) == []  # nothing created: no run folder, no class folder in the dataset


@pytest.mark.parametrize(("setting", "message"), [
    ({"lr": 2.0}, "--lr must be in (0, 1], got 2.0"),
    ({"weight_decay": 1e30}, "weight_decay must be in [0, 1], got 1e+30"),  # AdamW's 1 - lr * wd: weights blown up
    ({"weight_decay": 1.5}, "weight_decay must be in [0, 1], got 1.5"),
    ({"label_smoothing": 1.0}, "label_smoothing must be in [0, 1), got 1.0"),
])
def test_training_settings_of_the_python_api_have_upper_bounds(setting, message):
    """TrainConfig (the Python API, a run's config.json) bounds what the flags bound, and settings with no flag."""
    from braintumor.train_config import ConfigError, TrainConfig

    with pytest.raises(ConfigError) as exc:
        TrainConfig(data="", out="o", **setting)
    assert str(exc.value) == message
    assert TrainConfig(data="", out="o", lr=1.0, weight_decay=1.0).lr == 1.0  # the bounds themselves are taken


def test_a_blank_hold_out_mode_is_a_usage_error(tmp_path, capsys):
    """--hold-out-mode "$MODE" with MODE unset trained on every image, holding out none, exit code 0."""
    with pytest.raises(SystemExit) as exc:
        main(["train", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "r"), "--hold-out-mode", ""])
    assert exc.value.code == 2 and capsys.readouterr().err.rstrip().endswith(
        "argument --hold-out-mode: expected a Pillow mode (L, RGB, ...), got ''")
    assert list(tmp_path.iterdir()) == []


@needs_torch
def test_training_data_that_cannot_make_a_run_is_refused_before_training(tmp_path, capsys):
    from conftest import encode, synthetic_head

    from braintumor.classes import CLASSES

    for k, c in enumerate(CLASSES):  # one image per class: nothing left to validate on
        (tmp_path / "d" / c).mkdir(parents=True)
        (tmp_path / "d" / c / "a.png").write_bytes(encode(synthetic_head(64, seed=k)))
    base = ["train", "--data", str(tmp_path / "d"), "--image-size", "32", "--cache-dir", str(tmp_path / "c")]
    rc, _, err = run_cli([*base, "--out", str(tmp_path / "r1")], capsys)  # was a torch.cat traceback after epoch 1
    assert rc == 2 and err.endswith("\nerror: 4 images give 4 to train and 0 to validate (--val-fraction 0.1): too "
                                    "few for a validation split\n") and "Traceback" not in err
    rc, _, err = run_cli([*base, "--out", str(tmp_path / "r2"), "--hold-out-mode", "l"], capsys)  # held out nothing
    assert rc == 2 and err.endswith("error: no training image is stored as 'l' (Pillow modes are case sensitive: L, "
                                    "RGB, ...): nothing would be held out\n")
    assert not (tmp_path / "r1").exists() and not (tmp_path / "r2").exists()  # no empty run folder left behind


def test_a_resumed_run_keeps_its_own_settings(tmp_path):
    """--resume used the flags as typed: without the original --image-size 160 it went on at 128 px; another --seed
    drew a new split (validation images that had been trained on); another --model was a traceback after config.json
    was rewritten. Flags left at their defaults now take the run's values; one that asks for another is refused."""
    from dataclasses import asdict

    from braintumor.train_config import ConfigError, TrainConfig, resumed_config

    run = tmp_path / "run"
    run.mkdir()
    original = TrainConfig(data="d", out=str(run), image_size=160, epochs=100, augment_intensity=0.5, seed=3)
    (run / "config.json").write_text(json.dumps({**asdict(original), "world_size": 1}))
    (run / "last.pt").write_bytes(b"")
    # --epochs left at its default is the run's own too (it took the default, 110: a 1-epoch run went on to 110)
    assert resumed_config(TrainConfig(data="d", out=str(run))) == original
    assert resumed_config(TrainConfig(data="d", out=str(run), epochs=120)).epochs == 120  # a length may change
    moved = resumed_config(TrainConfig(data="elsewhere/d", out=str(run), cache_dir="c", precision="fp32"))
    assert (moved.data, moved.cache_dir, moved.precision, moved.image_size) == ("elsewhere/d", "c", "fp32", 160)
    with pytest.raises(ConfigError, match=r"other settings: --model tumornet-xs \(the run has tumornet-s\); --seed 5 "
                                          r"\(the run has 3\)\. A resumed run keeps its own$"):
        resumed_config(TrainConfig(data="d", out=str(run), model="tumornet-xs", seed=5))
    (run / "config.json").write_text("{cut")
    with pytest.raises(ConfigError, match=r"config\.json is missing or unreadable"):
        resumed_config(TrainConfig(data="d", out=str(run)))


def test_a_resumed_run_takes_a_typed_setting_even_when_it_equals_the_default(tmp_path):
    """--epochs 110 typed on a 50-epoch run was taken for 'not given' (110 is the default) and ignored."""
    from dataclasses import asdict

    from braintumor.train_config import TrainConfig, resumed_config

    run = tmp_path / "run"
    run.mkdir()
    original = TrainConfig(data="d", out=str(run), epochs=50, device="cpu", precision="fp32")
    (run / "config.json").write_text(json.dumps({**asdict(original), "world_size": 1}))
    (run / "last.pt").write_bytes(b"")
    typed = resumed_config(TrainConfig(data="d", out=str(run), epochs=110, device="auto"),
                           typed=frozenset({"epochs", "device"}))
    assert (typed.epochs, typed.device, typed.precision) == (110, "auto", "fp32")
    assert resumed_config(TrainConfig(data="d", out=str(run)), typed=frozenset()) == original


def test_train_resume_and_overwrite_together_are_refused(tmp_path, capsys):
    """Both were taken: the run resumed and --overwrite was dropped (the README shows them as alternatives)."""
    with pytest.raises(SystemExit) as exc:
        main(["train", "--out", str(tmp_path / "run"), "--resume", "--overwrite"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.rstrip().endswith("argument --overwrite: not allowed with argument --resume")


def test_train_on_a_gpu_that_is_not_there_is_one_line(test_images, tmp_path, monkeypatch, capsys):
    """``--device cuda`` with a CPU build of torch (or no GPU) ended in torch's AssertionError traceback."""
    torch = pytest.importorskip("torch", reason=extra_reason("torch"))
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    for c, paths in test_images.items():
        (tmp_path / "d" / c).mkdir(parents=True)
        for p in paths[:2]:
            (tmp_path / "d" / c / p.name).write_bytes(p.read_bytes())
    rc = main(["train", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "r"), "--device", "cuda",
               "--cache-dir", str(tmp_path / "d" / ".cache"), "--batch-size", "4", "--epochs", "1"])
    assert (rc, capsys.readouterr().err) == (2, f"error: --device cuda: no CUDA GPU can be used here (torch "
                                                f"{torch.__version__}); use --device cpu or auto\n")
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(("flags", "message"), [
    (["--mixup", "inf"], "--mixup must be a finite number >= 0 (0: off), got inf"),  # trained on NaN losses, exit 0
    (["--mixup", "nan"], "--mixup must be a finite number >= 0 (0: off), got nan"),
    (["--cutmix", "nan"], "--cutmix must be a finite number >= 0 (0: off), got nan"),
    (["--mixup", "-1"], "--mixup must be a finite number >= 0 (0: off), got -1.0"),
    (["--distill-temperature", "nan"], "--distill-temperature must be in (0, 100], got nan"),
    (["--distill-temperature", "inf"], "--distill-temperature must be in (0, 100], got inf"),
    (["--lr", "inf"], "--lr must be in (0, 1], got inf"),
    (["--lr", "1e30"], "--lr must be in (0, 1], got 1e+30"),  # trained an epoch, then was told it diverged
    (["--lr", "3"], "--lr must be in (0, 1], got 3.0"),  # 3e-3 with its exponent lost
    (["--image-size", "60000"], "--image-size must be in [32, 1024], got 60000"),  # a MemoryError traceback
    (["--image-size", "1025"], "--image-size must be in [32, 1024], got 1025"),
    (["--epochs", str(10**29)], f"--epochs must be in [1, 10000], got {10**29}"),  # trained until killed
    (["--epochs", "10001"], "--epochs must be in [1, 10000], got 10001"),
    (["--batch-size", str(10**9)], f"--batch-size must be in [2, 4096], got {10**9}"),  # failed deep inside torch
    (["--batch-size", "4097"], "--batch-size must be in [2, 4096], got 4097"),
    (["--distill-weight", "0.9"], "--distill-weight acts only with --teacher, which was not given: the run would go on "
                                  "without it"),  # trained without distillation, exit code 0
    (["--ramp", "0.5"], "--ramp acts only with --start-size, which was not given: the run would go on without it"),
])
@needs_torch
def test_training_numbers_that_cannot_train_are_refused(flags, message, tmp_path, capsys):
    rc = main(["train", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "r"), *flags])
    assert (rc, capsys.readouterr().err) == (2, f"error: {message}\n")
    assert list(tmp_path.iterdir()) == []


def test_running_out_of_memory_is_one_line(monkeypatch, capsys):
    """A MemoryError (an image size or batch the machine cannot hold) ended in a traceback."""
    import braintumor.datasets_cli

    def no_memory(*_args):
        raise MemoryError

    monkeypatch.setattr(braintumor.datasets_cli, "check_dataset", no_memory)
    assert main(["data", "check"]) == 1
    assert capsys.readouterr().err == ("error: out of memory (a smaller --batch-size, --image-size or --workers "
                                       "needs less)\n")


@needs_torch
def test_train_draws_progress_bars_on_a_terminal_only(test_images, tmp_path, capsys):
    """``braintumor train ... 2> train.log`` wrote every redraw of its bars into the log (data audit and evaluate draw
    them on a terminal only); the epoch lines say how it goes."""
    for c, paths in test_images.items():
        (tmp_path / "d" / c).mkdir(parents=True)
        for p in paths[:4]:
            (tmp_path / "d" / c / p.name).write_bytes(p.read_bytes())
    assert main(["train", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "r"), "--image-size", "32",
                 "--batch-size", "4", "--epochs", "1", "--cache-dir", str(tmp_path / "cache")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("epoch   1 ") and "%|" not in err  # tqdm draws "  50%|#####     | 1/2"


@pytest.mark.parametrize(("argv", "choices"), [([], "{train,export,calibrate,quantize,orientation,evaluate,predict,"
                                                    "serve,data}"), (["data"], "{check,audit,download}")])
def test_a_missing_command_is_named_by_its_choices(argv, choices, capsys):
    """``braintumor data`` said "the following arguments are required: data_command", argparse's name for it."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.endswith(f"error: the following arguments are required: {choices}\n"), err


def test_the_help_names_the_extra_of_each_command_that_needs_one(capsys):
    """In the core install (README's first command) ``evaluate`` stops at "matplotlib is needed" and ``data download``
    at "kagglehub is not installed", but ``--help`` named the extra of the [train] commands only."""
    needs = {"train": "[train]", "export": "[train]", "calibrate": "[train]", "quantize": "[train]",
             "orientation": "[train]", "evaluate": "[eval]", "download": "[download]"}
    shown = ""
    for argv in (["--help"], ["data", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        shown += " ".join(capsys.readouterr().out.split())
    for command, extra in needs.items():
        said = re.search(rf" {command} (.*?\))", shown)
        assert said, command
        assert f"needs {extra}" in said.group(1) or f"needs the {extra} extra" in said.group(1), said.group(1)


@pytest.mark.parametrize("command", ["check", "audit"])
def test_data_commands_say_what_data_takes(command, capsys):
    """``data check --help`` and ``data audit --help`` listed ``--data DATA`` with nothing after it."""
    with pytest.raises(SystemExit) as exc:
        main(["data", command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert exc.value.code == 0 and "--data DATA dataset root: ROOT/Training/<class>/ and ROOT/Testing/<class>/" in out


def test_data_download_shows_the_dataset_path_escaped(tmp_path, monkeypatch, capsys):
    """'dataset ready at PATH' printed the path raw: a folder named with an escape sequence cleared the terminal,
    where every other line of the CLI shows names escaped (wording.printable)."""
    import types

    from test_data import make_dataset

    root = make_dataset(tmp_path / "r\x1b[2J" / "Training").parent
    fake = types.ModuleType("kagglehub")
    fake.dataset_download = lambda _name: str(root)
    monkeypatch.setitem(sys.modules, "kagglehub", fake)
    rc, out, _ = run_cli(["data", "download"], capsys)
    assert rc == 0 and "\x1b" not in out and "r\\x1b[2J" in out, out
    assert "train with: braintumor train --data" not in out and "no command to copy" in out, out


def test_data_download_train_command_keeps_a_spaced_path_one_argument(tmp_path, monkeypatch, capsys):
    """'train with: braintumor train --data PATH' is there to paste, but PATH was not quoted: a folder named with a
    space pasted as two arguments (train read 'my' as the data and failed on 'data')."""
    import shlex
    import types

    from test_data import make_dataset

    root = make_dataset(tmp_path / "my data" / "Training").parent
    fake = types.ModuleType("kagglehub")
    fake.dataset_download = lambda _name: str(root)
    monkeypatch.setitem(sys.modules, "kagglehub", fake)
    rc, out, _ = run_cli(["data", "download"], capsys)
    line = next(x for x in out.splitlines() if x.startswith("train with: "))
    words = shlex.split(line.removeprefix("train with: "))
    assert rc == 0 and words == ["braintumor", "train", "--data", str(root), "--out", "runs/my-run"], line
