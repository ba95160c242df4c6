"""The command line as a user meets it: arguments a user can get wrong are one usage line and exit code 2, before any
work; what a run prints where."""

from __future__ import annotations

import io
import sys

import pytest

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



@pytest.mark.parametrize(("layout", "out", "refused"), [
    ("splits", "eval", False),  # evaluate reads ROOT/Testing (and ROOT/Training): ROOT/eval was refused all the same
    ("splits", ".", False),
    ("splits", "Testing/eval", True),  # a class 'eval'
    ("splits", "Testing/glioma/eval", True),
    ("splits", "Training/eval", True),  # train's split, and the leak-free check's
    ("classes", "eval", True),  # ROOT/<class>/: ROOT is the split
])
@pytest.mark.parametrize("command", ["evaluate", "train"])
def test_only_a_folder_inside_what_is_read_as_data_is_refused(command, layout, out, refused, tmp_path):
    from braintumor.cli import build_parser
    from braintumor.cli_checks import UsageError, check_destinations
    from braintumor.train_config import ConfigError, TrainConfig

    root = tmp_path / "root"
    for split in ("Training", "Testing") if layout == "splits" else ("",):
        for c in ("glioma", "meningioma", "notumor", "pituitary"):
            (root / split / c).mkdir(parents=True)
    target = str((root / out).resolve())
    args = build_parser().parse_args([command, "--data", str(root), "--out", target])
    for check in (lambda: check_destinations(args), lambda: TrainConfig(data=str(root), out=target)):
        if refused:
            with pytest.raises((UsageError, ConfigError), match="is inside the dataset"):
                check()
        else:
            check()


def test_train_resume_and_overwrite_together_are_refused(tmp_path, capsys):
    """Both were taken: the run resumed and --overwrite was dropped (the README shows them as alternatives)."""
    with pytest.raises(SystemExit) as exc:
        main(["train", "--out", str(tmp_path / "run"), "--resume", "--overwrite"])
    assert exc.value.code == 2
    assert capsys.readouterr().err.rstrip().endswith("argument --overwrite: not allowed with argument --resume")


def test_train_on_a_gpu_that_is_not_there_is_one_line(test_images, tmp_path, monkeypatch, capsys):
    """``--device cuda`` with a CPU build of torch (or no GPU) ended in torch's AssertionError traceback."""
    torch = pytest.importorskip("torch")
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
    (["--distill-temperature", "nan"], "--distill-temperature must be a finite number > 0, got nan"),
    (["--distill-temperature", "inf"], "--distill-temperature must be a finite number > 0, got inf"),
    (["--lr", "inf"], "--lr must be a finite number > 0, got inf"),
    (["--image-size", "60000"], "--image-size must be at most 1024, got 60000"),  # a MemoryError traceback
])
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


def test_train_draws_progress_bars_on_a_terminal_only(test_images, tmp_path, capsys):
    """``braintumor train ... 2> train.log`` wrote every redraw of its bars into the log (data audit and evaluate draw
    them on a terminal only); the epoch lines say how it goes."""
    pytest.importorskip("torch")
    for c, paths in test_images.items():
        (tmp_path / "d" / c).mkdir(parents=True)
        for p in paths[:4]:
            (tmp_path / "d" / c / p.name).write_bytes(p.read_bytes())
    assert main(["train", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "r"), "--image-size", "32",
                 "--batch-size", "4", "--epochs", "1", "--cache-dir", str(tmp_path / "cache")]) == 0
    out, err = capsys.readouterr()
    assert out.startswith("epoch   1 ") and "%|" not in err  # tqdm draws "  50%|#####     | 1/2"


def test_an_ensemble_member_given_twice_is_refused(tiny_run, tmp_path, capsys):
    """``export RUN RUN`` wrote a 2-member ensemble of one network (twice the file, the same answers)."""
    out = tmp_path / "e.onnx"
    assert main(["export", str(tiny_run), str(tiny_run / "best.pt"), "--out", str(out), "--no-calibrate"]) == 2
    assert capsys.readouterr().err == f"error: ensemble member {tiny_run} is given twice: choose different runs\n"
    assert not out.exists()


@pytest.mark.parametrize("argv", [["data", "check"], ["data", "audit"], ["evaluate", "--out", "e"],
                                  ["train", "--out", "r"]])
