"""DICOM series: slices sorted along the normal, series told apart, localizers and shared positions said."""

from __future__ import annotations

import io

import numpy as np
import pytest
from dicom_factory import (
    flat_slice,
    make_dataset,
    make_dicom,
    series,
    to_bytes,
    zip_bytes,
)
from PIL import Image

from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes
from braintumor.wording import counted


def test_series_folder_is_sorted_along_the_slice_normal(stack, tmp_path):
    for name, data in series(stack):  # written in a scrambled order
        (tmp_path / name).write_bytes(data)
    (tmp_path / "README.txt").write_text("not DICOM, not looked at")
    (volume,) = read_volumes(tmp_path)
    assert [s.meta["dicom"]["image_position"][2] for s in volume.slices] == [5.0 * k for k in range(6)]
    assert all(np.array_equal(s.pixels, stack[k]) for k, s in enumerate(volume.slices))
    assert volume.series is None and volume.notes == ()


def test_instance_number_orders_a_series_without_positions(stack, tmp_path):
    from pydicom.uid import generate_uid

    uid = generate_uid()
    for k in (3, 0, 2, 1):
        (tmp_path / f"f{k}").write_bytes(make_dicom(stack[k], series_uid=uid, instance=k + 1))
    (volume,) = read_volumes(tmp_path)
    assert [s.meta["dicom"]["instance_number"] for s in volume.slices] == [1, 2, 3, 4]


def test_two_series_and_a_skipped_file_are_reported(stack, tmp_path):
    from pydicom.uid import ComprehensiveSRStorage

    for k, (name, data) in enumerate(series(stack[:3]) + series(stack[3:5])):
        (tmp_path / f"{k}-{name}.dcm").write_bytes(data)
    (tmp_path / "report.dcm").write_bytes(make_dicom(None, sop_class=ComprehensiveSRStorage))
    volumes = read_volumes(tmp_path)
    assert [v.series for v in volumes] == [0, 1] and sorted(len(v.slices) for v in volumes) == [2, 3]
    # the file is the input's, not each series': said so, so two series do not read as two skipped files
    assert all("skipped 1 file in this input: DICOM file is a Comprehensive SR Storage" in " ".join(v.notes)
               for v in volumes)


def test_the_note_that_numbers_a_series_names_it(stack, tmp_path):
    """A study folder's T1 and FLAIR were "series 1" and "series 2" in the table and its summary notes, which never
    said which was which (only jsonl's records did); the note now gives the series number and description."""
    from pydicom.uid import generate_uid

    for k, (desc, num) in enumerate((("AX T1 POST", 5), ("AX FLAIR\rX", 7))):
        uid = generate_uid()
        for i in range(2):
            (tmp_path / f"{k}-{i}.dcm").write_bytes(make_dicom(stack[2 * k + i], series_uid=uid, instance=i + 1,
                                                               position=5.0 * i, SeriesDescription=desc,
                                                               SeriesNumber=num))
    first, second = read_volumes(tmp_path)
    assert "2 series found; this is series 1 (number 5, AX T1 POST)" in first.notes
    assert "2 series found; this is series 2 (number 7, AX FLAIR\rX)" in second.notes
    from braintumor.series import summary_text  # a description's carriage return is printed as text, not run

    assert "AX FLAIR\\rX)" in summary_text({"path": "study", "series": 1, "summary": {
        "slices": 2, "classified": 0, "counts": {}, "most_suspicious": [], "notes": list(second.notes)}})


def test_one_undecodable_file_costs_its_slices_not_the_series(stack, tmp_path):
    """README: in a folder or zip, unusable files are skipped and counted. A file whose header is fine but whose
    pixels are cut short used to fail its whole series (and a zip with it)."""
    files = series(stack[:4], shuffle=False)
    from pydicom import dcmread

    uid = dcmread(io.BytesIO(files[0][1])).SeriesInstanceUID
    ds = make_dataset(stack[2], series_uid=uid, instance=3, position=10.0)
    ds.PixelData = stack[2].tobytes()[:500]  # a valid header, pixel data cut short
    files[2] = (files[2][0], to_bytes(ds))
    for n, d in files:
        (tmp_path / f"{n}.dcm").write_bytes(d)
    (volume,) = read_volumes(tmp_path)
    assert [s.meta["dicom"]["image_position"][2] for s in volume.slices] == [0.0, 5.0, 15.0]
    assert volume.notes == ("skipped 1 file: DICOM pixel data holds 500 bytes but Rows 160 x Columns 160 x 1 "
                            "frame at 8 bits need 25,600: 25,100 bytes short (truncated, or the header's image size "
                            "is wrong)",)
    (from_zip,) = read_volumes(zip_bytes(files), name="s.zip")
    assert len(from_zip.slices) == 3 and from_zip.notes == volume.notes
    with pytest.raises(ImageError, match="25,100 bytes short"):  # one file on its own: its error, as before
        read_volumes(files[2][1], name="x.dcm")


