"""An input of more files than MAX_FILES_COUNTED, past its slice limit, is refused at its first file past it: a folder
of 100 000 tiny files had every header parsed (and kept) before it was refused. What is accepted does not change: the
files not read could only add slices; an input of fewer files is read up to MAX_SLICES slices (localizers aside), to
say its exact count where any input could hold it."""

from __future__ import annotations

import io

import numpy as np
import pytest
from dicom_factory import make_dataset, zip_bytes

from braintumor import dicom_survey
from braintumor.image_io import ImageError
from braintumor.volume_io import BudgetError, read_volumes


def _tiny(n: int, junk: int = 0) -> list[tuple[str, bytes]]:
    """``junk`` files named .dcm that are not DICOM, then ``n`` 32 x 32 slices of one series (MIN_SCAN_SIDE: a series
    of smaller ones is refused once, on its headers)."""
    ds = make_dataset(np.zeros((32, 32), np.uint8), position=0.0)
    return [(f"J{k:05d}.dcm", b"not a scan") for k in range(junk)] + _saved(ds, n, "IM{:05d}.dcm", True)


def _saved(ds, n: int, name: str, placed: bool) -> list[tuple[str, bytes]]:
    """``n`` copies of ``ds`` as files, numbered from 1 (and ``placed`` one above the other), named ``name``."""
    files = []
    for k in range(n):
        ds.InstanceNumber = k + 1
        if placed:
            ds.ImagePositionPatient = [0.0, 0.0, float(k)]
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        files.append((name.format(k), buf.getvalue()))
    return files


def _counted(monkeypatch) -> list[int]:
    """One entry per DICOM header parsed."""
    calls: list[int] = []
    real = dicom_survey.read_dataset
    monkeypatch.setattr(dicom_survey, "read_dataset", lambda data: calls.append(1) or real(data))
    return calls


@pytest.fixture
def parsed(monkeypatch) -> list[int]:
    """Counts the headers parsed; at most 50 files are read whole to be counted."""
    calls = _counted(monkeypatch)
    monkeypatch.setattr(dicom_survey, "MAX_FILES_COUNTED", 50, raising=False)
    return calls


def test_a_folder_of_many_files_is_refused_at_its_first_file_past_the_limit(tmp_path, parsed):
    for name, data in _tiny(200):
        (tmp_path / name).write_bytes(data)
    with pytest.raises(BudgetError) as caught:
        read_volumes(tmp_path, max_slices=20, per_input=True)
    assert len(parsed) == 21  # was 200
    assert str(caught.value) == "the DICOM input's 200 files hold more than 20 slices; the limit is 20 per input"


def test_a_zip_of_many_files_is_refused_at_its_first_file_past_the_limit(parsed):
    with pytest.raises(BudgetError) as caught:
        read_volumes(zip_bytes(_tiny(200)), name="many.zip", max_slices=20, per_input=True)
    assert len(parsed) == 21
    assert str(caught.value).startswith("the DICOM input's 200 files hold more than 20 slices; the limit")


def test_what_was_accepted_still_is_and_fewer_files_are_counted_whole(tmp_path, parsed):
    """180 files that are no DICOM, then 20 slices: within a limit of 20 (the skipped files said); 40 files of a limit
    of 20 (under MAX_FILES_COUNTED): all read, and the exact count said, as before."""
    for name, data in _tiny(20, junk=180):
        (tmp_path / name).write_bytes(data)
    (volume,) = read_volumes(tmp_path, max_slices=20, per_input=True)
    assert len(volume.slices) == 20 and any(note.startswith("skipped 180 files: ") for note in volume.notes)
    with pytest.raises(BudgetError, match=r"^the DICOM input holds 40 slices; the limit is 20 per input$"):
        read_volumes(zip_bytes(_tiny(40)), name="few.zip", max_slices=20, per_input=True)


