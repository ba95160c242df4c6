"""A whole study in one input (a folder or zip holding a 3-D T1, a post-contrast T1, FLAIR, diffusion: well over 512
slices together) is read series by series: the slice limit holds for each series, a series past it is refused on its
own, naming it, and the others are answered; a series is decoded only when the one before has been taken, so memory
is one series', not the study's. A web request keeps its own budget (all its scans together) and says what to do.
"""

from __future__ import annotations

import io
import json
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from dicom_factory import axial_volume, flat_slice, make_dataset, nifti_bytes, zip_bytes

from braintumor import dicom_series, dicom_survey
from braintumor.cli import main
from braintumor.volume_io import MAX_SLICES, TOO_LONG_ADVICE, read_volumes


def _series(folder: Path | None, slices: int, number: int, side: int = 64, dtype=np.uint8) -> list[tuple[str, bytes]]:
    """``slices`` files of one series (number ``number``), 5 mm apart, written to ``folder`` when given."""
    from pydicom.uid import generate_uid

    ramp = (np.arange(side)[None, :] * 200 // side + np.zeros((side, 1), int)).astype(dtype)
    ds = make_dataset(ramp, series_uid=generate_uid(), SeriesNumber=number, SeriesDescription=f"AX {number}",
                      position=0.0)
    files = []
    for k in range(slices):  # one dataset, saved once per slice: 500 files in a second
        ds.InstanceNumber, ds.ImagePositionPatient = k + 1, [-100.0, -100.0, 5.0 * k]
        buf = io.BytesIO()
        ds.save_as(buf, enforce_file_format=True)
        files.append((f"S{number}/IM{k:04d}", buf.getvalue()))
    if folder is not None:
        for name, data in files:
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(data)
    return files


def test_a_study_over_the_limit_in_all_is_read_series_by_series(tmp_path):
    """3 series of 200 slices: 'the DICOM input holds 600 slices in 3 series; the limit is 512 per input'."""
    for number in (1, 2, 3):
        _series(tmp_path, 200, number)
    volumes = read_volumes(tmp_path)
    assert [(v.series, len(v.slices), v.error) for v in volumes] == [(0, 200, None), (1, 200, None), (2, 200, None)]
    assert volumes[2].notes[0] == "3 series found; this is series 3 (number 3, AX 3)"


def test_a_series_past_the_limit_is_refused_on_its_own_before_any_of_it_is_decoded(monkeypatch):
    """Limits per series: the big one refused by name, on its headers (none of its frames decoded), the others read;
    a web request's budget (``per_input``) still refuses the input whole."""
    decoded = []
    real = dicom_series.frame_slice
    monkeypatch.setattr(dicom_series, "frame_slice", lambda ds, i, n: decoded.append(ds.SeriesNumber) or real(ds, i, n))
    study = _series(None, 3, 1) + _series(None, 30, 2) + _series(None, 2, 3)
    items = [(name, lambda d=data: d) for name, data in study]
    volumes = list(dicom_series.iter_dicom_series("study", items, 20, per_input=False))
    assert [(v.series, len(v.slices)) for v in volumes] == [(0, 3), (1, 0), (2, 2)]
    assert volumes[1].error == "series 2 of 3 (number 2, AX 2) holds 30 slices; the limit is 20 per series"
    assert volumes[1].notes[0] == "3 series found; this is series 2 (number 2, AX 2)"
    assert sorted(decoded) == [1, 1, 1, 3, 3]  # the refused series: not one frame
    decoded.clear()
    with pytest.raises(dicom_series.BudgetError, match=r"^the DICOM input holds 35 slices in 3 series; the limit "
                                                       r"is 20 per input$") as caught:
        dicom_series.read_dicom_series("study", items, 20)
    assert caught.value.series == 3 and decoded == []
    with pytest.raises(dicom_series.BudgetError, match=r"^the DICOM input holds 30 slices; the limit is 20 per input$"):
        list(dicom_series.iter_dicom_series("one", items[3:33], 20, per_input=False))  # one series: refused whole
    assert decoded == []


def test_a_series_of_many_tiny_slices_is_refused_before_decoding(tmp_path, monkeypatch):
    """The limit's guard against a bomb of tiny slices holds per series: 513 files of 1 x 1 pixels, beside a small
    series, are refused as a series, on their headers."""
    monkeypatch.setattr(dicom_series, "frame_slice", lambda *a: pytest.fail("decoded a frame of the refused series"))
    _series(tmp_path, MAX_SLICES + 1, 7, side=1)
    with pytest.raises(dicom_series.BudgetError, match=rf"^the DICOM input holds {MAX_SLICES + 1} slices; the limit"):
        read_volumes(tmp_path)


def test_predict_answers_a_study_whose_series_are_over_the_limit_together(tmp_path, capsys):
    """``braintumor predict STUDY/``: T1 and FLAIR answered with their summaries, the 513-slice series refused by name
    (a record of its own), where the whole folder was refused."""
    _series(tmp_path / "study", 2, 1)
    _series(tmp_path / "study", MAX_SLICES + 1, 2, side=8)
    _series(tmp_path / "study", 2, 3)
    rc = main(["predict", str(tmp_path / "study"), "--format", "jsonl", "--summary"])
    out = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rc == 1  # a refused series is a failure, as an unreadable file is
    assert [(r.get("series"), "summary" in r, "error" in r) for r in out] == [
        (0, False, False), (0, False, False), (0, True, False), (1, False, True),
        (2, False, False), (2, False, False), (2, True, False)]
    assert out[3] == {"path": str(tmp_path / "study"), "series": 1, "error": f"series 2 of 3 (number 2, AX 2) holds "
                      f"{MAX_SLICES + 1} slices; the limit is {MAX_SLICES} per series ({TOO_LONG_ADVICE})",
                      "notes": ["3 series found; this is series 2 (number 2, AX 2)"]}  # as a read series' summary says


def test_a_zipped_study_is_read_series_by_series_and_a_request_says_to_split_it():
    """The Python API reads a zipped study series by series; a web request, whose budget is one for all its scans,
    refuses it and says to send its series one by one."""
    from braintumor.web.volumes import classify_entries

    data = zip_bytes(_series(None, 4, 1) + _series(None, 4, 2) + _series(None, 4, 3))
    assert [len(v.slices) for v in read_volumes(data, name="study.zip", max_slices=10)] == [4, 4, 4]
    t2 = nifti_bytes(axial_volume([flat_slice(k) for k in range(3)]))
    mixed = zip_bytes([*_series(None, 4, 1), ("t2.nii.gz", t2)])
    assert [(v.path, len(v.slices), v.error) for v in read_volumes(mixed, name="m.zip", max_slices=3)] == [
        ("m.zip", 0, "the DICOM series (number 1, AX 1) holds 4 slices; the limit is 3 per series"),
        ("m.zip:t2.nii.gz", 3, None)]
    entries = classify_entries(_NoModel(), [_upload("study.zip", data)], max_slices=10)  # refused before the model
    assert [e.records for e in entries] == [[{"path": "study.zip", "error": "the DICOM input holds 12 slices in 3 "
                                              "series; the limit is 10 per input: send its series one by one, each "
                                              "within the limit"}]]


class _NoModel:
    """The request's images (none here) go to the model; its scans are refused before."""

    def predict_many(self, items, **_):
        assert not items
        return []


def _upload(name: str, data: bytes):
    from braintumor.web.inference import Upload

    return Upload(name, data)


def _peak(folder: Path) -> tuple[int, list[int]]:
    """Peak traced memory while the folder's volumes are taken one by one, and their slice counts."""
    from braintumor.volume_io import iter_volumes

    counts = []
    tracemalloc.start()
    try:
        for volume in iter_volumes(folder):
            counts.append(len(volume.slices))
            del volume
        return tracemalloc.get_traced_memory()[1], counts
    finally:
        tracemalloc.stop()


def test_a_study_is_decoded_one_series_at_a_time(tmp_path):
    """Peak memory while a study's 4 series are taken one by one is about one series' alone (it held the whole
    study's files until the last series was decoded: 3 series' more)."""
    for number in (1, 2, 3, 4):
        _series(tmp_path / "study", 30, number, side=128, dtype=np.uint16)  # 1 MB of pixel data a series
    _series(tmp_path / "one", 30, 1, side=128, dtype=np.uint16)
    alone, counts = _peak(tmp_path / "one")
    study, counts = _peak(tmp_path / "study")
    assert counts == [30, 30, 30, 30]
    assert study < alone + 30 * 128 * 128 * 2, f"peak {study:,} bytes for a study, {alone:,} for one of its series"


def test_resume_completes_a_study_whose_refused_series_has_one_record(tmp_path, capsys):
    """--resume counts a refused series' error record among the study's records: a file cut before the last
    summary is completed, not taken as whole (it counted one record too few)."""
    _series(tmp_path / "study", 2, 1)
    _series(tmp_path / "study", MAX_SLICES + 1, 2, side=8)
    _series(tmp_path / "study", 2, 3)
    out = tmp_path / "out.jsonl"
    args = ["predict", str(tmp_path / "study"), "--format", "jsonl", "--summary", "-o", str(out), "--resume"]
    main(args)
    whole = out.read_text().splitlines()
    assert len(whole) == 7 and "error" in json.loads(whole[3])
    out.write_text("\n".join(whole[:-1]) + "\n")  # interrupted before the last series' summary
    main(args)
    capsys.readouterr()
    assert out.read_text().splitlines() == whole


def test_one_file_and_a_web_request_parse_each_file_once(tmp_path, monkeypatch):
    """The survey that groups and counts files before decoding kept no dataset, so one DICOM file (or a web request's
    series, held whole anyway) was parsed twice: ~2 ms more per 512 x 512 slice. Kept where the input is held whole,
    read again only for a study read series by series (a folder, the CLI)."""
    calls: list[int] = []
    real = dicom_survey.read_dataset
    monkeypatch.setattr(dicom_survey, "read_dataset", lambda data: calls.append(1) or real(data))
    files = _series(tmp_path / "study", 3, 1)
    (one,) = read_volumes(files[0][1], name="x.dcm")
    assert len(one.slices) == 1 and len(calls) == 1
    calls.clear()
    (web,) = read_volumes(zip_bytes(files), name="s.zip", per_input=True)
    assert len(web.slices) == 3 and len(calls) == 3
    calls.clear()
    (study,) = read_volumes(tmp_path / "study")
    assert len(study.slices) == 3 and len(calls) == 6  # surveyed, then read again when its turn comes
