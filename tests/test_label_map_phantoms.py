"""The label-map refusal (:mod:`braintumor.nifti_values`) on volumes shaped as FreeSurfer's own, made here (nothing is
downloaded): a conformed 8-bit T1 is an image, though its white matter is one value (110) over large regions; an aseg
and an aparc+aseg are maps. Its other tests' maps were a few rings copied slice to slice."""

from __future__ import annotations

import re

import numpy as np
import pytest

from braintumor.image_io import ImageError
from braintumor.volume_io import read_volumes

SIDE = 96  # FreeSurfer conforms to 256^3 at 1 mm: a smaller head, its structures as thick, for speed
RIBBON = 3 / 36  # the cortex: the brain's outer 3 voxels (of a radius of about 36)
#: aseg's left deep labels -> the right's; its midline ones; the rest of 41-60 (FreeSurfer's numbers, as listed).
LEFT = {4: 43, 5: 44, 7: 46, 8: 47, 10: 49, 11: 50, 12: 51, 13: 52, 17: 53, 18: 54, 26: 58, 28: 60}
MIDLINE = (14, 15, 16, 24, 77, 85, 251, 252, 253, 254, 255)
OTHER_RIGHT = (45, 48, 55, 56, 57, 59)


def _head() -> tuple[np.ndarray, ...]:
    """x, y, z from the volume's centre, and r: under 1 inside an ellipsoidal brain of radii 38, 44 and 34 voxels."""
    c = (SIDE - 1) / 2
    z, y, x = np.meshgrid(*(np.arange(SIDE) - c,) * 3, indexing="ij")
    return x, y, z, np.sqrt((x / 38) ** 2 + (y / 44) ** 2 + (z / 34) ** 2)


def _conformed_t1(skull: bool) -> np.ndarray:
    """FreeSurfer's T1.mgz (``skull``) or brain.mgz: uint8, background 0, white matter normalised to exactly 110,
    cortex and deep gray matter 75 and 85 with noise, CSF and ventricles dark, skull darker, scalp bright."""
    x, y, z, r = _head()
    noise = np.random.default_rng(0).normal(0, 1, r.shape)
    vol = np.zeros(r.shape)
    tissues = [((r >= 1.0) & (r < 1.08), 30, 8), ((r >= 1 - RIBBON) & (r < 1), 75, 8), (r < 1 - RIBBON, 110, 0),
               (np.hypot((np.abs(x) - 7) / 4, np.hypot(y / 16, (z - 4) / 6)) < 1, 25, 8),  # lateral ventricles
               (np.hypot((np.abs(x) - 14) / 6, np.hypot((y + 2) / 8, z / 6)) < 1, 85, 6)]  # thalamus, basal ganglia
    if skull:
        tissues = [((r >= 1.16) & (r < 1.26), 70, 15), ((r >= 1.08) & (r < 1.16), 15, 5), *tissues]
    for where, level, spread in tissues:
        vol[where] = level + spread * noise[where]
    return np.clip(np.round(vol), 0, 255).astype(np.uint8)


def _aseg(parcels: bool) -> np.ndarray:
    """FreeSurfer's aseg (int32): cerebral white matter 2 and 41, cortex 3 and 42, and blobs of the deep labels
    (FreeSurfer's numbers, each left one mirrored on the right) up to 9 voxels across; ``parcels``: aparc+aseg, its
    cortex cut into 35 parcels a hemisphere by direction from the centre, 1001-1035 and 2001-2035."""
    x, y, z, r = _head()
    right = x > 0
    out = np.where(r < 1, np.where(right, 41, 2), 0).astype(np.int32)
    cortex = (r >= 1 - RIBBON) & (r < 1)
    if parcels:
        across = ((np.arctan2(y, np.abs(x)) / np.pi + 0.5) * 7).astype(int).clip(0, 6)
        up = ((np.arctan2(z, np.hypot(x, y)) / np.pi + 0.5) * 5).astype(int).clip(0, 4)
        out[cortex] = np.where(right, 2001, 1001)[cortex] + (across * 5 + up)[cortex]
    else:
        out[cortex] = np.where(right, 42, 3)[cortex]
    rng = np.random.default_rng(1)
    seeds = [(rng.uniform([-20, -22, -16], [-4, 22, 16]), left, right_) for left, right_ in LEFT.items()]
    seeds = [(p, lab) for p, left, right_ in seeds for p, lab in ((p, left), (p * [-1, 1, 1], right_))]
    seeds += [(rng.uniform([-2, -22, -16], [2, 22, 16]), lab) for lab in MIDLINE]
    seeds += [(rng.uniform([4, -22, -16], [20, 22, 16]), lab) for lab in OTHER_RIGHT]
    inner = r < 0.55
    points = np.stack([x[inner], y[inner], z[inner]], axis=1)
    far = np.stack([((points - p) ** 2).sum(axis=1) for p, _ in seeds], axis=1)
    nearest = np.array([lab for _, lab in seeds])[far.argmin(axis=1)]
    out[inner] = np.where(far.min(axis=1) < 81, nearest, out[inner])
    return out