def _z(volume) -> list[float]:
    return [s.meta["dicom"]["image_position"][2] for s in volume.slices]


@pytest.mark.parametrize("stored", [(4, 3, 2, 1, 0), (0, 2, 4, 1, 3)])
def test_the_frames_of_one_multi_frame_file_are_put_in_anatomical_order(stored):
    """Frames were kept in stored order: stored superior first or interleaved, slice 0 was not the inferior end."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence

    ds = make_dataset(np.stack([flat_slice(k) for k in stored]), sop_class="1.2.840.10008.5.1.4.1.1.4.1")
    ds.NumberOfFrames = len(stored)
    shared, orientation = Dataset(), Dataset()
    orientation.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    shared.PlaneOrientationSequence = Sequence([orientation])
    ds.SharedFunctionalGroupsSequence = Sequence([shared])
    per_frame = []
    for k in stored:
        group, position = Dataset(), Dataset()
        position.ImagePositionPatient = [-100.0, -100.0, 5.0 * k]
        group.PlanePositionSequence = Sequence([position])
        per_frame.append(group)
    ds.PerFrameFunctionalGroupsSequence = Sequence(per_frame)
    (volume,) = read_volumes(to_bytes(ds), name="mf.dcm")
    assert _z(volume) == [0.0, 5.0, 10.0, 15.0, 20.0]
    assert [int(s.pixels[0, 0]) for s in volume.slices] == sorted(int(s.pixels[0, 0]) for s in volume.slices)


@pytest.mark.parametrize(("spacing", "positions", "notes"), [
    ({"SpacingBetweenSlices": 5.0, "SliceThickness": 4.0}, [[-100.0, -100.0, 7.0], [-100.0, -100.0, 12.0],
                                                            [-100.0, -100.0, 17.0]], ()),
    ({"SliceThickness": 3.0}, [[-100.0, -100.0, 7.0], [-100.0, -100.0, 10.0], [-100.0, -100.0, 13.0]], ()),
    ({"SliceThickness": 3.0, "ImageOrientationPatient": [1, 0, 0, 0, 0, -1]},  # coronal: the normal is posterior,
     [[-100.0, -94.0, 7.0], [-100.0, -97.0, 7.0], [-100.0, -100.0, 7.0]], ()),  # the order anterior (NIfTI's RAS)
    ({}, [[-100.0, -100.0, 7.0], None, None],
     ("2 of 3 frames without a position or orientation: kept in the file's frame order",)),  # not "images ...
     # ordered by Instance Number": one file's frames share its number (a researcher read it as a wrong order)
    ({"SliceThickness": 3.0, "FrameIncrementPointer": 0x00181063, "FrameTime": 40.0},  # a cine: one place
     [[-100.0, -100.0, 7.0]] * 3,
     ("3 images share a position with another (echoes, repeats or duplicate files?): each is classified",)),
])
def test_the_frames_of_a_legacy_multi_frame_file_are_placed_along_the_normal(spacing, positions, notes):
    """Without per-frame functional groups, every frame reported frame 0's Image Position (and was 'sharing a
    position'): frame k is k slice spacings further along the normal, or its position is unknown."""
    ds = make_dataset(np.stack([flat_slice(k) for k in range(3)]), position=7.0, **spacing)
    ds.NumberOfFrames = 3
    (volume,) = read_volumes(to_bytes(ds), name="legacy.dcm")
    assert [s.meta["dicom"].get("image_position") for s in volume.slices] == positions
    derived = [s.meta["dicom"].get("image_position_derived", False) for s in volume.slices]  # said, not hidden
    assert derived == [p is not None and p != [-100.0, -100.0, 7.0] for p in positions]
    frames = [2, 1, 0] if "ImageOrientationPatient" in spacing else [0, 1, 2]
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(flat_slice(k)[0, 0]) for k in frames]
    assert [s.meta["dicom"].get("slice_location") for s in volume.slices] == [
        7.0 if k == 0 or "FrameTime" in spacing else None for k in frames]
    assert volume.notes == notes


def test_a_localizer_in_the_series_is_left_out_and_said():
    """A sagittal localizer met first set the normal: the axial slices all projected to one value and fell back to
    Instance Number order (superior first), and the localizer was classified as slice 0, without a note."""
    from pydicom.uid import generate_uid

    uid = generate_uid()
    localizer = make_dataset(flat_slice(9), series_uid=uid, instance=99, position=0.0)
    localizer.ImageOrientationPatient, localizer.ImagePositionPatient = [0, 1, 0, 0, 0, -1], [0.0, -100.0, 100.0]
    files = [("A_LOC", to_bytes(localizer))] + [
        (f"IM{k}", make_dicom(flat_slice(k), series_uid=uid, instance=10 - k, position=5.0 * k)) for k in range(4)]
    (volume,) = read_volumes(zip_bytes(files), name="s.zip")
    assert _z(volume) == [0.0, 5.0, 10.0, 15.0]
    assert "left out 1 image facing another way than the series' 4 (a localizer?)" in volume.notes


