"""DICOM localizers (scouts: Image Type LOCALIZER), planned on, not diagnosed from, are never classified as slices:
one sent alone, or a series of nothing else, is refused and says so; a study's localizer series, or a localizer filed
in a series without the geometry to tell it by its plane, is left out with a note."""

from __future__ import annotations

import io
import json

import pytest
from dicom_factory import flat_slice, make_dataset, make_dicom, to_bytes, zip_bytes

from braintumor.cli import main
from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes

LOCALIZER = ["ORIGINAL", "PRIMARY", "LOCALIZER"]


def _scout(uid: str, k: int, facing: list[int] | None = None, marked: bool = True, **attrs) -> bytes:
    ds = make_dataset(flat_slice(k), series_uid=uid, instance=k + 1, position=5.0 * k, SeriesNumber=1,
                      SeriesDescription="3-PLANE LOC", ImageType=LOCALIZER if marked else ["ORIGINAL", "PRIMARY"],
                      **attrs)
    if facing:
        ds.ImageOrientationPatient = facing
    return to_bytes(ds)


AXIAL, CORONAL, SAGITTAL = [1, 0, 0, 0, 1, 0], [1, 0, 0, 0, 0, -1], [0, 1, 0, 0, 0, -1]


def _three_plane(uid: str, marked: bool = True, each: int = 1) -> list[tuple[str, bytes]]:
    """A 3-plane localizer: ``each`` axial, coronal and sagittal scouts in one series."""
    planes = [AXIAL, CORONAL, SAGITTAL] * each
    return [(f"LOC{k}", _scout(uid, k, facing, marked)) for k, facing in enumerate(planes)]


def _uid() -> str:
    from pydicom.uid import generate_uid

    return generate_uid()


def test_a_localizer_alone_is_refused_and_says_why(tmp_path, capsys):
    """A scout named alone was classified as a slice (a label for an image no one diagnoses from)."""
    data = _scout(_uid(), 0)
    said = "a localizer (scout) image, not a diagnostic slice (Image Type says LOCALIZER)"
    with pytest.raises(ImageError) as refused:
        read_volumes(data, name="scout.dcm")
    assert str(refused.value) == said
    (tmp_path / "scout.dcm").write_bytes(data)
    assert main(["predict", str(tmp_path / "scout.dcm"), "--format", "jsonl"]) == 1
    assert [json.loads(line) for line in capsys.readouterr().out.splitlines()] == [
        {"path": str(tmp_path / "scout.dcm"), "error": said}]


def test_a_series_of_localizers_only_is_refused():
    """A 3-plane localizer's axial scout was kept as the series' one slice and classified."""
    with pytest.raises(ImageError, match=r"^only localizer \(scout\) images, not diagnostic slices: 3 images marked "
                                         r"LOCALIZER in Image Type$"):
        read_volumes(zip_bytes(_three_plane(_uid())), name="loc.zip")


@pytest.mark.parametrize("per_input", [True, False])
def test_a_study_s_localizer_series_is_left_out_with_a_note(tmp_path, capsys, per_input):
    """A study folder holds a localizer series beside its scans, as a scanner exports it: its scouts were a series
    of their own, classified (and counted as one of the study's series)."""
    uid = _uid()
    files = _three_plane(_uid()) + [(f"IM{k}", make_dicom(flat_slice(k), series_uid=uid, instance=k + 1,
                                                          position=5.0 * k)) for k in range(4)]
    note = "left out a series of 3 localizer (scout) images (number 1, 3-PLANE LOC): not diagnostic slices"
    (volume,) = read_volumes(zip_bytes(files), name="study.zip", per_input=per_input)
    assert volume.series is None and len(volume.slices) == 4 and volume.notes == (note,)
    for name, data in files:
        (tmp_path / name).write_bytes(data)
    assert main(["predict", str(tmp_path), "--format", "jsonl", "--summary"]) == 0
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sum("slice" in r for r in records) == 4 and records[-1]["summary"]["notes"] == [note]


