"""``predict --resume`` holds -o FILE for the whole run: a second run on it is refused at once, FILE untouched (two at
once each appended what FILE lacked when they started: every input twice)."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from braintumor import batch_predict, resume_lock
from braintumor.cli import main
from braintumor.model_files import default_model_path

fcntl = pytest.importorskip("fcntl")  # POSIX (Windows runs unlocked, as docs/CLI.md says)
pytestmark = pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")


@pytest.fixture(scope="module")
def images(data_root, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("images")
    for p in sorted((data_root / "Testing" / "glioma").glob("*.jpg"))[:6]:
        shutil.copy(p, folder / p.name)
    return folder


@pytest.fixture(scope="module")
def full(images, tmp_path_factory) -> str:
    """Every input's record, from a run without --resume."""
    out = tmp_path_factory.mktemp("full") / "all.jsonl"
    assert main(["predict", str(images), "-o", str(out), "--no-progress"]) == 0
    return out.read_text()


def predict(args: list, capsys) -> tuple[int, str]:
    rc = main(["predict", *map(str, args), "--no-progress"])
    return rc, capsys.readouterr().err


def interrupted(full: str, target: Path) -> bytes:
    """``target`` as a crash leaves it: three records and half of the fourth (a run would rewrite it without that)."""
    lines = full.splitlines(keepends=True)
    target.write_text("".join(lines[:3]) + lines[3][:40])
    return target.read_bytes()


def busy(shown: Path, resuming: bool = True) -> str:
    """The refusal, where a run holds ``shown`` (``resuming``: a --resume run, or one without --resume once its file
    is in place), or a run without --resume writes it whole."""
    if not resuming:
        return (f"error: another braintumor predict is writing {shown} (without --resume: its file replaces this one "
                "when it ends): wait for it to finish, or give -o another file\n")
    return (f"error: another braintumor predict is writing {shown} (one run at a time per file): wait for it to end, "
            "or give -o another file\n")


def held(path: Path):
    """``path`` locked as a --resume run locks it, by another open of it."""
    fh = open(path, "ab")  # noqa: SIM115 - closed by the caller: the lock is let go
    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    return fh


@pytest.mark.parametrize("via_link", [False, True])
def test_a_run_on_a_file_another_run_holds_is_refused_and_the_file_untouched(images, full, tmp_path, via_link, capsys):
    target = tmp_path / "r.jsonl"
    before = interrupted(full, target)
    given = tmp_path / "link.jsonl" if via_link else target
    if via_link:
        given.symlink_to(target)
    lock = held(target)
    try:
        rc, err = predict([images, "-o", given, "--resume", "--heatmap", tmp_path / "maps"], capsys)
        assert (rc, err) == (2, busy(given))
        assert target.read_bytes() == before  # not read, nor repaired, nor appended to; no folder of maps made
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted({target.name, given.name})
    finally:
        lock.close()
    rc, err = predict([images, "-o", given, "--resume"], capsys)  # the first run over: this one goes on
    assert rc == 0 and "dropping an incomplete last line" in err and "3 records already there" in err, err
    assert target.read_text() == full


def test_the_lock_goes_with_the_repaired_file_and_a_second_process_is_refused(images, full, tmp_path, monkeypatch,
                                                                               capsys):
    """The repair (the cut last line dropped) puts a new file in FILE's place: a run started after it found it
    unlocked. Here a second braintumor process is started while the first holds FILE, just after the repair."""
    target = tmp_path / "r.jsonl"
    interrupted(full, target)
    seen = {}

    def meanwhile(*args) -> None:
        with open(target, "ab") as fh, pytest.raises(BlockingIOError):
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        repaired = target.read_bytes()
        second = [sys.executable, "-m", "braintumor", "predict", str(images), "-o", str(target), "--resume"]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        seen["second"] = subprocess.run(second, env=env, capture_output=True, text=True, timeout=120)
        seen["untouched"] = target.read_bytes() == repaired
        return check(*args)

    check = batch_predict.check_working_folder  # called once FILE was read and repaired
    monkeypatch.setattr(batch_predict, "check_working_folder", meanwhile)
    rc, err = predict([images, "-o", target, "--resume"], capsys)
    assert rc == 0 and "3 records already there" in err, err
    assert (seen["second"].returncode, seen["second"].stderr) == (2, busy(target))
    assert seen["untouched"] and target.read_text() == full  # every input once


