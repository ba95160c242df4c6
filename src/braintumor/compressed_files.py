"""What a gzip-, bzip2- or xz-compressed file that no reader takes is, and what to do with it.

Why its own module: the readers recognise content by its first bytes, and a compressed file's first bytes are the
compressor's. A gzipped JPEG sent as ``application/gzip`` was "not a recognised image or scan", with no word of gzip,
and a ``.tar.gz`` of DICOM files the same. A gzipped NIfTI volume (``.nii.gz``) is read, and never comes here; a
gzipped web page, PDF or DICOM file named ``.nii.gz`` does (:func:`compressed_text`).
"""

from __future__ import annotations

import bz2
import lzma
import zlib

from .documents import document_kind, document_text
from .image_headers import image_kind
from .nifti_header import header_kind

#: (first bytes, the compressor's name, the command that undoes it)
_COMPRESSORS: tuple[tuple[bytes, str, str], ...] = (
    (b"\x1f\x8b", "gzip", "gunzip"), (b"BZh", "bzip2", "bunzip2"), (b"\xfd7zXZ\x00", "xz", "unxz"))
#: Endings of compressed files (but .nii.gz, a volume): :func:`~braintumor.image_files.expand_inputs` yields a
#: folder's (a PACS export's ``IM0001.dcm.gz``), for ``predict_many`` to name what each holds, as predict's walk does.
ENDINGS: tuple[str, ...] = (".gz", ".tgz", ".bz2", ".tbz2", ".xz", ".txz")
#: Compressed bytes read, and bytes inflated, to tell what the file holds: a bound, whatever it declares (1024: as
#: much as :mod:`braintumor.documents` looks at, a browser's "saved from url" comment before a page's first tag).
_READ, _HEAD = 1 << 20, 1024
#: How compressed data begins: a zip's member that begins so (``IM0001.dcm.gz``) is named by :func:`compressed_text`,
#: not decompressed and read (nor is such a file named alone).
MAGIC: tuple[bytes, ...] = tuple(magic for magic, _, _ in _COMPRESSORS)
#: Bytes of a compressed file a folder's walk reads to name what it holds: a gzip's or xz's header and the 1024 bytes
#: it inflates to take fewer (a bzip2 inflates nothing before its block's end: a larger one is "a bzip2-compressed
#: file"). Read only of a file that begins as :data:`MAGIC`, which the walk opened anyway to look for DICOM.
PEEK: int = 4096


def _head(kind: str, data: bytes) -> tuple[bytes, bool]:
    """The first bytes ``data`` decompresses to (at most :data:`_HEAD`; b"" where they cannot be had), and whether
    they are whole: :data:`_HEAD` bytes, or all up to the compressed stream's end. Not where the data ends first (or
    :data:`_READ` does), as a download cut short does: then what they begin as is not said as what the file holds."""
    inflater = (zlib.decompressobj(16 + zlib.MAX_WBITS) if kind == "gzip" else
                bz2.BZ2Decompressor() if kind == "bzip2" else lzma.LZMADecompressor())
    try:
        head = inflater.decompress(data[:_READ], _HEAD)
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
        return b"", False
    return head, len(head) == _HEAD or inflater.eof


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


def compressed_kind(data: bytes) -> str | None:
    """What compressed ``data`` is, in words ("a gzip-compressed HTML page", "a bzip2-compressed file"), or None for
    data that starts as no compressor's output: for ``predict -``, whose piped file (a page curl fetched gzip-encoded,
    where a list of names was asked for) was "a gzip-compressed file", the uncompressed page "an HTML page"."""
    if (found := _compressor(data)) is None:
        return None
    name, _, article = found
    head, whole = _head(name, data)
    inner = (document_kind(head) if whole else None) or _inner(head)
    return f"{article} {name}-compressed {inner.split(' ', 1)[1] if inner else 'file'}"


def compressed_text(data: bytes, named: bool = False) -> str | None:
    """Why a compressed file is refused, what it holds where its first bytes tell, and how to undo it; None for a
    file that starts as no compressor's output.

    A PDF or HTML page is named in :func:`~braintumor.documents.document_text`'s words: a browser saves a page that a
    server sent gzip-encoded (a sign-in or error page, where a scan was asked for) as it came, under the link's name.
    ``named``: for a file sent to a scan's reader by its name (``scan.dcm``, ``scan.nii.gz``, a zip's member), None
    too where its whole first bytes name nothing it holds, and the reader says what is wrong (a gzipped DICOM file
    or page so named was "not a DICOM file" or "magic number missing"; a .nii.gz cut short, "truncated")."""
    if (found := _compressor(data)) is None:
        return None
    name, tool, article = found
    head, whole = _head(name, data)
    if whole and (document := document_text(head)):
        return f"{article} {name}-compressed file holding {document}"
    if name == "gzip" and header_kind(head) in ("nifti1", "nifti2"):  # read alone, by its content; a folder's or a
        return ("a gzip-compressed NIfTI volume without the .nii.gz ending, by which a folder's or zip's volumes are "
                "taken: rename it to end in .nii.gz")  # zip's were "decompress it (gunzip)", a .nii.gz told to gunzip
    inner = _inner(head) if whole or not named else None
    if named and inner is None:
        return None
    if inner == "a tar archive":
        return (f"{article} {name}-compressed tar archive: archives are read as zips of DICOM or NIfTI "
                "files; extract it and send the files in it, or a zip of them")
    holds = f" holding {inner}" if inner else ""
    return (f"{article} {name}-compressed file{holds}: compressed files are not read (but for a NIfTI volume, "
            f".nii.gz); decompress it ({tool}) and send what it holds")
