"""The OpenAPI 3.1 document of the JSON API: its paths and responses (its schemas, checked against real responses in
tests: :mod:`braintumor.web.api_schemas`)."""

from __future__ import annotations

from .. import __version__
from .api_schemas import component_schemas, ref
from .inference import FIELD, HEATMAP_OFF, HEATMAP_ON, RAW_TYPES, WebState
from .request_ids import REQUEST_ID_HEADER, SAFE_ID_PATTERN

#: Every answer's (web/__init__.py's after_request): a result is about one patient's scan, never to be kept by a proxy.
_NO_STORE: dict = {"Cache-Control": {"description": "Never cached.", "schema": {"type": "string", "const": "no-store"}}}
#: Every answer's too (web/request_ids.py): the request's X-Request-ID if a trusted proxy sent it as 1-128 of these
#: characters, else a fresh one; the server's log lines of the request name it.
_REQUEST_ID: dict = {REQUEST_ID_HEADER: {
    "description": "The request's id, as the server's logs name it: the X-Request-ID sent by a proxy the server "
                   "trusts, if it is 1-128 characters of letters, digits and `._:-`; else (any other client's too) a "
                   "fresh random one (32 hex digits).", "required": True,
    "schema": {"type": "string", "pattern": f"^{SAFE_ID_PATTERN}$"}}}


#: A 415 for a compressed body (inference.UnsupportedCoding): declared, not only said in prose, for a client that acts
#: on it (RFC 9110 15.5.16); absent from a 415 for a body of another type.
_ACCEPT_IDENTITY: dict = {"Accept-Encoding": {"description": "Only where the body was compressed: send it as it is.",
                                              "schema": {"type": "string", "const": "identity"}}}


def _with_headers(response: dict, headers: dict) -> dict:
    """``response`` with ``headers`` declared beside its Cache-Control and X-Request-ID."""
    return {**response, "headers": {**response["headers"], **headers}}


def _any_case(words: tuple[str, ...]) -> str:
    """A pattern of ``words`` in any case (``[tT][rR][uU][eE]``): JSON Schema's ECMA-262 patterns have no flag for it,
    and the enum of lower-case values said ``?heatmap=TRUE`` was wrong where the server takes it."""
    return "^(" + "|".join("".join(f"[{c}{c.upper()}]" if c.isalpha() else c for c in w) for w in words) + ")$"


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "headers": {**_NO_STORE, **_REQUEST_ID},
            "content": {"application/json": {"schema": schema}}}


