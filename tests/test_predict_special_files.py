"""``braintumor predict`` given what a shared drive holds besides files: a named pipe nothing writes to, a device that
never ends (``/dev/zero``), symbolic links that lead nowhere or in a loop. Each is one precise error record; the run
neither hangs nor fills the memory, and the other inputs are classified."""

from __future__ import annotations

import contextlib
import json
import os
import threading
from pathlib import Path

import pytest
from conftest import encode, synthetic_head

from braintumor import file_reads
from braintumor.cli import main
from braintumor.model_files import default_model_path
from braintumor.wording import counted

MODEL = default_model_path()
pytestmark = [pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}"),
              pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")]


def _predict(paths: list[Path | str], capsys, timeout: float = 20.0) -> tuple[int | None, list[dict], str]:
    """predict in a thread, so that a run that hangs fails the test instead of the test run (rc None: still running)."""
    got: list[int] = []
    run = threading.Thread(target=lambda: got.append(main(["predict", *map(str, paths), "--format", "jsonl",
                                                           "--model", str(MODEL)])), daemon=True)
    run.start()
    run.join(timeout)
    out, err = capsys.readouterr()
    return (got[0] if got else None), [json.loads(line) for line in out.splitlines()], err


def _unblock(fifo: Path) -> None:
    """Let a reader stuck opening ``fifo`` go (the test failed: a writer arrives, writes nothing and leaves)."""
    with contextlib.suppress(OSError):  # nothing waits there: the run did not hang
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))


@pytest.mark.parametrize("name", ["scan.jpg", "scan.nii"])
def test_a_named_pipe_nothing_writes_to_is_an_error_not_a_hang(name, tmp_path, capsys, monkeypatch):
    """A FIFO named as an input blocked predict forever in open(): nothing had opened it for writing."""
    monkeypatch.setattr(file_reads, "PIPE_WAIT_S", 0.3, raising=False)
    fifo, good = tmp_path / name, tmp_path / "good.png"
    os.mkfifo(fifo)
    good.write_bytes(encode(synthetic_head(200)))
    try:
        rc, recs, err = _predict([fifo, good], capsys)
    finally:
        _unblock(fifo)
    assert rc == 1, "predict hung on a pipe nothing writes to"
    assert recs[0] == {"path": str(fifo), "error": "cannot read file: nothing was written to this pipe in 0.3 s "
                                                   "(is anything writing to it?)"}
    assert "error" not in recs[1] and "Traceback" not in err


def test_a_named_pipe_is_still_read_when_something_writes_to_it(tmp_path, capsys):
    """``mkfifo p; producer > p & braintumor predict p`` (and ``<(zcat ...)``) still work: only silence is refused."""
    fifo = tmp_path / "scan.png"
    os.mkfifo(fifo)
    data = encode(synthetic_head(200))
    writer = threading.Thread(target=lambda: fifo.write_bytes(data), daemon=True)
    writer.start()
    rc, recs, _ = _predict([fifo], capsys)
    writer.join(5)
    assert rc is not None and "error" not in recs[0] and recs[0]["path"] == str(fifo)


def test_a_device_that_never_ends_is_refused_unread(tmp_path, capsys, monkeypatch):
    """``/dev/zero`` says its size is 0, so the size check passed and read_bytes() read until the memory was full
    (the kernel killed predict); a link to it in a folder given by name did the same. Then it was read to the size
    limit and called "larger than the limit": a device is no file, and said so."""
    if not Path("/dev/zero").exists():
        pytest.skip("no /dev/zero on this system")

    def whole_file(self):  # the old way in: here an error, not the machine's memory
        raise MemoryError("read without end")

    monkeypatch.setattr(Path, "read_bytes", whole_file)
    (tmp_path / "zero.nii").symlink_to("/dev/zero")
    rc, recs, err = _predict(["/dev/zero", tmp_path / "zero.nii"], capsys)
    assert rc == 1 and "Traceback" not in err
    device = "cannot read file: it is a character device, not a file"
    assert recs == [{"path": "/dev/zero", "error": device}, {"path": str(tmp_path / "zero.nii"), "error": device}]


def test_links_that_lead_nowhere_or_in_a_loop_say_so(tmp_path, capsys):
    """A dangling link and a loop of links both said 'file not found', while ls shows the file there."""
    (tmp_path / "gone.jpg").symlink_to(tmp_path / "moved" / "scan.jpg")
    (tmp_path / "a.jpg").symlink_to("b.jpg")
    (tmp_path / "b.jpg").symlink_to("a.jpg")
    rc, recs, _ = _predict([tmp_path / "gone.jpg", tmp_path / "a.jpg"], capsys)
    assert rc == 1
    assert recs[0]["error"] == f"broken symbolic link: {tmp_path / 'gone.jpg'} -> {tmp_path / 'moved' / 'scan.jpg'}"
    assert recs[1]["error"] == f"symbolic link loop: {tmp_path / 'a.jpg'}"


