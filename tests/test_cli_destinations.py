"""Where the CLI writes: destinations refused before any work, outputs onto inputs, I/O and permission errors."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from cli_runner import run_cli
from conftest import REPO, needs_torch
from PIL import Image


def test_a_destination_that_cannot_be_written_is_refused_before_any_work(tmp_path, capsys):
    afile, adir = tmp_path / "afile", tmp_path / "adir"
    afile.write_text("x")
    adir.mkdir()
    nope = str(tmp_path / "nope")  # no model, run or dataset there: the destination is checked first
    cases = [
        (["predict", "x.jpg", "--model", nope, "-o", str(adir)], f"-o {adir} is a folder; -o takes a file name"),
        (["predict", "x.jpg", "--model", nope, "--heatmap", str(afile)],
         f"--heatmap {afile} is a file; --heatmap takes a folder"),
        (["predict", "x.jpg", "--model", nope, "-o", str(afile / "r.csv")],
         f"cannot write -o {afile / 'r.csv'}: {afile} is a file, not a folder"),
        (["evaluate", "--model", nope, "--data", nope, "--out", str(afile)],
         f"--out {afile} is a file; --out takes a folder"),
        (["train", "--data", nope, "--out", str(afile / "run")],
         f"cannot write --out {afile / 'run'}: {afile} is a file, not a folder"),
        (["export", nope, "--out", str(adir)], f"--out {adir} is a folder; --out takes a file name"),
        (["quantize", nope, "--run", nope, "--out", str(adir)], f"--out {adir} is a folder; --out takes a file name"),
        (["data", "audit", "--data", nope, "--out", str(adir)], f"--out {adir} is a folder; --out takes a file name"),
        (["data", "download", "--dest", str(afile)], f"--dest {afile} is a file; --dest takes a folder"),
        (["predict", "x.jpg", "--model", nope, "-o", str(tmp_path / "r.csv"), "--heatmap", str(tmp_path / "r.csv")],
         f"-o {tmp_path / 'r.csv'} and --heatmap {tmp_path / 'r.csv'} name the same path: give each its own"),
    ]
    for argv, message in cases:
        rc, out, err = run_cli(argv, capsys)
        assert (rc, out, err) == (2, "", f"error: {message}\n"), argv
    assert sorted(p.name for p in tmp_path.iterdir()) == ["adir", "afile"] and not list(adir.iterdir())


@pytest.mark.parametrize("name", ["metrics.json", "report.HTML", "predictions.csv", "roc.png"])
def test_an_evaluate_out_named_as_a_file_it_writes_is_refused_unless_that_folder_exists(tmp_path, capsys, name):
    """``evaluate --out metrics.json`` made a folder named metrics.json (its files inside), as ``data audit --out
    dir/`` would have made a file named dir; an existing folder of that name is still taken."""
    nope, out = str(tmp_path / "nope"), tmp_path / name  # no model or dataset there: the destination is checked first
    rc, stdout, err = run_cli(["evaluate", "--model", nope, "--data", nope, "--out", str(out)], capsys)
    ending = out.suffix.lower()
    assert (rc, stdout, err) == (2, "", f"error: --out {out} ends with {ending}, as a file evaluate writes does; "
                                        f"--out takes the folder to write its files into: name it "
                                        f"{tmp_path / out.stem} (or make the folder {out} first)\n")
    assert not out.exists()
    out.mkdir()
    rc, _, err = run_cli(["evaluate", "--model", nope, "--data", nope, "--out", str(out)], capsys)
    assert rc == 2 and "--out" not in err  # past the destination: the missing model is what is told


PREDICT, TRAIN, EVALUATE = ["predict", "x.jpg", "--model", "NOPE"], ["train", "--data", "NOPE"], \
    ["evaluate", "--model", "NOPE", "--data", "NOPE"]


@pytest.mark.parametrize(("command", "flag", "name", "ending", "what"), [
    (PREDICT, "--heatmap", "maps.png", ".png", "an image"),
    (PREDICT, "--heatmap", "maps.nii.gz", ".nii.gz", "a NIfTI volume"),
    (TRAIN, "--out", "run.json", ".json", "a JSON file"),
    (TRAIN, "--out", "run.pt", ".pt", "a PyTorch checkpoint"),
    (EVALUATE, "--out", "eval.onnx", ".onnx", "an ONNX model"),
    (EVALUATE, "--out", "eval.jsonl", ".jsonl", "a JSON lines file"),
    (["data", "download"], "--dest", "dataset.csv", ".csv", "a CSV file"),
])
def test_a_folder_option_named_as_a_file_is_refused_unless_that_folder_exists(tmp_path, capsys, command, flag, name,
                                                                               ending, what):
    """``predict --heatmap maps.png`` made a folder named maps.png (the overlays inside), ``train --out run.json`` a
    run folder named so: every folder option named with an ending of a file the CLI writes or reads is a usage error
    that suggests a name, and a folder already there of that name is still taken."""
    out = tmp_path / name  # no model or dataset at NOPE: the destination is checked first
    argv = [str(tmp_path / "nope") if word == "NOPE" else word for word in command] + [flag, str(out)]
    rc, stdout, err = run_cli(argv, capsys)
    assert (rc, stdout, err) == (2, "", f"error: {flag} {out} ends with {ending}, as {what} does; {flag} takes the "
                                        f"folder to write its files into: name it {tmp_path / name[:-len(ending)]} "
                                        f"(or make the folder {out} first)\n")
    assert not out.exists()
    if command in (PREDICT, EVALUATE):  # those go on to the missing model or dataset, which is told instead
        out.mkdir()
        rc, _, err = run_cli(argv, capsys)
        assert rc == 2 and "ends with" not in err and "nope" in err


@pytest.mark.parametrize(("name", "what"), [(".gif", "a GIF image"), (".png", "an image")])
def test_a_folder_option_named_as_an_ending_alone_is_a_usage_error(tmp_path, capsys, name, what):
    """``--heatmap .gif`` (an ending alone, no Path suffix) ended in a KeyError traceback: the GIF ending was looked up
    by Path's suffix, which is empty for a dot name; now refused as ``--heatmap .png`` is, a name suggested."""
    out, suggested = tmp_path / name, tmp_path / name.replace(".", "_")
    rc, stdout, err = run_cli([*PREDICT[:-1], str(tmp_path / "nope"), "--heatmap", str(out)], capsys)
    assert (rc, stdout, err) == (2, "", f"error: --heatmap {out} ends with {name}, as {what} does; --heatmap takes "
                                        f"the folder to write its files into: name it {suggested} "
                                        f"(or make the folder {out} first)\n")


