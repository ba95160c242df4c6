"""What a gzip-, bzip2- or xz-compressed file that no reader takes is, and what to do with it.

Why its own module: the readers recognise content by its first bytes, and a compressed file's first bytes are the
compressor's. A gzipped JPEG sent as ``application/gzip`` was "not a recognised image or scan", with no word of gzip,
and a ``.tar.gz`` of DICOM files the same. A gzipped NIfTI volume (``.nii.gz``) is read, and never comes here.
"""

from __future__ import annotations

import bz2
import lzma
import zlib

from .image_headers import image_kind

#: (first bytes, the compressor's name, the command that undoes it)
_COMPRESSORS: tuple[tuple[bytes, str, str], ...] = (
    (b"\x1f\x8b", "gzip", "gunzip"), (b"BZh", "bzip2", "bunzip2"), (b"\xfd7zXZ\x00", "xz", "unxz"))
#: Compressed bytes read, and bytes inflated, to tell what the file holds: a bound, whatever it declares.
_READ, _HEAD = 1 << 20, 512


def _head(kind: str, data: bytes) -> bytes:
    """The first bytes ``data`` decompresses to (at most :data:`_HEAD`), b"" where they cannot be had."""
    try:
        if kind == "gzip":
            return zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(data[:_READ], _HEAD)
        inflater = bz2.BZ2Decompressor() if kind == "bzip2" else lzma.LZMADecompressor()
        return inflater.decompress(data[:_READ], max_length=_HEAD)
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
        return b""


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


def compressed_text(data: bytes) -> str | None:
    """Why a compressed file is refused, what it holds where its first bytes tell, and how to undo it; None for a
    file that starts as no compressor's output."""
    found = next(((name, tool) for magic, name, tool in _COMPRESSORS if data.startswith(magic)), None)
    if found is None:
        return None
    name, tool = found
    article = "an" if name == "xz" else "a"  # read aloud: an ex-zed
    inner = _inner(_head(name, data))
    if inner == "a tar archive":
        return (f"{article} {name}-compressed tar archive: archives are read as zips of DICOM or NIfTI "
                "files; extract it and send the files in it, or a zip of them")
    holds = f" holding {inner}" if inner else ""
    return (f"{article} {name}-compressed file{holds}: compressed files are not read (but for a NIfTI volume, "
            f".nii.gz); decompress it ({tool}) and send what it holds")
