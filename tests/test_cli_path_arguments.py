"""Paths as a user types them: empty names, '-', outputs onto inputs or inside the data, files and folders swapped."""

from __future__ import annotations

import io
import os

import pytest
from conftest import extra_reason

from braintumor.cli import main

EMPTY = "expected a file or folder name, got an empty string"


@pytest.mark.parametrize(("argv", "flag"), [
    (["predict", ""], "paths"),  # predicted the working folder
    (["predict", "x.jpg", "--model", ""], "--model"),  # scored with the shipped model without a word
    (["predict", "x.jpg", "-o", ""], "-o/--output"),  # printed to stdout
    (["predict", "x.jpg", "--heatmap", ""], "--heatmap"),  # drew no heat maps without a word
    (["evaluate", "--out", ""], "--out"),  # wrote metrics.json, report.html and 11 figures into the working folder
    (["evaluate", "--out", "e", "--model", ""], "--model"),
    (["evaluate", "--out", "e", "--data", ""], "--data"),
    (["data", "audit", "--out", ""], "--out"),  # wrote no report without a word
    (["data", "check", "--data", ""], "--data"),
    (["train", "--out", ""], "--out"),
    (["export", "run", "--out", ""], "--out"),
    (["quantize", "m.onnx", "--run", "", "--out", "q.onnx"], "--run"),
    (["calibrate", "", "--run", "run"], "model"),
    (["evaluate", "--out", "e", "--run", ""], "--run"),  # drew no training curves
    (["data", "download", "--dest", ""], "--dest"),
])
def test_an_empty_path_is_a_usage_error_not_the_working_folder(argv, flag, tmp_path, monkeypatch, capsys):
    """``--out "$OUT"`` with OUT unset: an empty name meant the working folder, or the option not given at all."""
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2 and capsys.readouterr().err.rstrip().endswith(f"argument {flag}: {EMPTY}")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("argv", "flag"), [
    (["predict", "x.jpg", "--heatmap", "~/maps"], "--heatmap"),  # made a folder named ~ here
    (["predict", "x.jpg", "--heatmap=~/maps"], "--heatmap"),  # the shell expands no ~ after =
    (["predict", "x.jpg", "-o", "~/r.csv"], "-o/--output"),  # 'there is no folder ~'
    (["evaluate", "--out", "~/eval"], "--out"),
    (["train", "--out", "~/runs/a"], "--out"),
    (["data", "check", "--data", "~/mri"], "--data"),  # 'dataset folder not found' of a folder that is there
    (["quantize", "~/m.onnx", "--run", "run", "--out", "q.onnx"], "model"),
    (["export", "~/run", "--out", "m.onnx"], "run"),
])
def test_a_tilde_the_shell_left_unexpanded_is_a_usage_error_naming_the_home_folder(argv, flag, tmp_path, monkeypatch,
                                                                                  capsys):
    """``--heatmap "~/maps"`` (or ``--heatmap=~/maps``, which no shell expands) made a folder literally named ``~`` in
    the working folder, and ``--data "~/mri"`` was 'not found' of a folder that is there."""
    home = tmp_path / "home"
    (home / "mri").mkdir(parents=True)
    (tmp_path / "work").mkdir()
    monkeypatch.chdir(tmp_path / "work")
    monkeypatch.setenv("HOME", str(home))
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    given = next(a for a in argv if "~" in a)
    meant = home / given[given.index("~") + 2:]  # "~/maps" -> HOME/maps
    assert exc.value.code == 2 and f"argument {flag}: " in err, err
    assert "the shell did not expand its ~" in err and f"write {meant}," in err, err
    assert list((tmp_path / "work").iterdir()) == []


