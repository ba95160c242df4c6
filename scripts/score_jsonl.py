#!/usr/bin/env python3
"""Score `braintumor predict --format jsonl` output against the class folder each path sits in.

    braintumor predict DATA/Testing --format jsonl | python scripts/score_jsonl.py
    python scripts/score_jsonl.py out.jsonl [MORE.jsonl ...]     # files of braintumor predict -o out.jsonl

Independent of the package on purpose: it checks the CLI's answers, not the library's.
A slice not classified (``"ood": true``, label withheld: unlike brain MRI, or turned) is scored by its most
probable class for the model's accuracy, and counted apart as not classified; "answered" counts it as wrong. The
counts are said in the words of the CLI, the page and evaluate (braintumor.wording's, copied).
The class is the innermost folder of the path that names one, as evaluate reads class folders (other
datasets' names too: no_tumor, "Glioma Tumor"; patient folders below it). A DICOM file found in a folder
predict was given is recorded under that folder, as one of its series, with the file under ``file``: that is the
path scored (``braintumor predict DATA/Testing``). Records that name no class, and the slices of a volume or series
(not all of them show the folder's class), are counted apart, not scored.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import PurePath

#: braintumor.classes.FOLDER_ALIASES, copied to stay independent of the package (a test keeps them equal).
FOLDER_ALIASES: dict[str, str] = {
    "glioma_tumor": "glioma", "meningioma_tumor": "meningioma", "pituitary_tumor": "pituitary",
    "pituitary_adenoma": "pituitary", "no_tumor": "notumor", "no_tumour": "notumor", "normal": "notumor",
}
#: braintumor.orientation.TURN_ADVICE, copied likewise: the words a refusal as turned ends with (a test keeps
#: them equal). Such a slice is a brain MRI, to be turned: counted apart from those refused as unlike brain MRI.
TURN_ADVICE: str = "rotate it upright and send it again"
#: braintumor.refusal_wording.UNLIKE_MRI and braintumor.wording.UNREADABLE, copied likewise: the script's counts in
#: the words the CLI, the page and evaluate use (it said "refused as unlike brain MRI: 36" and "(errors: 0)" where they
#: say "36 not classified (unlike brain MRI)" and "0 unreadable").
UNLIKE_MRI: str = "unlike brain MRI"
UNREADABLE: str = "unreadable"
#: braintumor.refusal_wording.TURNED_RESEND, copied likewise: how a count of slices refused as turned (a quarter, or
#: upside down) reads; it said "on their side", which upside-down ones are not.
TURNED_RESEND: str = "turned: rotate upright and resend"


def refusals_text(refused: int, side: int) -> str:
    """braintumor.refusal_wording.refusals_text, copied likewise (a test keeps the two equal): all ``refused`` records,
    ``side`` of them as turned, e.g. ``36 not classified (unlike brain MRI), 9 not classified (turned: rotate upright
    and resend)``; the first count kept at 0, the second left out then."""
    said = [f"{refused - side} not classified ({UNLIKE_MRI})"]
    if side:
        said.append(f"{side} not classified ({TURNED_RESEND})")
    return ", ".join(said)


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """braintumor.wording.counted, copied likewise (a test keeps the two equal): ``n`` with ``noun`` in the number it
    takes; the script said "1 records" and "1 volumes or series"."""
    return f"{n} {noun if n == 1 else plural or noun + 's'}"


def class_of(path: str, classes: set[str]) -> str | None:
    """The class named by the innermost part of ``path`` that names one (case, spaces and hyphens ignored); the
    path itself counts: a DICOM series found in a folder is recorded under the folder's name."""
    for part in reversed(PurePath(path).parts):
        key = part.strip().lower().replace("-", "_").replace(" ", "_")
        key = FOLDER_ALIASES.get(key, key)
        if key in classes:
            return key
    return None


def _records(lines: list[str], source: str = "") -> list[dict]:
    """The answer records of jsonl ``lines`` (a --summary line is none); ValueError names the first line that is not
    one, after ``source`` (a file's name and ", ") when given."""
    records = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            rec = json.loads(line)
        except ValueError:
            rec = None
        if not isinstance(rec, dict) or "path" not in rec:
            raise ValueError(f"{source}line {number} is not a record of 'braintumor predict --format jsonl': "
                             f"{line.strip()[:60]!r}")
        if "summary" not in rec:  # --summary's line after a volume: no answer of its own
            records.append(rec)
    return records


