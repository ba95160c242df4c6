"""Names a user supplies, as the command line shows them: a file name may hold anything but '/' and NUL, and an
escape sequence, a carriage return or a newline in one printed as it is clears the terminal or forges a line."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import needs_onnx, needs_torch

from braintumor.cli import main

ODD = "x\x1b[2J\r\nforged"
SHOWN = r"x\x1b[2J\r\nforged"


def _dataset(root, image: bytes) -> None:
    """One readable image per class and split, and one unreadable file with an odd name in each split."""
    for split in ("Training", "Testing"):
        for name in ("glioma", "meningioma", "notumor", "pituitary"):
            (root / split / name).mkdir(parents=True)
            (root / split / name / "a.jpg").write_bytes(image)
        (root / split / "glioma" / f"{ODD}.jpg").write_bytes(b"not an image")


@pytest.mark.parametrize("argv", [
    ["predict", "{tmp}/a.jpg", "--model", "{tmp}/{odd}.onnx"],  # error lines on stderr
    ["evaluate", "--data", "{tmp}/{odd}", "--out", "{tmp}/eval"],
    ["data", "check", "--data", "{tmp}/{odd}"],
    pytest.param(["export", "{tmp}/{odd}", "--out", "{tmp}/m.onnx"], marks=needs_onnx),
    ["calibrate", "{tmp}/{odd}.onnx", "--run", "{tmp}"],
    ["data", "check", "--data", "{tmp}/data"],  # the unreadable files they list
    ["data", "audit", "--data", "{tmp}/data", "--no-progress"],
    pytest.param(["train", "--data", "{tmp}/data", "--out", "{tmp}/run", "--cache-dir", "{tmp}/cache", "--epochs", "1"],
                 marks=needs_torch),
    ["predict", "{tmp}/a.jpg", "-o", "{tmp}/{odd}.jsonl", "--resume"],  # what resuming did
])
def test_names_are_shown_escaped_on_the_terminal(argv, test_images, tmp_path, capsys):
    image = test_images["glioma"][0].read_bytes()
    (tmp_path / "a.jpg").write_bytes(image)
    _dataset(tmp_path / "data", image)
    (tmp_path / f"{ODD}.jsonl").write_text('{"path": "b.jpg", "err')  # cut short by an interrupted run
    main([a.format(tmp=tmp_path, odd=ODD) for a in argv])
    out, err = capsys.readouterr()
    assert SHOWN in out + err
    assert [line for line in (out + err).splitlines() if not line.isprintable()] == []


def test_a_name_longer_than_the_tables_path_column_is_cut_in_the_middle():
    """The path column is sized from the first rows: a longer name after them pushed its row's prediction and
    confidence right, out of their columns. The table cuts it in the middle; csv (and json, jsonl) keep it whole."""
    import csv
    import io

    from braintumor.predict_output import Formatter

    long = "scans/" + "a-much-longer-folder-name-than-the-first/" * 3 + "Te-gl_0010.jpg"
    row = {"label": "glioma", "confidence": 0.99, "ood": False, "review": False, "probabilities": {"glioma": 0.99}}
    out = io.StringIO()
    table = Formatter("table", out, ("glioma",), sample=1)
    for name in ("a.jpg", long, "x" * 150):
        table.write({"path": name, **row})
    header, first, second, third = out.getvalue().splitlines()
    assert len(second) == len(first) == len(third) and second.index("Glioma") == header.index("prediction")
    shown = second[:header.index("slice") - 2]  # the column, then two spaces
    assert shown == long[:8] + "..." + long[-9:] and third.startswith("x" * 8 + "..." + "x" * 9 + "  ")
    out = io.StringIO()
    Formatter("csv", out, ("glioma",)).write({"path": long, **row})
    assert next(csv.DictReader(io.StringIO(out.getvalue())))["path"] == long


def test_an_output_that_cannot_be_created_is_named_as_typed(tmp_path, capsys):
    """`predict a.jpg -o /proc/x.csv` said "[Errno 2] No such file or directory: '/proc/.x.csv.eb78f6cf'": the
    hidden temporary name beside the output, which nobody typed, in Python's repr."""
    from conftest import encode, synthetic_head

    image = tmp_path / "a.png"
    image.write_bytes(encode(synthetic_head(), "PNG"))
    target = Path("/proc/braintumor-test.csv")  # a folder that exists, where no file can be created (even as root)
    if not target.parent.is_dir():
        pytest.skip("needs Linux's /proc")
    assert main(["predict", str(image), "-o", str(target)]) != 0
    err = capsys.readouterr().err
    assert f"cannot write {target}: " in err and f".{target.name}." not in err and "Errno" not in err, err