def test_a_localizer_in_a_series_without_positions_is_left_out():
    """Without positions no plane tells a scout from the slices: it was ordered in by Instance Number and
    classified."""
    uid = _uid()
    scout = make_dataset(flat_slice(9), series_uid=uid, instance=2, ImageType=LOCALIZER)
    files = [("A", to_bytes(scout))] + [(f"IM{k}", make_dicom(flat_slice(k), series_uid=uid, instance=k + 3))
                                        for k in range(3)]
    (volume,) = read_volumes(zip_bytes(files), name="s.zip")
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(flat_slice(k)[0, 0]) for k in range(3)]
    assert volume.notes[0] == "left out 1 image marked LOCALIZER"


def test_the_web_app_refuses_an_uploaded_localizer(tiny_classifier):
    from braintumor.web import create_app

    client = create_app(classifier=tiny_classifier).test_client()
    data = {"file": [(io.BytesIO(_scout(_uid(), 0)), "scout.dcm")]}
    body = client.post("/api/v1/predict", data=data, content_type="multipart/form-data").get_json()
    assert {"path": "scout.dcm",
            "error": "a localizer (scout) image, not a diagnostic slice (Image Type says LOCALIZER)"} in body["results"]


def test_an_unmarked_three_plane_localizer_is_refused_alone_and_left_out_of_a_study():
    """Not every scanner marks its scouts in Image Type: a 3-plane localizer's axial scouts were kept as the series'
    slices ('left out 6 images facing another way than the series' 3 (a localizer?)') and classified."""
    with pytest.raises(ImageError, match=r"^only localizer \(scout\) images, not diagnostic slices: 9 images in the "
                                         r"three planes, none holding half of them or more$"):
        read_volumes(zip_bytes(_three_plane(_uid(), marked=False, each=3)), name="loc.zip")
    uid = _uid()
    files = _three_plane(_uid(), marked=False) + [
        (f"IM{k}", make_dicom(flat_slice(k), series_uid=uid, instance=k + 1, position=5.0 * k)) for k in range(4)]
    (volume,) = read_volumes(zip_bytes(files), name="study.zip")
    assert len(volume.slices) == 4 and volume.notes == (
        "left out a series of 3 localizer (scout) images (number 1, 3-PLANE LOC): in the three planes, none holding "
        "half of them or more, not diagnostic slices",)


def test_a_series_with_a_localizer_of_each_other_plane_is_still_read():
    """Most images in one plane: an axial series with a sagittal and a coronal scout filed in it, not a localizer."""
    uid = _uid()
    files = [("A", _scout(uid, 8, SAGITTAL, marked=False)), ("B", _scout(uid, 9, CORONAL, marked=False))] + [
        (f"IM{k}", make_dicom(flat_slice(k), series_uid=uid, instance=k + 1, position=5.0 * k)) for k in range(3)]
    (volume,) = read_volumes(zip_bytes(files), name="s.zip")
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(flat_slice(k)[0, 0]) for k in range(3)]
    assert volume.notes == ("left out 2 images facing another way than the series' 3 (a localizer?)",)


def test_three_planes_count_among_the_oriented_files_only():
    """A plane held most of a series' oriented files, or not, by the number of files with no orientation at all: a
    series of 6 slices without orientation and one scout in each plane was left out whole as a 3-plane localizer."""
    def series(unoriented: int, uid: str) -> list[tuple[str, bytes]]:
        return _three_plane(uid, marked=False) + [
            (f"IM{k}", make_dicom(flat_slice(k), series_uid=uid, instance=k + 10)) for k in range(unoriented)]

    for unoriented in (3, 6):  # the oriented files not most of the series: not a localizer's
        (volume,) = read_volumes(zip_bytes(series(unoriented, _uid())), name="s.zip")
        assert len(volume.slices) == 3 + unoriented and not any("localizer" in n for n in volume.notes)
    with pytest.raises(ImageError, match=r"^only localizer \(scout\) images, not diagnostic slices: 4 images in the "
                                         r"three planes, none holding half of them or more$"):
        read_volumes(zip_bytes(series(1, _uid())), name="loc.zip")  # 3 of 4 oriented, one in each plane


