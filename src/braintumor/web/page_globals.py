"""What the page's templates read that another module defines, handed to Jinja: the form's ``data-*`` settings
that the scripts read (limits, words, formats: one home each, the CLI's where it has them) and functions used as
they are.

Why its own module: web/pages.py, its routes and filters, was 298 lines. A blueprint of its own, registered inside
``pages``' (``app_*``: every template of the app sees them).
"""

from __future__ import annotations

from flask import Blueprint

from ..compressed_files import page_words
from ..dicom_sniff import NOT_SCAN_SUFFIXES
from ..folder_notes import LEFT_OUT_KINDS, LEFT_OUT_WHY
from ..image_files import OTHER_FORMAT_ENDINGS
from ..image_headers import OTHER_FORMAT_SIGNATURES
from ..orientation import TURN_ADVICE  # the words a turn's refusal ends with: its card's note differs
from ..prediction import DISCLAIMER
from ..refusal_wording import MRI_ONLY
from ..sessions import is_int8
from ..volume_io import MAX_VOLUME_BYTES
from ..wording import unread_format_text
from .done_line import NEXT_WORDS, card_id, next_links
from .model_failures import MODEL_FAILED, MODEL_FAILED_SHORT
from .volumes import REVIEW_NAMED

bp = Blueprint("page_globals", __name__)

#: Seconds the page waits for the API's answer to one file, from the end of its upload (and while it is sent, or its
#: answer read, from the last progress: static/send.js) before it says the server did not answer. A request's most
#: work (512 slices) takes seconds on 2 cores (docs/PERFORMANCE.md): this leaves room for a queue of them behind a
#: busy server.
ANSWER_TIMEOUT_S: int = 120


bp.add_app_template_test(is_int8, "int8_copy")  # the header's "(int8 copy)"
bp.add_app_template_global(card_id, "card_id")  # each result's heading's id, where the Done line's link lands
bp.add_app_template_global(next_links, "next_links")  # from each such card to the next, without JavaScript
bp.add_app_template_global(lambda: REVIEW_NAMED, "review_named")  # a scan's line's slices of lower confidence


@bp.app_context_processor
def _globals() -> dict:
    # the most a zip may unpack to: what the page may put in the zip of a dropped folder's DICOM series (folders.js);
    # the endings a folder walk never opens to look for DICOM, and why the files it passes over were not read: the
    # CLI's (one home: dicom_sniff, folder_notes)
    return {"disclaimer": DISCLAIMER, "answer_timeout_s": ANSWER_TIMEOUT_S, "turn_advice": TURN_ADVICE,
            "mri_only": MRI_ONLY,  # card.js tells a refusal of no MRI by it, as pages.refused_kind
            # run-status.js counts a record of this error "not analysed" (done_line.py), in these words
            "model_failed": MODEL_FAILED, "model_failed_short": MODEL_FAILED_SHORT,
            # the "Next unreadable file" links' words, which run-status.js's links under the cards say too, in
            # next_links' order (a list: tojson sorts a dict's keys)
            "next_words": list(NEXT_WORDS.items()),
            "max_scan_bytes": MAX_VOLUME_BYTES, "not_scan_suffixes": " ".join(sorted(NOT_SCAN_SUFFIXES)),
            "left_out_why": {kind: LEFT_OUT_WHY[kind].format(each="drop or choose each one itself")
                             for kind in LEFT_OUT_KINDS if kind != "special"},
            # the endings and first bytes of image formats not read (image_headers' patterns, which the page runs as
            # they are), and what a note says of them, one file, several, of several formats
            "unread_formats": {"endings": OTHER_FORMAT_ENDINGS,
                               "signatures": [[name, pattern.decode("ascii")]
                                              for name, pattern in OTHER_FORMAT_SIGNATURES],
                               "words": [unread_format_text(n, f) for n, f in ((1, 1), (2, 1), (2, 2))],
                               # a compressor's first bytes, and why its output is not read, by what it holds:
                               # compressed_text's words (static/compressed.js)
                               "compressed": page_words()}}
