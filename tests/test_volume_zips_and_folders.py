"""Volumes in zips (read in memory, guarded against bombs and unsafe names) and zips met inside folders."""

from __future__ import annotations

import gzip
import io
import tarfile
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import (
    axial_volume,
    flat_slice,
    make_dicom,
    nifti_bytes,
    series,
    zip_bytes,
)

from braintumor import zip_io
from braintumor.image_io import ImageError
from braintumor.volume_io import MAX_SLICES, TOO_LONG_ADVICE, BudgetError, read_volumes


def test_zip_of_a_series_is_read_in_memory(stack):
    from test_web_safety import no_disk_writes

    data = zip_bytes([(f"study/series/{n}", d) for n, d in series(stack)] + [("study/notes.txt", b"hello")])
    with no_disk_writes() as writes:
        (volume,) = read_volumes(data, name="series.zip")
    assert writes == [] and len(volume.slices) == 6
    assert all(np.array_equal(s.pixels, stack[k]) for k, s in enumerate(volume.slices))
    assert volume.notes == ("skipped 1 file in the zip: not DICOM or NIfTI",)


def test_zip_guards(stack, monkeypatch):
    files = series(stack[:2])
    for bad in ("../evil.dcm", "/etc/evil.dcm", "a/../../evil.dcm", "C:/evil.dcm"):
        with pytest.raises(ImageError, match="unsafe name"):
            read_volumes(zip_bytes([*files, (bad, files[0][1])]), name="x.zip")
    with pytest.raises(ImageError, match="no DICOM or NIfTI file"):
        read_volumes(zip_bytes([("a.txt", b"hello")]), name="x.zip")
    with pytest.raises(ImageError, match="corrupt or truncated"):
        read_volumes(zip_bytes(files)[:300], name="x.zip")
    bomb = zip_bytes([("zeros.dcm", bytes(3_000_000))])
    assert len(bomb) < 10_000
    monkeypatch.setattr(zip_io, "MAX_VOLUME_BYTES", 1_000_000)
    with pytest.raises(ImageError, match="would expand to 3000000 bytes"):
        read_volumes(bomb, name="x.zip")
    two = [(f"{k}.nii.gz", nifti_bytes(axial_volume(stack))) for k in "ab"]  # 6 slices each
    with pytest.raises(ImageError, match=r"^the zip holds more than 10 slices \(at b.nii.gz\); the limit is 10 per"):
        read_volumes(zip_bytes(two), name="x.zip", max_slices=10, per_input=True)  # said 'the limit is 4'
    with pytest.raises(BudgetError) as caught:  # 153,600 pixels each: said "the limit is 46,400", what a.nii.gz left
        read_volumes(zip_bytes(two), name="x.zip", max_pixels=200_000, per_input=True)
    assert str(caught.value) == "the zip holds more than 200,000 pixels (at b.nii.gz); the limit is 200,000 per input"
    assert [len(v.slices) for v in read_volumes(zip_bytes(two), name="x.zip", max_slices=10)] == [6, 6]  # each
    refused = read_volumes(zip_bytes(two), name="x.zip", max_slices=5)  # each on its own, the zip not refused
    assert [(v.path, v.slices, v.error) for v in refused] == [
        (f"x.zip:{k}.nii.gz", [], "NIfTI volume has 6 axial slices; the limit is 5") for k in "ab"]
    cut = read_volumes(zip_bytes([two[0], ("b.nii.gz", two[1][1][:100])]), name="x.zip")  # its own error: which one
    assert [(v.path, len(v.slices)) for v in cut] == [("x.zip:a.nii.gz", 6), ("x.zip:b.nii.gz", 0)]
    assert cut[1].error.startswith("gzip data is truncated")
    with pytest.raises(ImageError, match=r"^b.nii.gz: gzip data is truncated"):  # alone in its zip: the zip's error
        read_volumes(zip_bytes([("b.nii.gz", two[1][1][:100])]), name="x.zip")
    monkeypatch.setattr(zip_io, "MAX_ZIP_MEMBERS", 3)
    with pytest.raises(ImageError, match="lists 4 members; the limit is 3"):
        read_volumes(zip_bytes([(f"{i}.dcm", b"x") for i in range(4)]), name="x.zip")


