"""Zips as they come: what is skipped in them, and said."""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pytest
from dicom_factory import axial_volume, nifti_bytes, zip_bytes

from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes


def _volume(k: int = 3) -> bytes:
    return nifti_bytes(axial_volume([np.full((48, 48), 40 * (i + 1), np.uint8) for i in range(k)]))


def test_files_skipped_in_a_zip_of_nifti_volumes_are_said():
    """The notes went to DICOM series only: a zip of NIfTI volumes skipped its other files without a word."""
    members = [("scans/head.nii.gz", _volume()), ("scans/README.txt", b"notes"), ("__MACOSX/scans/._head.nii.gz",
                                                                                      b"\x00\x05\x16\x07")]
    (volume,) = read_volumes(zip_bytes(members), name="x.zip")
    assert len(volume.slices) == 3
    assert volume.notes == ("skipped 1 file in the zip: hidden or system file",
                            "skipped 1 file in the zip: not DICOM or NIfTI")


def test_a_zip_inside_a_zip_is_named_as_such():
    """It was 'not DICOM or NIfTI', which sent people looking for what was wrong with their scans."""
    inner = zip_bytes([("head.nii.gz", _volume())])
    with pytest.raises(ImageError, match=r"^zip archive holds no DICOM or NIfTI file \(skipped 2 files in the "
                                         r"zip: a zip inside the zip \(not opened: zip the scans themselves\)\)$"):
        read_volumes(zip_bytes([("study/inner.zip", inner), ("study/renamed.bin", inner)]), name="x.zip")


def test_a_torch_checkpoint_in_a_zip_is_named_as_one_not_as_a_zip_to_unpack():
    """A zipped run folder (its best.pt, a zip that torch.save wrote) was told 'a zip inside the zip (not opened: zip
    the scans themselves)', as if a scan were inside it. A checkpoint named otherwise is told by its layout too."""
    checkpoint = zip_bytes([("best/data.pkl", b"\x80\x02}q\x00."), ("best/version", b"3\n")])
    run = zip_bytes([("runs/best.pt", checkpoint), ("runs/renamed.bin", checkpoint), ("runs/inner.zip",
                                                                                       zip_bytes([("a.txt", b"a")]))])
    with pytest.raises(ImageError) as err:
        read_volumes(run, name="run.zip")
    assert str(err.value) == (
        "zip archive holds no DICOM or NIfTI file (skipped 2 files in the zip: a torch checkpoint (what 'braintumor "
        "train' writes), not a scan: send the MRI scans; skipped 1 file in the zip: a zip inside the zip (not opened: "
        "zip the scans themselves))")


def _label_map() -> bytes:
    labels = np.zeros((48, 48, 3), np.uint8)
    labels[10:20, 10:20] = 1
    labels[20:30, 20:30] = 4
    return nifti_bytes(labels)


@pytest.mark.parametrize("per_input", [True, False])
def test_one_unreadable_nifti_member_is_its_own_error_and_the_zip_s_other_scans_are_read(per_input):
    """A BraTS-like case zip (flair, seg, t1): its segmentation map refused the whole zip, the scans after it unread
    (and with per_input, the web's and the API's way, the one before it too), as was a DICOM series beside one."""
    zipped = zip_bytes([("case/flair.nii.gz", _volume()), ("case/seg.nii.gz", _label_map()),
                        ("case/t1.nii.gz", _volume(4))])
    volumes = read_volumes(zipped, name="case.zip", per_input=per_input)
    assert [(v.path, len(v.slices)) for v in volumes] == [
        ("case.zip:case/flair.nii.gz", 3), ("case.zip:case/seg.nii.gz", 0), ("case.zip:case/t1.nii.gz", 4)]
    assert volumes[1].error.startswith("NIfTI voxels hold only 3 distinct whole numbers, 0 to 4: a label or")
    assert volumes[0].error is None and volumes[2].error is None
    with pytest.raises(ImageError, match=r"^seg.nii.gz: NIfTI voxels hold only 3 distinct"):  # alone: the zip's own
        read_volumes(zip_bytes([("seg.nii.gz", _label_map())]), name="seg.zip", per_input=per_input)


@pytest.mark.parametrize("per_input", [True, False])
def test_dicom_files_that_give_no_image_are_their_own_error_and_the_zip_s_nifti_volume_is_read(per_input):
    """A zip of a NIfTI volume and a .dcm that held no DICOM image (a sign-in page saved under the name) was refused
    whole, "no DICOM image found (...)", its volume never read, where a folder of the two classifies the volume beside
    the DICOM files' error: the DICOM files are their own error record, the volume read. Alone, they still refuse it."""
    page = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>login</body></html>"
    volumes = read_volumes(zip_bytes([("case/head.nii.gz", _volume()), ("case/scan.dcm", page)]), name="case.zip",
                           per_input=per_input)
    assert [(v.path, v.kind, len(v.slices)) for v in volumes] == [("case.zip", "dicom", 0),
                                                                 ("case.zip:case/head.nii.gz", "nifti", 3)]
    assert volumes[0].error.startswith("no DICOM image found (skipped 1 file: an HTML page, not an image or scan")
    assert volumes[1].error is None
    with pytest.raises(ImageError, match=r"^no DICOM image found \(skipped 1 file: an HTML page"):
        read_volumes(zip_bytes([("case/scan.dcm", page)]), name="case.zip", per_input=per_input)


