"""What the outputs say, in one place: counts in words (``1 epoch``, ``2 epochs``), the phrases every output
shares ("lower confidence (under 99.0%)", "unreadable"; a refusal's, "not classified (unlike brain MRI)", in
:mod:`braintumor.refusal_wording`) and a name or message as a terminal shows it (:func:`printable`).

Its own module because data, training, report, CLI and web code all print these and none should import another's
text helpers (:mod:`braintumor.series` pulls in the predictor): "1 epochs" was printed, the CLI, the page and
evaluate each said the same answer in their own words, and ``printable``, in series.py, had ``braintumor --help``,
``data audit`` and ``train`` load the predictor and ONNX Runtime. It imports nothing heavy when imported (what those
commands load is checked by tests/test_cli_start_up.py).
"""

from __future__ import annotations

import shlex

#: What an accepted answer under ``prediction.REVIEW_BELOW`` (99 %) is called, one by one and in counts: the CLI's
#: table row and last line, a scan's summary, the page's card, "Done:" line, series line and dashboard, evaluate's
#: console and report.html (static/run-status.js, series.js and card.js say the same words; tests/test_review_counts.py
#: checks them). Not "flagged for review", nor "have a specialist check this answer": every answer, sure or not, is for
#: a qualified clinician to interpret (the disclaimer says so on every page), not only these. The machine fields keep
#: their names: ``review`` in JSON and CSV, a summary's ``flagged``, ``braintumor_review_flags_total``.
LOWER_CONFIDENCE: str = "lower confidence"


def review_below_text(below: float | None = None) -> str:
    """``under 99.0%``: the threshold of :data:`LOWER_CONFIDENCE` (``prediction.REVIEW_BELOW``, or an evaluation's own
    ``below``) as every output says it, to 0.1 % as answers are shown (``prediction.probability_text``). evaluate and
    report.html said "under 99%" where the CLI and the page said "under 99.0%"."""
    from .prediction import REVIEW_BELOW, probability_text  # prediction imports this module: at call time

    return f"under {probability_text(REVIEW_BELOW if below is None else below)}"


def review_text(r: dict) -> str:
    """The sentence on the answers with lower confidence (``r``: ``metrics.review_summary``), evaluate's console line
    and report.html's alike: each had its own words ("lower confidence (under 99%): 2 of 4 accepted" beside "2 of the
    4 accepted answers had lower confidence") and its own handling of none and all flagged. A rate with nothing to
    measure is left out ("(n/a of the others)" was printed when every answer was flagged), and with no answer
    accepted, all of it ("0 of the 0 accepted answers had lower confidence" was printed)."""
    from .metrics import percent  # numpy: at call time, as the other lazy imports here

    if not r["accepted"]:
        return "no answer was accepted"
    if r["accepted"] == 1:  # it was "1 of the 1 accepted answers had ..., all of them: 0.00% of them were right"
        right = "right" if r["wrong_accepted"] == 0 else "wrong"
        return (f"the one accepted answer {'had' if r['flagged'] else 'did not have'} {LOWER_CONFIDENCE} "
                f"({review_below_text(r['below'])}), and was {right}")
    said = (f"{r['flagged']} of the {r['accepted']} accepted answers had {LOWER_CONFIDENCE} "
            f"({review_below_text(r['below'])})")
    if r["accuracy_flagged"] is None:  # none flagged
        return said + f"; {percent(r['accuracy_not_flagged'])} of the {r['accepted']} were right"
    others = r["accuracy_not_flagged"]  # None: all flagged
    return (said + (", all of them" if others is None else "") + f": {percent(r['accuracy_flagged'])} of them were "
            "right" + (f", against {percent(others)} of the others" if others is not None else "")
            + _wrong_text(r["wrong_flagged"], r["wrong_accepted"]))


def _wrong_text(flagged: int, wrong: int) -> str:
    """The clause on how many of the wrong accepted answers had lower confidence: a test split of one class, every
    answer right, said "they hold 0 of the 0 wrong accepted answers", and one wrong answer "1 of the 1"."""
    if not wrong:
        return "; no accepted answer was wrong"
    if wrong == 1:
        return f"; the one wrong accepted answer is {'among them' if flagged else 'not among them'}"
    return f"; they hold {flagged} of the {wrong} wrong accepted answers"


