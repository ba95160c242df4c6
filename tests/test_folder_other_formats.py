"""Images of a format braintumor does not read (GIF, JPEG 2000, HEIC, Netpbm...) found walking a folder: passed over
without a word, a folder of GIFs was "no image or scan found". ``braintumor predict`` now notes them, one line per
format in image_io's words (wording.unread_format_text), a folder of only those says so, and ``expand_inputs`` yields
them for ``predict_many`` to refuse each as it refuses one named (tests/test_browser_folder_walk.py: the page)."""

from __future__ import annotations

import pytest
from conftest import encode, synthetic_head
from test_image_refusals import _other_formats

from braintumor.image_files import OTHER_FORMAT_ENDINGS, expand_inputs
from braintumor.image_headers import other_format
from braintumor.image_io import ImageError
from braintumor.input_plan import plan_inputs
from braintumor.volume_io import read_volumes

CONVERT = "convert {} to PNG (lossless, 8- or 16-bit) or to JPEG, BMP, TIFF or WebP"
ENDINGS = {"GIF": ".gif", "Netpbm (PGM, PPM, PBM or PAM)": ".ppm", "Windows icon (ICO)": ".ico", "JPEG 2000": ".jp2",
           "JPEG 2000 codestream": ".j2c", "HEIC": ".heic", "AVIF": ".avif", "JPEG XL": ".jxl"}


def skipped(folder, count: int, fmt: str, shown: str) -> str:
    """The folder note for ``count`` files of ``fmt`` (``shown``: the names it lists)."""
    files = "file" if count == 1 else "files"
    return (f"note: skipped {count} {fmt} {files} in {folder} ({shown}), a format braintumor does not read: "
            f"{CONVERT.format('it' if count == 1 else 'them')}")


def test_each_ending_names_the_format_its_bytes_are_named_as():
    """A folder's note names a file by its ending, a refusal by its bytes: the same name for the same file."""
    for name, data in _other_formats().items():
        assert OTHER_FORMAT_ENDINGS[ENDINGS[name]] == other_format(data), name


def test_a_folder_notes_its_files_of_formats_not_read_one_line_per_format(tmp_path):
    folder = tmp_path / "mri"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.png").write_bytes(encode(synthetic_head(), "PNG"))
    gif = encode(synthetic_head(), "GIF")
    for name in ("b.gif", "c.GIF", "sub/d.gif", "sub/e.gif"):
        (folder / name).write_bytes(gif)
    (folder / "x.heic").write_bytes(_other_formats()["HEIC"])
    (folder / "notes.txt").write_text("notes")
    notes: list[str] = []
    assert list(plan_inputs([folder], notes.append)) == [folder / "a.png"]
    assert notes == [skipped(folder, 4, "GIF", f"{folder}/b.gif, {folder}/c.GIF, {folder}/sub/d.gif and 1 more"),
                     skipped(folder, 1, "HEIC", f"{folder}/x.heic")]


@pytest.mark.parametrize(("names", "said"), [
    (["a.gif"], "only 1 GIF file{}, a format braintumor does not read: " + CONVERT.format("it")),
    (["a.pgm", "b.PPM"], "only 2 Netpbm (PGM, PPM, PBM or PAM) files{}, a format braintumor does not read: "
     + CONVERT.format("them")),
    (["a.gif", "b.jp2", "c.psd"], "only 1 GIF file, 1 JPEG 2000 file and 1 Photoshop (PSD) file{}, formats braintumor "
     "does not read: " + CONVERT.format("them"))])
def test_a_folder_of_only_formats_not_read_says_so(tmp_path, names, said):
    """It said "no image or scan found in the folder (JPEG, PNG, ...)" of a folder of GIFs; read_volumes "no DICOM files
    found in folder"."""
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "README.txt").write_text("notes")
    assert list(plan_inputs([tmp_path])) == [{"path": str(tmp_path), "error": said.format(" in the folder")}]
    with pytest.raises(ImageError) as refused:
        read_volumes(tmp_path)
    assert str(refused.value) == "no DICOM or NIfTI files found in folder, " + said.format("")


def test_a_zip_beside_them_is_said_first(tmp_path):
    """A folder of GIFs and a zip: the zip's words (name it itself) come first, as before; both are noted."""
    (tmp_path / "a.gif").write_bytes(b"x")
    (tmp_path / "series.zip").write_bytes(b"PK\x05\x06" + bytes(18))
    notes: list[str] = []
    assert [r["error"] for r in plan_inputs([tmp_path], notes.append)] == [
        "no image or scan found in the folder (zips in a folder are not opened: name the zip itself)"]
    assert [n.split(" (")[0] for n in notes] == [f"note: 1 file in {tmp_path} not read",
                                                  f"note: skipped 1 GIF file in {tmp_path}"]


