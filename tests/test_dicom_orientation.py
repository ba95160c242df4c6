"""DICOM slices stored mirrored or transposed come back in the conventional view, as the NIfTI reader cuts the same
anatomy: axial anterior up and the patient's right on the left, coronal superior up and right on the left, sagittal
superior up and anterior on the left."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import make_dataset, nifti_bytes, to_bytes

from braintumor.slice_pixels import robust_uint8, square_pixels
from braintumor.volume_io import read_volumes

#: Anatomy in DICOM's patient axes, 1 mm voxels at the origin: [x (to the left), y (posterior), z (superior)].
VOLUME = np.random.default_rng(7).integers(0, 4000, (40, 48, 36)).astype(np.int16)
#: The same voxels as a NIfTI affine (RAS): x and y point the other way.
LPS_TO_RAS = np.diag([-1.0, -1.0, 1.0, 1.0])


def stored(volume: np.ndarray, row: tuple, col: tuple, axis: int, k: int) -> tuple[np.ndarray, list[float]]:
    """The slice through index ``k`` of ``axis`` as a scanner stores it with this orientation, and its position:
    pixel (i, j) lies at position + j * row + i * col (PS3.3 C.7.6.2.1.1), straight from the standard."""
    r, c = np.array(row), np.array(col)
    start = np.array([n - 1 if (r + c)[a] < 0 else 0 for a, n in enumerate(volume.shape)])
    start[axis] = k
    i, j = np.mgrid[:volume.shape[int(np.argmax(np.abs(c)))], :volume.shape[int(np.argmax(np.abs(r)))]]
    at = start[:, None, None] + j * r[:, None, None] + i * c[:, None, None]
    return volume[at[0], at[1], at[2]], [float(v) for v in start]


def dicom_of(volume: np.ndarray, row: tuple, col: tuple, axis: int, k: int) -> bytes:
    pixels, position = stored(volume, row, col, axis, k)
    ds = make_dataset(np.ascontiguousarray(pixels))
    ds.ImageOrientationPatient, ds.ImagePositionPatient = [*row, *col], position
    return to_bytes(ds)


def read_one(data: bytes, name: str = "x.dcm"):
    (volume,) = read_volumes(data, name=name)
    (sl,) = volume.slices
    return sl.pixels, volume.notes


X, Y, Z = (1, 0, 0), (0, 1, 0), (0, 0, 1)
MX, MY, MZ = (-1, 0, 0), (0, -1, 0), (0, 0, -1)


@pytest.mark.parametrize(("row", "col", "how"), [
    (X, Y, None), (MX, Y, "flipped left-right"), (X, MY, "flipped top-bottom"),
    (MX, MY, "flipped top-bottom and flipped left-right"), (Y, X, "transposed"),
    (MY, X, "transposed and flipped top-bottom"), (Y, MX, "transposed and flipped left-right"),
])
def test_an_axial_slice_is_shown_as_the_nifti_reader_shows_the_same_anatomy(row, col, how):
    """A slice stored with its rows running to the patient's right ([-1, 0, 0]) was classified mirrored."""
    (nifti,) = read_volumes(nifti_bytes(VOLUME, LPS_TO_RAS), name="v.nii.gz")
    for k in (0, 17, 35):
        pixels, notes = read_one(dicom_of(VOLUME, row, col, 2, k))
        assert np.array_equal(pixels, nifti.slices[k].pixels)
        assert notes == (() if how is None else (f"1 axial image stored {how} (Image Orientation (Patient)): "
                                                 "turned back to the conventional view, whole pixels, nothing "
                                                 "resampled",))


@pytest.mark.parametrize(("plane", "axis", "orientations"), [
    ("coronal", 1, [(X, MZ), (MX, MZ), (X, Z), (MZ, X), (Z, MX)]),
    ("sagittal", 0, [(Y, MZ), (MY, MZ), (Y, Z), (MZ, Y), (Z, MY)]),
])
def test_coronal_and_sagittal_slices_are_shown_upright_as_the_nifti_reader_shows_them(plane, axis, orientations):
    k = 11
    thin = np.take(VOLUME, [k], axis=axis)  # one slice: the NIfTI reader cuts it in its own plane
    expected, _ = read_one(nifti_bytes(thin, LPS_TO_RAS), name="thin.nii.gz")
    for n, (row, col) in enumerate(orientations):
        pixels, notes = read_one(dicom_of(VOLUME, row, col, axis, k))
        assert np.array_equal(pixels, expected), (row, col)
        assert bool(notes) == (n > 0) and all(note.startswith(f"1 {plane} image stored ") for note in notes)


