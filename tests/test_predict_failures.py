"""``braintumor predict`` when something fails mid-run: a full disk, an input folder that changes under it, a log that
cannot be written, a Ctrl-C from the terminal. One precise line, no traceback, nothing half-written, nothing lost."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import encode, synthetic_head

from braintumor.model_files import default_model_path

MODEL = default_model_path()
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


def _real_images(data_root: Path, folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for p in sorted((data_root / "Testing" / "glioma").glob("*.jpg"))[:n]:
        out.append(folder / p.name)
        shutil.copy(p, out[-1])
    return out


def test_a_heat_map_that_cannot_be_written_is_named_not_the_results_file(data_root, tmp_path):
    """A disk full under --heatmap said ``No space left on device (writing out.jsonl)``: the results file, on another
    disk with room to spare, was blamed; now the heat map is named, the results file of an earlier run is kept as it
    was, and no temporary file is left."""
    resource = pytest.importorskip("resource", reason="no file size limits to set on this system")
    image = _real_images(data_root, tmp_path / "in", 1)[0]
    out, maps = tmp_path / "out.jsonl", tmp_path / "maps"
    out.write_text("earlier results\n")

    def small_files() -> None:  # the kernel refuses to grow any file past 4 kB: the heat map (~30 kB), not the record
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    done = subprocess.run([sys.executable, "-m", "braintumor", "predict", str(image), "-o", str(out), "--heatmap",
                           str(maps)], env=ENV, capture_output=True, text=True, timeout=120, preexec_fn=small_files)
    assert (done.returncode, done.stderr) == (1, f"error: File too large: {maps / 'Te-glTr_0000.heatmap.png'}\n")
    assert out.read_text() == "earlier results\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in", "out.jsonl"]  # the folder made for the maps too


def test_an_input_changed_after_it_was_classified_keeps_its_own_heat_map(data_root, tmp_path, capsys, monkeypatch):
    """The heat map read the file again after its record was made: a file deleted or still being written by then
    stopped the whole run with an ImageError traceback, and one replaced by then got the new content's map under the
    old content's answer. The map is drawn now from the pixels the answer came from, read once."""
    import numpy as np
    from PIL import Image

    from braintumor import heatmap_files
    from braintumor.cli import main

    images = _real_images(data_root, tmp_path / "in", 3)
    other = sorted((data_root / "Testing" / "pituitary").glob("*.jpg"))[0]
    before = {p.name: p.read_bytes() for p in images}
    write = heatmap_files.HeatmapWriter.write

    def change_then_write(self, rec, *a, **k):  # what another process does to the folder meanwhile
        path = Path(rec["path"])
        if path == images[0]:
            path.unlink()
        elif path == images[1]:
            shutil.copy(other, path)
        else:
            path.write_bytes(before[path.name][:1000])  # cut short: still being written
        return write(self, rec, *a, **k)

    monkeypatch.setattr(heatmap_files.HeatmapWriter, "write", change_then_write)
    maps, out = tmp_path / "maps", tmp_path / "out.jsonl"
    assert main(["predict", str(tmp_path / "in"), "--heatmap", str(maps), "-o", str(out)]) == 0, capsys.readouterr()
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["path"] for r in records] == [str(p) for p in images] and all(r["label"] == "glioma" for r in records)
    assert sorted(p.name for p in maps.iterdir()) == sorted(Path(r["heatmap"]).name for r in records)

    monkeypatch.undo()
    for p in images:  # each map is the one the original file gives
        p.write_bytes(before[p.name])
    assert main(["predict", str(tmp_path / "in"), "--heatmap", str(tmp_path / "again"), "--format", "jsonl"]) == 0
    for p in images:
        got, want = (np.asarray(Image.open(d / f"{p.stem}.heatmap.png"), np.int16) for d in (maps, tmp_path / "again"))
        assert np.abs(got - want).max() <= 2, p.name  # float noise at most


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full to stand for a full log disk")
def test_a_log_that_cannot_be_written_after_the_work_keeps_the_exit_code(tmp_path):
    """`predict DIR -o out.csv 2>>run.log` with the log's disk full (or stderr closed): out.csv was complete and every
    input classified, but the closing line failed and the exit code was 1, 'some input failed', as README reads it."""
    image = tmp_path / "a.png"
    image.write_bytes(encode(synthetic_head(), "PNG"))
    for args in (["-o", str(tmp_path / "r.csv")], []):  # a results file; the table on stdout, its tally on stderr
        with open("/dev/full", "w") as full:
            done = subprocess.run([sys.executable, "-m", "braintumor", "predict", str(image), *args], env=ENV,
                                  stdout=subprocess.PIPE, stderr=full, text=True, timeout=120)
        assert done.returncode == 0
    assert (tmp_path / "r.csv").read_text().startswith("path,label") and "a.png" in done.stdout


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full to stand for a full disk")
def test_a_full_standard_output_is_named_as_a_full_output_file_is(tmp_path):
    """``predict DIR > /dev/full`` said ``error: No space left on device``, not what could not be written; ``-o
    /dev/full`` says ``(writing /dev/full)``."""
    image = tmp_path / "a.png"
    image.write_bytes(encode(synthetic_head(), "PNG"))
    for fmt in ("table", "jsonl"):
        with open("/dev/full", "w") as full:
            done = subprocess.run([sys.executable, "-m", "braintumor", "predict", str(image), "--format", fmt],
                                  env=ENV, stdout=full, stderr=subprocess.PIPE, text=True, timeout=120)
        assert (done.returncode, done.stderr) == (1, "error: No space left on device (writing standard output)\n")


