"""``braintumor predict --heatmap DIR`` into a folder that already holds maps, or that another run writes at once: a run
never replaces a map there (the earlier run's records name it), it takes the next free name. Plain runs replaced them:
``predict A/ --heatmap maps -o a.csv`` then ``predict B/ --heatmap maps -o b.csv`` left a.csv naming B's map."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import sys
from pathlib import Path

import pytest

from braintumor.cli import main
from braintumor.model_files import default_model_path

pytestmark = pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")


def _folder(tmp_path: Path, name: str, source: Path) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(source, folder / "x.jpg")
    return folder


def _named(results: Path) -> list[str]:
    return [json.loads(line)["heatmap"] for line in results.read_text().splitlines()]


def test_a_second_run_into_the_same_folder_keeps_the_first_runs_maps(test_images, tmp_path):
    a, b = (_folder(tmp_path, n, s) for n, s in zip("ab", test_images["glioma"], strict=False))
    maps = tmp_path / "maps"
    assert main(["predict", str(a), "--heatmap", str(maps), "-o", str(tmp_path / "a.jsonl")]) == 0
    first = (maps / "x.heatmap.png").read_bytes()
    assert main(["predict", str(b), "--heatmap", str(maps), "-o", str(tmp_path / "b.jsonl")]) == 0
    assert _named(tmp_path / "a.jsonl") == [str(maps / "x.heatmap.png")]
    assert _named(tmp_path / "b.jsonl") == [str(maps / "x-2.heatmap.png")]
    assert (maps / "x.heatmap.png").read_bytes() == first


def test_a_name_taken_by_another_run_after_this_one_listed_the_folder_is_not_replaced(test_images, tmp_path,
                                                                                     monkeypatch):
    """Two runs at once: the other's map appears after this run listed the folder, as it draws its own."""
    from braintumor import heatmap_files

    a = _folder(tmp_path, "a", test_images["glioma"][0])
    maps = tmp_path / "maps"
    temp_beside = heatmap_files.temp_beside

    def other_run_first(target):
        if target.name.endswith(".heatmap.png") and not (maps / "x.heatmap.png").exists():
            (maps / "x.heatmap.png").write_bytes(b"the other run's map")
        return temp_beside(target)

    monkeypatch.setattr(heatmap_files, "temp_beside", other_run_first)
    assert main(["predict", str(a), "--heatmap", str(maps), "-o", str(tmp_path / "a.jsonl")]) == 0
    assert (maps / "x.heatmap.png").read_bytes() == b"the other run's map"
    assert _named(tmp_path / "a.jsonl") == [str(maps / "x-2.heatmap.png")]
    assert sorted(os.listdir(maps)) == ["x-2.heatmap.png", "x.heatmap.png"]


@pytest.mark.skipif(not os.path.exists("/dev/full"), reason="no /dev/full")
@pytest.mark.parametrize("fmt", ["table", "jsonl"])
def test_records_that_could_not_be_written_to_a_device_take_this_runs_maps_with_them(fmt, test_images, tmp_path,
                                                                                     capsys):
    """``-o /dev/full``: no record was written, and the maps drawn stayed, named by nothing; an earlier run's stay."""
    a = _folder(tmp_path, "a", test_images["glioma"][0])
    shutil.copy(test_images["glioma"][1], a / "y.jpg")
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "x.heatmap.png").write_bytes(b"an earlier run's")
    assert main(["predict", str(a), "-o", "/dev/full", "--format", fmt, "--heatmap", str(maps)]) == 1
    assert sorted(os.listdir(maps)) == ["x.heatmap.png"]
    err = capsys.readouterr().err
    drawn = "2 heat maps" if fmt == "table" else "1 heat map"  # jsonl failed at its first record
    assert f"removed the {drawn} this run drew in {maps}: no record written names them" in err
    assert "No space left on device (writing /dev/full)" in err


class _FillsAfter(io.RawIOBase):
    """A standard output whose disk fills after ``lines`` lines (``> out.jsonl`` on a disk that fills mid-run; 0:
    ``> /dev/full``)."""

    def __init__(self, lines: int) -> None:
        self.lines, self.got = lines, b""

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        if self.got.count(b"\n") + bytes(data).count(b"\n") > self.lines:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.got += bytes(data)
        return len(data)


@pytest.mark.parametrize(("fmt", "lines", "kept", "removed"), [
    ("jsonl", 0, 0, "1 heat map"), ("table", 0, 0, "2 heat maps"), ("json", 0, 0, "2 heat maps"),
    ("jsonl", 1, 1, "1 heat map"), ("table", 1, 0, "2 heat maps"), ("csv", 2, 1, "1 heat map")])
