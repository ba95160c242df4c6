"""What the servers' logs show of a request, so that none holds client data (docs/WEB.md, Safety): the method and path
keys of gunicorn's access log, the error log's filter of rejected requests and failures, and tracebacks without the
exceptions' texts. For gunicorn (gunicorn_config.py), waitress (serve_waitress.py) and the app (web/server_logs.py)
alike; apart from gunicorn's settings (gunicorn_config.py had reached its size limit).

gunicorn_config.py loads this file by its path in gunicorn's master, which must never import the ``braintumor``
package: keep it free of ``braintumor`` imports.
"""

from __future__ import annotations

import logging
import re
import traceback

#: Where the app puts the path the access log shows (web/server_logs.py): the request's path, percent-encoded, without
#: its query string, and ``-`` for a path the app does not have (404).
LOGGED_PATH_KEY = "braintumor.logged_path"
#: Where the app puts the method the access log shows; the methods any log names (RFC 9110's, PATCH), another is ``-``.
LOGGED_METHOD_KEY = "braintumor.logged_method"
LOGGED_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "DELETE", "CONNECT", "OPTIONS", "TRACE", "PATCH"})
#: What a log shows for a method it does not name, and for a path the app does not have (web/server_logs.py).
UNNAMED = "-"
#: How gunicorn's error log words a request it rejects itself (malformed, or over its limits), before any app sees it.
_REJECTED = "Invalid request from ip="
#: Quoted text in such an error: what the client sent (``Invalid HTTP request line: 'GARBAGE ...'``).
_QUOTED = re.compile(r"'.*'|\".*\"", re.S)

#: How gunicorn's workers log (at debug level) a client that closed its connection in the middle of its headers, the
#: argument quoting every header byte that had arrived (``No more data after: b'...filename="jane-doe.dcm"...'``).
_CUT_SHORT = "Ignored premature client disconnection. %s"
#: How gunicorn's workers log an exception the app let through (``Error handling request %s %s``: the method and the
#: URI, query string and all), with its traceback.
_APP_FAILED = "Error handling request"


def logged_method(environ: dict) -> str:
    """The method a log shows for a request: one of :data:`LOGGED_METHODS`, else :data:`UNNAMED`. A method is whatever
    a client puts before the path: gunicorn takes 20 characters of most punctuation and capitals (``DOE^JANE``, a
    DICOM patient's name), Werkzeug's server any that hold no space, and the logs wrote them as sent (the access log;
    an unexpected error's line, the app's and gunicorn's). Here, free of ``braintumor`` imports, for both."""
    method = environ.get("REQUEST_METHOD")
    return method if method in LOGGED_METHODS else UNNAMED


def _chain(exc: BaseException) -> list[BaseException]:
    """``exc`` and the exceptions it was raised from or while handling, the first raised first."""
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)
    return chain[::-1]


def traceback_without_text(exc: BaseException) -> str:
    """A traceback as Python prints it, each exception named by its class only: its text (and its notes) can quote
    what it failed on, an upload's name, its bytes or a DICOM header's value (docs/WEB.md, Safety: no log holds them).
    Here, free of ``braintumor`` imports, for gunicorn's error log and the app's alike (web/server_logs.py)."""
    parts = []
    chain = _chain(exc)
    for i, e in enumerate(chain):
        if i:
            parts.append("\nThe above exception was the direct cause of the following exception:\n\n"
                         if e.__cause__ is chain[i - 1] else
                         "\nDuring handling of the above exception, another exception occurred:\n\n")
        module = type(e).__module__
        kind = type(e).__qualname__ if module == "builtins" else f"{module}.{type(e).__qualname__}"
        parts.append("Traceback (most recent call last):\n" + "".join(traceback.format_tb(e.__traceback__))
                     + f"{kind} (its text is left out of the log)\n")
    return "".join(parts).rstrip("\n")


def without_client_data(record: logging.LogRecord) -> bool:
    """Log a rejected request by the kind of its error only: gunicorn writes the client's address and quotes what it
    sent (a request line, a header), which can hold anything, patients' names included; docs/WEB.md (Safety) promises
    logs without either. A client gone in the middle of its headers is logged without them (debug level). An
    exception the app let through is logged with the request's method only (:func:`logged_method`), and its
    traceback without the exceptions' texts (:func:`traceback_without_text`). The rest of the error log passes as is."""
    if record.msg == _CUT_SHORT:
        record.msg, record.args = "Ignored premature client disconnection", ()
    elif isinstance(record.msg, str) and record.msg.startswith(_REJECTED) and ": " in record.msg:
        error = record.msg.split(": ", 1)[1]  # after the address (an IPv6 address has no ": ")
        record.msg, record.args = "Invalid request: %s", (_QUOTED.sub("...", error.split(": ", 1)[0]),)
    elif isinstance(record.msg, str) and record.msg.startswith(_APP_FAILED):
        args = record.args if record.msg.count("%s") == 2 and isinstance(record.args, tuple) else ()
        method = f" {logged_method({'REQUEST_METHOD': args[0]})}" if args else ""  # gunicorn takes DOE^JANE
        exc = record.exc_info[1] if record.exc_info else None
        record.msg, record.args = "%s%s%s", (_APP_FAILED, method, f"\n{traceback_without_text(exc)}" if exc else "")
        record.exc_info = record.exc_text = None
    return True