def test_an_oblique_slice_is_turned_by_its_nearest_axes_as_the_nifti_reader_does_and_said():
    """Brain series tilted along the AC-PC line (10-25 degrees) stored mirrored were shown mirrored; past 40 degrees
    the nearest axes are no longer clear and the slice is shown as stored."""
    flat = VOLUME[:, :, 5].T.copy()  # rows y, columns x: the conventional axial view of slice 5
    for degrees, note in ((0.5, None), (3.0, "1 oblique image (up to 3 degrees off the axes): shown by their "
                                             "nearest axes, not resampled"),
                          (20.0, "1 oblique image (up to 20 degrees off the axes): shown by their nearest axes, "
                                 "not resampled"),
                          (42.0, "1 image too oblique to tell its plane (up to 42 degrees off the axes): shown "
                                 "as stored, not turned to a conventional view")):
        t = np.radians(degrees)
        ds = make_dataset(flat[:, ::-1].copy())  # stored mirrored, tilted about x
        ds.ImageOrientationPatient = [-1, 0, 0, 0, float(np.cos(t)), float(np.sin(t))]
        ds.ImagePositionPatient = [39.0, 0.0, 5.0]
        pixels, notes = read_one(to_bytes(ds))
        turned = degrees < 40
        assert np.array_equal(pixels, robust_uint8(flat if turned else flat[:, ::-1]))
        flipped = ("1 axial image stored flipped left-right (Image Orientation (Patient)): turned back to the "
                   "conventional view, whole pixels, nothing resampled",) if turned else ()
        assert notes == flipped + ((note,) if note else ())


def test_a_coronal_series_comes_in_the_nifti_readers_order():
    """A coronal series came anterior to posterior, the NIfTI reader's slices of the same anatomy the other way."""
    from dicom_factory import zip_bytes
    from pydicom.uid import generate_uid

    (nifti,) = read_volumes(nifti_bytes(VOLUME[:, 10:13, :], LPS_TO_RAS), name="c.nii.gz")
    uid, files = generate_uid(), []
    for k in (11, 10, 12):
        pixels, position = stored(VOLUME, X, MZ, 1, k)
        ds = make_dataset(np.ascontiguousarray(pixels), series_uid=uid, instance=k)
        ds.ImageOrientationPatient, ds.ImagePositionPatient = [*X, *MZ], position
        files.append((f"IM{k}", to_bytes(ds)))
    (dicom,) = read_volumes(zip_bytes(files), name="c.zip")
    assert [s.meta["dicom"]["image_position"][1] for s in dicom.slices] == [12.0, 11.0, 10.0]  # LPS y: to anterior
    assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(dicom.slices, nifti.slices, strict=True))


def test_a_transposed_slice_keeps_its_pixel_spacing_on_the_right_axis():
    """Pixel Spacing is (between rows, between columns) of the slice as stored: x is 2 mm here, so the view is wider."""
    pixels, position = stored(VOLUME, Y, X, 2, 5)  # stored rows run along x
    ds = make_dataset(np.ascontiguousarray(pixels), PixelSpacing=[2.0, 1.0])
    ds.ImageOrientationPatient, ds.ImagePositionPatient = [*Y, *X], position
    shown, _ = read_one(to_bytes(ds))
    assert shown.shape == (48, 80)
    assert np.array_equal(shown, square_pixels(robust_uint8(VOLUME[:, :, 5].T), 1.0, 2.0))


@pytest.mark.parametrize(("row", "col"), [(X, Y), (MX, Y), (Y, X), (MX, MY)])
def test_a_series_stored_mirrored_comes_in_the_nifti_readers_order(row, col):
    """Rows to the patient's right turn the normal inferior: the series came superior first, reversed from the same
    series stored as usual and from NIfTI's order."""
    from dicom_factory import zip_bytes
    from pydicom.uid import generate_uid

    (nifti,) = read_volumes(nifti_bytes(VOLUME[:, :, :8], LPS_TO_RAS), name="v.nii.gz")
    uid, files = generate_uid(), []
    for k in (3, 0, 7, 5, 1, 6, 2, 4):
        ds = make_dataset(np.ascontiguousarray(stored(VOLUME, row, col, 2, k)[0]), series_uid=uid, instance=k + 1)
        ds.ImageOrientationPatient, ds.ImagePositionPatient = [*row, *col], stored(VOLUME, row, col, 2, k)[1]
        files.append((f"IM{k}", to_bytes(ds)))
    (dicom,) = read_volumes(zip_bytes(files), name="s.zip")
    assert [s.meta["dicom"]["image_position"][2] for s in dicom.slices] == [float(k) for k in range(8)]
    assert all(np.array_equal(a.pixels, b.pixels) for a, b in zip(dicom.slices, nifti.slices, strict=True))