SLOW_START = '''import os, sys, time
if "spawn_main" in " ".join(getattr(sys, "orig_argv", [])):  # a --workers process, still starting up
    open(os.path.join(os.environ["BT_STARTING"], str(os.getpid())), "w").close()
    time.sleep(0.5)
'''


@pytest.mark.skipif(not hasattr(os, "killpg"), reason="no process groups")
@pytest.mark.parametrize("sig, code, line", [("SIGINT", 130, "interrupted"), ("SIGHUP", 129, "stopped by SIGHUP")])
def test_the_terminal_stopping_workers_that_are_starting_is_one_line(tmp_path, sig, code, line):
    """Ctrl-C (SIGINT to the terminal's whole process group) while --workers processes were still starting printed
    their KeyboardInterrupt tracebacks ('Fatal Python error: init_import_site', 45-78 lines) under 'interrupted'; a
    closed terminal (SIGHUP) killed multiprocessing's resource tracker, which warned and printed KeyError tracebacks.
    The hook holds a worker in its start-up (where the signal used to land) until the signal is sent."""
    import signal
    import time

    for k in range(2):
        (tmp_path / f"{k}.png").write_bytes(encode(synthetic_head(seed=k), "PNG"))
    (tmp_path / "hook").mkdir()
    (tmp_path / "hook" / "sitecustomize.py").write_text(SLOW_START)
    starting = tmp_path / "starting"
    starting.mkdir()
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(tmp_path / "hook"), ENV["PYTHONPATH"]]),
           "BT_STARTING": str(starting)}
    proc = subprocess.Popen([sys.executable, "-m", "braintumor", "predict", str(tmp_path / "0.png"),
                             str(tmp_path / "1.png"), "--workers", "2", "--batch-size", "1", "-o",
                             str(tmp_path / "out.jsonl")], env=env, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.time() + 60
        while not any(starting.iterdir()) and time.time() < deadline and proc.poll() is None:
            time.sleep(0.02)
        assert any(starting.iterdir()), "no worker started"
        os.killpg(proc.pid, getattr(signal, sig))
        err = proc.communicate(timeout=60)[1]
    finally:
        proc.kill()
    assert (proc.returncode, err) == (code, line + "\n")
    assert not (tmp_path / "out.jsonl").exists()


@pytest.mark.parametrize("name", ["results.png", "results.nii.gz", "results.dcm"])
def test_an_output_inside_the_input_folder_that_a_later_run_would_read_is_refused(tmp_path, capsys, name):
    """``predict scans -o scans/results.png``: the table was written into scans/results.png, and every later run of
    scans read it as a broken image (1 failed, exit 1) and refused that -o as one of its inputs. Refused before any
    work now; scans/results.csv (never read as an input) stays allowed."""
    from braintumor.cli import main

    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "a.png").write_bytes(encode(synthetic_head(), "PNG"))
    target = tmp_path / "scans" / name
    assert main(["predict", str(tmp_path / "scans"), "-o", str(target)]) == 2
    assert capsys.readouterr().err == (f"error: -o {target} is inside the input folder {tmp_path / 'scans'}, where "
                                       "later runs would read it as an input: choose a name outside it\n")
    assert sorted(p.name for p in (tmp_path / "scans").iterdir()) == ["a.png"]
    assert main(["predict", str(tmp_path / "scans"), "-o", str(tmp_path / "scans" / "results.csv")]) == 0


def test_an_output_file_name_that_ends_with_a_slash_is_refused(tmp_path, capsys):
    """``-o results/`` (a folder meant, not there yet) wrote the results into a file named 'results'."""
    from braintumor.cli import main

    (tmp_path / "a.png").write_bytes(encode(synthetic_head(), "PNG"))
    assert main(["predict", str(tmp_path / "a.png"), "-o", f"{tmp_path / 'results'}/"]) == 2
    assert capsys.readouterr().err == (f"error: -o {tmp_path / 'results'}/ ends with /, as a folder does; -o takes a "
                                       "file name\n")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.png"]


def test_workers_refuse_a_model_file_replaced_after_the_parent_loaded_it(tmp_path, monkeypatch, capsys):
    """--workers N sent its processes the model's path only: a file replaced between the parent's load and the workers'
    start was scored by the workers as if it were the model loaded (and named). Now they refuse, as a pickled
    Classifier does: one error, no output file."""
    from braintumor import predict_cli
    from braintumor.cli import main
    from braintumor.predictor import Classifier

    model = tmp_path / "model.onnx"
    shutil.copy(MODEL, model)
    other = MODEL.with_name(MODEL.stem + "-int8.onnx")
    if not other.exists():
        pytest.skip(f"no second shipped model at {other}")
    images = tmp_path / "in"
    images.mkdir()
    for i in range(4):
        (images / f"{i}.png").write_bytes(encode(synthetic_head(seed=i), "PNG"))
    load = Classifier.load

    def load_then_replace(*args: object, **kwargs: object) -> Classifier:
        clf = load(*args, **kwargs)
        shutil.copy(other, model)  # a new model dropped in place while the run starts
        return clf

    monkeypatch.setattr(predict_cli.Classifier, "load", load_then_replace)
    out = tmp_path / "out.jsonl"
    rc = main(["predict", str(images), "--model", str(model), "--workers", "2", "--batch-size", "1",
               "-o", str(out), "--no-progress"])
    err = capsys.readouterr().err
    assert rc == 2, err
    assert err.count("error:") == 1 and "changed since it was loaded" in err and "Traceback" not in err
    assert not out.exists() and list(tmp_path.glob("*.tmp*")) == []
