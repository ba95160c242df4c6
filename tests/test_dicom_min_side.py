"""A DICOM file or series whose every frame is under volume_objects.MIN_SCAN_SIDE is refused once, on its headers,
before any frame is decoded, as a NIfTI volume of such slices is (tests/test_min_side.py): a multi-frame file of three
2 x 2 frames was 3 error records, each frame decoded, then refused for its size. A series with a file large enough
keeps its slices' answers."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import make_dicom, tiny_frames, zip_bytes
from test_min_side import refused_once_everywhere

from braintumor import Classifier, ImageError
from braintumor.volume_io import read_volumes

TAIL = "at least 32x32 needed: smaller scan slices lose the detail the model reads"


def _image(side: int, k: int, uid: str, number: int = 3) -> bytes:
    """Slice ``k`` (one frame, ``side`` x ``side``) of the series ``uid``, placed one above the other."""
    pixels = (np.random.default_rng(k).random((side, side)) * 900).astype(np.uint16)
    return make_dicom(pixels, series_uid=uid, instance=k + 1, position=5.0 * k, SeriesNumber=number)


@pytest.fixture
def decoded(monkeypatch) -> list[int]:
    """One entry per frame decoded."""
    from braintumor import dicom_series

    calls: list[int] = []
    real = dicom_series.frame_slice
    monkeypatch.setattr(dicom_series, "frame_slice", lambda *a: calls.append(1) or real(*a))
    return calls


def test_a_multi_frame_file_of_tiny_frames_is_refused_once_everywhere(tmp_path, capsys):
    """CLI predict, the web API and the page: one record, one message, not 3 error records of its slices."""
    from braintumor.web import create_app

    data, said = tiny_frames(), f"DICOM file of 3 frames: scan slice is 2x2 pixels; {TAIL}"
    client = create_app(classifier=Classifier.load(threads=1)).test_client()
    refused_once_everywhere(client, tmp_path / "tiny.dcm", data, said, capsys)


def test_a_series_whose_every_file_is_tiny_is_refused_once_on_its_headers(tmp_path, decoded):
    """A folder's or zip's series of tiny images only (of sizes alike or not, one file of several frames among
    them) is refused once, no frame decoded; a single image keeps its one slice record, as before."""
    from pydicom.uid import generate_uid

    uid = generate_uid()
    for k, side in enumerate((2, 3, 4)):
        (tmp_path / f"IM{k}.dcm").write_bytes(_image(side, k, uid))
    with pytest.raises(ImageError, match=rf"^DICOM series of 3 images: its largest scan slice is 4x4 pixels; {TAIL}$"):
        read_volumes(tmp_path)
    members = [(f"IM{k}.dcm", _image(2, k, uid)) for k in range(3)]
    for per_input in (False, True):
        with pytest.raises(ImageError, match=rf"^DICOM series of 3 images: scan slice is 2x2 pixels; {TAIL}$"):
            read_volumes(zip_bytes(members), name="s.zip", per_input=per_input)
    with pytest.raises(ImageError, match=rf"^DICOM series of 5 images in 3 files: scan slice is 2x2 pixels; {TAIL}$"):
        read_volumes(zip_bytes([*members[:2], ("MF.dcm", tiny_frames(series_uid=uid))]), name="s.zip")
    assert decoded == []
    (one,) = read_volumes(_image(2, 0, uid), name="one.dcm")
    assert [s.pixels.shape for s in one.slices] == [(2, 2)]


def test_a_series_with_a_file_large_enough_and_a_studys_other_series_keep_their_slices(decoded):
    """One tiny file among 40 x 40 ones: each slice answered (the tiny one refused for its size by the model, as
    before). A study's tiny series is its own error record, its other series read, in the CLI's reading and a web
    request's."""
    from pydicom.uid import generate_uid

    uid, other = generate_uid(), generate_uid()
    mixed = [(f"IM{k}.dcm", _image(2 if k == 1 else 40, k, uid)) for k in range(3)]
    (volume,) = read_volumes(zip_bytes(mixed), name="mixed.zip")
    assert [s.pixels.shape for s in volume.slices] == [(40, 40), (2, 2), (40, 40)] and len(decoded) == 3
    study = [(f"A{k}.dcm", _image(2, k, uid, 1)) for k in range(2)] + [(f"B{k}.dcm", _image(40, k, other, 2))
                                                                         for k in range(2)]
    for per_input in (False, True):
        decoded.clear()
        tiny, read = read_volumes(zip_bytes(study), name="study.zip", per_input=per_input)
        assert tiny.error == f"DICOM series of 2 images: scan slice is 2x2 pixels; {TAIL}" and tiny.slices == []
        assert tiny.notes[0] == "2 series found; this is series 1 (number 1, AX T1)" and tiny.series == 0
        assert read.error is None and len(read.slices) == 2 and read.series == 1 and len(decoded) == 2
