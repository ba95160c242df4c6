"""How a readable NIfTI file's slices are placed: the index each slice has in the file, an orientation nibabel cannot
place (read as stored, and said), and voxel sizes far from square (ignored, and said) or believable (honoured). Bad
headers and data blocks, and a file's cost, are in tests/test_nifti_io.py."""

from __future__ import annotations

import numpy as np
import pytest

from braintumor.image_io import ImageError
from braintumor.slice_pixels import robust_uint8
from braintumor.volume_io import read_volumes


def test_each_slice_names_its_index_in_the_file():
    """Slices are numbered inferior to superior in the RAS volume; a file stored superior to inferior, or with its
    slices along its first axis, numbers them otherwise, and nothing told a viewer's voxel index from ours."""
    import nibabel as nib

    data = np.random.default_rng(0).integers(0, 1000, (40, 48, 6)).astype(np.int16)
    (down,) = read_volumes(nib.Nifti1Image(data, np.diag([1.0, 1, -1, 1])).to_bytes(), name="down.nii")  # RAI
    assert [s.meta["nifti"]["file_index"] for s in down.slices] == [5, 4, 3, 2, 1, 0]
    assert {s.meta["nifti"]["file_axis"] for s in down.slices} == {"k"}
    first_axis = np.zeros((4, 4))
    first_axis[2, 0] = first_axis[0, 1] = first_axis[1, 2] = first_axis[3, 3] = 1  # i: superior, j: right, k: front
    stored = np.random.default_rng(1).integers(0, 1000, (6, 40, 48)).astype(np.int16)
    (sideways,) = read_volumes(nib.Nifti1Image(stored, first_axis).to_bytes(), name="side.nii")
    assert [(s.meta["nifti"]["file_axis"], s.meta["nifti"]["file_index"]) for s in sideways.slices] == [
        ("i", k) for k in range(6)]
    shown = robust_uint8(stored[2].T[::-1, ::-1].astype(np.float32))  # x = j, y = k: anterior up, right on the left
    assert np.array_equal(sideways.slices[2].pixels, shown)


def test_an_affine_with_two_axes_along_one_is_read_as_stored_and_said():
    """A huge shear (one column 1e21 along another's axis) has a determinant but no orientation nibabel can place:
    it was 'NIfTI voxel data is corrupt or truncated (OrientationError)'."""
    import nibabel as nib

    sheared = np.eye(4)
    sheared[0, 1] = -2.4e21
    data = np.random.default_rng(0).integers(0, 1000, (40, 48, 6)).astype(np.int16)
    (volume,) = read_volumes(nib.Nifti1Image(data, sheared).to_bytes(), name="x.nii")
    assert len(volume.slices) == 6 and volume.notes == (
        "the header's orientation is unusable (two of its axes point nearly the same way): slices are the third axis "
        "as stored",)


def test_an_unusable_orientation_with_absurd_voxel_sizes_is_still_read_as_stored():
    """With no orientation to go by, the slices were cut by the header's voxel sizes: 3e274 mm (a float64 NIfTI-2
    pixdim) overflowed nibabel's orientation and the file was 'this scan could not be read (ValueError)'."""
    import nibabel as nib

    img = nib.Nifti2Image(np.random.default_rng(0).random((40, 48, 3)).astype(np.float32), None)
    img.header.set_zooms((3e274, 1.0, 2.0))
    img.set_qform(None, code=0)
    img.set_sform(None, code=0)
    (volume,) = read_volumes(img.to_bytes(), name="x.nii")
    assert len(volume.slices) == 3
    assert any(n.startswith("the header's orientation is unusable") for n in volume.notes)


_IGNORED = "the header's voxel sizes make each pixel {} mm wide and {} mm high, over 50 times as long as wide: " \
           "ignored, pixels taken as square"
_RESAMPLED = "the header's voxel sizes make each pixel {} mm wide and {} mm high: resampled to square pixels, the " \
             "64x64 slices are {}"


@pytest.mark.parametrize(("zooms", "shape", "notes"), [
    ((1e38, 1.0, 1.0), (64, 64), (_IGNORED.format("1e+38", 1),)),  # an srow of 1e38: a 64 x 1 strip, then refused
    ((1e5, 0.001, 1.0), (64, 64), (_IGNORED.format(100000, 0.001),)),  # 64 x 1 too
    ((0.5, 0.5, 5.0), (64, 64), ()),  # real scans, unchanged: thick axial slices,
    ((1.0, 1.2, 3.0), (77, 64), ()),  # pixels a little higher than wide, resampled unsaid,
    ((1.0, 2.0, 1.0), (128, 64), ()),
    ((0.5, 2.0, 0.5), (64, 16), ()),  # a coronal stack too small for its plane: strips, refused (below)
])
def test_voxel_sizes_far_from_square_are_ignored_or_said(zooms, shape, notes):
    """Voxel sizes that made each slice a strip once resampled to square pixels (refused as 'extreme aspect ratio')
    are ignored beyond MAX_VOXEL_ASPECT, as DICOM's absurd Pixel Spacing is; believable ones are honoured."""
    import nibabel as nib

    data = (np.random.default_rng(0).random((64, 64, 3)) * 1000).astype(np.int16)
    if min(shape) < 32:  # strips under MIN_SCAN_SIDE once square: refused, once, for their size (each was)
        with pytest.raises(ImageError, match=f"scan slice is {shape[1]}x{shape[0]} pixels; at least 32x32 needed"):
            read_volumes(nib.Nifti1Image(data, np.diag([*zooms, 1.0])).to_bytes(), name="x.nii")
        data = (np.random.default_rng(0).random((128, 128, 3)) * 1000).astype(np.int16)  # large enough: said
        shape, notes = (128, 32), (_RESAMPLED.format(0.5, 2, "32x128").replace("64x64", "128x128"),)
    (volume,) = read_volumes(nib.Nifti1Image(data, np.diag([*zooms, 1.0])).to_bytes(), name="x.nii")
    assert volume.slices[0].pixels.shape == shape
    assert volume.notes == notes