def test_expand_inputs_yields_them_for_predict_many_to_refuse_each(tmp_path, clf):
    """The Python API's walk (predict_many(expand_inputs([folder]))) dropped them without a word: each is now refused
    as when named, saying what it is and what to convert it to."""
    gif = encode(synthetic_head(), "GIF")
    (tmp_path / "a.png").write_bytes(encode(synthetic_head(), "PNG"))
    (tmp_path / "b.gif").write_bytes(gif)
    (tmp_path / "c.txt").write_text("notes")
    found = list(expand_inputs([tmp_path]))
    assert found == [tmp_path / "a.png", tmp_path / "b.gif"]
    (_, image), (_, gif_said) = clf.predict_many(found)
    assert not isinstance(image, ImageError)
    assert str(gif_said) == "GIF image, a format braintumor does not read: " + CONVERT.format("it")


def test_a_file_of_a_format_not_read_without_an_ending_is_noted_by_its_bytes(tmp_path):
    """A GIF or a JPEG 2000 without an ending (IM0001, as a PACS names files) was passed over without a word, while one
    named .gif was noted: the walk reads such a file's first bytes for DICOM already, and they name its format."""
    formats = _other_formats()
    (tmp_path / "a.png").write_bytes(encode(synthetic_head(), "PNG"))
    (tmp_path / "IM0001").write_bytes(encode(synthetic_head(), "GIF"))
    (tmp_path / "b.gif").write_bytes(b"x")
    (tmp_path / "IM0002").write_bytes(formats["JPEG 2000"])
    (tmp_path / "notes").write_text("P1 is the first patient")  # a text is no Netpbm image
    notes: list[str] = []
    assert list(plan_inputs([tmp_path], notes.append)) == [tmp_path / "a.png"]
    assert notes == [skipped(tmp_path, 2, "GIF", f"{tmp_path}/IM0001, {tmp_path}/b.gif"),
                     skipped(tmp_path, 1, "JPEG 2000", f"{tmp_path}/IM0002")]
    (tmp_path / "a.png").unlink()
    said = "only 2 GIF files and 1 JPEG 2000 file{}, formats braintumor does not read: " + CONVERT.format("them")
    assert list(plan_inputs([tmp_path])) == [{"path": str(tmp_path), "error": said.format(" in the folder")}]


def test_expand_inputs_yields_a_folders_compressed_files_as_predict_names_them(tmp_path, clf):
    """A PACS export's ``IM0001.dcm.gz``: predict's walk names it in a note (by its bytes), while the Python API's walk
    (predict_many(expand_inputs([folder]))) passed it over without a word. Each is now refused in the note's words; a
    half of a .hdr + .img pair, which predict's note calls one, is not yielded (nor is a .hdr)."""
    import gzip

    from braintumor.compressed_files import compressed_text

    (tmp_path / "a.png").write_bytes(encode(synthetic_head(), "PNG"))
    packed = gzip.compress(bytes(128) + b"DICM" + bytes(2048))
    (tmp_path / "IM0001.dcm.gz").write_bytes(packed)
    (tmp_path / "t1.hdr.gz").write_bytes(gzip.compress(bytes(348)))
    said = compressed_text(packed)
    assert said is not None and "holding a DICOM file" in said
    notes: list[str] = []
    assert list(plan_inputs([tmp_path], notes.append)) == [tmp_path / "a.png"]
    assert any(f"({said}): {tmp_path / 'IM0001.dcm.gz'}" in note for note in notes), notes
    found = list(expand_inputs([tmp_path]))
    assert found == [tmp_path / "IM0001.dcm.gz", tmp_path / "a.png"]
    (_, refused), (_, image) = clf.predict_many(found)
    assert str(refused) == said and not isinstance(image, ImageError)


def test_read_volumes_of_a_folder_of_images_says_what_reads_them(tmp_path, clf):
    """``read_volumes(folder)`` of a folder of JPEG slices (the dataset's layout) said only "no DICOM files found in
    folder"; it names the call that reads them, and what it names reads them."""
    from braintumor.prediction import Prediction

    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "a.jpg").write_bytes(encode(synthetic_head(), "JPEG"))
    (tmp_path / "b.gif").write_bytes(encode(synthetic_head(), "GIF"))
    with pytest.raises(ImageError) as refused:
        read_volumes(tmp_path)
    assert str(refused.value) == ("no DICOM or NIfTI files found in folder (it holds 2-D images: Classifier."
                                  "predict_many(braintumor.image_io.expand_inputs([folder])) reads them)")
    outcomes = dict(clf.predict_many(expand_inputs([tmp_path])))
    assert isinstance(outcomes[tmp_path / "sub" / "a.jpg"], Prediction)
    assert isinstance(outcomes[tmp_path / "b.gif"], ImageError)
