"""NIfTI-1/2 volumes (.nii, .nii.gz) -> axial uint8 slices (see :mod:`braintumor.volume_io`).

The volume is reoriented to the closest canonical (RAS+) orientation with nibabel, then cut along
its last axis (inferior to superior). Each slice is shown as radiologists (and DICOM) show an
axial image: anterior at the top, the patient's right on the viewer's left. A 4-D (or higher)
image contributes its first volume only, and says so in the volume's notes. The header's free
text fields (descrip, db_name, ...) never reach the results.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import zlib
from collections.abc import Iterator

import numpy as np

from .image_io import MAX_PIXELS, ImageError
from .volume_io import (
    MAX_INPUT_PIXELS,
    MAX_VOLUME_BYTES,
    MAX_VOXELS,
    BudgetError,
    Slice,
    Volume,
    robust_uint8,
    square_pixels,
)

_NIFTI2_MAGIC = b"n+2\x00\r\n\x1a\n"


class _WhileReading(logging.Filter):
    """Drops nibabel's header-check messages ('pixdim[1,2,3] should be positive; ...') logged while this thread reads
    a NIfTI file: the reader says what matters in its notes and errors. nibabel's own LoggingOutputSuppressor removes
    its handler for good on first use, after which those messages reached stderr through logging's last resort."""

    local = threading.local()

    def filter(self, record: logging.LogRecord) -> bool:
        return not getattr(self.local, "reading", False)


logging.getLogger("nibabel.global").addFilter(_WhileReading())


@contextlib.contextmanager
def _quiet_nibabel() -> Iterator[None]:
    _WhileReading.local.reading = True
    try:
        yield
    finally:
        _WhileReading.local.reading = False


def _header_kind(head: bytes) -> str | None:
    if len(head) >= 348 and head[344:348] == b"n+1\x00":
        return "nifti1"
    if len(head) >= 12 and head[4:12] == _NIFTI2_MAGIC:
        return "nifti2"
    return None


def is_nifti_bytes(data: bytes) -> bool:
    """Single-file NIfTI-1 or NIfTI-2 content, plain or gzip-compressed (magic numbers, not names)."""
    if data[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[:4096], 540)
        except zlib.error:
            return False
        return _header_kind(head) is not None
    return _header_kind(data[:540]) is not None


