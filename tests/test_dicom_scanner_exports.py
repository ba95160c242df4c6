"""DICOM as scanners and PACS exports write it, beyond the common case: datasets without a file meta header, VOI LUTs
of 8-bit entries. Each either reads as a viewer displays it or is refused precisely."""

from __future__ import annotations

import io

import numpy as np
import pytest
from dicom_factory import make_dataset

from braintumor.volume_io import read_volumes


def _slice(data: bytes, name: str = "x.dcm") -> np.ndarray:
    (volume,) = read_volumes(data, name=name)
    (sl,) = volume.slices
    return sl.pixels


def _ramp() -> np.ndarray:
    """A 32 x 32 slice of every 8-bit gray level but one, dark corner first (a viewer shows it as stored)."""
    return (np.arange(32 * 32) // 4).astype(np.uint8).reshape(32, 32)


@pytest.mark.parametrize(("implicit", "little"), [(True, True), (False, True), (False, False)])
def test_a_dataset_without_file_meta_is_read_in_the_encoding_it_was_written_in(implicit, little):
    """A raw dataset (no preamble, no 'DICM', no file meta: old scanners' and some PACS exports' .dcm) was parsed, then
    refused as 'DICOM pixel data is corrupt or truncated (AttributeError)': pydicom decodes pixels only by a Transfer
    Syntax UID, which such a file lacks."""
    from pydicom.filebase import DicomFileLike
    from pydicom.filewriter import write_dataset

    gray = _ramp()
    ds = make_dataset(gray.astype(np.uint16) * 16, bits=12, WindowCenter=2048, WindowWidth=4096)
    del ds.file_meta
    if not little:  # pydicom writes the other elements big-endian, the pixel data as it holds it
        ds.PixelData = (gray.astype(np.uint16) * 16).astype(">u2").tobytes()
    buf = io.BytesIO()
    out = DicomFileLike(buf)
    out.is_implicit_VR, out.is_little_endian = implicit, little
    write_dataset(out, ds)
    assert np.abs(_slice(buf.getvalue()).astype(int) - gray).max() <= 1
