"""A gzipped (or bzip2-, xz-compressed) web page or PDF is named as the uncompressed one is; a gzipped DICOM file or
image saved under a scan's name says what it holds.

A browser saves a page that a server sent gzip-encoded (a sign-in or error page, where a scan was asked for) as it
came, under the link's name: ``scan.nii.gz`` was "not a NIfTI-1/NIfTI-2 single file (.nii): magic number missing"
(nibabel's words), on the command line, on the web and inside a zip, ``scan.dcm`` "not a DICOM file", and ``scan.jpg``
or ``scans.zip`` "a gzip-compressed file" (decompress it, and send a page?). A damaged gzip still says so. The
shipped model: nothing here reaches it."""

from __future__ import annotations

import bz2
import gzip
import html
import io
import lzma
import re

import numpy as np
import pytest
from cli_runner import jsonl, run_predict
from conftest import encode, synthetic_head
from dicom_factory import make_dicom, nifti_bytes, zip_bytes

from braintumor.documents import PDF_DOCUMENT, WEB_PAGE
from braintumor.image_io import ImageError
from braintumor.model_files import default_model_path
from braintumor.volume_io import read_volumes
from braintumor.web import create_app

MODEL = default_model_path()
pytestmark = pytest.mark.skipif(not MODEL.exists(), reason=f"no shipped model at {MODEL}")

PAGE = b"<!DOCTYPE html><html><head><title>Sign in</title></head><body>Session expired</body></html>\n"
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj << /Type /Catalog >> endobj\n"
GZ_PAGE = f"a gzip-compressed file holding {WEB_PAGE}"
GZ_PDF = f"a gzip-compressed file holding {PDF_DOCUMENT}"
#: A saved page whose first tag comes after more than 512 bytes: a browser's "saved from url" comment of a long address
LONG = (b"<!-- saved from url=(0700)https://pacs.example.org/" + b"a" * 650 + b" -->\n<html><body>Sign in</body></html>"
        + b" " * 4000)
#: name -> (content, what it is said to be): each as a browser or a download link saves it
FILES = {"head.nii.gz": (gzip.compress(PAGE), GZ_PAGE), "t1.nii.gz": (gzip.compress(PDF), GZ_PDF),
         "scan.dcm": (gzip.compress(PAGE), GZ_PAGE), "scan.jpg": (gzip.compress(PAGE), GZ_PAGE),
         "scans.zip": (gzip.compress(PAGE), GZ_PAGE),
         "saved.nii.gz": (gzip.compress(LONG), GZ_PAGE),
         "b.jpg": (bz2.compress(PAGE), f"a bzip2-compressed file holding {WEB_PAGE}"),
         "x.jpg": (lzma.compress(PDF), f"an xz-compressed file holding {PDF_DOCUMENT}")}