def test_devices_and_file_systems_without_locks_are_written_unlocked(images, full, tmp_path, monkeypatch, capsys):
    """/dev/null is written through, never read: not locked (another program's lock on it refused nothing); where the
    file system has no locks (ENOLCK, some NFS mounts) the run goes on without one."""
    if os.path.exists("/dev/null"):
        lock = held(Path("/dev/null"))
        try:
            rc, err = predict([images, "-o", "/dev/null", "--format", "jsonl", "--resume"], capsys)
        finally:
            lock.close()
        assert rc == 0 and "6 scored" in err, err

    def no_locks(fd: int, op: int) -> None:
        raise OSError(errno.ENOLCK, "No locks available")

    monkeypatch.setattr(resume_lock.fcntl, "flock", no_locks)
    target = tmp_path / "r.jsonl"
    interrupted(full, target)
    rc, err = predict([images, "-o", target, "--resume"], capsys)
    assert rc == 0 and "3 records already there" in err, err
    assert target.read_text() == full


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_run_without_resume_does_not_replace_a_file_a_resume_run_is_writing(images, full, tmp_path, fmt, capsys):
    """``predict DIR -o r.jsonl`` started while ``predict DIR -o r.jsonl --resume`` ran replaced the file under it: the
    --resume run went on appending to the file replaced, its later records lost, and said they were kept in r.jsonl."""
    target = tmp_path / f"r.{fmt}"
    before = interrupted(full, target)
    lock = held(target)
    try:
        rc, err = predict([images, "-o", target], capsys)
        assert (rc, err) == (2, busy(target))
        assert target.read_bytes() == before and sorted(p.name for p in tmp_path.iterdir()) == [target.name]
    finally:
        lock.close()
    rc, err = predict([images, "-o", target, "--format", "jsonl"], capsys)  # no run holds it now: it is replaced
    assert rc == 0 and target.read_text() == full, err
    missing = tmp_path / "new.jsonl"  # none there: none is made to ask
    rc, err = predict([images, "-o", missing], capsys)
    assert rc == 0 and missing.read_text() == full, err


@pytest.mark.parametrize("there", [True, False])
def test_a_resume_run_is_refused_while_a_run_without_resume_writes_the_file(images, full, tmp_path, there, capsys):
    """The reverse: ``predict DIR -o r.jsonl --resume`` started while ``predict DIR -o r.jsonl`` ran appended to a file
    the other then replaced (or made, where there was none) with its own: the --resume run's records were lost. The
    run without --resume holds the temporary file it writes r.jsonl as (here another open of one holds it)."""
    target = tmp_path / "r.jsonl"
    before = interrupted(full, target) if there else None
    writing = tmp_path / ".r.jsonl.0123abcd"
    lock = held(writing)
    try:
        rc, err = predict([images, "-o", target, "--resume"], capsys)
        assert (rc, err) == (2, busy(target, resuming=False))  # it said "another braintumor predict --resume"
        assert (target.read_bytes() if there else target.exists()) == (before if there else False)
        assert writing.read_bytes() == b""
    finally:
        lock.close()
    writing.unlink()  # a killed run's, unlocked: no run writes r.jsonl now
    rc, err = predict([images, "-o", target, "--resume"], capsys)
    assert rc == 0 and target.read_text() == full, err


def test_a_run_without_resume_holds_its_file_to_the_end(images, full, tmp_path, monkeypatch, capsys):
    """Its temporary file while it writes it, and the file once moved into place, until the run ends."""
    from braintumor import predict_output

    target, seen = tmp_path / "r.jsonl", []
    move = predict_output.moved_into_place

    def locked(path) -> bool:
        with open(path, "ab") as fh:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                return True
            return False

    def watched(tmp, dest) -> None:
        seen.append(locked(tmp))
        move(tmp, dest)
        seen.append(locked(dest))

    monkeypatch.setattr(predict_output, "moved_into_place", watched)
    rc, err = predict([images, "-o", target], capsys)
    assert rc == 0 and target.read_text() == full, err
    assert seen == [True, True] and not locked(target)  # let go at the end


