"""The NIfTI-1/2 header, read and checked before any voxel is: magic numbers, bounded gzip inflation, and a
precise message for each header field a reader cannot go on with (see :mod:`braintumor.nifti_io`, which cuts slices).

Why its own module: a .nii.gz is the one input here whose size is unknown until it is inflated, so what is inflated is
decided by the header, and the header is read on its own first; and sniffing an upload uses the magic numbers without
importing nibabel.
"""

from __future__ import annotations

import contextlib
import io
import math
import struct
import zlib
from typing import Any

from .image_io import ImageError
from .quiet_libraries import quiet_libraries, quiet_loggers
from .wording import EXPORT_AGAIN

_NIFTI2_MAGIC = b"n+2\x00\r\n\x1a\n"


#: nibabel's header checks log to it ('pixdim[1,2,3] should be positive; ...'); its own LoggingOutputSuppressor removes
#: its handler for good on first use, after which those messages reached stderr through logging's last resort.
quiet_loggers("nibabel.global")


def quiet_nibabel() -> contextlib.AbstractContextManager[None]:
    """nibabel's warnings and header-check messages dropped while this thread is inside (see
    :mod:`braintumor.quiet_libraries`): the reader's notes and errors say what matters."""
    return quiet_libraries("nibabel.")


def header_kind(head: bytes) -> str | None:
    """'nifti1' or 'nifti2' from a file's first 540 bytes (their magic numbers), 'pair' for the header of a
    header/image pair (.hdr: NIfTI-1 pair or Analyze 7.5, which are not read), None for anything else."""
    if len(head) >= 348 and head[344:348] == b"n+1\x00":
        return "nifti1"
    if len(head) >= 12 and head[4:12] == _NIFTI2_MAGIC:
        return "nifti2"
    if (len(head) >= 348 and head[344:348] == b"ni1\x00") or (len(head) == 348 and head[:4] in _ANALYZE):
        return "pair"
    return None


#: sizeof_hdr (348) in either byte order: an Analyze 7.5 header, in a file of exactly that size.
_ANALYZE = (b"\x5c\x01\x00\x00", b"\x00\x00\x01\x5c")


#: Endings of the image half of a header/image pair: raw voxels, recognised by name (see pair_image_error).
PAIR_IMAGE_ENDINGS: tuple[str, ...] = (".img", ".img.gz")
_PAIRS_NOT_READ = ("header and image pairs (.hdr + .img) are not read; save them as one .nii file (nibabel, FSL's "
                   "fslchfiletype NIFTI_GZ)")


def pair_error(head: bytes) -> ImageError:
    """What a .hdr of a header/image pair is told."""
    what = "a NIfTI-1 pair header" if head[344:348] == b"ni1\x00" else "an Analyze 7.5 header"
    return ImageError(f"{what} (.hdr): {_PAIRS_NOT_READ}")


def pair_image_error() -> ImageError:
    """What a .img of no known format is told: raw voxels, as the image half of a pair holds (it has no signature to be
    sure by, so the name and the lack of any other format's signature say it)."""
    return ImageError(f"a .img file of no image format (the image half of a header/image pair?): {_PAIRS_NOT_READ}")


def is_nifti_bytes(data: bytes) -> bool:
    """Single-file NIfTI-1 or NIfTI-2 content, plain or gzip-compressed (magic numbers, not names)."""
    if data[:2] == b"\x1f\x8b":  # as the reader inflates it: a header split over gzip members ('cat a.gz b.gz'), or
        # after a gzip header of over 4 kB (a long file name or comment), was "a gzip-compressed file: decompress it"
        return header_kind(gunzip_bounded(data, 540, partial=True).read()) is not None
    return header_kind(data[:540]) is not None


def gunzip_bounded(data: bytes, size: int, partial: bool = False) -> io.BytesIO:
    """The first ``size`` bytes that gzip ``data`` expands to (fewer where it ends sooner), inflated in memory a
    piece at a time: a gzip bomb costs what its header declares, never more. A gzip of several members (pigz -i,
    bgzip, concatenated files) goes on from one member to the next, as gzip reads it. ImageError for corrupt or
    truncated data; ``partial``: what was inflated before it instead (to sniff a header: the reader says what fails)."""
    out, error, _ = _inflated(data, size)
    if error is not None and not partial:
        raise error
    out.seek(0)
    return out


