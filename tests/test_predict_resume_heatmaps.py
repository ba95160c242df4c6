"""``predict --resume --heatmap DIR``: the records --resume drops and redoes take their heat maps with them. Left in
DIR, no record named them, and the input's maps drawn again took other names beside them (``scan-slice0-2``)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest


def _records(out: Path, fmt: str) -> list[dict]:
    if fmt == "jsonl":
        return [json.loads(line) for line in out.read_text().splitlines()]
    return [{k: v for k, v in row.items() if v} for row in csv.DictReader(out.open(newline=""))]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_an_unfinished_scans_maps_go_with_its_records(stack, tmp_path, capsys, fmt):
    """A run stopped between a scan's slices leaves its first slices' records and maps; --resume redoes the whole
    scan: their maps are removed with them, and the scan's maps drawn again under the same names."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main

    scan = tmp_path / "scan.nii.gz"
    scan.write_bytes(nifti_bytes(axial_volume(stack)))
    out, maps = tmp_path / f"out.{fmt}", tmp_path / "maps"
    command = ["predict", str(scan), "--no-progress", "-o", str(out), "--resume", "--heatmap", str(maps)]
    assert main(command) == 0
    lines = out.read_bytes().splitlines(keepends=True)
    first = 1 if fmt == "csv" else 0
    names = sorted(Path(r["heatmap"]).name for r in _records(out, fmt))
    assert len(names) == 6 and sorted(p.name for p in maps.iterdir()) == names
    for rec in _records(out, fmt)[4:]:  # stopped before its last two slices: their maps and records never came
        Path(rec["heatmap"]).unlink()
    out.write_bytes(b"".join(lines[:first + 4]))
    (maps / "other.heatmap.png").write_bytes(b"another run's")  # named by no dropped record: it stays
    capsys.readouterr()
    assert main(command) == 0
    err = capsys.readouterr().err
    assert "is unfinished; it is redone" in err, err
    again = _records(out, fmt)
    assert len(again) == 6 and sorted(Path(r["heatmap"]).name for r in again) == names
    assert sorted(p.name for p in maps.iterdir()) == sorted([*names, "other.heatmap.png"])  # none that none names
    assert f"{maps}: removed 4 heat maps of the records dropped; they are drawn again\n" in err, err


def test_only_maps_in_dir_that_dropped_records_named_are_removed(stack, tmp_path, capsys):
    """A record edited by hand removes nothing but a heat map in DIR: not a link there (nor what it leads to), not a
    map of another folder, not a file of another name (no test failed without each of those checks)."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main

    scan = tmp_path / "scan.nii.gz"
    scan.write_bytes(nifti_bytes(axial_volume(stack)))
    out, maps, other = tmp_path / "out.jsonl", tmp_path / "maps", tmp_path / "other"
    command = ["predict", str(scan), "--no-progress", "-o", str(out), "--resume", "--heatmap", str(maps)]
    assert main(command) == 0
    other.mkdir()
    kept = {other / "scan-slice1.heatmap.png": b"another folder's map", maps / "notes.txt": b"notes",
            other / "linked.png": b"what a link leads to"}
    for path, data in kept.items():
        path.write_bytes(data)
    (maps / "link.heatmap.png").symlink_to(other / "linked.png")
    records = [json.loads(line) for line in out.read_text().splitlines()[:4]]  # stopped after its 4th slice
    for rec, name in zip(records, [maps / "link.heatmap.png", other / "scan-slice1.heatmap.png", maps / "notes.txt"],
                         strict=False):
        rec["heatmap"] = str(name)
    out.write_text("".join(json.dumps(rec) + "\n" for rec in records))
    capsys.readouterr()
    assert main(command) == 0
    assert f"{maps}: removed 1 heat map of the records dropped; they are drawn again\n" in capsys.readouterr().err
    assert {path: path.read_bytes() for path in kept} == kept and (maps / "link.heatmap.png").is_symlink()


def test_a_relative_dirs_maps_are_not_removed_from_another_folders_dir(stack, tmp_path, capsys, monkeypatch):
    """Records name a relative --heatmap DIR's maps from the folder the run started in: resumed from another folder,
    the same relative names led to that folder's own maps, and one of them (another run's) was removed."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main

    scan = tmp_path / "scan.nii.gz"
    scan.write_bytes(nifti_bytes(axial_volume(stack)))
    out, first, second = tmp_path / "out.jsonl", tmp_path / "a", tmp_path / "b"
    first.mkdir()
    second.mkdir()
    command = ["predict", str(scan), "--no-progress", "-o", str(out), "--resume", "--heatmap", "maps"]
    monkeypatch.chdir(first)
    assert main(command) == 0
    records = _records(out, "jsonl")
    out.write_bytes(b"".join(out.read_bytes().splitlines(keepends=True)[:4]))
    (second / "maps").mkdir()
    theirs = second / "maps" / Path(records[0]["heatmap"]).name  # another run's map, of the same name
    theirs.write_bytes(b"another run's")
    monkeypatch.chdir(second)
    capsys.readouterr()
    assert main(command) == 0
    assert theirs.read_bytes() == b"another run's"
    assert "removed" not in capsys.readouterr().err


