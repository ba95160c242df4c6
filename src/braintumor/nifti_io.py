"""NIfTI-1/2 volumes (.nii, .nii.gz) -> axial uint8 slices (see :mod:`braintumor.volume_io`).

The volume is reoriented to the closest canonical (RAS+) orientation with nibabel, then cut along
its last axis (inferior to superior). Each slice is shown as radiologists (and DICOM) show an
axial image: anterior at the top, the patient's right on the viewer's left. A 2-D coronal or sagittal
acquisition (thick slices) or a slab too thin to cut axially is cut in its own plane instead
(:func:`~braintumor.nifti_planes.cut_axis`), shown upright as viewers show that plane. A 4-D (or higher)
image contributes its first volume only, and says so in the volume's notes. The header's free
text fields (descrip, db_name, ...) never reach the results.
"""

from __future__ import annotations

import io
import math
from typing import cast

import numpy as np

from .compressed_files import compressed_text
from .documents import document_text
from .image_io import MAX_PIXELS, ImageError
from .nifti_header import (
    PAIR_IMAGE_ENDINGS,
    extension_note,
    gunzip_bounded,
    header_error,
    header_kind,
    intercept_note,
    is_nifti_bytes,
    pair_error,
    pair_image_error,
    quiet_nibabel,
    read_header,
)
from .nifti_orientation import orientation
from .nifti_planes import PLANES, cut_axis
from .nifti_values import ct_values, label_values
from .slice_pixels import (
    MAX_VOXEL_ASPECT,
    budget_pixels,
    falling_uint8,
    far_from_square,
    robust_uint8,
    square_pixels,
    squared_shape,
)
from .volume_io import MAX_INPUT_PIXELS, MAX_VOLUME_BYTES, MAX_VOXELS, budget_error
from .volume_objects import MIN_SCAN_SIDE, Slice, Volume
from .wording import EXPORT_AGAIN, counted, no_finite_values_text, size_text, too_small_text


def read_nifti(data: bytes, display: str, max_slices: int, max_pixels: int = MAX_INPUT_PIXELS) -> Volume:
    """Raw or gzip-compressed NIfTI bytes -> a Volume of axial slices (or of its own plane's:
    :func:`~braintumor.nifti_planes.cut_axis`). Raises ImageError.

    The header is read and checked first; then only the bytes up to the end of the first volume are inflated."""
    with np.errstate(all="ignore"):  # NaN voxels (signalling ones warned when cast) and overflowing header values
        return cast(Volume, _read_nifti(data, display, max_slices, max_pixels))  # are each handled, never printed


def nifti_takes(data: bytes, display: str, max_slices: int, max_pixels: int, values: bool = False) -> tuple[int, int]:
    """The slices and pixels :func:`read_nifti` would take of ``data``, refused as it refuses them, no slice cut: on
    the header alone, or (``values``) once the voxels are inflated and checked, as read_nifti fails or reads them. A
    zip's members are checked so before any is decoded (two decoded in full, 3.6 s, before the third was refused)."""
    with np.errstate(all="ignore"):
        return cast(tuple[int, int], _read_nifti(data, display, max_slices, max_pixels, "values" if values else "head"))