def test_pipes_and_devices_named_like_inputs_in_a_folder_are_said_to_be_left_out(tmp_path, capsys):
    """A folder's walk passes over pipes and devices (reading one may never end), and did so without a word: a FIFO
    named scan.jpg, or a link to /dev/zero named head.nii, was simply not in the results. Now a note names them; the
    exit code and the records stay as they were, and a pipe named anything else (not an input) stays unsaid."""
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "good.png").write_bytes(encode(synthetic_head(200)))
    os.mkfifo(folder / "scan.jpg")
    os.mkfifo(folder / "control")
    if Path("/dev/zero").exists():
        (folder / "head.nii").symlink_to("/dev/zero")
    rc, recs, err = _predict([folder], capsys)
    assert rc == 0 and [r["path"] for r in recs] == [str(folder / "good.png")]
    special = sorted(p for p in folder.iterdir() if p.name in ("scan.jpg", "head.nii"))
    assert (f"note: {counted(len(special), 'file')} in {folder} not read (pipes and devices in a folder are not "
            f"read: name each one): {', '.join(map(str, special))}") in err.splitlines()
    assert "control" not in err


def test_a_named_pipe_named_twice_is_read_once_and_the_second_told_why(tmp_path, capsys):
    """A file named twice is read, and answered, twice; a pipe's bytes can be read only once: the second name of the
    same pipe was "file is empty (0 bytes)" (or, for a named pipe, 30 s of waiting for a writer that had gone)."""
    fifo = tmp_path / "scan.png"
    os.mkfifo(fifo)
    writer = threading.Thread(target=lambda: fifo.write_bytes(encode(synthetic_head(200))), daemon=True)
    writer.start()
    rc, recs, _ = _predict([fifo, tmp_path / "." / "scan.png"], capsys)
    writer.join(5)
    assert rc == 1 and "error" not in recs[0]
    assert recs[1] == {"path": str(fifo), "error": f"this named pipe was already read, as {fifo}: a pipe can be read "
                       "only once (name it once, or save what it holds to a file and name that)"}


@pytest.mark.skipif(not Path("/dev/stdin").exists(), reason="no /dev/stdin on this system")
def test_standard_input_named_twice_is_read_once_and_the_second_told_why(tmp_path):
    """``producer | braintumor predict /dev/stdin /dev/fd/0``: the second name was "file is empty (0 bytes)"."""
    import subprocess
    import sys

    run = subprocess.run([sys.executable, "-m", "braintumor", "predict", "/dev/stdin", "/dev/fd/0", "--format", "jsonl",
                          "--model", str(MODEL)], input=encode(synthetic_head(200)), capture_output=True, timeout=120,
                         env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    recs = [json.loads(line) for line in run.stdout.splitlines()]
    assert run.returncode == 1 and "error" not in recs[0], run.stderr
    assert recs[1] == {"path": "/dev/fd/0", "error": "standard input was already read, as /dev/stdin: a pipe can be "
                       "read only once (name it once, or save what it holds to a file and name that)"}


def test_predict_many_tells_a_pipe_named_twice_that_it_was_read_as_predict_does(tmp_path, monkeypatch):
    """``Classifier.predict_many([pipe, pipe])``: the second name was "file is empty (0 bytes)", or 30 s of waiting for
    a writer that had gone, where ``braintumor predict`` says it was already read (input_plan's words)."""
    from braintumor import Classifier, ImageError

    monkeypatch.setattr(file_reads, "PIPE_WAIT_S", 0.5)  # without the fix, the second read waits this long
    clf = Classifier.load(MODEL)
    fifo = tmp_path / "scan.png"
    os.mkfifo(fifo)
    threading.Thread(target=lambda: fifo.write_bytes(encode(synthetic_head(200))), daemon=True).start()
    (first, one), (second, two) = clf.predict_many([str(fifo), tmp_path / "." / "scan.png"])
    assert (first, second) == (str(fifo), tmp_path / "." / "scan.png") and not isinstance(one, ImageError)
    assert isinstance(two, ImageError) and str(two) == (
        f"this named pipe was already read, as {fifo}: a pipe can be read only once (name it once, or save what it "
        "holds to a file and name that)")


@pytest.mark.skipif(not Path("/dev/stdin").exists(), reason="no /dev/stdin on this system")
def test_predict_many_tells_standard_input_named_twice_that_it_was_read():
    """``producer | python -c '...predict_many(["/dev/stdin", "/dev/fd/0"])'``: the second was "file is empty"."""
    import subprocess
    import sys

    code = ("import sys; from braintumor import Classifier; "
            "[print(str(o)) for _, o in Classifier.load(sys.argv[1]).predict_many(['/dev/stdin', '/dev/fd/0'])]")
    run = subprocess.run([sys.executable, "-c", code, str(MODEL)], input=encode(synthetic_head(200)),
                         capture_output=True, timeout=120, env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    lines = run.stdout.decode().splitlines()
    assert run.returncode == 0 and len(lines) == 2 and "already" not in lines[0], run.stderr
    assert lines[1] == ("standard input was already read, as /dev/stdin: a pipe can be read only once (name it once, "
                        "or save what it holds to a file and name that)")
