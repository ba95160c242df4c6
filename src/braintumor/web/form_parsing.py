"""How the web app parses a request's form: in memory, never spooled to a temporary file (:class:`InMemoryRequest`,
whose memory MAX_CONTENT_LENGTH bounds), multipart bodies with a per-process boundary (:class:`StableBoundaryParser`)
and a 400 that says why one cannot be parsed (:mod:`braintumor.web.multipart_errors`). Apart from the app's factory
in :mod:`braintumor.web` (which had reached 299 lines); these names are imported from here.
"""

from __future__ import annotations

import io
import secrets
from typing import IO

from flask import Request
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge
from werkzeug.formparser import FormDataParser

from .multipart_errors import (
    BOUNDARY_NOT_ASCII,
    BOUNDARY_NOT_IN_BODY,
    NO_BOUNDARY,
    DelimiterWatch,
    EndAtLimit,
    multipart_refusal,
)

#: Multipart bodies up to this size have their boundary swapped (StableBoundaryParser); larger ones
#: (volumes, series) are parsed as sent: the saving is per request, the copy would be per byte.
STABLE_BOUNDARY_MAX_BYTES: int = 8 * 1024 * 1024
_stable_boundaries: dict[int, str] = {}


def _stable_boundary(length: int) -> str:
    """This process's boundary of ``length`` characters: random (clients cannot aim at it), then fixed."""
    if length not in _stable_boundaries:
        _stable_boundaries[length] = secrets.token_hex(length)[:length]
    return _stable_boundaries[length]


class StableBoundaryParser(FormDataParser):
    """Werkzeug compiles two regular expressions for every new multipart boundary (0.6 ms of CPU here), and
    browsers and HTTP libraries send a new random boundary with every request: each upload paid for them.
    The client's delimiters are rewritten to a per-process boundary of the same length (same body length),
    so Python's regex cache serves them from the second request on. Only for boundaries of 16+ characters
    (every browser, curl and requests), which cannot occur by chance inside the files they delimit."""

    #: The request's own body stream (InMemoryRequest sets it), read past the limit to tell a chunked body that ends
    #: there from one that goes on.
    raw_input: IO[bytes] | None = None

    def parse(self, stream: IO[bytes], mimetype: str, content_length: int | None,
              options: dict[str, str] | None = None) -> tuple:
        """Also: a multipart body it cannot parse is a 400 that says why (multipart_errors), not an empty form."""
        if mimetype != "multipart/form-data":
            return super().parse(stream, mimetype, content_length, options)
        boundary = (options or {}).get("boundary", "")
        if not boundary:
            raise BadRequest(NO_BOUNDARY)
        if not boundary.isascii():
            raise BadRequest(BOUNDARY_NOT_ASCII)
        if 16 <= len(boundary) <= 70 and content_length is not None and content_length <= STABLE_BOUNDARY_MAX_BYTES:
            stable = _stable_boundary(len(boundary))
            body = stream.read(content_length)
            stream = io.BytesIO(body.replace(b"--" + boundary.encode(), b"--" + stable.encode()))
            options = {**options, "boundary": stable}
            boundary = stable
        if content_length is None and self.raw_input is not None:  # chunked: read up to the limit exactly
            stream = EndAtLimit(stream, self.raw_input)  # type: ignore[assignment]
        watch = DelimiterWatch(stream, b"--" + boundary.encode())
        silent, self.silent = self.silent, False
        try:
            return super().parse(watch, mimetype, content_length, options)  # type: ignore[arg-type]
        except ValueError as exc:
            if watch.read_failed:  # the body's stream, not its form: an empty form, as Werkzeug gives
                return stream, self.cls(), self.cls()
            raise multipart_refusal(exc, watch, content_length) from None
        except RequestEntityTooLarge:
            # the parser's own 413 (not the body's limit): its buffer grew past 500 kB waiting for a delimiter
            if not watch.read_failed and not watch.seen:
                raise BadRequest(BOUNDARY_NOT_IN_BODY) from None
            raise
        finally:
            self.silent = silent


class InMemoryRequest(Request):
    """Werkzeug spools uploads over 500 KB to a temporary file; keep them in memory instead.

    The body is bounded by MAX_CONTENT_LENGTH, so memory per request is bounded too.
    """

    form_data_parser_class = StableBoundaryParser

    def make_form_data_parser(self) -> StableBoundaryParser:
        parser = super().make_form_data_parser()
        parser.raw_input = self.environ.get("wsgi.input")  # type: ignore[attr-defined]
        return parser  # type: ignore[return-value]

    def _get_file_stream(self, total_content_length: int | None, content_type: str | None,
                         filename: str | None = None, content_length: int | None = None) -> IO[bytes]:
        return io.BytesIO()
