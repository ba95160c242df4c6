"""Where export and quantize write their model first: a hidden temporary file beside ``--out`` whose name fits, or, for
a device (``--out /dev/null``), none beside it. Their ``OUT.tmp`` was 'File name too long' for a legal 252-byte
``--out``, and in /dev 'Permission denied' for anyone but root; each error named that temporary file."""

from __future__ import annotations

import os
import stat

import pytest
from cli_runner import run_cli
from conftest import extra_reason

import braintumor.atomic_files

# before braintumor.export, which imports onnx: in the core install (with [dev]) collecting this file was an error
pytest.importorskip("torch", reason=extra_reason("torch", what="export"))
pytest.importorskip("onnx", reason=extra_reason("onnx", what="export"))
pytest.importorskip("onnxruntime.quantization")

import braintumor.export
import braintumor.quantize

LONG = "m" * 247 + ".onnx"  # 252 bytes: a legal name; with '.tmp' it is not


def test_a_model_named_with_252_bytes_is_written(tiny_run, tiny_model, tmp_path, capsys):
    """Calibrated too: the fit rewrote the temporary model's metadata through a '.tmp' of its own, 4 bytes more."""
    out = tmp_path / "float" / LONG
    out.parent.mkdir()  # a file output's folder must exist (cli_checks)
    rc, _, err = run_cli(["export", str(tiny_run), "--out", str(out)], capsys)
    assert rc == 0, err
    assert sorted(p.name for p in out.parent.iterdir()) == [LONG]
    out = tmp_path / "int8" / LONG
    out.parent.mkdir()
    rc, _, err = run_cli(["quantize", str(tiny_model), "--run", str(tiny_run), "--out", str(out)], capsys)
    assert rc == 0, err
    assert sorted(p.name for p in out.parent.iterdir()) == [LONG]


@pytest.mark.parametrize("module", [braintumor.export, braintumor.quantize])
def test_a_device_gets_no_temporary_file_beside_it(module, tiny_run, tiny_model, tmp_path, monkeypatch, capsys):
    """The tests run as root, who may write in /dev: a link to /dev/null in a folder stands for it, and the folder
    must hold nothing else while the model is put in place (a non-root user cannot create a file in /dev)."""
    folder = tmp_path / "dev"
    folder.mkdir()
    link = folder / "null.onnx"
    link.symlink_to(os.devnull)
    seen = []
    put = braintumor.atomic_files.put_in_place  # what export's and quantize's written_whole calls

    def watched(tmp, target):
        seen.append(sorted(p.name for p in folder.iterdir()))
        put(tmp, target)

    monkeypatch.setattr(braintumor.atomic_files, "put_in_place", watched)
    argv = (["export", str(tiny_run), "--no-calibrate"] if module is braintumor.export else
            ["quantize", str(tiny_model), "--run", str(tiny_run), "--no-calibrate"])
    rc, out, err = run_cli([*argv, "--out", str(link)], capsys)
    assert (rc, seen) == (0, [["null.onnx"]]), err
    assert link.is_symlink() and stat.S_ISCHR(os.stat(os.devnull).st_mode)
    assert out == f"wrote {link} (0.00 MB)\n"



@pytest.mark.parametrize("module", [braintumor.export, braintumor.quantize])
@pytest.mark.parametrize("where", ["no folder", "a folder", "a file for a folder"])
def test_the_python_api_refuses_a_model_destination_before_any_work_as_the_cli_does(module, where, tiny_run,
                                                                                    tiny_model, tmp_path, monkeypatch):
    """``export_onnx`` and ``quantize`` made every missing folder of their output (a mistyped path, a tree of them),
    where ``--out`` into a missing folder is a usage error before any work; a folder at the path, or a file for its
    folder, failed only after the work. Now each is refused before the checkpoint or the model is read, in words
    naming the path, and nothing is created or changed."""
    def no_work(*args, **kwargs):
        raise AssertionError("the work started before the destination was checked")

    dest = tmp_path / "dest"
    dest.mkdir()
    if where == "a file for a folder":
        (dest / "notes.txt").write_text("x")
    out, error, words = {
        "no folder": (dest / "typo" / "deeper" / "m.onnx", FileNotFoundError,
                      f"there is no folder {dest / 'typo' / 'deeper'} (none is made: create it first, or correct "
                      "the path)"),
        "a folder": (dest, IsADirectoryError, "it is a folder; a file name is wanted"),
        "a file for a folder": (dest / "notes.txt" / "m.onnx", NotADirectoryError,
                                f"{dest / 'notes.txt'} is a file, not a folder"),
    }[where]
    before = sorted(dest.rglob("*"))
    if module is braintumor.export:
        monkeypatch.setattr(braintumor.export, "load_checkpoint", no_work)
        with pytest.raises(error) as exc:
            braintumor.export.export_onnx(tiny_run, out, calibrate=False)
    else:
        monkeypatch.setattr(braintumor.quantize.Classifier, "load", no_work)
        with pytest.raises(error) as exc:
            braintumor.quantize.quantize(tiny_model, tiny_run, out, calibrate=False)
    assert str(exc.value) == f"cannot write {out}: {words}"
    assert sorted(dest.rglob("*")) == before