def _listing_again(data: bytes, times: int) -> bytes:
    """``data`` (a zip) with its central directory listed ``times`` times over: entries of 46 bytes and a name, all
    of one member, that zipfile parses one by one (a comment after the end record too, as zipfile then searches)."""
    end = data.rindex(b"PK\x05\x06")
    size, offset = int.from_bytes(data[end + 12:end + 16], "little"), int.from_bytes(data[end + 16:end + 20], "little")
    count = min(times, 0xFFFF).to_bytes(2, "little")
    record = b"PK\x05\x06" + bytes(4) + count * 2 + (size * times).to_bytes(4, "little") + data[end + 16:end + 20]
    return data[:offset] + data[offset:offset + size] * times + record + (2).to_bytes(2, "little") + b"ok"


def test_a_nifti_member_past_what_earlier_members_left_is_refused_before_it_is_decoded(stack, monkeypatch):
    """Each NIfTI member was decoded against the whole slice limit, and only then checked against what the members
    before it had left: one past that was decoded to be refused. It is refused on its header, in the same words; one
    past the limit on its own is still told that limit, not what was left."""
    from braintumor import nifti_io

    decoded = []
    real = nifti_io.robust_uint8
    monkeypatch.setattr(nifti_io, "robust_uint8", lambda plane: decoded.append(1) or real(plane))  # one per slice
    two = [(f"{k}.nii.gz", nifti_bytes(axial_volume(stack))) for k in "ab"]  # 6 slices each
    with pytest.raises(BudgetError, match=r"^the zip holds more than 10 slices \(at b.nii.gz\); the limit is 10 per "
                                          r"input$"):
        read_volumes(zip_bytes(two), name="x.zip", max_slices=10, per_input=True)
    assert decoded == []  # (a.nii.gz's 6 slices were): all the members' headers are checked before any is decoded
    long = ("c.nii.gz", nifti_bytes(axial_volume(stack + stack)))  # 12 slices: past 10 alone
    with pytest.raises(BudgetError) as caught:
        read_volumes(zip_bytes([two[0], long]), name="x.zip", max_slices=10, per_input=True)
    assert str(caught.value) == "c.nii.gz: NIfTI volume has 12 axial slices; the limit is 10"  # as it is alone


def test_a_zip_listing_too_many_members_is_refused_before_they_are_parsed(monkeypatch):
    """The member limit was checked on zipfile's list, made first: 1 million 47-byte entries (47 MB, within the upload
    limit) took 28 s and 470 MB of one request's thread. The count is now taken from the bytes, and zipfile never
    parses such a directory (its end record's count, which can lie, is not trusted)."""
    many = _listing_again(zip_bytes([("a.dcm", b"x")]), zip_io.MAX_ZIP_MEMBERS + 1)

    def no_parse(*args, **kwargs):
        raise AssertionError("zipfile parsed a directory over the limit")

    with monkeypatch.context() as m:
        m.setattr(zip_io.zipfile, "ZipFile", no_parse)
        with pytest.raises(ImageError, match=f"^zip archive lists {zip_io.MAX_ZIP_MEMBERS + 1} members; the limit is "):
            read_volumes(many, name="x.zip")
    assert len(zip_io.zipfile.ZipFile(io.BytesIO(many)).infolist()) == zip_io.MAX_ZIP_MEMBERS + 1  # as zipfile reads it
    at_limit = _listing_again(zip_bytes([("a.dcm", b"x")]), zip_io.MAX_ZIP_MEMBERS)
    with pytest.raises(ImageError, match="share their data"):  # past the count: the next guard's refusal
        read_volumes(at_limit, name="x.zip")


def test_a_folder_holding_only_a_zip_says_why_nothing_was_found(stack, tmp_path):
    from braintumor.input_plan import plan_inputs

    (tmp_path / "scans").mkdir()
    (tmp_path / "scans" / "series.zip").write_bytes(zip_bytes(series(stack[:2])))
    (tmp_path / "empty").mkdir()
    assert list(plan_inputs([tmp_path / "scans", tmp_path / "empty"])) == [
        {"path": str(tmp_path / "scans"),
         "error": "no image or scan found in the folder (zips in a folder are not opened: name the zip itself)"},
        {"path": str(tmp_path / "empty"),
         "error": "no image or scan found in the folder (JPEG, PNG, BMP, TIFF, WebP, DICOM or NIfTI)"}]


