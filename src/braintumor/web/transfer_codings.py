"""A request body in a transfer coding the app would read as the file's bytes: a 501 that names it.

gunicorn takes ``Transfer-Encoding: gzip, chunked`` (and ``deflate``, ``compress``) and undoes the chunks only;
Werkzeug's development server undoes the chunks of any list that names ``chunked`` (``foo, chunked``) and reads a body
with ``gzip`` alone as empty. The app then read the compressed bytes as the upload ("a gzip-compressed file holding a
JPEG", or a "classified" file whose coding it never undid): :func:`refuse_transfer_codings` answers 501 first.

Apart from the body's reading in :mod:`braintumor.web.client_input` (which had reached 298 lines).
"""

from __future__ import annotations

from flask import Flask, request
from werkzeug.exceptions import NotImplemented as NotImplementedStatus

#: The transfer codings a request may name: chunked framing, which the servers undo, and identity, which is none.
FRAMING_CODINGS = frozenset({"chunked", "identity"})


class UnsupportedTransferCoding(NotImplementedStatus):
    """501 for a request body in a transfer coding the app does not undo: RFC 9112 (6.1) asks for 501 for a transfer
    coding the server does not understand, as gunicorn answers one it does not know (``foo``) before the app; not
    400, which says the request is malformed, when ``gzip`` is valid HTTP that this server does not implement."""


def transfer_coding_problem(environ: dict) -> str | None:
    """What is wrong with the request's ``Transfer-Encoding``, naming the codings (each cut to 40 characters, only
    printable ASCII) other than :data:`FRAMING_CODINGS`; None when there are none."""
    sent = environ.get("HTTP_TRANSFER_ENCODING", "")
    names = [part.split(";", 1)[0].strip(" \t").lower() for part in sent.split(",")]
    other = [name for name in dict.fromkeys(names) if name and name not in FRAMING_CODINGS]
    if not other:
        return None
    named = ", ".join("".join(c if " " <= c <= "~" else "?" for c in name[:40]) for name in other)
    return (f"Transfer-Encoding {named} is not taken: send the body as it is, with a Content-Length or with "
            "Transfer-Encoding: chunked alone (a .nii.gz or a .zip is sent as the file it is)")


def refuse_transfer_codings(app: Flask) -> None:
    """Answer 501 (:class:`UnsupportedTransferCoding`) to a request whose body is in a transfer coding other than
    :data:`FRAMING_CODINGS`, before its route runs (static files included) and before anything reads the body."""

    @app.before_request
    def _check_transfer_coding() -> None:
        if problem := transfer_coding_problem(request.environ):
            raise UnsupportedTransferCoding(problem)