def test_zip_member_names_are_shown_escaped_on_the_terminal(tmp_path, capsys):
    """A zip member's name reaches the terminal in a volume's path (the table, its summary on stderr) and in the
    error that names a bad member: escaped there as file names are; jsonl keeps it as the zip has it."""
    import json

    import numpy as np
    from dicom_factory import axial_volume, nifti_bytes, zip_bytes

    member = "x\u202egnp" + ODD + ".nii"
    shown = r"x\u202egnp" + SHOWN + ".nii"
    volume = nifti_bytes(axial_volume([np.full((48, 48), 40 * (i + 1), np.uint8) for i in range(3)]))
    (tmp_path / "good.zip").write_bytes(zip_bytes([(member, volume)]))
    (tmp_path / "bad.zip").write_bytes(zip_bytes([(member, bytes(400))]))
    inputs = [str(tmp_path / "good.zip"), str(tmp_path / "bad.zip")]
    assert main(["predict", *inputs]) == 1
    out, err = capsys.readouterr()
    assert f"good.zip:{shown}  " in out and f"good.zip:{shown}: 3 slices" in err
    assert f"error: {shown}: not a NIfTI" in out
    assert [line for line in (out + err).splitlines() if not line.isprintable()] == []
    assert main(["predict", *inputs, "--format", "jsonl"]) == 1
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert records[0]["path"].endswith(f"good.zip:{member}") and records[-1]["error"].startswith(f"{member}: ")


def test_heat_maps_of_a_zip_members_slices_get_a_clean_file_name(test_images, tmp_path, capsys):
    """Heat maps are named after the input: a zip member named "x\\u202egnp\\n.nii" gave files whose names held the
    bidi override and a newline ("real.zip:x\\u202egnp\\n-slice0.heatmap.png"), which ls and file managers show
    reversed or split. Such characters become _ in the file name, and so does the colon that joins zip and member
    ("real.zip:x..." is a file "real.zip" with an alternate data stream on NTFS)."""
    import numpy as np
    from dicom_factory import axial_volume, nifti_bytes, zip_bytes
    from PIL import Image

    image = np.asarray(Image.open(test_images["glioma"][0]).convert("L").resize((128, 128)))
    (tmp_path / "real.zip").write_bytes(zip_bytes([("x\u202egnp\n.nii", nifti_bytes(axial_volume([image, image])))]))
    main(["predict", str(tmp_path / "real.zip"), "--heatmap", str(tmp_path / "maps")])
    capsys.readouterr()
    assert sorted(p.name for p in (tmp_path / "maps").iterdir()) == ["real.zip_x_gnp_-slice0.heatmap.png",
                                                                      "real.zip_x_gnp_-slice1.heatmap.png"]


def test_heat_maps_are_never_named_after_a_windows_device(test_images, tmp_path, capsys):
    """Inputs named con.jpg or aux.JPG (or a zip's one-slice member scans/nul.nii) gave con.heatmap.png, aux.heatmap.png
    and nul.heatmap.png: Windows takes those for its devices (an extension does not help) and cannot create them.
    Such a name gets _ after its device part; an ordinary one is unchanged, and every file keeps its own name."""
    import numpy as np
    from dicom_factory import axial_volume, nifti_bytes, zip_bytes
    from PIL import Image

    image = test_images["glioma"][0].read_bytes()
    for name in ("con.jpg", "aux.JPG", "Com1.x.jpg", "con_.jpg", "scan.jpg"):
        (tmp_path / name).write_bytes(image)
    pixels = np.asarray(Image.open(test_images["glioma"][0]).convert("L").resize((128, 128)))
    (tmp_path / "s.zip").write_bytes(zip_bytes([("scans/nul.nii", nifti_bytes(axial_volume([pixels])))]))
    names = ["con.jpg", "aux.JPG", "Com1.x.jpg", "con_.jpg", "scan.jpg", "s.zip"]
    assert main(["predict", *(str(tmp_path / n) for n in names), "--heatmap", str(tmp_path / "maps")]) == 0
    capsys.readouterr()
    assert sorted(p.name for p in (tmp_path / "maps").iterdir()) == sorted([
        "con_.heatmap.png", "aux_.heatmap.png", "Com1_.x.heatmap.png", "con_-2.heatmap.png", "scan.heatmap.png",
        "nul_.heatmap.png"])


