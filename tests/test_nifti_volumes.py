"""Reading NIfTI volumes into slices: display orientation, 4-D, thin and oblique volumes, header notes, limits."""

from __future__ import annotations

import numpy as np
import pytest
from dicom_factory import (
    axial_volume,
    nibabel_file,
    nifti_bytes,
)

from braintumor import nifti_header, nifti_io
from braintumor.image_io import ImageError
from braintumor.slice_pixels import robust_uint8
from braintumor.volume_io import read_volumes


def test_nifti_slices_come_back_in_display_orientation(stack):
    volume = axial_volume(stack)  # RAS array from display slices
    expected = [robust_uint8(s.astype(np.float32)) for s in stack]
    (ras,) = read_volumes(nifti_bytes(volume), name="ras.nii.gz")
    # The same anatomy stored left-to-right flipped (LAS) and with x/y swapped (ARS): nibabel reorients it.
    las = np.diag([-1.0, 1, 1, 1]) @ np.eye(4)
    (flipped,) = read_volumes(nifti_bytes(volume[::-1], las), name="las.nii.gz")
    swap = np.array([[0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], dtype=float)
    (swapped,) = read_volumes(nifti_bytes(volume.transpose(1, 0, 2).copy(), swap, gz=False), name="ars.nii")
    for v in (ras, flipped, swapped):
        assert v.kind == "nifti" and len(v.slices) == 6
        assert all(np.array_equal(s.pixels, expected[k]) for k, s in enumerate(v.slices))
    assert flipped.slices[0].meta["nifti"]["source_orientation"] == "LAS"


def test_nifti_4d_uses_the_first_volume_and_says_so(stack):
    vol = axial_volume(stack[:3])
    (v,) = read_volumes(nifti_bytes(np.stack([vol, 255 - vol], axis=-1)), name="fmri.nii.gz")
    assert len(v.slices) == 3 and v.notes == ("4-D image: the first of 2 volumes was used",)
    assert {s.meta["nifti"]["volumes"] for s in v.slices} == {2}
    assert np.array_equal(v.slices[0].pixels, robust_uint8(stack[0].astype(np.float32)))


def test_a_file_short_of_its_headers_volumes_is_read_and_said_to_be(stack):
    """A header declaring 32767 volumes (dim[4]) over a file holding one was noted as 'the first of 32767 volumes was
    used'. As nibabel, which reads such a file's first volume and refuses the rest, the first volume is read; the note
    says how many the file holds, or (gzip, not inflated past the first) that its size cannot hold them all; the
    slices' metadata says the same ("volumes" was the header's 32767)."""
    import gzip

    import nibabel as nib

    vol = axial_volume(stack[:3])
    header = nib.Nifti1Image(vol, np.eye(4)).header
    header.set_data_shape((*vol.shape, 32767))
    header["vox_offset"] = offset = 352
    whole = header.binaryblock + bytes(4) + np.stack([vol, 255 - vol], axis=-1).tobytes(order="F")  # 2 volumes
    each = vol.nbytes
    end = offset + 32767 * each
    want = [s.pixels for s in read_volumes(nifti_bytes(vol, gz=False), name="v.nii")[0].slices]
    for data, n in ((whole[:offset + each], "1 whole volume"), (whole[:offset + each + each // 2], "1 whole volume"),
                    (whole, "2 whole volumes")):
        (v,) = read_volumes(data, name="short.nii")
        assert v.notes == (f"4-D image: the first volume was used; the header declares 32,767, and the file holds "
                           f"{n}, ending at byte {len(data):,} where 32,767 would end at byte {end:,} (truncated, or "
                           "the header's dimensions are wrong)",)
        assert len(v.slices) == 3 and all(map(np.array_equal, (s.pixels for s in v.slices), want))
        assert {s.meta["nifti"]["volumes"] for s in v.slices} == {int(n[0])}  # was the header's 32767, as the note
    packed = gzip.compress(whole)
    (v,) = read_volumes(packed, name="short.nii.gz")
    assert v.notes == (f"4-D image: the first volume was used; the header declares 32,767, more than the file's "
                       f"{len(packed):,} compressed bytes can hold (they inflate to {len(packed) * 1032:,} bytes at "
                       f"most, and 32,767 volumes end at byte {end:,}: truncated, or the header's dimensions are "
                       "wrong)",)
    assert {s.meta["nifti"]["volumes"] for s in v.slices} == {1}  # the one read: how many more is not known
    assert v.slices[0].meta["nifti"]["shape"][3] == 32767  # the header's shape, as the note's "declares 32,767"


@pytest.mark.parametrize(("name", "n"), [("example4d.nii.gz", 24), ("anatomical.nii", 25)])
def test_nibabel_bundled_volumes(name, n):
    path = nibabel_file(name)
    if path is None:
        pytest.skip("nibabel's wheel does not ship this test file")
    (v,) = read_volumes(path)
    assert len(v.slices) == n and all(s.pixels.dtype == np.uint8 and s.pixels.ndim == 2 for s in v.slices)
    assert v.slices[0].meta["nifti"]["orientation"] == "RAS"


def test_nifti_limits_and_errors(monkeypatch):
    small = nifti_bytes(np.zeros((8, 8, 8), np.int16))
    assert len(nifti_header.gunzip_bounded(small, 1000).getvalue()) == 1000  # what the header needs, no more
    monkeypatch.setattr(nifti_io, "MAX_VOXELS", 100)
    with pytest.raises(ImageError, match="512 voxels; the limit is 100"):
        read_volumes(small, name="x.nii.gz")
    with pytest.raises(ImageError, match="not a NIfTI-1/NIfTI-2 single file"):
        read_volumes(b"plain text" * 60, name="x.nii")
    with pytest.raises(ImageError, match="not a recognised volume"):
        read_volumes(b"plain text" * 60, name="x.bin")
    with pytest.raises(ImageError, match="gzip data is truncated"):
        read_volumes(small[: len(small) // 2], name="x.nii.gz")


def test_a_nifti_without_a_usable_orientation_is_read_as_stored_and_says_so(stack):
    """An all-zero sform (and no qform) made nibabel's reorientation fail: 'voxel data is corrupt or truncated'."""
    import nibabel as nib

    img = nib.Nifti1Image(axial_volume(stack[:3]), np.eye(4))
    img.set_sform(np.zeros((4, 4)), code=1)
    img.set_qform(None, code=0)
    (volume,) = read_volumes(img.to_bytes(), name="x.nii")
    assert len(volume.slices) == 3 and volume.notes == (
        "the header's orientation is unusable (singular or not finite): slices are the third axis as stored",)
    assert all(np.array_equal(s.pixels, robust_uint8(axial_volume(stack[:3])[:, :, k].T[::-1, ::-1]))
               for k, s in enumerate(volume.slices))


@pytest.mark.parametrize("plane", ["coronal", "sagittal"])
def test_a_thin_non_axial_nifti_is_read_in_its_own_plane_upright(gray, plane):
    """A single coronal image stored as (160, 1, 200) became 200 'axial' strips of 1 x 160 pixels, all refused,
    and the image itself was never classified."""
    import nibabel as nib

    shown = [np.ascontiguousarray(gray), np.ascontiguousarray(gray[:, ::-1])]  # as a viewer shows them
    # display rows superior->inferior, columns the patient's right (coronal) / front (sagittal) on the left
    planes = [s[::-1, ::-1].T for s in shown]  # (x, z) for coronal, (y, z) for sagittal
    stacked = np.stack(planes, axis=1 if plane == "coronal" else 0).astype(np.int16)
    (volume,) = read_volumes(nib.Nifti1Image(stacked, np.eye(4)).to_bytes(), name="thin.nii")
    assert len(volume.slices) == 2 and volume.notes == (f"2 {plane} slices, too thin a slab to cut axially: "
                                                        "classified in their own plane (the model learned mostly "
                                                        "axial slices)",)
    for sl, expected in zip(volume.slices, shown, strict=True):
        assert np.array_equal(sl.pixels, robust_uint8(expected)) and sl.meta["nifti"]["plane"] == plane
    axial = nib.Nifti1Image(axial_volume([gray] * 3).astype(np.int16), np.eye(4)).to_bytes()
    assert "plane" not in read_volumes(axial, name="a.nii")[0].slices[0].meta["nifti"]  # axial as before


def test_nifti_notes_what_its_header_leaves_open_and_nan_is_background():
    """Codes 0 (orientation guessed as LAS), an oblique affine (snapped to the axes) and NaN voxels (read as 0: a
    mid-gray background in z-scored data) were all silent."""
    import nibabel as nib

    rng = np.random.default_rng(0)
    data = rng.normal(size=(48, 48, 3)).astype(np.float32)
    data[:8] = np.nan  # outside a mask
    (volume,) = read_volumes(nib.Nifti1Image(data, None).to_bytes(), name="z.nii")  # no affine: codes 0
    assert any(n.startswith("the header names no orientation (qform and sform codes 0)") for n in volume.notes)
    assert (volume.slices[0].pixels == 0).sum() >= 8 * 48  # the NaN voxels: black, not the z-scores' 0 (mid-gray)
    tilted = np.eye(4)
    c, s = np.cos(np.radians(20)), np.sin(np.radians(20))
    tilted[:3, :3] = [[1, 0, 0], [0, c, -s], [0, s, c]]
    (volume,) = read_volumes(nib.Nifti1Image(np.nan_to_num(data), tilted).to_bytes(), name="o.nii")
    assert "an oblique volume (20 degrees off the axes): slices follow the nearest axes, not resampled" in volume.notes
    (plain,) = read_volumes(nib.Nifti1Image(np.nan_to_num(data), np.eye(4)).to_bytes(), name="p.nii")
    assert plain.notes == ()
