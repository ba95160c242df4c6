"""What a gzip-, bzip2- or xz-compressed file that no reader takes is, and what to do with it.

Why its own module: the readers recognise content by its first bytes, and a compressed file's first bytes are the
compressor's. A gzipped JPEG sent as ``application/gzip`` was "not a recognised image or scan", with no word of gzip,
and a ``.tar.gz`` of DICOM files the same. A gzipped NIfTI volume (``.nii.gz``) is read, and never comes here; a
gzipped web page, PDF or DICOM file named ``.nii.gz`` does (:func:`compressed_text`).
"""

from __future__ import annotations

import bz2
import lzma
from collections.abc import Callable

from .documents import PDF, PDF_DOCUMENT, WEB_PAGE, document_kind
from .image_headers import IMAGE_SIGNATURES, image_kind
from .nifti_header import gunzip_head, header_kind

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
    """The first bytes ``data`` decompresses to (at most :data:`_HEAD`; b"" where they cannot be had, or a gzip's
    before what stopped it), and whether they are whole: :data:`_HEAD` bytes, or all up to the compressed stream's end.
    Not where the data ends first (or :data:`_READ` does), as a download cut short does, or is damaged: then what they
    begin as is not said as what the file holds."""
    if kind == "gzip":  # as the NIfTI reader inflates it: member after member (a header split over them was
        return gunzip_head(data[:_READ], _HEAD)  # 'a gzip-compressed file' in a zip or folder, read alone)
    inflater = bz2.BZ2Decompressor() if kind == "bzip2" else lzma.LZMADecompressor()
    try:
        head = inflater.decompress(data[:_READ], _HEAD)
    except (OSError, EOFError, ValueError, lzma.LZMAError):
        return b"", False
    return head, len(head) == _HEAD or inflater.eof


def peeked(read: Callable[[int], bytes], size: int) -> bytes:
    """A compressed file's first ``size`` bytes (``read(n)``: its first n), to name what it holds by, or its first
    :data:`_READ` where those end inside its gzip header (a file name or comment longer than they are) and inflate to
    nothing, as a file named alone is read: a zip's or folder's gzipped NIfTI volume after a 100 kB name (10 kB in a
    folder) was 'a gzip-compressed file: ... decompress it', not told to be renamed."""
    head = read(size)
    if len(head) == size and head.startswith(b"\x1f\x8b") and not _head("gzip", head)[0]:
        head = read(_READ)
    return head


def _inner(head: bytes) -> str | None:
    """What decompressed bytes start as, in words (None: nothing this module can name)."""
    return _INNER.get(_holds("", head, whole=False))


def _holds(name: str, head: bytes, whole: bool) -> str:
    """What the first bytes ``head`` that ``name``'s data decompresses to hold, by a code (the keys of
    :func:`page_words`, which static/compressed.js computes alike from the bytes it inflates): "pdf" or "page" (a
    document, only when ``whole``: :func:`_head`), "nifti" (gzip only), "dicom", "tar", "zip", "image:JPEG"..., or ""
    for nothing named."""
    if whole and (document := document_kind(head)):
        return "pdf" if document == PDF else "page"
    if name == "gzip" and header_kind(head) in ("nifti1", "nifti2"):
        return "nifti"
    if head[128:132] == b"DICM":
        return "dicom"
    if head[257:262] == b"ustar":
        return "tar"
    if head[:4] == b"PK\x03\x04":
        return "zip"
    kind = image_kind(head)
    return f"image:{kind}" if kind else ""


#: What :func:`_holds`' codes of a thing held are in words (a document's and a NIfTI volume's words are their own).
_INNER: dict[str, str] = {"dicom": "a DICOM file", "tar": "a tar archive", "zip": "a zip file",
                          **{f"image:{kind}": f"a {kind} image" for _, kind in IMAGE_SIGNATURES}}


def _words(name: str, tool: str, article: str, holds: str) -> str:
    """Why ``name``-compressed data that holds ``holds`` (a :func:`_holds` code) is refused, and what to do."""
    if holds in ("pdf", "page"):
        return f"{article} {name}-compressed file holding {PDF_DOCUMENT if holds == 'pdf' else WEB_PAGE}"
    if holds == "nifti":  # read alone, by its content; a folder's or a zip's were "decompress it (gunzip)", a .nii.gz
        return ("a gzip-compressed NIfTI volume without the .nii.gz ending, by which a folder's or zip's volumes are "
                "taken: rename it to end in .nii.gz")  # told to gunzip
    if holds == "tar":
        return (f"{article} {name}-compressed tar archive: archives are read as zips of DICOM or NIfTI "
                "files; extract it and send the files in it, or a zip of them")
    inner = f" holding {_INNER[holds]}" if holds else ""
    return (f"{article} {name}-compressed file{inner}: compressed files are not read (but for a NIfTI volume, "
            f".nii.gz); decompress it ({tool}) and send what it holds")


def _compressor(data: bytes) -> tuple[str, str, str] | None:
    """The compressor whose output ``data`` starts as: its name, the command that undoes it, and the article its name
    takes; None for anything else."""
    return next(((name, tool, _article(name)) for magic, name, tool in _COMPRESSORS if data.startswith(magic)), None)


def _article(name: str) -> str:
    """The article a compressor's name takes, read aloud: an ex-zed."""
    return "an" if name == "xz" else "a"


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
    holds = _holds(name, head, whole)
    if named and (not holds or (not whole and holds != "nifti")):  # nothing held, or named from a part
        return None
    return _words(name, tool, article, holds)


def page_words() -> dict:
    """For a folder dropped on the page, whose walk (static/compressed.js) inflates what it can and says what the CLI's
    note says (it named the compressor alone, "a gzip-compressed file", where the CLI said "a gzip-compressed file
    holding a PDF document"): each compressor's first bytes and its words for each thing :func:`_holds` names in it
    (``kinds``: its code, "" for nothing; other codes for gzip alone, as browsers inflate no other), how much of a
    file the CLI reads and inflates (``peek``, ``most``; ``read`` where a gzip's first ``peek`` are all its header:
    :func:`peeked`), and the first bytes of the images it names (``images``)."""
    codes = ("", "pdf", "page", "nifti", *_INNER)  # for gzip: a browser inflates no other (the page's weight)
    return {"kinds": [[list(magic), {code: _words(name, tool, _article(name), code)
                                     for code in (codes if name == "gzip" else ("",))}]
                      for magic, name, tool in _COMPRESSORS],
            "peek": PEEK, "read": _READ, "most": _HEAD,
            "images": [[list(magic), kind] for magic, kind in IMAGE_SIGNATURES]}
