"""The benchmark scripts run from a clone: a smoke run of each that no other test reaches, with tiny settings.

Why: they are run by hand, so a change elsewhere can break one unseen (train_throughput.py stopped at a
TrainConfig check for weeks). These tests time nothing; they only check the script finishes and writes its numbers.
"""

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
from conftest import extra_reason, needs

REPO = Path(__file__).resolve().parents[1]


def test_train_throughput_runs_and_writes_its_numbers(tmp_path):
    pytest.importorskip("torch", reason=extra_reason("torch"))
    out = tmp_path / "t.json"
    done = subprocess.run([sys.executable, str(REPO / "benchmarks/train_throughput.py"), "--image-size", "32",
                           "--batch-size", "4", "--steps", "2", "--warmup", "0", "--train-images", "8",
                           "--json", str(out)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| images/s (augment + step) |" in done.stdout
    doc = json.loads(out.read_text())
    assert doc["config"]["image_size"] == 32 and len(doc["step_s"]) == 2 and doc["images_per_s"] > 0


def test_decode_check_runs_and_writes_its_numbers(tmp_path):
    """decode_check.py called image_io.walk_images after it moved to image_files: it stopped at an AttributeError
    before comparing anything. Run against this checkout itself, every count of differences is 0."""
    from PIL import Image

    data = tmp_path / "data" / "glioma"
    data.mkdir(parents=True)
    for i in range(2):
        Image.fromarray((np.arange(200 * 200).reshape(200, 200) * (i + 3) % 256).astype(np.uint8)).save(
            data / f"{i}.png")
    out = tmp_path / "d.json"
    done = subprocess.run([sys.executable, str(REPO / "benchmarks/decode_check.py"), "--old", str(REPO / "src"),
                           "--data", str(tmp_path / "data"), "--json", str(out)], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    results = json.loads(out.read_text())["results"]
    assert results["dataset (Training + Testing)"]["n"] == 2
    assert all(r[k] == 0 for r in results.values() for k in ("gray_differs", "model_input_differs", "error_differs"))


def test_time_to_accuracy_trains_the_shipped_recipe_on_the_shipped_split():
    """The shipped config predates grouping near duplicates in the split: timed with today's default, the 'shipped
    recipe' would have trained and been selected on another split than the shipped run's."""
    pytest.importorskip("torch", reason=extra_reason("torch"))
    sys.path.insert(0, str(REPO / "benchmarks"))
    try:
        from time_to_accuracy import recipe_flags
    finally:
        sys.path.remove(str(REPO / "benchmarks"))
    config = json.loads((REPO / "models" / "training-config.json").read_text())
    assert "group_duplicates" not in config
    flags = recipe_flags(config)
    assert "--no-group-duplicates" in flags and flags[flags.index("--image-size") + 1] == "160"
    assert "--no-group-duplicates" not in recipe_flags({**config, "group_duplicates": True})
    assert "--equalize" in recipe_flags({**config, "equalize": True})


def test_time_to_accuracy_shows_why_training_failed(tmp_path):
    """The training child's stderr went to /dev/null: a failed run only said "rerun the command above to see why".
    A flag train refuses fails it at once (cheap); the report now ends with the child's own error line."""
    pytest.importorskip("torch", reason=extra_reason("torch"))
    done = subprocess.run([sys.executable, str(REPO / "benchmarks/time_to_accuracy.py"), "--out",
                           str(tmp_path / "run"), "--", "--no-such-flag"], capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr[-2000:]
    report = done.stdout[done.stdout.index("training failed (exit 2); the end of its stderr:\n"):]
    assert report.rstrip().endswith("error: unrecognized arguments: --no-such-flag"), report


def test_ood_eval_counts_a_sample_the_reader_refuses_as_refused():
    """Since the 64 x 64 minimum size, 53 of the OOD set's samples come back from predict_many as ImageError, not as
    a Prediction: scripts/ood_eval.py stopped at them with an AttributeError."""
    from braintumor.image_io import ImageError
    from braintumor.predictor import Classifier

    sys.path.insert(0, str(REPO / "scripts"))
    try:
        from ood_eval import refusal_score, refused
    finally:
        sys.path.remove(str(REPO / "scripts"))
    clf = Classifier.load()
    small = [p for _, p in clf.predict_many([bytes(_png(25))])]
    assert isinstance(small[0], ImageError) and refused(small[0]) and refusal_score(small[0]) == float("inf")
    (mri,) = [p for _, p in clf.predict_many([bytes(_png(160))])]
    assert refused(mri) == mri.ood


@needs("an OOD sample under 64 x 64 pixels (scikit-image's faces)", "skimage")
def test_ood_eval_prints_how_many_samples_the_reader_refused(data_root, tmp_path):
    """README quoted "53 of the 248, under 64 x 64 pixels" beside `python scripts/ood_eval.py`, which did not print
    it: the script now says how many OOD refusals the reader made before the network, the samples under the minimum
    size (on a Testing split of four real slices, so that it runs in seconds). Those samples are scikit-image's
    faces (50) and matplotlib's crops (3): without both, 0 of them, it failed where it is to skip."""
    import io
    import re
    import shutil

    from PIL import Image

    from braintumor.image_io import MIN_SIDE
    from braintumor.ood_samples import ood_samples

    for folder in ("glioma", "meningioma", "notumor", "pituitary"):
        (tmp_path / "Testing" / folder).mkdir(parents=True)
        shutil.copy(sorted((data_root / "Testing" / folder).glob("*.jpg"))[0], tmp_path / "Testing" / folder)
    done = subprocess.run([sys.executable, str(REPO / "scripts/ood_eval.py"), "--data", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-2000:]
    said = re.search(rf"by the reader before the network \(under {MIN_SIDE} x {MIN_SIDE} pixels\): (\d+)$",
                     done.stdout, re.M)
    small = sum(min(Image.open(io.BytesIO(s.data)).size) < MIN_SIDE for s in ood_samples())
    assert said and int(said.group(1)) == small > 0


def _png(side: int) -> bytes:
    import io

    import numpy as np
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (side, side), dtype=np.uint8)).save(buf, "PNG")
    return buf.getvalue()


def _family(pid: int) -> set[int]:
    """``pid`` and every process below it (Linux /proc)."""
    parents = {}
    for entry in Path("/proc").iterdir():
        try:
            stat = (entry / "stat").read_text()
        except (OSError, ValueError):
            continue
        if entry.name.isdigit():
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, todo = {pid}, [pid]
    while todo:
        above = todo.pop()
        kids = {p for p, parent in parents.items() if parent == above and p not in found}
        found |= kids
        todo += kids
    return found


def _running(pid: int) -> bool:
    try:  # a zombie (exited, not yet reaped by an init that does not reap) has stopped
        return (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@needs("serving with several workers", "gunicorn")
def test_load_test_stops_its_server_on_sigterm(tmp_path):
    """`timeout 20 python benchmarks/load_test.py` ended the script alone (SIGTERM's default action skips its
    finally), and gunicorn's master, workers and metrics watcher went on serving. running_server stops them all."""
    code = ("import sys, time; from pathlib import Path; sys.path.insert(0, sys.argv[1])\n"
            "from load_test import free_port, running_server\n"
            "with running_server(1, free_port(), None, Path(sys.argv[2])) as server:\n"
            "    server.wait_ready(60)\n    print(server.proc.pid, flush=True)\n    time.sleep(60)\n")
    child = subprocess.Popen([sys.executable, "-c", code, str(REPO / "benchmarks"), str(tmp_path / "server.log")],
                             stdout=subprocess.PIPE, text=True)
    pid = 0
    try:
        pid = int(child.stdout.readline() or 0)
        assert pid, (tmp_path / "server.log").read_text()[-2000:]
        server = _family(pid)
        assert len(server) >= 3, server  # gunicorn's master, its worker and the watcher of its metrics folder
        child.send_signal(signal.SIGTERM)
        rc = child.wait(30)
        deadline = time.monotonic() + 10  # the watcher ends once the last of the others has
        while any(_running(p) for p in server) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not [p for p in server if _running(p)]
        assert rc == 128 + signal.SIGTERM  # SystemExit: the script's own finally ran
    finally:  # a failing run leaves no server behind either (its watcher ends with it)
        child.kill()
        child.wait()
        if pid:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