@pytest.mark.parametrize(("command", "flag", "name"), [(PREDICT, "--heatmap", "maps.png/"),
                                                     (EVALUATE, "--out", "eval.json/"),
                                                     (EVALUATE, "--out", "metrics.json/")])
def test_a_folder_option_named_with_a_final_slash_is_taken_whatever_its_ending(tmp_path, capsys, command, flag, name):
    """``--out eval.json/`` is written as a folder: it was refused with a suggestion cut one letter short ("name it
    eval.", the slash counted in the ending) while ``--heatmap maps.png/`` was taken; both are taken now."""
    argv = [str(tmp_path / "nope") if word == "NOPE" else word for word in command] + [flag, f"{tmp_path}/{name}"]
    rc, _, err = run_cli(argv, capsys)
    assert rc == 2 and "ends with" not in err and "nope" in err  # past the destination: the missing input is told


def test_a_file_output_in_a_missing_folder_is_refused_and_a_folder_output_is_made(tmp_path, capsys):
    """``predict ... -o /nonexistent/dir/x.csv`` made the folders of a mistyped path and wrote there; now a file
    output (-o, and export's, quantize's and data audit's --out) goes into a folder that exists, or is refused before
    any work, as shell redirection and most tools refuse it. A folder output (--heatmap, evaluate's and train's --out,
    --dest) is what the command makes: its missing parents are made with it, as before (``--out runs/NAME`` in a
    fresh clone, where runs/ is not yet there)."""
    from braintumor.cli_checks import check_destination

    nope, missing = str(tmp_path / "nope"), tmp_path / "no" / "dir"
    cases = [
        (["predict", "x.jpg", "--model", nope, "-o", str(missing / "x.csv")], "-o"),
        (["export", nope, "--out", str(missing / "m.onnx")], "--out"),
        (["quantize", nope, "--run", nope, "--out", str(missing / "m.onnx")], "--out"),
        (["data", "audit", "--data", nope, "--out", str(missing / "audit.json")], "--out"),
    ]
    for argv, flag in cases:
        rc, out, err = run_cli(argv, capsys)
        assert (rc, out, err) == (2, "", f"error: cannot write {flag} {argv[-1]}: there is no folder {missing} "
                                         f"({flag} makes no folders: create it first, or correct the path)\n"), argv
    link = tmp_path / "link.csv"  # a link's target is written: its folder must exist
    link.symlink_to(tmp_path / "gone" / "r.csv")
    rc, _, err = run_cli(["predict", "x.jpg", "--model", nope, "-o", str(link)], capsys)
    assert rc == 2 and f"there is no folder {tmp_path / 'gone'} " in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["link.csv"]  # nothing made
    for flag in ("--heatmap", "--out", "--dest"):
        check_destination(flag, str(missing / "maps"), folder=True)  # no error: made when written
    missing.mkdir(parents=True)
    check_destination("-o", str(missing / "x.csv"), folder=False)


def test_a_pipe_given_as_an_output_folder_is_named_as_such(tmp_path, capsys):
    """``evaluate --out FIFO`` (and ``-o FIFO/r.csv``, ``evaluate --run FIFO``, ``train --cache-dir FIFO``) was told
    the FIFO "is a file"."""
    import os

    pipe, nope = tmp_path / "pipe", str(tmp_path / "nope")
    os.mkfifo(pipe)
    cases = [
        (["evaluate", "--model", nope, "--data", nope, "--out", str(pipe)],
         f"--out {pipe} is a named pipe (FIFO); --out takes a folder"),
        (["predict", "x.jpg", "--model", nope, "-o", str(pipe / "r.csv")],
         f"cannot write -o {pipe / 'r.csv'}: {pipe} is a named pipe (FIFO), not a folder"),
        (["evaluate", "--model", nope, "--data", nope, "--out", str(tmp_path / "ev"), "--run", str(pipe)],
         f"--run {pipe} is a named pipe (FIFO): --run takes the training run's folder, whose log draws the curves"),
    ]
    for argv, message in cases:
        rc, out, err = run_cli(argv, capsys)
        assert (rc, out, err) == (2, "", f"error: {message}\n"), argv



