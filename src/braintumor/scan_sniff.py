"""What a file holds, by its content (a DICOM file, a NIfTI volume, a zip) or not a scan at all: the name breaks ties.

Apart from the readers (:mod:`braintumor.volume_io` was at the 300-line limit): the CLI's input planning, the web
upload route, folder walks and the 2-D reader ask here what an input is before any reader decodes it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from .dicom_sniff import file_head, is_dicom_bytes, is_raw_dataset
from .image_files import is_special_file
from .image_headers import IMAGE_SIGNATURES

if TYPE_CHECKING:
    from .image_io import ImageSource

#: Endings recognised as volumes (DICOM content is also recognised without any ending).
VOLUME_SUFFIXES: tuple[str, ...] = (".dcm", ".dicom", ".nii", ".nii.gz", ".zip")
#: Leading bytes of the 2-D formats image_io reads: such content is an image whatever its name says.
IMAGE_MAGIC: tuple[bytes, ...] = tuple(magic for magic, _ in IMAGE_SIGNATURES)


def _lower_name(name: str | os.PathLike | None) -> str:
    return str(name or "").lower()


def sniff(data: bytes, name: str | os.PathLike | None = None) -> str | None:
    """'dicom', 'nifti' or 'zip' from the content (the name only breaks ties), None for anything else."""
    from .nifti_header import PAIR_IMAGE_ENDINGS, is_nifti_bytes

    lower = _lower_name(name)
    if is_dicom_bytes(data[:132]):
        return "dicom"
    if data[:4] == b"PK\x03\x04" or (data[:4] == b"PK\x05\x06" and lower.endswith(".zip")):
        return "zip"
    if is_nifti_bytes(data):
        return "nifti"
    if data.startswith(IMAGE_MAGIC):
        return None
    if is_raw_dataset(data[:132]):
        return "dicom"  # a raw dataset (no preamble, no 'DICM'), as some PACS export it: named I0000123, or anyhow
    if lower.endswith((".dcm", ".dicom")):
        return "dicom"  # DICOM without the preamble (old files): dicom_io checks it is really DICOM
    if lower.endswith((".nii", ".nii.gz")):
        return "nifti"  # a broken or truncated one: nifti_header says precisely what is wrong
    if lower.endswith(".zip"):
        return "zip"  # not one (a download that saved a web page under its name): zip_io says so, for CLI and web
    if lower.endswith(PAIR_IMAGE_ENDINGS):
        return "nifti"  # the image half of a .hdr + .img pair (raw voxels): told, as the .hdr is, pairs are not read
    return None


def scan_kind_text(data: bytes, name: str | None = None) -> str | None:
    """What scan ``data`` holds by its content (``name`` breaking ties, as :func:`sniff`'s), in words ("a DICOM
    file", "a NIfTI volume", "a zip file"), or None: for the errors of a scan given where an image (the 2-D reader) or
    file names (``predict -``) were wanted, and of an output named like a scan (``-o result.dcm``)."""
    return {"dicom": "a DICOM file", "nifti": "a NIfTI volume", "zip": "a zip file"}.get(sniff(data, name) or "")


def is_volume_file(path: Path) -> bool:
    """Whether a file given by name should be read here (DICOM, NIfTI, zip) rather than as a 2-D image.

    By content, as uploads are: a DICOM export named ``scan.jpg`` is a scan (one 352-byte read per named file)."""
    lower = path.name.lower()
    return lower.endswith(VOLUME_SUFFIXES) or (path.is_file() and sniff(file_head(path, 352), path.name) is not None)


def scan_as_image_text(data: bytes, source: ImageSource) -> str | None:
    """What to do with a scan ``data`` (read from ``source``) handed to the 2-D reader (the Python API, or a pipe named
    on the command line: the CLI and web sniff files and uploads, but peeking into a pipe would consume what it peeked
    at); a torch checkpoint (a zip) is told what the CLI tells it (:func:`~.checkpoint_inputs.checkpoint_text`)."""
    from .checkpoint_inputs import checkpoint_text, torch_zip  # on this path only, as the other readers

    kind = scan_kind_text(data)
    named = isinstance(source, (str, os.PathLike))
    if kind and named and is_special_file(Path(source)):  # a pipe or device (<(zcat scan.nii.gz))
        return f"{kind} read from a pipe or device: scans are read from files (save it to a file and name that)"
    if kind == "a zip file" and torch_zip(data):
        return checkpoint_text(os.fspath(source) if named else None)
    return kind and f"{kind}, not a 2-D image: braintumor.volume_io.read_volumes reads scans into slices"
