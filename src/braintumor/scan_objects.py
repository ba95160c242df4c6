"""Scans a caller holds as their readers' objects (a pydicom ``Dataset``, a nibabel NIfTI image) -> their file's bytes.

Why: a notebook that already ran ``pydicom.dcmread`` or ``nibabel.load`` holds the scan as an object, not a file.
:func:`braintumor.volume_io.read_volumes` reads it as it reads that file (the same checks, orientation and safe
metadata: no second reader of those objects' fields to keep in step), and ``Classifier.predict`` says to call it: it
told a Dataset ``np.asarray(x) makes a numpy array of it`` (an empty object array) and a NIfTI image nothing.
Neither library is imported here: a caller holding one of their objects has imported it already.
"""

from __future__ import annotations

import copy
import io
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from .image_io import ImageError

if TYPE_CHECKING:  # the two readers' objects read_volumes takes (Datasets also as a series' list), for type checkers
    from nibabel import Nifti1Image
    from pydicom import Dataset

    ScanObject = Dataset | Nifti1Image | list[Dataset] | tuple[Dataset, ...]
else:  # at run time a name typing.get_type_hints resolves, without importing either library
    ScanObject = object


def _instance_of(source: object, module: str, name: str) -> bool:
    """Whether ``source`` is of class ``name`` of ``module``, where that module is imported and the class defined: a
    library another thread is importing is in sys.modules before its submodules and classes are (a web request's
    ``pydicom.dataset`` raised AttributeError, an HTTP 500, while another imported pydicom), and has no instance yet."""
    cls = getattr(sys.modules.get(module), name, None)
    return isinstance(cls, type) and isinstance(source, cls)


def _dicom_dataset(source: object) -> bool:
    return _instance_of(source, "pydicom.dataset", "Dataset")


def _nibabel_image(source: object) -> bool:
    return _instance_of(source, "nibabel.spatialimages", "SpatialImage")


def scan_object(source: object) -> str | None:
    """What ``source`` is in words where it is a scan's object ("a pydicom Dataset", "a nibabel Nifti1Image"), else
    None."""
    if _dicom_dataset(source):
        return "a pydicom Dataset"
    if _nibabel_image(source):
        return f"a nibabel {type(source).__name__}"
    return None


def scan_object_hint(source: object) -> str:
    """What to call for a scan's object given where images are taken (``predict``, ``explain``, ``predict_many``),
    or "" for anything else."""
    kind = scan_object(source)
    return (f": {kind} holds a scan: braintumor.volume_io.read_volumes reads it into volumes, whose .slices predict "
            "and predict_many take") if kind else ""


def scan_object_bytes(source: object) -> tuple[bytes, str | None] | None:
    """The bytes of the file ``source`` would be and the file name it came from (None where it came from none), or
    None where ``source`` is no scan's object. ImageError where its library cannot write it as one file."""
    if _dicom_dataset(source):
        import pydicom

        buffer = io.BytesIO()
        try:
            pydicom.dcmwrite(buffer, source)  # as it was read: its own transfer syntax and file meta
        except Exception:  # a Dataset built by hand without a transfer syntax (pydicom's ValueError), or a value
            has_syntax = bool(getattr(getattr(source, "file_meta", None), "TransferSyntaxUID", None))  # it cannot write
            raise ImageError("pydicom cannot write this Dataset as a DICOM file: " + (
                "a value in it cannot be encoded" if has_syntax else
                "give it a transfer syntax (ds.file_meta.TransferSyntaxUID)") + ", or read the file it came from"
            ) from None
        return buffer.getvalue(), _name(getattr(source, "filename", None))
    if _nibabel_image(source):
        import nibabel

        if not isinstance(source, nibabel.Nifti1Image):  # Nifti2Image too; a .hdr + .img pair is no one file
            raise ImageError(f"a nibabel {type(source).__name__} is no NIfTI file: nibabel.Nifti1Image.from_image(img) "
                             "makes one of it")
        try:  # a copy's: to_bytes() left the caller's image without its file name (get_filename() None)
            data = copy.copy(source).to_bytes()
        except Exception:  # its data proxy's file gone, or a header nibabel refuses to write
            raise ImageError("nibabel cannot write this image as a NIfTI file (its voxels' file is gone, or its header "
                             "holds values nibabel refuses to write): load it again from its file") from None
        return data, _name(source.get_filename())
    return None



def dataset_files(source: object) -> list[tuple[str, Callable[[], bytes]]] | None:
    """A list or tuple of pydicom Datasets (``[pydicom.dcmread(f) for f in files]``: a series' files) as the (name,
    loader) items a series is read from (:func:`braintumor.dicom_series.iter_dicom_series`, as a folder's files
    are), each the file it would be; None for anything else. ImageError where one cannot be written as a file."""
    if not isinstance(source, (list, tuple)) or not source or not all(_dicom_dataset(ds) for ds in source):
        return None
    files = [scan_object_bytes(ds) or (b"", None) for ds in source]
    return [(name or f"dataset {k}", lambda data=data: data) for k, (data, name) in enumerate(files)]

def _name(filename: object) -> str | None:
    """The file an object was read from, as read_volumes names a path (nibabel keeps the Path it was given; pydicom's
    ``filename`` is a path, or the stream it read)."""
    return os.fsdecode(filename) if isinstance(filename, (str, bytes, os.PathLike)) else None