def test_a_folder_or_pipe_at_a_name_evaluate_writes_in_out_is_refused_before_the_work(tmp_path, capsys):
    """A folder OUT/roc.png (or a FIFO OUT/predictions.csv) was found when the files moved into ``--out OUT``, after
    every image was scored and every figure drawn, and said as "error: Is a directory: OUT/roc.png"."""
    import os

    out, nope = tmp_path / "out", str(tmp_path / "nope")  # no model, no data: the check comes before either
    (out / "roc.png").mkdir(parents=True)
    os.mkfifo(out / "predictions.csv")
    for name, kind in (("predictions.csv", "a named pipe (FIFO)"), ("roc.png", "a folder")):  # in the order written
        rc, stdout, err = run_cli(["evaluate", "--model", nope, "--data", nope, "--out", str(out)], capsys)
        assert (rc, stdout, err) == (2, "", f"error: cannot write --out {out}: {out / name} is {kind}, not the file "
                                            f"{name} it would write there: move it aside, or choose another --out\n")
        (out / name).rmdir() if name == "roc.png" else (out / name).unlink()
    assert not any(out.iterdir())

@needs_torch
def test_a_pipe_given_as_the_cache_folder_is_named_as_such(tmp_path, capsys):
    import os

    pipe, nope = tmp_path / "pipe", str(tmp_path / "nope")
    os.mkfifo(pipe)
    rc, out, err = run_cli(["train", "--data", nope, "--out", str(tmp_path / "run"), "--cache-dir", str(pipe)], capsys)
    assert (rc, out, err) == (2, "", f"error: --cache-dir {pipe} is a named pipe (FIFO), not a folder: nothing could "
                                     "be cached in it; name a folder (made if missing)\n")


@needs_torch  # train's check of --cache-dir comes after its torch check
def test_a_cache_folder_named_as_a_file_is_refused_unless_that_folder_exists(tmp_path, capsys):
    """``train --cache-dir cache.json`` made a folder named cache.json, as ``--out run.json`` did: the same usage
    error, before any work; a folder already there of that name is still taken (the missing dataset is told)."""
    cache, nope = tmp_path / "cache.json", str(tmp_path / "nope")
    argv = ["train", "--data", nope, "--out", str(tmp_path / "run"), "--cache-dir", str(cache)]
    rc, out, err = run_cli(argv, capsys)
    assert (rc, out, err) == (2, "", f"error: --cache-dir {cache} ends with .json, as a JSON file does; --cache-dir "
                                     f"takes the folder to write its files into: name it {tmp_path / 'cache'} (or "
                                     f"make the folder {cache} first)\n")
    assert not cache.exists()
    cache.mkdir()
    rc, _, err = run_cli(argv, capsys)
    assert rc == 2 and "ends with" not in err and "nope" in err


def test_an_output_that_is_one_of_the_inputs_is_refused(tmp_path, capsys):
    """``predict scan.jpg -o scan.jpg`` (or ``-o *.jpg`` expanded by the shell) replaced the scan with the results."""
    scan, other = tmp_path / "scan.jpg", tmp_path / "other.jpg"
    scan.write_bytes(b"\xff\xd8\xff scan bytes")
    other.write_bytes(b"\xff\xd8\xff other bytes")
    (tmp_path / "link.jpg").symlink_to(scan)
    for target in (scan, tmp_path / "link.jpg"):
        rc, out, err = run_cli(["predict", str(other), str(scan), "-o", str(target)], capsys)
        assert (rc, out) == (2, "") and err == (f"error: -o {target} is one of the inputs; writing it would "
                                                "overwrite that file: choose another name\n")
    assert scan.read_bytes() == b"\xff\xd8\xff scan bytes" and other.read_bytes() == b"\xff\xd8\xff other bytes"


def test_an_output_that_is_an_image_or_scan_by_its_content_is_refused(tmp_path, capsys):
    """An existing picture whose name says nothing was replaced with the records: ``-o IM0001`` (a DICOM file without
    an ending), ``predict DIR -o DIR/scan`` (an image without an ending, which the folder's walk does not read) and
    ``predict DIR -o link`` (a link into DIR, whose image gets what the link is given)."""
    folder = tmp_path / "in"
    folder.mkdir()
    image, bare, dicom = folder / "x.jpg", folder / "scan", tmp_path / "IM0001"
    image.write_bytes(b"\xff\xd8\xff image bytes")
    bare.write_bytes(b"\x89PNG\r\n\x1a\n image bytes")
    dicom.write_bytes(bytes(128) + b"DICM" + bytes(64))
    (tmp_path / "link").symlink_to(image)
    notes = tmp_path / "notes"
    notes.write_text("BMW notes, to be replaced\n")  # text that begins as a BMP's signature does is no BMP
    for target, what in ((dicom, "a DICOM file"), (bare, "a PNG image"), (tmp_path / "link", "a JPEG image")):
        rc, out, err = run_cli(["predict", str(folder), "--model", str(tmp_path / "nope"), "-o", str(target)], capsys)
        assert (rc, out, err) == (2, "", f"error: -o {target} is {what} (by its content), not an output: writing "
                                         "it would replace that file: choose another name\n")
    assert image.read_bytes() == b"\xff\xd8\xff image bytes" and bare.read_bytes().startswith(b"\x89PNG")
    assert dicom.read_bytes()[128:132] == b"DICM"
    rc, out, err = run_cli(["predict", str(folder), "--model", str(tmp_path / "nope"), "-o", str(notes)], capsys)
    assert rc == 2 and "by its content" not in err and "nope" in err  # refused for the missing model alone