def test_a_run_refused_for_a_model_without_a_cam_head_removes_nothing(stack, tmp_path, capsys, monkeypatch):
    """--heatmap with a model that cannot draw maps is refused: FILE's unfinished scan was cut off and its maps
    removed first, so the run refused had lost them (its records gone, the next run could no longer know them)."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor import heatmap
    from braintumor.cli import main

    scan = tmp_path / "scan.nii.gz"
    scan.write_bytes(nifti_bytes(axial_volume(stack)))
    out, maps = tmp_path / "out.jsonl", tmp_path / "maps"
    command = ["predict", str(scan), "--no-progress", "-o", str(out), "--resume", "--heatmap", str(maps)]
    assert main(command) == 0
    for rec in _records(out, "jsonl")[4:]:  # stopped after its 4th slice: the last two maps and records never came
        Path(rec["heatmap"]).unlink()
    out.write_bytes(b"".join(out.read_bytes().splitlines(keepends=True)[:4]))
    before = {path: path.read_bytes() for path in [out, *maps.iterdir()]}
    capsys.readouterr()
    with monkeypatch.context() as patched:
        patched.setattr(heatmap, "supports_cam", lambda clf: False)
        assert main(command) == 2
    err = capsys.readouterr().err
    assert "no CAM head" in err and "removed" not in err and "unfinished" not in err, err
    assert {path: path.read_bytes() for path in [out, *maps.iterdir()]} == before
    assert main(command) == 0  # the model that draws them: the scan redone, its maps under the same names
    assert f"{maps}: removed 4 heat maps of the records dropped; they are drawn again\n" in capsys.readouterr().err
    assert len(list(maps.iterdir())) == 6


def _unfinished(scan: Path, out: Path, fmt: str, command: list[str]) -> list[dict]:
    """Run ``command``, then leave FILE as a run stopped after its last scan's 4th slice left it (the last two maps
    and records never came); the records kept, with their maps' names."""
    from braintumor.cli import main

    assert main(command) == 0
    records = _records(out, fmt)
    for rec in records[-2:]:
        (Path.cwd() / rec["heatmap"]).unlink()
    out.write_bytes(b"".join(out.read_bytes().splitlines(keepends=True)[:-2]))
    return records[:-2]


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_a_relative_dirs_dropped_maps_are_removed_from_the_folder_the_run_started_in(stack, tmp_path, capsys,
                                                                                     monkeypatch, fmt):
    """Records name a relative DIR's maps from the folder the run started in, which they now say (working_folder)
    where only the input's name was whole: their maps were kept, and the scan redone drew its maps beside them."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main

    scan = tmp_path / "scan.nii.gz"
    scan.write_bytes(nifti_bytes(axial_volume(stack)))
    out, here = tmp_path / f"out.{fmt}", tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    command = ["predict", str(scan), "--no-progress", "-o", str(out), "--resume", "--heatmap", "maps"]
    names = sorted(Path(rec["heatmap"]).name for rec in _unfinished(scan, out, fmt, command))
    capsys.readouterr()
    assert main(command) == 0
    assert "maps: removed 4 heat maps of the records dropped; they are drawn again\n" in capsys.readouterr().err
    again = _records(out, fmt)
    assert len(again) == 6 and all(rec["working_folder"] == str(here) for rec in again)
    assert sorted(p.name for p in (here / "maps").iterdir()) == sorted(Path(r["heatmap"]).name for r in again)
    assert set(names) < {p.name for p in (here / "maps").iterdir()} and len(list((here / "maps").iterdir())) == 6


def test_a_run_without_heatmap_removes_the_maps_of_the_records_it_drops(stack, tmp_path, capsys):
    """Resumed without --heatmap, the records dropped to redo kept their maps, which no record named any more (the
    scan redone draws none): the folder no longer held the maps of FILE's records alone."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main

    scan = tmp_path / "scan.nii.gz"
    scan.write_bytes(nifti_bytes(axial_volume(stack)))
    other = tmp_path / "other.nii.gz"
    other.write_bytes(nifti_bytes(axial_volume(stack)))
    out, maps = tmp_path / "out.jsonl", tmp_path / "maps"
    assert main(["predict", str(other), "--no-progress", "-o", str(out), "--resume", "--heatmap", str(maps)]) == 0
    kept = {path: path.read_bytes() for path in maps.iterdir()}  # the other scan's, whose records stay
    command = ["predict", str(other), str(scan), "--no-progress", "-o", str(out), "--resume", "--heatmap", str(maps)]
    _unfinished(scan, out, "jsonl", command)
    assert len(list(maps.iterdir())) == 10
    capsys.readouterr()
    assert main(command[:-2]) == 0
    err = capsys.readouterr().err
    assert (f"{out}: removed 4 heat maps of the records dropped ({maps / 'scan-slice3.heatmap.png'}, for one): "
            "this run draws none (no --heatmap)\n") in err, err
    assert {path: path.read_bytes() for path in maps.iterdir()} == kept
    assert [rec.get("heatmap") for rec in _records(out, "jsonl")] == [*map(str, sorted(kept)), *[None] * 6]


