"""Records as CSV, one format for every CSV braintumor writes or reads back: ``braintumor predict --format csv``, the
web page's results download (static/text.js fills the same columns), evaluate's predictions.csv and ``--resume``.

Why its own module: the columns, the cells a spreadsheet must show as text and the rows a CSV reader must not cut are
one promise, kept the same by all of them; :mod:`braintumor.series` makes the records, this says how they read as CSV.
"""

from __future__ import annotations

import csv
import io
from typing import TextIO

from .wording import printable


def csv_columns(classes: tuple[str, ...] | list[str]) -> list[str]:
    """The CSV header of records: ``braintumor predict --format csv`` and the web page's download share it.

    ``series`` (last, so readers of the older columns keep their positions) tells apart the series of a folder or
    zip that held several, whose slices share one path; ``note`` after it (an answer's caution, ``Prediction.note``),
    for the same reason. A custom model's class names are formula-safe (:func:`csv_text`), as the label cells."""
    return ["path", "label", "confidence", *map(csv_text, classes), "ood", "ood_score", "error", "slice", "review",
            "series", "note"]


def csv_row(rec: dict, classes: tuple[str, ...] | list[str]) -> list:
    """One record under :func:`csv_columns` (an error or a refusal's reason in ``error``; blanks for absent values);
    its text cells (path, label, error, note) formula-safe (:func:`csv_text`), as the page's download (static/text.js).

    A refused record's class columns are blank, as its label and confidence are: a spreadsheet filter on a class
    column (meningioma > 0.9) picked up a refused photo at 0.9996. Its network output stays in json and jsonl, under
    its ``"ood": true``."""
    probs = {} if rec.get("ood") else rec.get("probabilities", {})
    return [csv_text(rec["path"]), csv_text(rec.get("label") or ""), _blank(rec.get("confidence")),
            *(probs.get(c, "") for c in classes), _blank(rec.get("ood")), _blank(rec.get("ood_score")),
            csv_text(rec.get("error") or rec.get("reason") or ""), rec.get("slice", ""), _blank(rec.get("review")),
            rec.get("series", ""), csv_text(rec.get("note") or "")]


class CsvRows:
    """``csv.writer(out, lineterminator="\n")`` that also quotes a cell holding ``\r``: csv.writer quotes only the
    characters of its own line ending, so a file name holding a carriage return was written bare and a CSV reader
    (pandas, a spreadsheet, ``--resume``) ended the row there. Rows are written as "\r\n"-ended ones, then "\n".

    To a terminal (``predict --format csv`` at a prompt) text cells are shown as the table shows names
    (:func:`~braintumor.wording.printable`): a file name's escape sequence cleared the screen or set its title. To a
    file or a pipe every cell is written exactly."""

    def __init__(self, out: TextIO) -> None:
        self.out, self.buf = out, io.StringIO()
        self.rows = csv.writer(self.buf, lineterminator="\r\n")
        self.terminal = bool(getattr(out, "isatty", None) and out.isatty())

    def writerow(self, row: list) -> None:
        """``row`` as one CSV line ending in "\\n", as csv.writer's ``writerow`` writes it."""
        if self.terminal:
            row = [printable(cell) if isinstance(cell, str) else cell for cell in row]
        self.buf.seek(0)
        self.buf.truncate()
        self.rows.writerow(row)
        self.out.write(self.buf.getvalue()[:-2] + "\n")


#: First characters that make a spreadsheet read a cell as a formula (OWASP "CSV injection").
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_text(text: str) -> str:
    """A text cell (a file name, a message) that a spreadsheet shows as text: one ``'`` before a cell starting like a
    formula (a file named ``=HYPERLINK(...).jpg``) or with ``'`` itself, so :func:`csv_text_value` undoes it exactly."""
    return "'" + text if text.startswith((*_FORMULA_START, "'")) else text


def csv_text_value(cell: str) -> str:
    """The text :func:`csv_text` was given (``--resume`` reads paths back)."""
    return cell[1:] if cell.startswith("'") else cell


def _blank(value: object) -> object:
    return "" if value is None else value