def test_an_io_error_mid_run_is_one_line_and_leaves_no_file(tmp_path, capsys, monkeypatch):
    import errno

    import braintumor.predict_cli as pc

    target = tmp_path / "out" / "results.csv"
    target.parent.mkdir()

    def disk_full(*a, **k):
        yield {"path": "a.jpg", "error": "x"}
        raise OSError(errno.ENOSPC, "No space left on device", str(target))

    monkeypatch.setattr(pc, "records", disk_full)
    rc, out, err = run_cli(["predict", "a.jpg", "-o", str(target)], capsys)
    assert (rc, out, err) == (1, "", f"error: No space left on device: {target}\n")
    assert list((tmp_path / "out").iterdir()) == []

    def write_failed(*a, **k):  # a failed write() names no file: the output being written is named instead
        yield {"path": "a.jpg", "error": "x"}
        raise OSError(errno.EFBIG, "File too large")

    monkeypatch.setattr(pc, "records", write_failed)
    rc, out, err = run_cli(["predict", "a.jpg", "-o", str(target)], capsys)
    assert (rc, out, err) == (1, "", f"error: File too large (writing {target})\n")


def test_a_write_the_disk_refuses_only_when_synced_leaves_no_file(tmp_path, capsys, monkeypatch):
    """-o FILE was renamed into place without an fsync: a write the disk refused only then (a full or failing disk,
    an NFS server's quota) was never seen, the run said it was done, and FILE was left empty or cut short; so could a
    power cut right after the run."""
    import errno

    import braintumor.predict_cli as pc

    target = tmp_path / "out" / "results.csv"
    target.parent.mkdir()
    monkeypatch.setattr(pc, "records", lambda *a, **k: iter([{"path": "a.jpg", "error": "x"}]))

    def refused(fd: int) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", refused)
    rc, out, err = run_cli(["predict", "a.jpg", "-o", str(target)], capsys)
    assert (rc, out, err) == (1, "", f"error: No space left on device (writing {target})\n")
    assert list(target.parent.iterdir()) == []

    def cannot_sync(fd: int) -> None:  # a file system that has no fsync: the file is written as before
        raise OSError(errno.EINVAL, "Invalid argument")

    monkeypatch.setattr(os, "fsync", cannot_sync)
    rc, out, err = run_cli(["predict", "a.jpg", "-o", str(target)], capsys)
    assert rc == 1 and "error: x" not in err and target.read_text().startswith("path,")


def test_an_output_folder_removed_during_the_run_is_the_machine_s_failure_naming_the_output(tmp_path, capsys,
                                                                                           monkeypatch):
    """Another user's clean-up removed -o's folder while predict ran: it said 'No such file or directory:
    .results.csv.1a2b3c4d', a hidden name nobody typed, with exit code 2, as if the command line were wrong."""
    import shutil

    import braintumor.predict_cli as pc

    target = tmp_path / "out" / "results.csv"
    target.parent.mkdir()

    def folder_removed(*a, **k):
        yield {"path": "a.jpg", "error": "x"}
        shutil.rmtree(target.parent)

    monkeypatch.setattr(pc, "records", folder_removed)
    rc, out, err = run_cli(["predict", "a.jpg", "-o", str(target)], capsys)
    assert (rc, out, err) == (1, "", f"error: No such file or directory (its folder was removed during the run): "
                                     f"{target}\n")
    assert list(tmp_path.iterdir()) == []


def test_permissions_are_checked_where_the_output_is_written(tmp_path, capsys, monkeypatch):
    """A regular file is written beside its target and moved over it: its folder must be writable. A device or
    FIFO (-o /dev/null) is written through: only it must be (as a non-root user /dev itself is not)."""
    import braintumor.cli_checks as checks

    writable = {"/dev/null"}
    monkeypatch.setattr(checks.os, "access", lambda p, mode: str(p) in writable)
    nope = str(tmp_path / "nope.onnx")
    rc, _, err = run_cli(["predict", "x.jpg", "--model", nope, "-o", str(tmp_path / "r.csv")], capsys)
    assert (rc, err) == (2, f"error: cannot write -o {tmp_path / 'r.csv'}: no permission to write in {tmp_path}\n")
    rc, _, err = run_cli(["predict", "x.jpg", "--model", nope, "-o", "/dev/null"], capsys)
    assert rc == 2 and "model file not found" in err  # past the destination check
    writable.clear()
    rc, _, err = run_cli(["predict", "x.jpg", "--model", nope, "-o", "/dev/null"], capsys)
    assert (rc, err) == (2, "error: cannot write -o /dev/null: no permission\n")


@pytest.mark.skipif(not hasattr(os, "statvfs"), reason="no statvfs (Windows)")
def test_a_read_only_file_system_is_named_not_said_to_lack_permission(tmp_path, capsys, monkeypatch):
    """--out in a read-only mount said "no permission to write in" a folder whose permissions allow writing (chmod
    cannot help there): the file system is named instead."""
    import braintumor.cli_checks as checks

    real = os.statvfs
    monkeypatch.setattr(checks.os, "access", lambda p, mode: False)
    monkeypatch.setattr(checks.os, "statvfs", lambda p: type("V", (), {"f_flag": real(p).f_flag | os.ST_RDONLY})())
    rc, _, err = run_cli(["train", "--data", str(tmp_path / "d"), "--out", str(tmp_path / "run")], capsys)
    assert (rc, err) == (2, f"error: cannot write --out {tmp_path / 'run'}: {tmp_path} is on a read-only file "
                            "system\n")


