"""Read what a hospital has — DICOM files, DICOM series (a folder), NIfTI volumes, a .zip of them — as 2-D slices.

Every slice comes out as a 2-D uint8 grayscale array (what :func:`braintumor.preprocess.prepare`
takes), in display orientation, with *safe* metadata only: geometry and series description,
never a patient field. 2-D images (JPEG, PNG, ...) stay with :mod:`braintumor.image_io`.

Everything is read in memory (a .zip is never extracted), sizes are checked before pixels are
decoded, and every failure is an :class:`~braintumor.image_io.ImageError` with a user-safe message.
DICOM is handled in :mod:`braintumor.dicom_io`, NIfTI in :mod:`braintumor.nifti_io`, zips in :mod:`braintumor.zip_io`;
what an input is, by its content, in :mod:`braintumor.scan_sniff`.
"""

from __future__ import annotations

import dataclasses
import logging
import os
import traceback
from collections.abc import Iterable, Iterator
from pathlib import Path

from .arguments import count
from .compressed_files import compressed_text
from .documents import array_file_text, document_text
from .folder_scans import scan_folder, unopened
from .image_files import ListedFile, walk_images
from .image_headers import apple_double
from .image_io import ImageError, ImageSource, read_file, read_stream
from .missing_files import long_name_text, missing_url_text, not_a_folder_text
from .python_api_errors import bytes_name_text
from .scan_objects import ScanObject, dataset_files, scan_object_bytes
from .scan_sniff import IMAGE_MAGIC, sniff
from .volume_objects import Volume, taken_pixels
from .wording import EXPORT_AGAIN

_log = logging.getLogger(__name__)

#: Most slices one volume (or one web request) may hold; more is refused before decoding.
MAX_SLICES: int = 512
#: Largest volume file, zip (uncompressed, all members) or DICOM folder we read (bytes).
MAX_VOLUME_BYTES: int = 512 * 1024 * 1024
#: Most voxels of one NIfTI volume (512 x 512 x 256).
MAX_VOXELS: int = 512 * 512 * 256
#: Most pixels one scan input may decode into slices, all its series together (512 slices of 512 x 512); a web
#: request shares one such budget among its scans. Headers are checked against it before any pixel is decoded, by the
#: pixels the slices will hold once resampled to square pixels (up to twice the voxels), or those decoded where fewer
#: are held (slice_pixels.budget_pixels), which is what a zip or a request then subtracts (volume_objects.taken_pixels).
MAX_INPUT_PIXELS: int = 512 * 512 * 512


class BudgetError(ImageError):
    """A scan past the slices or pixels it may take (``max_slices``, ``max_pixels``): in a zip or a web request those
    are what came before it left, and callers say so (a type, not a parsed message). Made by :func:`budget_error`."""

    series: int = 0  # the DICOM series of an input refused whole: more than one can be sent one by one
    #: past what any one input may hold (:data:`MAX_SLICES`, :data:`MAX_INPUT_PIXELS`), not only what a zip or request
    #: left: no resend fits it
    whole: bool = False
    #: what the scan holds, as the message says it before its limit ("NIfTI volume has 300 axial slices"), the limit's
    #: unit ("slices" or "pixels") and what the message says after it (", and they are CT images ..."): a web request
    #: whose earlier scans took part of its budget says the request's limits with them, not what was left as "the limit"
    held: str = ""
    unit: str = ""
    after: str = ""
    #: how many of the unit it holds (0: not said, it may fit on its own): a zip whose member is past what its earlier
    #: members left tells one past the limit on its own that limit, as it is alone
    count: int = 0


#: What a refusal of a volume or series longer (or larger, :data:`TOO_LARGE_ADVICE`) than any input may be adds,
#: whoever reads it (CLI, API, web).
TOO_LONG_ADVICE = ("a scan this long cannot be read here: send a part of it, e.g. the slices through the lesion, as "
                   "its own file")
TOO_LARGE_ADVICE = TOO_LONG_ADVICE.replace("this long", "this large", 1)


def budget_error(held: str, count: int, limit: int, unit: str = "slices", per: str = "",
                 after: str = "") -> BudgetError:
    """The refusal of a scan that holds ``held`` (``count`` ``unit``: "slices" or "pixels"), past ``limit`` (said
    ``per`` input or series). Past :data:`MAX_SLICES` slices or :data:`MAX_INPUT_PIXELS` pixels, with its advice
    (:data:`TOO_LONG_ADVICE`), and stating that limit, not what a zip or a web request's earlier scans left of it ("the
    limit is 212", when 212 were left, read as if the limit were 212): the scan is refused on its own too (it said
    only the limit, and "send it on its own" could not help). ``count`` 0: it may fit on its own (a study's series)."""
    # what any one input may hold of the unit, and the advice past it (read now: tests lower the limits)
    most, advice = {"slices": (MAX_SLICES, TOO_LONG_ADVICE), "pixels": (MAX_INPUT_PIXELS, TOO_LARGE_ADVICE)}.get(
        unit, (0, ""))
    whole = bool(advice) and count > most
    stated = max(limit, most) if whole else limit
    error = BudgetError(f"{held}; the limit is {stated:,}{per}{after}" + (f" ({advice})" if whole else ""))
    error.whole, error.held, error.unit, error.after, error.count = whole, held, unit, after, count
    return error


