"""NIfTI files whose header extensions or voxel values are out of the ordinary: read where the voxels allow it, with a
note on what was set aside, and never a library's warning on stderr."""

from __future__ import annotations

import gzip
import re
import struct
import warnings

import numpy as np
import pytest

from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes

_VOXELS = (np.random.default_rng(0).random((40, 48, 3)) * 1000).astype(np.int16)


def _with_extension(esize: int, ecode: int, content: bytes) -> bytes:
    """A NIfTI-1 file whose header extension declares ``esize`` bytes and holds ``content`` (padded to 16 bytes), its
    voxels right after it (vox_offset says where)."""
    import nibabel as nib

    raw = nib.Nifti1Image(_VOXELS, np.eye(4)).to_bytes()
    ext = struct.pack("<ii", esize, ecode) + content
    ext += bytes(-len(ext) % 16)
    header = bytearray(raw[:348])
    struct.pack_into("<f", header, 108, 352.0 + len(ext))
    return bytes(header) + b"\x01\x00\x00\x00" + ext + raw[352:]


_PAST = ("the header's extensions are damaged (one runs past the start of the voxels): ignored, the voxels read where "
         "vox_offset places them")
_SIZE = ("the header's extensions are damaged (a size that is not a positive multiple of 16 bytes): ignored, the "
         "voxels read where vox_offset places them")


@pytest.mark.parametrize(("esize", "ecode", "content", "notes"), [
    (20, 6, b"a comment...", (_SIZE,)),  # nibabel: 'Extension size is not a multiple of 16 bytes' on stderr
    (4, 6, b"x" * 24, (_SIZE,)),  # the same on stderr, then 'NIfTI header is invalid: failed to read extension content'
    (-16, 6, b"x" * 24, (_SIZE,)),  # 'failed to read extension content'
    (1_000_000, 6, b"x" * 24, (_PAST,)),  # 'failed to read extension content'
    (32, 2, b"\xff" * 24, ()),  # a DICOM extension: nibabel parsed it with pydicom: 'invalid (UnicodeDecodeError)'
    (32, 6, b"a comment" + bytes(15), ()),  # a sound extension
])
def test_a_damaged_header_extension_is_set_aside_and_said(esize, ecode, content, notes, capfd):
    """Header extensions never hold voxels: a damaged one cost the whole file, or put nibabel's warning between the
    CLI's lines. Only their sizes are walked now, for the note; their content is never parsed."""
    raw = _with_extension(esize, ecode, content)
    for data, name in ((raw, "x.nii"), (gzip.compress(raw), "x.nii.gz")):
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            (volume,) = read_volumes(data, name=name)
        assert len(volume.slices) == 3 and volume.notes == notes
    assert capfd.readouterr().err == ""


@pytest.mark.parametrize("scale", [2.0 ** 990, 2.0 ** -990, 2.0 ** 1015])  # ~1e298, ~1e-298; and +-1.75e308
def test_float64_voxels_beyond_float32_read_as_their_values(scale):
    """float64 voxels were cast to float32: 1e298 became inf and 1e-298 zero, and every slice came out blank ('blank
    or nearly uniform image'); a slice spanning +-1.75e308 came out black (its range overflowed float64). Each slice is
    stretched by its own range, so scaling by a power of two changes nothing shown."""
    import nibabel as nib

    centred = _VOXELS.astype(np.float64) - 500.0
    (plain,) = read_volumes(nib.Nifti1Image(centred, np.eye(4)).to_bytes(), name="plain.nii")
    (scaled,) = read_volumes(nib.Nifti1Image(centred * scale, np.eye(4)).to_bytes(), name="scaled.nii")
    assert len(np.unique(plain.slices[1].pixels)) > 200
    for a, b in zip(plain.slices, scaled.slices, strict=True):
        assert np.array_equal(a.pixels, b.pixels)