@pytest.mark.parametrize("resume", [False, True])
def test_a_link_into_a_folder_that_cannot_be_written_is_refused_before_work(tmp_path, capsys, monkeypatch, resume):
    """-o LINK, a link into a folder without write permission (a shared results file's): its permission was asked of
    the link's folder, and the run failed on the target's with "error: Permission denied: .../x.csv", exit status 1."""
    import braintumor.cli_checks as checks

    (tmp_path / "kept").mkdir()
    (tmp_path / "r.csv").symlink_to(tmp_path / "kept" / "x.csv")
    monkeypatch.setattr(checks.os, "access", lambda p, mode: Path(p).name != "kept")
    nope = str(tmp_path / "nope.onnx")
    rc, _, err = run_cli(["predict", "x.jpg", "--model", nope, "-o", str(tmp_path / "r.csv"),
                          *(["--resume"] if resume else [])], capsys)
    assert (rc, err) == (2, f"error: cannot write -o {tmp_path / 'r.csv'}: no permission to write in "
                            f"{tmp_path / 'kept'}\n")


def test_a_read_only_output_file_is_refused_not_replaced(tmp_path, capsys, monkeypatch):
    """A results file made read-only (chmod a-w) to keep it was replaced by the next run with the same -o: the file is
    written beside it and moved over it, which asks only its folder's permission (as a shell's > would not)."""
    import os

    import braintumor.cli_checks as checks

    kept = tmp_path / "kept.csv"
    kept.write_text("results to keep\n")
    real_access = os.access
    monkeypatch.setattr(checks.os, "access", lambda p, mode: str(p) != str(kept) and real_access(p, mode))
    _refused_as_read_only(kept, tmp_path, capsys)
    assert kept.read_text() == "results to keep\n"


def test_a_report_onto_an_image_of_the_dataset_it_audits_is_refused(tmp_path, capsys):
    """``data audit --out ROOT/Testing/glioma/x.jpg`` replaced that image with the JSON report (predict refused the
    same of its input folders, but a dataset was not counted as one); an image-named new file there would be read as
    a broken image by every later command."""
    image = tmp_path / "ds" / "Testing" / "glioma" / "x.jpg"
    image.parent.mkdir(parents=True)
    image.write_bytes(b"\xff\xd8\xff image bytes")
    data = str(tmp_path / "ds")
    rc, out, err = run_cli(["data", "audit", "--data", data, "--out", str(image)], capsys)
    assert (rc, out, err) == (2, "", f"error: --out {image} is one of the inputs; writing it would overwrite that "
                                     "file: choose another name\n")
    assert image.read_bytes() == b"\xff\xd8\xff image bytes"
    new = image.parent / "report.png"
    rc, out, err = run_cli(["data", "audit", "--data", data, "--out", str(new)], capsys)
    assert (rc, out, err) == (2, "", f"error: --out {new} is inside the dataset {data}, where later runs would read "
                                     "it as an input: choose a name outside it\n")
    assert sorted(p.name for p in image.parent.iterdir()) == ["x.jpg"]


@pytest.mark.parametrize("where", ["Testing/glioma/a.json", "Training/pituitary/a.json", "glioma/a.json"])
def test_a_report_file_inside_the_dataset_it_audits_is_refused(tmp_path, capsys, where):
    """``data audit --out ROOT/Testing/glioma/a.json`` was accepted (only a folder output, or an image-named file, was
    checked against the dataset): every later audit listed the report among the files not read as images. One beside
    the class folders (ROOT/Testing/a.json) is listed nowhere, and stays allowed."""
    from PIL import Image

    root = tmp_path / "ds"
    for folder in (["glioma"] if where.startswith("glioma") else ["Testing/glioma", "Training/pituitary"]):
        (root / folder).mkdir(parents=True)
        Image.new("L", (64, 64), 7).save(root / folder / "x.png")
    data, out = str(root), root / where
    rc, said, err = run_cli(["data", "audit", "--data", data, "--out", str(out), "--no-progress"], capsys)
    assert (rc, said, err) == (2, "", f"error: --out {out} is inside the dataset {data}, where later runs would list "
                                      "it among the files not read as images: choose a name outside it\n")
    assert not out.exists()
    if not where.startswith("glioma"):
        beside = root / "Testing" / "a.json"
        assert run_cli(["data", "audit", "--data", data, "--out", str(beside), "--no-progress"], capsys)[0] == 0
        rc, said, _ = run_cli(["data", "audit", "--data", data, "--no-progress"], capsys)
        assert rc == 0 and beside.is_file() and "a.json" not in said


