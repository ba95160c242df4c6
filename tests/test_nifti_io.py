"""NIfTI files as they come: their cost in time and memory, and what bad headers and data blocks are told."""

from __future__ import annotations

import tracemalloc

import numpy as np

from braintumor.volume_io import read_volumes


def _nifti(shape: tuple[int, ...], dtype=np.int16) -> bytes:
    import nibabel as nib

    data = np.random.default_rng(0).integers(0, 1000, shape).astype(dtype)
    return nib.Nifti1Image(data, np.eye(4)).to_bytes()


def test_no_slice_copies_the_whole_volume():
    """np.take copied the whole (Fortran-ordered) volume to cut each slice: 256 x 256 x 176 took 80 s, not 2, and
    each slice cost a second copy of the volume in memory."""
    data = _nifti((96, 96, 40))
    read_volumes(data, name="warm.nii")  # imports and caches out of the measure
    tracemalloc.start()
    try:
        (volume,) = read_volumes(data, name="x.nii")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert len(volume.slices) == 40
    assert peak < 2 * 96 * 96 * 40 * 4  # the float32 volume once, and its int16 data while it is converted