def _ct_head(side: int = 128, slices: int = 6) -> np.ndarray:
    """A head as CT stores it, in Hounsfield units: air (-1000) around a skull (1200) holding brain (20-45) and CSF."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:side, :side]
    r = np.hypot((yy - side / 2) / (side * 0.40), (xx - side / 2) / (side * 0.33))
    plane = np.where(r <= 1.0, 1200.0, -1000.0)
    plane = np.where(r <= 0.92, 32.0 + 8 * np.sin(xx / 9.0) * np.cos(yy / 7.0), plane)
    plane = np.where((r <= 0.25) & (np.abs(xx - side / 2) < side * 0.04), 8.0, plane)
    return np.round(np.stack([plane + rng.normal(0, 6, plane.shape) for _ in range(slices)], axis=-1)).astype(np.int16)


_CT = (r"^NIfTI voxel values look like CT's Hounsfield units, not MRI: \d+% of them at air's -1000 and \d+% at soft "
       r"tissue's -100 to 100; the model reads MRI only$")


def test_a_ct_volume_in_hounsfield_units_is_refused_as_ct():
    """NIfTI has no modality field: a CT volume was cut into slices and sent to the MRI model (DICOM CT is refused by
    its Modality). Stored as Hounsfield units, or as unsigned values with scl_inter -1024, as converters write it."""
    import nibabel as nib

    from braintumor.image_io import ImageError

    hu = _ct_head()
    shifted = nib.Nifti1Image((hu + 1024).astype(np.uint16), np.eye(4))
    shifted.header.set_slope_inter(1.0, -1024.0)
    for data in (nib.Nifti1Image(hu, np.eye(4)).to_bytes(), shifted.to_bytes()):
        with pytest.raises(ImageError, match=_CT):
            read_volumes(data, name="ct.nii")


@pytest.mark.parametrize("name", ["anatomical.nii", "example4d.nii.gz", "functional.nii", "example_nifti2.nii.gz"])
def test_real_mri_volumes_are_not_taken_for_ct(name):
    """nibabel's own MRI volumes (anatomical.nii goes down to -610): none is refused as CT. functional.nii's 17 x 21
    and example_nifti2's 32 x 20 slices are refused for their size, once, after the check of their values."""
    from dicom_factory import nibabel_file

    path = nibabel_file(name)
    if path is None:
        pytest.skip(f"nibabel's {name} is not installed")
    if name in ("functional.nii", "example_nifti2.nii.gz"):
        with pytest.raises(ImageError, match=r"axial slices: scan slice is \d+x\d+ pixels; at least 32x32 needed"):
            read_volumes(path)
    else:
        assert read_volumes(path)[0].slices


def test_the_datasets_slices_made_volumes_are_not_taken_for_ct(test_images):
    """The dataset's slices as a volume stored as gray levels, or shifted by scl_inter -1024 (most voxels then at
    -1024, as CT's air): no soft tissue at -100 to 100, so not CT."""
    import nibabel as nib
    from PIL import Image

    paths = [p for group in test_images.values() for p in group]
    gray = np.stack([np.asarray(Image.open(p).convert("L").resize((128, 128))) for p in paths], axis=-1)
    shifted = nib.Nifti1Image(gray, np.eye(4))
    shifted.header.set_slope_inter(1.0, -1024.0)
    for img in (nib.Nifti1Image(gray, np.eye(4)), nib.Nifti1Image(gray.astype(np.int16) * 16, np.eye(4)), shifted):
        assert len(read_volumes(img.to_bytes(), name="mri.nii")[0].slices) == len(paths)


@pytest.mark.parametrize("fill", [np.nan, np.inf, -np.inf])
def test_a_volume_without_one_finite_voxel_is_refused_as_such(fill):
    """Each slice was refused as 'blank or nearly uniform image', as if the volume held an image."""
    import nibabel as nib

    from braintumor.image_io import ImageError
    from braintumor.wording import no_finite_values_text

    with pytest.raises(ImageError, match="^" + re.escape(no_finite_values_text("the NIfTI volume")) + "$"):
        read_volumes(nib.Nifti1Image(np.full((40, 48, 3), fill), np.eye(4)).to_bytes(), name="x.nii")


@pytest.mark.parametrize("fill", [np.nan, np.inf])
def test_a_slice_without_one_finite_voxel_is_refused_as_such_in_its_place(clf, fill):
    """An all-NaN slice in a finite volume was read as a black slice and answered 'blank or nearly uniform image' with
    probabilities. It is kept (the slices after it keep their numbers and positions) and refused in the words a DICOM
    frame or a whole volume of no finite value gets, as an error record for that slice."""
    import nibabel as nib

    from braintumor.series import volume_records
    from braintumor.wording import no_finite_values_text

    voxels = (np.random.default_rng(3).random((40, 48, 4)) * 1000).astype(np.float32)
    voxels[:, :, 2] = fill
    voxels[0, 0, 1] = np.nan  # a few NaN voxels are not a slice of none
    (volume,) = read_volumes(nib.Nifti1Image(voxels, np.eye(4)).to_bytes(), name="x.nii")
    said = no_finite_values_text("slice")
    assert [sl.error for sl in volume.slices] == [None, None, said, None]
    assert [sl.meta["nifti"]["z_mm"] for sl in volume.slices] == [0.0, 1.0, 2.0, 3.0]
    records = [rec for rec, _ in volume_records(clf, volume)]
    assert records[2]["error"] == said and "probabilities" not in records[2] and "ood" not in records[2]
    assert records[2]["slice"] == 2 and records[2]["nifti"]["z_mm"] == 2.0
    assert all("error" not in rec for k, rec in enumerate(records) if k != 2)
    assert said.startswith("slice has no finite values (all NaN or infinite)")