def gunzip_head(data: bytes, size: int) -> tuple[bytes, bool]:
    """The first ``size`` bytes gzip ``data`` expands to, inflated as :func:`gunzip_bounded` inflates them (member
    after member, after a gzip header of any length), and whether they are whole: ``size`` bytes, or all it holds,
    not cut short or damaged before (bytes after a whole member that begin no other, such as zeros, end it, as gzip
    reads them). What a compressed file holds is named from them (:mod:`.compressed_files`), as the reader reads it:
    a zip's gzipped NIfTI volume split over members was 'a gzip-compressed file'."""
    out, error, trailing = _inflated(data, size)
    return out.getvalue(), error is None or trailing or out.tell() >= size


def _inflated(data: bytes, size: int) -> tuple[io.BytesIO, ImageError | None, bool]:
    """:func:`gunzip_bounded`'s inflation: what was inflated, the error that stopped it (None: none), and whether
    that error came from bytes after a whole member that gave nothing (trailing bytes, not the start of a member)."""
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    out, view, pos, pending, members, begun = io.BytesIO(), memoryview(data), 0, b"", 1, 0
    try:
        while out.tell() < size:
            if inflater.eof:
                pending = inflater.unused_data  # the next member's first bytes, if any
                if not pending and pos >= len(view):
                    break
                members += 1
                if members > MAX_GZIP_MEMBERS:  # 6 M empty ones (120 MB) took 14 s
                    raise ImageError(f"gzip data has more than {MAX_GZIP_MEMBERS:,} members; refused")
                inflater, begun = zlib.decompressobj(16 + zlib.MAX_WBITS), out.tell()
            if inflater.unconsumed_tail:
                piece = inflater.unconsumed_tail
            elif pending:
                piece, pending = pending, b""
            else:
                piece = view[pos:pos + _PIECE]
                pos += len(piece)
            if not piece:
                raise ImageError(GZIP_TRUNCATED)
            out.write(inflater.decompress(piece, size - out.tell()))
    except zlib.error as exc:
        return out, ImageError(_corrupt_text(exc)), members > 1 and out.tell() == begun
    except ImageError as exc:
        return out, exc, False
    return out, None, False


def intent_code(data: bytes) -> int:
    """The intent_code of the NIfTI header ``data`` begins with (plain or gzipped; 0 where it holds none), read from
    its bytes as :func:`header_kind` reads the magic: whether a zip's member is marked a label map is told before any
    of its voxels is inflated (:mod:`braintumor.zip_scans`)."""
    try:
        head = gunzip_bounded(data, 544).read() if data[:2] == b"\x1f\x8b" else data[:544]
    except ImageError:
        return 0
    at, code = {"nifti1": (68, "h"), "nifti2": (504, "i")}.get(header_kind(head) or "", (0, ""))
    if not code:
        return 0
    order = "<" if int.from_bytes(head[:4], "little") in (348, 540) else ">"  # sizeof_hdr as written
    return int(struct.unpack_from(order + code, head, at)[0])


def _corrupt_text(exc: zlib.error) -> str:
    """What gzip data zlib cannot inflate is told: "gzip data is corrupt or truncated" said a truncation, which is
    told apart (:data:`GZIP_TRUNCATED`), and not which of the gzip's own checks failed."""
    checked = any(check in str(exc) for check in ("incorrect data check", "incorrect length check"))
    what = ("what it inflates to fails the gzip's own check (its CRC-32 or length)" if checked else
            "its compressed data cannot be inflated")
    return f"gzip data is corrupt: {what} (damaged in a copy or a download?): send the file again"


#: What a gzip that ends before its compressed data does is told: "gzip data is truncated" said neither how nor what
#: to do.
GZIP_TRUNCATED: str = ("gzip data is truncated: the file ends before its compressed data does (cut short in a copy or "
                       "a download?): send the whole file")
#: Compressed bytes inflated at a time (at most about 1000 times as many come out).
_PIECE = 64 * 1024
#: Most gzip members one file may hold (bgzip writes one per 64 kB inflated: 8193 for 512 MB).
MAX_GZIP_MEMBERS: int = 65_536


