"""HTML pages. The upload form works without JavaScript (a plain POST rendered here, on the server);
static/app.js enhances it (drag and drop, paste, one API call per file; static/card.js: heat-map opacity)."""

from __future__ import annotations

import functools
import re

from flask import Blueprint, make_response, render_template, request, url_for
from markupsafe import Markup
from werkzeug.exceptions import BadRequest, NotAcceptable

from ..classes import display_name
from ..csv_records import csv_columns
from ..heatmap import COLOUR_NAMES, colour_scale_png
from ..metrics import percent
from ..prediction import CONFIDENCE_CALIBRATED, CONFIDENCE_UNCALIBRATED, is_calibrated, probability_text
from ..refusal_wording import MRI_ONLY, REFUSED_NOTES, TURNED_RESEND
from ..series import turned
from ..stripped import count_text
from ..wording import (
    LOWER_CONFIDENCE,
    NOT_ANALYSED,
    SEND_SMALLER,
    UNREADABLE,
    printable,
    review_below_text,
)
from .disconnects import is_disconnect
from .done_line import copy_suffixes, done_text
from .inference import base64_text, read_uploads, state, status_for
from .model_facts import model_card, readable_card
from .model_failures import ModelFailed, model_failed_all
from .monitoring import observe_results
from .page_globals import bp as globals_bp
from .volumes import classify_entries, flatten

bp = Blueprint("pages", __name__)
bp.register_blueprint(globals_bp)  # the templates' globals from other modules (web/page_globals.py)


@bp.app_template_filter("display_name")
def _display_name(label: str) -> str:
    return display_name(label, state().classifier.metadata.get("display_names"))


@bp.app_template_global("refused_kind")
def refused_kind(rec: dict) -> str | None:
    """Which of ``refusal_wording.REFUSED_NOTES`` a refused record's card says, None for one not refused (a global:
    the card macro sees no context), as card.js chooses it: ``turned`` (its card then said "rotate it upright and send
    it again", then "it must be read without the model's help"), ``not_mri`` (a CT, whose card then said "If this is a
    brain MRI slice, ..."), else ``unlike``."""
    if not rec.get("ood"):
        return None
    return "turned" if turned(rec) else "not_mri" if MRI_ONLY in (rec.get("reason") or "") else "unlike"


@bp.app_template_global("review_below_text")
def _review_below_text() -> str:
    """``under 99.0%``: the confidence under which an answer is flagged as lower confidence, in the words of the CLI
    and evaluate (a global: the card macro sees no context)."""
    return review_below_text()


@bp.app_template_global("confidence_note")
def _confidence_note() -> str:
    """What an answer's confidence and bars are, under them on its card (a global, as above): calibrated on slices like
    the training ones and too high on other hospitals' scans, or not calibrated at all (no calibration in the
    model's metadata). A card said ">99.9% confidence" and nothing of it."""
    return CONFIDENCE_CALIBRATED if is_calibrated(state().classifier.metadata) else CONFIDENCE_UNCALIBRATED


@bp.app_template_global("lower_confidence")
def _lower_confidence() -> str:
    """What an answer under :func:`_review_below_text` is called, one by one and in counts (a global, as above): the
    series line said "flagged for review", as if only those answers needed a clinician."""
    return LOWER_CONFIDENCE


@bp.app_template_global("stripped_count")
def _stripped_count(n: int) -> str:
    """A series' line's count of the slices that look skull-stripped, as the CLI's summary says it
    (``braintumor.stripped.count_text``)."""
    return count_text(n)


@bp.app_template_global("unreadable")
def _unreadable() -> str:
    """What a slice that could not be read is called on a series' line and in its text, as the CLI's summary calls
    it (a global, as above)."""
    return UNREADABLE


@bp.app_template_global("not_analysed")
def _not_analysed() -> str:
    """What a slice the server's model failed on is called on a series' line and in its text, as the Done line counts
    it (not unreadable: the upload is not at fault)."""
    return NOT_ANALYSED


