"""The lines a ``braintumor predict`` run ends with on stderr: what it did (:func:`tally_text`) and, when the exit
code is 1, why (:func:`failed_text`), each in the page's words."""

from __future__ import annotations

from collections import Counter

from .refusal_wording import refusals_text
from .stripped import count_text
from .wording import LOWER_CONFIDENCE, UNREADABLE, counted, not_analysed_text, printable, review_below_text


def failed_text(failed: Counter[str], before: Counter[str], output: str | None) -> str:
    """The line under the last that says why the exit code is 1: ``2 unreadable inputs``, a scan's slices counted
    apart from inputs as the page's "Done:" line counts them (``1 unreadable input, 3 unreadable slices``: a scan's 3
    slices were 3 inputs); with --resume, those the continued file already held said apart (``2 unreadable inputs (1
    this run, 1 already in r.jsonl from an earlier run)``): the last line counts this run's records only, and "0
    unreadable" was followed by "1 unreadable input"."""
    said = unread_text(failed)
    if not +before:
        return said

    def parts(count: Counter[str]) -> str:
        if not failed["slice"]:  # inputs alone: bare numbers
            return str(count["input"])
        return " and ".join(counted(count[p], p) for p in ("input", "slice") if count[p]) or "0"

    return printable(f"{said} ({parts(failed - before)} this run, {parts(before)} already in {output} from an "
                     "earlier run)")


def unread_text(unread: Counter[str]) -> str:
    """Unreadable records by part, a scan's slices apart from inputs (``1 unreadable input, 3 unreadable slices``):
    the one wording of the run's last two lines."""
    return ", ".join(counted(unread[part], f"{UNREADABLE} {part}") for part in ("input", "slice")
                     if unread[part] or (part == "input" and not unread["slice"]))


def tally_text(tally: Counter, unread: Counter[str] | None = None, stripped: int = 0) -> str:
    """One line on what a run did, e.g. ``1311 scored: 1274 classified, 26 of them with lower confidence (under
    99.0%), 37 not classified (unlike brain MRI), 0 unreadable`` (a volume's slices count one by one; with --resume,
    this run's records only), refusals in the page's words. Slices refused as turned are said apart (``34 not classified
    (unlike brain MRI), 11 not classified (turned: rotate upright and resend)``): they were counted with the others,
    and their advice lost. Answers under 99 % are said as their rows say them (:data:`LOWER_CONFIDENCE`), not
    "flagged for review": every answer is for a clinician to interpret, not only these. Inputs that could not be read
    are :data:`UNREADABLE`, as the page's "Done:" line says them (this said "failed", the page "could not be
    read"). Where a scan's slices are among them (``unread``, by :func:`~braintumor.series.unread_part`), they are
    said as the line under it says them (``3 unreadable slices``): "3 unreadable" above it read as three inputs.
    Answers that look skull-stripped (``stripped``, only when some do) are said after those under 99 %, as a scan's
    summary says them (:func:`~braintumor.stripped.count_text`): each row carried the note, the last line nothing.
    Inputs or slices the model failed on (``tally["unscored"]``: its scores not finite) are said last, only when there
    are any, as the page's "Done:" line says them (``1 not analysed: the model failed``): they were counted among the
    unreadable, the input's fault."""
    classified = tally["ok"] + tally["review"]
    refused = refusals_text(tally["ood"] + tally["turned"], tally["turned"])
    return (f"{sum(tally.values())} scored: {classified} classified, {tally['review']} of them with {LOWER_CONFIDENCE} "
            f"({review_below_text()}), " + (f"{count_text(stripped)}, " if stripped else "") + f"{refused}, "
            + (unread_text(unread) if unread and unread["slice"] else f"{tally['error']} {UNREADABLE}")
            + (f", {not_analysed_text(tally['unscored'])}" if tally["unscored"] else ""))