def test_a_tilde_in_the_dataset_variable_is_told_as_the_variable_s(tmp_path, monkeypatch, capsys):
    """``BRAINTUMOR_DATA="~/mri"`` (a systemd unit's or compose file's value, never expanded) is --data's default."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("BRAINTUMOR_DATA", "~/mri")
    monkeypatch.setattr("braintumor.cli.DEFAULT_DATA_ROOT", "~/mri")
    with pytest.raises(SystemExit) as exc:
        main(["data", "check"])
    err = capsys.readouterr().err
    said = (f"~/mri (from $BRAINTUMOR_DATA): its ~ is not expanded in an environment variable, and no folder ~ is "
            f"here: set it to {tmp_path / 'home' / 'mri'}\n")
    assert exc.value.code == 2 and said in err, err


def test_a_folder_really_named_tilde_or_an_unknown_user_is_taken_as_named(test_images, tmp_path, monkeypatch, capsys):
    """Only a ``~`` that names a home folder and no folder here is refused: ``./~`` was made on purpose."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    (tmp_path / "~").mkdir()
    image = str(test_images["glioma"][0])
    assert main(["predict", image, "--heatmap", "~/maps", "--format", "jsonl"]) == 0
    assert (tmp_path / "~" / "maps").is_dir()
    capsys.readouterr()
    predicted = main(["predict", "~/nothere.jpg", "--format", "jsonl"])  # an input's own record, as before
    assert predicted == 1 and '"error": "file not found: ~/nothere.jpg' in capsys.readouterr().out


def test_dash_as_predict_output_is_standard_output_and_elsewhere_refused(test_images, tmp_path, monkeypatch, capsys):
    """``-o -`` wrote the results into a file named '-' (``data audit --out -`` its report) in the working folder."""
    monkeypatch.chdir(tmp_path)
    image = str(test_images["glioma"][0])
    assert main(["predict", image, "-o", "-", "--format", "jsonl"]) == 0
    assert capsys.readouterr().out.startswith('{"path": ')
    for argv, message in [(["data", "audit", "--out", "-"], "--out takes a file name"),
                          (["evaluate", "--out", "-"], "--out takes a folder"),
                          (["export", "run", "--out", "-"], "--out takes a file name")]:
        assert main(argv) == 2, argv
        assert capsys.readouterr().err == f"error: --out - (standard output) is not supported here: {message}\n"
    assert main(["predict", image, "-o", "-", "--resume"]) == 2
    assert capsys.readouterr().err == "error: --resume needs -o FILE (the file to continue)\n"
    assert list(tmp_path.iterdir()) == []


def test_an_output_onto_a_file_an_input_folder_holds_is_refused(test_images, tmp_path, capsys):
    """``predict DIR -o DIR/scan.jpg`` replaced a scan with the results table, and ``export RUN --out RUN/best.pt``
    (or ``quantize``) the checkpoint with an ONNX file; only the exact-file case was refused."""
    scans, run = tmp_path / "scans", tmp_path / "run"
    (scans / "sub").mkdir(parents=True)
    run.mkdir()
    scan = scans / "sub" / "scan.jpg"
    scan.write_bytes(test_images["glioma"][0].read_bytes())
    (run / "best.pt").write_bytes(b"checkpoint")
    (run / "split.json").write_text("{}")
    cases = [(["predict", str(scans), "-o", str(scan)], "-o", scan),
             (["export", str(run), "--out", str(run / "best.pt")], "--out", run / "best.pt"),
             (["quantize", "m.onnx", "--run", str(run), "--out", str(run / "split.json")], "--out", run / "split.json")]
    for argv, flag, target in cases:
        assert main(argv) == 2, argv
        assert capsys.readouterr().err == (f"error: {flag} {target} is one of the inputs; writing it would overwrite "
                                           "that file: choose another name\n")
    assert scan.read_bytes() == test_images["glioma"][0].read_bytes()
    assert (run / "best.pt").read_bytes() == b"checkpoint"
    results = scans / "results.csv"  # a results file beside the scans is not an input: written, then written again
    for _ in range(2):
        assert main(["predict", str(scans), "-o", str(results)]) == 0
    assert results.read_text().startswith("path,label,")


def test_a_folder_written_inside_the_data_it_reads_is_refused(test_images, tmp_path, capsys):
    """``evaluate --out ROOT/Testing/eval`` ran, and its folder became a class 'eval' that broke the dataset for every
    later command (train refused it already); ``predict scans --heatmap scans/maps`` read its overlays the next time."""
    root = tmp_path / "root"
    for c in ("glioma", "meningioma", "notumor", "pituitary"):
        (root / "Testing" / c).mkdir(parents=True)
        (root / "Testing" / c / "a.jpg").write_bytes(test_images[c][0].read_bytes())
    before = sorted(root.rglob("*"))
    for argv, flag, inside, what in [
            (["evaluate", "--data", str(root), "--out", str(root / "Testing" / "eval")], "--out", root, "the dataset"),
            (["predict", str(root / "Testing"), "--heatmap", str(root / "Testing" / "maps")], "--heatmap",
             root / "Testing", "the input folder")]:
        assert main(argv) == 2, argv
        assert capsys.readouterr().err == (f"error: {flag} {argv[-1]} is inside {what} {inside}: its files would be "
                                           "read as data; choose a folder outside it\n")
    assert sorted(root.rglob("*")) == before