def test_a_double_oblique_axial_series_is_ordered_inferior_to_superior():
    """Rows 36.5 degrees about x then 39 about y: still shown as axial by its nearest axes, but its normal leans a hair
    nearer x than z (0.629 against 0.625), and the series was ordered right to left: superior first. (Its tilt, 39
    degrees, stays clear of AXIS_TOLERANCE_DEGREES: at exactly 40 a rounding could make it unknown, not axial.)"""
    from dicom_factory import zip_bytes
    from pydicom.uid import generate_uid

    from braintumor.dicom_orientation import AXIS_TOLERANCE_DEGREES, display_turn

    a, b = np.radians(36.5), np.radians(39.0)
    about_x = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    about_y = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    turn = about_x @ about_y
    row, col = turn @ [1.0, 0.0, 0.0], turn @ [0.0, 1.0, 0.0]
    normal = np.cross(row, col)
    shown = display_turn([*row, *col])  # the premise: axial, off the tolerance, a normal nearer x than z
    assert shown is not None and shown.plane == "axial" and shown.tilt <= AXIS_TOLERANCE_DEGREES - 0.5
    assert abs(normal[0]) > abs(normal[2])
    uid, files = generate_uid(), []
    for k in (2, 0, 3, 1):
        ds = make_dataset(np.full((32, 32), 40 * k + 10, dtype=np.uint16), series_uid=uid, instance=k + 1)
        ds.ImageOrientationPatient = [float(v) for v in (*row, *col)]
        ds.ImagePositionPatient = [float(v) for v in 5.0 * k * normal]  # k slices along the normal: superior
        files.append((f"IM{k}", to_bytes(ds)))
    (dicom,) = read_volumes(zip_bytes(files), name="s.zip")
    heights = [s.meta["dicom"]["image_position"][2] for s in dicom.slices]
    assert heights == sorted(heights) and heights[0] < heights[-1]


def test_huge_direction_cosines_turn_the_view_and_place_frames_as_unit_ones(recwarn):
    """A broken header's cosines of 1e200: their length overflowed to inf, so a slice stored mirrored was shown
    mirrored, without a note, and a legacy multi-frame file's frames got no position past the first."""
    from dicom_factory import flat_slice

    (nifti,) = read_volumes(nifti_bytes(VOLUME, LPS_TO_RAS), name="v.nii.gz")
    pixels, position = stored(VOLUME, MX, Y, 2, 17)
    ds = make_dataset(np.ascontiguousarray(pixels))
    ds.ImageOrientationPatient, ds.ImagePositionPatient = [v * 1e200 for v in (*MX, *Y)], position
    shown, notes = read_one(to_bytes(ds))
    assert np.array_equal(shown, nifti.slices[17].pixels)
    assert notes == ("1 axial image stored flipped left-right (Image Orientation (Patient)): turned back to the "
                     "conventional view, whole pixels, nothing resampled",)
    legacy = make_dataset(np.stack([flat_slice(k) for k in range(3)]), position=7.0, SliceThickness=3.0)
    legacy.NumberOfFrames, legacy.ImageOrientationPatient = 3, [1e200, 0, 0, 0, 1e200, 0]
    (volume,) = read_volumes(to_bytes(legacy), name="legacy.dcm")
    assert [s.meta["dicom"]["image_position"] for s in volume.slices] == [
        [-100.0, -100.0, z] for z in (7.0, 10.0, 13.0)]
    assert [str(w.message) for w in recwarn if issubclass(w.category, RuntimeWarning)] == []


