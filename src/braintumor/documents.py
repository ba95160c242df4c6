"""What a file that is a document (or an array file), not an image or a scan, is, and what to send instead.

Why its own module: the readers recognise images and scans by their first bytes, and a PDF (a radiology report, or
slices a viewer printed to PDF) given by name or uploaded was "not a recognised image or scan", which listed what is
read but not what had been sent, nor how to get a slice out of it; so was an HTML page saved under an image's name.
Folder walks never open a ``.pdf`` (its ending is one of :data:`braintumor.dicom_sniff.NOT_SCAN_SUFFIXES`, as is an
``.html``'s): this is for one named or uploaded.
"""

from __future__ import annotations

import re

#: What a PDF and an HTML page are called (:func:`document_kind`, and the refusals below).
PDF: str = "a PDF document"
PAGE: str = "an HTML page"
#: What a PDF is said to be, and what to do: a viewer exports the slice itself; the DICOM file is what it showed.
PDF_DOCUMENT: str = (f"{PDF}, not an image or scan: export the slice from the viewer as PNG or JPEG, or "
                     "send its DICOM file")

#: What an HTML page is said to be: a download that saved a web page (a sign-in page, an error page) under the
#: image's name is the common way one arrives named ``scan.jpg``.
#: Why a web page arrives under a file's name (here, and of a page named ``.zip`` in ``zip_io``).
SAVED_PAGE: str = "a download that saved a web page, such as a sign-in page, under this name?"
WEB_PAGE: str = f"{PAGE}, not an image or scan ({SAVED_PAGE}): download the file itself again"
#: How an HTML page begins, after white space, in any case.
_PAGE_STARTS: tuple[bytes, ...] = (b"<!doctype html", b"<html", b"<head")
#: The other first tags by which a browser takes a file for HTML (the WHATWG MIME Sniffing standard's list, 7.1, and
#: ``<meta``: a redirect page, ``<meta http-equiv="refresh" ...>``, is a common sign-in page), each followed by a byte
#: that ends a tag name: a page without ``<html>`` (``<title>Sign in</title>``) was "not a recognised image or scan".
_PAGE_TAG = re.compile(rb"<(?:script|iframe|h1|div|font|table|a|style|title|b|body|br|p|meta)[\s>/]")


#: What may come before a page's first tag: an XML declaration (XHTML) and comments (a browser's "saved from url").
_PREAMBLES: tuple[tuple[bytes, bytes], ...] = ((b"<?xml", b"?>"), (b"<!--", b"-->"))


def is_web_page(data: bytes) -> bool:
    """Whether ``data`` begins as an HTML page does (:data:`_PAGE_STARTS`, :data:`_PAGE_TAG`), after a UTF-8 byte
    order mark (Windows writes one), white space, an XML declaration and comments (:data:`_PREAMBLES`): such pages
    were "not a recognised image or scan". An SVG, whose XML declaration is followed by ``<svg``, is none."""
    head = data[:1024].removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    while preamble := next(((start, end) for start, end in _PREAMBLES if head.startswith(start)), None):
        closed = head.find(preamble[1])
        if closed < 0:
            return False
        head = head[closed + len(preamble[1]):].lstrip()
    return head.startswith(_PAGE_STARTS) or _PAGE_TAG.match(head) is not None


def is_pdf(data: bytes) -> bool:
    """Whether ``data`` is a PDF, by its ``%PDF-`` header, which PDF readers look for in the first 1024 bytes (some
    writers put bytes before it)."""
    return b"%PDF-" in data[:1024]


def document_kind(data: bytes) -> str | None:
    """What document ``data`` is, in words ("a PDF document", "an HTML page"), or None: for ``predict -``, whose piped
    file (a sign-in page curl fetched in place of a list of names) is told what it holds, not read as names."""
    return PDF if is_pdf(data) else PAGE if is_web_page(data) else None


def document_text(data: bytes) -> str | None:
    """Why a document handed to a reader is refused, and what to send instead; None for anything else."""
    return PDF_DOCUMENT if is_pdf(data) else WEB_PAGE if is_web_page(data) else base64_image_text(data)