def test_asking_whether_a_file_is_held_takes_a_shared_lock_a_resume_run_waits_out(tmp_path):
    """A run without --resume asked by taking the exclusive lock for an instant: two such runs asking at once refused
    each other, and a --resume run starting at that instant was refused as if another were writing. It asks with a
    shared lock now, which only a --resume run's exclusive one bars; a --resume run waits a moment for a probe's."""
    from braintumor.exit_errors import UsageError

    target = tmp_path / "r.jsonl"
    target.write_text("")
    probe = open(target, "ab")  # noqa: SIM115 - another run asking, at this instant
    fcntl.flock(probe.fileno(), fcntl.LOCK_SH | fcntl.LOCK_NB)
    try:
        resume_lock.check_not_held(str(target))  # a second asking at once: not refused
        threading.Timer(0.1, probe.close).start()  # the probe lets go at once, as check_not_held does
        # a --resume run starting meanwhile is not refused, and its exclusive lock is still seen
        with resume_lock.resume_lock(str(target)), pytest.raises(UsageError, match=r"another .* is writing"):
            resume_lock.check_not_held(str(target))
    finally:
        probe.close()
    lock = held(target)
    try:
        # a --resume run's lock is not waited out for ever
        with pytest.raises(UsageError, match=r"another .* is writing"), resume_lock.resume_lock(str(target)):
            pass
    finally:
        lock.close()


@pytest.mark.parametrize("token", ["00000000", "ffffffff"])
def test_a_second_run_without_resume_on_the_same_file_is_refused(images, full, tmp_path, token, capsys):
    """``predict big -o o.jsonl --heatmap h`` twice at once: both ended 0, the last rename won, and the other's records
    were lost, its maps named by no record. The second is refused at its start, FILE and the maps folder untouched,
    whichever of the two temporary files' names sorts first (one sorting after this run's is waited for a moment)."""
    target, maps = tmp_path / "r.jsonl", tmp_path / "maps"
    before = interrupted(full, target)
    writing = tmp_path / f".r.jsonl.{token}"  # the first run's temporary file, held
    lock = held(writing)
    try:
        rc, err = predict([images, "-o", target, "--heatmap", maps], capsys)
        assert (rc, err) == (2, busy(target, resuming=False))
        assert target.read_bytes() == before and not maps.exists()
        assert sorted(p.name for p in tmp_path.iterdir()) == sorted([target.name, writing.name])
    finally:
        lock.close()


def test_of_two_runs_without_resume_that_see_each_other_the_first_named_goes_on(images, full, tmp_path, capsys):
    """Two runs started at the same instant each hold their temporary file before looking for another's: each sees
    the other. The one whose name sorts after is refused at once; the other waits for it to let go, and goes on."""
    target = tmp_path / "r.jsonl"
    writing = tmp_path / ".r.jsonl.ffffffff"  # a run started at once, refused: it lets go a moment later
    lock = held(writing)
    threading.Timer(0.1, lambda: (writing.unlink(), lock.close())).start()
    try:
        rc, err = predict([images, "-o", target], capsys)
    finally:
        lock.close()
    assert rc == 0 and target.read_text() == full, err


@pytest.mark.parametrize("resume", [False, True])
def test_a_file_held_by_a_run_without_resume_in_place_is_not_said_a_resume_runs(images, full, tmp_path, resume,
                                                                                monkeypatch, capsys):
    """A run without --resume holds FILE from its rename to its end, as a --resume run holds it: the lock cannot tell
    them apart. A run started then was told "another braintumor predict --resume is writing FILE" of the other."""
    from braintumor import predict_output

    target, seen = tmp_path / "r.jsonl", {}
    move = predict_output.moved_into_place

    def then_another(tmp, dest) -> None:
        move(tmp, dest)  # in place, and held to the end of this run: a second braintumor process started now
        second = [sys.executable, "-m", "braintumor", "predict", str(images), "-o", str(target), "--no-progress",
                  *(["--resume"] if resume else [])]
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
        seen["second"] = subprocess.run(second, env=env, capture_output=True, text=True, timeout=120)

    monkeypatch.setattr(predict_output, "moved_into_place", then_another)
    assert predict([images, "-o", target], capsys)[0] == 0
    assert (seen["second"].returncode, seen["second"].stderr) == (2, busy(target))
    assert "--resume is" not in seen["second"].stderr and target.read_text() == full
