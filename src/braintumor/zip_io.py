"""A zip of a DICOM series (or of NIfTI files), read in memory: nothing is ever extracted to disk.

Why its own module: a zip is the one container here that can lie about its size (a zip bomb), so its limits
(members, declared and actual expanded bytes, encryption, unsafe names) live together, checked before any member
is decoded. Its scans are then read as volumes within an input's slices and pixels by
:mod:`braintumor.zip_scans`, each member by :mod:`braintumor.dicom_io` or :mod:`braintumor.nifti_io`.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections import Counter
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import BinaryIO

from .checkpoint_inputs import CheckpointInput, checkpoint_text, torch_head, torch_layout
from .compressed_files import MAGIC, compressed_text, peeked
from .dicom_sniff import is_dicom_head
from .documents import PAGE, SAVED_PAGE, array_file_text, is_web_page
from .image_files import is_hidden_name
from .image_headers import other_format
from .image_io import ImageError
from .nifti_header import PAIR_IMAGE_ENDINGS
from .reason_counts import by_wording
from .scan_sniff import IMAGE_MAGIC
from .volume_io import MAX_INPUT_PIXELS, MAX_SLICES, MAX_VOLUME_BYTES
from .volume_objects import Volume
from .wording import counted, unread_format_text
from .zip_scans import zip_volumes

#: Most members a zip may list.
MAX_ZIP_MEMBERS: int = 4096
#: Most times a DICOM member over 1 MB may expand: a DICOM file compresses 2 to 5 times; zeros, which pydicom parses
#: as millions of empty elements (20 MB: 7 s), about 1000 times.
MAX_DICOM_RATIO: int = 100
#: Most times a whole zip may expand (all its members' declared sizes against the zip's own bytes) once it expands
#: past :data:`ZIP_RATIO_FLOOR`: a series of DICOM files compresses 2 to 5 times, each member under 1 MB escapes
#: :data:`MAX_DICOM_RATIO`, and a 543 kB zip of 512 DICOM slices of zeros (268 MB) held a worker 10.6 s.
MAX_ZIP_RATIO: int = 100
#: Bytes a zip may expand to at any ratio: a few slices of zeros cost what a real series of that size does.
ZIP_RATIO_FLOOR: int = 16 * 1024 * 1024
#: The compressions zipfile reads besides deflate, refused: it inflates them with no bound on what one read of 4 kB
#: of them gives (its reads of deflate are bounded), so no size limit holds them. A 760-byte bzip2 member declaring
#: 100 bytes held 900 MB of zeros: reading its first 132 bytes took 13 s and 1.7 GB.
_METHODS: dict[int, str] = {zipfile.ZIP_BZIP2: "bzip2", zipfile.ZIP_LZMA: "LZMA"}
#: Bytes of a compressed member read to name what it holds: a gzip's header and the first 1024 bytes it inflates to
#: (what :func:`~braintumor.compressed_files.compressed_text` names them by) take far fewer: a zip of 100 gzips of
#: 1 MB each was refused in 1.5 s reading 1 MB of each, 0.7 s reading this.
_PEEK: int = 1 << 16


def _unsafe_member(name: str) -> bool:
    """Absolute paths, drive letters and '..' parts: harmless here (nothing is extracted), never expected."""
    posix = name.replace("\\", "/")
    return posix.startswith("/") or (len(posix) > 1 and posix[1] == ":") or ".." in PurePosixPath(posix).parts


def _end_record(data: bytes) -> tuple[int, int]:
    """Where the central directory zipfile reads in ``data`` ends (-1: no end record), and the bytes it spans right
    before that (-1: unknown, a zip64 end record not where zipfile looks for it). A zip64 one's (torch.save writes
    them) is read from its own record, 56 bytes before its locator, as zipfile reads it: from the archive's start, a
    tensor's bytes that held an entry's signature were read as the first name (no ``data.pkl`` found)."""
    end = len(data) - 22  # the end record zipfile reads: one with no comment at the very end, else the last one
    if not (end >= 0 and data.startswith(b"PK\x05\x06", end) and data.endswith(b"\0\0")):
        end = data.rfind(b"PK\x05\x06", max(0, len(data) - (1 << 16) - 22))  # where zipfile looks
    if end < 0:
        return -1, -1  # no end record: zipfile says corrupt
    if data[max(0, end - 20):end].startswith(b"PK\x06\x07"):
        at = end - 20 - 56
        return (at, int.from_bytes(data[at + 40:at + 48], "little")) if at >= 0 and data.startswith(
            b"PK\x06\x06", at) else (end, -1)
    return end, int.from_bytes(data[end + 12:end + 16], "little")


def _directory_span(data: bytes) -> tuple[int, int]:
    """The bytes of ``data`` its central directory lies in, by its end record ((0, 0) for none): from the start of the
    archive where a zip64 one's size is unknown."""
    end, size = _end_record(data)
    return (0 if size < 0 else max(0, end - size)), max(end, 0)