def _read_nifti(data: bytes, display: str, max_slices: int, max_pixels: int,
                upto: str = "") -> Volume | tuple[int, int]:
    import nibabel as nib  # here, not at the top: sniffing every upload must not import nibabel + scipy

    gz = data[:2] == b"\x1f\x8b"
    head = gunzip_bounded(data, 544).read() if gz else data[:544]
    kind = header_kind(head)
    if kind is None:
        if document := document_text(data) or compressed_text(data, named=True):  # a file's or a zip's page.nii.gz
            raise ImageError(document)  # a sign-in page a browser saved, gzipped or not, or a gzipped DICOM file
        if gz and is_nifti_bytes(head):  # a .nii.gz in a gzip: saved as a server gzip-encoded it (curl -o, no
            raise ImageError(GZIPPED_TWICE)  # --compressed); it was 'magic number missing'
        if display.lower().endswith(PAIR_IMAGE_ENDINGS):  # sent here by its name (scan_sniff.sniff)
            raise pair_image_error()
        raise ImageError("not a NIfTI-1/NIfTI-2 single file (.nii): magic number missing")
    if kind == "pair":
        raise pair_error(head)
    cls = nib.Nifti1Image if kind == "nifti1" else nib.Nifti2Image
    header, offset, dtype = read_header(cls, head)
    shape = tuple(int(s) for s in header.get_data_shape())
    if len(shape) < 2 or min(shape) < 1:
        raise ImageError(f"NIfTI image has shape {shape}: not an image")
    spatial = shape[:3] if len(shape) >= 3 else (*shape, 1)
    extra = math.prod(shape[3:])
    if spatial[0] * spatial[1] > MAX_PIXELS or spatial[1] * spatial[2] > MAX_PIXELS \
            or spatial[0] * spatial[2] > MAX_PIXELS:
        raise ImageError(f"NIfTI slices would exceed {MAX_PIXELS:,} pixels (shape {shape})")
    if (voxels := math.prod(spatial)) > MAX_VOXELS:  # past what any volume may hold: said so whatever was left
        raise ImageError(f"NIfTI volume has {voxels:,} voxels; the limit is {MAX_VOXELS:,}")
    affine, notes = orientation(header, head)
    if note := intercept_note(header):
        notes.append(note)
    ornt = nib.orientations.io_orientation(affine)  # file axis -> (RAS axis, direction), as reorienting will do
    sizes = np.sqrt(np.sum(np.square(np.asarray(affine, dtype=np.float64)[:3, :3]), axis=0))  # mm, as reoriented
    canonical, canonical_mm = [0, 0, 0], [0.0, 0.0, 0.0]
    for f, (ras, _) in enumerate(ornt):
        canonical[int(ras)], canonical_mm[int(ras)] = spatial[f], float(sizes[f])
    axis, plane_note = cut_axis(tuple(canonical), tuple(canonical_mm))
    # the file's own axis along which the slices are cut, and whether its index runs the other way (a viewer's voxel
    # coordinates number slices by it: superior to inferior in a file stored that way)
    stored, reversed_ = next((f, d < 0) for f, (ras, d) in enumerate(ornt) if int(ras) == axis)
    # each slice's pixels as they are shown (rows, columns): the other two RAS axes, the higher one down the rows
    (cols_axis, rows_axis), ignored = [a for a in range(3) if a != axis], ""
    rows_mm, cols_mm = canonical_mm[rows_axis], canonical_mm[cols_axis]
    if all(0 < mm < math.inf for mm in (rows_mm, cols_mm)) and \
            (doubt := far_from_square(rows_mm, cols_mm, MAX_VOXEL_ASPECT)):  # a strip once resampled: 1e5 x 0.001 mm
        ignored = (f"the header's voxel sizes make each pixel {cols_mm:g} mm wide and {rows_mm:g} mm high, {doubt}: "
                "ignored, pixels taken as square")
        rows_mm = cols_mm = 1.0
    # the budget counts the pixels made, square (up to twice the voxels), as a zip or web request subtracts them after
    made = canonical[axis] * budget_pixels(canonical[rows_axis], canonical[cols_axis], rows_mm, cols_mm)
    if made > max_pixels:  # max_pixels: what is left of a web request's budget
        squared = f", {made:,} pixels once resampled to square pixels" if made != voxels else ""
        raise budget_error(f"NIfTI volume has {voxels:,} voxels{squared}", made, max_pixels, "pixels")
    if canonical[axis] > max_slices:  # on the header, before any voxel is inflated or decoded
        raise budget_error(f"NIfTI volume has {canonical[axis]} {PLANES[axis]} slices", canonical[axis], max_slices)
    needed = offset + math.prod(spatial) * dtype.itemsize  # the header and the first volume: all that is read
    if needed > MAX_VOLUME_BYTES:
        raise ImageError(f"NIfTI header places its first volume's voxels up to byte {needed:,}; the limit is "
                         f"{MAX_VOLUME_BYTES:,}")
    if upto == "head":
        return canonical[axis], made
    stream = gunzip_bounded(data, needed) if gz else io.BytesIO(data)
    held = stream.seek(0, io.SEEK_END)
    stream.seek(0)
    if held < needed:
        raise ImageError(f"NIfTI data is truncated: its header places the first volume's voxels up to byte "
                         f"{needed:,}, and the {'inflated ' if gz else ''}file ends at byte {held:,}")
    size = cls.header_class.template_dtype.itemsize
    try:
        with quiet_nibabel():  # the header again (its scl_inter as intercept_note set it), checked as nibabel loads
            cls.from_stream(io.BytesIO(header.binaryblock + bytes(4)))  # it; its extensions are not parsed, only
            # walked for the notes (extension_note)
    except Exception as exc:
        raise header_error(exc) from None
    if note := extension_note(stream.getbuffer() if gz else data, size, offset, header.endianness):
        notes.append(note)
    try:
        with quiet_nibabel():
            # the first volume's voxels as stored, scl_slope and scl_inter left out but for the slope's sign: each
            # slice is shown stretched by its own range, which they do not change. Applied, then cast to float32, a
            # slope of 1e38 made the voxels infinite (drawn darkest) and an intercept of -1e38 made every slice blank
            buffer = stream.getbuffer() if gz else data  # (a BytesIO of bytes copies them to lend its buffer)
            raw = np.frombuffer(buffer, dtype, math.prod(spatial), offset).reshape(spatial, order="F")
            scaling, intent = header.get_slope_inter(), int(header["intent_code"])
            if problem := ct_values(raw, *scaling) or label_values(raw, *scaling, intent):
                raise ImageError(problem)
            if dtype.kind == "f" and not np.isfinite(raw).any():  # each slice was 'blank or nearly uniform image'
                raise ImageError(no_finite_values_text("the NIfTI volume"))
            # float64 voxels stay float64 (each slice is stretched in float64 anyway): cast to float32, 1e300 became
            # inf and 1e-300 zero, and every slice of such a volume came out blank
            work = np.float64 if dtype.kind == "f" and dtype.itemsize == 8 else np.float32
            slope, _ = header.get_slope_inter()  # None: no scaling (a slope of 0 or not finite), as nibabel reads
            negated = slope is not None and slope < 0
            # reoriented as stored (a view of the buffer, read-only), each plane cast in the slice loop: the whole
            # volume cast to float32 first doubled an int16 one (512 x 512 x 256 .nii.gz: +453 MB RSS, now +270)
            volume = nib.as_closest_canonical(nib.Nifti1Image(raw, affine, dtype=dtype))  # (int64 needs it said)
            voxels = np.asanyarray(volume.dataobj)
            zooms = [float(z) for z in volume.header.get_zooms()[:3]]
    except MemoryError:
        raise ImageError("NIfTI volume is too large to decode") from None
    except ImageError:
        raise
    except Exception:
        raise ImageError(f"NIfTI voxel data could not be read: {EXPORT_AGAIN}") from None  # (was its class name)
    shown = squared_shape(canonical[rows_axis], canonical[cols_axis], rows_mm, cols_mm)  # each slice's, as read
    if min(shown) < MIN_SCAN_SIDE:  # once, no slice cut (a 1 x 1 x 500 volume was 500 slices, each refused for it);
        raise ImageError(f"NIfTI volume of shape {shape} cuts into {counted(canonical[axis], PLANES[axis] + ' slice')}"
                         f": {too_small_text(*shown[::-1], MIN_SCAN_SIDE, 'scan slice')}")  # a label map's told so
    if upto:  # "values": nothing after this refuses the volume
        return canonical[axis], made
    volumes = extra  # as many as the header declares, unless the file is short of them
    if extra > 1:
        note, volumes = _volumes_note(len(shape), extra, offset, needed - offset, len(data), gz)
        notes.append(note)
    if plane_note:
        notes.append(plane_note)
    source = "".join(nib.aff2axcodes(affine))
    meta = {"shape": list(shape), "voxel_mm": [round(z, 4) for z in zooms], "orientation": "RAS",
            "source_orientation": source, "volumes": volumes}
    if axis != 2:
        meta["plane"] = PLANES[axis]
    if ignored:
        notes.append(ignored)
    slices = []
    planes = np.moveaxis(voxels, axis, 0)  # a view: np.take copied the whole volume for each slice (80 s, not 2)
    for k in range(voxels.shape[axis]):
        # each plane transposed and flipped both ways: rows anterior->posterior (axial) or superior->inferior,
        # columns the patient's right (axial, coronal) or front (sagittal) on the viewer's left, as viewers show them
        plane = planes[k].T[::-1, ::-1].astype(work)  # negated after the cast: int16's -32768 has no negative
        plane = np.negative(plane, out=plane) if negated else plane
        # under a negative scl_slope ``plane`` holds the stored values' negatives: padding is found in the values
        stretched = falling_uint8(plane, np.negative(plane)) if negated else robust_uint8(plane)  # as stored
        gray = square_pixels(stretched, rows_mm, cols_mm)
        # a slice of no finite value among finite ones: kept (the slice numbers and z_mm after it hold), refused as such
        unfinite = no_finite_values_text("slice") if dtype.kind == "f" and not np.isfinite(plane).any() else None
        where = float((volume.affine @ np.array([k if a == axis else 0.0 for a in range(3)] + [1.0]))[axis])
        in_file = {"file_axis": "ijk"[stored], "file_index": len(planes) - 1 - k if reversed_ else k}
        slices.append(Slice(np.ascontiguousarray(gray),
                            {"nifti": {**meta, f"{'xyz'[axis]}_mm": round(where, 3), **in_file}}, error=unfinite,
                            stored=plane.size))
    (h, w), (new_h, new_w) = planes.shape[2:0:-1], slices[0].pixels.shape
    if (new_h, new_w) != (h, w) and max(rows_mm, cols_mm) > FAR_FROM_SQUARE * min(rows_mm, cols_mm):
        notes.append(f"the header's voxel sizes make each pixel {cols_mm:g} mm wide and {rows_mm:g} mm high: "
                     f"resampled to square pixels, the {size_text(w, h)} slices are {size_text(new_w, new_h)}")
    return Volume(display, "nifti", slices, None, tuple(notes))


