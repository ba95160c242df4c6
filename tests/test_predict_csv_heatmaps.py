"""``braintumor predict --format csv --heatmap DIR``: each row names its heat map, as a json or jsonl record does. The
csv had no column for it, so two inputs of one name (``a/x.jpg``, ``b/x.jpg``: ``x.heatmap.png`` and
``x-2.heatmap.png``) could not be told apart, nor a map matched to its row at all but by guessing from names."""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest

from braintumor.cli import main
from braintumor.csv_records import csv_columns
from braintumor.model_files import default_model_path

pytestmark = pytest.mark.skipif(not default_model_path().exists(), reason="no shipped model")
CLASSES = ("glioma", "meningioma", "notumor", "pituitary")


def _scans(tmp_path: Path, test_images) -> Path:
    scans = tmp_path / "scans"
    for folder, source in zip("ab", test_images["glioma"], strict=False):
        (scans / folder).mkdir(parents=True)
        shutil.copy(source, scans / folder / "x.jpg")
    (scans / "notes.jpg").write_bytes(b"not an image")
    return scans


def _rows(path: Path) -> tuple[list[str], list[dict]]:
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"), newline="")))
    return rows[0], [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_each_csv_row_names_its_heat_map(test_images, tmp_path, capsys):
    scans, maps, results = _scans(tmp_path, test_images), tmp_path / "maps", tmp_path / "r.csv"
    assert main(["predict", str(scans), "-o", str(results), "--heatmap", str(maps)]) == 1  # notes.jpg: unreadable
    header, rows = _rows(results)
    assert header == [*csv_columns(CLASSES), "heatmap"]
    named = {Path(r["path"]).relative_to(scans).as_posix(): r["heatmap"] for r in rows}
    assert named == {"a/x.jpg": str(maps / "x.heatmap.png"), "b/x.jpg": str(maps / "x-2.heatmap.png"), "notes.jpg": ""}
    assert sorted(maps.iterdir()) == [maps / "x-2.heatmap.png", maps / "x.heatmap.png"]
    capsys.readouterr()
    assert main(["predict", str(scans / "a"), "--format", "csv"]) == 0  # no --heatmap: the usual columns
    assert next(csv.reader(io.StringIO(capsys.readouterr().out))) == csv_columns(CLASSES)


def test_resume_keeps_the_heat_map_column_of_the_file_it_continues(test_images, tmp_path, capsys):
    scans, maps, results = _scans(tmp_path, test_images), tmp_path / "maps", tmp_path / "r.csv"
    assert main(["predict", str(scans / "a"), "-o", str(results), "--resume", "--heatmap", str(maps)]) == 0
    assert main(["predict", str(scans), "-o", str(results), "--resume", "--heatmap", str(maps)]) == 1
    header, rows = _rows(results)
    assert header == [*csv_columns(CLASSES), "heatmap", "working_folder"]
    assert sorted(r["heatmap"] for r in rows if r["heatmap"]) == sorted(str(p) for p in maps.iterdir())
    assert len(rows) == 3 and "no heatmap column" not in capsys.readouterr().err
    # a csv begun without --heatmap is continued in its own columns, with --heatmap or not
    plain = tmp_path / "plain.csv"
    assert main(["predict", str(scans / "a"), "-o", str(plain), "--resume"]) == 0
    assert main(["predict", str(scans), "-o", str(plain), "--resume", "--heatmap", str(tmp_path / "m2")]) == 1
    header, rows = _rows(plain)
    assert header == [*csv_columns(CLASSES), "working_folder"] and len(rows) == 3
    # said, not silent: the maps it writes cannot be matched to those rows
    assert capsys.readouterr().err.count(f"warning: {plain} has no heatmap column (begun without --heatmap, or by an "
                                         "older braintumor): the rows added now do not name their heat maps") == 1