def test_maps_whose_records_standard_output_could_not_take_are_removed(fmt, lines, kept, removed, test_images,
                                                                         tmp_path, monkeypatch, capsys):
    """``predict in/ --format jsonl --heatmap mm > /dev/full``: the maps drawn stayed in mm, named by no record, where
    ``-o /dev/full`` removed them. Those whose records did go out (jsonl's and csv's stream; the table's and json's are
    held back) stay, and the message counts the others; an earlier run's map stays."""
    a = _folder(tmp_path, "a", test_images["glioma"][0])
    shutil.copy(test_images["glioma"][1], a / "y.jpg")
    maps = tmp_path / "maps"
    maps.mkdir()
    (maps / "x.heatmap.png").write_bytes(b"an earlier run's")
    raw = _FillsAfter(lines)
    monkeypatch.setattr(sys, "stdout", io.TextIOWrapper(io.BufferedWriter(raw), encoding="utf-8"))
    assert main(["predict", str(a), "--format", fmt, "--heatmap", str(maps)]) == 1
    err = capsys.readouterr().err
    named = [line.split(",")[-1] if fmt == "csv" else json.loads(line)["heatmap"]
             for line in raw.got.decode().splitlines()[fmt == "csv":]]
    assert len(named) == kept and sorted(os.listdir(maps)) == sorted(["x.heatmap.png", *map(os.path.basename, named)])
    assert f"removed the {removed} this run drew in {maps}: no record written names them" in err, err
    assert "No space left on device (writing standard output)" in err


def test_a_closed_pipe_on_standard_output_keeps_the_maps(test_images, tmp_path, monkeypatch, capsys):
    """``predict in/ --format jsonl --heatmap mm | head -1`` (docs/CLI.md): the reader had what it wanted, status 0;
    the maps stay (one whose record the reader may have read among them)."""
    a = _folder(tmp_path, "a", test_images["glioma"][0])
    maps = tmp_path / "maps"
    read, write = os.pipe()
    os.close(read)
    monkeypatch.setattr(sys, "stdout", open(write, "w", encoding="utf-8"))  # noqa: SIM115 - the test's stdout
    assert main(["predict", str(a), "--format", "jsonl", "--heatmap", str(maps)]) == 0
    assert os.listdir(maps) == ["x.heatmap.png"]
    assert "removed" not in capsys.readouterr().err


def test_a_results_file_the_disk_refused_takes_this_runs_maps_and_says_so(test_images, tmp_path, monkeypatch, capsys):
    import errno

    from braintumor import predict_output

    a = _folder(tmp_path, "a", test_images["glioma"][0])
    maps = tmp_path / "maps"

    def full(fd):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(predict_output.os, "fsync", full)
    assert main(["predict", str(a), "-o", str(tmp_path / "r.csv"), "--heatmap", str(maps)]) == 1
    assert not maps.exists() and not (tmp_path / "r.csv").exists()
    assert f"removed the 1 heat map this run drew in {maps}: no record written names them" in capsys.readouterr().err


def test_a_folder_on_a_file_system_without_hard_links_still_gets_maps_under_names_of_their_own(test_images, tmp_path,
                                                                                              monkeypatch):
    """A map takes its name by a hard link; FAT or a FUSE mount refuses links (EPERM): the name is then made empty and
    the map moved onto it, as before, and a second run still takes the next free name."""
    import errno

    def no_links(src, dst, *args, **kwargs):
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(os, "link", no_links)
    a, b = (_folder(tmp_path, n, s) for n, s in zip("ab", test_images["glioma"], strict=False))
    maps = tmp_path / "maps"
    assert main(["predict", str(a), "--heatmap", str(maps), "-o", str(tmp_path / "a.jsonl")]) == 0
    assert main(["predict", str(b), "--heatmap", str(maps), "-o", str(tmp_path / "b.jsonl")]) == 0
    assert _named(tmp_path / "b.jsonl") == [str(maps / "x-2.heatmap.png")]
    assert sorted(os.listdir(maps)) == ["x-2.heatmap.png", "x.heatmap.png"]
    assert all((maps / n).stat().st_size > 0 for n in os.listdir(maps))


def test_predict_help_says_a_map_already_in_the_folder_is_never_replaced(capsys):
    """``predict --help`` said only that maps are written into DIR, where a user reusing a folder reads first: that a
    map already there stays, the next run taking x-2.heatmap.png, was in docs/CLI.md alone."""
    with pytest.raises(SystemExit):
        main(["predict", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    assert "a map already in DIR is never replaced: the new one takes the next free name (x-2.heatmap.png)" in said