@pytest.mark.parametrize("command", ["train", "evaluate"])
def test_the_dataset_folder_itself_is_refused_as_an_out_folder(command, tmp_path, monkeypatch, capsys):
    """``train --data d --out d`` wrote config.json, split.json and the checkpoints into the dataset root beside its
    Training folder (``evaluate --out d`` its report and figures): a dataset is input, never output."""
    from braintumor.train_config import ConfigError, TrainConfig

    monkeypatch.chdir(tmp_path)
    for split in ("Training", "Testing"):
        for c in ("glioma", "meningioma", "notumor", "pituitary"):
            (tmp_path / "d" / split / c).mkdir(parents=True)
    before = sorted((tmp_path / "d").rglob("*"))
    for out in ("d", "./d/", str(tmp_path / "d")):
        assert main([command, "--data", "d", "--out", out]) == 2
        assert capsys.readouterr().err == (f"error: --out {out} is the dataset d itself: a dataset is input, never "
                                           "output; choose a folder outside it\n")
    assert sorted((tmp_path / "d").rglob("*")) == before
    for flag, field in (("--out", "out"), ("--cache-dir", "cache_dir")):  # the Python API, and the cache alike
        with pytest.raises(ConfigError, match=f"^{flag} d/ is the dataset d itself: a dataset is input, never"):
            TrainConfig(**{"data": "d", "out": "r", field: "d/"})


@pytest.mark.parametrize(("layout", "out", "refused"), [
    ("splits", "eval", None),  # evaluate reads ROOT/Testing (and ROOT/Training): ROOT/eval was refused all the same
    ("splits", ".", "is the dataset"),  # nothing there is read, but the dataset folder is input, never output
    ("splits", "Testing/eval", "is inside the dataset"),  # a class 'eval'
    ("splits", "Testing/glioma/eval", "is inside the dataset"),
    ("splits", "Training/eval", "is inside the dataset"),  # train's split, and the leak-free check's
    ("classes", "eval", "is inside the dataset"),  # ROOT/<class>/: ROOT is the split
    ("classes", ".", "is inside the dataset"),
])
@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_only_a_folder_inside_what_is_read_as_data_is_refused(command, layout, out, refused, tmp_path):
    from braintumor.cli import build_parser
    from braintumor.cli_checks import check_destinations
    from braintumor.exit_errors import UsageError
    from braintumor.train_config import ConfigError, TrainConfig

    root = tmp_path / "root"
    for split in ("Training", "Testing") if layout == "splits" else ("",):
        for c in ("glioma", "meningioma", "notumor", "pituitary"):
            (root / split / c).mkdir(parents=True)
    target = str((root / out).resolve())
    args = build_parser().parse_args([command, "--data", str(root), "--out", target])
    for check in (lambda: check_destinations(args), lambda: TrainConfig(data=str(root), out=target)):
        if refused:
            with pytest.raises((UsageError, ConfigError), match=refused):
                check()
        else:
            check()


@pytest.mark.parametrize("argv", [["data", "check"], ["data", "audit"], ["evaluate", "--out", "e"],
                                  ["train", "--out", "r"]])