#: What an accepted answer for a slice that looks skull-stripped (``braintumor.stripped``) is called: the CLI's table
#: row, the page's card. Not "lower confidence": its confidence is often above 99 %, and it is that confidence which
#: is no guide. The record's ``note`` says :data:`STRIPPED_NOTE`.
STRIPPED: str = "looks skull-stripped"
#: A Prediction's ``note`` (JSON, CSV, the page's card) for such an answer: a second look, not a refusal (the check is
#: a heuristic; docs/RESULTS.md, "Skull-stripped slices"). A clause, no closing stop: the card's spoken status says it
#: after the answer (", looks skull-stripped ..."); the card's note, a sentence, adds the stop (_card.html, card.js).
STRIPPED_NOTE: str = (f"{STRIPPED} (the brain alone, no scalp or skull): the model was trained on whole-head slices, "
                      "and on stripped ones its confidence is no guide")
#: Each note's stable name, the record's ``note_kind`` (JSON, jsonl): what the page counts a note by, and an API client
#: can match, whatever the note's words become (the page counted any note as a stripped one).
NOTE_KINDS: dict[str, str] = {STRIPPED_NOTE: "stripped"}

#: What an input or a slice that could not be read is called, one by one and in counts: the CLI's last line and a
#: scan's summary, the page's "Done:" line (run-status.js), series line and per-slice text (_series.html, series.js),
#: the API's schema and the errors metric (tests/test_unreadable_wording.py checks them); evaluate, report.html,
#: ``data check`` and ``data audit`` say the same word. The CLI's last line said "1 failed" where the page said "1 could
#: not be read", and a scan's summary "1 failed" under the page's "1 unreadable": the file or frame could not be
#: decoded (or was refused before it was, say too large), nothing else failed; each one's record says why. The
#: machine fields keep their names: a summary's ``failed``, a record's ``error``.
UNREADABLE: str = "unreadable"
#: What a file or slice the model gave scores that are not finite for (:class:`~braintumor.model_scores.UnscoredImage`)
#: is counted as, on the CLI's last line as on the page's "Done:" line (web/done_line.py, static/run-status.js): its
#: model's fault, not the input's, which :data:`UNREADABLE` said (the CLI counted it "1 unreadable").
NOT_ANALYSED: str = "not analysed"


def not_analysed_text(n: int, why: str = "the model failed") -> str:
    """``1 not analysed: the model failed``, a count of :data:`NOT_ANALYSED` with why (the web app's: its server's
    model, and to tell its operator): the CLI's last line and a scan's summary, the page's "Done:" line."""
    return f"{n} {NOT_ANALYSED}: {why}"


#: What ``braintumor predict`` and the web page say of a file no reader recognised: they read scans too, and the 2-D
#: reader's message ("expected JPEG, PNG, BMP, TIFF or WebP content") named the image formats only.
NOT_AN_INPUT: str = ("not a recognised image or scan: expected a JPEG, PNG, BMP, TIFF or WebP image, a DICOM file, "
                     "a NIfTI volume (.nii, .nii.gz) or a zip of DICOM or NIfTI files")


#: What a scan is said to be, and what to do with it, where a reader failed on it for a reason no check names (a DICOM
#: header value, NIfTI voxels, DICOM pixels): those messages ended in a Python class name ("(TypeError)"), which no
#: one could act on (:mod:`braintumor.dicom_checks`, :mod:`braintumor.dicom_io`, :mod:`braintumor.nifti_io`).
EXPORT_AGAIN: str = "damaged, or written wrongly by the software that exported it: export it again and send that"


def no_finite_values_text(what: str) -> str:
    """Why a float image, array, DICOM frame or NIfTI volume none of whose values is a number (all NaN or infinite) is
    refused, ``what`` naming it: one wording for every reader (three said it three ways)."""
    return f"{what} has no finite values (all NaN or infinite): there is no image to classify"


#: What ``braintumor predict`` and the page say of a folder holding nothing to read, then what they read
#: (:data:`INPUT_KINDS`) or why what it held was passed over: the CLI said "no images found in folder" of a folder
#: it would have read scans in, where the page said "No image or scan found in the dropped folder" (static/folders.js
#: says these words; tests/test_folder_wording.py checks them).
NOTHING_FOUND: str = "no image or scan found"

def export_first_text(checkpoint: object, out: str = "model.onnx") -> str:
    """What to do with a torch checkpoint (train's ``best.pt``) given where an ONNX model or a scan is wanted: one
    wording for ``--model``, predict's inputs and distill's ``--teacher``, its command one to paste
    (:func:`command_word`); a name a terminal cannot show as it is (:func:`pasteable`) gets none, as the zip note's."""
    if not pasteable(name := str(checkpoint)):
        return f"export it first with braintumor export and --out {out} ({NO_COMMAND})"
    return f"export it first (braintumor export {command_word(name)} --out {out})"