def test_a_zip_beside_other_scans_in_a_folder_is_said_not_skipped_without_a_word(stack, tmp_path):
    """``predict scans/`` read scans/a.png and passed over scans/series.zip in silence (said only of a folder holding
    nothing else): a note names it and how to have it read; so for a .hdr/.img pair's half and an image without an
    image ending. Files no one expects read (notes) and hidden ones stay unsaid."""
    from conftest import encode

    from braintumor.input_plan import plan_inputs

    scans = tmp_path / "scans"
    (scans / "deeper").mkdir(parents=True)
    (scans / "a.png").write_bytes(encode(stack[0]))
    for name in ("series.zip", "deeper/more.zip"):
        (scans / name).write_bytes(zip_bytes(series(stack[:2])))
    (scans / "IMG_0001").write_bytes(encode(stack[1]))  # a PNG, no ending
    (scans / "head.hdr").write_bytes(b"\x00" * 348)
    (scans / "notes.txt").write_text("not a scan")
    (scans / ".hidden.zip").write_bytes(b"PK\x03\x04")
    notes: list[str] = []
    assert list(plan_inputs([scans], on_note=notes.append)) == [scans / "a.png"]
    assert notes == [
        f"note: 2 files in {scans} not read (zips in a folder are not opened: name each one, e.g. braintumor "
        f"predict {scans / 'series.zip'}): {scans / 'series.zip'}, {scans / 'deeper/more.zip'}",  # as walked
        f"note: 1 file in {scans} not read (halves of .hdr + .img pairs are not read: save each pair as one .nii "
        f"file): {scans / 'head.hdr'}",
        f"note: 1 file in {scans} not read (images without an image ending are not read in a folder: name each "
        f"one, or rename it .jpg, .png, ...): {scans / 'IMG_0001'}"]
    assert list(plan_inputs([scans])) == [scans / "a.png"]  # no one to tell: as before



def test_the_command_a_zip_note_suggests_can_be_pasted_with_spaces_in_the_name(stack, tmp_path):
    """`braintumor predict scans/my series.zip` pasted from the note was two arguments, neither of them the zip."""
    from conftest import encode

    from braintumor.input_plan import plan_inputs

    scans = tmp_path / "scans"
    scans.mkdir()
    (scans / "a.png").write_bytes(encode(stack[0]))
    (scans / "my series.zip").write_bytes(zip_bytes(series(stack[:2])))
    notes: list[str] = []
    list(plan_inputs([scans], on_note=notes.append))
    assert f"e.g. braintumor predict '{scans / 'my series.zip'}'" in notes[0], notes


def test_a_zip_note_suggests_no_command_it_cannot_show_as_pasteable(stack, tmp_path, monkeypatch):
    """The note's command for 'z<ESC>[2J.zip' named it escaped for display ('z\\x1b[2J.zip'), which names no file
    when pasted: a name not printable as it is (an escape, a byte not UTF-8) gets no command, only "name each one".
    One starting with '-' is given as ./-name, not read as an option."""
    from conftest import encode

    from braintumor.input_plan import plan_inputs

    monkeypatch.chdir(tmp_path)
    for folder, name in (("a", "z\x1b[2J.zip"), ("b", "caf\udce9.zip"), ("-c", "s.zip")):  # \udce9: a Latin-1 byte
        scans = Path(folder)
        scans.mkdir()
        (scans / "a.png").write_bytes(encode(stack[0]))
        (scans / name).write_bytes(zip_bytes(series(stack[:2])))
        notes: list[str] = []
        list(plan_inputs([scans], on_note=notes.append))
        if folder.startswith("-"):
            assert "(zips in a folder are not opened: name each one, e.g. braintumor predict ./-c/s.zip)" in notes[0]
            continue
        assert "braintumor predict" not in notes[0], notes
        assert ("(zips in a folder are not opened: name each one (the first's name holds characters this note cannot "
                "show as they are: no command to copy)):") in notes[0], notes

def test_zip_entries_that_share_their_data_are_refused():
    """One 1 MB member listed 4 times: each entry was read and parsed again (12 GB for a deflated DICOM)."""
    import struct
    import zlib

    payload, name = make_dicom(flat_slice(1)), b"a.dcm"
    crc = zlib.crc32(payload)
    local = struct.pack("<4sHHHHHIIIHH", b"PK\x03\x04", 20, 0, 0, 0, 0, crc, len(payload), len(payload),
                        len(name), 0) + name + payload
    central = b"".join(struct.pack("<4sHHHHHHIIIHHHHHII", b"PK\x01\x02", 20, 20, 0, 0, 0, 0, crc, len(payload),
                                   len(payload), len(name), 0, 0, 0, 0, 0, 0) + name for _ in range(4))
    end = struct.pack("<4sHHHHIIH", b"PK\x05\x06", 0, 0, 4, 4, len(central), len(local), 0)
    with pytest.raises(ImageError, match=r"overlapping entries: a zip bomb"):
        read_volumes(local + central + end, name="o.zip")