# --- reading --------------------------------------------------------------------------------------


def read_path(path: Path, limit: int = MAX_VOLUME_BYTES) -> bytes:
    """A scan file's bytes, within ``limit``; ImageError (never OSError) for what cannot be read
    (:func:`~braintumor.image_io.read_file`, as an image's)."""
    return read_file(path, limit)


def read_volumes(source: ImageSource | ScanObject, name: str | None = None,
                 max_slices: int = MAX_SLICES, max_pixels: int = MAX_INPUT_PIXELS,
                 per_input: bool = False) -> list[Volume]:
    """A DICOM file, NIfTI file, zip of DICOM or NIfTI files (path, bytes or binary file) or a folder (its DICOM series,
    then each NIfTI file) -> volumes; also a pydicom Dataset or nibabel NIfTI image in memory, read as the file it
    would be, and a list of Datasets as the folder of their files (:mod:`~braintumor.scan_objects`).

    ``name`` is what results call ``path`` (default: the path itself, or an open file's name). The limits hold for
    each series or volume of a folder or zip (a study's are over 512 slices together): one past them is a Volume with
    no slices and its ``error``, an input of one is refused whole; ``per_input``: for all together (a web request's
    budget). A folder's DICOM files that cannot be used, and its files that cannot be opened (a locked IM0002: maybe a
    slice), are counted in its series' notes ("skipped 1 file: cannot read file: Permission denied"), never dropped
    unsaid. Raises ImageError, and only ImageError, for what the input holds: a header value no reader foresaw is
    that input's error record, never a traceback or an HTTP 500 that takes the other files of a batch with it;
    TypeError for a wrong kind of argument (None, a list, an array), as ``Classifier.predict`` does.
    """
    return list(iter_volumes(source, name, max_slices, max_pixels, per_input))


def iter_volumes(source: ImageSource | ScanObject, name: str | None = None,
                 max_slices: int = MAX_SLICES, max_pixels: int = MAX_INPUT_PIXELS,
                 per_input: bool = False) -> Iterator[Volume]:
    """:func:`read_volumes` one volume at a time: a study's series are decoded only as they are taken, so that its
    memory is one series', not the study's. The ImageError of a whole input comes before the first volume."""
    # a limit of None (meant as none) was "DICOM header cannot be read (TypeError)"; a name of 3 its path
    max_slices, max_pixels = count(max_slices, "max_slices"), count(max_pixels, "max_pixels")
    if name is not None and not isinstance(name, str):
        raise TypeError(f"name is what results call the input: a str or None, not {type(name).__name__}")
    if (files := dataset_files(source)) is not None:  # a list of a series' pydicom Datasets: read as its folder
        from .dicom_series import iter_dicom_series

        return guarded(iter_dicom_series(name or "upload", files, max_slices, max_pixels, per_input=per_input))
    if (held := scan_object_bytes(source)) is not None:  # a pydicom Dataset, a nibabel image: read as their file
        source, name = held[0], name or held[1]
    elif callable(getattr(source, "read", None)):  # an open file, as predict takes one (was "could not be read")
        name = name or (source.name if isinstance(getattr(source, "name", None), str) else None)
        source = read_stream(source, MAX_VOLUME_BYTES)
    elif not isinstance(source, (str, os.PathLike, bytes, bytearray, memoryview)):
        raise TypeError("read_volumes takes a path, bytes, a binary file, a pydicom Dataset (or a series' list of "
                        f"them) or a nibabel NIfTI image, not {type(source).__name__}"
                        + (": Classifier.predict takes images in memory"  # an array, a PIL image, a tensor
                           if any(hasattr(source, a) for a in ("__array__", "__array_interface__")) else ""))
    return guarded(_read_volumes(source, name, max_slices, max_pixels, per_input))


def guarded(volumes: Iterable[Volume]) -> Iterator[Volume]:
    """``volumes`` whose failures are ImageErrors, whatever a reader raised."""
    try:
        yield from volumes
    except ImageError:
        raise
    except MemoryError:
        raise ImageError("this scan is too large to read in memory") from None
    except Exception as exc:  # a reader's bug must not cost the batch its other files
        where = traceback.extract_tb(exc.__traceback__)[-1]
        # the class and the line only: an exception's text can quote a header value
        _log.warning("unexpected %s reading a scan at %s:%s", exc.__class__.__name__,
                     Path(where.filename).name, where.lineno)
        raise ImageError(f"this scan could not be read: the reader failed on it (logged); {EXPORT_AGAIN}") from None