def _read(names: list[str]) -> list[dict]:
    """The records of each named jsonl file in turn (``-``: standard input), or of standard input when none is named.
    Why files: a run's ``-o out.jsonl`` was given as an argument, which was ignored (the usage shown, or standard
    input read instead)."""
    if not names:
        return _records(sys.stdin.readlines())
    records = []
    for name in names:
        if name == "-":
            records += _records(sys.stdin.readlines(), "standard input, ")
            continue
        with open(name, encoding="utf-8", errors="surrogateescape") as fh:  # predict's jsonl: UTF-8, \udcXX escapes
            records += _records(fh.readlines(), f"{name}, ")
    return records


def main() -> int:
    names = sys.argv[1:]
    if {"-h", "--help"} & set(names) or (not names and sys.stdin.isatty()):  # nothing piped in: say how, do not wait
        print(__doc__.strip(), file=sys.stderr)
        return 0 if names else 2
    if options := [name for name in names if name.startswith("-") and name != "-"]:
        print(f"error: unknown option {options[0]}: score_jsonl.py takes jsonl files (./{options[0]} for a file of "
              "that name), or reads standard input", file=sys.stderr)
        return 2
    try:
        records = _read(names)
    except OSError as exc:
        print(f"error: cannot read {exc.filename}: {exc.strerror}", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    classes = {c for rec in records for c in rec.get("probabilities") or {}} or \
        {"glioma", "meningioma", "notumor", "pituitary"}
    total, correct, errors, refused, answered, side = Counter(), Counter(), 0, 0, 0, 0
    no_class: list[dict] = []
    volume_slices: Counter[str] = Counter()
    for rec in records:
        if "slice" in rec:  # in a class folder or not: its slices are not scored (not "in no class folder")
            volume_slices[rec["path"] + f" series {rec.get('series')}"] += 1
            continue
        truth = class_of(rec.get("file") or rec["path"], classes)  # a single DICOM slice: its own file
        if truth is None:
            no_class.append(rec)
            continue
        total[truth] += 1
        if "error" in rec:
            errors += 1
            continue
        probs = rec["probabilities"]
        best = max(probs, key=probs.get)
        correct[truth] += best == truth
        answered += rec["label"] == truth
        refused += bool(rec.get("ood"))
        side += bool(rec.get("ood")) and TURN_ADVICE in (rec.get("reason") or "")
    n = sum(total.values())
    if volume_slices:
        print(f"not scored: {counted(sum(volume_slices.values()), 'slice')} of "
              f"{counted(len(volume_slices), 'volume or series', 'volumes or series')} (not every slice of a volume "
              "shows its folder's class; score single slices)")
    if no_class:
        series = any("series" in rec for rec in no_class)  # DICOM files found below a folder: named by that folder
        print(f"not scored: {counted(len(no_class), 'record')} in no folder named after a class "
              f"({', '.join(sorted(classes))}), e.g. {no_class[0]['path']}"
              + ("; a DICOM series is recorded under the folder predict was given: give it each class folder"
                 if series else ""))
    if not n:
        print("no predictions to score" + (" (see above)" if records else " read"), file=sys.stderr)
        return 2
    print(f"accuracy {sum(correct.values())}/{n} = {100 * sum(correct.values()) / n:.2f} %  ({errors} {UNREADABLE})")
    print(f"{refusals_text(refused, side)}; answered correctly (not classified counts as wrong): "
          f"{answered}/{n} = {100 * answered / n:.2f} %")
    for cls in sorted(total):
        print(f"  {cls:<11} recall {correct[cls]}/{total[cls]} = {100 * correct[cls] / total[cls]:.2f} %")
    return 0


def run() -> int:
    """:func:`main`, quiet when the reader of its output leaves first (``... | score_jsonl.py | head -0``), as
    braintumor's CLI is (cli_run's BrokenPipeError): the reader's choice, not an error, so no traceback and code 0."""
    code = 0
    try:
        code = main()
        sys.stdout.flush()  # here, not at exit, where a closed pipe is "Exception ignored ..." and code 120
    except BrokenPipeError:
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # what is left in the buffer goes nowhere
    return code


if __name__ == "__main__":
    sys.exit(run())