@pytest.mark.parametrize(("other", "n_other", "image_type"), [
    ([0, 1, 0, 0, 0, -1], 1, ["ORIGINAL", "PRIMARY", "LOCALIZER"]),  # a sagittal localizer, said so
    ([1, 0, 0, 0, 0, -1], 1, None),  # a coronal image, unmarked: axial wins the tie
    ([0, 1, 0, 0, 0, -1], 2, ["DERIVED", "SECONDARY", "LOCALIZER"]),  # more images, but all localizers
])
def test_a_localizer_listed_first_does_not_take_a_one_slice_series(other, n_other, image_type):
    """One axial image and one localizer: the tie went to the first listed, the localizer, and the axial image (the
    scan) was left out as 'a localizer?'."""
    from pydicom.uid import generate_uid

    uid, files = generate_uid(), []
    for k in range(n_other):
        extra = {"ImageType": image_type} if image_type else {}
        ds = make_dataset(flat_slice(9), series_uid=uid, instance=k + 1, position=0.0, **extra)
        ds.ImageOrientationPatient, ds.ImagePositionPatient = other, [10.0 * k, -100.0, 100.0]
        files.append((f"A{k}", to_bytes(ds)))
    files.append(("B", make_dicom(flat_slice(3), series_uid=uid, instance=9, position=0.0)))
    (volume,) = read_volumes(zip_bytes(files), name="s.zip")
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(flat_slice(3)[0, 0])]
    assert f"left out {counted(n_other, 'image')} facing another way than the series' 1 (a localizer?)" in volume.notes


def test_a_localizer_in_the_series_plane_is_left_out():
    """An axial scout filed in an axial series was sorted in among its slices and classified as one of them (one on
    its own is refused: tests/test_dicom_localizers.py)."""
    from pydicom.uid import generate_uid

    uid = generate_uid()
    scout = make_dataset(flat_slice(9), series_uid=uid, instance=1, position=2.5,
                         ImageType=["ORIGINAL", "PRIMARY", "LOCALIZER"])
    files = [("A_SCOUT", to_bytes(scout))] + [
        (f"IM{k}", make_dicom(flat_slice(k), series_uid=uid, instance=k + 2, position=5.0 * k)) for k in range(3)]
    (volume,) = read_volumes(zip_bytes(files), name="s.zip")
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(flat_slice(k)[0, 0]) for k in range(3)]
    assert "left out 1 image marked LOCALIZER in the series' plane" in volume.notes


def test_images_that_share_a_position_are_said():
    """Two echoes per position were interleaved and counted as slices without a word."""
    from pydicom.uid import generate_uid

    uid = generate_uid()
    files = [(f"E{e}_{k}", make_dicom(flat_slice(k), series_uid=uid, instance=k + 1 + 3 * (e - 1), position=5.0 * k,
                                      EchoNumbers=e)) for e in (1, 2) for k in range(3)]
    (volume,) = read_volumes(zip_bytes(files), name="e.zip")
    assert _z(volume) == [0.0, 0.0, 5.0, 5.0, 10.0, 10.0]
    assert ("6 images share a position with another (echoes, repeats or duplicate files?): each is classified"
            in volume.notes)


def test_without_positions_files_go_by_instance_number_then_name_in_natural_order_and_it_is_said():
    """IM1, IM10, IM11, IM2 ...: names were compared as text; a series partly without positions switched to
    Instance Number order without a note."""
    from pydicom.uid import generate_uid

    uid = generate_uid()
    files = [(f"IM{k}", make_dicom(flat_slice(k), series_uid=uid, InstanceNumber=None)) for k in (1, 10, 11, 2, 3)]
    (volume,) = read_volumes(zip_bytes(files), name="n.zip")
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(flat_slice(k)[0, 0]) for k in (1, 2, 3, 10, 11)]
    assert "5 of 5 images without a position or orientation: ordered by Instance Number" in volume.notes


