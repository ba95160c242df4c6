"""What a gzip-, bzip2- or xz-compressed file that no reader takes is, and what to do with it.

Why its own module: the readers recognise content by its first bytes, and a compressed file's first bytes are the
compressor's. A gzipped JPEG sent as ``application/gzip`` was "not a recognised image or scan", with no word of gzip,
and a ``.tar.gz`` of DICOM files the same. A gzipped NIfTI volume (``.nii.gz``) is read, and never comes here; a
gzipped web page or PDF named ``.nii.gz`` does (:func:`compressed_document_text`).
"""

from __future__ import annotations

import bz2
import lzma
import zlib

from .documents import document_text
from .image_headers import image_kind

#: (first bytes, the compressor's name, the command that undoes it)
_COMPRESSORS: tuple[tuple[bytes, str, str], ...] = (
    (b"\x1f\x8b", "gzip", "gunzip"), (b"BZh", "bzip2", "bunzip2"), (b"\xfd7zXZ\x00", "xz", "unxz"))
#: Compressed bytes read, and bytes inflated, to tell what the file holds: a bound, whatever it declares (1024: as
#: much as :mod:`braintumor.documents` looks at, a browser's "saved from url" comment before a page's first tag).
_READ, _HEAD = 1 << 20, 1024


def _head(kind: str, data: bytes, whole: bool = False) -> bytes:
    """The first bytes ``data`` decompresses to (at most :data:`_HEAD`), b"" where they cannot be had. ``whole``: b""
    too where the data ends (or is past :data:`_READ`) before :data:`_HEAD` bytes or the compressed stream's end, as a
    download cut short does: such a page is not named a page (named ``.nii.gz``, it is said to be truncated)."""
    inflater = (zlib.decompressobj(16 + zlib.MAX_WBITS) if kind == "gzip" else
                bz2.BZ2Decompressor() if kind == "bzip2" else lzma.LZMADecompressor())
    try:
        head = inflater.decompress(data[:_READ], _HEAD)
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
        return b""
    return b"" if whole and len(head) < _HEAD and not inflater.eof else head


def _inner(head: bytes) -> str | None:
    """What decompressed bytes start as, in words (None: nothing this module can name)."""
    if head[128:132] == b"DICM":
        return "a DICOM file"
    if head[257:262] == b"ustar":
        return "a tar archive"
    if head[:4] == b"PK\x03\x04":
        return "a zip file"
    kind = image_kind(head)
    return kind and f"a {kind} image"


def _compressor(data: bytes) -> tuple[str, str, str] | None:
    """The compressor whose output ``data`` starts as: its name, the command that undoes it, and the article its name
    takes; None for anything else."""
    return next(((name, tool, "an" if name == "xz" else "a")  # read aloud: an ex-zed
                 for magic, name, tool in _COMPRESSORS if data.startswith(magic)), None)


def compressed_document_text(data: bytes) -> str | None:
    """Why a compressed PDF or HTML page is refused, in :func:`~braintumor.documents.document_text`'s words, or None.

    A browser saves a page that a server sent gzip-encoded (a sign-in or error page, where a scan was asked for) as it
    came, under the link's name: ``scan.nii.gz`` was "magic number missing" and ``scan.jpg`` "a gzip-compressed file",
    where the same page uncompressed is named. Only the first :data:`_HEAD` inflated bytes are looked at."""
    if (found := _compressor(data)) is None:
        return None
    name, _, article = found
    document = document_text(_head(name, data, whole=True))
    return document and f"{article} {name}-compressed file holding {document}"


def compressed_text(data: bytes) -> str | None:
    """Why a compressed file is refused, what it holds where its first bytes tell, and how to undo it; None for a
    file that starts as no compressor's output."""
    if (found := _compressor(data)) is None:
        return None
    if document := compressed_document_text(data):
        return document
    name, tool, article = found
    inner = _inner(_head(name, data))
    if inner == "a tar archive":
        return (f"{article} {name}-compressed tar archive: archives are read as zips of DICOM or NIfTI "
                "files; extract it and send the files in it, or a zip of them")
    holds = f" holding {inner}" if inner else ""
    return (f"{article} {name}-compressed file{holds}: compressed files are not read (but for a NIfTI volume, "
            f".nii.gz); decompress it ({tool}) and send what it holds")
