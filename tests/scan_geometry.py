"""Scans built from upright 2-D slices by where each voxel lies in the patient, from first principles (for
tests/test_scans_upright.py): never by copying how the readers flip and transpose.

The anatomy: slices as radiologists view them, stacked (slice s, row r, column c), placed in the patient's RAS+ world
(mm: +x to the patient's right, +y anterior, +z superior; NIfTI's world. DICOM's is LPS+: x and y point the other
way). Each plane's conventional view fixes where its rows and columns point:

- axial: rows run anterior to posterior (-y), columns the patient's right to left (-x: right on the viewer's left);
  slices inferior to superior (+z);
- coronal: rows superior to inferior (-z), columns right to left (-x); slices posterior to anterior (+y);
- sagittal: rows superior to inferior (-z), columns anterior to posterior (-y: the face on the viewer's left);
  slices the patient's left to right (+x).

A file is a grid of samples of that anatomy: NIfTI voxel (i, j, k) lies at ``affine @ (i, j, k, 1)`` (RAS mm), DICOM
pixel (row i, column j) of a slice at ``IPP + j * spacing * row_direction + i * spacing * column_direction`` (LPS mm,
PS3.3 C.7.6.2.1.1). Each sample takes the anatomy's value at its position, found by inverting the placement above;
a grid that does not land on the anatomy's pixels is a bug of this module, and is refused.
"""

from __future__ import annotations

import numpy as np

#: Unit steps in RAS+ of each plane's (column, row, slice) index, as listed in the module docstring.
PLANE_AXES: dict[str, tuple[tuple[int, int, int], ...]] = {
    "axial": ((-1, 0, 0), (0, -1, 0), (0, 0, 1)),
    "coronal": ((-1, 0, 0), (0, 0, -1), (0, 1, 0)),
    "sagittal": ((0, -1, 0), (0, 0, -1), (1, 0, 0)),
}
#: RAS+ unit vector of each axis code (where a file axis points as its index grows).
CODE = {"R": (1, 0, 0), "L": (-1, 0, 0), "A": (0, 1, 0), "P": (0, -1, 0), "S": (0, 0, 1), "I": (0, 0, -1)}
#: DICOM's LPS+ and NIfTI's RAS+ differ by the sign of x and y.
LPS_RAS = np.diag([-1.0, -1.0, 1.0])


def tilt_about_x(degrees: float) -> np.ndarray:
    """The rotation of an AC-PC tilted acquisition (its slices turned about the left-right axis)."""
    t = np.radians(degrees)
    return np.array([[1, 0, 0], [0, np.cos(t), -np.sin(t)], [0, np.sin(t), np.cos(t)]])