def command_word(name: str) -> str:
    """``name`` as one word of a command to paste: shell-quoted, so that a name with spaces stays one argument, and
    one starting with '-' as ./-name, not an option (``my run/best.pt`` was two arguments when pasted)."""
    return shlex.quote("./" + name if name.startswith("-") else name)


def printable(text: str) -> str:
    """``text`` for a terminal: characters that would break or spoof a line (newline, tab, carriage return, escape
    sequences, bidi overrides, zero-width ones) as Python escapes (``\\n``, ``\\x1b``, ``\\u202e``). A byte that is
    not UTF-8 (a surrogate escape) stays, written as its own byte as ``ls`` does, but for one of 0x80-0x9f, shown as
    ``\\x9b``: on a terminal not in UTF-8 mode such a byte is a C1 control (0x9b is CSI, an escape sequence's start
    as ``\\x1b[`` is). The CLI's and the server-rendered page's one way to show a name or message (static/text.js
    mirrors it)."""
    return "".join(c if c.isprintable() or "\udca0" <= c <= "\udcff" else
                   f"\\x{ord(c) - 0xdc00:02x}" if "\udc80" <= c <= "\udc9f" else c.encode("unicode_escape").decode()
                   for c in text)


def pasteable(name: str) -> bool:
    """Whether ``name`` can stand in a command to copy: one with an escape, a newline or a byte not UTF-8 is shown
    escaped (:func:`printable`: ``'z\\x1b[2J.zip'``), which names no file when pasted."""
    return name.isprintable()


#: Said instead of a command when the name it would hold is not :func:`pasteable`.
NO_COMMAND: str = "its name holds characters this message cannot show as they are: no command to copy"


#: Why a name holding a NUL is no file's (Python's own words were a bare ValueError, 'embedded null byte').
NUL_IN_NAME: str = ("not a file name: it holds a NUL character (\\0), which no file name can hold (names from find "
                    "-print0 or a NUL-separated list are split at each NUL)")

#: The kinds of file ``braintumor predict`` and the page read in a folder, as their messages list them.
INPUT_KINDS: str = "JPEG, PNG, BMP, TIFF, WebP, DICOM or NIfTI"

#: A folder tree deeper than a walk goes (os.walk recurses once per level before Python 3.12): predict's record of
#: that folder, and the one error line of a command that walks one folder (evaluate, data audit).
TOO_DEEP: str = "folders nested too deep to walk (about 1000 levels)"


def unread_format_text(files: int = 1, formats: int = 1) -> str:
    """What a file of an image format braintumor does not read (a GIF, a phone's HEIC) is, and what to do with it:
    image_io's refusal of one ("GIF image, a format...") and the notes on a folder's (folder_notes, the page's)."""
    what, them = "a format" if formats == 1 else "formats", "it" if files == 1 else "them"
    return f"{what} braintumor does not read: convert {them} to PNG (lossless, 8- or 16-bit) or to JPEG, BMP, TIFF " \
        "or WebP"


def input_error(exc: Exception) -> str:
    """An input's error as ``braintumor predict`` and the web page say it (:data:`NOT_AN_INPUT` for content no reader
    recognised)."""
    from .image_io import UnrecognisedImage  # on an error path only: wording stays free of the readers

    return NOT_AN_INPUT if isinstance(exc, UnrecognisedImage) else str(exc)


def duration_text(seconds: float) -> str:
    """A run's length as people read it: ``12.3 s`` under a minute, ``43.4 min`` from one (a short run said
    "done in 0.0 min")."""
    return f"{seconds:.1f} s" if seconds < 59.95 else f"{seconds / 60:.1f} min"


#: What to do with an image past a decoding limit (``image_io.MAX_PIXELS``, ``MAX_FILE_BYTES``): the refusal said the
#: limit only ("image is 60000x60000 pixels; the limit is 40,000,000 pixels"), and the model reads a slice at a few
#: hundred pixels a side (models/MODEL_CARD.md), so a smaller copy loses nothing it uses.
DOWNSCALE: str = ("downscale it (the model reads a slice at a few hundred pixels a side: 512x512 is plenty) and send "
                  "it again")
#: :data:`DOWNSCALE` of a dataset's file (train, evaluate, data check and audit read it from a class folder): "send it
#: again" is an upload's advice, and a training run has nowhere to send it.
DATASET_DOWNSCALE: str = DOWNSCALE.replace(" and send it again", " or remove it from the dataset")
#: ``image_io.UNDECODABLE``'s and :func:`too_small_text`'s advice to an upload, and a dataset file's (nothing to send).
RESAVE: str = "save it again as PNG and send that"
DATASET_RESAVE: str = RESAVE.replace(" and send that", " or remove it from the dataset")
THUMBNAIL: str = "(send the original slice, not a thumbnail)"
DATASET_THUMBNAIL: str = "(use the original slice, or remove it from the dataset)"