def gunzip_bounded(data: bytes, limit: int = MAX_VOLUME_BYTES) -> bytes:
    """Decompress gzip data in memory, refusing more than ``limit`` bytes (a gzip bomb)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflater.decompress(data, limit + 1)
    except zlib.error:
        raise ImageError("gzip data is corrupt or truncated") from None
    if len(out) > limit or inflater.unconsumed_tail:
        raise ImageError(f"NIfTI volume expands to more than {limit} bytes; refused")
    if not inflater.eof:
        raise ImageError("gzip data is truncated")
    return out


def read_nifti(data: bytes, display: str, max_slices: int, max_pixels: int = MAX_INPUT_PIXELS) -> Volume:
    """Raw or gzip-compressed NIfTI bytes -> a Volume of axial slices. Raises ImageError."""
    import nibabel as nib  # here, not at the top: sniffing every upload must not import nibabel + scipy

    raw = gunzip_bounded(data) if data[:2] == b"\x1f\x8b" else data
    kind = _header_kind(raw)
    if kind is None:
        raise ImageError("not a NIfTI-1/NIfTI-2 single file (.nii): magic number missing")
    cls = nib.Nifti1Image if kind == "nifti1" else nib.Nifti2Image
    try:
        with _quiet_nibabel():
            img = cls.from_bytes(raw)
    except Exception as exc:  # nibabel raises several types for bad headers
        raise ImageError(f"NIfTI header is invalid ({exc.__class__.__name__})") from None
    shape = tuple(int(s) for s in img.shape)
    dtype = img.get_data_dtype()
    if len(shape) < 2 or min(shape) < 1:
        raise ImageError(f"NIfTI image has shape {shape}: not an image")
    if dtype.kind not in "uif" or dtype.names:
        raise ImageError(f"NIfTI data type {dtype} is not supported (expected integer or real voxels)")
    spatial = shape[:3] if len(shape) >= 3 else (*shape, 1)
    extra = int(np.prod(shape[3:])) if len(shape) > 3 else 1
    if spatial[0] * spatial[1] > MAX_PIXELS or spatial[1] * spatial[2] > MAX_PIXELS \
            or spatial[0] * spatial[2] > MAX_PIXELS:
        raise ImageError(f"NIfTI slices would exceed {MAX_PIXELS:,} pixels (shape {shape})")
    limit = min(MAX_VOXELS, max_pixels)  # max_pixels: what is left of a web request's budget
    if int(np.prod(spatial)) > limit:
        error = BudgetError if max_pixels < MAX_VOXELS else ImageError
        raise error(f"NIfTI volume has {int(np.prod(spatial)):,} voxels; the limit is {limit:,}")
    notes = []
    affine = img.affine
    if int(img.header["qform_code"]) == 0 and int(img.header["sform_code"]) == 0:
        notes.append("the header names no orientation (qform and sform codes 0): the voxels are read as stored in "
                     "radiological order (LAS), so left and right may be swapped")
    tilt = _obliquity_degrees(affine)
    if tilt > 1.0:
        notes.append(f"an oblique volume ({tilt:.0f} degrees off the axes): slices follow the nearest axes, not "
                     "resampled")
    if not np.all(np.isfinite(affine)) or abs(float(np.linalg.det(affine[:3, :3]))) < 1e-12:
        # no orientation to reorient by (it was "voxel data is corrupt"): the voxels as stored, said so
        notes.append("the header's orientation is unusable (singular or not finite): slices are the third axis as "
                     "stored")
        pixdim = [float(z) if np.isfinite(z) and z > 0 else 1.0 for z in img.header.get_zooms()[:3]]
        affine = np.diag([*pixdim, *([1.0] * (3 - len(pixdim))), 1.0])
    try:
        with _quiet_nibabel(), np.errstate(all="ignore"):
            index = (slice(None),) * min(len(shape), 3) + (0,) * max(0, len(shape) - 3)
            first = np.asarray(img.dataobj[index], dtype=np.float32)
            if first.ndim == 2:
                first = first[:, :, None]
            volume = nib.as_closest_canonical(nib.Nifti1Image(first, affine))
            voxels = np.asarray(volume.dataobj, dtype=np.float32)
            zooms = [float(z) for z in volume.header.get_zooms()[:3]]
    except MemoryError:
        raise ImageError("NIfTI volume is too large to decode") from None
    except Exception as exc:
        raise ImageError(f"NIfTI voxel data is corrupt or truncated ({exc.__class__.__name__})") from None
    if extra > 1:
        notes.append(f"{len(shape)}-D image: the first of {extra} volumes was used")
    axis = _cut_axis(voxels.shape)
    if axis != 2:
        notes.append(f"{voxels.shape[axis]} {PLANES[axis]} slice(s), too thin a slab to cut axially: classified in "
                     f"their own plane (the model learned mostly axial slices)")
    if voxels.shape[axis] > max_slices:
        raise BudgetError(f"NIfTI volume has {voxels.shape[axis]} {PLANES[axis]} slices; the limit is {max_slices}")
    source = "".join(nib.aff2axcodes(affine))
    meta = {"shape": list(shape), "voxel_mm": [round(z, 4) for z in zooms], "orientation": "RAS",
            "source_orientation": source, "volumes": extra}
    if axis != 2:
        meta["plane"] = PLANES[axis]
    rows_mm, cols_mm = {2: (zooms[1], zooms[0]), 1: (zooms[2], zooms[0]), 0: (zooms[2], zooms[1])}[axis]
    slices = []
    planes = np.moveaxis(voxels, axis, 0)  # a view: np.take copied the whole volume for each slice (80 s, not 2)
    for k in range(voxels.shape[axis]):
        # each plane transposed and flipped both ways: rows anterior->posterior (axial) or superior->inferior,
        # columns the patient's right (axial, coronal) or front (sagittal) on the viewer's left, as viewers show them
        plane = planes[k].T[::-1, ::-1]
        gray = square_pixels(robust_uint8(plane), rows_mm, cols_mm)
        where = float((volume.affine @ np.array([k if a == axis else 0.0 for a in range(3)] + [1.0]))[axis])
        slices.append(Slice(np.ascontiguousarray(gray), {"nifti": {**meta, f"{'xyz'[axis]}_mm": round(where, 3)}}))
    return Volume(display, "nifti", slices, None, tuple(notes))


def _obliquity_degrees(affine: np.ndarray) -> float:
    """The largest angle between a voxel axis and its nearest world axis (0 for a volume on the axes)."""
    axes = np.asarray(affine, dtype=np.float64)[:3, :3]
    norms = np.linalg.norm(axes, axis=0)
    if not np.all(np.isfinite(axes)) or np.any(norms == 0):
        return 0.0  # an unusable affine has its own note
    cosines = np.clip(np.max(np.abs(axes / norms), axis=0), 0.0, 1.0)
    return float(np.degrees(np.arccos(cosines.min())))


#: The plane of the slices cut along each RAS axis.
PLANES = ("sagittal", "coronal", "axial")
#: An axial cut whose slices are narrower than this (pixels) is a thin non-axial slab, cut in its own plane instead.
MIN_PLANE_SIDE = 32


def _cut_axis(shape: tuple[int, ...]) -> int:
    """2 (axial, inferior to superior) unless the axial slices would be strips (a single coronal image stored as
    (160, 1, 200) gave 200 slices of 1 x 160 pixels): then the thin axis, the slab's own plane."""
    nx, ny, nz = shape[:3]
    thin = 0 if nx <= ny else 1
    if min(nx, ny) >= MIN_PLANE_SIDE or min(shape[1 - thin], nz) < MIN_PLANE_SIDE:  # no better plane: as before
        return 2
    return thin