def test_an_output_that_is_a_symbolic_link_is_written_where_it_points(tmp_path, capsys):
    """``-o link`` (``-o /dev/stdout`` with standard output redirected to a file is one: as root it replaced the
    machine's /dev/stdout) swapped the link for a regular file, and the file it led to never got the results. Now
    the link stays and its target is written, whole or not at all: by predict, by a --resume that repairs a cut
    line first, and by an --out of data audit."""
    import json

    from conftest import encode, synthetic_head

    from braintumor.model_files import default_model_path

    image = tmp_path / "scan.png"
    image.write_bytes(encode(synthetic_head(seed=0)))
    (tmp_path / "real").mkdir()
    link = tmp_path / "r.jsonl"
    link.symlink_to(tmp_path / "real" / "r.jsonl")
    if default_model_path().exists():
        assert run_cli(["predict", str(image), "-o", str(link)], capsys)[0] == 0
        assert link.is_symlink() and json.loads(link.read_text())["path"] == str(image)
        with open(link, "a") as fh:
            fh.write('{"path": "cut sh')  # an interrupted run's last line
        rc, _, err = run_cli(["predict", str(image), "-o", str(link), "--resume"], capsys)
        assert rc == 0 and "dropping an incomplete last line" in err
        assert link.is_symlink() and len(link.read_text().splitlines()) == 1
    for k, cls in enumerate(("glioma", "meningioma", "notumor", "pituitary")):
        (tmp_path / "ds" / "Testing" / cls).mkdir(parents=True)
        (tmp_path / "ds" / "Testing" / cls / "x.png").write_bytes(encode(synthetic_head(seed=k + 1)))
    report = tmp_path / "audit.json"
    report.symlink_to(tmp_path / "real" / "audit.json")
    assert run_cli(["data", "audit", "--data", str(tmp_path / "ds"), "--out", str(report)], capsys)[0] == 0
    assert report.is_symlink() and json.loads(report.read_text())["root"] == str(tmp_path / "ds")
    assert sorted(p.name for p in (tmp_path / "real").iterdir()) == ["audit.json", "r.jsonl"]


def test_an_output_that_is_a_symbolic_link_loop_is_refused_before_any_work(tmp_path, capsys):
    """``-o loop`` (a link leading back to itself) was replaced by a regular file, the link gone without a word;
    ``--heatmap loop`` (or ``loop/maps``) ended after the work with ``error: File exists: loop``, exit status 1."""
    (tmp_path / "a").symlink_to(tmp_path / "b")
    (tmp_path / "b").symlink_to(tmp_path / "a")
    nope = str(tmp_path / "nope")  # no model there: the destination is checked first
    loop = tmp_path / "a"
    for flag, raw in (("-o", loop), ("--heatmap", loop), ("--heatmap", loop / "maps"), ("-o", loop / "r.csv")):
        rc, out, err = run_cli(["predict", "x.jpg", "--model", nope, flag, str(raw)], capsys)
        assert (rc, out) == (2, "") and err == f"error: cannot write {flag} {raw}: {loop} is a symbolic link loop, " \
            "leading to no file or folder: remove it, or choose another name\n"
    assert loop.is_symlink() and sorted(p.name for p in tmp_path.iterdir()) == ["a", "b"]


def test_a_name_too_long_for_the_file_system_is_refused_before_any_work(tmp_path, capsys):
    """A 300-byte -o or --out ran the whole job and then ended in 'File name too long' (exit 1); a 250-byte audit
    --out, legal itself, failed on its temporary name ('.NAME.PID.tmp', 5 bytes over), which it named."""
    nope = str(tmp_path / "nope")
    long = "x" * 300
    to_file, to_folder = tmp_path / f"{long}.csv", tmp_path / long / "ev"
    for argv, said in ((["predict", "x.jpg", "--model", nope, "-o", str(to_file)],
                        f"-o {to_file}: a name in it is 304"),
                       (["evaluate", "--model", nope, "--data", nope, "--out", str(to_folder)],
                        f"--out {to_folder}: a name in it is 300")):
        rc, out, err = run_cli(argv, capsys)
        assert (rc, out, err) == (2, "", f"error: cannot write {said} bytes long, over the 255 its file system takes\n")
    from braintumor.report import write_text_atomic

    legal = tmp_path / ("y" * 250 + ".json")
    write_text_atomic(legal, "{}\n")
    assert legal.read_text() == "{}\n" and sorted(p.name for p in tmp_path.iterdir()) == [legal.name]


def test_a_report_to_a_device_makes_no_temporary_file_beside_it(tmp_path, monkeypatch):
    """``data audit --out /dev/null`` wrote a temporary file in /dev first, which only root may: anyone else was told
    'Permission denied' for an output the destination check had passed."""
    import os

    import braintumor.atomic_files as atomic_files
    import braintumor.report as report

    def no_permission(target):
        raise PermissionError(13, "Permission denied", str(target))

    monkeypatch.setattr(atomic_files, "temp_beside", no_permission)
    assert report.write_text_atomic(os.devnull, "{}\n") == report.Path(os.devnull)


