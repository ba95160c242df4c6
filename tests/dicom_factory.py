"""Real DICOM and NIfTI files built in memory from real dataset slices, for the volume tests.

Every DICOM carries patient fields with recognisable values, so tests can assert that none of them
ever reaches an output. pydicom's and nibabel's own bundled test files are found by path (never
through pydicom.data.get_testdata_file, which downloads what the wheel does not ship).
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import numpy as np

SECRET_NAME = "SECRET^NAME"
SECRET_ID = "ID-SECRET-123"
SECRET_BIRTH = "19010203"
SECRETS = (SECRET_NAME, SECRET_ID, "SECRET", SECRET_BIRTH)


def pydicom_file(name: str) -> Path | None:
    """A test file shipped inside the installed pydicom wheel, or None."""
    import pydicom

    path = Path(pydicom.__file__).parent / "data" / "test_files" / name
    return path if path.is_file() else None


def nibabel_file(name: str) -> Path | None:
    import nibabel

    path = Path(nibabel.__file__).parent / "tests" / "data" / name
    return path if path.is_file() else None


def make_dataset(pixels: np.ndarray | None, *, photometric: str = "MONOCHROME2", bits: int | None = None,
                 series_uid: str | None = None, instance: int = 1, position: float | None = None,
                 sop_class: str | None = None, **attrs):
    """A pydicom Dataset with file meta, patient fields, and ``pixels`` (2-D, or 3-D = frames)."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = sop_class or MRImageStorage
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = SECRET_NAME, SECRET_ID, SECRET_BIRTH
    ds.StudyInstanceUID = generate_uid()
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.Modality, ds.SeriesDescription, ds.SeriesNumber, ds.InstanceNumber = "MR", "AX T1", 3, instance
    if position is not None:
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [-100.0, -100.0, position]
        ds.SliceLocation = position
    if pixels is not None:
        bits = bits or (8 if pixels.dtype == np.uint8 else 16)
        ds.set_pixel_data(pixels, photometric, bits, generate_instance_uid=False)
    for key, value in attrs.items():
        setattr(ds, key, value)
    return ds


def to_bytes(ds) -> bytes:
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True)
    return buf.getvalue()


#: Explicit VRs whose element has a 4-byte length (after two reserved bytes).
_LONG_VRS = (b"OB", b"OW", b"OF", b"OD", b"OL", b"OV", b"SQ", b"UN", b"UT", b"UC", b"UR", b"SV", b"UV")


def with_raw_element(data: bytes, keyword: str, vr: bytes, value: bytes, nth: int = 0) -> bytes:
    """Explicit VR little-endian DICOM ``data`` with its ``nth`` ``keyword`` element (after the file meta; nested
    ones count) rewritten as ``vr`` and ``value`` byte for byte: what pydicom would refuse to write (an unknown VR,
    a binary value of the wrong length). Keep the element's size when it sits in a sequence of defined length."""
    import struct

    from pydicom.datadict import tag_for_keyword

    tag = tag_for_keyword(keyword)
    key = struct.pack("<HH", tag >> 16, tag & 0xFFFF)
    at = data.index(b"DICM") + 4
    for _ in range(nth + 1):
        at = data.index(key, at + 1)
        while not data[at + 4:at + 6].isalpha():  # the tag's bytes inside another value, not an element
            at = data.index(key, at + 1)
    old = data[at + 4:at + 6]
    end = at + 12 + struct.unpack_from("<I", data, at + 8)[0] if old in _LONG_VRS \
        else at + 8 + struct.unpack_from("<H", data, at + 6)[0]
    value += b" " * (len(value) % 2)
    size = b"\x00\x00" + struct.pack("<I", len(value)) if vr in _LONG_VRS else struct.pack("<H", len(value))
    return data[:at] + key + vr + size + value + data[end:]


def make_dicom(pixels: np.ndarray | None, **kw) -> bytes:
    return to_bytes(make_dataset(pixels, **kw))


def rescaled_windowed(gray: np.ndarray) -> bytes:
    """16-bit stored values whose modality LUT and window give back ``gray`` exactly."""
    stored = gray.astype(np.uint16) * 4 + 1000  # value = stored * 0.25 - 250 = gray
    return make_dicom(stored, bits=12, RescaleSlope=0.25, RescaleIntercept=-250, WindowCenter=128,
                      WindowWidth=256)


def jpeg_baseline(gray: np.ndarray, quality: int = 95) -> bytes:
    """The slice as a JPEG Baseline DICOM (the bitstream encapsulated as a scanner would)."""
    from PIL import Image
    from pydicom.encaps import encapsulate
    from pydicom.uid import JPEGBaseline8Bit

    buf = io.BytesIO()
    Image.fromarray(gray).save(buf, format="JPEG", quality=quality)
    ds = make_dataset(gray)
    ds.PixelData = encapsulate([buf.getvalue()])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit
    return to_bytes(ds)


