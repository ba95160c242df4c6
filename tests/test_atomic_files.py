"""Finished outputs are put in place whole; a device or FIFO at the destination is written through, never replaced
(export, quantize and data audit replaced /dev/null or a named pipe with a regular file)."""

from __future__ import annotations

import os
import signal
import threading

import pytest
from conftest import extra_reason

from braintumor.atomic_files import put_in_place, temp_beside


def test_a_regular_destination_is_replaced_and_the_temp_file_is_gone(tmp_path):
    target = tmp_path / "model.onnx"
    target.write_bytes(b"old")
    fd, tmp = temp_beside(target)
    with open(fd, "wb") as fh:
        fh.write(b"new")
    put_in_place(tmp, target)
    assert target.read_bytes() == b"new" and sorted(p.name for p in tmp_path.iterdir()) == ["model.onnx"]


def test_a_fifo_destination_is_written_through(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()), daemon=True)
    reader.start()
    tmp = tmp_path / ".pipe.tmp"
    tmp.write_bytes(b"x" * 200_000)  # more than a pipe's buffer
    put_in_place(tmp, fifo)
    reader.join(timeout=10)
    assert got == [b"x" * 200_000] and fifo.is_fifo() and not tmp.exists()
    # (not tried on /dev/null: were the code broken, the test would replace the machine's /dev/null)


#: A file name the file system takes (252 bytes of UTF-8, 127 characters) whose ``NAME.tmp`` (256) it does not.
LONG_NAME = "é" * 124 + "x.pt"


def _only(folder, name):
    """Nothing but ``name`` is left in ``folder``: the temporary file was moved into place, not left beside it."""
    assert sorted(p.name for p in folder.iterdir()) == [name]


def test_a_checkpoint_with_a_long_name_is_written(tmp_path):
    """save_checkpoint built its own ``NAME.tmp`` beside the target: 'File name too long' for a 252-byte name."""
    import pytest

    torch = pytest.importorskip("torch", reason=extra_reason("torch"))
    from braintumor.checkpoints import save_checkpoint

    assert len(LONG_NAME.encode()) == 252
    save_checkpoint({"epoch": 3}, tmp_path / LONG_NAME)
    assert torch.load(tmp_path / LONG_NAME)["epoch"] == 3
    _only(tmp_path, LONG_NAME)


def test_an_epoch_log_with_a_long_name_is_rewritten(tmp_path):
    import pytest

    pytest.importorskip("torch", reason=extra_reason("torch"))
    from braintumor.checkpoints import keep_epochs_through

    log = tmp_path / ("é" * 123 + "x.jsonl")  # 253 bytes
    log.write_text('{"epoch": 1}\n{"epoch": 2}\n')
    keep_epochs_through(log, 1)
    assert log.read_text() == '{"epoch": 1}\n'
    _only(tmp_path, log.name)


def test_a_figure_with_a_long_name_is_written(tmp_path):
    """figures.save_png's ``.NAME.PID.tmp`` was 'File name too long' for a 250-byte figure name."""
    import pytest

    pytest.importorskip("matplotlib", reason=extra_reason("matplotlib"))
    import numpy as np

    from braintumor.figures import plot_confidence_hist

    out = tmp_path / ("f" * 246 + ".png")
    plot_confidence_hist(np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]]), out)
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    _only(tmp_path, out.name)


def test_a_checkpoint_written_through_a_link_keeps_the_link(tmp_path):
    """A run folder's last.pt linked to shared storage: replacing the name swapped the link for a regular file."""
    import pytest

    torch = pytest.importorskip("torch", reason=extra_reason("torch"))
    from braintumor.checkpoints import save_checkpoint

    (tmp_path / "store").mkdir()
    (tmp_path / "run").mkdir()
    link = tmp_path / "run" / "last.pt"
    link.symlink_to(tmp_path / "store" / "last.pt")
    save_checkpoint({"epoch": 2}, link)
    assert link.is_symlink() and torch.load(tmp_path / "store" / "last.pt")["epoch"] == 2
    _only(tmp_path / "store", "last.pt")


