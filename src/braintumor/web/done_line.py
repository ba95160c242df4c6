"""What the no-JavaScript results page says of a request's uploads as a whole, beside their cards: each name's copy
number and the "Done:" line (static/app.js and static/run-status.js say the same with JavaScript)."""

from __future__ import annotations

from collections import Counter
from itertools import pairwise

from markupsafe import Markup

from ..refusal_wording import not_classified_texts
from ..series import outcome, unread_part
from ..stripped import count_text, noted
from ..wording import LOWER_CONFIDENCE, UNREADABLE, counted, not_analysed_text
from .model_failures import MODEL_FAILED_SHORT, model_failed
from .volumes import Entry


def copy_suffixes(names: list[str]) -> list[str]:
    """For each name, what the page adds to it on its card (and its scan's block): " (2)" for the second of one name,
    as a file manager numbers a copy, "" for the first. One rule with the page's script (app.js's copyOf): without
    JavaScript, two files of one name in one form (or one file twice) made two cards of one heading, and controls and
    images of one name. The records (and what the CLI and the API say) keep the file's own name."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(f" ({seen[name]})" if seen[name] > 1 else "")
    return out


def card_id(index: int) -> str:
    """The id of the heading of the card (or scan) of ``entries[index]`` on the no-JavaScript results page, where the
    Done line's link lands: one per entry, each entry one card or one scan's block."""
    return f"card-{index + 1}"


def scans_in(records: list[dict]) -> int:
    """How many scans one file's records are of: a scan's slices (``slice``) or a series' one image (``series``), told
    apart by their path (a zip's member) and series, as static/run-status.js counts them; an image or a file unread is
    none. A zip of three scans was said "1 file, 6 slices", as if it were one."""
    return len({(rec.get("path"), rec.get("series")) for rec in records if "slice" in rec or "series" in rec})


def files_text(files: int, scans: int, several: bool) -> str:
    """The Done line's count of files, with the scans they held where a file held more than one ("1 file (3 scans)",
    run-status.js's filesText): "1 file" alone read as one scan."""
    return counted(files, "file") + (f" ({counted(scans, 'scan')})" if several else "")


def done_text(entries: list[Entry], files: int) -> str:
    """The no-JavaScript results' "Done:" line, as static/run-status.js writes it after its uploads: the page without
    JavaScript said nothing of what its cards and scans added up to. Each record counted as the CLI's last line counts
    it (:func:`~braintumor.series.outcome`), a slice or an image each; where a file gave several (a scan), the files
    and slices first, and a file none of whose slices was read counted as a file ("Done: 3 files, 57 slices: 50
    classified, 7 not classified (unlike brain MRI); 1 file unreadable (see below)."). Answers that look skull-stripped
    are counted after those of lower confidence, as the CLI's last line counts them (only when some do). Its count of
    files unreadable is a link to the first such card's heading (Markup), as run-status.js makes it a button: with 30
    cards and one unreadable, "(see below)" left it to be found by scrolling; so is its count of lower confidence,
    to the first card (or scan) with one."""
    per_file: dict[int, list[dict]] = {}
    for entry in entries:
        per_file.setdefault(entry.upload, []).extend(entry.records)
    tally, unread, slices, stripped, failed = Counter(), files - len(per_file), 0, 0, 0
    for rec in (rec for records in per_file.values() for rec in records):
        if model_failed(rec):  # the server's model's fault, not the upload's: as run-status.js counts its 503
            failed += 1
            slices += unread_part(rec) == "slice"  # a scan's slice is among its slices
        elif unread_part(rec) == "input":  # the file itself (or a zip's member): no slice of it was read
            unread += 1
        else:
            slices += 1
            tally[outcome(rec)] += 1
            stripped += noted(rec)
    several = any(len(records) > 1 for records in per_file.values())
    scans = [scans_in(records) for records in per_file.values()]
    if not several:  # one record per file: its counts are the files'
        tally["error"], unread = tally["error"] + unread, 0
    said = [f"{tally['ok'] + tally['review']} classified"] + \
        ([f"{tally['review']} of them with {LOWER_CONFIDENCE}"] if tally["review"] else []) + \
        ([count_text(stripped)] if stripped else []) + \
        not_classified_texts(tally["ood"], tally["turned"]) + \
        ([f"{tally['error']} {UNREADABLE}"] if tally["error"] else [])
    head = f"{files_text(files, sum(scans), max(scans) > 1)}, {counted(slices, 'slice')}: " if several else ""
    tail = f"; {counted(unread, 'file')} {UNREADABLE}" if unread else ""
    text = f"Done: {head}{', '.join(said)}{tail}"
    after = f"{'; ' if unread and several else ', '}{not_analysed_text(failed, MODEL_FAILED_SHORT)}" if failed else ""
    # the count linked: the line's last, of files ("2 unreadable" of one record each, "1 file unreadable"), not slices'
    linked = tail[2:] if several else said[-1] if tally["error"] else ""
    turn = in_turn(entries, several)
    first = turn["unread"][0] if turn["unread"] else None
    # a file with no card (none of its records came back) has nothing to go to
    shown = Markup.escape(text) if not linked or first is None else Markup(
        '{}<a class="status-link" href="#{}">{}</a>').format(text[:-len(linked)], card_id(first), linked)
    # the count of lower confidence too, to the first card (or scan) with one: among 30 it was left to be found
    if tally["review"] and turn["review"]:
        words = f"{tally['review']} of them with {LOWER_CONFIDENCE}"
        shown = shown.replace(Markup.escape(words), Markup('<a class="status-link" href="#{}">{}</a>').format(
            card_id(turn["review"][0]), words))
    return shown + after + " (see below)."


def in_turn(entries: list[Entry], several: bool) -> dict[str, list[int]]:
    """Which entries the Done line's links go to, in page order: ``unread``, the cards of files unreadable (of one
    record each where no file gave several, the CLI's "2 unreadable"), not one the model failed on; ``review``, those
    with an answer of lower confidence."""
    return {"unread": [i for i, entry in enumerate(entries) if any(
        not model_failed(rec) and (unread_part(rec) == "input" if several else "error" in rec)
        for rec in entry.records)],
        "review": [i for i, entry in enumerate(entries) if any(outcome(rec) == "review" for rec in entry.records)]}


NEXT_WORDS = {"unread": f"Next {UNREADABLE} file", "review": f"Next answer of {LOWER_CONFIDENCE}"}


def next_links(entries: list[Entry]) -> dict[int, list[tuple[str, str]]]:
    """For each entry the Done line's link leads to but the last, (words, id) of a link to the next such card's heading,
    which the page without JavaScript shows under its heading: its Done line's link goes to the first alone (the
    script's button goes to each in turn), the others were left to be found by browsing 30 cards."""
    links: dict[int, list[tuple[str, str]]] = {}
    per_file = Counter()  # as done_text tells a file that gave several records (a scan, a zip)
    for entry in entries:
        per_file[entry.upload] += len(entry.records)
    for kind, where in in_turn(entries, any(n > 1 for n in per_file.values())).items():
        for here, there in pairwise(where):
            links.setdefault(here, []).append((NEXT_WORDS[kind], card_id(there)))
    return links
