"""NIfTI files whose header extensions or voxel values are out of the ordinary: read where the voxels allow it, with a
note on what was set aside, and never a library's warning on stderr."""

from __future__ import annotations

import gzip
import struct
import warnings

import numpy as np
import pytest

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
