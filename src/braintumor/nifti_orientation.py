"""Which voxel-to-world affine a NIfTI volume's slices are cut by, from its header alone, and notes on what the
header leaves open (no orientation, an unusable one, an oblique one).

Why its own module: it is about the header's transforms only, apart from cutting and scaling slices
(:mod:`braintumor.nifti_io`).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def orientation(header: Any, head: bytes | None = None) -> tuple[np.ndarray, list[str]]:
    """The voxel-to-world affine the slices are cut by, from the header alone, and notes on what it leaves open.
    ``head``: the header's bytes as stored, whose qform or sform code that is no NIfTI code (nibabel's checks set it
    to 0) is said as stored: a sform_code of 99 was 'no orientation (qform and sform codes 0)'."""
    notes = []
    affine = header.get_best_affine()  # the sform where its code is set, as FSL, SPM and nibabel read it
    dropped = _dropped_codes(header, head)
    said = ", ".join(f"{k} {dropped[k]} (no NIfTI code)" if k in dropped else f"{k} 0" for k in _CODES)
    if int(header["qform_code"]) == 0 and int(header["sform_code"]) == 0:
        notes.append(f"the header names no orientation ({said if dropped else 'qform and sform codes 0'}): the "
                     "voxels are read as stored in radiological order (LAS), so left and right may be swapped")
    elif dropped.get("sform_code", 0) > 0:  # the qform is used: tools that take any code over 0 as set use the sform
        notes.append(f"the header's sform_code is {dropped['sform_code']}, no NIfTI code: its sform is ignored, as "
                     "nibabel ignores it, and its qform used (tools that take any code over 0 use the sform)")
    unusable = _unusable(affine)
    qform = _coded_qform(header) if int(header["sform_code"]) > 0 else None
    if unusable and qform is not None and not _unusable(qform):  # a coded sform of zeros or NaN: the slices were
        notes.append(f"the header's sform is unusable ({unusable}): its qform is used")  # as stored, mirrored
        affine, unusable = qform, None
    elif not unusable and qform is not None and not _unusable(qform) \
            and (codes := (_axcodes(affine), _axcodes(qform)))[0] != codes[1]:  # fslorient -setsform on one alone
        notes.append(f"the header's sform ({codes[0]}) and qform ({codes[1]}) disagree: the sform is used, as FSL, "
                     "SPM and nibabel use it; tools that read the qform show the slices mirrored or turned")
    if unusable:  # no orientation to reorient by (it was "voxel data is corrupt"): the voxels as stored, said so
        notes.append(f"the header's orientation is unusable ({unusable}): slices are the third axis as stored")
        # the stored voxel sizes where they are sizes (3e274 mm overflowed nibabel's orientation of this diagonal)
        pixdim = [float(z) if 1e-6 < z < 1e6 else 1.0 for z in header.get_zooms()[:3]]
        return np.diag([*pixdim, *([1.0] * (3 - len(pixdim))), 1.0]), notes
    tilt = obliquity_degrees(affine)
    if tilt > 1.0:
        notes.append(f"an oblique volume ({tilt:.0f} degrees off the axes): slices follow the nearest axes, not "
                     "resampled")
    return affine, notes


_CODES = ("qform_code", "sform_code")


def _dropped_codes(header: Any, head: bytes | None) -> dict[str, int]:
    """The codes as stored in ``head`` that nibabel's checks set to 0 in ``header``: no NIfTI code (99, -5)."""
    if head is None:
        return {}
    stored = type(header)(head[:header.template_dtype.itemsize], check=False)
    return {k: int(stored[k]) for k in _CODES if int(stored[k]) != int(header[k])}


def _coded_qform(header: Any) -> np.ndarray | None:
    """The qform where its code is set and its quaternion is one (nibabel raises on b, c, d past a unit one)."""
    try:
        return header.get_qform(coded=True)[0]  # None where its code is 0
    except Exception:
        return None


def _axcodes(affine: np.ndarray) -> str:
    from nibabel.orientations import aff2axcodes

    return "".join(aff2axcodes(affine))


def _unusable(affine: np.ndarray) -> str | None:
    """Why an affine gives no orientation to cut slices by, None when it does."""
    from nibabel.orientations import io_orientation

    if not np.all(np.isfinite(affine)) or abs(float(np.linalg.det(affine[:3, :3]))) < 1e-12:
        return "singular or not finite"
    try:
        placed = not np.isnan(io_orientation(affine)).any()
    except Exception:  # an SVD that does not converge
        placed = False
    return None if placed else "two of its axes point nearly the same way"


def obliquity_degrees(affine: np.ndarray) -> float:
    """The largest angle between a voxel axis and its nearest world axis (0 for a volume on the axes)."""
    axes = np.asarray(affine, dtype=np.float64)[:3, :3]
    norms = np.linalg.norm(axes, axis=0)
    if not np.all(np.isfinite(axes)) or np.any(norms == 0):
        return 0.0  # an unusable affine has its own note
    cosines = np.clip(np.max(np.abs(axes / norms), axis=0), 0.0, 1.0)
    return float(np.degrees(np.arccos(cosines.min())))