@pytest.mark.parametrize("name, portable", [
    ("con.png", "con_.png"), ("NUL.heatmap.png", "NUL_.heatmap.png"), ("prn", "prn_"), ("Lpt9.a.b", "Lpt9_.a.b"),
    ("com\u00b2.png", "com\u00b2_.png"), ("nul .png", "nul _.png"), ("aux..png", "aux_..png"),
    ("conin$.x", "conin$_.x"), ("scan.", "scan_"), ("scan ", "scan_"), ("a:b?.png", "a_b_.png"),
    ("scan.heatmap.png", "scan.heatmap.png"), ("console.png", "console.png"), ("com10.png", "com10.png"),
    ("lpt.png", "lpt.png"), ("x.con.png", "x.con.png"), (".nul", ".nul"), ("", ""),
])
def test_a_name_made_from_a_users_is_portable(name, portable):
    from braintumor.file_names import portable_name

    assert portable_name(name) == portable


def test_outputs_named_after_a_long_name_fit_in_a_file_name(test_images, tmp_path, capsys):
    """An input named with 245 characters (a legal name) gave a heat map name of 257 bytes, and a zip member's name
    may be longer still: "error: File name too long" ended the run. So did `-o` with a 250-byte name, through the
    temporary file beside it. Such a heat map name is cut at the input's part (the slice and the -2 stay), and the
    temporary name is cut."""
    import numpy as np
    from dicom_factory import axial_volume, nifti_bytes, zip_bytes
    from PIL import Image

    from braintumor.file_names import MAX_NAME_BYTES

    image = test_images["glioma"][0].read_bytes()
    long = "a" * 245
    for folder in ("x", "y"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / f"{long}.jpg").write_bytes(image)
    pixels = np.asarray(Image.open(test_images["glioma"][0]).convert("L").resize((128, 128)))
    member = "\u00e9" * 200 + ".nii"  # 404 bytes
    (tmp_path / "s.zip").write_bytes(zip_bytes([(member, nifti_bytes(axial_volume([pixels, pixels])))]))
    out = tmp_path / ("r" * 244 + ".jsonl")
    inputs = [str(tmp_path / "x" / f"{long}.jpg"), str(tmp_path / "y" / f"{long}.jpg"), str(tmp_path / "s.zip")]
    assert main(["predict", *inputs, "--heatmap", str(tmp_path / "maps"), "-o", str(out)]) == 0
    capsys.readouterr()
    written = sorted(p.name for p in (tmp_path / "maps").iterdir())
    assert len(written) == 4 and max(len(n.encode()) for n in written) <= MAX_NAME_BYTES
    assert [n for n in written if n.startswith("a")] == [f"{long[:240]}-2.heatmap.png", f"{long[:242]}.heatmap.png"]
    assert [n[-20:] for n in written if n.startswith("s")] == ["\u00e9-slice0.heatmap.png", "\u00e9-slice1.heatmap.png"]
    assert len(out.read_text().splitlines()) == 4


def test_csv_to_a_terminal_shows_names_escaped_and_to_a_file_exactly():
    """``predict --format csv`` at a terminal wrote a file name's escape sequence raw (``x\\x1b[2J.jpg`` cleared the
    screen) where the table and jsonl show it escaped; to a file or a pipe the csv keeps every name exactly."""
    import csv
    import io

    from braintumor.predict_output import Formatter

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    rec = {"path": f"=d/{ODD}.jpg", "error": f"file not found: =d/{ODD}.jpg"}
    for out, path in ((Terminal(), f"'=d/{SHOWN}.jpg"), (io.StringIO(), f"'=d/{ODD}.jpg")):
        rows = Formatter("csv", out, ("glioma", "pituitary"), extra=("working_folder",))
        rows.write({**rec, "working_folder": f"/w/{ODD}"})
        rows.close()
        text = out.getvalue()
        _header, row = csv.reader(io.StringIO(text, newline=""))
        assert row[0] == path and row[-1] == path.replace("'=d", "/w").replace(".jpg", "")
        assert ("\x1b" in text) is not isinstance(out, Terminal)


def test_a_non_utf8_byte_that_is_a_c1_control_is_shown_escaped(tmp_path, capsys):
    """A name's byte not UTF-8 was written to the terminal as it is: 0x9b is CSI (as ``\\x1b[``) on a terminal not in
    UTF-8 mode, so ``x<9b>2J.jpg`` cleared it. Bytes 0x80-0x9f (the C1 controls) are shown as ``\\x9b``; the others
    (0xa0-0xff, letters in Latin-1) stay their own bytes, as ``ls`` shows them."""
    from braintumor.wording import printable

    assert printable("a\udc9b[2J\udc80\udcff\udca0.jpg") == "a\\x9b[2J\\x80\udcff\udca0.jpg"
    main(["predict", str(tmp_path / "x\udc9b2J.jpg")])
    out, err = capsys.readouterr()
    assert "x\\x9b2J.jpg" in out + err and "\udc9b" not in out + err, out + err