def test_the_model_card_says_which_scans_are_not_turned_to_the_view_and_those_are_not():
    """The model card said 'DICOM and NIfTI are turned to that view by the readers', without exception; a slice whose
    orientation gives no slice normal (row and column parallel, or zero) cannot be turned, and is shown as stored, as
    one without an orientation is. The card now says so, and it is so."""
    from pathlib import Path

    stored = np.zeros((16, 16), np.uint8)
    stored[0, :8], stored[3, 0] = 200, 100  # neither mirror- nor transpose-symmetric
    shown = {}
    for name, facing in (("mirrored", [-1, 0, 0, 0, 1, 0]), ("parallel", [1, 0, 0, 1, 0, 0]),
                         ("zero", [0, 0, 0, 0, 0, 0])):
        ds = make_dataset(stored)
        ds.ImageOrientationPatient = facing
        (volume,) = read_volumes(to_bytes(ds), name=f"{name}.dcm")
        shown[name] = np.array_equal(volume.slices[0].pixels, stored)
    assert shown == {"mirrored": False, "parallel": True, "zero": True}
    card = " ".join((Path(__file__).parents[1] / "models" / "MODEL_CARD.md").read_text(encoding="utf-8").split())
    assert ("DICOM and NIfTI are turned to that view by the readers where their orientation allows: a scan without "
            "one (none given, or one of no slice normal) or too oblique or skewed (row and column far from "
            "perpendicular) is shown as stored.") in card


@pytest.mark.parametrize("facing", [[1, 0, 0, 1, 0, 0], [0, 0, 0, 0, 0, 0], [0, 1, 0, 0, -1, 0]])
@pytest.mark.parametrize("position", [None, [0.0, 0.0, 5.0]])
def test_a_single_slice_of_no_slice_normal_is_said_to_be_shown_as_stored(facing, position):
    """One file whose orientation has no slice normal (row and column parallel, or zero) was shown as stored without a
    word, where a too oblique one says so and a series of them says its order; with a position or without."""
    stored = np.zeros((16, 16), np.uint8)
    stored[0, :8], stored[3, 0] = 200, 100
    ds = make_dataset(stored)
    ds.ImageOrientationPatient = facing
    if position is not None:
        ds.ImagePositionPatient = position
    pixels, notes = read_one(to_bytes(ds))
    assert np.array_equal(pixels, stored)
    assert notes == ("1 image with an orientation of no slice normal (its row and column directions parallel or zero):"
                     " shown as stored, not turned to a conventional view",)


@pytest.mark.parametrize("facing", [[1, 0, 0, 0.6, 0.8, 0], [-1, 0, 0, 0.6, 0.8, 0], [0, 1, 0, -0.5, 0.5, 0.7]])
@pytest.mark.parametrize("files", [1, 3])
def test_a_slice_whose_row_and_column_are_far_from_perpendicular_is_said_to_be_shown_as_stored(facing, files):
    """No plane to speak of (rows at 53 degrees to columns): shown as stored without a word, a mirrored one (rows to
    the patient's right) mirrored; now said as a too oblique one is, one file or a series of them."""
    from dicom_factory import zip_bytes
    from pydicom.uid import generate_uid

    stored = np.zeros((32, 32), np.uint8)  # MIN_SCAN_SIDE: a series of smaller images is refused once
    stored[0, :8], stored[3, 0] = 200, 100
    uid, members = generate_uid(), []
    for k in range(files):
        ds = make_dataset(stored, series_uid=uid, instance=k + 1, position=5.0 * k)
        ds.ImageOrientationPatient = facing
        members.append((f"IM{k}", to_bytes(ds)))
    (volume,) = read_volumes(zip_bytes(members) if files > 1 else members[0][1], name="s.zip" if files > 1 else "x.dcm")
    assert all(np.array_equal(s.pixels, stored) for s in volume.slices) and len(volume.slices) == files
    assert volume.notes == (f"{files} image{'s' if files > 1 else ''} with row and column directions far from "
                            "perpendicular (Image Orientation (Patient)): shown as stored, not turned to a "
                            "conventional view",)


@pytest.mark.parametrize("facing", [None, [1, 0, 0, 0, 1, 0]])
def test_a_single_slice_without_a_position_gets_no_orientation_note(facing):
    """A single slice without a position (nothing to order) is said nothing of when its orientation is usable or
    absent: the note is about orientations of no slice normal only."""
    ds = make_dataset(np.arange(256, dtype=np.uint8).reshape(16, 16))
    if facing is not None:
        ds.ImageOrientationPatient = facing
    _, notes = read_one(to_bytes(ds))
    assert notes == ()