class Anatomy:
    """Upright slices of one plane placed in the world: ``pixel_mm`` apart in-plane, ``slice_mm`` apart, the whole
    turned by ``rotation`` (a tilted acquisition: its slices are still its own upright images)."""

    def __init__(self, stack: np.ndarray, plane: str, pixel_mm: float, slice_mm: float,
                 rotation: np.ndarray | None = None, origin: tuple[float, float, float] = (80.0, 90.0, -40.0)):
        self.stack, self.plane = stack, plane  # (slices, rows, columns)
        self.pixel_mm, self.slice_mm = pixel_mm, slice_mm
        steps = np.array(PLANE_AXES[plane], dtype=np.float64).T * [pixel_mm, pixel_mm, slice_mm]
        #: mm between samples along each RAS axis (before the rotation)
        self.spacing = np.abs(steps).sum(axis=1)
        self.rotation = np.eye(3) if rotation is None else rotation
        self.basis = self.rotation @ steps  # RAS mm per step of (column, row, slice)
        self.origin = np.array(origin)  # RAS mm of slice 0, row 0, column 0

    def sample(self, steps: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """A grid whose axes step by the columns of ``steps`` (RAS mm, 3 x 3) over the whole anatomy: its values and
        the RAS position of its first sample."""
        index = np.linalg.solve(self.basis, steps)  # anatomy (column, row, slice) steps per grid step
        whole = np.rint(index)
        if not np.allclose(index, whole, atol=1e-6) or sorted(np.abs(whole).sum(axis=0)) != [1, 1, 1] \
                or sorted(np.abs(whole).sum(axis=1)) != [1, 1, 1]:
            raise ValueError(f"grid steps {steps.tolist()} do not land on the anatomy's pixels")
        sizes = np.array(self.stack.shape[::-1])  # columns, rows, slices
        shape = tuple(int(sizes[int(np.argmax(np.abs(whole[:, g])))]) for g in range(3))
        first = np.array([0 if whole[a].sum() > 0 else sizes[a] - 1 for a in range(3)])
        grid = np.indices(shape).reshape(3, -1)
        where = self.origin + self.basis @ first  # the first sample's position ...
        at = self.origin[:, None] + self.basis @ first[:, None] + steps @ grid  # ... and every sample's
        c, r, s = np.rint(np.linalg.solve(self.basis, at - self.origin[:, None])).astype(int)  # back to pixels
        return self.stack[s, r, c].reshape(shape), where


def nifti_file(anatomy: Anatomy, codes: str, frames: int = 1, version: int = 1, gz: bool = True,
               forms: tuple[int, int] = (1, 1)) -> bytes:
    """The anatomy as a NIfTI file whose i, j, k axes point along ``codes`` ("LAS": i to the patient's left, ...),
    stepping by the anatomy's spacing along each, turned by its rotation. ``frames`` > 1: a 4-D file (the later
    volumes inverted, to show only the first is read). ``forms``: (qform_code, sform_code); (0, 0) writes no
    orientation at all (the voxels alone, as ``nib.Nifti1Image(data, None)`` writes them)."""
    import gzip

    import nibabel as nib

    units = [np.array(CODE[c], dtype=np.float64) for c in codes]
    steps = np.stack([anatomy.rotation @ u * anatomy.spacing[int(np.argmax(np.abs(u)))] for u in units], axis=1)
    data, first = anatomy.sample(steps)
    affine = np.eye(4)
    affine[:3, :3], affine[:3, 3] = steps, first
    if frames > 1:
        data = np.stack([data] + [data.max() - data] * (frames - 1), axis=-1)
    cls = nib.Nifti1Image if version == 1 else nib.Nifti2Image
    img = cls(data.astype(np.int16), None if forms == (0, 0) else affine)
    if forms != (0, 0):
        img.set_qform(affine if forms[0] else None, code=forms[0] or 0)
        img.set_sform(affine if forms[1] else None, code=forms[1] or 0)
    raw = img.to_bytes()
    return gzip.compress(raw, mtime=0) if gz else raw


def dicom_series(anatomy: Anatomy, row: tuple[float, ...], column: tuple[float, ...],
                 **attrs) -> list[tuple[str, bytes]]:
    """The anatomy as one DICOM file per slice with this Image Orientation (Patient): ``row`` and ``column`` in
    DICOM's LPS+ axes of the unrotated anatomy (the anatomy's rotation is applied to them), stored in a scrambled
    order. ``attrs``: more header values (Patient Position)."""
    from dicom_factory import make_dataset, to_bytes
    from pydicom.uid import generate_uid

    pixel_mm, slice_mm = anatomy.pixel_mm, anatomy.slice_mm
    row_ras = anatomy.rotation @ LPS_RAS @ np.array(row, float)
    col_ras = anatomy.rotation @ LPS_RAS @ np.array(column, float)
    normal = anatomy.basis[:, 2]  # from one slice to the next, as the anatomy's
    data, first = anatomy.sample(np.stack([col_ras * pixel_mm, row_ras * pixel_mm, normal], axis=1))
    uid, files = generate_uid(), []
    for k in range(data.shape[2]):
        position = LPS_RAS @ (first + normal * k)
        ds = make_dataset(np.ascontiguousarray(data[:, :, k]).astype(np.uint16), series_uid=uid,
                          instance=data.shape[2] - k, **attrs)
        ds.ImageOrientationPatient = [round(float(v), 6) for v in (*LPS_RAS @ row_ras, *LPS_RAS @ col_ras)]
        ds.ImagePositionPatient = [round(float(v), 4) for v in position]
        ds.PixelSpacing, ds.SliceThickness = [pixel_mm, pixel_mm], slice_mm
        files.append((f"IM{k:04d}", to_bytes(ds)))
    return files[1::2] + files[0::2]