#: The start of an image's base64 text: 24 characters are 18 bytes, enough for every image signature (WebP's 12);
#: base64url's '-' and '_' too ('/9j/', a JPEG's start, is '_9j_' there).
_BASE64_HEAD = re.compile(rb"[A-Za-z0-9+/_-]{24}")
_URL_SAFE = bytes.maketrans(b"-_", b"+/")


def base64_image(data: bytes) -> tuple[str, bool] | None:
    """The kind of image (``"PNG"``) whose base64 text, or data: URL (then True), ``data`` begins with, by the decoded
    start; None for anything else. Also of such text held as a str (missing_files.long_name_text): any long run of
    letters and digits was told "base64 text?" there, text of no image included."""
    import base64  # (an error path only)

    from .bmp_header import HEADER_SIZES
    from .image_headers import image_kind  # (image_headers imports image_io, which imports this module)

    head = data[:4096].lstrip()
    url = head[:5].lower() == b"data:" and b";base64," in head.partition(b",")[0] + b","
    payload = head.partition(b",")[2] if url else head
    start = base64.b64decode(payload[:24].translate(_URL_SAFE)) if _BASE64_HEAD.match(payload) else b""
    kind = image_kind(start)  # a BMP's 'BM' by its DIB header size too: base64 of any text 'BM...' ('BMI report')
    if not kind or (kind == "BMP" and int.from_bytes(start[14:18], "little") not in HEADER_SIZES):
        return None
    return kind, url


def base64_image_text(data: bytes) -> str | None:
    """Why an image's base64 text or data: URL handed over as bytes (``b64encode``'s output, a JSON field encoded, a
    text file of it saved as scan.png) is refused, and how to get the image's bytes; None for anything else: it was
    "not a recognised image", of a good image one decoding away (its text as a str: missing_files.long_name_text)."""
    if (found := base64_image(data)) is None:
        return None
    kind, url = found
    # base64url (Gmail's API gives attachments so): b64decode drops its '-' and '_' and gives damaged bytes
    at = data.find(b",") + 1 if url else 0  # (find, not a copy of up to the upload limit's bytes)
    decode = "urlsafe_b64decode" if data.find(b"-", at) >= 0 or data.find(b"_", at) >= 0 else "b64decode"
    how = f"base64.{decode}(data.partition(b',')[2])" if url else f"base64.{decode}(data)"
    return (f"{'a data: URL' if url else 'base64 text'} of a {kind} image, not the image's bytes: {how} gives "
            "them")


#: Array files, by their first bytes: what each is, and how Python reads its array (a MATLAB 7.3 file is HDF5 behind
#: a 512-byte text header; h5py gives its arrays transposed, as MATLAB stores them column by column).
_ARRAY_FILES: tuple[tuple[bytes, str, str], ...] = (
    (b"\x93NUMPY", "a NumPy array file (.npy)", "np.load(name)"),
    (b"MATLAB 7.3 MAT-file", "a MATLAB 7.3 file (.mat)", "h5py.File(name)[key][()].T"),
    (b"MATLAB 5.0 MAT-file", "a MATLAB file (.mat)", "scipy.io.loadmat(name)[key]"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file", "h5py.File(name)[key][()]"))


def array_file_text(data: bytes, names: list[str] | None = None) -> str | None:
    """Why an array file (NumPy's .npy or .npz, MATLAB's .mat, HDF5) handed to a reader is refused, and what to do
    instead; None for anything else. A research collection's slices come so (the figshare brain tumour set as MATLAB
    7.3 files): they were "not a recognised image", sent on to read_volumes, and an .npz "a zip file" for it to read.
    ``names``: a zip's member names where the caller has listed them (iter_zip listed its directory twice)."""
    found = next(((what, how) for head, what, how in _ARRAY_FILES if data.startswith(head)), None)
    if found is None and data.startswith(b"PK\x03\x04"):
        from .zip_io import listed_names  # (zip_io imports this module)

        names = listed_names(data) if names is None else names
        if names and all(name.endswith(".npy") for name in names):  # what np.savez writes
            found = "a NumPy archive (.npz)", "np.load(name)[key]"
    return found and (f"{found[0]}, not an image or scan: save the slice as PNG, or in Python pass its array to "
                      f"Classifier.predict ({found[1]} reads it)")