def test_a_dicom_member_that_expands_like_a_bomb_is_skipped_unparsed():
    """pydicom parses zeros as millions of empty elements: a 20 kB zip of 20 MB of zeros named a.dcm took 7 s of
    CPU (480 MB: 190 s) before 'not a DICOM file'. A DICOM file compresses 2 to 5 times; a member over 1 MB that
    expands more than 100 times is refused before it is parsed."""
    from dicom_factory import make_dicom

    bomb = zip_bytes([("a.dcm", bytes(4_000_000)), ("b.dcm", make_dicom(np.full((64, 64), 9, np.uint8)))])
    assert len(bomb) < 10_000
    (volume,) = read_volumes(bomb, name="x.zip")
    assert len(volume.slices) == 1
    (note,) = [n for n in volume.notes if "zip member" in n]
    assert re.fullmatch(r"skipped 1 file: zip member expands \d+ times its compressed size; over 100 is refused "
                        r"\(a DICOM file compresses 2 to 5 times: a zip bomb\)", note)


def _head_slice(seed: int, side: int = 512) -> np.ndarray:
    """A 12-bit MR-like slice: a bright ellipse in a dark field, both noisy, as a scanner's are."""
    rng = np.random.default_rng(seed)
    y, x = np.ogrid[:side, :side]
    head = ((x - side / 2) / (side * 0.38)) ** 2 + ((y - side / 2) / (side * 0.45)) ** 2 < 1
    return (np.where(head, 1800, 40) + rng.normal(0, 60, (side, side))).clip(0, 4095).astype(np.uint16)


def test_a_zip_that_expands_like_a_bomb_as_a_whole_is_refused_before_any_member_is_inflated(monkeypatch):
    """Each member under 1 MB escaped the per-member ratio: a 543 kB zip of 512 DICOM slices of zeros (268 MB) held
    a worker 10.6 s (CLI and web upload alike). The zip's declared expansion against its own size is checked from
    its central directory, before any member is opened; a real series zipped (2 to 5 times) is read as before."""
    from dicom_factory import make_dicom, series

    zeros = make_dicom(np.zeros((512, 512), np.uint16))
    bomb = zip_bytes([(f"s/{k:03d}.dcm", zeros) for k in range(34)])
    declared = 34 * len(zeros)
    assert declared > 16 * 1024 * 1024 and len(bomb) * 100 < declared
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: opened.append(a) or real_open(self, *a, **k))
    with pytest.raises(ImageError) as caught:
        read_volumes(bomb, name="x.zip")
    assert str(caught.value) == (f"zip archive would expand to {declared:,} bytes, {declared / len(bomb):,.0f} times "
                                 f"its own {len(bomb):,}; past 16 MiB a zip may expand 100 times at most (DICOM files "
                                 "compress 2 to 5 times: a zip bomb)")
    assert opened == []

    monkeypatch.undo()
    study = zip_bytes(series([_head_slice(k) for k in range(34)]))  # as big, of a real series' entropy
    real = sum(m.file_size for m in zipfile.ZipFile(io.BytesIO(study)).infolist())
    assert real > 16 * 1024 * 1024 and real / len(study) < 10
    (volume,) = read_volumes(study, name="study.zip")
    assert len(volume.slices) == 34 and volume.error is None


@pytest.mark.parametrize(("method", "at"), [(zipfile.ZIP_DEFLATED, 0)])  # LZMA's: refused unread (below)
def test_a_member_whose_compressed_data_is_corrupt_is_that_members_error(method, at):
    """zlib's and lzma's own errors escaped the zip reader: 'this scan could not be read (error)' or '(LZMAError)',
    and a warning in the log."""
    import struct

    import nibabel as nib

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as zf:
        zf.writestr("a.nii", nib.Nifti1Image(np.zeros((8, 8, 8), np.int16), np.eye(4)).to_bytes())
    data = bytearray(buf.getvalue())
    start = 30 + struct.unpack_from("<H", data, 26)[0] + struct.unpack_from("<H", data, 28)[0]
    data[start + at] ^= 0xFF  # deflate: a block of the reserved type 3; lzma: a broken properties header
    with pytest.raises(ImageError, match=r"^a.nii: zip member is corrupt or uses an unsupported compression$"):
        read_volumes(bytes(data), name="x.zip")