def test_a_file_given_as_the_dataset_is_named_as_such(argv, tmp_path, monkeypatch, capsys):
    """``data check --data notes.txt`` said 'dataset folder not found: notes.txt', of a file that is there."""
    if argv[0] == "train":  # without torch, that is said first
        pytest.importorskip("torch", reason=extra_reason("torch"))
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    assert main([*argv, "--data", "notes.txt"]) == 2
    assert capsys.readouterr().err == "error: the dataset notes.txt is a file: --data takes the dataset's folder\n"
    import os  # a named pipe and a device were "a file" too

    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "null").symlink_to(os.devnull)
    for name, kind in (("pipe", "a named pipe (FIFO)"), ("null", "a device")):
        assert main([*argv, "--data", name]) == 2
        assert capsys.readouterr().err == f"error: the dataset {name} is {kind}: --data takes the dataset's folder\n"
    import zipfile  # the Kaggle download itself, not unzipped, was "a file" too

    with zipfile.ZipFile(tmp_path / "archive.zip", "w") as zf:
        zf.writestr("Training/glioma/a.jpg", b"x")
    assert main([*argv, "--data", "archive.zip"]) == 2
    assert capsys.readouterr().err == ("error: the dataset archive.zip is a zip file (unzip it, then pass the folder "
                                       "holding Training and Testing): --data takes the dataset's folder\n")


