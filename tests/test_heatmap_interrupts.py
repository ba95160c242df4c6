"""``braintumor predict --resume --heatmap DIR`` stopped by Ctrl-C, SIGTERM or SIGHUP: each heat map in DIR is named by
a record in the results, and each record's heat map is there. A signal that came after a PNG was put in place and
before its record was written left a PNG no record named; the rerun drew that input again as ``a-2.heatmap.png``."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from braintumor.cli import main
from braintumor.model_files import default_model_path

pytestmark = [pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model"),
              pytest.mark.skipif(not hasattr(signal, "pthread_sigmask"), reason="signals cannot be held here")]


def _maps_and_records(maps: Path, results: Path) -> tuple[list[str], list[str]]:
    named = [json.loads(line)["heatmap"] for line in results.read_text().splitlines()]
    return sorted(str(p) for p in maps.glob("*.png")), sorted(named)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM, signal.SIGHUP])
def test_a_signal_between_a_heat_map_and_its_record_leaves_both_or_neither(signum, test_images, tmp_path,
                                                                            monkeypatch):
    scans = tmp_path / "scans"
    scans.mkdir()
    for name, source in zip("abc", test_images["glioma"], strict=True):
        shutil.copy(source, scans / f"{name}.jpg")
    maps, results = tmp_path / "maps", tmp_path / "r.jsonl"
    command = ["predict", str(scans), "-o", str(results), "--resume", "--heatmap", str(maps)]
    place = os.link  # (heatmap_files: the map takes its name by a hard link)

    def signalled_once_b_is_in_place(src, dst, *args, **kwargs):
        place(src, dst, *args, **kwargs)
        if str(dst).endswith("b.heatmap.png"):
            signal.raise_signal(signum)  # raised here at once, before the record, unless the signal is held

    monkeypatch.setattr(os, "link", signalled_once_b_is_in_place)
    assert main(command) in (130, 128 + signum)
    monkeypatch.setattr(os, "link", place)
    pngs, named = _maps_and_records(maps, results)
    assert pngs == named == [str(maps / "a.heatmap.png"), str(maps / "b.heatmap.png")]
    assert main(command) == 0  # the rerun draws c only, under its own name
    assert _maps_and_records(maps, results) == ([str(maps / f"{n}.heatmap.png") for n in "abc"],) * 2


def test_a_record_that_cannot_be_written_takes_its_heat_map_with_it(test_images, tmp_path, monkeypatch, capsys):
    """The results' disk full at b's record: the rerun redoes b, so b's PNG, named by no record, goes too."""
    from braintumor.predict_output import Formatter

    scans = tmp_path / "scans"
    scans.mkdir()
    for name, source in zip("ab", test_images["glioma"], strict=False):
        shutil.copy(source, scans / f"{name}.jpg")
    maps, results = tmp_path / "maps", tmp_path / "r.jsonl"
    write = Formatter.write

    def full_at_b(self, rec):
        if rec["path"].endswith("b.jpg"):
            raise OSError(28, "No space left on device")
        write(self, rec)

    monkeypatch.setattr(Formatter, "write", full_at_b)
    assert main(["predict", str(scans), "-o", str(results), "--resume", "--heatmap", str(maps)]) == 1
    assert "No space left on device" in capsys.readouterr().err
    assert _maps_and_records(maps, results) == ([str(maps / "a.heatmap.png")],) * 2


def test_a_run_stopped_before_its_results_file_was_written_takes_the_maps_it_added(test_images, tmp_path, monkeypatch,
                                                                                    capsys):
    """Without --resume, ``-o FILE`` appears whole or not at all: Ctrl-C after b's map left a.heatmap.png and
    b.heatmap.png, and no results naming them (and, in a new folder, the folder). Maps an earlier run left there stay,
    and so do those of records printed as they come (stdout)."""
    scans = tmp_path / "scans"
    scans.mkdir()
    for name, source in zip("abc", test_images["glioma"], strict=True):
        shutil.copy(source, scans / f"{name}.jpg")
    place = os.link

    def stopped_once_b_is_in_place(src, dst, *args, **kwargs):
        place(src, dst, *args, **kwargs)
        if str(dst).endswith("b.heatmap.png"):
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "link", stopped_once_b_is_in_place)
    maps, results = tmp_path / "maps", tmp_path / "r.csv"
    assert main(["predict", str(scans), "-o", str(results), "--heatmap", str(maps)]) == 130
    assert not results.exists() and not maps.exists()
    maps.mkdir()
    (maps / "a.heatmap.png").write_bytes(b"an earlier run's")  # never replaced: this run's a is a-2.heatmap.png
    assert main(["predict", str(scans), "-o", str(results), "--heatmap", str(maps)]) == 130
    assert sorted(p.name for p in maps.iterdir()) == ["a.heatmap.png"]
    assert (maps / "a.heatmap.png").read_bytes() == b"an earlier run's"
    capsys.readouterr()
    assert main(["predict", str(scans), "--format", "jsonl", "--heatmap", str(maps)]) == 130
    printed = [json.loads(line)["heatmap"] for line in capsys.readouterr().out.splitlines()]
    assert printed == [str(maps / "a-2.heatmap.png")]  # b's record was next (stdout's writes are not held)
    # b's map, stopped as it took its name (before its hard link's temporary name went), is named by no record: gone
    assert sorted(p.name for p in maps.iterdir()) == ["a-2.heatmap.png", "a.heatmap.png"]


