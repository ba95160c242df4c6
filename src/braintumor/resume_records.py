"""The lines of a ``braintumor predict --resume`` FILE read back as records: where one ends (a csv field may hold a
newline), and each checked to be a record predict writes, so that a file of something else is refused, not appended to.

Apart from :mod:`braintumor.batch_resume` (at its size limit), which repairs the file with them.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from .csv_records import csv_text_value
from .exit_errors import UsageError
from .file_names import utf8_text
from .predict_output import HEATMAP_KEY
from .prediction import Prediction
from .resume_folders import ROOT_KEY
from .wording import printable


def parse_record(line: bytes, n: int, fmt: str, header: list[str], target: Path) -> dict:

    bad = UsageError(f"cannot resume: line {n} of {target} is not a {fmt} record of 'braintumor predict' "
                     f"(another file? remove it or choose another -o)")
    try:
        text = line.decode("utf-8", "surrogateescape")  # a file name that is not UTF-8, as it was written
        if fmt == "jsonl":
            rec = json.loads(text)
        else:
            row = next(csv.reader([text]))
            if len(row) != len(header):
                raise ValueError
            # a class column's name as the model names it (csv_columns guards it as a text cell)
            rec = {csv_text_value(k): v for k, v in zip(header, row, strict=True) if v != ""}
            for key in ("path", "label", "note"):  # csv_row's text cells (an error's is not read)
                if key in rec:
                    rec[key] = csv_text_value(rec[key])
            if rec.pop("ood", "") == "True":
                rec.pop("error", None)  # that column holds a refusal's reason: not a failure
    except (ValueError, StopIteration, csv.Error):  # csv.Error: a bare \r in a cell, as predict wrote it once
        raise bad from None
    if not isinstance(rec, dict) or not isinstance(rec.get("path"), str):
        raise bad
    rec["path"] = utf8_text(rec["path"])  # as an earlier run under an ASCII locale may have written it to jsonl
    score = rec.get("ood_score")  # a distance: a hand-edited nan or inf was taken for one (check_same_model)
    if score not in (None, "") and not _number(score, math.inf):
        raise UsageError(printable(f"cannot resume: line {n} of {target} has ood_score {score}, which braintumor "
                                   "predict never writes (a finite distance >= 0): correct or remove that line, or "
                                   "choose another -o"))
    # jsonl's dict, csv's class columns (between confidence and ood): a hand-edited nan was read by check_same_model
    classes = [csv_text_value(c) for c in header[header.index("confidence") + 1:header.index("ood")]]
    probs = rec.get("probabilities") or {} if fmt == "jsonl" else {c: rec[c] for c in classes if c in rec}
    if not isinstance(probs, dict):
        raise bad
    for name, p in probs.items():
        if not _number(p, 1.0):
            raise UsageError(printable(f"cannot resume: line {n} of {target} has {name} probability {p}, which "
                                       "braintumor predict never writes (a number from 0 to 1): correct or remove "
                                       "that line, or choose another -o"))
    answer = _answer(rec, probs, fmt)
    try:  # Prediction's own checks: a label that was not the most probable class, say, was carried on as an answer
        if answer is not None:
            Prediction.from_dict(answer)
    except (TypeError, ValueError) as exc:
        raise UsageError(printable(f"cannot resume: line {n} of {target} is no answer braintumor predict writes: "
                                   f"{exc}; correct or remove that line, or choose another -o")) from None
    return rec


def _answer(rec: dict, probs: dict, fmt: str) -> dict | None:
    """A record's answer as :meth:`Prediction.from_dict` takes it, or None for an error's or a summary's (and for a
    csv refusal, whose class columns are blank); a csv's cells are text ("0.97", "True"), as predict wrote them."""
    if fmt == "jsonl":
        return rec if "label" in rec or "probabilities" in rec else None
    if "label" not in rec:
        return None
    review = {"True": True, "False": False}.get(rec.get("review"), rec.get("review"))  # ("yes": from_dict names it)
    return {"label": rec["label"], "confidence": _float(rec.get("confidence")), "note": rec.get("note"),
            "probabilities": {c: float(p) for c, p in probs.items()}, "review": review}


def _float(value: object) -> object:
    """A csv cell as a float, or as it is where it is none (from_dict then names it)."""
    try:
        return float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return value


def _number(value: object, most: float) -> bool:
    """Whether a record's ``value`` is a finite number from 0 to ``most`` (``float()`` takes "nan", "inf", True)."""
    try:
        return not isinstance(value, bool) and 0.0 <= float(value) <= most and math.isfinite(float(value))
    except (TypeError, ValueError):  # a list, "abc"
        return False


def csv_header(line: bytes) -> list[str] | None:
    try:
        return next(csv.reader([line.decode("utf-8", "replace")]), None)
    except csv.Error:  # a bare \r: no header predict writes
        return None


def record_lines(fh: BinaryIO, fmt: str) -> Iterator[tuple[int, bytes, bool]]:
    """(line number, bytes, complete) of each record. A csv field may hold a newline (a file name can), so a csv
    record runs on while its quotes are open (the writer doubles a quote inside a field: an odd count is open);
    a record is complete when it ends with a newline outside quotes, else an interruption cut it short."""
    pending, first = b"", 0
    for n, line in enumerate(fh, 1):
        first = first if pending else n
        pending += line
        still_open = fmt == "csv" and pending.count(b'"') % 2 == 1
        if still_open and line.endswith(b"\n"):
            continue
        yield first, pending, line.endswith(b"\n") and not still_open
        pending = b""
    if pending:
        yield first, pending, False


def _json_key(key: str) -> str:
    """A jsonl record's ``key`` (never text inside a string, where a quote is ``\\"``)."""
    return r'(?:^|[{,])\s*"' + key + r'":\s*'


def cut_record(line: bytes, fmt: str, header: list[str]) -> dict:
    """What a last line cut short (an interrupted run's) says whole of its input and heat map: ``path``, ``series``,
    ``slice``, the heat map's name and working folder (csv cells undone), each only where whole; ``heatmap`` None where
    the line began its name but was cut in it. Cut off, the line's map was named by no record, and kept beside the
    input's map drawn again (``scan-slice3-2``)."""
    text, rec = line.decode("utf-8", "surrogateescape"), {}
    if fmt == "jsonl":
        for key in ("path", HEATMAP_KEY, ROOT_KEY):
            if whole := re.search(_json_key(key) + r'"((?:[^"\\]|\\.)*)"', text):
                try:
                    rec[key] = json.loads(f'"{whole[1]}"')
                except ValueError:
                    continue
            elif key == HEATMAP_KEY and re.search(_json_key(key) + '"', text):
                rec[key] = None
        for key in ("series", "slice"):
            if whole := re.search(_json_key(key) + r"([0-9]+)\s*[,}]", text):
                rec[key] = int(whole[1])
    else:
        try:  # its last cell may be cut short (an open quote is read as closed)
            row = next(csv.reader([text]), [])
        except csv.Error:
            row = []
        rec = {k: csv_text_value(v) for k, v in zip(header, row[:-1], strict=False) if v != ""}
        if HEATMAP_KEY in header and len(row) == header.index(HEATMAP_KEY) + 1 and row[-1]:
            rec[HEATMAP_KEY] = None
    if isinstance(rec.get("path"), str):
        rec["path"] = utf8_text(rec["path"])
    return rec