@pytest.mark.parametrize("facing, flat, note", [
    ([1, 0, 0, 1, 0, 0], (0, 1, 2), "3 of 3 images with an orientation of no slice normal (its row and column "
                                    "directions parallel or zero): ordered by Instance Number and shown as stored, "
                                    "not turned to a conventional view"),
    ([0, 0, 0, 0, 0, 0], (1,), "1 of 3 images with an orientation of no slice normal (its row and column "
                               "directions parallel or zero): ordered by Instance Number; the one of no slice normal "
                               "shown as stored, not turned to a conventional view"),
    ([0, 1, 0, 0, -1, 0], (0, 2), "2 of 3 images with an orientation of no slice normal (its row and column "
                                  "directions parallel or zero): ordered by Instance Number; those of no slice normal "
                                  "shown as stored, not turned to a conventional view"),
])
def test_an_orientation_of_no_slice_normal_orders_by_instance_number_and_says_so(facing, flat, note):
    """Row and column cosines parallel or zero give no normal to sort along: the series fell back to Instance Number
    order without a note, read as anatomical order. The note says too how those images are shown (as stored, as a
    single one's note said; the series' did not)."""
    from pydicom.uid import generate_uid

    uid, files = generate_uid(), []
    for k in (2, 0, 1):  # Instance Number k + 1; positions against it, so only that order gives 0, 1, 2
        ds = make_dataset(flat_slice(k), series_uid=uid, instance=k + 1, position=5.0 * (2 - k))
        if k in flat:
            ds.ImageOrientationPatient = facing
        files.append((f"IM{k}", to_bytes(ds)))
    (volume,) = read_volumes(zip_bytes(files), name="s.zip")
    assert [int(s.pixels[0, 0]) for s in volume.slices] == [int(flat_slice(k)[0, 0]) for k in range(3)]
    assert volume.notes == (note,)


def test_a_multi_frame_file_with_a_bad_frame_costs_all_its_frames_as_its_note_says():
    """Frames before the bad one were kept and those after dropped, while the note said '1 file skipped'."""
    import io as _io

    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit, generate_uid

    def jpeg(k: int) -> bytes:
        buf = _io.BytesIO()
        Image.fromarray(flat_slice(k)).save(buf, format="JPEG", quality=95)
        return buf.getvalue()

    uid = generate_uid()
    multi = make_dataset(np.stack([flat_slice(k) for k in range(4)]), series_uid=uid, instance=1, position=0.0)
    multi.NumberOfFrames = 4
    multi.PixelData = encapsulate([jpeg(0), jpeg(1), b"\xff\xd8 not a jpeg", jpeg(3)])
    multi["PixelData"].VR = "OB"
    multi.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    files = [("multi", to_bytes(multi)), ("one", make_dicom(flat_slice(5), series_uid=uid, instance=2, position=50.0))]
    (volume,) = read_volumes(zip_bytes(files), name="m.zip")
    assert len(volume.slices) == 1 and int(volume.slices[0].pixels[0, 0]) == int(flat_slice(5)[0, 0])
    assert any(n.startswith("skipped 1 file of this series: DICOM pixel data") for n in volume.notes)


def test_near_equal_orientations_are_one_series_not_a_localizer():
    """Normals rounded to 3 decimals split slices whose orientations differed by 2e-6 across a rounding boundary:
    half the series was 'left out ... (a localizer?)'."""
    from pydicom.uid import generate_uid

    uid, files = generate_uid(), []
    for k in range(6):
        ds = make_dataset(flat_slice(k), series_uid=uid, instance=k + 1, position=5.0 * k)
        tilt = 0.0005 + (1e-6 if k % 2 else -1e-6)  # straddles 0.0005, where rounding to 3 decimals flips
        ds.ImageOrientationPatient = [1, 0, 0, 0, float(np.cos(tilt)), float(np.sin(tilt))]
        files.append((f"IM{k}", to_bytes(ds)))
    (volume,) = read_volumes(zip_bytes(files), name="t.zip")
    assert len(volume.slices) == 6 and not any("facing another way" in n for n in volume.notes)


@pytest.mark.parametrize("scale", [1e200, 1e-3])
def test_an_orientation_of_huge_or_small_cosines_orders_the_series_along_its_plane(scale, recwarn):
    """Direction cosines of 1e200 (a broken header) overflowed the normal to inf and NaN: every slice was left out as
    'facing another way', the series answered 'no DICOM image could be decoded ()', and numpy's overflow warnings
    reached stderr. Scaled to unit length first, as the displayed view's turn already was, they are an axial plane (the
    length of 1e200 itself still overflowed, so no normal, and Instance Number order, unseen while it was the
    positions' order)."""
    from pydicom.uid import generate_uid

    uid, files = generate_uid(), []
    for k in [3, 0, 4, 1, 2]:  # Instance Numbers against the positions: the normal's order, not theirs
        ds = make_dataset(flat_slice(k), series_uid=uid, instance=5 - k, position=5.0 * k)
        ds.ImageOrientationPatient = [scale, 0, 0, 0, scale, 0]
        files.append((f"IM{k}", to_bytes(ds)))
    (volume,) = read_volumes(zip_bytes(files), name="t.zip")
    assert _z(volume) == [0.0, 5.0, 10.0, 15.0, 20.0] and volume.notes == ()
    assert [str(w.message) for w in recwarn if issubclass(w.category, RuntimeWarning)] == []