def _nifti(volume: np.ndarray) -> bytes:
    import nibabel as nib

    return nib.Nifti1Image(volume, np.eye(4)).to_bytes()


@pytest.mark.parametrize("skull", [True, False], ids=["T1.mgz", "brain.mgz"])
def test_a_conformed_t1_whose_white_matter_is_one_value_is_read_as_an_image(skull):
    """FreeSurfer's T1.mgz and brain.mgz set white matter to 110 exactly, a third to three fifths of the head's or
    the brain's voxels here: neighbouring voxels alike over large regions, as a map's are, but its other tissues'
    levels change from voxel to voxel. Read as an image, not refused as a label map."""
    volume = _conformed_t1(skull)
    inside = volume[volume > 0]
    assert len(np.unique(volume)) > 100 and 0.3 < np.mean(inside == 110) < 0.65  # what FreeSurfer's hold
    (read,) = read_volumes(_nifti(volume), name="T1.nii")
    assert len(read.slices) == SIDE


@pytest.mark.parametrize(("parcels", "dtype"), [(False, np.uint8), (False, np.int32), (True, np.int32)],
                         ids=["aseg uint8", "aseg int32", "aparc+aseg int32"])
def test_an_aseg_and_an_aparc_aseg_are_refused_as_label_maps(parcels, dtype):
    """An aseg of FreeSurfer's label numbers (2-18, 24, 26, 28, 41-60, 77, 85, 251-255) and an aparc+aseg (cortical
    parcels 1001-1035 and 2001-2035 in a ribbon 3 voxels thick) are refused by their regions of one value."""
    volume = _aseg(parcels).astype(dtype)
    labels = np.unique(volume)
    assert len(labels) > 40 and labels.max() == (2035 if parcels else 255)
    said = re.escape(f"NIfTI voxels hold {len(labels)} distinct whole numbers, 0 to {labels.max()}, in regions of "
                     "one value (") + r"\d+% of neighbouring voxels alike; an image's differ\): a label or segmentation"
    with pytest.raises(ImageError, match="^" + said):
        read_volumes(_nifti(volume), name="aseg.nii")


def _near_constant(shape: tuple[int, int, int], labels: int) -> np.ndarray:
    """A map of ``labels`` numbered blocks on 0, stored as a NIfTI file's voxels are (Fortran order)."""
    volume = np.zeros(shape, np.int16, order="F")
    for k in range(1, labels + 1):
        volume[(k * 23) % (shape[0] - 40):][:30, (k * 31) % (shape[1] - 40):][:, :30] = k
    return volume


@pytest.mark.parametrize(("shape", "labels", "said"), [
    ((128, 128, 120), 3, "NIfTI voxels hold only 4 distinct whole numbers, 0 to 3: a label"),
    ((700, 700, 4), 20, "NIfTI voxels hold 21 distinct whole numbers, 0 to 20, in regions of one value"),
])
def test_the_value_checks_hold_a_piece_of_the_volume_at_a_time(shape, labels, said):
    """The CT and label-map checks of a near-constant volume (read whole under 2 M voxels) held a full-size copy at
    their peak: its values sorted to count the distinct ones, masks of every voxel, and its sampled planes copied
    (all 4 of a 4-slice volume). Piece by piece now, the same verdicts."""
    import tracemalloc

    from braintumor.nifti_values import ct_values, label_values

    volume = _near_constant(shape, labels)
    label_values(volume[:8, :8, :1], None, None)  # numpy's first np.unique imports a module: 1.1 MB traced
    tracemalloc.start()
    try:
        assert ct_values(volume, None, None) is None
        ct_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        assert label_values(volume, None, None).startswith(said)
        label_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert max(ct_peak, label_peak) < volume.nbytes / 4, (ct_peak, label_peak)  # was 1x (CT), 1x and 2.5x


def test_a_label_intent_over_a_million_distinct_values_is_counted_in_one_pass(monkeypatch):
    """Under a label intent the distinct values are counted however many: merged into those seen at every piece of
    65536 voxels, a million distinct ones (an image's voxels under intent_code 1002) were sorted again and again, 5 to
    10 times np.unique's CPU time. Counted as work, not seconds: the values sorted, in all, stay within twice the
    voxels (each piece once, then the pieces' distinct values once). The verdict is as before (no map)."""
    from braintumor.nifti_values import label_values

    volume = np.random.default_rng(0).random((128, 128, 64)).astype(np.float32)
    sorted_values = []
    real_unique, real_union = np.unique, np.union1d

    def unique(values, *args, **kwargs):
        sorted_values.append(np.asarray(values).size)
        return real_unique(values, *args, **kwargs)

    def union1d(a, b):
        sorted_values.append(np.asarray(a).size + np.asarray(b).size)
        return real_union(a, b)

    monkeypatch.setattr(np, "unique", unique)
    monkeypatch.setattr(np, "union1d", union1d)
    assert label_values(volume, None, None, 1002) is None
    assert sum(sorted_values) <= 2 * volume.size + 8192, sum(sorted_values)  # was ~8.5x
