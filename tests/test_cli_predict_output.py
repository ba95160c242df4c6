"""predict's output: the jsonl, csv and table contracts, output files, folders, standard input and output."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys

import pytest
from cli_runner import run_cli
from conftest import encode, extra_reason, synthetic_head

from braintumor.cli import main
from braintumor.csv_records import csv_text_value
from braintumor.image_io import ImageError
from braintumor.prediction import DISCLAIMER
from braintumor.predictor import Classifier

KEYS = {"path", "label", "confidence", "probabilities", "ood", "ood_score", "review"}


@pytest.fixture()
def inputs(tmp_path, test_images):
    good = test_images["glioma"][0]
    (tmp_path / "fake.jpg").write_text("I am text, not a JPEG")
    (tmp_path / "empty.png").write_bytes(b"")
    trunc = encode(synthetic_head(), "JPEG")
    (tmp_path / "trunc.jpg").write_bytes(trunc[: len(trunc) // 3])
    return [str(good), str(tmp_path / "fake.jpg"), str(tmp_path / "empty.png"), str(tmp_path / "trunc.jpg")]


def test_jsonl_contract_and_errors(tiny_model, inputs, capsys):
    rc, out, _ = run_cli(["predict", *inputs, "--format", "jsonl", "--model", str(tiny_model)], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 1 and len(rows) == 4
    assert set(rows[0]) == KEYS and rows[0]["path"] == inputs[0]
    assert set(rows[0]["probabilities"]) == {"glioma", "meningioma", "notumor", "pituitary"}
    assert all(set(r) == {"path", "error"} for r in rows[1:])
    assert "not a recognised image" in rows[1]["error"] and "empty" in rows[2]["error"]


def test_a_lone_appledouble_file_is_named_for_what_it_is(tiny_model, tmp_path, capsys):
    """``._scan.dcm`` named on its own was "not a DICOM file", ``._x.jpg`` "not a recognised image" (2026-12-07)."""
    names = [str(tmp_path / n) for n in ("._scan.dcm", "._x.jpg")]
    for name in names:
        (tmp_path / name).write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + b"\0" * 4072)
    rc, out, _ = run_cli(["predict", *names, "--format", "jsonl", "--model", str(tiny_model)], capsys)
    rows = [json.loads(line) for line in out.splitlines()]
    assert rc == 1 and [r["path"] for r in rows] == names
    assert all(r["error"].startswith("a macOS metadata file (AppleDouble '._' file), not the scan: ") for r in rows)


def test_folders_are_recursive_and_skip_hidden(tiny_model, test_images, tmp_path, capsys):
    import shutil

    (tmp_path / "a" / "b").mkdir(parents=True)
    (tmp_path / "a" / ".ipynb_checkpoints").mkdir()
    shutil.copy(test_images["notumor"][0], tmp_path / "a" / "b" / "x.jpg")
    shutil.copy(test_images["notumor"][1], tmp_path / "a" / "y.jpg")
    shutil.copy(test_images["notumor"][1], tmp_path / "a" / ".ipynb_checkpoints" / "z.jpg")
    rc, out, _ = run_cli(["predict", str(tmp_path / "a"), "--format", "json", "--model", str(tiny_model)], capsys)
    rows = json.loads(out)
    assert rc == 0 and sorted(r["path"].rsplit("/", 1)[1] for r in rows) == ["x.jpg", "y.jpg"]


def test_csv_and_table_formats(tiny_model, inputs, capsys):
    rc, out, _ = run_cli(["predict", *inputs[:2], "--format", "csv", "--model", str(tiny_model)], capsys)
    rows = list(csv.DictReader(io.StringIO(out)))
    assert rows[0]["label"] and float(rows[0]["glioma"]) >= 0 and rows[1]["error"]
    review = rows[0]["review"]
    assert review in ("True", "False") and review == str(Classifier.load(tiny_model).predict(inputs[0]).review)
    rc, out, _ = run_cli(["predict", inputs[0], "--model", str(tiny_model)], capsys)
    assert rc == 0 and out.splitlines()[0].startswith("path") and "%" in out.splitlines()[1]
    assert out.splitlines()[1].endswith("  lower confidence") == (review == "True")


def test_output_format_follows_the_file_extension_unless_asked(tiny_model, inputs, tmp_path, capsys):
    good = inputs[0]
    for name, parse in [("r.csv", lambda t: next(csv.DictReader(io.StringIO(t)))["label"]),
                        ("r.jsonl", lambda t: json.loads(t.splitlines()[0])["label"]),
                        ("r.JSON", lambda t: json.loads(t)[0]["label"])]:
        rc, out, _ = run_cli(["predict", good, "-o", str(tmp_path / name), "--model", str(tiny_model)], capsys)
        assert rc == 0 and out == "" and parse((tmp_path / name).read_text())
    run_cli(["predict", good, "-o", str(tmp_path / "t.txt"), "--model", str(tiny_model)], capsys)
    assert (tmp_path / "t.txt").read_text().startswith("path ")  # no known extension: the table
    run_cli(["predict", good, "-o", str(tmp_path / "asked.csv"), "--format", "jsonl", "--model", str(tiny_model)],
            capsys)
    assert json.loads((tmp_path / "asked.csv").read_text())["label"]  # --format wins over the extension
    # --resume needs an appendable format: the extension gives it one without --format
    rc, _, err = run_cli(["predict", good, "-o", str(tmp_path / "r.csv"), "--resume", "--model", str(tiny_model)],
                         capsys)
    assert rc == 0 and "works with" not in err
    assert len(list(csv.DictReader(io.StringIO((tmp_path / "r.csv").read_text())))) == 1


@pytest.mark.parametrize(("name", "what"), [("results.xlsx", "an Excel workbook"), ("r.pdf", "a PDF document"),
                                            ("r.HTML", "an HTML page"), ("r.tsv", "tab-separated values"),
                                            ("r.csv.gz", "a compressed file")])
def test_an_output_named_as_a_format_predict_does_not_write_is_a_usage_error(tiny_model, inputs, tmp_path, name, what,
                                                                            capsys):
    """``-o results.xlsx`` wrote the table's text into a file that Excel then refused to open (a .pdf, .html, .tsv or
    .gz the same: none of them that format), after the whole run. --format still writes what it names anywhere."""
    target = tmp_path / name
    rc, out, err = run_cli(["predict", inputs[0], "-o", str(target), "--model", str(tiny_model)], capsys)
    assert (rc, out) == (2, "") and not target.exists()
    assert err == (f"error: -o {target}: its ending names {what}, which predict does not write: name it .csv (a "
                   "spreadsheet opens it), .jsonl or .json, or give --format (table, csv, json, jsonl) to write one of "
                   "those under this name\n")
    rc, _, _ = run_cli(["predict", inputs[0], "-o", str(target), "--format", "csv", "--model", str(tiny_model)], capsys)
    assert rc == 0 and target.read_text().startswith("path,label,")


@pytest.mark.parametrize(("name", "what"), [("result.png", "an image"), ("r.JPEG", "an image"), ("r.tif", "an image"),
                                            ("r.gif", "a GIF image"), (".gif", "a GIF image"),
                                            ("r.HEIC", "a HEIC image"), ("r.dcm", "a DICOM file"),
                                            ("r.nii", "a NIfTI volume"), ("r.nii.gz", "a NIfTI volume")])
@pytest.mark.parametrize("fmt", [[], ["--format", "csv"]])
def test_an_output_named_as_an_image_or_scan_is_a_usage_error(tiny_model, inputs, tmp_path, name, what, fmt, capsys):
    """``-o result.png`` exited 0 with the table's text in result.png, which a later ``predict DIR`` counted as an
    unreadable image (a .dcm, .nii.gz the same): refused before any work, with --format too, pointing at --heatmap."""
    target = tmp_path / name
    rc, out, err = run_cli(["predict", inputs[0], "-o", str(target), *fmt, "--model", str(tiny_model)], capsys)
    assert (rc, out) == (2, "") and not target.exists()
    assert err == (f"error: -o {target}: its ending names {what}, but -o takes the records, which are text: name it "
                   ".csv, .jsonl or .json; for pictures of what the model looked at, give --heatmap DIR\n")


def test_empty_folder_missing_model_broken_model(tiny_model, tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    rc, out, _ = run_cli(["predict", str(tmp_path / "empty"), "--format", "jsonl", "--model", str(tiny_model)],
                         capsys)
    assert rc == 1 and json.loads(out)["error"] == (
        "no image or scan found in the folder (JPEG, PNG, BMP, TIFF, WebP, DICOM or NIfTI)")
    rc, _, err = run_cli(["predict", "x.jpg", "--model", str(tmp_path / "none.onnx")], capsys)
    assert rc == 2 and err.startswith("error: model file not found")
    (tmp_path / "bad.onnx").write_text("nope")
    rc, _, err = run_cli(["predict", "x.jpg", "--model", str(tmp_path / "bad.onnx")], capsys)
    assert rc == 2 and "not a valid ONNX file" in err


def test_a_torch_checkpoint_given_as_an_input_is_told_to_be_exported(tmp_path, capsys):
    """``braintumor predict runs/first/best.pt`` (train's last line names it) was "zip archive holds no DICOM or
    NIfTI file (skipped 80 files in the zip: hidden or system file)": train writes it through a hidden temporary
    name, so torch's folder in it is hidden. It is told what the file is and how to use it."""
    torch = pytest.importorskip("torch", reason=extra_reason("torch"))
    run = tmp_path / "run"
    run.mkdir()
    torch.save({"model": {"w": torch.zeros(2)}, "epoch": 1}, run / ".best.pt")  # as train writes it, then renames
    (run / ".best.pt").rename(run / "best.pt")
    torch.save({"w": torch.zeros(2)}, run / "last.pt")  # and as torch.save writes under the file's own name
    for path in (run / "best.pt", run / "last.pt"):
        rc, out, _ = run_cli(["predict", str(path), "--format", "jsonl"], capsys)
        said = (f"a torch checkpoint (what 'braintumor train' writes), not an image or scan: export it first "
                f"(braintumor export {path} --out model.onnx) and use that file as the model (--model model.onnx; in "
                "Python, Classifier.load('model.onnx'))")
        assert rc == 1 and json.loads(out) == {"path": str(path), "error": said}
        with pytest.raises(ImageError) as caught:  # the Python API says the same
            Classifier.load().predict(path)
        assert str(caught.value) == said


def test_a_torch_checkpoint_given_as_the_model_is_told_to_be_exported(tmp_path, capsys):
    """train's last line names RUN/best.pt; given as --model it was "not a valid ONNX file, or one this onnxruntime
    cannot run (damaged, cut short, or made for a newer version)", none of which it is."""
    import zipfile

    torch = pytest.importorskip("torch", reason=extra_reason("torch"))
    ckpt = tmp_path / "run" / "best.pt"
    ckpt.parent.mkdir()
    torch.save({"model": {"w": torch.zeros(2)}, "epoch": 1}, ckpt)
    renamed = tmp_path / "weights.bin"  # known by its content, not its name
    renamed.write_bytes(ckpt.read_bytes())
    for path in (ckpt, renamed):
        rc, out, err = run_cli(["predict", "x.jpg", "--model", str(path)], capsys)
        assert rc == 2 and out == "" and err == (f"error: cannot load model {path}: a torch checkpoint, not an ONNX "
                                                 f"model: export it first (braintumor export {path} --out "
                                                 "model.onnx)\n")
    other = tmp_path / "scans.zip"  # a zip that is no checkpoint keeps the general message
    with zipfile.ZipFile(other, "w") as zf:
        zf.writestr("scans/a.txt", "x")
    rc, _, err = run_cli(["predict", "x.jpg", "--model", str(other)], capsys)
    assert rc == 2 and "not a valid ONNX file" in err and "torch checkpoint" not in err


def test_output_file_is_written_whole_or_not_at_all(tiny_model, inputs, tmp_path, capsys, monkeypatch):
    target = tmp_path / "out" / "results.jsonl"
    target.parent.mkdir()
    _, out, _ = run_cli(["predict", *inputs, "--format", "jsonl", "-o", str(target), "--model", str(tiny_model)],
                         capsys)
    assert out == "" and len(target.read_text().splitlines()) == 4
    import braintumor.predict_cli as pc

    def boom(*a, **k):
        yield {"path": "a", "error": "x"}
        raise RuntimeError("crash mid-run")

    monkeypatch.setattr(pc, "records", boom)
    target2 = tmp_path / "out" / "never.jsonl"
    with pytest.raises(RuntimeError):
        main(["predict", inputs[0], "--format", "jsonl", "-o", str(target2), "--model", str(tiny_model)])
    assert not target2.exists() and sorted(p.name for p in target.parent.iterdir()) == ["results.jsonl"]


def test_predict_never_imports_torch(tiny_model, test_images):
    args = ["predict", str(test_images["glioma"][0]), "--format", "jsonl", "--model", str(tiny_model)]
    code = (
        f"import sys; from braintumor.cli import main; rc = main({args!r}); "
        "assert 'torch' not in sys.modules, 'torch was imported'; sys.exit(rc)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["label"]


def test_csv_cells_a_spreadsheet_would_run_as_formulas_are_text_and_resume_reads_them_back(tmp_path, capsys,
                                                                                         monkeypatch):
    monkeypatch.chdir(tmp_path)
    names = ["=HYPERLINK(1).jpg", "'quoted.jpg", "+plus.jpg", "plain.jpg"]
    for i, name in enumerate(names):
        (tmp_path / name).write_bytes(encode(synthetic_head(seed=i), "JPEG"))
    assert main(["predict", *names, "-o", "all.csv"]) == 0
    rows = list(csv.reader(io.StringIO((tmp_path / "all.csv").read_text())))
    assert [r[0] for r in rows[1:]] == ["'=HYPERLINK(1).jpg", "''quoted.jpg", "'+plus.jpg", "plain.jpg"]
    lines = (tmp_path / "all.csv").read_text().splitlines(keepends=True)
    (tmp_path / "part.csv").write_text("".join(lines[:3]))  # interrupted after two records
    capsys.readouterr()
    assert main(["predict", *names, "-o", "part.csv", "--resume"]) == 0
    assert "2 records already there" in capsys.readouterr().err
    assert (tmp_path / "part.csv").read_text() == (tmp_path / "all.csv").read_text()  # each input once, in order


def test_a_name_holding_a_carriage_return_is_one_quoted_csv_cell(tmp_path, capsys, monkeypatch):
    """csv.writer quotes only the characters of its own line ending ("\n"): a name holding "\r" was written bare, so
    a CSV reader (pandas, a spreadsheet) ended the row there and --resume stopped on a csv.Error traceback."""
    monkeypatch.chdir(tmp_path)
    names = ["a\rb.jpg", "\rfirst.jpg", "c\r\nd.jpg", "plain.jpg"]
    for i, name in enumerate(names):
        (tmp_path / name).write_bytes(encode(synthetic_head(seed=i), "JPEG"))
    assert main(["predict", *names, "-o", "all.csv"]) == 0
    with open(tmp_path / "all.csv", newline="") as fh:
        rows = list(csv.reader(fh))
    assert [csv_text_value(r[0]) for r in rows[1:]] == names and {len(r) for r in rows} == {len(rows[0])}
    capsys.readouterr()
    assert main(["predict", *names, "-o", "all.csv", "--resume"]) == 0
    assert "nothing left to do" in capsys.readouterr().err


def test_dash_reads_file_names_from_standard_input(tmp_path, capsys, monkeypatch):
    """`find ... | braintumor predict -`: one run for any number of names, in the order given, - among other paths."""
    names = []
    for i in range(3):
        (tmp_path / f"s{i}.png").write_bytes(encode(synthetic_head(seed=i)))
        names.append(str(tmp_path / f"s{i}.png"))
    monkeypatch.setattr("sys.stdin", io.StringIO(f"{names[1]}\n\n{names[2]}\r\n"))
    rc, out, _ = run_cli(["predict", names[0], "-", "--format", "jsonl"], capsys)
    assert rc == 0 and [json.loads(line)["path"] for line in out.splitlines()] == names
    monkeypatch.setattr("sys.stdin", io.StringIO("\n"))
    rc, out, err = run_cli(["predict", "-"], capsys)
    assert (rc, out, err) == (2, "", "error: no inputs: standard input held no file names (one per line)\n")


def test_a_table_or_file_run_ends_with_a_tally_and_a_pipe_stays_quiet(tmp_path, capsys):
    for i in range(2):
        (tmp_path / f"s{i}.png").write_bytes(encode(synthetic_head(seed=i)))  # the shipped model refuses these
    (tmp_path / "notes.jpg").write_text("not an image")
    rc, _, err = run_cli(["predict", str(tmp_path)], capsys)
    tally = err.splitlines()[0]
    got = re.fullmatch(r"3 scored: (\d) classified, (\d) of them with lower confidence \(under 99\.0%\), (\d) not "
                       r"classified \(unlike brain MRI\), 1 unreadable", tally)
    assert rc == 1 and got and int(got[1]) + int(got[3]) == 2 and int(got[2]) <= int(got[1])
    assert err.splitlines()[1:] == ["1 unreadable input", DISCLAIMER]  # the table's last words
    rc, _, err = run_cli(["predict", str(tmp_path), "-o", str(tmp_path / "r.csv")], capsys)
    assert err.splitlines()[0] == tally
    rc, out, err = run_cli(["predict", str(tmp_path), "--format", "jsonl"], capsys)
    assert len(out.splitlines()) == 3 and err.splitlines() == ["1 unreadable input"]


def test_predict_with_stdout_closed_says_where_results_can_go(tmp_path):
    """`braintumor predict scan.jpg >&-` was "AttributeError: 'NoneType' object has no attribute 'write'"."""
    import os
    import subprocess
    import sys

    image = tmp_path / "a.png"
    image.write_bytes(encode(synthetic_head(), "PNG"))
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    closed = subprocess.run([sys.executable, "-m", "braintumor", "predict", str(image)], env=env,
                            capture_output=False, stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(1))
    assert closed.returncode == 2
    assert closed.stderr == "error: standard output is closed: give -o FILE for the results\n"
    to_file = subprocess.run([sys.executable, "-m", "braintumor", "predict", str(image), "-o", str(tmp_path / "r.csv")],
                             env=env, stderr=subprocess.PIPE, text=True, preexec_fn=lambda: os.close(1))
    assert to_file.returncode == 0 and (tmp_path / "r.csv").read_text().startswith("path,label")


def test_predict_with_stderr_closed_still_writes_every_result(tmp_path):
    """`braintumor predict scan.jpg --progress 2>&-`: the bar's first write to a None stderr was an AttributeError that
    no one saw, and the run ended (exit 1) after the table's header, its rows never written."""
    import os
    import subprocess
    import sys

    image = tmp_path / "a.png"
    image.write_bytes(encode(synthetic_head(), "PNG"))
    done = subprocess.run([sys.executable, "-m", "braintumor", "predict", str(image), "--progress", "--format", "csv"],
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, stdout=subprocess.PIPE,
                          text=True, preexec_fn=lambda: os.close(2))
    assert done.returncode == 0
    assert [line.split(",")[0] for line in done.stdout.splitlines()] == ["path", str(image)]


def test_a_folder_nested_too_deep_is_its_own_error_record(tmp_path, monkeypatch, capsys):
    """A tree ~1000 folders deep: os.walk (recursive before Python 3.12) raised RecursionError, a traceback, then one
    error line that ended the whole run (exit 2) with the file and the folder given beside it never answered. Now
    that folder is an error record, the others are answered, and the exit code is an unreadable input's (1). (A real
    tree of 1900 levels took a walk of 15 s to find too deep, when each level's path was resolved whole: its
    RecursionError is raised here.)"""
    from braintumor import input_plan

    image = tmp_path / "a.png"
    image.write_bytes(encode(synthetic_head(), "PNG"))
    deep, other = tmp_path / "deep", tmp_path / "other"
    for folder in (deep, other):
        folder.mkdir()
        (folder / "b.png").write_bytes(image.read_bytes())
    walk = input_plan.walk_images

    def too_deep(folder, *args, **kwargs):
        if folder == deep:
            raise RecursionError("maximum recursion depth exceeded")
        return walk(folder, *args, **kwargs)

    monkeypatch.setattr(input_plan, "walk_images", too_deep)
    rc, out, err = run_cli(["predict", str(image), str(deep), str(other), "--format", "jsonl"], capsys)
    records = [json.loads(line) for line in out.splitlines()]
    assert [r["path"] for r in records] == [str(image), str(deep), str(other / "b.png")]
    assert records[1] == {"path": str(deep), "error": "folders nested too deep to walk (about 1000 levels)"}
    assert "label" in records[0] and "label" in records[2]
    assert rc == 1 and err.endswith("1 unreadable input\n")


def test_an_input_name_too_long_for_a_file_is_its_own_error_record(tmp_path, capsys):
    """``predict <a 300-byte name> a.png`` (a name from a broken list, or ``-``'s): Path.is_file raised 'File name too
    long' in the checks before any work, and the run ended (exit 2) with a.png unanswered."""
    image = tmp_path / "a.png"
    image.write_bytes(encode(synthetic_head(), "PNG"))
    long = str(tmp_path / ("x" * 300 + ".png"))
    for extra in ([], ["--workers", "2"]):
        rc, out, err = run_cli(["predict", long, str(image), "--format", "jsonl", *extra], capsys)
        records = [json.loads(line) for line in out.splitlines()]
        assert records[0] == {"path": long, "error": f"not a file name: {len(long)} characters ({long[:20]}...), "
                                                     "longer than any file name"}, extra
        assert records[1]["path"] == str(image) and "label" in records[1]
        assert rc == 1, err


def test_the_export_command_a_checkpoint_is_told_to_run_can_be_pasted(tmp_path, capsys):
    """'export it first (braintumor export my run/best.pt --out model.onnx)' was two arguments when pasted, and a name
    starting with '-' an option: the name is shell-quoted (./-name), as the zip note's command is."""
    import zipfile

    for name in ("my run/best.pt", "-best.pt"):
        path = tmp_path / name
        path.parent.mkdir(exist_ok=True)
        with zipfile.ZipFile(path, "w") as zf:  # what torch.save writes: members under one folder, its data.pkl
            zf.writestr("best/data.pkl", b"\x80\x02}q\x00.")
            zf.writestr("best/version", b"3\n")
        word = f"'{path}'" if " " in name else str(path)  # an absolute path starts with '/', never '-'
        rc, out, _ = run_cli(["predict", str(path), "--format", "jsonl"], capsys)
        assert rc == 1 and f"export it first (braintumor export {word} --out model.onnx)" in json.loads(out)["error"]
    rc, out, err = run_cli(["predict", "x.jpg", "--model", str(tmp_path / "my run/best.pt")], capsys)
    assert rc == 2 and f"export it first (braintumor export '{tmp_path}/my run/best.pt' --out model.onnx)" in err
    from braintumor.wording import export_first_text

    assert export_first_text("-best.pt") == "export it first (braintumor export ./-best.pt --out model.onnx)"


def test_a_checkpoint_whose_name_cannot_be_shown_is_told_no_command_to_paste():
    """A name with an escape or a newline was put into 'braintumor export ...' shown escaped, a command naming no file
    when pasted: as the zip note, it is told what to do without one."""
    from braintumor.wording import export_first_text

    for name in ("run\x1b[2J/best.pt", "run\n/best.pt", "run\udcff/best.pt"):
        said = export_first_text(name)
        assert "braintumor export" in said and "(braintumor export" not in said and name not in said, said
        assert "no command to copy" in said and "--out model.onnx" in said, said
    assert export_first_text("rün/best.pt") == "export it first (braintumor export 'rün/best.pt' --out model.onnx)"


def test_a_note_starting_like_a_formula_is_guarded_as_the_pages_csv_guards_it_and_read_back(tmp_path):
    """The page's CSV download (static/text.js) gave a note starting like a formula its ', as the path and error; the
    CLI's csv_row, which it mirrors, wrote the note bare, and --resume did not take a ' off it."""
    from pathlib import Path

    from braintumor.csv_records import CsvRows, csv_columns, csv_row
    from braintumor.resume_records import parse_record

    classes = ("glioma", "pituitary")
    rec = {"path": "@a.jpg", "label": "glioma", "confidence": 0.6, "probabilities": {"glioma": 0.6, "pituitary": 0.4},
           "ood": False, "ood_score": 0.5, "review": True, "note": "=1+1"}
    row = csv_row(rec, classes)
    assert row[0] == "'@a.jpg" and row[-1] == "'=1+1"
    out = io.StringIO()
    CsvRows(out).writerow(row)
    back = parse_record(out.getvalue().encode(), 2, "csv", csv_columns(classes), Path("r.csv"))
    assert back["path"] == "@a.jpg" and back["note"] == "=1+1"