def test_a_folder_that_takes_no_new_files_is_said_so_not_no_such_file(tmp_path, capsys, monkeypatch):
    """``predict x.jpg -o /proc/version`` said 'No such file or directory: /proc/version' of a file that is there:
    /proc's file system answers so to any new file (the temporary one beside it). Now it says the folder takes no new
    files, for -o and for --heatmap's folder; /dev/null stays written through."""
    import errno
    import os

    from conftest import encode, synthetic_head

    image = tmp_path / "x.png"
    image.write_bytes(encode(synthetic_head(), "PNG"))
    shut, real_open = tmp_path / "shut", os.open
    shut.mkdir()
    (shut / "version").write_text("v")

    def no_entries(path, *args, **kwargs):  # as /proc answers a new file, whoever asks
        if os.path.dirname(path) == str(shut):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", path)
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr("braintumor.atomic_files.os.open", no_entries)
    real_append = open

    def no_appends(path, *args, **kwargs):  # predict --resume appends to -o
        if os.path.dirname(path) == str(shut):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))
        return real_append(path, *args, **kwargs)

    monkeypatch.setattr("braintumor.record_files.open", no_appends, raising=False)
    for target, replaced, resume in ((shut / "version", "it cannot be replaced: ", []), (shut / "r.csv", "", []),
                                     (shut / "r.jsonl", "", ["--resume"])):
        rc, out, err = run_cli(["predict", str(image), "-o", str(target), *resume], capsys)
        assert (rc, out, err) == (2, "", f"error: cannot write {target}: {replaced}no file can be made in {shut} (its "
                                         "file system takes no new files, as /proc's does): write it in another "
                                         "folder\n")
    assert sorted(p.name for p in shut.iterdir()) == ["version"]
    monkeypatch.undo()
    if os.geteuid() == 0 and os.path.isfile("/proc/version"):  # the real thing, where root may try to write there
        rc, _, err = run_cli(["predict", str(image), "-o", "/proc/version"], capsys)
        assert (rc, err) == (2, "error: cannot write /proc/version: it cannot be replaced: no file can be made in "
                                "/proc (its file system takes no new files, as /proc's does): write it in another "
                                "folder\n")
        rc, _, err = run_cli(["predict", str(image), "-o", "/proc/r.jsonl", "--resume"], capsys)
        assert (rc, err) == (2, "error: cannot write /proc/r.jsonl: no file can be made in /proc (its file system "
                                "takes no new files, as /proc's does): write it in another folder\n")
        rc, _, err = run_cli(["predict", str(image), "--heatmap", "/proc/maps/x"], capsys)
        assert (rc, err) == (2, "error: cannot write /proc/maps/x: no folder can be made in /proc (its file system "
                                "takes no new files, as /proc's does): write it in another folder\n")
    rc, out, err = run_cli(["predict", str(image), "-o", os.devnull], capsys)
    assert rc == 0 and out == "" and "1 scored" in err


def test_an_output_folder_that_cannot_be_made_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    """``evaluate --out /proc/e`` and ``train --out /proc/r`` said 'No such file or directory' (evaluate only after the
    whole evaluation, when it made its folder). Now both are refused first, in predict's words, and exit 2; a folder
    that can be made is left unmade by the check (made by the run, when it has something to write)."""
    import errno
    import os

    shut, real_mkdir = tmp_path / "shut", os.mkdir
    shut.mkdir()

    def no_entries(path, *args, **kwargs):  # as /proc answers a new folder, whoever asks
        if os.path.dirname(path) == str(shut):
            raise FileNotFoundError(errno.ENOENT, "No such file or directory", str(path))
        return real_mkdir(path, *args, **kwargs)

    monkeypatch.setattr("braintumor.atomic_files.os.mkdir", no_entries)
    monkeypatch.setattr("braintumor.atomic_files.os.open", no_entries)  # nor a file: `--out /proc` itself
    nope = str(tmp_path / "nope")  # no model or dataset there: the destination is checked first
    for argv, out, what in ((["evaluate", "--model", nope, "--data", nope, "--out"], shut / "e", "folder"),
                            (["train", "--data", nope, "--out"], shut / "r" / "deeper", "folder"),
                            (["evaluate", "--model", nope, "--data", nope, "--out"], shut, "file")):
        rc, printed, err = run_cli([*argv, str(out)], capsys)
        assert (rc, printed, err) == (2, "", f"error: cannot write {out}: no {what} can be made in {shut} (its "
                                             "file system takes no new files, as /proc's does): write it in another "
                                             "folder\n")
    assert list(shut.iterdir()) == []
    monkeypatch.undo()
    monkeypatch.setattr("braintumor.atomic_files.os.mkdir", no_entries)
    for out in (tmp_path / "new" / "eval", tmp_path):  # one to make, one to reuse: past the check, to the missing data
        rc, _, err = run_cli(["evaluate", "--model", nope, "--data", nope, "--out", str(out)], capsys)
        assert (rc, err) == (2, f"error: dataset folder not found: {nope}\n")
    assert not (tmp_path / "new").exists()  # the check's own folder is removed: a refused run leaves none
    monkeypatch.undo()
    if os.geteuid() == 0 and os.path.isdir("/proc/self"):  # the real thing, where root may try to make one there
        for command in (["evaluate", "--model", nope, "--data", nope], ["train", "--data", nope]):
            rc, _, err = run_cli([*command, "--out", "/proc/braintumor-out"], capsys)
            assert (rc, err) == (2, "error: cannot write /proc/braintumor-out: no folder can be made in /proc (its "
                                    "file system takes no new files, as /proc's does): write it in another folder\n")
        rc, _, err = run_cli(["evaluate", "--model", nope, "--data", nope, "--out", "/proc"], capsys)
        assert (rc, err) == (2, "error: cannot write /proc: no file can be made in /proc (its file system takes no "
                                "new files, as /proc's does): write it in another folder\n")