def gdcm_encoded(pixels: np.ndarray, syntax: str, folder: Path, bits: int | None = None) -> bytes:
    """``pixels`` as a DICOM compressed by GDCM's encoder in ``syntax`` (a ``gdcm.TransferSyntax`` name:
    "JPEGExtendedProcess2_4", "JPEGLosslessProcess14_1"), with ``bits`` stored; GDCM reads and writes files, in
    ``folder``. Needs python-gdcm (callers skip without it)."""
    import gdcm

    source, target = folder / "gdcm_in.dcm", folder / "gdcm_out.dcm"
    source.write_bytes(make_dicom(pixels, bits=bits))
    reader = gdcm.ImageReader()
    reader.SetFileName(str(source))
    assert reader.Read()
    change = gdcm.ImageChangeTransferSyntax()
    change.SetTransferSyntax(gdcm.TransferSyntax(getattr(gdcm.TransferSyntax, syntax)))
    change.SetInput(reader.GetImage())
    assert change.Change()
    writer = gdcm.ImageWriter()
    writer.SetFileName(str(target))
    writer.SetFile(reader.GetFile())
    writer.SetImage(change.GetOutput())
    assert writer.Write()
    return target.read_bytes()


def damaged_lossless(folder: Path) -> bytes:
    """A 12-bit JPEG Lossless DICOM (GDCM's encoder, in ``folder``) with 8 bytes of its coded data zeroed, a tenth of
    the way along its scan: GDCM, its only decoder here, reads it, and its libjpeg writes "Corrupt JPEG data: bad
    Huffman code" on fd 2. Needs python-gdcm (callers skip without it)."""
    gray = np.random.default_rng(0).integers(0, 255, (64, 64)).astype(np.uint16) * 16
    data = bytearray(gdcm_encoded(gray, "JPEGLosslessProcess14_1", folder, bits=12))
    start, end = data.index(b"\xff\xda"), data.rindex(b"\xff\xd9")
    at = start + int((end - start) * 0.1)
    data[at:at + 8] = bytes(8)
    return bytes(data)


def series(slices: list[np.ndarray], shuffle: bool = True) -> list[tuple[str, bytes]]:
    """One DICOM file per slice of a single series, positions 5 mm apart, stored in a scrambled order."""
    from pydicom.uid import generate_uid

    uid = generate_uid()
    files = [(f"IM{k:04d}", make_dicom(s, series_uid=uid, instance=k + 1, position=5.0 * k))
             for k, s in enumerate(slices)]
    if shuffle:
        files = files[1::2] + files[0::2]
    return files


def tiny_frames(**kw) -> bytes:
    """A multi-frame DICOM file of three 2 x 2 frames: refused whole, on its header, for their size (as a NIfTI volume
    of such slices is: nifti_io); each was decoded, then refused for it, until 2026-12-07."""
    return make_dicom((np.random.default_rng(0).random((3, 2, 2)) * 900).astype(np.uint16), **kw)


def unreadable_series() -> bytes:
    """A zip of one series whose three slices (2 x 2 frames) are each unreadable for their size: read slice by slice,
    as one file of the series (a 64 x 64 PALETTE COLOR image whose palette is damaged, skipped when decoded) is not
    under the minimum on its header (a file or series of tiny frames only is refused whole: :func:`tiny_frames`)."""
    from pydicom.datadict import tag_for_keyword
    from pydicom.dataelem import DataElement
    from pydicom.uid import generate_uid

    uid = generate_uid()
    damaged = make_dataset(np.zeros((64, 64), np.uint8), series_uid=uid, instance=2)
    damaged.PhotometricInterpretation = "PALETTE COLOR"
    for colour in ("Red", "Green", "Blue"):
        for what, vr, value in (("Descriptor", "US", [256, 0, 8]), ("Data", "OW", b"\x01\x02")):
            keyword = f"{colour}PaletteColorLookupTable{what}"
            damaged[keyword] = DataElement(tag_for_keyword(keyword), vr, value)
    return zip_bytes([("tiny.dcm", tiny_frames(series_uid=uid)), ("damaged.dcm", to_bytes(damaged))])


def zip_bytes(members: list[tuple[str, bytes]]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def nifti_bytes(volume: np.ndarray, affine: np.ndarray | None = None, gz: bool = True) -> bytes:
    """A NIfTI-1 single file (gzip-compressed by default) of ``volume`` (x, y, z[, t])."""
    import gzip

    import nibabel as nib

    img = nib.Nifti1Image(volume, np.eye(4) if affine is None else affine)
    img.header["descrip"] = SECRET_NAME.encode()  # free text in the header must never be echoed either
    raw = img.to_bytes()
    return gzip.compress(raw, mtime=0) if gz else raw


def axial_volume(slices: list[np.ndarray]) -> np.ndarray:
    """Display-oriented slices (rows anterior->posterior, columns right->left) -> a RAS (x, y, z) array."""
    return np.stack([s[::-1, ::-1].T for s in slices], axis=-1)


def flat_slice(k: int) -> np.ndarray:
    """A 64 x 64 slice of one gray level, 20 * (k + 1): where slice k went is read off any one pixel."""
    return np.full((64, 64), 20 * (k + 1), np.uint8)