def _listed_members(data: bytes) -> int:
    """An upper bound on the entries :class:`zipfile.ZipFile` parses from ``data``'s central directory: the entry
    signatures in the bytes its end record says the directory spans (a zip64 one's own record). zipfile builds an
    object for every entry before a count can be checked: a 47 MB upload listing one million entries took 28 s and
    470 MB, the limit of 4096 checked after."""
    return data.count(b"PK\x01\x02", *_directory_span(data))


def listed_names(data: bytes) -> list[str]:
    """The names of the first :data:`MAX_ZIP_MEMBERS` entries a zip ``data`` lists ([] for no zip), read from its
    central directory's bytes: what tells an .npz or a torch checkpoint handed to a reader. zipfile read any directory
    whole for that (a million entries: 28 s, :func:`_listed_members`), and kept from one past the limit, an .npz of
    5000 arrays was "a zip file" to the image reader and "zip archive lists 5000 members" to read_volumes."""
    start, end = _directory_span(data)
    names: list[str] = []
    at = data.find(b"PK\x01\x02", start, end)
    while 0 <= at < end and len(names) < MAX_ZIP_MEMBERS and data.startswith(b"PK\x01\x02", at):
        name, extra, comment = (int.from_bytes(data[at + k:at + k + 2], "little") for k in (28, 30, 32))
        names.append(data[at + 46:at + 46 + name].decode("utf-8", "replace"))
        at += 46 + name + extra + comment
    return names


def file_names(f: BinaryIO) -> list[str]:
    """What :func:`listed_names` says of an open zip file, reading its end and its central directory, never its
    members (all of a zip64 one whose own end record is not where zipfile looks for it): a zip of JPEGs given where a
    model goes was read whole (up to 512 MB) to find no torch checkpoint's ``data.pkl`` in its names."""
    at = max(0, f.seek(0, os.SEEK_END) - (1 << 16) - 22)  # where zipfile looks for the end record
    f.seek(at)
    end, size = _end_record(f.read())
    if end < 0:
        return []
    f.seek(0 if size < 0 else max(0, at + end - size))
    return listed_names(f.read())


def _hidden_member(name: str) -> bool:
    """A member that is hidden or in a hidden folder, at any depth: a Mac's ``__MACOSX/`` tree of AppleDouble
    ``._name`` files (a zip unzipped and zipped again holds it one folder down), ``.DS_Store``. A ``./`` part is no
    hidden folder."""
    return any(is_hidden_name(part) for part in name.replace("\\", "/").split("/") if part not in ("", "."))


def read_zip(data: bytes, display: str, max_slices: int = MAX_SLICES, max_pixels: int = MAX_INPUT_PIXELS,
             per_input: bool = True) -> list[Volume]:
    """The DICOM series (and NIfTI files) in a zip archive, read in memory with zip-bomb limits (:func:`iter_zip`)."""
    return list(iter_zip(data, display, max_slices, max_pixels, per_input))