@pytest.mark.parametrize(("method", "named"), [(zipfile.ZIP_BZIP2, "bzip2"), (zipfile.ZIP_LZMA, "LZMA")])
def test_members_whose_expansion_zipfile_cannot_bound_are_refused_unread(method, named, monkeypatch):
    """zipfile inflates bzip2 and LZMA with no bound on one read: a 760-byte bzip2 member declaring 100 bytes held
    900 MB of zeros, and reading the 132 bytes a member is sniffed by took 13 s and 1.7 GB (a zip of 4096 of them,
    hours). Such a zip is refused before any member is opened; stored and deflated ones are read as before."""

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("a.nii", nifti_bytes(axial_volume([np.full((8, 8), 9, np.uint8)] * 2), gz=False))
        zf.writestr("IM0001", bytes(1000), compress_type=method)
        zf.writestr("notes.txt", b"hello", compress_type=zipfile.ZIP_STORED)
    opened = []
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, *a, **k: opened.append(a) or real_open(self, *a, **k))
    with pytest.raises(ImageError, match=f"^zip archive has members compressed with {named}: only stored and "
                                         "deflated members are read"):
        read_volumes(buf.getvalue(), name="x.zip")
    assert opened == []


def test_members_of_one_name_are_told_apart():
    """A zip may list one name twice (appended to, or made so): both volumes came out as 'x.zip:a.nii.gz' with no
    series index, so their results could not be told apart."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # zipfile's "Duplicate name"
        data = zip_bytes([("a.nii.gz", _volume(2)), ("b.nii.gz", _volume(4)), ("a.nii.gz", _volume(3))])
    volumes = read_volumes(data, name="x.zip")
    assert [(v.path, v.series, len(v.slices)) for v in volumes] == [("x.zip:a.nii.gz", 0, 2),
                                                                      ("x.zip:b.nii.gz", None, 4),
                                                                      ("x.zip:a.nii.gz", 1, 3)]
    assert volumes[2].notes == ("the zip holds 2 members of this name: this is number 2 of them, in the zip's order",)
    assert volumes[1].notes == ()


def test_the_halves_of_a_pair_in_a_zip_are_named_as_such(tmp_path):
    """They were skipped as 'not DICOM or NIfTI', when the same .hdr or .img given alone is told pairs are not read."""
    import nibabel as nib

    nib.save(nib.Nifti1Pair(np.zeros((8, 8, 8), np.int16), np.eye(4)), tmp_path / "scan.img")
    members = [(f"study/scan.{end}", (tmp_path / f"scan.{end}").read_bytes()) for end in ("hdr", "img")]
    with pytest.raises(ImageError, match=r"^zip archive holds no DICOM or NIfTI file \(skipped 2 files in the "
                                         r"zip: half of a header/image pair \(.hdr \+ .img: not read; save them as one "
                                         r"\.nii file\)\)$"):
        read_volumes(zip_bytes(members), name="x.zip")


def test_members_in_hidden_folders_at_any_depth_are_skipped_as_a_folder_walk_skips_them():
    """Only the member's own name and a top-level ``__MACOSX/`` were looked at: a deleted slice in ``.Trashes/``, or
    any file of a ``__MACOSX`` tree one folder down (a Mac's zip unzipped and zipped again), was read into the series,
    where ``braintumor predict FOLDER`` skips hidden folders. A ``./`` part is no hidden folder."""
    from dicom_factory import series

    from braintumor.image_io import ImageError

    stack = [np.full((48, 48), 40 * (i + 1), np.uint8) for i in range(3)]
    files = series(stack, shuffle=False)
    members = [(f"./study/{name}", data) for name, data in files]
    members += [("study/.Trashes/501/IM0009", series(stack[:1])[0][1]),  # another series' slice, deleted
                ("study/__MACOSX/study/Icon", files[0][1]), ("study/__MACOSX/study/._IM0000", b"\x00\x05\x16\x07")]
    (volume,) = read_volumes(zip_bytes(members), name="x.zip")
    assert len(volume.slices) == 3
    assert "skipped 3 files in the zip: hidden or system file" in volume.notes
    with pytest.raises(ImageError, match=r"holds no DICOM or NIfTI file \(skipped 3 files in the zip: hidden"):
        read_volumes(zip_bytes(members[3:]), name="mac.zip")


def test_an_image_of_a_format_not_read_in_a_zip_is_named():
    """A GIF in a zip was "not DICOM or NIfTI", as a text is: the zip's notes now name its format and what to convert
    it to, as a folder's notes do (folder_notes.other_format_notes), from the first bytes read to look for DICOM."""
    from conftest import encode, synthetic_head

    gif = encode(synthetic_head(), "GIF")
    members = [("scans/head.nii.gz", _volume()), ("scans/a.gif", gif), ("scans/IM0001", gif), ("scans/notes.txt", b"x")]
    (volume,) = read_volumes(zip_bytes(members), name="x.zip")
    assert volume.notes == ("skipped 1 file in the zip: not DICOM or NIfTI",
                            "skipped 2 GIF files in the zip, a format braintumor does not read: convert them to PNG "
                            "(lossless, 8- or 16-bit) or to JPEG, BMP, TIFF or WebP")


def test_images_in_a_zip_are_named_with_what_to_do(test_images):
    """A zipped folder of JPEG slices (a researcher's habit with this dataset) was refused as holding "not DICOM or
    NIfTI" files, as a text is: nothing said they were images, read when given themselves."""
    jpegs = [(f"slices/{p.name}", p.read_bytes()) for c in ("glioma", "pituitary") for p in test_images[c][:2]]
    said = ("skipped 4 images in the zip (JPEG, PNG, BMP, TIFF or WebP): a zip is read for the DICOM and NIfTI scans "
            "it holds; unzip it to classify its images")
    with pytest.raises(ImageError) as caught:
        read_volumes(zip_bytes(jpegs), name="slices.zip")
    assert str(caught.value) == f"zip archive holds no DICOM or NIfTI file ({said})"
    (volume,) = read_volumes(zip_bytes([("head.nii.gz", _volume()), *jpegs[:1], ("notes.txt", b"x")]), name="x.zip")
    assert volume.notes == ("skipped 1 file in the zip: not DICOM or NIfTI", said.replace("4 images", "1 image"))


def test_a_file_named_zip_that_is_no_zip_is_told_so(tmp_path, capsys):
    """A download that saved a sign-in page as ``archive.zip`` was "not a recognised volume: expected DICOM, NIfTI
    (.nii, .nii.gz) or a .zip of a DICOM series": a .zip told it should be a .zip. It is told it is no zip archive,
    and an HTML page is named as one; a zip cut short stays "corrupt or truncated"."""
    import json

    from cli_runner import run_cli

    page = tmp_path / "archive.zip"
    page.write_bytes(b"\n<!DOCTYPE html><html><head><title>Sign in</title></head></html>")
    other = tmp_path / "scans.zip"
    other.write_bytes(b"\x00\x01 not an archive")
    begins = "not a zip archive: it does not begin as a zip file does"
    said = {str(page): f"{begins} (it is an HTML page: a download that saved a web page, such as a sign-in page, under "
                       "this name?)",
            str(other): f"{begins} (another kind of file named .zip?)"}
    rc, out, _ = run_cli(["predict", str(page), str(other), "--format", "jsonl"], capsys)
    assert rc == 1
    assert {r["path"]: r["error"] for r in map(json.loads, out.splitlines())} == said
    for path, error in said.items():
        with pytest.raises(ImageError, match=re.escape(error)):
            read_volumes(path)
    with pytest.raises(ImageError, match=r"^zip archive is corrupt or truncated$"):
        read_volumes(zip_bytes([("a.dcm", b"x" * 200)])[:60], name="cut.zip")


def _nan_dicom() -> bytes:
    """A DICOM file whose header reads and whose one frame holds no finite pixel: none of its images decodes."""
    from dicom_factory import make_dataset, to_bytes

    ds = make_dataset(None)
    ds.Rows = ds.Columns = 8
    ds.SamplesPerPixel, ds.PhotometricInterpretation, ds.BitsAllocated = 1, "MONOCHROME2", 32
    ds.FloatPixelData = np.full((8, 8), np.nan, np.float32).tobytes()
    return to_bytes(ds)


def test_a_zip_whose_dicom_files_all_fail_names_its_other_members_too(tmp_path, capsys):
    """A zip whose DICOM files all failed (a gzip named x.dcm beside a y.dcm.gz, a GIF beside an unreadable .dcm) was
    refused as "no DICOM image found (skipped 1 file: ...)": its other members' notes, said when a slice is read, were
    lost, and the user told of one member and not the others. The refusal says each, in the notes' words, in the CLI
    (table and jsonl), the API and read_volumes; a zip refused for its size still says only that."""
    import gzip
    import json

    from cli_runner import run_predict
    from conftest import encode, synthetic_head
    from dicom_factory import make_dicom, series

    from braintumor.image_gray import NO_FINITE_PIXELS
    from braintumor.model_files import default_model_path
    from braintumor.volume_io import BudgetError

    dicom = make_dicom(np.random.default_rng(0).integers(0, 4000, (64, 64)).astype(np.uint16))
    gif, png = encode(synthetic_head(), "GIF"), encode(synthetic_head(), "PNG")
    holds = ("a gzip-compressed file holding a DICOM file: compressed files are not read (but for a NIfTI volume, "
             ".nii.gz); decompress it (gunzip) and send what it holds")
    no_dicom = "not a DICOM file: no 'DICM' marker and no DICOM image attributes"
    zips = {"gz.zip": ([("a/x.dcm", gzip.compress(dicom)), ("a/y.dcm.gz", gzip.compress(dicom))],
                       f"no DICOM image found (skipped 1 file: {holds}; skipped 1 file in the zip: {holds})"),
            "gif.zip": ([("a/a.gif", gif), ("a/bad.dcm", b"not DICOM " * 20)],
                        f"no DICOM image found (skipped 1 file: {no_dicom}; skipped 1 GIF file in the zip, a format "
                        "braintumor does not read: convert it to PNG (lossless, 8- or 16-bit) or to JPEG, BMP, TIFF or "
                        "WebP)"),
            "nan.zip": ([("a/nan.dcm", _nan_dicom()), ("a/a.png", png), ("a/notes.txt", b"x"),
                         ("__MACOSX/a/._nan.dcm", b"\x00\x05\x16\x07")],
                        f"no DICOM image could be decoded (1 file: {NO_FINITE_PIXELS}; skipped 1 file in the zip: "
                        "hidden or system file; skipped 1 file in the zip: not DICOM or NIfTI; skipped 1 image in the "
                        "zip (JPEG, PNG, BMP, TIFF or WebP): a zip is read for the DICOM and NIfTI scans it holds; "
                        "unzip it to classify its images)"),
            "scout.zip": ([(f"a/IM{k}", make_dicom(np.full((48, 48), 9 * k, np.uint8), series_uid="1.2.3", instance=k,
                                                   ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"])) for k in (1, 2)]
                          + [("a/notes.txt", b"x")], "only localizer (scout) images, not diagnostic slices: 2 images "
                          "marked LOCALIZER in Image Type; skipped 1 file in the zip: not DICOM or NIfTI")}
    for name, (members, said) in zips.items():
        (tmp_path / name).write_bytes(zip_bytes(members))
        # the zip's notes, in the words its members are given when a slice beside them is read
        read = next(v for v in read_volumes(zip_bytes([*members, ("a/ok.dcm", dicom)]), name=name) if v.slices)
        assert said.removesuffix(")").endswith("; ".join(n for n in read.notes if "in the zip" in n))
        for per_input in (False, True):
            with pytest.raises(ImageError) as refused:
                read_volumes(zip_bytes(members), name=name, per_input=per_input)
            assert str(refused.value) == said
    paths = [tmp_path / name for name in zips]
    rc, out, _ = run_predict([*paths, "--format", "jsonl"], capsys)
    assert rc == 1 and [json.loads(line)["error"] for line in out.splitlines()] == [s for _, s in zips.values()]
    rc, out, _ = run_predict(paths, capsys)
    table = dict(line.split(None, 1) for line in out.splitlines() if line.startswith(str(tmp_path)))
    assert rc == 1 and table == {str(p): f"error: {s}" for p, (_, s) in zip(paths, zips.values(), strict=True)}
    if default_model_path().exists():
        from braintumor.predictor import Classifier
        from braintumor.web import create_app

        client = create_app(classifier=Classifier.load()).test_client()
        r = client.post("/api/v1/predict", data={"file": [(p.open("rb"), p.name) for p in paths]},
                        content_type="multipart/form-data")
        assert r.status_code == 400 and [x["error"] for x in r.get_json()["results"]] == [s for _, s in zips.values()]
    slices = series([np.full((48, 48), 40 * (i + 1), np.uint8) for i in range(3)])
    for per_input in (False, True):  # past its limit: said as the zip without the GIF is, nothing added
        told = []
        for members in (slices, [*slices, ("a.gif", gif)]):
            with pytest.raises(BudgetError) as refused:
                read_volumes(zip_bytes(members), name="big.zip", max_slices=2, per_input=per_input)
            told.append(str(refused.value))
        assert told[0] == told[1] and "GIF" not in told[1]


def test_dicom_files_none_read_beside_a_nifti_volume_are_their_own_error_and_the_volume_is_read(tmp_path, capsys):
    """A zip of a head.nii.gz, an unreadable .dcm and a GIF was refused whole for the .dcm ("no DICOM image found"),
    its NIfTI volume unread, where a NIfTI member's own error costs that member only. The DICOM files are an error
    record of the zip's, the volume read with the zip's notes, in the CLI, the API and read_volumes."""
    import json

    from cli_runner import run_predict
    from conftest import encode, synthetic_head

    from braintumor.model_files import default_model_path

    gif = encode(synthetic_head(), "GIF")
    members = [("a/head.nii.gz", _volume()), ("a/bad.dcm", b"not DICOM " * 20), ("a/a.gif", gif)]
    refusal = "no DICOM image found (skipped 1 file: not a DICOM file: no 'DICM' marker and no DICOM image attributes)"
    gif_note = ("skipped 1 GIF file in the zip, a format braintumor does not read: convert it to PNG (lossless, 8- or "
                "16-bit) or to JPEG, BMP, TIFF or WebP")
    for per_input in (False, True):
        dicoms, nifti = read_volumes(zip_bytes(members), name="case.zip", per_input=per_input)
        assert (dicoms.path, dicoms.kind, dicoms.slices, dicoms.error) == ("case.zip", "dicom", [], refusal)
        assert nifti.path == "case.zip:a/head.nii.gz" and len(nifti.slices) == 3 and nifti.error is None
        assert nifti.notes == (gif_note,)
    (tmp_path / "case.zip").write_bytes(zip_bytes(members))
    rc, out, _ = run_predict([tmp_path / "case.zip", "--format", "jsonl"], capsys)
    records = [json.loads(line) for line in out.splitlines()]
    assert rc == 1 and records[0] == {"path": str(tmp_path / "case.zip"), "error": refusal, "notes": [gif_note]}
    assert [r["slice"] for r in records[1:]] == [0, 1, 2]
    if default_model_path().exists():
        from braintumor.predictor import Classifier
        from braintumor.web import create_app

        r = create_app(classifier=Classifier.load()).test_client().post(
            "/api/v1/predict", data={"file": [(io.BytesIO(zip_bytes(members)), "case.zip")]},
            content_type="multipart/form-data")
        results = r.get_json()["results"]
        assert results[0] == {"path": "case.zip", "error": refusal, "notes": [gif_note]}
        assert [x.get("slice") for x in results[1:]] == [0, 1, 2] and "error" not in str(results[1:])


def test_a_zip_whose_scans_all_fail_on_their_own_says_its_notes_on_their_error_records(tmp_path, capsys):
    """A zip of two undecodable DICOM series (the CLI reads them one by one, each its own error record) or of a
    segmentation map and an unreadable .dcm, beside a GIF: the GIF's note, said on the scans read, was said nowhere,
    none being read. Each error record carries its volume's notes: jsonl and the API in the record, the table on stderr
    as a summary's notes, the web page under the card."""
    import html
    import json

    from cli_runner import run_predict
    from conftest import encode, synthetic_head

    from braintumor.model_files import default_model_path

    gif = encode(synthetic_head(), "GIF")
    gif_note = ("skipped 1 GIF file in the zip, a format braintumor does not read: convert it to PNG (lossless, 8- or "
                "16-bit) or to JPEG, BMP, TIFF or WebP")
    (tmp_path / "nan.zip").write_bytes(zip_bytes([("a/n1.dcm", _nan_dicom()), ("a/n2.dcm", _nan_dicom()),
                                                  ("a/a.gif", gif)]))
    both = zip_bytes([("a/seg.nii.gz", _label_map()), ("a/bad.dcm", b"not DICOM " * 20), ("a/a.gif", gif)])
    (tmp_path / "both.zip").write_bytes(both)
    rc, out, _ = run_predict([tmp_path / "nan.zip", tmp_path / "both.zip", "--format", "jsonl"], capsys)
    records = [json.loads(line) for line in out.splitlines()]
    assert rc == 1 and [(r.get("series"), "error" in r) for r in records] == [(0, True), (1, True), (None, True),
                                                                              (None, True)]
    assert [r["notes"] for r in records] == [[f"2 series found; this is series {j} (number 3, AX T1)", gif_note]
                                             for j in (1, 2)] + [[gif_note]] * 2
    rc, out, err = run_predict([tmp_path / "nan.zip"], capsys)
    assert rc == 1 and err.count(f"  note: {gif_note}") == 2 and "error: no image of this series" in out
    if default_model_path().exists():
        from braintumor.predictor import Classifier
        from braintumor.web import create_app

        client = create_app(classifier=Classifier.load()).test_client()
        r = client.post("/api/v1/predict", data={"file": [(io.BytesIO(both), "both.zip")]},
                        content_type="multipart/form-data")
        assert [(x["path"], x["notes"]) for x in r.get_json()["results"]] == [("both.zip", [gif_note]),
                                                                              ("both.zip:a/seg.nii.gz", [gif_note])]
        page = client.post("/", data={"file": [(io.BytesIO(both), "both.zip")]}, content_type="multipart/form-data")
        assert html.unescape(page.get_data(as_text=True)).count(f"<li>{gif_note}</li>") == 2


@pytest.mark.parametrize("per_input", [True, False])
def test_a_folders_nifti_files_are_read_as_its_zips_members_are(tmp_path, per_input):
    """``read_volumes(folder)`` of a BraTS-like case folder (flair, seg, t1) said "no DICOM files found in folder",
    where ``braintumor predict FOLDER`` and read_volumes of its zip read them; beside a DICOM series they were dropped
    unsaid. Each NIfTI file is a volume as it is alone (the label map a Volume with its error), after the folder's
    DICOM series (an unreadable one: a record of its own); a file alone in its folder refuses it with its error."""
    import dataclasses

    from dicom_factory import make_dicom

    case = tmp_path / "case"
    case.mkdir()
    for name, data in [("flair.nii.gz", _volume()), ("seg.nii.gz", _label_map()), ("t1.nii.gz", _volume(4))]:
        (case / name).write_bytes(data)
    volumes = read_volumes(case, per_input=per_input)
    assert [(v.path, v.kind, len(v.slices)) for v in volumes] == [
        (str(case / "flair.nii.gz"), "nifti", 3), (str(case / "seg.nii.gz"), "nifti", 0),
        (str(case / "t1.nii.gz"), "nifti", 4)]
    assert volumes[1].error.startswith("NIfTI voxels hold only 3 distinct whole numbers, 0 to 4: a label or")
    assert volumes[0] == read_volumes(case / "flair.nii.gz")[0]
    assert [v.path for v in read_volumes(case, name="case")] == [f"case/{n}.nii.gz" for n in ("flair", "seg", "t1")]

    (case / "IM0001").write_bytes(make_dicom(np.full((64, 64), 90, np.uint8)))
    volumes = read_volumes(case, per_input=per_input)
    assert [(v.path, v.kind, len(v.slices), v.error) for v in volumes][::3] == [
        (str(case), "dicom", 1, None), (str(case / "t1.nii.gz"), "nifti", 4, None)]
    (case / "IM0001").write_bytes(b"<!DOCTYPE html><html><body>Sign in</body></html>")
    (case / "IM0001").rename(case / "IM0001.dcm")
    volumes = read_volumes(case, per_input=per_input)
    assert [(v.path, len(v.slices)) for v in volumes] == [(str(case), 0)] + [
        (str(case / f"{n}.nii.gz"), k) for n, k in (("flair", 3), ("seg", 0), ("t1", 4))]
    assert volumes[0].error.startswith("no DICOM image found (skipped 1 file: an HTML page")

    alone = tmp_path / "alone"
    alone.mkdir()
    (alone / "seg.nii.gz").write_bytes(_label_map())
    with pytest.raises(ImageError, match=r"^seg\.nii\.gz: NIfTI voxels hold only 3 distinct"):  # named, as in a zip
        read_volumes(alone, per_input=per_input)
    (alone / "seg.nii.gz").write_bytes(_volume(4))
    assert [dataclasses.replace(v, path="") for v in read_volumes(alone)] == [
        dataclasses.replace(v, path="") for v in read_volumes(alone / "seg.nii.gz")]

    (alone / "t1.nii.gz").write_bytes(_volume(4))  # 8 slices: each within 5, not both together (per_input)
    assert [len(v.slices) for v in read_volumes(alone, max_slices=5)] == [4, 4]
    said = "the folder holds more than {} slices (at t1.nii.gz); the limit is {} per input"
    with pytest.raises(ImageError, match=f"^{re.escape(said.format(5, 5))}$"):  # not "the limit is 1", what was left
        read_volumes(alone, max_slices=5, per_input=True)
    (alone / "IM0001").write_bytes(make_dicom(np.full((64, 64), 90, np.uint8)))  # its series, then its NIfTI files
    assert [len(v.slices) for v in read_volumes(alone, max_slices=9, per_input=True)] == [1, 4, 4]
    past = read_volumes(alone, max_pixels=4000)  # each past it on its own: a record each, as in a zip
    assert [(v.kind, len(v.slices), v.error.split(";")[0]) for v in past] == [
        ("dicom", 0, "the DICOM series (number 3, AX T1) would decode to 4,096 pixels")] + [
        ("nifti", 0, "NIfTI volume has 9,216 voxels")] * 2
    for most in (5, 8):  # nothing left for t1.nii.gz, or too little
        with pytest.raises(ImageError, match=f"^{re.escape(said.format(most, most))}$"):
            read_volumes(alone, max_slices=most, per_input=True)


@pytest.mark.parametrize(("sizes", "limits", "said"), [
    ({"seg.nii.gz": 0}, {}, "seg.nii.gz: NIfTI voxels hold only 3 distinct"),  # alone: which file, as a zip's member
    ({"a.nii.gz": 4, "sub/b.nii.gz": 4}, {"max_slices": 5}, "holds more than 5 slices (at sub/b.nii.gz); the limit"),
    ({"a.nii.gz": 4, "sub/b.nii.gz": 6}, {"max_slices": 5}, "sub/b.nii.gz: NIfTI volume has 6 axial slices; the limit"),
    ({"a.nii.gz": 4, "b.nii.gz": 4}, {"max_pixels": 12000}, "holds more than 12,000 pixels (at b.nii.gz); the limit"),
])
def test_a_folders_nifti_files_are_refused_in_its_zips_words(tmp_path, sizes, limits, said):
    """A folder's NIfTI files within one budget are read as its zip's members are, by one function
    (zip_scans.member_niftis): the folder's copy said a file alone in it without its name, one in a sub-folder by its
    file name alone ("at b.nii.gz"), and one past the limit on its own "the folder holds more than 5 slices", which
    sending it alone could not help."""
    files = [(name, _volume(k) if k else _label_map()) for name, k in sizes.items()]
    for name, data in files:
        (tmp_path / "case" / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / "case" / name).write_bytes(data)
    with pytest.raises(ImageError) as zipped:
        read_volumes(zip_bytes(files), name="case.zip", per_input=True, **limits)
    with pytest.raises(ImageError) as folder:
        read_volumes(tmp_path / "case", per_input=True, **limits)
    assert said in str(folder.value)
    assert str(folder.value) == str(zipped.value).replace("the zip holds", "the folder holds", 1)


def test_a_zip_handed_to_the_image_reader_is_named_without_reading_a_directory_past_the_limit(monkeypatch):
    """A zip that Pillow cannot read is told apart by its members' names (an .npz, a torch checkpoint): each reader had
    zipfile read its whole central directory for that, twice on every failed decode, however many entries it listed
    (200,000 empty ones: 3 s; read_volumes refuses one past MAX_ZIP_MEMBERS before zipfile reads it)."""
    from braintumor.image_io import decode_image
    from braintumor.zip_io import MAX_ZIP_MEMBERS

    many = zip_bytes([(f"notes/{k}.txt", b"") for k in range(MAX_ZIP_MEMBERS + 1)])
    few = zip_bytes([("arr_0.npy", b"")])
    opened = []

    class Counted(zipfile.ZipFile):
        def __init__(self, *args, **kwargs):
            opened.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(zipfile, "ZipFile", Counted)
    with pytest.raises(ImageError, match=r"^a zip file, not a 2-D image"):
        decode_image(many)
    assert opened == []
    with pytest.raises(ImageError, match=r"^a NumPy archive \(\.npz\)"):  # one within the limit: named as before
        decode_image(few)
    checkpoint = zip_bytes([("best/data.pkl", b"\x80\x02}q\x00."), ("best/version", b"3\n")])
    with pytest.raises(ImageError, match="torch checkpoint"):
        decode_image(checkpoint)


@pytest.mark.parametrize(("members", "said"), [
    ([("notes.txt", b"x")], "zip archive holds no DICOM or NIfTI file (skipped 1 file in the zip: not DICOM or NIfTI)"),
    ([("arr_0.npy", b"x"), ("arr_1.npy", b"y")], "a NumPy archive (.npz), not an image or scan: save the slice as PNG, "
     "or in Python pass its array to Classifier.predict (np.load(name)[key] reads it)"),
], ids=["no-scan", "npz"])
def test_a_zip_holding_no_scan_lists_its_directory_once(monkeypatch, members, said):
    """A zip with no DICOM or NIfTI member was refused after its central directory was listed a second time (the
    .npz check had zipfile parse it again, and counted its entries again): the names listed once serve both."""
    from braintumor import zip_io

    data, listings = zip_bytes(members), []
    count = zip_io._listed_members

    class Counted(zipfile.ZipFile):
        def __init__(self, *args, **kwargs):
            listings.append("zipfile")
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(zip_io.zipfile, "ZipFile", Counted)
    monkeypatch.setattr(zip_io, "_listed_members", lambda data: listings.append("count") or count(data))
    with pytest.raises(ImageError) as refused:
        read_volumes(data, name="x.zip")
    assert str(refused.value) == said
    assert listings == ["count", "zipfile"]


def test_an_npz_of_more_arrays_than_the_member_limit_is_named_as_a_small_one_is(monkeypatch):
    """An .npz is named by its members' names (np.savez writes ``key.npy``): one of more arrays than MAX_ZIP_MEMBERS
    was "a zip file, not a 2-D image" to the image reader, and "zip archive lists 4097 members" to read_volumes, where
    one of a few arrays is told what it is and how to read it. Its names are read from the directory's bytes, still
    without zipfile parsing a directory past the limit."""
    from braintumor.image_io import decode_image
    from braintumor.zip_io import MAX_ZIP_MEMBERS

    def npz(count: int) -> bytes:
        buf = io.BytesIO()
        np.savez(buf, **{f"a{k}": np.zeros(2, np.uint8) for k in range(count)})
        return buf.getvalue()

    few, many = npz(2), npz(MAX_ZIP_MEMBERS + 1)
    with pytest.raises(ImageError) as small:
        decode_image(few)
    assert str(small.value).startswith("a NumPy archive (.npz), not an image or scan")

    def no_parse(*args, **kwargs):
        raise AssertionError("zipfile parsed a directory over the limit")

    monkeypatch.setattr(zipfile, "ZipFile", no_parse)
    for read in (decode_image, lambda data: read_volumes(data, name="x.npz")):
        with pytest.raises(ImageError) as large:
            read(many)
        assert str(large.value) == str(small.value)


def _as_zip64(data: bytes) -> bytes:
    """``data``, a zip without a comment, ended as a zip64 archive is (torch.save writes them): a zip64 end record and
    its locator before an end record whose counts and sizes say to look there."""
    import struct

    end = len(data) - 22
    _, _, _, _, count, size, offset, _ = struct.unpack("<IHHHHIIH", data[end:])
    record = struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, count, count, size, offset)
    locator = struct.pack("<IIQI", 0x07064B50, 0, end, 1)
    return data[:end] + record + locator + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF,
                                                       0xFFFFFFFF, 0)


def test_a_zip64_archive_lists_its_names_from_its_own_directory():
    """A zip64 archive's directory was looked for from the archive's start: a member whose bytes held an entry's
    signature (PK 01 02) was read as the first name, so an .npz so ended was "a zip file, not a 2-D image" to the image
    reader (and a torch checkpoint's data.pkl was not found by torch_file)."""
    from braintumor.image_io import decode_image
    from braintumor.zip_io import file_names, listed_names

    buf = io.BytesIO()
    np.savez(buf, a=np.frombuffer(b"..PK\x01\x02.." * 4, np.uint8), b=np.arange(3))
    plain, zip64 = buf.getvalue(), _as_zip64(buf.getvalue())
    assert zipfile.ZipFile(io.BytesIO(zip64)).namelist() == ["a.npy", "b.npy"]  # what zipfile reads
    for data in (plain, zip64):
        assert listed_names(data) == file_names(io.BytesIO(data)) == ["a.npy", "b.npy"]
        with pytest.raises(ImageError, match=r"^a NumPy archive \(\.npz\), not an image or scan"):
            decode_image(data)


def test_a_symbolic_link_in_a_zip_is_named_as_one():
    """A zip made with `zip -y` stores a link as the path it points to: it was read as a file and skipped as 'not a
    DICOM file: no 'DICM' marker and no DICOM image attributes' (never followed, never extracted)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        link = zipfile.ZipInfo("scans/IM0001.dcm")
        link.create_system, link.external_attr = 3, 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    with pytest.raises(ImageError, match=r"^no DICOM image found \(skipped 1 file: zip member is a symbolic link, "
                                         r"not a file \(zipped with zip -y\): zip the scans themselves\)$"):
        read_volumes(buf.getvalue(), name="links.zip")