@bp.app_template_global("turned_resend")
def _turned_resend() -> str:
    """How a count of slices refused as turned (a quarter, or upside down) reads on a series' line and in its text,
    and, through the form's ``data-turned-resend``, in series.js and run-status.js (a global, as above): all three
    said "on their side" of upside-down slices too."""
    return TURNED_RESEND


@bp.app_template_global("refused_note")
def _refused_note(kind: str) -> str:
    """The note under a refused card or a scan none of whose slices was classified (a global, as above):
    ``refusal_wording.REFUSED_NOTES``, one home for the words both say."""
    return REFUSED_NOTES[kind]


@bp.app_template_global("send_smaller")
def _send_smaller() -> str:
    """What to send instead of a file past the upload limit, in send.js's refusal of one (the form's
    ``data-send-smaller``), as in the server's 413 (a global, as above)."""
    return SEND_SMALLER


@bp.app_template_global("heat_scale")
@functools.cache
def _heat_scale() -> dict:
    """The heat map's colour scale under each map (a global, as above): its image, drawn by the maps' own colour map
    (heatmap.colour_scale_png), and its colours in words for a screen reader."""
    return {"src": "data:image/png;base64," + base64_text(colour_scale_png()), "colours": COLOUR_NAMES}


@bp.app_template_global("csv_columns")
def _csv_columns() -> list[str]:
    """The header of the page's results download: the CLI's CSV columns (one home: csv_records.csv_columns)."""
    return csv_columns(state().classifier.classes)


@bp.app_template_filter("printable")
def _printable(text: str) -> str:
    """A name or message as wording.printable shows it on a terminal (static/text.js mirrors it): a zip member named
    "x\\u202egnp.nii" read "xiin.png" on the page. The JSON and the CSV download keep the real text."""
    return Markup(printable(str(text))) if isinstance(text, Markup) else printable(str(text))


#: A message's first word that may be capitalised: lowercase letters before a space, a comma or a semicolon, not
#: the start of a name ("bad.zip:x.nii: not a NIfTI ...", "scan-1.dcm", "dir/x.nii", "café.png", "scan's: ...",
#: "x\\u202e..." once printable), as text.js's FIRST_WORD.
_FIRST_WORD = re.compile(r"[a-z]+(?:[ ,;]|\Z)")
#: The last word of a clause of words ("file", "'file'", "(got", "multipart/form-data"), which no name ends with:
#: "scan 1", "my scans/head.nii.gz", "scan_v2", "x.nii~" (text.js's PROSE_WORD).
_PROSE_WORD = re.compile(r"[(\"']*[A-Za-z][A-Za-z'/-]*[)\"',;]*")
#: The bracketed words at a clause's end ("single file (.nii)", "scan 1 (copy)"), set aside to find its last word.
_BRACKETED_END = re.compile(r"(?: \([^()]*\))+\Z")


def _starts_with_name(message: str) -> bool:
    """Whether ``message`` starts with a name before its first ": " (a zip's member: zip_scans._member_error, "scan
    1: not a NIfTI ...", "scan 1.nii (copy): ..."): that clause is one word, or its last word (brackets at its end set
    aside) is no word of prose. A name of words alone ("head scan: ...") cannot be told from a message's clause."""
    head, colon, _ = message.partition(": ")
    core = _BRACKETED_END.sub("", head)
    return bool(colon) and (" " not in core or not _PROSE_WORD.fullmatch(core.rpartition(" ")[2]))


@bp.app_template_filter("sentence")
def sentence(message: str) -> str:
    """A message shown as a sentence on its own (an unreadable file's card: "Not a recognised image or scan: ..."), its
    first letter capitalised as the card's other lines are (static/text.js mirrors it). Under the file name it read
    "not a recognised ...", unlike the rest of the card; the JSON, the CSV and the CLI keep the clause as it is."""
    if not _FIRST_WORD.match(message) or _starts_with_name(message):
        return message
    return message[:1].upper() + message[1:]