@pytest.mark.parametrize("axial, coronal, sagittal, localizer", [
    (2, 1, 1, False),  # the axial plane as many as the other two: as likely 2 slices and a scout of each other plane
    (3, 2, 1, False),
    (1, 1, 1, True),
    (2, 2, 1, True),
    (3, 2, 2, True),
])
def test_a_three_plane_series_is_a_localizer_only_when_no_plane_holds_half_of_it(axial, coronal, sagittal, localizer):
    """2 axial, 1 coronal and 1 sagittal image were refused whole as a 3-plane localizer ('none holding most': 2 of 4
    is not most), though as likely an axial series of 2 with a scout of each other plane filed in it."""
    planes = [AXIAL] * axial + [CORONAL] * coronal + [SAGITTAL] * sagittal
    uid, n = _uid(), len(planes)
    files = [(f"IM{k}", _scout(uid, k, facing, marked=False)) for k, facing in enumerate(planes)]
    if localizer:
        with pytest.raises(ImageError, match=rf"^only localizer \(scout\) images, not diagnostic slices: {n} images "
                                             r"in the three planes, none holding half of them or more$"):
            read_volumes(zip_bytes(files), name="loc.zip")
    else:
        (volume,) = read_volumes(zip_bytes(files), name="s.zip")
        assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(flat_slice(k)[0, 0]) for k in range(axial)]
        assert volume.notes == (f"left out {n - axial} images facing another way than the series' {axial} "
                                "(a localizer?)",)


def _enhanced(planes: list[list[int]], frame_types: list[list[str]], image_type: str = "MIXED") -> bytes:
    """An Enhanced MR file, frame k in ``planes[k]``, its Frame Type ``frame_types[k]`` (per-frame functional group's
    MR Image Frame Type), its Image Type ORIGINAL PRIMARY ``image_type``: MIXED when the frames differ."""
    import numpy as np
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = make_dataset(np.stack([flat_slice(k) for k in range(len(planes))]), sop_class="1.2.840.10008.5.1.4.1.1.4.1",
                      series_uid=_uid(), ImageType=["ORIGINAL", "PRIMARY", image_type, "NONE"])
    ds.NumberOfFrames, per_frame = len(planes), []
    for k, (facing, frame_type) in enumerate(zip(planes, frame_types, strict=True)):
        group, position, orientation, kind = Dataset(), Dataset(), Dataset(), Dataset()
        position.ImagePositionPatient, orientation.ImageOrientationPatient = [-100.0, -100.0, 5.0 * k], facing
        kind.FrameType = frame_type
        group.PlanePositionSequence, group.PlaneOrientationSequence = Sequence([position]), Sequence([orientation])
        group.MRImageFrameTypeSequence = Sequence([kind])
        per_frame.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    return to_bytes(ds)


def test_an_enhanced_file_s_frames_marked_localizer_in_frame_type_are_not_classified():
    """Image Type MIXED, each frame's Frame Type saying LOCALIZER: a 3-plane localizer in one enhanced file had its
    axial scout classified, and a scout frame among a series' frames was classified as a slice."""
    scout, plain = ["ORIGINAL", "PRIMARY", "LOCALIZER", "NONE"], ["ORIGINAL", "PRIMARY", "M", "NONE"]
    with pytest.raises(ImageError, match=r"^only localizer \(scout\) images, not diagnostic slices: 3 images marked "):
        read_volumes(_enhanced([AXIAL, CORONAL, SAGITTAL], [scout] * 3), name="loc.dcm")
    (volume,) = read_volumes(_enhanced([AXIAL] * 5, [scout] + [plain] * 4), name="ax.dcm")
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(flat_slice(k)[0, 0]) for k in range(1, 5)]
    assert volume.notes == ("left out 1 image marked LOCALIZER in the series' plane",)
    uid = _uid()
    study = [("LOC", _enhanced([AXIAL, CORONAL, SAGITTAL], [scout] * 3))] + [
        (f"IM{k}", make_dicom(flat_slice(k), series_uid=uid, instance=k + 1, position=5.0 * k)) for k in range(4)]
    (volume,) = read_volumes(zip_bytes(study), name="study.zip")
    assert len(volume.slices) == 4 and len(volume.notes) == 1 and volume.notes[0].startswith(
        "left out a series of 3 localizer (scout) images"), volume.notes
    (volume,) = read_volumes(_enhanced([AXIAL] * 3, [plain] * 3), name="plain.dcm")  # MIXED alone marks nothing
    assert len(volume.slices) == 3 and volume.notes == ()