def test_a_compressed_document_is_named_by_the_cli_the_api_and_read_volumes(tmp_path, capsys, clf):
    for name, (data, _) in FILES.items():
        (tmp_path / name).write_bytes(data)
    said = [words for _, words in FILES.values()]
    rc, out, _ = run_predict([*(tmp_path / name for name in FILES), "--format", "jsonl"], capsys)
    assert rc == 1 and [r["error"] for r in jsonl(out)] == said
    client = create_app(classifier=clf).test_client()
    files = [(io.BytesIO(data), name) for name, (data, _) in FILES.items()]
    r = client.post("/api/v1/predict", data={"file": files}, content_type="multipart/form-data")
    assert r.status_code == 400 and [x["error"] for x in r.get_json()["results"]] == said
    page = client.post("/", data={"file": [(io.BytesIO(gzip.compress(PAGE)), "head.nii.gz")]},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert GZ_PAGE in " ".join(html.unescape(page).split())  # the page without JavaScript too
    for name, (data, words) in FILES.items():
        with pytest.raises(ImageError) as refused:
            list(read_volumes(data, name=name))
        assert str(refused.value) == words


def test_a_compressed_document_in_a_zip_is_named(tmp_path, capsys, clf):
    """A zip's ``page.nii.gz`` (and its ``page.nii``, uncompressed) was "magic number missing" too."""
    zipped = zip_bytes([("a/head.nii.gz", gzip.compress(PAGE)), ("a/t1.nii.gz", gzip.compress(PDF)),
                        ("a/page.nii", PAGE)])
    said = [GZ_PAGE, GZ_PDF, WEB_PAGE]
    (tmp_path / "study.zip").write_bytes(zipped)
    rc, out, _ = run_predict([tmp_path / "study.zip", "--format", "jsonl"], capsys)
    assert rc == 1 and [r["error"] for r in jsonl(out)] == said
    r = create_app(classifier=clf).test_client().post(
        "/api/v1/predict", data={"file": [(io.BytesIO(zipped), "study.zip")]}, content_type="multipart/form-data")
    assert [x["error"] for x in r.get_json()["results"]] == said
    with pytest.raises(ImageError, match=f"^a/head.nii.gz: {re.escape(GZ_PAGE)}$"):  # alone in its zip
        list(read_volumes(zip_bytes([("a/head.nii.gz", gzip.compress(PAGE))]), name="one.zip"))


whole = gzip.compress(PAGE)


@pytest.mark.parametrize(("data", "words"), [
    (whole[:-8], "gzip data is truncated"),  # its trailer cut off: every byte of the page inflates
    (whole[:-8] + b"\0" * 8, "gzip data is corrupt: what it inflates to fails the gzip's own check"),  # checksum
    (whole[:10] + b"\x07" + whole[11:], "gzip data is corrupt: its compressed data cannot be inflated"),  # a block of
    # no deflate type
    # a small DICOM file's: its first 544 bytes (a NIfTI header's) inflate, its 1024 (what is named) do not
    (gzip.compress(make_dicom(np.zeros((4, 4), np.uint16)))[:-8], "not a NIfTI-1/NIfTI-2 single file (.nii)")],
    ids=["truncated", "checksum", "corrupt", "dicom"])
def test_a_damaged_gzip_is_said_to_be_damaged_not_named_by_what_it_holds(data, words, tmp_path, capsys):
    """Only a gzip whose first bytes inflate whole (or to the end of its stream, checked) is named by what it holds:
    a page cut short by a download is said to be cut short, as a volume's is, at the top level and in a zip."""
    (tmp_path / "head.nii.gz").write_bytes(data)
    (tmp_path / "study.zip").write_bytes(zip_bytes([("a/head.nii.gz", data), ("a/other.nii.gz", data)]))
    rc, out, _ = run_predict([tmp_path / "head.nii.gz", tmp_path / "study.zip", "--format", "jsonl"], capsys)
    assert rc == 1 and [r["error"].startswith(words) for r in jsonl(out)] == [True] * 3, out
    assert "HTML" not in out and "holding" not in out


def test_a_real_nii_gz_still_reads():
    volume = np.random.default_rng(0).normal(300, 80, (32, 32, 3)).astype(np.float32)
    [read] = read_volumes(nifti_bytes(volume), name="head.nii.gz")
    assert read.kind == "nifti" and len(read.slices) == 3 and read.error is None


def test_a_gzipped_scan_or_image_under_a_scans_name_says_what_it_holds(tmp_path, capsys, clf):
    """The same download of a DICOM file, gzip-encoded and saved as it came under ``scan.dcm`` or ``head.nii.gz``, was
    "not a DICOM file: no 'DICM' marker ..." or "magic number missing", where ``IM0001`` was told it is a gzip of a
    DICOM file, and how to undo it. A gzip whose first bytes say nothing keeps its reader's words."""
    rng = np.random.default_rng(0)
    dicom = gzip.compress(make_dicom(rng.integers(0, 4000, (64, 64)).astype(np.uint16)))
    holds = ("a gzip-compressed file holding {}: compressed files are not read (but for a NIfTI volume, .nii.gz); "
             "decompress it (gunzip) and send what it holds")
    noise = gzip.compress(rng.bytes(2000))
    files = {"scan.dcm": dicom, "head.nii.gz": dicom, "t1.nii.gz": gzip.compress(encode(synthetic_head(), "JPEG")),
             "noise.dcm": noise, "noise.nii.gz": noise}
    said = [holds.format("a DICOM file"), holds.format("a DICOM file"), holds.format("a JPEG image"),
            "not a DICOM file: no 'DICM' marker and no DICOM image attributes",
            "not a NIfTI-1/NIfTI-2 single file (.nii): magic number missing"]
    for name, data in files.items():
        (tmp_path / name).write_bytes(data)
    (tmp_path / "study.zip").write_bytes(zip_bytes([("a/head.nii.gz", dicom), ("a/noise.nii.gz", noise)]))
    rc, out, _ = run_predict([*(tmp_path / name for name in files), tmp_path / "study.zip", "--format", "jsonl"],
                             capsys)
    assert rc == 1 and [r["error"] for r in jsonl(out)] == [*said, said[1], said[-1]]
    r = create_app(classifier=clf).test_client().post(
        "/api/v1/predict", data={"file": [(io.BytesIO(data), name) for name, data in files.items()]},
        content_type="multipart/form-data")
    assert [x["error"] for x in r.get_json()["results"]] == said


def test_a_zips_or_folders_gzipped_members_say_what_they_hold(tmp_path, capsys):
    """A zip's (or a folder's) ``x.dcm`` that is a gzip of a DICOM file or of a page was skipped as "not a DICOM file:
    no 'DICM' marker ...", a zip's ``y.dcm.gz`` or ``p.html.gz`` as "not DICOM or NIfTI": each is named as the same file
    alone is, with how to undo it. None is decompressed and read, as none given alone is."""
    dicom = make_dicom(np.random.default_rng(0).integers(0, 4000, (64, 64)).astype(np.uint16))
    holds = ("a gzip-compressed file holding a DICOM file: compressed files are not read (but for a NIfTI volume, "
             ".nii.gz); decompress it (gunzip) and send what it holds")
    gzipped = [("a/x.dcm", gzip.compress(dicom)), ("a/page.dcm", gzip.compress(PAGE))]
    members = [("a/y.dcm.gz", gzip.compress(dicom)), ("a/p.html.gz", gzip.compress(PAGE))]
    series = (f"skipped 1 file: {holds}", f"skipped 1 file: {GZ_PAGE}")
    in_zip = (f"skipped 1 file in the zip: {holds}", f"skipped 1 file in the zip: {GZ_PAGE}")
    [read] = read_volumes(zip_bytes([("a/ok.dcm", dicom), *gzipped, *members]), name="s.zip")
    assert read.error is None and len(read.slices) == 1 and read.notes == (*series, *in_zip)
    refusal = f"zip archive holds no DICOM or NIfTI file ({'; '.join(in_zip)})"
    with pytest.raises(ImageError, match=f"^{re.escape(refusal)}$"):
        list(read_volumes(zip_bytes(members), name="gz.zip"))
    (tmp_path / "gz.zip").write_bytes(zip_bytes(members))
    (tmp_path / "gzipped.zip").write_bytes(zip_bytes(gzipped))
    (tmp_path / "study").mkdir()
    for name, data in [("a/ok.dcm", dicom), *gzipped]:
        (tmp_path / "study" / name.removeprefix("a/")).write_bytes(data)
    rc, out, _ = run_predict([tmp_path / "gz.zip", tmp_path / "gzipped.zip", tmp_path / "study", "--format", "jsonl"],
                             capsys)
    records = jsonl(out)
    assert rc == 1 and [r.get("error") for r in records] == [refusal, f"no DICOM image found ({'; '.join(series)})",
                                                             None]
    assert tuple(records[2]["notes"]) == series


def test_a_folders_compressed_files_are_noted_by_what_they_hold(tmp_path, capsys):
    """A folder's ``y.dcm.gz`` (a PACS export's or anonymiser's gzipped DICOM file), or an ``IM0002`` that is a gzip,
    was passed over without a word, and a folder of only those was "no image or scan found in the folder (JPEG, PNG,
    ...)": each is noted with what it holds and the command that undoes it, in the words the file alone gets; a folder
    of only those says so (read_volumes too). A .nii.gz is still read as NIfTI, never named compressed."""
    rng = np.random.default_rng(0)
    dicom = make_dicom(rng.integers(0, 4000, (64, 64)).astype(np.uint16))
    holds = ("a {}-compressed file holding a DICOM file: compressed files are not read (but for a NIfTI volume, "
             ".nii.gz); decompress it ({}) and send what it holds")
    folder = tmp_path / "export"
    (folder / "sub").mkdir(parents=True)
    small = bz2.compress(make_dicom(np.zeros((64, 64), np.uint8)))  # a bzip2 is named only when it ends in 4 KiB
    for name, data in [("y.dcm.gz", gzip.compress(dicom)), ("sub/IM0002", gzip.compress(dicom)), ("IM0003", small),
                       ("IM0004.gz", gzip.compress(PAGE + b" " * 4000)),
                       ("notes.txt.gz", gzip.compress(dicom))]:  # .gz: opened to look, as an IM0002 is
        (folder / name).write_bytes(data)
    volume = rng.normal(300, 80, (32, 32, 3)).astype(np.float32)
    (folder / "head.nii.gz").write_bytes(nifti_bytes(volume))
    rc, out, err = run_predict([folder, "--format", "jsonl"], capsys)
    assert rc == 0 and {r["path"] for r in jsonl(out)} == {f"{folder}/head.nii.gz"}
    assert [line for line in err.splitlines() if line.startswith("note:")] == [
        f"note: 1 file in {folder} not read ({holds.format('bzip2', 'bunzip2')}): {folder}/IM0003",
        f"note: 1 file in {folder} not read ({GZ_PAGE}): {folder}/IM0004.gz",
        f"note: 3 files in {folder} not read (each {holds.format('gzip', 'gunzip')}): {folder}/notes.txt.gz, "
        f"{folder}/y.dcm.gz, {folder}/sub/IM0002"]  # in the walk's order, as the page's
    for name in ("head.nii.gz", "IM0003", "IM0004.gz", "notes.txt.gz"):
        (folder / name).unlink()
    rc, out, err = run_predict([folder, "--format", "jsonl"], capsys)
    only = (f"only 2 compressed files in the folder: {folder}/y.dcm.gz, {folder}/sub/IM0002 are each "
            f"{holds.format('gzip', 'gunzip')}")
    _refused_as_only_compressed(folder, rc, out, only)


def test_a_folder_of_only_compressed_files_names_them_all_by_kind(tmp_path, capsys):
    """A folder of only compressed files was refused naming its first file alone ("only 6 compressed files in the
    folder: F/IM0001.gz is ..."), though the note before it listed them all: the refusal names each kind's files, the
    first three and "and N more", as the notes do; the CLI's record and read_volumes(folder) alike."""
    dicom = make_dicom(np.zeros((64, 64), np.uint8))
    holds = ("a {}-compressed file holding a DICOM file: compressed files are not read (but for a NIfTI volume, "
             ".nii.gz); decompress it ({}) and send what it holds")
    folder = tmp_path / "export"
    folder.mkdir()
    for k in range(1, 6):
        (folder / f"IM000{k}.gz").write_bytes(gzip.compress(dicom))
    (folder / "IM0006").write_bytes(bz2.compress(dicom))
    rc, out, err = run_predict([folder, "--format", "jsonl"], capsys)
    names = sorted(f"{folder}/{p.name}" for p in folder.iterdir() if p.suffix)  # the walk's order: by name
    gz = [line for line in err.splitlines() if "(each a gzip" in line]
    assert len(gz) == 1 and gz[0].endswith(f"{', '.join(names[:3])} and 2 more")
    only = (f"only 6 compressed files in the folder: {', '.join(names[:3])} and 2 more are each "
            f"{holds.format('gzip', 'gunzip')}; and {folder}/IM0006 is {holds.format('bzip2', 'bunzip2')}")
    _refused_as_only_compressed(folder, rc, out, only)


def test_a_gzipped_nifti_volume_not_named_nii_gz_is_told_to_be_renamed(tmp_path, capsys):
    """A gzipped NIfTI volume named ``head.gz`` or ``IM0001`` is read alone (by its content), but a folder's or zip's
    walk takes volumes by their .nii.gz ending: such a file was noted "a gzip-compressed file: compressed files are not
    read (but for a NIfTI volume, .nii.gz); decompress it (gunzip)", naming it as no NIfTI volume. It is said to be one,
    to rename; a .nii.gz is read as ever."""
    volume = nifti_bytes(np.random.default_rng(0).normal(300, 80, (32, 32, 3)).astype(np.float32))
    said = ("a gzip-compressed NIfTI volume without the .nii.gz ending, by which a folder's or zip's volumes are "
            "taken: rename it to end in .nii.gz")
    folder = tmp_path / "case"
    folder.mkdir()
    for name in ("head.gz", "IM0001"):
        (folder / name).write_bytes(volume)
    rc, out, err = run_predict([folder, "--format", "jsonl"], capsys)
    assert rc == 1 and jsonl(out) == [{"path": str(folder),
                                       "error": f"only 2 compressed files in the folder: {folder}/IM0001, "
                                                f"{folder}/head.gz are each {said}"}]
    assert f"note: 2 files in {folder} not read (each {said}): {folder}/IM0001, {folder}/head.gz" in err
    [read] = read_volumes(zip_bytes([("a/head.gz", volume), ("a/t1.nii.gz", volume)]), name="case.zip")
    assert read.path == "case.zip:a/t1.nii.gz" and len(read.slices) == 3
    assert read.notes == (f"skipped 1 file in the zip: {said}",)


def test_a_gzipped_nifti_volume_split_over_members_or_after_a_long_header_is_named_in_a_zip_or_folder(tmp_path):
    """Read alone, a gzipped NIfTI volume whose header is split over gzip members ('cat a.gz b.gz') or follows a long
    gzip header (a 100 kB file name) is read by its content, as the reader inflates it; in a zip or a folder, named
    head.gz, it was "a gzip-compressed file: ... decompress it (gunzip)", its first member alone inflated, or the
    first 64 KiB (4 KiB in a folder) read, all gzip header: it is told to be renamed, as a one-member gzip is."""
    import struct
    import zlib

    import nibabel as nib

    from braintumor import folder_scans

    raw = nib.Nifti1Image(np.random.default_rng(0).normal(300, 80, (32, 32, 3)).astype(np.float32),
                          np.eye(4)).to_bytes()
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    long_name = (b"\x1f\x8b\x08\x08" + bytes(6) + b"n" * 100_000 + b"\x00" + deflate.compress(raw) + deflate.flush()
                 + struct.pack("<II", zlib.crc32(raw), len(raw)))
    said = ("a gzip-compressed NIfTI volume without the .nii.gz ending, by which a folder's or zip's volumes are "
            "taken: rename it to end in .nii.gz")
    for data in (gzip.compress(raw[:200]) + gzip.compress(raw[200:]), long_name):
        assert gzip.decompress(data) == raw and len(read_volumes(data, name="head.gz")[0].slices) == 3  # alone
        [read] = read_volumes(zip_bytes([("a/head.gz", data), ("a/t1.nii", raw)]), name="case.zip")
        assert read.path == "case.zip:a/t1.nii" and read.notes == (f"skipped 1 file in the zip: {said}",)
        (tmp_path / "head.gz").write_bytes(data)
        left: list = []
        folder_scans.scan_folder(tmp_path, left)
        assert left == [(tmp_path / "head.gz", f"compressed:{said}")]


def test_a_folder_walk_reads_more_only_of_a_compressed_file(tmp_path, monkeypatch):
    """Naming what a compressed file holds takes more than the 132 bytes read of every file to look for DICOM: a
    bounded 4 KiB more, only of a file that begins as a compressor's output (a folder of 10 000 slices or notes reads
    as little as before)."""
    from braintumor import folder_scans

    for name, data in [("IM0001", b"x" * 5000), ("README", b"y" * 5000), ("z.gz", gzip.compress(PAGE) + bytes(9000))]:
        (tmp_path / name).write_bytes(data)
    reads: list[tuple[str, int]] = []
    real = folder_scans.file_head
    monkeypatch.setattr(folder_scans, "file_head", lambda p, n=132, on_error=None: reads.append((p.name, n)) or real(
        p, n, on_error))
    left: list = []
    assert folder_scans.scan_folder(tmp_path, left) == ([], [])
    assert reads == [("IM0001", 132), ("README", 132), ("z.gz", 132), ("z.gz", 4096)]
    assert left == [(tmp_path / "z.gz", f"compressed:{GZ_PAGE}")]



def _refused_as_only_compressed(folder, rc: int, out: str, only: str) -> None:
    """predict's one record for ``folder`` (exit 1) and read_volumes(folder) both refuse it with ``only``'s words."""
    assert rc == 1 and jsonl(out) == [{"path": str(folder), "error": only}]
    said = "no DICOM or NIfTI files found in folder, " + only.replace(" in the folder", "", 1)
    with pytest.raises(ImageError, match=f"^{re.escape(said)}$"):
        list(read_volumes(folder))