def test_a_zip_of_nifti_and_dicom_says_its_limit_as_the_zips():
    """A 10-slice NIfTI and 3 DICOM files under a 10-slice limit: 'DICOM file has 1 frames; the limit is 0'; then 'the
    limit is 10 per input', after the members' slices and pixels both (which limit?)."""
    from pydicom.uid import generate_uid

    uid = generate_uid()
    members = [("head.nii.gz", nifti_bytes(axial_volume([flat_slice(k) for k in range(10)])))]
    members += [(f"IM{k}", make_dicom(flat_slice(k), series_uid=uid, instance=k + 1, position=5.0 * k))
                for k in range(3)]
    with pytest.raises(BudgetError, match=r"^the zip's DICOM files are past what its NIfTI members \(10 slices, "
                                          r"40,960 pixels\) left; the limit is 10 slices per input$"):
        read_volumes(zip_bytes(members), name="mixed.zip", max_slices=10, per_input=True)  # a web request's budget
    with pytest.raises(BudgetError, match=r"\) left; the limit is 41,000 pixels per input$"):  # which limit: its unit
        read_volumes(zip_bytes(members), name="mixed.zip", max_slices=100, max_pixels=41_000, per_input=True)
    frames = np.zeros((MAX_SLICES // 2 + 1, 8, 8), np.uint8)  # two files: a series past any input's slices by itself
    long = [(f"MF{k}", make_dicom(frames, NumberOfFrames=len(frames), series_uid=uid, instance=k + 1)) for k in (0, 1)]
    with pytest.raises(BudgetError) as caught:  # was "past what its NIfTI members left": send it alone, as if it fit
        read_volumes(zip_bytes(members[:1] + long), name="mixed.zip", per_input=True)
    assert str(caught.value) == (f"the DICOM input holds {2 * len(frames)} slices; the limit is {MAX_SLICES} per input "
                                 f"({TOO_LONG_ADVICE})") and caught.value.whole
    assert [len(v.slices) for v in read_volumes(zip_bytes(members), name="mixed.zip", max_slices=10)] == [3, 10]
    assert len(read_volumes(zip_bytes(members), name="mixed.zip", max_slices=13)) == 2


def test_a_zip_of_nifti_files_is_read_as_predict_help_says(stack, tmp_path, capsys):
    """``predict --help`` (and the README) said 'zips of a DICOM series', where a zip of NIfTI files is read too: its
    words now say so, and what they say is what predict does."""
    import json

    from cli_runner import run_cli

    path = tmp_path / "heads.zip"
    path.write_bytes(zip_bytes([("head.nii.gz", nifti_bytes(axial_volume(stack[:3])))]))
    rc, out, _ = run_cli(["predict", str(path), "--format", "jsonl"], capsys)
    records = [json.loads(line) for line in out.splitlines()]
    assert rc == 0 and [(r["path"], r["slice"]) for r in records] == [(f"{path}:head.nii.gz", k) for k in range(3)]
    with pytest.raises(SystemExit):
        run_cli(["predict", "--help"], capsys)
    said = " ".join(capsys.readouterr().out.split())  # argparse wraps it to the terminal's width
    assert "zips of DICOM or NIfTI files," in said and "zips of a DICOM series" not in said


def test_the_words_for_what_a_zip_holds_say_nifti_files_too():
    """The page's advice for a folder it could not read ('or a .zip of a DICOM series'), the volume reader's own
    summary ('DICOM series (folder or .zip)') and a tar.gz's refusal ('read as zips of DICOM files') left out the zips
    of NIfTI files read as well (test above): the words now fit what is read."""
    from braintumor import volume_io
    from braintumor.compressed_files import compressed_text

    send_js = (Path(volume_io.__file__).parent / "web" / "static" / "send.js").read_text(encoding="utf-8")
    unreadable = send_js.split("const UNREADABLE = ", 1)[1].split(";", 1)[0]
    assert "could not read the file: a folder" in unreadable and "DICOM" not in unreadable
    summary = volume_io.__doc__.splitlines()[0]
    assert "NIfTI volumes, a .zip of them" in summary and "(folder or .zip)" not in summary
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        archive.addfile(tarfile.TarInfo("head.nii"), io.BytesIO(b""))
    said = compressed_text(gzip.compress(tar.getvalue()))
    assert said is not None and "read as zips of DICOM or NIfTI files;" in said