def _scouts(n: int) -> list[tuple[str, bytes]]:
    """``n`` 1 x 1 images of a series marked LOCALIZER in Image Type (left out as a localizer's)."""
    ds = make_dataset(np.zeros((1, 1), np.uint8), position=0.0, SeriesNumber=1, ImageType=["ORIGINAL", "LOCALIZER"])
    return _saved(ds, n, "LOC{:03d}.dcm", False)


@pytest.fixture
def headers(monkeypatch) -> list[int]:
    """Counts the headers parsed (MAX_FILES_COUNTED as it is), with MAX_SLICES lowered to 30 for this module."""
    calls = _counted(monkeypatch)
    monkeypatch.setattr(dicom_survey, "MAX_SLICES", 30)
    return calls


def test_a_zip_of_fewer_files_stops_past_what_any_input_holds(headers):
    """A zip of 4000 tiny DICOM files (1.8 MB) took 12 s of CPU to be refused in a web request: every header was
    parsed under MAX_FILES_COUNTED. Past MAX_SLICES (or the request's budget, if larger) the rest cannot help."""
    with pytest.raises(BudgetError) as caught:
        read_volumes(zip_bytes(_tiny(300)), name="many.zip", max_slices=20, per_input=True)
    assert len(headers) == 31  # was 300
    assert str(caught.value) == "the DICOM input's 300 files hold more than 20 slices; the limit is 20 per input"


def test_localizers_are_counted_apart_and_an_input_stopped_early_is_never_read_in_part(headers, monkeypatch):
    """30 slices beside a 3-image localizer fit a limit of 30, as before (the localizer series is left out after the
    survey). Of more than MAX_FILES_COUNTED files, stopped with the localizers counted, the input is refused: 10
    scouts then 50 slices read as 36 slices, the files after the stop never looked at, under a limit of 45."""
    (volume,) = read_volumes(zip_bytes(_scouts(3) + _tiny(30)), name="loc.zip", max_slices=30, per_input=True)
    assert len(volume.slices) == 30 and len(headers) == 33
    assert any(note.startswith("left out a series of 3 localizer") for note in volume.notes)
    monkeypatch.setattr(dicom_survey, "MAX_FILES_COUNTED", 50)
    with pytest.raises(BudgetError, match=r"^the DICOM input's 60 files hold more than 45 slices \(in 2 series or "
                                          r"more\); the limit is 45 per input$"):
        read_volumes(zip_bytes(_scouts(10) + _tiny(50)), name="loc.zip", max_slices=45, per_input=True)


def test_a_three_plane_localizer_read_after_its_study_is_still_counted_apart(headers):
    """An unmarked 3-plane localizer (3 axial, 3 coronal, 3 sagittal scouts) read after 28 slices, under a limit of 30:
    its axial scouts took the count past 30 while its series was one plane yet, and the survey refused the input,
    which read whole is 28 slices with the localizer left out. A series of one plane past half of MAX_SLICES could
    never become one: a tiny series still stops at its first file past the limit."""
    from dicom_factory import to_bytes
    from pydicom.uid import generate_uid

    axial, coronal, sagittal = [1, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0, -1], [0, 1, 0, 0, 0, -1]
    uid, localizer = generate_uid(), []
    for k, facing in enumerate([axial] * 3 + [coronal] * 3 + [sagittal] * 3):
        ds = make_dataset(np.zeros((1, 1), np.uint8), series_uid=uid, instance=k + 1, position=5.0 * k, SeriesNumber=1,
                          ImageOrientationPatient=facing)
        localizer.append((f"LOC{k}.dcm", to_bytes(ds)))
    (volume,) = read_volumes(zip_bytes(_tiny(28) + localizer), name="study.zip", max_slices=30, per_input=True)
    assert len(volume.slices) == 28 and len(headers) == 37
    assert any(note.startswith("left out a series of 9 localizer") for note in volume.notes)
    headers.clear()
    with pytest.raises(BudgetError, match=r"^the DICOM input's 309 files hold more than 20 slices; the limit is 20 "
                                          r"per input$"):
        read_volumes(zip_bytes(_tiny(300) + localizer), name="many.zip", max_slices=20, per_input=True)
    assert len(headers) == 31
    headers.clear()  # series of one file each might all be localizers yet: counted apart up to MAX_SLICES images only
    singles = [(f"S{k}.dcm", to_bytes(make_dataset(np.zeros((1, 1), np.uint8), position=0.0))) for k in range(300)]
    with pytest.raises(BudgetError, match=r"^the DICOM input's 300 files hold more than 20 slices \(in 61 series or "):
        read_volumes(zip_bytes(singles), name="singles.zip", max_slices=20, per_input=True)
    assert len(headers) == 61