def test_a_file_kept_read_only_is_refused_whoever_runs_the_command(tmp_path, capsys):
    """As root (a container, CI, this project's machines) ``os.access`` grants a ``chmod a-w`` file, and the run
    replaced it, with a writable one: the test above mocks ``os.access``, so it passed all the same. The file's own
    mode now counts too, with no mock."""
    kept = tmp_path / "kept.csv"
    kept.write_text("results to keep\n")
    kept.chmod(0o444)
    _refused_as_read_only(kept, tmp_path, capsys)
    assert kept.read_text() == "results to keep\n" and kept.stat().st_mode & 0o777 == 0o444
    kept.chmod(0o644)  # writable by its owner: written as before
    rc, _, err = run_cli(["predict", "x.jpg", "--model", str(tmp_path / "nope.onnx"), "-o", str(kept)], capsys)
    assert rc == 2 and "model file not found" in err  # past the destination check


def _refused_as_read_only(kept, tmp_path, capsys) -> None:
    """``predict -o KEPT`` and ``data audit --out KEPT`` are usage errors that say KEPT is read-only."""
    nope = str(tmp_path / "nope.onnx")
    for argv, flag in [(["predict", "x.jpg", "--model", nope, "-o", str(kept)], "-o"),
                       (["data", "audit", "--data", str(tmp_path), "--out", str(kept)], "--out")]:
        rc, out, err = run_cli(argv, capsys)
        assert (rc, out, err) == (2, "", f"error: cannot write {flag} {kept}: it is read-only: make it writable (chmod "
                                         "u+w), or choose another name\n")


def test_predict_writing_from_a_folder_deleted_since_says_so_and_what_to_do(tmp_path):
    """predict -o into an absolute path from a folder deleted since (what serve says since this session): it said
    ``error: [Errno 2] No such file or directory``, naming nothing; a relative input there is told why it is not
    found; a command the missing folder does not stop (an absolute input, output on stdout) still runs."""
    gone = tmp_path / "gone"
    image = tmp_path / "a.png"
    Image.fromarray((np.arange(64 * 64) % 251).astype(np.uint8).reshape(64, 64)).save(image)

    def predict(*args: str) -> subprocess.CompletedProcess:
        gone.mkdir()
        code = (f"import os, sys; os.chdir({str(gone)!r}); os.rmdir({str(gone)!r}); from braintumor.cli import main; "
                f"sys.exit(main(['predict', *{list(args)!r}]))")
        env = {**os.environ, "PYTHONPATH": str(REPO / "src")}
        return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)

    done = predict(str(image), "-o", str(tmp_path / "out.csv"))
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.splitlines() == ["error: the current folder no longer exists (deleted or moved since the shell "
                                        "entered it): cd to a folder that exists, then run the command again"]
    assert not (tmp_path / "out.csv").exists()
    answered = predict(str(image), "--format", "jsonl")
    assert answered.returncode == 0 and json.loads(answered.stdout)["path"] == str(image), answered.stderr
    relative = predict("r.png", "--format", "jsonl")
    assert json.loads(relative.stdout)["error"].startswith("file not found: r.png (the current folder no longer exists")


def test_an_output_behind_a_folder_that_may_not_be_entered_is_a_usage_error(tmp_path):
    """``-o closed/r.csv`` (``chmod a-x closed``) ended in ``error: Permission denied: closed/r.csv``, exit status 1
    as for a failed run, where every other output that cannot be written is a usage error (2) naming why. Run with
    root's permission checks dropped (setpriv), as root enters any folder."""
    import shutil

    closed = tmp_path / "closed"
    closed.mkdir()
    nope = str(tmp_path / "nope.onnx")  # no model there: the destinations are checked first
    drop = ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-dac_override,-dac_read_search"]
    as_user = drop if hasattr(os, "geteuid") and os.geteuid() == 0 else []
    if as_user and (not shutil.which("setpriv") or subprocess.run([*as_user, "true"]).returncode):
        pytest.skip("root here, and no setpriv to drop its permission to enter any folder")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    closed.chmod(0o600)
    try:
        for flag, raw in (("-o", closed / "r.csv"), ("--heatmap", closed / "sub" / "maps")):
            done = subprocess.run([*as_user, sys.executable, "-m", "braintumor", "predict", "x.jpg", "--model", nope,
                                   flag, str(raw)], capture_output=True, text=True, env=env, timeout=120)
            assert (done.returncode, done.stderr) == (2, f"error: cannot write {flag} {raw}: no permission to enter "
                                                         f"the folder {closed} (chmod u+x)\n")
    finally:
        closed.chmod(0o700)


@pytest.mark.parametrize("linked", [False, True], ids=["file", "link"])
def test_an_earlier_report_kept_read_only_in_evaluates_out_is_refused_not_replaced(tmp_path, capsys, linked):
    """``evaluate --out OUT`` whose earlier report.html was kept read-only (``chmod a-w``), or is a link to a read-only
    shared page, replaced it (or wrote through the link) as root, as ``-o KEPT`` did before it was refused: a usage
    error before any image is read."""
    out, kept = tmp_path / "out", tmp_path / "kept.html"
    out.mkdir()
    kept.write_text("the report to keep")
    kept.chmod(0o444)
    if linked:
        (out / "report.html").symlink_to(kept)
    else:
        kept.rename(out / "report.html")
    (tmp_path / "data").mkdir()
    rc, _, err = run_cli(["evaluate", "--data", str(tmp_path / "data"), "--out", str(out)], capsys)
    assert (rc, err) == (2, f"error: cannot write --out {out}: {out / 'report.html'} is read-only: make it writable "
                            "(chmod u+w), or choose another --out\n")
    assert (out / "report.html").read_text() == "the report to keep"
