"""The plane a NIfTI volume is cut in: axial, unless it is a coronal or sagittal 2-D acquisition (thick slices) or a
slab too thin to cut axially (tests/test_nifti_volumes.py); each slice shown upright as viewers show its plane."""

from __future__ import annotations

import numpy as np
import pytest

from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes

_OWN_PLANE = ("{n} {plane} slices 5 mm apart of 0.5 x 0.5 mm pixels, a {plane} acquisition: classified in their own "
              "plane, not cut axially into strips (the model learned mostly axial slices)")


def _affine(columns: list[tuple[float, float, float]], tilt_degrees: float = 0.0) -> np.ndarray:
    """A voxel-to-RAS affine whose file axes i, j, k step by ``columns`` (mm), tilted about x as brain series are
    along the AC-PC line."""
    t = np.radians(tilt_degrees)
    turn = np.array([[1, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])
    affine = np.eye(4)
    affine[:3, :3] = turn @ np.array(columns, dtype=np.float64).T
    affine[:3, 3] = (-60.0, 40.0, -20.0)
    return affine


def _marked(shape: tuple[int, int, int], at: tuple[int, int, int]) -> np.ndarray:
    """A blank volume with one bright voxel, whose place in the slices shows how they are turned."""
    data = np.zeros(shape, np.int16)
    data[at] = 1000
    return data


def _read(data: np.ndarray, affine: np.ndarray, **limits):
    import nibabel as nib

    (volume,) = read_volumes(nib.Nifti1Image(data, affine).to_bytes(), name="scan.nii", **limits)
    return volume


def _where(volume) -> tuple[int, int, int]:
    """(slice, row, column) of the bright voxel (blurred where the pixels are resampled to square)."""
    k = int(np.argmax([s.pixels.max() for s in volume.slices]))
    row, col = np.unravel_index(int(np.argmax(volume.slices[k].pixels)), volume.slices[k].pixels.shape)
    return k, int(row), int(col)


# as dcm2niix stores a coronal series: i along the image's rows to the patient's left, j up, k the slices to posterior
_CORONAL = [(-0.5, 0, 0), (0, 0, 0.5), (0, -5.0, 0)]
# a sagittal one: i to posterior, j up, k the slices to the patient's right
_SAGITTAL = [(0, -0.5, 0), (0, 0, 0.5), (5.0, 0, 0)]


@pytest.mark.parametrize("slices", [40, 24])  # 24: already its own plane as a thin slab, now said for what it is
@pytest.mark.parametrize("tilt", [0.0, 15.0])
def test_a_coronal_acquisition_is_cut_in_its_own_plane_upright(slices, tilt):
    """40 coronal slices of 0.5 x 0.5 mm, 5 mm apart, were cut axially into 64 slices of 64 x 40 pixels, each 5 mm x
    0.5 mm, resampled into 6 x 40 strips (likely refused as not MRI), while the scan's own slices are good images."""
    # the bright voxel: near the patient's right (i=2), superior (j=60), in the file's slice 5 (anterior)
    volume = _read(_marked((64, 64, slices), (2, 60, 5)), _affine(_CORONAL, tilt))
    assert len(volume.slices) == slices and {s.pixels.shape for s in volume.slices} == {(64, 64)}
    own = _OWN_PLANE.format(n=slices, plane="coronal")
    assert volume.notes == ((own,) if not tilt else
                            ("an oblique volume (15 degrees off the axes): slices follow the nearest axes, not "
                             "resampled", own))
    # posterior to anterior; superior at the top, the patient's right on the viewer's left
    assert _where(volume) == (slices - 1 - 5, 63 - 60, 2)
    meta = volume.slices[slices - 1 - 5].meta["nifti"]
    assert (meta["plane"], meta["file_axis"], meta["file_index"]) == ("coronal", "k", 5) and "y_mm" in meta
    assert [s.meta["nifti"]["file_index"] for s in volume.slices] == list(range(slices - 1, -1, -1))


def test_a_sagittal_acquisition_is_cut_in_its_own_plane_upright():
    """40 sagittal slices 5 mm apart were cut axially into strips, as the coronal ones were."""
    volume = _read(_marked((64, 64, 40), (2, 60, 7)), _affine(_SAGITTAL))  # anterior, superior, the file's slice 7
    assert len(volume.slices) == 40 and {s.pixels.shape for s in volume.slices} == {(64, 64)}
    assert volume.notes == (_OWN_PLANE.format(n=40, plane="sagittal"),)
    assert _where(volume) == (7, 63 - 60, 2)  # left to right; superior at the top, anterior on the viewer's left
    meta = volume.slices[7].meta["nifti"]
    assert (meta["plane"], meta["file_axis"], meta["file_index"]) == ("sagittal", "k", 7) and "x_mm" in meta


@pytest.mark.parametrize("zooms", [(1.0, 1.0, 1.0), (1.0, 1.0, 1.2), (1.2, 1.0, 1.0), (1.0, 1.5, 1.0),
                                   (0.5, 0.5, 5.0),  # an axial acquisition: axial as before
                                   (1.0, 2.0, 0.6),  # in-plane sizes too far apart to be one plane's pixels
                                   (1.0, 1e5, 1.0)])  # sizes not believed (past MAX_VOXEL_ASPECT)
def test_isotropic_and_axial_volumes_are_still_cut_axially(zooms):
    """A 3-D T1 (1 x 1 x 1 mm, or 1.2 mm one way) and an axial stack of thick slices stay axial, exactly as before."""
    volume = _read(_marked((48, 40, 36), (45, 2, 30)), np.diag([*zooms, 1.0]))  # right, posterior, superior
    assert len(volume.slices) == 36 and "plane" not in volume.slices[0].meta["nifti"]
    assert not [n for n in volume.notes if "plane" in n]
    k, row, col = _where(volume)
    shape = volume.slices[k].pixels.shape
    assert k == 30 and row >= shape[0] // 2 and col < shape[1] // 2  # posterior at the bottom, right on the left


def test_an_acquisition_too_small_in_its_own_plane_is_cut_as_before():
    """64 coronal slices of 64 x 3 pixels would be worse than the axial cut: the slab rule and the axial cut stand
    (its 3 axial slices, 6 pixels wide once made square, are then refused for their size, once)."""
    with pytest.raises(ImageError, match=r"cuts into 3 axial slices: scan slice is 6x64 pixels; at least 32x32"):
        _read(_marked((64, 64, 3), (2, 60, 1)), np.diag([0.5, 5.0, 0.5, 1.0]))


def test_the_slice_budget_counts_the_acquisition_plane_before_decoding():
    """The limit on slices counts the plane cut, on the header alone: a truncated file is refused for its 40 coronal
    slices, not its voxels; a budget of 50 takes them (64 axial slices were over it)."""
    import nibabel as nib

    raw = nib.Nifti1Image(np.zeros((64, 64, 40), np.int16), _affine(_CORONAL)).to_bytes()
    with pytest.raises(ImageError, match=r"^NIfTI volume has 40 coronal slices; the limit is 30$"):
        read_volumes(raw[:1000], name="scan.nii", max_slices=30)
    assert len(_read(_marked((64, 64, 40), (2, 60, 5)), _affine(_CORONAL), max_slices=50).slices) == 40