def test_a_relative_map_whose_record_says_no_working_folder_is_kept_and_said(stack, tmp_path, capsys, monkeypatch):
    """A record written before records said the working folder of a relative map (an older braintumor): taken from
    here, its name could lead to another folder's map, so it is kept, and the run says so."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main

    scan = tmp_path / "scan.nii.gz"
    scan.write_bytes(nifti_bytes(axial_volume(stack)))
    out = tmp_path / "out.jsonl"
    monkeypatch.chdir(tmp_path)
    command = ["predict", str(scan), "--no-progress", "-o", str(out), "--resume", "--heatmap", "maps"]
    records = _unfinished(scan, out, "jsonl", command)
    assert all(rec["working_folder"] == str(tmp_path) for rec in records)  # what this version writes
    out.write_text("".join(json.dumps({k: v for k, v in rec.items() if k != "working_folder"}) + "\n"
                           for rec in records))
    capsys.readouterr()
    assert main(command) == 0
    err = capsys.readouterr().err
    assert "removed" not in err and (
        f"warning: kept 4 heat maps of the records dropped ({records[3]['heatmap']}, for one): {out} does not say "
        "which working folder their names are from (begun by an older braintumor?): remove them by hand\n") in err, err
    assert len(list((tmp_path / "maps").iterdir())) == 10


def test_a_run_refused_for_another_working_folder_changes_nothing(stack, tmp_path, capsys, monkeypatch):
    """Resumed from another working folder, the run is refused: it had cut FILE's unfinished scan (and a last line cut
    short) off first, so the records naming those maps were gone and no run could remove the maps again."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main

    first, second = tmp_path / "a", tmp_path / "b"
    (first / "scans").mkdir(parents=True)
    second.mkdir()
    (first / "scans" / "x.nii.gz").write_bytes(nifti_bytes(axial_volume(stack)))
    out, maps = tmp_path / "o.jsonl", tmp_path / "maps"
    command = ["predict", "scans/x.nii.gz", "--no-progress", "-o", str(out), "--resume", "--heatmap", str(maps)]
    monkeypatch.chdir(first)
    _unfinished(first / "scans" / "x.nii.gz", out, "jsonl", command)
    out.write_bytes(out.read_bytes()[:-2])  # and the last record kept cut short (its map's name whole)
    before = {path: path.read_bytes() for path in [out, *maps.iterdir()]}
    monkeypatch.chdir(second)
    capsys.readouterr()
    assert main(command) == 2
    err = capsys.readouterr().err
    assert "cannot resume: the names in" in err and "dropping" not in err and "unfinished" not in err, err
    assert {path: path.read_bytes() for path in [out, *maps.iterdir()]} == before
    monkeypatch.chdir(first)
    assert main(command) == 0  # from the folder it began in: the scan redone, its dropped records' maps removed
    assert f"{maps}: removed 4 heat maps of the records dropped; they are drawn again\n" in capsys.readouterr().err
    assert len(_records(out, "jsonl")) == 6 and len(list(maps.iterdir())) == 6  # the cut record's map went with it