#: What a NIfTI volume gzip-compressed twice is told.
GZIPPED_TWICE: str = ("NIfTI volume gzip-compressed twice: this gzip holds a .nii.gz (a download saved as the server "
                      "sent it, gzip-encoded, as curl -o does without --compressed): decompress it once (gunzip) and "
                      "send what it holds")


#: Most times deflate expands its input (258 bytes from 2 bits): no gzip file inflates to more than its size times this.
DEFLATE_MOST_EXPANSION = 1032


def _volumes_note(ndim: int, extra: int, offset: int, volume_bytes: int, size: int, gz: bool) -> tuple[str, int]:
    """The note of a 4-D (or higher) image, of which the first volume is read, and the volumes its slices' metadata
    says it holds: a file short of the volumes its header declares (dim[4] 32767 over a file of one) was said to hold
    'the first of 32767 volumes', and its metadata 32767. nibabel reads such a file's first volume too, and refuses the
    rest ('could the file be damaged?'). Whether a .nii.gz holds them all is known only by inflating them (not done:
    the first volume is all that is read), unless its size cannot hold them: then it holds the one read, as known."""
    end = offset + extra * volume_bytes
    said = f"{ndim}-D image: the first volume was used; the header declares {extra:,}"
    if not gz and size < end:
        held = (size - offset) // volume_bytes
        return (f"{said}, and the file holds {counted(held, 'whole volume')}, ending at byte {size:,} where {extra:,} "
                f"would end at byte {end:,} (truncated, or the header's dimensions are wrong)", held)
    if gz and size * DEFLATE_MOST_EXPANSION < end:
        return (f"{said}, more than the file's {size:,} compressed bytes can hold (they inflate to "
                f"{size * DEFLATE_MOST_EXPANSION:,} bytes at most, and {extra:,} volumes end at byte {end:,}: "
                "truncated, or the header's dimensions are wrong)", 1)
    return f"{ndim}-D image: the first of {extra} volumes was used", extra


#: Pixels further from square than this (long side / short side) are said when the slices are resampled: they come out
#: as strips (a coronal stack too thin in z to cut in its own plane), which may be refused as unlike MRI. (Beyond
#: :data:`braintumor.slice_pixels.MAX_VOXEL_ASPECT`, as an srow of 1e38, the voxel sizes are ignored, and said.)
FAR_FROM_SQUARE: float = 3.0