def test_a_figure_or_report_into_a_missing_folder_is_refused_and_no_folder_made(tmp_path):
    """figures.save_png and report.write_text_atomic made any missing folders, as export and the CLI's file outputs no
    longer do: a mistyped path (a script's --json, a figure's name) silently made a tree of them."""
    import re

    import numpy as np
    import pytest

    from braintumor.report import write_text_atomic

    missing = tmp_path / "typo" / "deeper"
    said = re.escape(f"there is no folder {missing} (none is made")
    with pytest.raises(FileNotFoundError, match=f"^cannot write {re.escape(str(missing / 'r.json'))}: {said}"):
        write_text_atomic(missing / "r.json", "{}\n")
    pytest.importorskip("matplotlib", reason=extra_reason("matplotlib"))
    from braintumor.figures import plot_confidence_hist

    with pytest.raises(FileNotFoundError, match=f"^cannot write {re.escape(str(missing / 'c.png'))}: {said}"):
        plot_confidence_hist(np.array([0, 1]), np.array([[0.9, 0.1], [0.2, 0.8]]), missing / "c.png")
    assert list(tmp_path.iterdir()) == []


def test_a_stop_as_the_temp_file_is_made_leaves_none(tmp_path, monkeypatch):
    """Ctrl-C during ``predict --heatmap DIR --resume``: its handler ran as ``os.open`` returned, and the hidden
    ``.scan.heatmap.png.1a2b3c4d`` just made, its name never returned to be removed, stayed in DIR (2 runs in 5)."""
    from braintumor import atomic_files

    real_open = os.open

    def opened_then_stopped(path, *args, **kwargs):
        real_open(path, *args, **kwargs)  # (its descriptor is lost with the return, as Ctrl-C's loses it)
        raise KeyboardInterrupt

    monkeypatch.setattr(atomic_files.os, "open", opened_then_stopped)
    with pytest.raises(KeyboardInterrupt):
        temp_beside(tmp_path / "scan.heatmap.png")
    monkeypatch.undo()
    assert list(tmp_path.iterdir()) == [] and not atomic_files._LIVE


def test_a_forced_stop_removes_the_staging_folder_and_names_the_output(tmp_path):
    """A second Ctrl-C (the process ends at once, no cleanup runs) during evaluate left its hidden staging folder in
    --out, and named the file being written by that folder (``.braintumor-staging-1a2b/roc.png not written``)."""
    from braintumor.atomic_files import folder_replaced_whole, remove_temps, settled

    (tmp_path / "report.html").write_text("an earlier run's")
    with pytest.raises(KeyboardInterrupt), folder_replaced_whole(tmp_path) as staged:
        (staged / "predictions.csv").write_text("written whole")
        fd, tmp = temp_beside(staged / "roc.png")
        os.close(fd)
        assert remove_temps() == [str(tmp_path / "roc.png")]  # what the forced stop's handler runs
        assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html"]
        settled(tmp)
        raise KeyboardInterrupt  # (the block's own end, which a forced stop never reaches)
    assert (tmp_path / "report.html").read_text() == "an earlier run's"


def test_a_folder_at_an_owned_name_is_refused_before_anything_moves(tmp_path):
    """An owned name (an earlier run's figure, removed where this run draws none) that is a folder failed only after
    every file had moved: the run said it failed, and --out held its files beside nothing of the earlier run's."""
    from braintumor.atomic_files import folder_replaced_whole

    (tmp_path / "report.html").write_text("an earlier run's")
    (tmp_path / "training_curves.png").mkdir()
    with pytest.raises(IsADirectoryError, match=r"training_curves\.png"), \
            folder_replaced_whole(tmp_path, ["training_curves.png"]) as staged:
        (staged / "report.html").write_text("this run's")
    assert (tmp_path / "report.html").read_text() == "an earlier run's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["report.html", "training_curves.png"]