def test_dropped_records_maps_in_another_folder_than_dir_are_kept_and_said(stack, tmp_path, capsys):
    """FILE begun with another --heatmap DIR: the maps its dropped records named are not in this run's DIR, so they are
    kept (another folder's), and now said: they were kept silently, named by no record."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main

    scan = tmp_path / "scan.nii.gz"
    scan.write_bytes(nifti_bytes(axial_volume(stack)))
    out, old, new = tmp_path / "out.jsonl", tmp_path / "old", tmp_path / "new"
    command = ["predict", str(scan), "--no-progress", "-o", str(out), "--resume", "--heatmap"]
    _unfinished(scan, out, "jsonl", [*command, str(old)])
    capsys.readouterr()
    assert main([*command, str(new)]) == 0
    err = capsys.readouterr().err
    assert "removed" not in err and (
        f"warning: kept 4 heat maps of the records dropped ({old / 'scan-slice3.heatmap.png'}, for one): not in {new}, "
        f"where this run draws them again ({out} begun with another --heatmap DIR?): remove them by hand\n") in err, err
    assert len(list(old.iterdir())) == 4 and len(list(new.iterdir())) == 6


def test_a_map_not_named_for_its_records_input_is_kept_and_said(stack, tmp_path, capsys):
    """Resumed without --heatmap, any heat map a dropped record named was removed, wherever it was: a record edited by
    hand could remove another file. Only a name drawn for the record's input (``scan-slice2-2`` too) is removed now."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main

    scan = tmp_path / "scan.nii.gz"
    scan.write_bytes(nifti_bytes(axial_volume(stack)))
    out, maps, mine = tmp_path / "out.jsonl", tmp_path / "maps", tmp_path / "mine"
    command = ["predict", str(scan), "--no-progress", "-o", str(out), "--resume"]
    records = _unfinished(scan, out, "jsonl", [*command, "--heatmap", str(maps)])
    mine.mkdir()
    kept = {mine / "holiday.heatmap.png": b"not a map of scan", mine / "scan-slice0.heatmap.png": b"slice 0's name",
            maps / "scan-slice2-2.heatmap.png": b"a second map of slice 2"}
    for path, data in kept.items():
        path.write_bytes(data)
    (maps / "scan-slice2.heatmap.png").unlink()
    for rec, path in zip(records, kept, strict=False):  # slices 0, 1: edited by hand; 2: its second name; 3 as drawn
        rec["heatmap"] = str(path)
    out.write_text("".join(json.dumps(rec) + "\n" for rec in records))
    capsys.readouterr()
    assert main(command) == 0
    err = capsys.readouterr().err
    assert (f"{out}: removed 2 heat maps of the records dropped ({maps / 'scan-slice3.heatmap.png'}, for one): this "
            "run draws none (no --heatmap)\n") in err, err
    assert (f"warning: kept 2 heat maps of the records dropped ({mine / 'scan-slice0.heatmap.png'}, for one): not the "
            "name of a map of the record's input (edited by hand?): remove them by hand if nothing else names "
            "them\n") in err, err
    assert {path: path.read_bytes() for path in mine.iterdir()} == dict(list(kept.items())[:2])
    assert sorted(p.name for p in maps.iterdir()) == ["scan-slice0.heatmap.png", "scan-slice1.heatmap.png"]  # unnamed


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
@pytest.mark.parametrize("where", ["in its name", "after its name"])
def test_the_map_a_last_line_cut_short_names_goes_with_it(stack, tmp_path, capsys, fmt, where):
    """A run killed while writing a record leaves its line cut short, which --resume drops: the heat map it named was
    kept, named by no record, beside the one drawn again (7 maps for 6 records). Its name, where whole, is read from the
    cut line and the map removed; one whose name was cut too is kept, and said."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main

    scan = tmp_path / "scan.nii.gz"
    scan.write_bytes(nifti_bytes(axial_volume(stack)))
    out, maps = tmp_path / f"out.{fmt}", tmp_path / "maps"
    command = ["predict", str(scan), "--no-progress", "-o", str(out), "--resume", "--heatmap", str(maps)]
    _unfinished(scan, out, fmt, command)
    data, name = out.read_bytes(), str(maps / "scan-slice3.heatmap.png").encode()
    out.write_bytes(data[:data.rindex(name) + (len(name) - 4 if where == "in its name" else len(name) + 1)])
    capsys.readouterr()
    assert main(command) == 0
    err = capsys.readouterr().err
    assert "dropping an incomplete last line" in err and len(_records(out, fmt)) == 6, err
    if where == "in its name":
        assert f"{maps}: removed 3 heat maps" in err and (
            f"warning: kept the heat map that {out}'s incomplete last line names ({scan}'s): its name was cut short "
            "too: remove it by hand\n") in err, err
        assert len(list(maps.iterdir())) == 7
    else:
        assert f"{maps}: removed 4 heat maps" in err and "warning" not in err, err
        assert sorted(p.name for p in maps.iterdir()) == [f"scan-slice{n}.heatmap.png" for n in range(6)]


def test_a_dir_that_cannot_be_made_leaves_file_as_it_was(stack, tmp_path, capsys, monkeypatch):
    """DIR was made only after FILE was repaired and the dropped records' maps removed: a DIR that could not be made
    (a permission error) stopped the run with FILE's unfinished scan already cut off and its maps gone. DIR is made
    first now; the maps drawn again still take the dropped maps' names (not ``scan-slice0-2``)."""
    from dicom_factory import axial_volume, nifti_bytes

    from braintumor.cli import main

    scan = tmp_path / "scan.nii.gz"
    scan.write_bytes(nifti_bytes(axial_volume(stack)))
    out, old, new = tmp_path / "out.jsonl", tmp_path / "old", tmp_path / "new"
    command = ["predict", str(scan), "--no-progress", "-o", str(out), "--resume", "--heatmap"]
    _unfinished(scan, out, "jsonl", [*command, str(old)])
    before = {path: path.read_bytes() for path in [out, *old.iterdir()]}
    real = Path.mkdir

    def refused(self, *args, **kwargs):
        if self == new:
            raise PermissionError(13, "Permission denied", str(self))
        return real(self, *args, **kwargs)

    monkeypatch.setattr(Path, "mkdir", refused)
    capsys.readouterr()
    assert main([*command, str(new)]) != 0
    err = capsys.readouterr().err
    assert "Permission denied" in err and "dropping" not in err and "unfinished" not in err, err
    assert {path: path.read_bytes() for path in [out, *old.iterdir()]} == before and not new.exists()
    monkeypatch.undo()
    assert main([*command, str(old)]) == 0  # the same DIR: its dropped maps removed, drawn again under their names
    assert "removed 4 heat maps" in capsys.readouterr().err
    assert sorted(p.name for p in old.iterdir()) == [f"scan-slice{n}.heatmap.png" for n in range(6)]


def test_a_refused_resume_leaves_no_dir_it_made(tmp_path, capsys):
    """DIR is made before FILE is read now: a --resume run refused for its FILE removes the DIR it made, left empty."""
    from braintumor.cli import main

    out, maps, scans = tmp_path / "notes.jsonl", tmp_path / "new" / "maps", tmp_path / "scans"
    out.write_text("not a record\n")
    scans.mkdir()
    assert main(["predict", str(scans), "--no-progress", "-o", str(out), "--resume", "--heatmap", str(maps)]) == 2
    assert "is not a jsonl record of 'braintumor predict'" in capsys.readouterr().err
    assert not (tmp_path / "new").exists() and out.read_text() == "not a record\n"
