"""``predict --resume`` stopped by a write that fails (a full disk, a file size limit): the file keeps whole records."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from braintumor.model_files import default_model_path

resource = pytest.importorskip("resource")  # POSIX: RLIMIT_FSIZE, a file size limit, fails writes as a full disk does
pytestmark = pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")


def _predict(args: list, limit: int | None = None) -> subprocess.CompletedProcess:
    def limited() -> None:  # Python ignores SIGXFSZ: a write past the limit fails with EFBIG, as ENOSPC on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return subprocess.run([sys.executable, "-m", "braintumor", "predict", *map(str, args), "--no-progress"],
                          env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}, capture_output=True, text=True,
                          preexec_fn=limited if limit else None, timeout=120)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_resumed_file_whose_write_failed_ends_with_its_last_whole_record(data_root, tmp_path, fmt):
    """The failed write left the record it was writing cut short (``...,0.999928,3.2e-05,``): a reader of the file got a
    row with columns missing, or a number cut to fewer digits, until a later --resume dropped it."""
    scans = tmp_path / "scans"
    scans.mkdir()
    for p in sorted((data_root / "Testing" / "glioma").glob("*.jpg"))[:12]:
        shutil.copy(p, scans / p.name)
    target = tmp_path / f"r.{fmt}"
    stopped = _predict([scans, "-o", target, "--resume"], limit=1300)  # room for a few records, not all
    assert stopped.returncode == 1, stopped.stderr
    assert f"(writing {target})" in stopped.stderr
    assert f"the records so far are kept in {target}: run the same command again, with --resume" in stopped.stderr
    assert target.read_text().endswith("\n")  # whole records only
    kept = _records(target)
    assert 0 < len(kept) < 12 and all(label == "glioma" for _, label, _ in kept)
    resumed = _predict([scans, "-o", target, "--resume"])
    assert resumed.returncode == 0 and "dropping" not in resumed.stderr, resumed.stderr
    plain = _predict([scans, "-o", tmp_path / f"plain.{fmt}"])
    assert plain.returncode == 0 and _records(target) == _records(tmp_path / f"plain.{fmt}")


def _records(path) -> list[tuple[str, str, str]]:
    """(path, label, confidence) of each record of a jsonl or csv file."""
    text = path.read_text()
    rows = [json.loads(line) for line in text.splitlines()] if path.suffix == ".jsonl" else \
        list(csv.DictReader(io.StringIO(text)))
    return [(r["path"], r["label"], str(r["confidence"])) for r in rows]


def test_a_resumed_file_the_run_made_is_not_left_empty_by_a_failed_first_write(data_root, tmp_path):
    """A file the stopped run created, with no whole record in it, is removed: an empty results file was left."""
    image = sorted((data_root / "Testing" / "glioma").glob("*.jpg"))[0]
    target = tmp_path / "r.csv"
    stopped = _predict([image, "-o", target, "--resume"], limit=100)  # not even the header and one row
    assert stopped.returncode == 1, stopped.stderr
    assert not target.exists() and list(tmp_path.iterdir()) == []


def test_a_heat_map_folder_the_stopped_run_made_is_not_left_empty(data_root, tmp_path):
    """``--resume --heatmap maps/deep`` stopped by a full disk at its first map left maps/deep behind, empty: the
    folders the run made go when they hold nothing; one there before stays, empty or not, as does what it holds."""
    image = sorted((data_root / "Testing" / "glioma").glob("*.jpg"))[0]
    (tmp_path / "empty").mkdir()
    (tmp_path / "kept").mkdir()
    (tmp_path / "kept" / "old.heatmap.png").write_bytes(b"an earlier run's")
    for folder in ("maps/deep", "empty", "kept/new", "kept"):
        stopped = _predict([image, "-o", tmp_path / "r.csv", "--resume", "--heatmap", tmp_path / folder], limit=2048)
        assert stopped.returncode == 1 and "File too large" in stopped.stderr, stopped.stderr  # at the map
    assert sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*")) == [
        "empty", "kept", "kept/old.heatmap.png"]  # (r.csv: made by each run, and removed with nothing in it)
    assert (tmp_path / "kept" / "old.heatmap.png").read_bytes() == b"an earlier run's"


def test_a_resumed_run_stopped_at_its_first_heat_map_leaves_the_output_as_it_was(data_root, tmp_path):
    """A new csv was left holding its header alone, and "the records so far are kept in r.csv": there were none. A file
    there before keeps what it held, byte for byte."""
    first, second = sorted((data_root / "Testing" / "glioma").glob("*.jpg"))[:2]
    target, maps = tmp_path / "r.csv", tmp_path / "maps"
    stopped = _predict([first, "-o", target, "--resume", "--heatmap", maps], limit=2048)
    assert stopped.returncode == 1 and "File too large" in stopped.stderr, stopped.stderr  # at the map
    assert not target.exists() and "records so far" not in stopped.stderr, stopped.stderr
    done = _predict([first, "-o", target, "--resume", "--heatmap", maps])
    assert done.returncode == 0, done.stderr
    before = target.read_bytes()
    stopped = _predict([first, second, "-o", target, "--resume", "--heatmap", maps], limit=2048)
    assert stopped.returncode == 1 and "File too large" in stopped.stderr, stopped.stderr
    assert target.read_bytes() == before and len(before.splitlines()) == 2  # its header and first's row


def test_a_device_or_pipe_given_to_resume_is_written_through_not_read(data_root, tmp_path):
    """``-o /dev/zero --resume`` read the device for the records to continue until memory ran out (the kernel killed
    it, or 'out of memory'), and ``-o FIFO --resume`` waited for good to open the pipe for reading, its reader
    waiting too. Neither holds records to continue: they are written through, as without --resume."""
    import threading

    image = sorted((data_root / "Testing" / "glioma").glob("*.jpg"))[0]

    def bounded() -> None:  # a failing run ends in MemoryError here, not in the machine's OOM killer
        resource.setrlimit(resource.RLIMIT_AS, (3 << 30, 3 << 30))

    def predict(target) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "braintumor", "predict", str(image), "-o", str(target), "--format",
                               "csv", "--resume", "--no-progress"], env={**os.environ,
                              "PYTHONPATH": os.pathsep.join(sys.path)}, capture_output=True, text=True,
                              preexec_fn=bounded, timeout=60)

    if os.path.exists("/dev/zero"):
        done = predict("/dev/zero")
        assert done.returncode == 0 and "1 scored: 1 classified" in done.stderr, done.stderr
    fifo = tmp_path / "results.csv"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    try:
        done = predict(fifo)
    except subprocess.TimeoutExpired:
        with open(fifo, "wb"):  # let the reader go
            pass
        raise
    reader.join(10)
    assert done.returncode == 0, done.stderr
    assert got and got[0].startswith(b"path,label,") and image.name.encode() in got[0]


@pytest.mark.parametrize("how", ["removed", "moved"])
def test_a_resumed_file_removed_or_moved_during_the_run_fails_it(tmp_path, how):
    """``rm out.jsonl`` (or ``mv``) under a --resume run: every later record went into the file without a name, and
    the run ended with status 0 and no out.jsonl. The next record's flush finds FILE gone and stops the run (exit 1,
    one line that says what happened); a device written through (/dev/null) is no file to lose."""
    from braintumor.exit_errors import RunFailed
    from braintumor.record_files import appended_records

    target = tmp_path / "out.jsonl"
    with pytest.raises(RunFailed, match=r"out\.jsonl was removed or moved away during the run"), \
            appended_records(target) as fh:
        fh.write('{"path": "a.png"}\n')
        fh.flush()
        target.unlink() if how == "removed" else target.rename(tmp_path / "kept.jsonl")
        fh.write('{"path": "b.png"}\n')
        fh.flush()
    (tmp_path / "link.jsonl").symlink_to(target)
    with appended_records(tmp_path / "link.jsonl") as fh:  # a link's file: written where it leads, which keeps its name
        fh.write('{"path": "c.png"}\n')
        fh.flush()
    assert target.read_text() == '{"path": "c.png"}\n'
    with appended_records(Path(os.devnull)) as fh:
        fh.write("x\n")
        fh.flush()


def test_a_file_made_under_the_name_meanwhile_is_left_as_it_is(tmp_path):
    """A log rotation moves FILE away and makes a new one under its name (``mv out.jsonl out.jsonl.1; touch
    out.jsonl``, another program writing it): the run stops (the test above), and cutting FILE back to its last whole
    record cut that other file, by its name, to the size of the one moved away."""
    from braintumor.exit_errors import RunFailed
    from braintumor.record_files import appended_records

    target, theirs = tmp_path / "out.jsonl", "another program's line\n" * 10
    with pytest.raises(RunFailed, match="removed or moved away"), appended_records(target) as fh:
        fh.write('{"path": "a.png"}\n')
        fh.flush()
        target.rename(tmp_path / "out.jsonl.1")
        target.write_text(theirs)
        fh.write('{"path": "b.png"}\n')
        fh.flush()
    assert target.read_text() == theirs
    assert (tmp_path / "out.jsonl.1").read_text() == '{"path": "a.png"}\n{"path": "b.png"}\n'
