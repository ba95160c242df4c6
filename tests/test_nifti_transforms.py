"""Which of a NIfTI header's two transforms (qform, sform) the slices are cut by, and what is said when they fail
or disagree: converters and tools write both, and viewers do not all read the same one."""

from __future__ import annotations

import numpy as np
import pytest

from braintumor.volume_io import read_volumes

RAS, LAS = np.eye(4), np.diag([-1.0, 1.0, 1.0, 1.0])


def _marked() -> np.ndarray:
    """A volume with one bright block near the low-i, high-j corner of every slice (right anterior when RAS)."""
    data = np.full((40, 48, 6), 100, np.int16)
    data[2:6, 40:44, :] = 1000
    return data


def _nifti(qform, qcode: int, sform, scode: int) -> bytes:
    import nibabel as nib

    image = nib.Nifti1Image(_marked(), None)  # no affine: to_bytes keeps the transforms set on the header
    image.header.set_qform(qform, code=qcode)
    image.header.set_sform(sform, code=scode)
    return image.to_bytes()


def _block_column(volume) -> float:
    """Where the bright block is drawn across the first slice: its mean column."""
    return float(np.nonzero(volume.slices[0].pixels > 200)[1].mean())


@pytest.mark.parametrize("broken", [np.zeros((4, 4)), np.full((4, 4), np.nan)])
def test_an_unusable_sform_gives_way_to_a_usable_qform(broken):
    """A sform with a code but no matrix (zeros, or NaN) made the slices 'the third axis as stored', though the header's
    qform placed them: a LAS volume came back mirrored. The qform is used, and said."""
    (volume,) = read_volumes(_nifti(LAS, 1, broken, 1), name="x.nii")
    (by_qform,) = read_volumes(_nifti(LAS, 1, None, 0), name="x.nii")
    assert _block_column(volume) == _block_column(by_qform) < 20  # the patient's right on the viewer's left
    assert volume.notes == ("the header's sform is unusable (singular or not finite): its qform is used",)
    assert volume.slices[0].meta["nifti"]["source_orientation"] == "LAS"


@pytest.mark.parametrize(("qform", "sform", "left"), [(RAS, LAS, True), (LAS, RAS, False)])
def test_a_qform_and_sform_that_disagree_are_read_by_the_sform_and_said(qform, sform, left):
    """Both transforms coded but pointing different ways (fslorient -setsform on one of them): the sform is used, as
    FSL, SPM and nibabel use it, and the note says tools reading the qform show the slices otherwise."""
    (volume,) = read_volumes(_nifti(qform, 1, sform, 1), name="x.nii")
    assert (_block_column(volume) < 20) == left
    codes = ("LAS" if m is LAS else "RAS" for m in (sform, qform))
    assert volume.notes == ("the header's sform ({}) and qform ({}) disagree: the sform is used, as FSL, SPM and "
                            "nibabel use it; tools that read the qform show the slices mirrored or turned"
                            .format(*codes),)


def test_transforms_that_agree_or_one_alone_are_read_without_a_note():
    for data in (_nifti(LAS, 1, LAS, 1), _nifti(None, 0, LAS, 2), _nifti(LAS, 1, None, 0)):
        (volume,) = read_volumes(data, name="x.nii")
        assert volume.notes == () and _block_column(volume) < 20


def test_a_code_that_is_no_nifti_code_is_said_as_stored_not_as_0():
    """nibabel's checks set a qform or sform code that is no NIfTI code (99) to 0, and the note said 'no orientation
    (qform and sform codes 0)' of a header whose sform_code is 99; one beside a set qform was ignored unsaid, where
    tools that take any code over 0 as set (nifti_clib) use that sform."""
    import struct

    def coded(qcode: int, scode: int) -> bytes:
        raw = bytearray(_nifti(RAS, 1, RAS, 1))
        struct.pack_into("<hh", raw, 252, qcode, scode)  # qform_code, sform_code
        return bytes(raw)

    (alone,) = read_volumes(coded(0, 99), name="x.nii")
    assert alone.notes[0].startswith("the header names no orientation (qform_code 0, sform_code 99 (no NIfTI code)): "
                                     "the voxels are read as stored"), alone.notes
    (beside,) = read_volumes(coded(1, 99), name="x.nii")
    assert beside.notes == ("the header's sform_code is 99, no NIfTI code: its sform is ignored, as nibabel ignores "
                            "it, and its qform used (tools that take any code over 0 use the sform)",)
    (unset,) = read_volumes(coded(0, 0), name="x.nii")
    assert unset.notes[0].startswith("the header names no orientation (qform and sform codes 0): ")