def read_header(cls: type, head: bytes) -> tuple[Any, int, Any]:
    """(header, where the voxels start, their dtype) from the fixed header alone (``cls``: nibabel's Nifti1Image or
    Nifti2Image), checked before any voxel is inflated or read: dimensions, data type, qform and where the voxels
    start, each refused with what is wrong, then nibabel's own checks and fixes."""
    size = cls.header_class.template_dtype.itemsize  # 348 (NIfTI-1) or 540 (NIfTI-2)
    if len(head) < size:
        raise ImageError(f"NIfTI file is truncated: {len(head)} bytes, less than its {size}-byte header")
    header = cls.header_class(head[:size], check=False)  # the byte order is guessed from dim[0]
    ndim = int(header["dim"][0])
    if not 1 <= ndim <= 7:
        stored = struct.unpack_from("<h" if size == 348 else "<q", head, 40 if size == 348 else 16)[0]
        raise ImageError(f"NIfTI header's dim[0] (the number of dimensions) is {stored}: expected 1 to 7")
    try:
        dtype = header.get_data_dtype()
    except Exception:  # a code nibabel does not know
        dtype = None
    if dtype is None or dtype.kind not in "uif" or dtype.names or dtype.itemsize > 8:
        code = int(header["datatype"])
        try:
            label = header.get_value_label("datatype")
        except Exception:
            label = f"code {code}"
        raise ImageError(f"NIfTI data type {label} is not supported (expected integer or real voxels)")
    if int(header["sform_code"]) == 0 and int(header["qform_code"]) > 0 \
            and sum(float(header[q]) ** 2 for q in ("quatern_b", "quatern_c", "quatern_d")) > 1.000001:
        raise ImageError("NIfTI header's qform is not a rotation (quatern_b, c and d have squares that add up to "
                         "more than 1)")
    offset = float(header["vox_offset"])
    if offset == 0:
        offset = size + 4  # 0 in old files means right after the header, as nibabel reads it
    if not math.isfinite(offset) or offset < size + 4:
        raise ImageError(f"NIfTI header's vox_offset is {offset:g}: the voxels cannot start there (the header and "
                         f"its extension flag take {size + 4} bytes)")
    try:
        with quiet_nibabel():
            header.check_fix()  # nibabel's own checks and fixes, as it makes them when it loads the file
    except Exception as exc:
        raise header_error(exc) from None
    return header, int(offset), dtype


def intercept_note(header: Any) -> str | None:
    """Set scl_inter to 0 where it is not a finite number (NaN or infinite) beside a valid scl_slope (finite, not 0),
    and say so; None where nothing was set. nibabel refused such a file ("Valid slope but invalid intercept nan"). The
    NIfTI-1 standard gives the scaling as y = scl_slope * x + scl_inter and says nothing of an intercept that is no
    number (applied, it makes every voxel NaN); its reference library, nifti_clib's nifti1_io.c, reads a non-finite
    scl_inter as 0 (FIXED_FLOAT, as every float field it reads), and so is it read here. The slices do not depend on
    it (each is stretched by its own range): only the CT and label checks read the intercept."""
    slope, inter = float(header["scl_slope"]), float(header["scl_inter"])
    if slope == 0 or not math.isfinite(slope) or math.isfinite(inter):
        return None
    header["scl_inter"] = 0
    return (f"the header's scl_inter is {inter:g}, not a finite number: read as 0, as the NIfTI-1 reference library "
            "reads it")


def extension_note(buffer: bytes | memoryview, size: int, offset: int, byte_order: str) -> str | None:
    """What is wrong with the header extensions between the ``size``-byte header (and its 4-byte flag) and the voxels at
    ``offset``, for a note; None when nothing is, or there are none. Only their sizes are read, never their content
    (they hold no voxels: free text, or a whole DICOM header with its patient fields, which nibabel handed to pydicom
    unbounded). A damaged one cost the whole file ('NIfTI header is invalid: failed to read extension content'), or
    put nibabel's 'Extension size is not a multiple of 16 bytes' on stderr; the voxels are where vox_offset says."""
    if bytes(buffer[size:size + 1]) in (b"", b"\x00"):  # the extension flag: none
        return None
    at = size + 4
    while at + 8 <= offset:
        esize = struct.unpack_from(byte_order + "i", buffer, at)[0]
        if esize == 0:  # zeros up to the voxels: the extensions ended
            return None
        if esize < 16 or esize % 16:
            return ("the header's extensions are damaged (a size that is not a positive multiple of 16 bytes): "
                    "ignored, the voxels read where vox_offset places them")
        if at + esize > offset:
            return ("the header's extensions are damaged (one runs past the start of the voxels): ignored, the voxels "
                    "read where vox_offset places them")
        at += esize
    return None


def header_error(exc: Exception) -> ImageError:
    from nibabel.spatialimages import HeaderDataError

    if isinstance(exc, HeaderDataError):  # its own words on a header field (never a free-text one)
        return ImageError(f"NIfTI header is invalid: {str(exc).splitlines()[0][:120]}")
    return ImageError(f"NIfTI header could not be read by nibabel: {EXPORT_AGAIN}")  # (was its class name)