@pytest.mark.parametrize("argv", [["predict", "x.jpg"], ["evaluate", "--out", "e", "--no-leak-free"]])
def test_a_folder_given_as_the_model_is_named_as_such(argv, data_root, tmp_path, monkeypatch, capsys):
    """``--model runs/x`` (the run folder, not its exported file) said 'model file not found: runs/x'."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run").mkdir()
    data = ["--data", str(data_root.resolve())] if argv[0] == "evaluate" else []
    assert main([*argv, *data, "--model", "run"]) == 2
    assert capsys.readouterr().err == "error: run is a folder: pass an ONNX model file (--model FILE)\n"


def test_a_mistyped_model_name_is_told_the_shipped_names_that_work(test_images, tmp_path, monkeypatch, capsys):
    """``--model braintumor-tumornet-s-int8`` (no ``.onnx``) or ``--model int8.onnx`` said only "model file not found
    ... (train and export one, or pass another path)": a new user was not told which names the shipped files have,
    though each works alone from any folder. The names it gives are the ones that work."""
    import re

    image = str(test_images["glioma"][0].resolve())
    monkeypatch.chdir(tmp_path)
    assert main(["predict", "x.jpg", "--model", "braintumor-tumornet-s-int8"]) == 2
    err = capsys.readouterr().err
    said = re.fullmatch(r"error: model file not found: braintumor-tumornet-s-int8 \(train and export one, or pass "
                        r"another path: --model FILE; a shipped one by its file name alone: (.+)\)\n", err)
    assert said, err
    names = said.group(1).split(", ")
    assert "braintumor-tumornet-s-int8.onnx" in names and "braintumor-tumornet-s.onnx" in names
    for name in names:
        assert main(["predict", image, "--model", name, "--format", "jsonl"]) == 0
        assert '"label"' in capsys.readouterr().out


def test_a_pipe_or_device_given_as_the_model_is_named_as_such(tmp_path, capsys):
    """``--model /dev/null`` or a FIFO exists, and was 'model file not found: /dev/null'."""
    import os

    fifo = tmp_path / "model.onnx"
    os.mkfifo(fifo)
    for model in (os.devnull, str(fifo)):
        assert main(["predict", "x.jpg", "--model", model]) == 2
        assert capsys.readouterr().err == (f"error: {model} is not a regular file (a pipe or device): pass an ONNX "
                                           "model file (--model FILE)\n")
        assert main(["quantize", model, "--run", str(tmp_path), "--out", str(tmp_path / "q.onnx")]) == 2
        assert capsys.readouterr().err == (f"error: {model} is not a regular file (a pipe or device): name the ONNX "
                                           "file that 'braintumor export' wrote (its --out)\n")


@pytest.mark.skipif(not hasattr(__import__("socket"), "AF_UNIX"), reason="no Unix sockets here")
def test_a_socket_named_as_an_input_or_an_output_is_said_to_be_one(test_images, tmp_path, monkeypatch, capsys):
    """A socket (a server's, say) given as predict's input was 'cannot read file: No such device or address'; given as
    -o or --out, the same error after the whole run, exit code 1, where a FIFO or /dev/null is written through; as
    --model, or the model quantize takes, 'not a regular file (a pipe or device)'."""
    import socket

    monkeypatch.chdir(tmp_path)  # a short relative name: a socket's path is limited to about 100 bytes
    server = socket.socket(socket.AF_UNIX)
    server.bind("s.sock")
    try:
        assert main(["predict", "s.sock", "--format", "jsonl"]) == 1
        said = "cannot read file: it is a socket (a program's connection point), not a file"
        assert capsys.readouterr().out == f'{{"path": "s.sock", "error": "{said}"}}\n'
        for argv, flag in [(["predict", str(test_images["glioma"][0]), "-o", "s.sock"], "-o"),
                           (["data", "audit", "--data", str(tmp_path), "--out", "s.sock"], "--out")]:
            assert main(argv) == 2, argv
            assert capsys.readouterr().err == (f"error: cannot write {flag} s.sock: it is a socket (a program's "
                                               "connection point), not a file\n")
        socket_is = "s.sock is a socket (a program's connection point), not a file"  # was 'a pipe or device'
        assert main(["predict", "x.jpg", "--model", "s.sock"]) == 2
        assert capsys.readouterr().err == f"error: {socket_is}: pass an ONNX model file (--model FILE)\n"
        assert main(["quantize", "s.sock", "--run", str(tmp_path), "--out", "q.onnx"]) == 2
        assert capsys.readouterr().err == (f"error: {socket_is}: name the ONNX file that 'braintumor export' wrote "
                                           "(its --out)\n")
    finally:
        server.close()


def test_standard_input_named_twice_is_refused(test_images, monkeypatch, capsys):
    """``predict - -`` read the names once and scored every one of them twice."""
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{test_images['glioma'][0]}\n"))
    assert main(["predict", "-", "-", "--format", "jsonl"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", "error: - (standard input) is given twice: it is read once; give - once\n")


@pytest.mark.skipif(not os.path.exists("/dev/stdin"), reason="no /dev/stdin on this system")
def test_standard_input_read_both_for_names_and_as_an_image_is_refused(test_images, monkeypatch, capsys):
    """``producer | predict - /dev/stdin``: the names were read, then /dev/stdin was "file is empty (0 bytes)" (or,
    standard input a file, the list of names was read as an image: "not a recognised image")."""
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{test_images['glioma'][0]}\n"))
    assert main(["predict", "-", "/dev/stdin", "--format", "jsonl"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", "error: - and /dev/stdin both read standard input, which is read once: - for the names "
                              "of files, one per line, /dev/stdin for one image piped in; give one of them\n")


def test_names_read_from_standard_input_are_inputs_that_the_output_may_not_overwrite(test_images, tmp_path,
                                                                                   monkeypatch, capsys):
    """``predict scan.jpg -o scan.jpg`` was refused, but ``echo scan.jpg | predict - -o scan.jpg`` replaced the scan
    with the results table (the destinations were checked before the names were read)."""
    monkeypatch.chdir(tmp_path)
    scan = tmp_path / "scan.jpg"
    scan.write_bytes(test_images["glioma"][0].read_bytes())
    before = scan.read_bytes()
    (tmp_path / "d").mkdir()
    for argv in (["-o", "scan.jpg"], ["--heatmap", "d/maps"]):
        monkeypatch.setattr("sys.stdin", io.StringIO("scan.jpg\nd\n"))
        assert main(["predict", "-", *argv]) == 2
        assert "error: " + " ".join(argv) in capsys.readouterr().err
    assert scan.read_bytes() == before and not (tmp_path / "d" / "maps").exists()


@pytest.mark.parametrize("argv", [["predict", "-scan.png"], ["predict", "a.png", "-scan.png"],
                                  ["predict", "-scan.png", "-o", "out.csv"]])
def test_a_file_whose_name_starts_with_a_dash_is_told_how_to_name_it(tmp_path, monkeypatch, capsys, argv):
    """A hospital export's ``-scan.png`` given as a file is read as an option: 'the following arguments are required:
    paths' (of the path given) or 'unrecognized arguments', with no word on how to pass it."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "-scan.png").write_bytes(b"")
    with pytest.raises(SystemExit) as exc:
        main(argv)
    assert exc.value.code == 2
    assert "-scan.png is a file here, read as an option: name it ./-scan.png, or put -- before it" in \
        capsys.readouterr().err


@pytest.mark.parametrize(("argv", "said"), [
    (["predict", "x.jpg", "--fromat", "csv"], "braintumor predict: error: unrecognized arguments: --fromat csv "
                                              "(--fromat is not an option here: did you mean --format?)"),
    (["predict", "x.jpg", "--heatmaps=maps"], "(--heatmaps is not an option here: did you mean --heatmap?)"),
    (["data", "audit", "--thresold", "4"], "braintumor data audit: error: unrecognized arguments: --thresold 4 "
                                           "(--thresold is not an option here: did you mean --threshold?)"),
    (["data", "check", "d"], "braintumor data check: error: unrecognized arguments: d (a dataset folder is named "
                             "after --data: --data d)"),
    (["evaluate", "--out", "e", "--zzz"], "braintumor evaluate: error: unrecognized arguments: --zzz\n"),
    (["evaluate", "--out", "e", "--", "--fromat"], "braintumor evaluate: error: unrecognized arguments: -- --fromat\n"),
])
def test_an_unknown_word_is_told_by_its_command_with_the_option_meant(tmp_path, monkeypatch, capsys, argv, said):
    """``predict x.jpg --fromat csv`` was told by the top parser, ``braintumor: error: unrecognized arguments``
    under the list of commands: not predict's usage, nor the option a typo was of."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and said in err
    command = argv[:2] if argv[0] == "data" else argv[:1]
    assert err.startswith(f"usage: braintumor {' '.join(command)} [-h]")  # its own options, not the commands


@pytest.mark.parametrize(("argv", "said"), [
    (["--fromat=json", "predict", "x.jpg"], "braintumor: error: unrecognized arguments: --fromat=json (before the "
     "command predict, where braintumor takes only --help and --version: options go after the command; did you mean "
     "braintumor predict --format?)\n"),
    (["--format=csv", "predict", "x.jpg"], "(before the command predict, where braintumor takes only --help and "
     "--version: options go after the command; --format is braintumor predict's: put it after predict)\n"),
    (["--quiet", "data", "check"], "braintumor: error: unrecognized arguments: --quiet (before the command data, "
     "where braintumor takes only --help and --version: options go after the command)\n"),
    (["--fromat", "json", "predict", "x.jpg"], ") (--fromat is no option of braintumor, so json was read as the "
     "command: options go after the command, as in braintumor predict --format json)\n"),  # after argparse's choices
])
def test_an_unknown_option_before_the_command_is_told_under_the_top_usage(argv, said, capsys):
    """``braintumor --fromat=json predict x.png`` was told under predict's usage as "not an option here", of a word
    typed before predict, where predict reads no option (``--format=json`` before it was told so too, an option predict
    takes); ``--fromat json`` said only "invalid choice: 'json'"."""
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and err.startswith("usage: braintumor [-h] [--version]") and err.endswith(said), err
    assert "not an option here" not in err


def test_a_double_dash_before_the_command_is_not_said_to_have_made_the_next_word_the_command(capsys):
    """``braintumor -- predict x.jpg``: argparse refuses '--' as the command, and the hint said "-- is no option of
    braintumor, so predict was read as the command", of the command it did not read."""
    with pytest.raises(SystemExit) as exc:
        main(["--", "predict", "x.jpg"])
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "so predict was read as the command" not in err, err


def test_a_pattern_or_a_name_in_another_case_not_found_is_told_why(test_images, tmp_path, monkeypatch, capsys):
    """``predict 'scans/*.dcm'`` (quoted, or a pattern no file matched, which a shell passes on as it is) and
    ``predict Scan.JPG`` beside ``scan.jpg`` (opened on macOS and Windows) said only "file not found"."""
    import json

    from braintumor import Classifier
    from braintumor.image_io import ImageError

    monkeypatch.chdir(tmp_path)
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "scan.jpg").write_bytes(test_images["glioma"][0].read_bytes())
    said = {"scans/*.dcm": "file not found: scans/*.dcm (a pattern: braintumor does not expand *, ? or [ itself; a "
                           "shell does, unquoted, where a file matches)",
            "scans/Scan.JPG": "file not found: scans/Scan.JPG (names are case-sensitive here: scan.jpg is there)",
            "scans/other.jpg": "file not found: scans/other.jpg",
            # a pattern in a folder's name (not there: a folder really named so is no pattern), told as in the file's
            "*/scan.jpg": "file not found: */scan.jpg (a pattern: braintumor does not expand *, ? or [ itself; a shell "
                          "does, unquoted, where a file matches)",
            "scans/a[1]/x.jpg": "file not found: scans/a[1]/x.jpg"}
    (tmp_path / "scans" / "a[1]").mkdir()
    assert main(["predict", *said, "--format", "jsonl"]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert {r["path"]: r["error"] for r in records} == said
    with pytest.raises(ImageError, match=r"^file not found: scans/Scan\.JPG \(names are case-sensitive here"):
        Classifier.load().predict("scans/Scan.JPG")


@pytest.mark.parametrize(("name", "shown"), [
    (" ", "' '"), ("\t", "'\\t'"), ("scan.jpg ", "'scan.jpg '"), ("\u200bscan.jpg", "'\\u200bscan.jpg'"),
    ("scan.jpg\ufeff", "'scan.jpg\\ufeff'"), ("a b.jpg", "a b.jpg")])
def test_a_name_not_found_with_nothing_to_see_at_an_end_is_shown_as_repr(name, shown, tmp_path, monkeypatch, capsys):
    """``predict " "`` said 'file not found:  ', the name unseen; so was white space, a zero-width space or a byte-order
    mark (pasted from a web page) at a name's end. Such a name is shown as repr; a space inside one is seen as is."""
    import json

    monkeypatch.chdir(tmp_path)
    assert main(["predict", name, "--format", "jsonl"]) == 1
    (record,) = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert record == {"path": name, "error": f"file not found: {shown}"}


def test_names_gone_from_one_folder_list_it_once(tmp_path, monkeypatch):
    """The case-sensitive hint listed a file's folder for each name not found: 20,000 names gone from a folder of
    20,000 files took 9 minutes more. It is listed once while it is unchanged, and again once it changes."""
    import os

    from braintumor.missing_files import missing_text

    (tmp_path / "Scan.JPG").write_bytes(b"")
    listed, real = [], os.scandir
    monkeypatch.setattr(os, "scandir", lambda folder: listed.append(folder) or real(folder))
    said = [missing_text(tmp_path / f"gone{k}.jpg") for k in range(50)] + [missing_text(tmp_path / "scan.jpg")]
    assert len(listed) == 1 and said[-1].endswith("(names are case-sensitive here: Scan.JPG is there)")
    (tmp_path / "Other.PNG").write_bytes(b"")
    os.utime(tmp_path, ns=(0, os.stat(tmp_path).st_mtime_ns + 10**9))  # changed (a coarse clock: a second later)
    assert missing_text(tmp_path / "other.png").endswith("(names are case-sensitive here: Other.PNG is there)")
    assert len(listed) == 2


@pytest.mark.parametrize("ending", ["/", "/.", "//", "/./"])
def test_a_file_named_as_a_folder_is_refused_not_read(test_images, tmp_path, monkeypatch, capsys, ending):
    """``predict scan.jpg/`` scored scan.jpg (pathlib drops the /), where the system says "Not a directory"; a scan
    (read as a volume) the same. Each is now its record's error, as the Python API's, and a folder so named is read."""
    import json
    import re

    from braintumor import Classifier
    from braintumor.image_io import ImageError
    from braintumor.volume_io import read_volumes

    monkeypatch.chdir(tmp_path)
    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "scan.jpg").write_bytes(test_images["glioma"][0].read_bytes())
    (tmp_path / "head.nii").write_bytes(b"not read")

    def said(name: str) -> str:
        return f"not a folder: {name} is a file, and {name}{ending} names it as a folder (the {ending} at its end): " \
               f"name it without the {ending}"

    assert main(["predict", f"scans/scan.jpg{ending}", f"head.nii{ending}", f"scans{ending}", "--format", "jsonl"]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records[:2] == [{"path": "scans/scan.jpg", "error": said("scans/scan.jpg")},
                           {"path": "head.nii", "error": said("head.nii")}]
    assert records[2]["path"] == "scans/scan.jpg" and records[2]["label"] == "glioma"
    with pytest.raises(ImageError, match=f"^{re.escape(said('scans/scan.jpg'))}$"):
        Classifier.load().predict(f"scans/scan.jpg{ending}")
    with pytest.raises(ImageError, match=f"^{re.escape(said('head.nii'))}$"):
        read_volumes(f"head.nii{ending}")


def test_a_name_without_a_folders_ending_is_passed_at_once(tmp_path, monkeypatch):
    """not_a_folder_text, asked of every name read, answers None for one that does not end as a folder's name (/, /.)
    before making a Path of it or walking its endings (~2 us of every prediction); one that does is still told."""
    from braintumor import missing_files

    real = missing_files.Path
    (tmp_path / "scan.jpg").write_bytes(b"x")
    names = [str(tmp_path / "scan.jpg"), str(tmp_path), "scan.jpg", ".", "..", "/", "a/.b", b"scan.jpg"]
    made = []
    monkeypatch.setattr(missing_files, "Path", lambda *a: made.append(a) or real(*a))
    assert [missing_files.not_a_folder_text(n) for n in names] == [None] * len(names)
    assert made == [("/",)]  # "/" alone ends as a folder's name: looked at, and not cut
    for ending in ("/", "/.", "//"):
        assert missing_files.not_a_folder_text(f"{tmp_path / 'scan.jpg'}{ending}").startswith("not a folder: ")


@pytest.mark.parametrize("ending", ["/", "/.", "//"])
def test_expand_inputs_refuses_a_file_named_as_a_folder_as_predict_does(clf, tmp_path, monkeypatch, ending):
    """``expand_inputs(["scan.png/"])`` gave Path("scan.png") (pathlib drops the /), which ``predict_many`` scored,
    where ``braintumor predict scan.png/`` refuses it: expand_inputs now raises ValueError with the command line's
    words, as for its other unusable items (an empty name); ``predict_many`` given the name itself answers that
    error."""
    import re
    from pathlib import Path

    from conftest import encode, synthetic_head

    from braintumor.image_io import ImageError, expand_inputs

    monkeypatch.chdir(tmp_path)
    Path("scan.png").write_bytes(encode(synthetic_head()))
    said = (f"not a folder: scan.png is a file, and scan.png{ending} names it as a folder (the {ending} at its end): "
            f"name it without the {ending}")
    for name in (f"scan.png{ending}", f"scan.png{ending}".encode()):
        with pytest.raises(ValueError, match=f"^expand_inputs: item 1: {re.escape(said)}$"):
            list(expand_inputs(["scan.png", name]))
    assert list(expand_inputs(["scan.png"])) == [Path("scan.png")]
    outcomes = [outcome for _, outcome in clf.predict_many([f"scan.png{ending}", "scan.png"])]
    assert [str(o) if isinstance(o, ImageError) else o for o in outcomes] == [said, clf.predict("scan.png")]


@pytest.mark.parametrize("workers", [[], ["--workers", "2"]])
def test_a_url_given_to_predict_is_echoed_as_typed(tmp_path, capsys, monkeypatch, workers):
    """``predict https://x.org/a.jpg`` echoed ``https:/x.org/a.jpg`` in its path column and its message (pathlib made
    its // one /), a name nobody typed."""
    import json

    monkeypatch.chdir(tmp_path)
    urls = ["https://x.org/a.jpg", "s3://bucket/scans/b.dcm"]
    out = tmp_path / "r.jsonl"
    assert main(["predict", *urls, "-o", str(out), *workers]) == 1
    capsys.readouterr()
    told = " (a URL: braintumor reads files, not URLs: download it first)"
    assert [json.loads(line) for line in out.read_text().splitlines()] == [
        {"path": url, "error": f"file not found: {url}{told}"} for url in urls]


@pytest.mark.parametrize("argv", [["predict", "x.jpg", "--fromat\x1b[2J"], ["data", "check", "d\x1b[2J"],
                                  ["predict", "-s\x1b]0;t\x07.png"], ["\x1b[2J", "predict", "x.jpg"],
                                  ["evaluate", "--out", "e", "--", "--x\x1b[2J"]])
def test_a_usage_error_shows_the_words_given_escaped(tmp_path, monkeypatch, capsys, argv):
    """A usage error quoting a word given (``unrecognized arguments: WORD``, 'WORD is a file here') printed it raw: a
    file name holding an escape sequence cleared the terminal or set its title, as no other message of the CLI does."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d\x1b[2J").mkdir()
    (tmp_path / "-s\x1b]0;t\x07.png").write_bytes(b"")
    with pytest.raises(SystemExit) as exc:
        main(argv)
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "error: " in err
    assert "\x1b" not in err and "\x07" not in err and ("\\x1b" in err or "invalid choice" in err), err