def test_a_named_pipe_at_an_output_name_is_refused_before_anything_moves(tmp_path):
    """A FIFO at one of evaluate's names (``mkfifo out/predictions.csv``) was opened to be written through inside the
    move, stop signals held: it waited for a reader, and neither Ctrl-C nor SIGTERM ended the run."""
    from braintumor.atomic_files import folder_replaced_whole

    def waited(signum, frame):  # the regression waits forever: fail it instead
        raise TimeoutError("the move waited for a reader of the named pipe")

    (tmp_path / "report.html").write_text("an earlier run's")
    os.mkfifo(tmp_path / "predictions.csv")
    before = signal.signal(signal.SIGALRM, waited)
    signal.alarm(10)
    try:
        with pytest.raises(OSError, match=r"named pipe.*predictions\.csv"), folder_replaced_whole(tmp_path) as staged:
            (staged / "report.html").write_text("this run's")
            (staged / "predictions.csv").write_text("a,b\n")
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, before)
    assert (tmp_path / "report.html").read_text() == "an earlier run's"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["predictions.csv", "report.html"]


def test_a_move_that_fails_part_way_puts_back_the_earlier_run(tmp_path, monkeypatch):
    """A move into --out that failed after some files had moved (here the third: a full disk) left this run's
    predictions.csv beside the earlier run's metrics.json and report.html, which described other images; an
    earlier figure this run does not draw was removed. Now every file is put back as it was, new names removed."""
    from braintumor import atomic_files
    from braintumor.atomic_files import folder_replaced_whole

    for name in ("predictions.csv", "report.html", "metrics.json", "gallery_refused.png"):
        (tmp_path / name).write_text(f"an earlier run's {name}")
    real, moves = os.replace, []

    def full_at_third(src, dst):
        if ".braintumor-staging" in str(src) and ".braintumor-staging" not in str(dst) and ".earlier" not in str(src):
            moves.append(dst)  # a staged file's move (not one put back)
            if len(moves) == 3:
                raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(atomic_files.os, "replace", full_at_third)
    with pytest.raises(OSError, match="No space left"), \
            folder_replaced_whole(tmp_path, ["gallery_refused.png"], "metrics.json") as staged:
        for name in ("predictions.csv", "roc.png", "report.html", "metrics.json"):
            (staged / name).write_text(f"this run's {name}")
    assert len(moves) == 3
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gallery_refused.png", "metrics.json", "predictions.csv",
                                                          "report.html"]
    for p in tmp_path.iterdir():
        assert p.read_text() == f"an earlier run's {p.name}"


def test_a_move_through_a_link_that_fails_puts_back_what_it_leads_to(tmp_path, monkeypatch):
    """A report.html that is a link (to a shared page) is written through; the move failing after it (metrics.json,
    moved last, on a full disk) left the shared page this run's, beside the earlier metrics.json."""
    from braintumor import atomic_files
    from braintumor.atomic_files import folder_replaced_whole

    shared = tmp_path / "shared.html"
    shared.write_text("an earlier run's report.html")
    out = tmp_path / "out"
    out.mkdir()
    (out / "report.html").symlink_to(shared)
    (out / "metrics.json").write_text("an earlier run's metrics.json")
    real = os.replace

    def full_at_metrics(src, dst):
        if str(dst).endswith("metrics.json") and ".braintumor-staging" not in str(dst):
            raise OSError(28, "No space left on device")
        return real(src, dst)

    monkeypatch.setattr(atomic_files.os, "replace", full_at_metrics)
    with pytest.raises(OSError, match="No space left"), folder_replaced_whole(out, (), "metrics.json") as staged:
        for name in ("report.html", "new.png", "metrics.json"):
            (staged / name).write_text(f"this run's {name}")
    assert (out / "report.html").is_symlink() and shared.read_text() == "an earlier run's report.html"
    assert (out / "metrics.json").read_text() == "an earlier run's metrics.json"
    assert sorted(p.name for p in out.iterdir()) == ["metrics.json", "report.html"]