def input_volumes(path: str) -> Iterator[Volume]:
    """The volumes of a scan input that ``braintumor predict`` planned (:func:`~.input_plan.plan_inputs`), read again
    from its name alone (--workers, --resume): a folder's DICOM series, without the NIfTI files read_volumes reads
    there too, which are inputs of their own (they were read twice)."""
    return guarded(_read_volumes(path, None, MAX_SLICES, MAX_INPUT_PIXELS, False, with_niftis=False))


def _read_volumes(source: str | os.PathLike | bytes, name: str | None, max_slices: int,
                  max_pixels: int, per_input: bool, with_niftis: bool = True) -> Iterator[Volume]:
    if isinstance(source, (bytes, bytearray, memoryview)):
        data, display = bytes(source), name or "upload"
    else:
        listed = source if isinstance(source, ListedFile) else None  # a folder's NIfTI: read_file refuses a pipe now
        if not (source := os.fsdecode(source)):  # Path("") is ".": "no DICOM or NIfTI files found"; bytes: str
            raise ImageError("expected a file or folder name, got an empty string")
        if said := not_a_folder_text(source) or missing_url_text(source) or long_name_text(source):
            raise ImageError(said)  # before Path(), which drops scan.dcm/'s / and https://'s
        path = listed or Path(source)
        display = name or str(path)
        if path.is_dir():
            left: list[tuple[Path, str]] = []
            dicoms, niftis = scan_folder(path, left)
            niftis = niftis if with_niftis else []
            from .dicom_series import read_dicom_files  # a folder's DICOM files (its own home, with the series)
            from .folder_notes import index_notes, only_compressed, only_other_formats
            from .zip_scans import member_niftis, refuse_unread_files, unread_dicoms

            locked = unopened(left)  # maybe slices: counted in the series' notes, not dropped unsaid
            if not dicoms and not locked and not niftis:  # a folder of GIFs says so, of JPEGs what reads them
                only = only_other_formats(left, "") or only_compressed(left, "")
                images = next(walk_images(path), None) and (" (it holds 2-D images: Classifier.predict_many("
                                                            "braintumor.image_io.expand_inputs([folder])) reads them)")
                raise ImageError("no DICOM or NIfTI files found in folder" + (images or (f", {only}" if only else "")))
            used = pixels = 0  # per_input: what its series took, which its NIfTI files may not take too
            try:
                for v in read_dicom_files(display, dicoms + locked, max_slices, max_pixels, per_input, len(niftis)) \
                        if dicoms or locked else ():
                    used, pixels = (used + len(v.slices), pixels + taken_pixels([v])) if per_input else (0, 0)
                    yield dataclasses.replace(v, notes=v.notes + index_notes(left))
            except ImageError as exc:  # none of its DICOM files read, beside NIfTI files: a record, as in a zip
                yield unread_dicoms(exc, niftis, display)
            files = [(f, f.relative_to(path).as_posix()) for f in niftis]
            if per_input and len(files) > 1:  # on their headers before any is decoded, as a zip's
                refuse_unread_files(files, display, max_slices, max_pixels, (used, pixels))
            members = [(str(f) if name is None else f"{name}/{m}", m, lambda w, s, p, f=f: _read_volumes(f, w, s, p,
                        False)) for f, m in files]  # each on its own
            yield from member_niftis(members, "folder", max_slices, max_pixels, (used, pixels) if per_input else None,
                                     alone=not dicoms and not locked and len(niftis) == 1)
            return
        data = read_path(path)
    if not data:
        raise ImageError("file is empty (0 bytes)")
    if problem := apple_double(data):  # ``._scan.dcm`` is sniffed as DICOM by its name
        raise ImageError(problem)
    kind = sniff(data, name or (None if isinstance(source, (bytes, bytearray, memoryview)) else Path(source).name))
    if kind == "dicom":
        from .dicom_series import read_dicom_series

        yield from read_dicom_series(display, [("", lambda: data)], max_slices, max_pixels, single=True)
    elif kind == "nifti":
        from .nifti_io import read_nifti

        yield read_nifti(data, display, max_slices, max_pixels)
    elif kind == "zip":
        from .zip_io import iter_zip

        yield from iter_zip(data, display, max_slices, max_pixels, per_input)
    else:  # a JPEG or PNG slice, a gzip of one, or a name as bytes, handed here was told only what it is not
        said = (" (a 2-D image: Classifier.predict reads it)" if data.startswith(IMAGE_MAGIC)
                else bytes_name_text(source))
        raise ImageError(compressed_text(data) or document_text(data) or array_file_text(data)
                         or "not a recognised volume: expected DICOM, "
                         f"NIfTI (.nii, .nii.gz) or a .zip of DICOM or NIfTI files{said}")
