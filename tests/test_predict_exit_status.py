"""predict's exit status, which a pipeline branches on: said in its --help, and what it says holds (a refusal is an
answer, 0; an unreadable input is a failure, 1, with every record still written)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from cli_runner import run_cli
from conftest import encode, synthetic_head

from braintumor.model_files import default_model_path
from braintumor.wording import UNREADABLE

MODEL = default_model_path()
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")


def test_predict_help_says_what_each_exit_status_means(capsys):
    with pytest.raises(SystemExit):
        run_cli(["predict", "--help"], capsys)
    text = " ".join(capsys.readouterr().out.split())
    assert ("exit status: 0 every input answered (classified, or not classified: refused), 1 any input unreadable"
            in text)
    assert "2 usage error, 130 Ctrl-C, 143 SIGTERM, 129 SIGHUP" in text


def colour_photo() -> np.ndarray:
    rgb = np.zeros((200, 200, 3), np.uint8)
    rgb[..., 0], rgb[..., 1] = np.arange(200)[None, :], 255 - np.arange(200)[:, None]
    return rgb


def test_a_refused_input_is_an_answer_and_an_unreadable_one_a_failure(tmp_path, capsys):
    (tmp_path / "head.png").write_bytes(encode(synthetic_head()))
    (tmp_path / "photo.png").write_bytes(encode(colour_photo()))
    rc, out, _ = run_cli(["predict", str(tmp_path), "--format", "jsonl"], capsys)
    assert rc == 0
    assert any(json.loads(line)["ood"] for line in out.splitlines())
    (tmp_path / "notes.png").write_text("not an image")
    rc, _, _ = run_cli(["predict", str(tmp_path), "-o", str(tmp_path.parent / "r.jsonl")], capsys)
    assert rc == 1
    records = [json.loads(line) for line in (tmp_path.parent / "r.jsonl").read_text().splitlines()]
    assert [("error" in r) for r in records] == [False, True, False]  # head, notes, photo: all written



def test_a_resumed_run_says_which_unreadable_inputs_are_an_earlier_runs(tmp_path, capsys):
    """The exit status counts the continued file's unreadable inputs too; its line said "2 unreadable inputs" right
    under a last line of this run's own "1 unreadable" (a run with nothing left to do: "0 unreadable")."""
    target = tmp_path / "r.jsonl"
    (tmp_path / "head.png").write_bytes(encode(synthetic_head()))
    for name in ("a.png", "b.png"):
        (tmp_path / name).write_text("not an image")
    argv = ["predict", "-o", str(target), "--resume", str(tmp_path / "head.png"), str(tmp_path / "a.png")]
    rc, _, err = run_cli(argv, capsys)
    assert rc == 1 and err.splitlines()[-1] == "1 unreadable input"  # this run's: said as before
    for n in (1, 0):
        rc, _, err = run_cli([*argv, str(tmp_path / "b.png")], capsys)
        last, failed = err.splitlines()[-2:]
        assert rc == 1 and last.endswith(f", {n} {UNREADABLE}"), err
        assert failed == f"2 unreadable inputs ({n} this run, {2 - n} already in {target} from an earlier run)"


def _workers(parent: int) -> set[int]:
    """The pool's processes (spawned: ``multiprocessing.spawn`` in their command line), not its resource tracker."""
    found = set()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == parent and \
                    b"spawn_main" in (stat.parent / "cmdline").read_bytes():
                found.add(int(stat.parent.name))
    return found


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc to list processes")
def test_a_worker_killed_midway_is_a_failure_not_a_usage_error(data_root, tmp_path):
    """A worker the OOM killer took ended the run with 2, which tells a pipeline its command line was wrong."""
    out = tmp_path / "r.jsonl"
    cmd = [sys.executable, "-m", "braintumor", "predict", str(data_root / "Testing"), "--workers", "2", "-o",
           str(out), "--resume"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}  # this checkout's package, as the tests import it
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while not (out.exists() and out.stat().st_size) and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
        workers = _workers(proc.pid)
        assert workers and proc.poll() is None, "the run ended before a worker could be killed"
        os.kill(min(workers), signal.SIGKILL)
        err = proc.communicate(timeout=60)[1]
    finally:
        proc.kill()
    assert proc.returncode == 1, err
    assert err.splitlines()[-1] == ("error: a worker process stopped unexpectedly (out of memory?); run again to "
                                    "continue")


def test_the_last_line_counts_a_scans_unreadable_slices_apart_from_inputs(tmp_path, capsys):
    """A scan of three 2x2 frames (each slice refused for its size) and an all-NaN NIfTI ended with "4 unreadable
    inputs" for two inputs: a scan's error records were counted as inputs. They are said apart, as the page's "Done:"
    line says them, in one process, with --workers and with --resume (the continued file's records counted the same
    way), and the line above says them so too (it said "3 unreadable" of a scan's 3 slices over "3 unreadable
    slices")."""
    from dicom_factory import nifti_bytes, unreadable_series

    tiny, nan = tmp_path / "tiny2.zip", tmp_path / "nanvol.nii"
    tiny.write_bytes(unreadable_series())  # (a file of tiny frames only is refused once: one unreadable input)
    nan.write_bytes(nifti_bytes(np.full((64, 64, 3), np.nan, np.float32), gz=False))
    both = "1 unreadable input, 3 unreadable slices"
    for extra in ([], ["--workers", "2", "-o", str(tmp_path / "w.jsonl")]):
        rc, _, err = run_cli(["predict", str(tiny), str(nan), "--no-progress", *extra], capsys)
        assert rc == 1 and both in err.splitlines() and "4 unreadable inputs" not in err, (extra, err)
        # the line above it counts them so too: it said "4 unreadable" (records) over them
        assert next(line for line in err.splitlines() if " scored: " in line).endswith(f"(unlike brain MRI), {both}")
    target = tmp_path / "r.jsonl"
    rc, _, err = run_cli(["predict", str(tiny), "-o", str(target), "--resume"], capsys)
    assert rc == 1 and err.splitlines()[-1] == "3 unreadable slices", err
    assert err.splitlines()[-2].endswith("(unlike brain MRI), 3 unreadable slices"), err  # not "3 unreadable"
    rc, _, err = run_cli(["predict", str(tiny), str(nan), "-o", str(target), "--resume"], capsys)
    assert rc == 1 and err.splitlines()[-1] == f"{both} (1 input this run, 3 slices already in {target} from an " \
        "earlier run)", err
