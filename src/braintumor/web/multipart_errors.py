"""What was wrong with a multipart body Werkzeug could not parse, in a sentence a client developer can act on.

Werkzeug's form parser is silent by default: a body it cannot parse becomes an empty form, and the API answered
"no file uploaded: send one or more images in the field 'file'" to a client that had sent one there, in a body with
no boundary in its Content-Type (a Content-Type header set by hand on a FormData upload), a boundary its body does
not hold, a body cut short, or a file name that is not UTF-8. A body over 500 kB with a boundary it never holds was
"too many files or form fields in one request, or a form field too long". An empty body (a client whose file stream
was read to its end before the request was sent) was "the header and the body were made for different boundaries":
its developer looked for a boundary mismatch that was not there. A body that ends short of its Content-Length (gunicorn
ends the stream where the client closed its side, without a word) is said to be cut short, as a file sent as the body
is: with none of it come, it was called empty (0 bytes) where the client had announced its size.
"""

from __future__ import annotations

import re
from typing import IO, Any

from werkzeug.exceptions import BadRequest, RequestEntityTooLarge

from .disconnects import ClientGone, cut_short

NO_BOUNDARY = ("the Content-Type multipart/form-data names no boundary: let the HTTP client set a multipart upload's "
               "Content-Type itself (it adds the boundary), do not set that header by hand")
BOUNDARY_NOT_ASCII = "the multipart boundary in the Content-Type is not ASCII"
BOUNDARY_NOT_IN_BODY = ("the body holds no part delimited by the boundary its Content-Type names: the header and the "
                        "body were made for different boundaries, or the body is not multipart")
EMPTY_BODY = ("the request body is empty (0 bytes) where its Content-Type says multipart/form-data: no part was sent; "
              "send each image as a file part of the form")
CUT_SHORT = ("the multipart body ends before its closing boundary: it was cut short, or its parts are not delimited "
             "as multipart/form-data requires")
NO_DISPOSITION = "a part of the multipart body has no Content-Disposition header (the one that names its field)"
#: A file part sent without a file name is a text field to the form parser (Werkzeug's, every server's): how to name it.
NAMELESS_HINT = ("send it with one (curl: -F file=@scan.jpg, not -F file=<scan.jpg; Python requests: "
                 "files={'file': ('scan.jpg', data)}, not (None, data))")
NOT_UTF8 = ("a part's headers are not UTF-8 text (a file name in another encoding?): send file names in UTF-8, or "
            "name the file in ASCII (curl: -F 'file=@scan.jpg;filename=scan.jpg')")

#: A multipart body's start: (a line break,) a delimiter line, then part headers, one of them Content-Disposition:
#: form-data, or attachment as curl writes it with -F under a Content-Type of another kind.
_FORM_BODY = re.compile(rb"(?:\r?\n)?--[^\r\n]{1,70}\r?\n(?:[^\r\n:]+:[^\r\n]*\r?\n){0,8}?"
                        rb"content-disposition:[ \t]*(?:form-data|attachment)[ \t]*;", re.IGNORECASE)


def form_under_another_type(body: bytes, mimetype: str) -> str | None:
    """Why a body sent as one file (``Content-Type: image/jpeg``, ``application/octet-stream``) is a multipart form,
    or None: a Content-Type set by hand over curl's ``-F`` or a session's headers over ``requests``' ``files=``, whose
    good image was "not a recognised image or scan". The type is named after the first colon: ending the first clause
    ("... says image/jp2: ..."), it was read as a name there (pages.sentence), and the card did not capitalise it."""
    if not _FORM_BODY.match(body[:2048]):
        return None
    return (f"the body is a multipart form (a file upload), but its Content-Type is not multipart/form-data: it says "
            f"{mimetype[:60]}; let the HTTP client set a form upload's Content-Type itself (with its boundary), or "
            "send the file's bytes alone as the body")


class DelimiterWatch:
    """A body stream that notes whether ``delimiter`` (``--`` and the boundary) went by in what was read, and whether
    a read failed (the request's own stream: too large, too slow), so that a parse error can be told apart from
    those."""

    def __init__(self, stream: IO[bytes], delimiter: bytes) -> None:
        self._stream, self._delimiter = stream, delimiter
        self._tail = b""
        self.seen = False
        self.received = 0  # bytes read
        self.read_failed = False

    def read(self, *args: Any) -> bytes:
        try:
            data = self._stream.read(*args)
        except Exception:
            self.read_failed = True
            raise
        self.received += len(data)
        if not self.seen and data:
            window = self._tail + data
            self.seen = self._delimiter in window
            self._tail = window[-(len(self._delimiter) - 1):] if len(self._delimiter) > 1 else b""
        return data

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


class EndAtLimit:
    """A chunked body's stream (Werkzeug's LimitedStream, up to the upload limit) whose read at the limit is the end of
    the body when the client sent no more (``raw``: the request's own input), and a 413 only when it sent more.
    Werkzeug raises 413 on any read there, so a multipart body of exactly the limit was refused as too large."""

    def __init__(self, stream: IO[bytes], raw: IO[bytes]) -> None:
        self._stream, self._raw = stream, raw

    def read(self, *args: Any) -> bytes:
        if getattr(self._stream, "is_exhausted", False):
            if self._raw.read(1):
                raise RequestEntityTooLarge()
            return b""
        return self._stream.read(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def multipart_problem(exc: ValueError, watch: DelimiterWatch, announced: int | None = None) -> str:
    """The sentence for a ValueError of Werkzeug's multipart parser (its wording is not an API: a generic one else);
    ``announced``: the request's Content-Length. The parser's other errors come at the end of what it read, so a body
    shorter than that was cut short, whatever its form lacks."""
    if isinstance(exc, UnicodeDecodeError):
        return NOT_UTF8
    if "Content-Disposition" in str(exc):  # raised on a part's headers, before the end of the body
        return NO_DISPOSITION
    if announced is not None and watch.received < announced:
        return cut_short(watch.received, announced)
    if not watch.received:
        return EMPTY_BODY
    if not watch.seen:
        return BOUNDARY_NOT_IN_BODY
    return CUT_SHORT


def multipart_refusal(exc: ValueError, watch: DelimiterWatch, announced: int | None = None) -> BadRequest:
    """:func:`multipart_problem`'s 400: a :class:`~braintumor.web.disconnects.ClientGone` for a body that ended short
    of its Content-Length (the client closed the connection), counted apart from a malformed form."""
    said = multipart_problem(exc, watch, announced)
    gone = announced is not None and said == cut_short(watch.received, announced)
    return ClientGone(said) if gone else BadRequest(said)