@bp.app_template_filter("headline")
def headline(message: str) -> str:
    """A message's first clause, which an error page's title gives ("too many files: 33 (the limit ...)": "too many
    files"): up to its first colon or semicolon outside brackets. Cut at any first colon, "no file in the field 'file'
    (got: image); send images as 'file'" was titled "no file in the field 'file' (got", its bracket left open. A ')'
    with no '(' before it (a field's name) closes nothing: the next bracket's colon was taken as outside it."""
    depth = 0
    for i, char in enumerate(message):
        depth = max(0, depth + (char == "(") - (char == ")"))
        if char in ":;" and not depth:
            return message[:i]
    return message


@bp.app_template_filter("percent")
def _percent(value: float) -> str:
    return probability_text(float(value))


#: The empty upload page's caching: revalidated every time, but not ``no-store``. Chromium keeps a no-store page that
#: has made requests out of its back/forward cache, so Back after the footer's link showed the form alone, every
#: result gone. The page as sent holds no result (the browser adds them, in memory only); whatever holds one (the
#: no-JavaScript results, POST /, and every API answer) stays no-store. ``private``: no shared cache keeps it.
INDEX_CACHE_CONTROL: str = "private, no-cache"


@bp.get("/")
def index():
    response = make_response(render_template("index.html", entries=[], message=None, state=state()))
    response.headers["Cache-Control"] = INDEX_CACHE_CONTROL
    return response


@bp.get("/model")
def model_page():
    """The model card for people: the facts of ``GET /api/v1/model`` (the same :func:`model_card`, read from the model
    file's metadata when asked, never written into the page) in words, under headings. The footer's link opened the
    raw JSON, which a clinician cannot read."""
    card = readable_card(model_card(state()))  # a mistyped field left out, not the page's 500
    response = make_response(render_template("model.html", card=card, state=state()))
    response.headers["Cache-Control"] = INDEX_CACHE_CONTROL  # holds no result: revalidated, as the upload page
    return response


@bp.app_template_filter("share")
def _share(value: float | None) -> str:
    """A measured share (an accuracy, an ECE) to 0.01 %, as the evaluation report writes it: not the answers' rounding
    towards 50 % (:func:`_percent`), which is for a probability."""
    return percent(None if value is None else float(value))


@bp.post("/")
def upload():
    """The no-JavaScript path: classify on the server and render the results, errors per file."""
    from . import wants_json  # the package's rule (its app factory imports this module)

    if wants_json():  # an API client at the page's address: it got the results as HTML, heat maps in base64
        raise NotAcceptable(f"this address is the upload page, which answers HTML: send images to POST "
                            f"{url_for('api.predict')} for JSON (the same multipart field 'file')")
    st = state()
    try:
        uploads = read_uploads(request, st.max_files)
    except BadRequest as exc:
        if is_disconnect(exc):  # counted apart (web/disconnects.py), its page the same
            raise
        message = exc.description
        if message.startswith("no file uploaded"):  # the API's words name a form field a person never sees
            message = "No file chosen: choose one or more images or scans, then Classify."
        return render_template("index.html", entries=[], message=message, state=st), 400
    entries = classify_entries(st.classifier, uploads, heatmap=st.cam, max_slices=st.max_slices,
                               max_pixels=st.max_request_pixels)
    copies = copy_suffixes([u.name for u in uploads])
    for entry in entries:
        entry.copy = copies[entry.upload]
    records = flatten(entries)[0]
    observe_results(records)
    # nothing answered, the model at fault: its 503, each file's card and the Done line kept (as the script shows it)
    status = ModelFailed.code if model_failed_all(records) else status_for(records)
    return render_template("index.html", entries=entries, message=None, done=done_text(entries, len(uploads)),
                           state=st), status