def test_a_run_that_classified_nothing_leaves_no_empty_heat_map_folder(tmp_path, capsys):
    """Every input refused or unreadable: no map was drawn, and the --heatmap folder the run made for them was left
    behind, empty, and so were the folders above it that it made. One that was there before stays."""
    import numpy as np
    from conftest import encode

    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "notes.jpg").write_bytes(b"not an image")
    colour = np.zeros((128, 128, 3), np.uint8)
    colour[..., 0], colour[32:96, 32:96, 1] = 200, 180
    (scans / "photo.png").write_bytes(encode(colour))
    maps = tmp_path / "maps"
    for output in (["-o", str(tmp_path / "r.jsonl")], ["--format", "jsonl"]):
        assert main(["predict", str(scans), *output, "--heatmap", str(maps)]) == 1
        assert not maps.exists()
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [("error" in r, r.get("ood")) for r in records] == [(True, None), (False, True)]
    maps.mkdir()
    assert main(["predict", str(scans), "--format", "jsonl", "--heatmap", str(maps)]) == 1
    assert maps.is_dir()
    # a folder two levels down: both made for it, both removed (only the last was; the one above it stayed, empty)
    assert main(["predict", str(scans), "--format", "jsonl", "--heatmap", str(tmp_path / "out" / "maps")]) == 1
    assert not (tmp_path / "out").exists()
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "kept.txt").write_text("x")  # there before: stays, with what it holds
    assert main(["predict", str(scans), "--format", "jsonl", "--heatmap", str(tmp_path / "out" / "a" / "b")]) == 1
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["kept.txt"]


_KILLED_AS_A_MAP_TAKES_ITS_NAME = """
import os, signal, sys
from braintumor.cli import main
def killed(name):
    real = getattr(os, name)
    def call(src, dst, *args, **kwargs):
        if str(dst).endswith("b.heatmap.png"):
            os.kill(os.getpid(), signal.SIGKILL)  # no handler runs: an OOM kill, kill -9
        return real(src, dst, *args, **kwargs)
    setattr(os, name, call)
killed("link"), killed("replace")
sys.exit(main(sys.argv[1:]))
"""


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="no SIGKILL")
def test_a_run_killed_outright_as_a_map_takes_its_name_leaves_no_empty_map(test_images, tmp_path):
    """kill -9 as b's map was put in place: its name was first taken by an empty file (O_EXCL), then the map moved onto
    it. The kill left an empty b.heatmap.png, which --resume kept (no record names it) and drew b's beside it as
    b-2.heatmap.png. Now the name is taken by a hard link to the written map: there, whole, or not there."""
    import subprocess
    import sys

    scans = tmp_path / "scans"
    scans.mkdir()
    for name, source in zip("abc", test_images["glioma"], strict=True):
        shutil.copy(source, scans / f"{name}.jpg")
    maps, results = tmp_path / "maps", tmp_path / "r.jsonl"
    command = ["predict", str(scans), "-o", str(results), "--resume", "--heatmap", str(maps), "--threads", "1"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    done = subprocess.run([sys.executable, "-c", _KILLED_AS_A_MAP_TAKES_ITS_NAME, *command], env=env, check=False,
                          capture_output=True)
    assert done.returncode == -signal.SIGKILL, done.stderr
    assert [p.name for p in maps.glob("*.png") if p.stat().st_size == 0] == []
    assert main(command) == 0
    assert _maps_and_records(maps, results) == ([str(maps / f"{n}.heatmap.png") for n in "abc"],) * 2


def test_a_json_run_to_standard_output_stopped_takes_the_maps_its_unprinted_records_named(test_images, tmp_path,
                                                                                          monkeypatch, capsys):
    """``--format json`` holds its records until the end (one array): Ctrl-C (or a model error) before then printed
    none, yet kept a.heatmap.png and b.heatmap.png, named by no record. They go, as for a failed write, and stderr says
    so; the maps an earlier run left stay."""
    scans = tmp_path / "scans"
    scans.mkdir()
    for name, source in zip("abc", test_images["glioma"], strict=True):
        shutil.copy(source, scans / f"{name}.jpg")
    from braintumor.heatmap_files import HeatmapWriter

    place = HeatmapWriter._place

    def stopped_once_b_is_in_place(self, *args, **kwargs):
        target = place(self, *args, **kwargs)
        if target.name == "b.heatmap.png":
            raise KeyboardInterrupt
        return target

    monkeypatch.setattr(HeatmapWriter, "_place", stopped_once_b_is_in_place)
    maps = tmp_path / "maps"
    assert main(["predict", str(scans), "--format", "json", "--heatmap", str(maps)]) == 130
    out, err = capsys.readouterr()
    assert out == "" and not maps.exists()
    assert f"removed the 2 heat maps this run drew in {maps}: the json records naming them were not printed" in err
    maps.mkdir()
    (maps / "old.heatmap.png").write_bytes(b"an earlier run's")
    assert main(["predict", str(scans), "--format", "json", "--heatmap", str(maps)]) == 130
    assert [p.name for p in maps.iterdir()] == ["old.heatmap.png"]
