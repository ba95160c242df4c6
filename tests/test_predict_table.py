"""predict's table: its path column sized from the first batch, volume summaries in place, names escaped."""

from __future__ import annotations

import io
import sys

from braintumor.cli import main


def test_the_table_is_in_line_for_a_folder_whose_paths_are_longer_than_its_name(test_images, tmp_path, monkeypatch,
                                                                                capsys):
    """``predict FOLDER`` sized the path column from the arguments, before the folder was expanded: every row ran past
    the header by its file name."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "d").mkdir()
    names = [f"d/a-long-file-name-{i}.jpg" for i in range(3)]
    for name, image in zip(names, test_images["glioma"][:3], strict=True):
        (tmp_path / name).write_bytes(image.read_bytes())
    assert main(["predict", "d", "--batch-size", "2"]) == 0
    header, *rows = capsys.readouterr().out.splitlines()
    path_end, prediction = header.index("  prediction"), header.index("prediction")
    assert [row[:path_end].rstrip() for row in rows] == names
    assert all(row[prediction - 1] == " " != row[prediction] for row in rows)


def test_the_table_is_sized_from_the_first_batch_and_then_streams():
    """A 10 000-image folder is not listed ahead to size the path column: the rows of the first batch size it."""
    from braintumor.predict_output import Formatter

    out = io.StringIO()
    table = Formatter("table", out, ("glioma",), sample=2)
    row = {"label": "glioma", "confidence": 0.99, "ood": False}
    table.write({"path": "a.jpg", **row})
    assert out.getvalue() == ""
    table.write({"path": "a-thirty-characters-long-b.jpg", **row})
    header, first, second = out.getvalue().splitlines()
    assert header.index("slice") == len("a-thirty-characters-long-b.jpg") + 2 and first.startswith("a.jpg   ")
    assert second.index("Glioma") == header.index("prediction")
    table.write({"path": "c.jpg", **row})  # streamed at once
    assert out.getvalue().splitlines()[3].startswith("c.jpg   ")


def test_a_volumes_summary_does_not_size_the_table_before_the_rows_after_it(test_images, tmp_path, monkeypatch):
    """``predict head.nii scans/``: the volume's summary (stderr) printed the table's held-back rows first, so the
    path column was sized from "head.nii" alone and every row of scans/ was cut to 20 characters ("scans-of-...0.jpg").
    The summary is held in its place among those rows now: it still follows the volume's rows, and the first batch's
    rows, all of them, size the column."""
    import numpy as np
    from dicom_factory import axial_volume, nifti_bytes
    from PIL import Image

    monkeypatch.chdir(tmp_path)
    (tmp_path / "scans-of-the-first-patient").mkdir()
    names = [f"scans-of-the-first-patient/glioma-{i}.jpg" for i in range(2)]
    for name, image in zip(names, test_images["glioma"], strict=False):
        (tmp_path / name).write_bytes(image.read_bytes())
    pixels = np.asarray(Image.open(test_images["glioma"][0]).convert("L").resize((128, 128)))
    (tmp_path / "h.nii").write_bytes(nifti_bytes(axial_volume([pixels, pixels])))
    shared = io.StringIO()  # stdout and stderr as a terminal shows them, in the order written
    monkeypatch.setattr(sys, "stdout", shared)
    monkeypatch.setattr(sys, "stderr", shared)
    assert main(["predict", "h.nii", "scans-of-the-first-patient"]) == 0
    header, *lines = shared.getvalue().splitlines()
    path_end = header.index(" slice")
    assert [line[:path_end].rstrip() for line in lines[:2]] == ["h.nii", "h.nii"]
    assert lines[2].startswith("h.nii: 2 slices") and lines[3].startswith("  most suspicious")
    assert [line[:path_end].rstrip() for line in lines[4:6]] == names


def test_control_characters_in_a_name_are_shown_escaped_in_the_table(test_images, tmp_path, capsys):
    """A newline in a file name split its row in two, a carriage return or an escape sequence overwrote the row on a
    terminal, a bidi override showed 'xgpj.exe.jpg' reversed: the table shows them escaped (csv, jsonl quote them)."""
    odd = ["a\nb.jpg", "t\tab.jpg", "c\rcr.jpg", "e\x1b[31mred.jpg", "x\u202egpj.exe.jpg", "z\u0085nel.jpg"]
    for name in odd:
        (tmp_path / name).write_bytes(test_images["glioma"][0].read_bytes())
    missing = str(tmp_path / "gone\n.jpg")
    assert main(["predict", str(tmp_path), missing]) == 1
    header, *rows = capsys.readouterr().out.splitlines()
    shown = [r"a\nb.jpg", r"c\rcr.jpg", r"e\x1b[31mred.jpg", r"t\tab.jpg", r"x\u202egpj.exe.jpg", r"z\x85nel.jpg"]
    assert [row.split()[0] for row in rows] == [str(tmp_path / s) for s in shown] + [str(tmp_path) + r"/gone\n.jpg"]
    assert header.startswith("path") and all(row.isprintable() for row in rows) and "error: " in rows[-1]
    assert main(["predict", str(tmp_path), "--format", "jsonl"]) == 0  # unchanged: JSON escapes them itself
    assert "a\\nb.jpg" in capsys.readouterr().out


def test_rows_held_back_for_the_table_are_shown_when_the_run_is_interrupted(test_images, tmp_path, monkeypatch,
                                                                            capsys):
    """The first rows are held back to size the path column: Ctrl-C during a slow input after them (a large volume
    loading) lost the rows already classified, which the streamed table had printed."""
    import braintumor.predict_cli as predict_cli

    image = tmp_path / "x.jpg"
    image.write_bytes(test_images["glioma"][0].read_bytes())
    real = predict_cli.records

    def interrupted(*args, **kwargs):
        yield from real(*args, **kwargs)
        raise KeyboardInterrupt  # the next input, a volume still loading

    monkeypatch.setattr(predict_cli, "records", interrupted)
    assert main(["predict", str(image)]) == 130
    header, row = capsys.readouterr().out.splitlines()
    assert header.startswith("path") and row.startswith(str(image)) and "Glioma" in row


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_on_a_terminal_the_path_column_leaves_each_row_on_one_line(monkeypatch):
    """A 150-character name sized the path column to 100 on an 80-column terminal: each row, 129 columns, ran onto
    two lines, its answer under the next row's name. On a terminal the column leaves a row's other columns room;
    written to a file or a pipe it is as wide as before (up to 100)."""
    from braintumor.predict_output import MAX_PATH_WIDTH, Formatter

    monkeypatch.setenv("COLUMNS", "80")
    row = {"label": "glioma", "confidence": 0.99, "ood": False}
    long_name = "scans/" + "a" * 150 + ".jpg"
    for out, widest in ((_Terminal(), 80), (io.StringIO(), MAX_PATH_WIDTH + 29)):
        table = Formatter("table", out, ("glioma", "pituitary"), slices=False)
        table.write({"path": long_name, **row})
        table.write({"path": "b.jpg", **row})
        table.close()
        header, first, second = out.getvalue().splitlines()
        assert max(map(len, (header, first, second))) == widest
        assert first.startswith("scans/aaa") and "...aaa" in first and first.split()[1:] == ["Glioma", "99.0%"]
        assert second.index("Glioma") == header.index("prediction")