def test_a_file_given_as_the_dataset_is_named_as_such(argv, tmp_path, monkeypatch, capsys):
    """``data check --data notes.txt`` said 'dataset folder not found: notes.txt', of a file that is there."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("x")
    assert main([*argv, "--data", "notes.txt"]) == 2
    assert capsys.readouterr().err == "error: the dataset notes.txt is a file: --data takes the dataset's folder\n"


@pytest.mark.parametrize("argv", [["predict", "x.jpg"], ["evaluate", "--out", "e", "--no-leak-free"]])
def test_a_folder_given_as_the_model_is_named_as_such(argv, data_root, tmp_path, monkeypatch, capsys):
    """``--model runs/x`` (the run folder, not its exported file) said 'model file not found: runs/x'."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "run").mkdir()
    data = ["--data", str(data_root.resolve())] if argv[0] == "evaluate" else []
    assert main([*argv, *data, "--model", "run"]) == 2
    assert capsys.readouterr().err == "error: run is a folder: pass an ONNX model file (--model in the CLI)\n"


def test_the_table_is_in_line_for_a_folder_whose_paths_are_longer_than_its_name(test_images, tmp_path, monkeypatch,
                                                                                capsys):
    """``predict FOLDER`` sized the path column from the arguments, before the folder was expanded: every row ran past
    the header by its file name."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    names = [f"d/a-long-file-name-{i}.jpg" for i in range(3)]
    for name, image in zip(names, test_images["glioma"][:3], strict=True):
        (tmp_path / name).write_bytes(image.read_bytes())
    assert main(["predict", "d", "--batch-size", "2"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    path_end, prediction = header.index(" slice"), header.index("prediction")
    assert [row[:path_end].rstrip() for row in rows] == names
    assert all(row[prediction - 1] == " " != row[prediction] for row in rows)


def test_the_table_is_sized_from_the_first_batch_and_then_streams():
    """A 10 000-image folder is not listed ahead to size the path column: the rows of the first batch size it."""
    from braintumor.predict_output import Formatter

    out = io.StringIO()
    table = Formatter("table", out, ("glioma",), sample=2)
    row = {"label": "glioma", "confidence": 0.99, "ood": False}
    table.write({"path": "a.jpg", **row})
    assert out.getvalue() == ""
    table.write({"path": "a-thirty-characters-long-b.jpg", **row})
    header, first, second = out.getvalue().splitlines()
    assert header.index("slice") == len("a-thirty-characters-long-b.jpg") + 2 and first.startswith("a.jpg   ")
    assert second.index("Glioma") == header.index("prediction")
    table.write({"path": "c.jpg", **row})  # streamed at once
    assert out.getvalue().splitlines()[3].startswith("c.jpg   ")


def test_a_volumes_summary_does_not_size_the_table_before_the_rows_after_it(test_images, tmp_path, monkeypatch):
    """``predict head.nii scans/``: the volume's summary (stderr) printed the table's held-back rows first, so the
    path column was sized from "head.nii" alone and every row of scans/ was cut to 20 characters ("scans-of-...0.jpg").
    The summary is held in its place among those rows now: it still follows the volume's rows, and the first batch's
    rows, all of them, size the column."""
    import numpy as np
    from dicom_factory import axial_volume, nifti_bytes
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    (tmp_path / "scans-of-the-first-patient").mkdir()
    names = [f"scans-of-the-first-patient/glioma-{i}.jpg" for i in range(2)]
    for name, image in zip(names, test_images["glioma"], strict=False):
        (tmp_path / name).write_bytes(image.read_bytes())
    pixels = np.asarray(Image.open(test_images["glioma"][0]).convert("L").resize((128, 128)))
    (tmp_path / "h.nii").write_bytes(nifti_bytes(axial_volume([pixels, pixels])))
    shared = io.StringIO()  # stdout and stderr as a terminal shows them, in the order written
    monkeypatch.setattr(sys, "stdout", shared)
    monkeypatch.setattr(sys, "stderr", shared)
    assert main(["predict", "h.nii", "scans-of-the-first-patient"]) == 0
    header, *lines = shared.getvalue().splitlines()
    path_end = header.index(" slice")
    assert [line[:path_end].rstrip() for line in lines[:2]] == ["h.nii", "h.nii"]
    assert lines[2].startswith("h.nii: 2 slice(s)") and lines[3].startswith("  most suspicious")
    assert [line[:path_end].rstrip() for line in lines[4:6]] == names


def test_control_characters_in_a_name_are_shown_escaped_in_the_table(test_images, tmp_path, capsys):
    """A newline in a file name split its row in two, a carriage return or an escape sequence overwrote the row on a
    terminal, a bidi override showed 'xgpj.exe.jpg' reversed: the table shows them escaped (csv, jsonl quote them)."""
    odd = ["a\nb.jpg", "t\tab.jpg", "c\rcr.jpg", "e\x1b[31mred.jpg", "x\u202egpj.exe.jpg", "z\u0085nel.jpg"]
    for name in odd:
        (tmp_path / name).write_bytes(test_images["glioma"][0].read_bytes())
    missing = str(tmp_path / "gone\n.jpg")
    assert main(["predict", str(tmp_path), missing]) == 1
    header, *rows = capsys.readouterr().out.splitlines()
    shown = [r"a\nb.jpg", r"c\rcr.jpg", r"e\x1b[31mred.jpg", r"t\tab.jpg", r"x\u202egpj.exe.jpg", r"z\x85nel.jpg"]
    assert [row.split()[0] for row in rows] == [str(tmp_path / s) for s in shown] + [str(tmp_path) + r"/gone\n.jpg"]
    assert header.startswith("path") and all(row.isprintable() for row in rows) and "error: " in rows[-1]
    assert main(["predict", str(tmp_path), "--format", "jsonl"]) == 0  # unchanged: JSON escapes them itself
    assert "a\\nb.jpg" in capsys.readouterr().out


@pytest.mark.parametrize("command", [["predict", "x.jpg"], ["serve"]])
@pytest.mark.parametrize(("value", "message"), [
    ("100000", "at most 64, got 100000"),  # serve started gunicorn with 100000 workers; predict one per batch
    ("0", "must be at least 1, got 0"),  # predict said 'error: --workers must be at least 1', unlike other options
    ("two", "expected a whole number, got 'two'"),
])
def test_workers_are_bounded_like_other_whole_numbers(command, value, message, monkeypatch, capsys):
    import braintumor.serve

    monkeypatch.setattr(braintumor.serve, "serve", lambda *a, **k: pytest.fail("the server was started"))
    with pytest.raises(SystemExit) as exc:
        main([*command, "--workers", value])
    assert exc.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1].startswith(f"braintumor {command[0]}: error: argument --workers: "
                                                               f"{message}")


def test_standard_input_named_twice_is_refused(test_images, monkeypatch, capsys):
    """``predict - -`` read the names once and scored every one of them twice."""
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{test_images['glioma'][0]}\n"))
    assert main(["predict", "-", "-", "--format", "jsonl"]) == 2
    out, err = capsys.readouterr()
    assert (out, err) == ("", "error: - (standard input) is given twice: it is read once; give - once\n")


@pytest.mark.parametrize("command", ["check", "audit"])
def test_data_commands_say_what_data_takes(command, capsys):
    """``data check --help`` and ``data audit --help`` listed ``--data DATA`` with nothing after it."""
    with pytest.raises(SystemExit) as exc:
        main(["data", command, "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert exc.value.code == 0 and "--data DATA dataset root: ROOT/Training/<class>/ and ROOT/Testing/<class>/" in out


def test_rows_held_back_for_the_table_are_shown_when_the_run_is_interrupted(test_images, tmp_path, monkeypatch,
                                                                            capsys):
    """The first rows are held back to size the path column: Ctrl-C during a slow input after them (a large volume
    loading) lost the rows already classified, which the streamed table had printed."""
    import braintumor.predict_cli as predict_cli

    image = tmp_path / "x.jpg"
    image.write_bytes(test_images["glioma"][0].read_bytes())
    real = predict_cli.records

    def interrupted(*args, **kwargs):
        yield from real(*args, **kwargs)
        raise KeyboardInterrupt  # the next input, a volume still loading

    monkeypatch.setattr(predict_cli, "records", interrupted)
    assert main(["predict", str(image)]) == 130
    header, row = capsys.readouterr().out.splitlines()
    assert header.startswith("path") and row.startswith(str(image)) and "Glioma" in row


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