def test_an_unmarked_three_plane_localizer_in_one_enhanced_file_is_a_localizer():
    """The planes were counted per file, from its first frame: one enhanced file of an unmarked 3-plane localizer was
    one axial file, its axial scouts kept as slices ('left out 4 images facing another way than the series' 2')."""
    plain = ["ORIGINAL", "PRIMARY", "M", "NONE"]
    with pytest.raises(ImageError, match=r"^only localizer \(scout\) images, not diagnostic slices: 6 images in the "
                                         r"three planes, none holding half of them or more$"):
        read_volumes(_enhanced([AXIAL, CORONAL, SAGITTAL] * 2, [plain] * 6, "M"), name="loc.dcm")
    uid = _uid()
    study = [("LOC", _enhanced([AXIAL, CORONAL, SAGITTAL], [plain] * 3, "M"))] + [
        (f"IM{k}", make_dicom(flat_slice(k), series_uid=uid, instance=k + 1, position=5.0 * k)) for k in range(4)]
    (volume,) = read_volumes(zip_bytes(study), name="study.zip")
    assert len(volume.slices) == 4 and len(volume.notes) == 1 and volume.notes[0].startswith(
        "left out a series of 3 localizer (scout) images"), volume.notes
    # most frames in one plane: an axial series with a scout of each other plane, as for files
    (volume,) = read_volumes(_enhanced([AXIAL] * 4 + [CORONAL, SAGITTAL], [plain] * 6, "M"), name="ax.dcm")
    assert len(volume.slices) == 4 and volume.notes == (
        "left out 2 images facing another way than the series' 4 (a localizer?)",)


@pytest.mark.parametrize("value, scout", [
    (["ORIGINAL", "PRIMARY", "LOCALIZER"], True),
    (["ORIGINAL", "PRIMARY", " localizer "], True),  # blanks and case aside
    ("ORIGINAL\\PRIMARY\\LOCALIZER", True),  # one undivided string, as a raw value reads
    (b"ORIGINAL\\PRIMARY\\LOCALIZER", True),
    (["ORIGINAL", "PRIMARY", "NOT_LOCALIZER"], False),  # the word inside a value: not the value
    (["ORIGINAL", "PRIMARY", "M", "LOCALIZERS"], False),
    ("ORIGINAL\\PRIMARY\\M\\ND", False),
    (None, False),
])
@pytest.mark.filterwarnings("ignore:Invalid value for VR CS")  # lower case and blanks, as some writers send them
def test_image_type_marks_a_localizer_by_a_whole_value(value, scout):
    """LOCALIZER was looked for inside each value: a slice whose Image Type held NOT_LOCALIZER was a scout."""
    from pydicom.dataset import Dataset

    from braintumor.dicom_order import is_localizer

    ds = Dataset()
    ds.ImageType = value
    assert is_localizer(ds) is scout


def test_a_series_whose_image_type_only_holds_the_word_is_read_whole():
    uid, typed = _uid(), ["ORIGINAL", "PRIMARY", "NOT_LOCALIZER"]
    files = [(f"IM{k}", make_dicom(flat_slice(k), series_uid=uid, instance=k + 1, position=5.0 * k, ImageType=typed))
             for k in range(3)]
    (volume,) = read_volumes(zip_bytes(files), name="s.zip")
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(flat_slice(k)[0, 0]) for k in range(3)]
    assert volume.notes == ()
