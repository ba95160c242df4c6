"""What the page and the API share: reading the uploads of a request and classifying them.

Results use the predict CLI's jsonl record (``{"path", "label", "confidence", "probabilities"}``
or ``{"path", "error"}``), with the uploaded file's name as ``path``, as sent (its base name: see ``_clean_name``).
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

import numpy as np
from flask import Request, current_app
from werkzeug.datastructures import FileStorage
from werkzeug.exceptions import BadRequest, RequestEntityTooLarge, UnsupportedMediaType
from werkzeug.http import parse_options_header

from ..heatmap import explain_apart
from ..image_io import MAX_REQUEST_PIXELS, ImageError, InputInfo
from ..model_scores import NonFiniteScores
from ..predictor import Classifier
from ..volume_io import MAX_SLICES
from ..wording import input_error, listed
from .disconnects import ClientGone, cut_short
from .model_failures import model_failure_text
from .multipart_errors import NAMELESS_HINT, form_under_another_type

#: Most files accepted in one request (more -> 400).
MAX_FILES: int = 32
#: The multipart field that carries the images (repeatable).
FIELD: str = "file"
#: Content types taken as one file sent as the whole body (``curl --data-binary``, ``requests.post(data=...)``).
#: (Windows labels zips ``application/x-zip-compressed``; older tools say ``x-zip`` and ``x-gzip``.)
RAW_TYPES: tuple[str, ...] = ("image/", "application/octet-stream", "application/dicom", "application/zip",
                              "application/x-zip-compressed", "application/x-zip", "application/gzip",
                              "application/x-gzip")
#: What ``?heatmap=`` takes for on and off, in any case (``?heatmap=True`` is Python's ``str(True)``); the OpenAPI
#: document lists them so. Not "": a bare ``?heatmap``, meant as "on", was taken as "off".
HEATMAP_ON: tuple[str, ...] = ("1", "true", "yes", "on")
HEATMAP_OFF: tuple[str, ...] = ("0", "false", "no", "off")
#: Longest file name echoed back.
MAX_NAME: int = 255


@dataclass(frozen=True)
class WebState:
    """Per-process app state: the model and the limits the page and the API report."""

    classifier: Classifier
    cam: bool
    max_request_bytes: int
    max_files: int
    max_slices: int = MAX_SLICES
    max_request_pixels: int = MAX_REQUEST_PIXELS

    @property
    def max_upload_mb(self) -> str:
        """The upload limit in MiB (2**20 bytes) as people read it, wherever it is said: 0.05, 128, 1024 (not 0.04999 or
        1.02e+03)."""
        mb = self.max_request_bytes / (1024 * 1024)
        return f"{mb:.3g}" if mb < 1 else f"{round(mb, 2):g}"  # not "1.02e+03" for 1024


@dataclass(frozen=True)
class Upload:
    name: str
    data: bytes


def state() -> WebState:
    return current_app.extensions["braintumor"]


#: A quoted ``filename`` parameter as the client wrote it (``filename*``, RFC 5987's encoded form, is another one).
_SENT_FILENAME = re.compile(r';\s*filename\s*=\s*"([^"]*)"', re.I)


def _sent_name(header: str | None, parsed: str | None) -> str | None:
    """The file name of a Content-Disposition header with its folders still marked. Browsers send a path's
    backslashes raw (HTML's form encoding escapes only ``"``, CR and LF) and Werkzeug 3.1.9 reads a backslash before
    any character as an escape, so ``C:\\Users\\jsmith\\a.png`` arrived as ``C:Usersjsmitha.png``: the folders, a
    user's name among them, glued into the name shown, downloaded and sent back. The form's escapes (``%0A``, ``%0D``,
    ``%22``; urllib3's any control character) are undone, not ``%22`` alone as Werkzeug does: "a\\nb.jpg" came back
    "a%0Ab.jpg" (static/text.js's sentName undoes them too); never in ``filename*``, already percent-decoded."""
    m = _SENT_FILENAME.search(header or "")
    if m is None or "filename*" in (header or "").lower():
        return parsed
    name = re.split(r"[\\/]", m.group(1))[-1] or parsed if "\\" in m.group(1) else parsed  # a\"b.png ends it early
    return re.sub(r"%(22|[01][0-9A-F])", lambda e: chr(int(e[1], 16)), name) if name else name


def header_text(value: str) -> str:
    """A header's value as the client wrote it. WSGI hands header bytes over decoded as Latin-1 (PEP 3333), so the
    UTF-8 file name that curl sends as typed (``-H 'Content-Disposition: attachment; filename="Müller.jpg"'``) came
    back as ``MÃ¼ller.jpg``, where the same name in a multipart part (read as UTF-8) was right. Bytes that are not
    UTF-8 stay Latin-1, HTTP's own reading (``requests`` sends a header's ``ü`` as one byte)."""
    try:
        return value.encode("latin-1").decode("utf-8")
    except UnicodeError:
        return value


def _clean_name(raw: str | None, index: int) -> str:
    """The client's file name without any folder part (old browsers send full paths), otherwise as sent: the JSON
    keeps a control or bidi character in it as it keeps one in a zip member's name (the page and the CLI show names
    escaped, wording.printable; no log holds a file name). Only what no file name holds becomes ``_``: NUL (a reader
    of the JSON that uses C strings would cut the name there) and a lone surrogate (not text: no valid JSON or UTF-8
    page carries one)."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = "".join("_" if c == "\0" or "\ud800" <= c <= "\udfff" else c for c in name)
    return name[:MAX_NAME] or f"upload-{index + 1}"


class UnsupportedCoding(UnsupportedMediaType):
    """415 for a compressed request body, with the Accept-Encoding that RFC 9110 (15.5.16) asks for."""

    def get_headers(self, *args, **kwargs) -> list[tuple[str, str]]:
        return [*super().get_headers(*args, **kwargs), ("Accept-Encoding", "identity")]


def read_uploads(req: Request, max_files: int) -> list[Upload]:
    """The request's images, in memory. Raises BadRequest with a clear message when there are none
    (UnsupportedMediaType for a body that is neither multipart nor one of RAW_TYPES, or a compressed one)."""
    coding = req.headers.get("Content-Encoding", "").strip().lower()
    if coding not in ("", "identity"):  # the body's bytes are not the file's: a JPEG was read as a gzip file
        raise UnsupportedCoding(f"Content-Encoding {coding[:40]} is not taken: send the body uncompressed (a .nii.gz "
                                "or a .zip is sent as the file it is, with no Content-Encoding)")
    # only a multipart body is parsed as a form: curl --data-binary's own type, urlencoded, over Werkzeug's 500 kB form
    # limit was "too many files or form fields" (400), where a smaller file was told which types are taken (415)
    parts: list[FileStorage] = req.files.getlist(FIELD) if req.mimetype == "multipart/form-data" else []
    # A browser form with no file chosen sends one empty part without a name: that is "nothing".
    parts = [p for p in parts if p.filename or _peek(p)]
    if not parts:
        # one file as the body: image/ by prefix, the others whole (application/dicom+json is JSON, not a file)
        if req.mimetype.startswith("image/") or req.mimetype in RAW_TYPES:
            data = req.get_data(cache=False)
            limit = req.max_content_length
            # a chunked body (no Content-Length) is read up to the limit and then cut without a word: look past it
            if req.content_length is None and limit is not None and len(data) >= limit and _more(req):
                raise RequestEntityTooLarge()
            # gunicorn ends the stream where the client closed its side, short of the Content-Length, without a word:
            # the part that came was read, and its truncation blamed on the file
            if req.content_length is not None and len(data) < req.content_length:
                raise ClientGone(cut_short(len(data), req.content_length))
            if not data:
                raise BadRequest("the request body is empty: send the file's bytes as the body")
            if said := form_under_another_type(data, req.mimetype):
                raise BadRequest(said)
            # its name from Content-Disposition, never from the URL: a proxy's access log keeps it whole, and file
            # names can hold patients' names
            header = header_text(req.headers.get("Content-Disposition", ""))
            return [Upload(_clean_name(_sent_name(header, parse_options_header(header)[1].get("filename")), 0), data)]
        if not req.mimetype.startswith("multipart/form-data"):
            said = (f"send images as multipart/form-data in the field '{FIELD}', or one file as the body with "
                    "Content-Type image/*, application/octet-stream, application/dicom, application/zip or "
                    "application/gzip")
            if req.mimetype == "application/x-www-form-urlencoded":
                said += (" (the body came as application/x-www-form-urlencoded, which curl --data-binary sends "
                         "unless -H 'Content-Type: ...' names another)")
            # a body of a type it does not take is a 415; a request that names no type at all, a 400
            raise UnsupportedMediaType(said) if req.mimetype else BadRequest(said)
        if FIELD in req.form:
            raise BadRequest(f"the field '{FIELD}' holds text, not a file: it came without a file name; "
                             + NAMELESS_HINT)
        # a file part whose Content-Disposition has no name: None among the names (sorting them was a 500)
        others = sorted(k for k in req.files if k not in (FIELD, None))
        others += ["a part with no field name"] if None in req.files else []
        if others:
            raise BadRequest(f"no file in the field '{FIELD}' (got: {', '.join(others)[:200]}); "
                             f"send images as '{FIELD}'")
        raise BadRequest(f"no file uploaded: send one or more images in the field '{FIELD}'")
    # files under another name beside them (``files``, ``file[]``) were left out of the answer without a word
    elsewhere = sorted({"a part with no field name" if k is None else k for k, p in req.files.items(multi=True)
                        if k != FIELD and (p.filename or _peek(p))})
    if elsewhere:
        raise BadRequest(f"files in a field other than '{FIELD}' ({', '.join(elsewhere)[:200]}): send every image "
                         f"in the field '{FIELD}'")
    if texts := sorted(set(req.form)):  # -F heatmap=1 gave no heat maps and no word, as ?heatmaps=1 did
        said = listed([f"'{name if len(name) <= 40 else name[:40] + '...'}'" for name in texts])
        fields = "a text form field beside the files ({}) is" if len(texts) == 1 else \
            "text form fields beside the files ({}) are"
        raise BadRequest(f"{fields.format(said)} not taken: send only files, in the field '{FIELD}'"
                         + ("; a heat map is asked for in the URL, ?heatmap=1" if "heatmap" in texts else ""))
    if len(parts) > max_files:
        raise BadRequest(f"too many files: {len(parts)} (the limit is {max_files} per request)")
    return [Upload(_clean_name(_sent_name(p.headers.get("Content-Disposition"), p.filename), i), p.stream.read())
            for i, p in enumerate(parts)]


def _more(req: Request) -> bool:
    """Whether the client sent more body than was read (one byte read past Werkzeug's limit)."""
    try:
        return bool(req.environ["wsgi.input"].read(1))
    except (OSError, ValueError):
        return False


def _peek(part: FileStorage) -> bool:
    """Whether a nameless part has any content (without consuming it)."""
    pos = part.stream.tell()
    has = bool(part.stream.read(1))
    part.stream.seek(pos)
    return has


def classify(clf: Classifier, uploads: list[Upload], heatmap: bool = False) -> list[dict]:
    """One jsonl-style record per upload, in order; with ``heatmap``, base64 PNGs are added to the
    good ones: ``heatmap_png_base64`` (overlay) and ``image_png_base64`` (the crop the model saw)."""
    if not heatmap:
        outcomes = clf.predict_many([u.data for u in uploads])
        return [_record(u.name, outcome) for u, (_, outcome) in zip(uploads, outcomes, strict=True)]
    inputs: list[tuple[np.ndarray, InputInfo] | ImageError] = []
    for u in uploads:
        try:
            inputs.append(clf.inspect_crop(u.data))
        except ImageError as exc:
            inputs.append(exc)
    good = [x for x in inputs if not isinstance(x, ImageError)]
    explained = iter(explain_apart(clf, [x for x, _ in good], [i for _, i in good]))
    records = []
    for u, x in zip(uploads, inputs, strict=True):
        ex = x if isinstance(x, ImageError) else next(explained)
        if isinstance(ex, ImageError):  # unreadable, or the model failed on it: the others answered
            records.append(_record(u.name, ex))
            continue
        rec = {"path": u.name, **ex.prediction.to_dict(), "image_png_base64": base64_text(ex.image_png())}
        png = ex.heatmap_png()
        if png is not None:
            rec["heatmap_png_base64"] = base64_text(png)
        records.append(rec)
    return records


def _record(name: str, outcome) -> dict:
    if isinstance(outcome, NonFiniteScores):
        return {"path": name, "error": model_failure_text(outcome)}
    if isinstance(outcome, ImageError):
        return {"path": name, "error": input_error(outcome)}
    return {"path": name, **outcome.to_dict()}


def base64_text(data: bytes) -> str:
    """PNG bytes as the ASCII text a JSON record carries."""
    return base64.b64encode(data).decode("ascii")


def status_for(records: list[dict]) -> int:
    """200 when at least one file was read and answered (classified, or refused as unlike brain MRI or turned: a
    refusal is an answer), 400 when none could be read (each record says why)."""
    return 200 if any("error" not in r for r in records) else 400