def _not_a_zip_text(data: bytes) -> str:
    """Why a file named ``.zip`` that does not begin as one is not read: it was "not a recognised volume: expected ...
    a .zip of a DICOM series" in the CLI and "not a recognised image or scan" on the web, and a download that saved a
    web page (a sign-in page) under the archive's name is common."""
    page = is_web_page(data) or data[:512].lstrip().startswith(b"<?xml")  # an XML error page too
    return ("not a zip archive: it does not begin as a zip file does"
            + (f" (it is {PAGE}: {SAVED_PAGE})" if page else " (another kind of file named .zip?)"))


def iter_zip(data: bytes, display: str, max_slices: int = MAX_SLICES, max_pixels: int = MAX_INPUT_PIXELS,
             per_input: bool = True) -> Iterator[Volume]:
    """The DICOM series (and NIfTI files) in a zip archive, read in memory with zip-bomb limits. ``per_input``: the
    slice and pixel limits hold for all of them together, else for each (a study's series one at a time, as they
    are taken: :func:`braintumor.dicom_series.iter_dicom_series`)."""
    if (listed := _listed_members(data)) > MAX_ZIP_MEMBERS:  # before zipfile builds an object for each
        raise ImageError(array_file_text(data) or f"zip archive lists {listed} members; the limit is {MAX_ZIP_MEMBERS}")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError):
        raise ImageError("zip archive is corrupt or truncated" if data.startswith(b"PK") else
                         compressed_text(data) or _not_a_zip_text(data)) from None
    files = [m for m in members if not m.is_dir()]
    if any(_unsafe_member(m.filename) for m in files):
        raise ImageError("zip archive has a member with an unsafe name (absolute path or '..'); refused")
    if len({m.header_offset for m in files}) < len(files):  # entries that point at one member: each re-read
        raise ImageError("zip archive has entries that share their data (overlapping entries: a zip bomb); refused")
    if methods := sorted({_METHODS.get(m.compress_type, f"method {m.compress_type}") for m in files
                          if m.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
                          and not m.flag_bits & 0x1}):  # an encrypted one is refused unread (load)
        raise ImageError(f"zip archive has members compressed with {' and '.join(methods)}: only stored and deflated "
                         "members are read (zip the scans again with the usual compression)")
    declared = sum(m.file_size for m in files)
    if declared > MAX_VOLUME_BYTES:
        raise ImageError(f"zip archive would expand to {declared} bytes; the limit is {MAX_VOLUME_BYTES}: "
                         "zip its series apart (a zip each) and send them one by one")
    if declared > ZIP_RATIO_FLOOR and declared > MAX_ZIP_RATIO * len(data):  # before any member is inflated
        raise ImageError(f"zip archive would expand to {declared:,} bytes, {declared / len(data):,.0f} times its "
                         f"own {len(data):,}; past {ZIP_RATIO_FLOOR >> 20} MiB a zip may expand {MAX_ZIP_RATIO} times "
                         "at most (DICOM files compress 2 to 5 times: a zip bomb)")
    read: dict[int, int] = {}  # header offset -> bytes: a member read again (a series, to decode it) counts once

    def load(member: zipfile.ZipInfo, dicom: bool = False, head: int = 0) -> bytes:
        """A member's bytes within the zip's limits; ``head``: its first ``head`` bytes only (a header's, b"" where
        unreadable: its whole read says why), as a member's first bytes are read to sort it."""
        if member.flag_bits & 0x1:
            raise ImageError("zip member is encrypted")
        if member.create_system == 3 and (member.external_attr >> 16) & 0o170000 == 0o120000:  # its data: a path
            raise ImageError("zip member is a symbolic link, not a file (zipped with zip -y): zip the scans themselves")
        if head:
            return _zip_head(archive, member, head)
        ratio = member.file_size / max(member.compress_size, 1)
        if dicom and member.file_size > 1_000_000 and ratio > MAX_DICOM_RATIO:
            raise ImageError(f"zip member expands {ratio:.0f} times its compressed size; over {MAX_DICOM_RATIO} is "
                             "refused (a DICOM file compresses 2 to 5 times: a zip bomb)")
        left = MAX_VOLUME_BYTES - sum(read.values()) + read.get(member.header_offset, 0)
        try:
            with archive.open(member) as fh:
                content = fh.read(min(member.file_size, left) + 1)
        except Exception:  # BadZipFile, zlib.error, lzma.LZMAError, OSError, NotImplementedError, ...: its own error
            raise ImageError("zip member is corrupt or uses an unsupported compression") from None
        if len(content) > member.file_size or len(content) > left:
            raise ImageError("zip member expands beyond its declared size; refused")
        read[member.header_offset] = len(content)
        return content

    dicoms, niftis, skipped, formats = [], [], Counter(), Counter()  # formats: images of a format not read
    images = 0  # images of a format read, given one by one (a zip holds scans)
    for m in files:
        lower = m.filename.lower()
        if _hidden_member(m.filename):
            skipped["hidden or system file"] += 1
        elif lower.endswith((".nii", ".nii.gz")):
            niftis.append(m)
        elif lower.endswith((".dcm", ".dicom")) or is_dicom_head(head := _zip_head(archive, m)):  # IM0001 too
            dicoms.append((m.filename, lambda m=m: load(m, dicom=True)))
        elif torch_head(head):  # a zipped run folder's best.pt: no scan inside it to zip apart
            skipped["a torch checkpoint (what 'braintumor train' writes), not a scan: send the MRI scans"] += 1
        elif lower.endswith(".zip") or head.startswith(b"PK\x03\x04"):
            skipped["a zip inside the zip (not opened: zip the scans themselves)"] += 1
        elif lower.endswith((".hdr", ".hdr.gz", *PAIR_IMAGE_ENDINGS)):  # as a .hdr or .img given alone is told
            skipped["half of a header/image pair (.hdr + .img: not read; save them as one .nii file)"] += 1
        elif fmt := other_format(head):  # a GIF, a HEIC: named from the bytes read above, as a folder's are
            formats[fmt] += 1
        elif head.startswith(IMAGE_MAGIC):  # a zipped folder of JPEG slices was "not DICOM or NIfTI", as a text is
            images += 1
        elif head.startswith(MAGIC):  # IM0001.dcm.gz, page.html.gz: was "not DICOM or NIfTI", a gzip of a DICOM file
            said = compressed_text(peeked(lambda n, m=m: _zip_head(archive, m, n), _PEEK))  # named as alone it is
            skipped[said or "not DICOM or NIfTI"] += 1
        else:
            skipped["not DICOM or NIfTI"] += 1
    notes = tuple(f"skipped {counted(n, 'file')} in the zip: {why}" for why, n in by_wording(skipped)) + tuple(
        f"skipped {counted(n, f + ' file')} in the zip, {unread_format_text(n)}" for f, n in sorted(formats.items()))
    if images:
        notes += (f"skipped {counted(images, 'image')} in the zip (JPEG, PNG, BMP, TIFF or WebP): a zip is read for "
                  "the DICOM and NIfTI scans it holds; unzip it to classify its images",)
    if not dicoms and not niftis:
        if torch_layout(m.filename for m in files):  # train's best.pt as an input: "skipped 80 ... hidden" files
            raise CheckpointInput(checkpoint_text(display))
        raise ImageError(array_file_text(data, [m.filename for m in members])  # (an .npz)
                         or "zip archive holds no DICOM or NIfTI file"
                         + (f" ({'; '.join(notes)})" if notes else ""))
    yield from zip_volumes(dicoms, niftis, load, notes, display, max_slices, max_pixels, per_input)


def _zip_head(archive: zipfile.ZipFile, member: zipfile.ZipInfo, size: int = 132) -> bytes:
    """A member's first ``size`` bytes (at most its declared size: zipfile reads no further), b"" where unreadable."""
    try:
        with archive.open(member) as fh:
            return fh.read(size)
    except Exception:  # a broken member is reported when it is read for real
        return b""