def dataset_file_error(message: str) -> str:
    """An image error as said of a dataset's file (train, data check, evaluate, audit: nowhere to send it): readers
    word advice for an upload (:data:`DOWNSCALE`, :data:`RESAVE`, :data:`THUMBNAIL`), and so does the decoded cache."""
    return (message.replace(DOWNSCALE, DATASET_DOWNSCALE).replace(RESAVE, DATASET_RESAVE)
            .replace(THUMBNAIL, DATASET_THUMBNAIL))


#: What to send instead of an upload past the web page's limit (``serve --max-upload-mb``): the server's 413 ("send
#: fewer files at a time, " and these) and the page's own check of a file before it is sent (static/send.js, through
#: the form's ``data-send-smaller``) said the limit only.
SEND_SMALLER: str = "a scan's series one by one (a zip each) or an image downscaled"


def too_many_pixels_text(width: int, height: int, limit: int, what: str = "image") -> str:
    """``image is 60000x60000 pixels; the limit is 40,000,000 pixels: downscale it ...``: an image (or ``what``, a
    DICOM image) past the pixel limit, and what to do, said alike by the 2-D and DICOM readers (CLI, API and page)."""
    return f"{what} is {size_text(width, height)} pixels; the limit is {limit:,} pixels: {DOWNSCALE}"


def too_small_text(width: int, height: int, minimum: int, what: str = "image") -> str:
    """``image is 32x48 pixels; at least 64x64 needed: ...``: an image under ``image_io.MIN_SIDE``, or (``what``) a
    scan's slice under ``volume_objects.MIN_SCAN_SIDE``, in the same words (a 2 x 2 slice was scored, refused only
    as unlike MRI, where a 2 x 2 PNG was refused for its size)."""
    return (f"{what} is {size_text(width, height)} pixels; at least {size_text(minimum, minimum)} needed: smaller "
            f"{what}s lose the detail the model reads"
            + (f" {THUMBNAIL}" if what == "image" else ""))


def size_text(width: int, height: int) -> str:
    """``512x512``: an image's width and height as every message says them ("image is 50000x1000 pixels", "at least
    64x64 needed", a DICOM frame's size against its header's): the minimum size said "32 x 32" where the pixel limit
    said "10000x10000"."""
    return f"{width}x{height}"


def bits_text(bits: int) -> str:
    """``an 8-bit``, ``a 16-bit``: a sample depth with the article it is read with (a gray TIFF's slices said "a
    8-bit gray TIFF")."""
    return f"{'an' if str(bits)[:1] == '8' or str(bits)[:2] in ('11', '18') else 'a'} {bits}-bit"


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """``n`` with ``noun`` in the number it takes: ``noun`` for one, ``plural`` (default ``noun + "s"``) otherwise.
    Never "file(s)": notes and messages said "1 file(s)", "2 image(s)" where a count was at hand."""
    return f"{n} {in_number(n, noun, plural)}"


def in_number(n: int, noun: str, plural: str | None = None) -> str:
    """``noun`` alone, in the number ``n`` takes (the count said elsewhere, or a list of names after it): "unknown
    class folder(s) in ROOT: a, b" was said of one folder."""
    return noun if n == 1 else plural or noun + "s"


def either(values: tuple | list) -> str:
    """The values a header field may hold, as a message lists them: "1, 2, 4, 8 or 16" (one alone: itself)."""
    words = [str(v) for v in values]
    return f"{', '.join(words[:-1])} or {words[-1]}" if len(words) > 1 else words[0]


def listed(names: list[str], shown: int = 3) -> str:
    """The first ``shown`` of ``names``, then "and N more": a note names what it left out without filling a screen."""
    more = f" and {len(names) - shown} more" if len(names) > shown else ""
    return ", ".join(names[:shown]) + more


def none_readable(n: int, where: object, first: tuple[object, object] | None = None) -> str:
    """The error when no image of ``n`` in ``where`` decoded, with the first one's reason: it was "none of the 1
    images in ROOT could be read", saying neither which nor why."""
    said = f"the one image in {where} could not be read" if n == 1 else \
        f"none of the {n} images in {where} could be read"
    return said + (f" ({'' if n == 1 else 'e.g. '}{first[0]}: {first[1]})" if first else "")
