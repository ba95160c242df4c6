"""predict's table had a ``slice`` column, empty on every row, when no input was a scan of several slices: it is
left out then, and kept when any input is a volume (its rows name their slice)."""

from __future__ import annotations

import io

from braintumor.cli import main
from braintumor.predict_output import Formatter

ROW = {"label": "glioma", "confidence": 0.99, "ood": False}


def table(rows: list[dict], sample: int = 32, slices: bool | None = None) -> list[str]:
    out = io.StringIO()
    fmt = Formatter("table", out, ("glioma",), sample=sample, slices=slices)
    for row in rows:
        fmt.write(row)
    fmt.settle(final=True)
    fmt.close()
    return out.getvalue().splitlines()


def test_images_alone_have_no_slice_column():
    header, *rows = table([{"path": "a.jpg", **ROW}, {"path": "b.jpg", **ROW}])
    assert header.split() == ["path", "prediction", "confidence"] and rows[0].split() == ["a.jpg", "Glioma", "99.0%"]
    assert header.index("prediction") == rows[0].index("Glioma") == len("path") + 16 + 2  # the 20-wide path column
    # more images than the table holds back to size its columns: the plan said no scans
    header, *rows = table([{"path": f"{k}.jpg", **ROW} for k in range(5)], sample=2, slices=False)
    assert "slice" not in header and len(rows) == 5 and rows[4].split() == ["4.jpg", "Glioma", "99.0%"]


def test_a_volume_keeps_the_slice_column():
    header, *rows = table([{"path": "a.jpg", **ROW}, {"path": "head.nii", "slice": 3, **ROW}])
    assert header.split() == ["path", "slice", "prediction", "confidence"] and rows[1].split()[:2] == ["head.nii", "3"]
    header, *rows = table([{"path": "a.jpg", **ROW}, {"path": "b.jpg", **ROW}, {"path": "h.nii", "slice": 0, **ROW}],
                          sample=2)  # unknown plan, slices after the held rows: kept, as before
    assert "slice" in header and rows[2].split()[:2] == ["h.nii", "0"]


def test_predict_on_images_prints_no_slice_column(test_images, tmp_path, capsys):
    for k, image in enumerate(test_images["glioma"][:3]):
        (tmp_path / f"{k}.jpg").write_bytes(image.read_bytes())
    assert main(["predict", str(tmp_path), "--batch-size", "2", "--no-progress"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["path", "prediction", "confidence"] and len(rows) == 3


def test_predict_workers_on_images_prints_no_slice_column(test_images, tmp_path, capsys):
    """--workers N planned its inputs lazily, so the table, sized from its first rows, could not know that no scan came
    later: more images than those rows showed an empty ``slice`` column."""
    for k, image in enumerate(test_images["glioma"][:3]):
        (tmp_path / f"{k}.jpg").write_bytes(image.read_bytes())
    argv = ["predict", str(tmp_path), "--batch-size", "2", "--workers", "2", "--threads", "1", "--no-progress"]
    assert main(argv) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    assert header.split() == ["path", "prediction", "confidence"] and len(rows) == 3
