"""The workers' metrics folders ``serve`` makes (src/braintumor/metrics_folders.py): a server killed outright with its
watcher (a cgroup's OOM kill takes every process of the unit) left its folder in /dev/shm for good, one more at every
such end; the next start removes those, and nothing else."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from braintumor.gunicorn_config import METRICS_DIR_PREFIX

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="gunicorn, and so these folders, are POSIX only")


def _dead_pid() -> int:
    """A pid no process has now (one that has just ended and been waited for)."""
    child = subprocess.Popen([sys.executable, "-c", ""])
    child.wait()
    return child.pid


def _folder(path: Path) -> Path:
    path.mkdir()
    (path / "counter_0.db").write_bytes(b"metrics")
    return path


def test_a_start_removes_the_folders_of_servers_killed_outright_and_nothing_else(tmp_path, monkeypatch):
    from braintumor.metrics_folders import hold_metrics_dir, new_metrics_dir

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    dead = _dead_pid()
    stale = _folder(tmp_path / f"{METRICS_DIR_PREFIX}{dead}-abc_1234")
    elsewhere = _folder(tmp_path / "elsewhere")
    kept = [
        _folder(tmp_path / f"{METRICS_DIR_PREFIX}{os.getpid()}-abcd1234"),  # its server alive
        _folder(tmp_path / f"{METRICS_DIR_PREFIX}{dead}-held1234"),  # a pid not seen here, its lock held (below)
        _folder(tmp_path / f"{METRICS_DIR_PREFIX}abcd1234"),  # an earlier version's name: no pid to check
        _folder(tmp_path / f"other-metrics-{dead}-abcd1234"),  # not this tool's
        _folder(tmp_path / f"{METRICS_DIR_PREFIX}{dead}-abcd1234-mine"),  # not a name this tool makes
    ]
    (tmp_path / f"{METRICS_DIR_PREFIX}{dead}-file1234").write_text("a file")
    (tmp_path / f"{METRICS_DIR_PREFIX}{dead}-link1234").symlink_to(elsewhere)
    kept += [tmp_path / f"{METRICS_DIR_PREFIX}{dead}-file1234", tmp_path / f"{METRICS_DIR_PREFIX}{dead}-link1234"]
    held = hold_metrics_dir(str(kept[1]))
    try:
        made = Path(new_metrics_dir())
    finally:
        os.close(held)
    assert not stale.exists()
    assert all(os.path.lexists(path) for path in kept) and (elsewhere / "counter_0.db").is_file()
    assert made.parent == tmp_path and made.name.startswith(f"{METRICS_DIR_PREFIX}{os.getpid()}-")


def test_a_stale_folder_of_another_user_is_left(tmp_path):
    from braintumor.metrics_folders import remove_stale_metrics_dirs

    stale = _folder(tmp_path / f"{METRICS_DIR_PREFIX}{_dead_pid()}-abcd1234")
    assert remove_stale_metrics_dirs(str(tmp_path), {os.geteuid() + 1}) == [] and stale.is_dir()
    assert remove_stale_metrics_dirs(str(tmp_path), {os.geteuid()}) == [stale.name] and not stale.exists()


def test_a_fresh_folder_removed_by_another_start_before_its_lock_is_made_again_and_held(tmp_path, monkeypatch):
    """Two starts at once, in containers sharing /dev/shm: the other cannot see this pid, and the folder is not yet
    locked between mkdtemp and hold_metrics_dir; it was removed under the server, whose workers then had none."""
    import fcntl

    from braintumor import metrics_folders

    monkeypatch.setenv("TMPDIR", str(tmp_path))
    path = metrics_folders.new_metrics_dir()
    monkeypatch.setattr(metrics_folders, "_alive", lambda pid: False)  # the other container's view
    assert metrics_folders.remove_stale_metrics_dirs(str(tmp_path), {os.geteuid()}) == [Path(path).name]
    held = metrics_folders.hold_metrics_dir(path)
    try:
        assert os.path.samestat(os.fstat(held), os.stat(path))
        assert metrics_folders.remove_stale_metrics_dirs(str(tmp_path), {os.geteuid()}) == [] and Path(path).is_dir()
        assert oct(os.stat(path).st_mode & 0o777) == "0o700"
    finally:
        os.close(held)
    other = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)  # the held lock ended with its descriptor
    finally:
        os.close(other)