def openapi_document(st: WebState, root: str = "") -> dict:
    """The document for this server's model (class names) and limits, its paths under ``root`` (the request's
    SCRIPT_NAME: behind a proxy's path prefix a client otherwise resolved ``/api/v1/predict`` against the host's root,
    OpenAPI's default server ``/``). Relative, so that it holds whatever host and scheme the proxy serves."""
    classes = list(st.classifier.classes)
    error = ref("Error")
    raw_types = [t + "*" if t.endswith("/") else t for t in RAW_TYPES]
    predict = {
        "summary": "Classify brain MRI slices",
        "description": (
            f"Multipart upload, field `{FIELD}`, repeatable (at most {st.max_files} files, {st.max_upload_mb} MiB in "
            f"all); or one file as the whole body (Content-Type {', '.join(raw_types)}; a Content-Disposition "
            "filename names it in the results). "
            "The file type is sniffed from the content (JPEG, PNG, BMP, TIFF, WebP; DICOM, NIfTI, a zip of DICOM "
            f"or NIfTI files), never from the name. A volume gives one record per slice (`slice`, 0-based; at most "
            f"{st.max_slices} slices per request) and a summary under `series`. "
            "Status: 200 when at least one file was read and answered, classified or refused (`ood`; the others "
            "carry an `error`); 400 when none could be read (e.g. a single bad file: `results` says why), or when "
            "the request has no files (an empty body), a body with no Content-Type, the wrong field, a text field "
            "beside the files, too many files, "
            "a multipart body it cannot read, a `heatmap` value it does not take, or a query parameter other than "
            "`heatmap` (`error` says which); 413 when the request is too large; 415 when the body's Content-Type is "
            "neither multipart nor one of the types above, or the body is compressed."
        ),
        "parameters": [{"name": "heatmap", "in": "query", "required": False,
                        "description": "1 to add image_png_base64 (the crop the model saw) to each file read, "
                                       "refused ones too, and heatmap_png_base64 to each classified one (for a "
                                       "volume: to its most suspicious slices only); 1/0, true/false, yes/no, "
                                       "on/off, in any case (TRUE, Yes)",
                        "schema": {"type": "string", "pattern": _any_case(HEATMAP_ON + HEATMAP_OFF)}},
                       {"name": "Content-Disposition", "in": "header", "required": False,
                        "description": "for a body that is one file, `attachment; filename=\"scan.jpg\"` names it as "
                                       "`path` (default upload-1); never in the URL, which proxies' access logs keep",
                        "schema": {"type": "string"}}],
        "requestBody": {"required": True, "content": {
            "multipart/form-data": {"schema": {"type": "object", "required": [FIELD], "properties": {
                FIELD: {"type": "array", "items": {"type": "string", "contentMediaType": "application/octet-stream"}}
            }}},
            **{t: {"schema": {"type": "string", "contentMediaType": t}} for t in raw_types},
        }},
        "responses": {
            "200": _json(ref("PredictResponse"), "Per-file results, in upload order."),
            "400": _json({"oneOf": [ref("PredictResponse"), error]},
                         "No file could be read (`results`, each with its `error`; a refused file is an answer: "
                         "200), or a malformed request (`error`)."),
            "403": _json(error, "A browser sent it for a page of another site (its `Sec-Fetch-Site` is not "
                                "`same-origin`, or without one its `Origin` is not the `Host`), before the body is "
                                "read; programs send neither header. `$BRAINTUMOR_TRUSTED_ORIGINS` lets a site's pages "
                                "post."),
            "408": _json(error, "The body stopped arriving before its end: nothing came for `--client-timeout` "
                                "seconds (30 by default), or it was still arriving `--request-timeout` seconds (60 by "
                                "default) after the headers."),
            "413": _json(error, "The request is larger than the upload limit."),
            "415": _with_headers(_json(error, "The body's Content-Type is neither multipart/form-data nor one of "
                                              "those listed above (a body with none: 400), or the body is compressed "
                                              "(a Content-Encoding other than identity: the answer then carries "
                                              "`Accept-Encoding: identity`)."),
                                 _ACCEPT_IDENTITY),
            "501": _json(error, "The body is in a transfer coding other than chunked (`Transfer-Encoding: gzip, "
                                "chunked`): send it as it is, with a Content-Length or `Transfer-Encoding: chunked` "
                                "alone."),
            "503": _json(ref("ModelFailure"), "No file was answered and the server's model gave scores that "
                                              "are not finite for one at least (its file damaged: the operator's "
                                              "to replace): `error` says so, `results` keeps each file's record; "
                                              "among files answered, such a file is its own FileError (200)."),
        },
    }
    # a 500 is a bug, and never carries a traceback; 404 and 405 belong to no operation: info's description says them
    other = {"default": _json(error, "Any other error (500: a bug, never expected), as `{\"error\": sentence}`.")}
    no_query = _json(error, "A query parameter: this route takes none (`error` names it).")
    return {
        "openapi": "3.1.0",
        "info": {"title": "braintumor API", "version": __version__,
                 "description": "Brain MRI slice classifier (research software, not a medical device). "
                                "Uploads are processed in memory and never stored. Every error answers the Error "
                                "schema, `{\"error\": sentence}`: also 404 for an unknown path under /api/ and 405 "
                                "(with the Allow header) for a method a path does not take, and 400 on every path "
                                "for a request that names a host this server does not answer to (in its Host header "
                                "or an absolute-form request line; `serve --allowed-host`); 403 on every path for a "
                                "method other than GET, HEAD and OPTIONS that a browser sends for a page of another "
                                "site (as predict's 403 says; before a 404 or 405), and 501 on every path for a body "
                                "in a transfer coding other than chunked (as predict's 501 says). Every path that "
                                "answers GET also answers HEAD (its GET's status and headers, without the body), and "
                                "OPTIONS answers 204 on every path (with the Allow header), and to `OPTIONS *`. A "
                                "path with repeated slashes (`/api//v1/model`) answers 308 to its route, with a "
                                "relative Location and an Error body too."},
        "servers": [{"url": root or "/"}],
        "paths": {
            "/api/v1/predict": {"post": {**predict, "operationId": "predict",
                                         "responses": {**predict["responses"], **other}}},
            "/api/v1/model": {"get": {"operationId": "model", "summary": "Model card and server limits",
                                      "responses": {"200": _json(ref("ModelCard"), "The model card."),
                                                    "400": no_query, **other}}},
            "/api/v1/openapi.json": {"get": {"operationId": "openapi", "summary": "This document",
                                             "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1."),
                                                           "400": no_query, **other}}},
            "/healthz": {"get": {"operationId": "health", "summary": "Liveness",
                                 "responses": {"200": _json(ref("Health"), "The server is up, its model loaded."),
                                               **other}}},
        },
        "components": {"schemas": component_schemas(classes)},
    }