def _headers_only(n: int) -> list[tuple[str, bytes]]:
    """``n`` MR headers with no pixel data (what a PACS export's structured reports and presentation states hold), of
    MR Spectroscopy objects: an MR image's header without Rows, Columns or pixel data is one cut short."""
    from dicom_factory import to_bytes
    from pydicom.uid import MRSpectroscopyStorage as _SPECTRA

    return [(f"H{k:05d}.dcm", to_bytes(make_dataset(None, instance=k + 1, sop_class=_SPECTRA))) for k in range(n)]


def test_files_with_no_image_count_toward_the_surveys_bound(headers):
    """A zip of 4000 DICOM headers with no pixel data (1.76 s in a web request) was parsed to its end: such files
    added no slice, so the survey never stopped. Past MAX_SLICES of them (or the request's budget, if larger) the input
    is refused at the first one past it, saying why; a study with as many as that beside its slices is read whole."""
    with pytest.raises(ImageError) as caught:
        read_volumes(zip_bytes(_headers_only(300)), name="reports.zip", max_slices=20, per_input=True)
    assert len(headers) == 31  # was 300
    assert str(caught.value) == (
        "the DICOM input's 300 files hold more than 30 files with no usable image (of the first 31 read: 31 files: "
        "DICOM file has no pixel data (MR Spectroscopy Storage)); the limit is 30 per input: send its image files only")
    assert not isinstance(caught.value, BudgetError)  # not the request's slices: no 'earlier scans took' said
    headers.clear()
    (volume,) = read_volumes(zip_bytes(_headers_only(30) + _tiny(20)), name="study.zip", max_slices=20, per_input=True)
    assert len(volume.slices) == 20 and len(headers) == 50
    assert any(note.startswith("skipped 30 files: DICOM file has no pixel data") for note in volume.notes)
    with pytest.raises(ImageError, match=r"^no DICOM image found \(skipped 300 files: DICOM file has no pixel"):
        read_volumes(zip_bytes(_headers_only(300)), name="reports.zip")  # the CLI's, series by series: as before


def test_a_zip_of_many_series_past_its_limit_counts_each_series_localizers_once_per_file(headers, monkeypatch):
    """Past the limit, the survey counted every series' localizer images again at each file it read: a 1 MB zip of
    1100 tiny files, each its own series, took 4.6 s of a web worker to be refused (quadratic in the series). Now only
    the series that grew is counted again, and the refusal is the same."""
    from braintumor import dicom_order

    looked: list[int] = []
    real = dicom_order._localizer_why
    monkeypatch.setattr(dicom_order, "_localizer_why", lambda group: looked.append(1) or real(group))
    files = [(f"S{k:03d}.dcm", data) for k in range(120)
             for _, data in _saved(make_dataset(np.zeros((1, 1), np.uint8), position=0.0), 1, "x", True)]
    with pytest.raises(BudgetError, match=r"^the DICOM input's 120 files hold more than 20 slices \(in 61 series or "
                                          r"more\); the limit is 20 per input"):
        read_volumes(zip_bytes(files), name="many.zip", max_slices=20, per_input=True)
    assert len(headers) == 61 and len(looked) < 3 * 61  # was 2,852
