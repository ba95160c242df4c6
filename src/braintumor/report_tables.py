"""The evaluation report's tables (summary cards, per class, confusion matrix, key and value) and how it writes scores.

Apart from :mod:`braintumor.report` (at the 300-line limit), which lays the page out around them; the leak-free
section repeats the summary, per-class and confusion tables on its subset.
"""

from __future__ import annotations

import json
from html import escape

from .classes import display_name


def esc(value: object) -> str:
    """``value`` as HTML text or an attribute's value, quotes escaped too: every string that reaches the report
    (file names, metadata, error messages) goes through it."""
    return escape(str(value), quote=True)


def format_score(value: float | None, digits: int = 4) -> str:
    """``digits`` decimals; a score short of 1 never shows as a perfect 1.0000 (an AUC of 0.999997 read as perfect)."""
    if value is None:
        return "n/a"
    text = f"{value:.{digits}f}"
    return f">{1 - 10 ** -digits:.{digits}f}" if value < 1 and text == f"{1:.{digits}f}" else text


def summary_cards(metrics: dict) -> str:
    """The summary's cards: accuracy, macro F1, macro ROC AUC, ECE and the images scored."""
    cards = [("Accuracy", format_score(metrics.get("accuracy"))), ("Macro F1", format_score(metrics.get("macro_f1"))),
             ("Macro ROC AUC", format_score(metrics.get("macro_roc_auc"))), ("ECE", format_score(metrics.get("ece"))),
             ("Images", str(metrics.get("n", 0)))]
    body = "".join(f'<div class="card"><div class="v">{esc(v)}</div><div class="k">{esc(k)}</div></div>'
                   for k, v in cards)
    return f'<div class="cards">{body}</div>'


def per_class_table(metrics: dict) -> str:
    """Precision, recall, F1, ROC AUC and support of each class."""
    head = "".join(f"<th>{h}</th>" for h in ("Precision", "Recall (sensitivity)", "F1", "ROC AUC", "Support"))
    rows = []
    for name, m in metrics.get("per_class", {}).items():
        rows.append(f'<tr><td class="l">{esc(display_name(name))}</td><td>{format_score(m["precision"])}</td>'
                    f'<td>{format_score(m["recall"])}</td><td>{format_score(m["f1"])}</td><td>{format_score(m["roc_auc"])}</td>'
                    f'<td>{esc(m["support"])}</td></tr>')
    return f'<table><tr><th class="l">Class</th>{head}</tr>{"".join(rows)}</table>'


def confusion_table(metrics: dict) -> str:
    """The confusion matrix, each cell with its share of its true class (its row), shaded by it."""
    classes = metrics.get("classes") or list(metrics.get("per_class", {}))
    cm = metrics.get("confusion_matrix", [])
    head = "".join(f"<th>{esc(display_name(c))}</th>" for c in classes)
    rows = []
    for name, row in zip(classes, cm, strict=False):
        total = sum(row)
        cells = []
        for count in row:
            share = count / total if total else 0.0
            cells.append(f'<td style="background: rgba(31, 111, 235, {0.08 + 0.6 * share:.2f})">'  # n/a: no images
                         f'{esc(count)} <span class="muted">({f"{share:.1%}" if total else "n/a"})</span></td>')
        said = "" if total else " (no images)"  # its row of "0 (0.0%)" read as a recall of 0, as the figure's did
        rows.append(f'<tr><th class="l">{esc(display_name(name))}{said}</th>{"".join(cells)}</tr>')
    return (f'<table><tr><th class="l">true \\ predicted</th>{head}</tr>{"".join(rows)}</table>'
            '<p class="muted">Rows: true class; columns: predicted class; % of the row.</p>')


def kv_table(pairs: list[tuple[str, object]]) -> str:
    """Key and value rows (a value not a string as JSON): the model's metadata, the data's summary."""
    rows = []
    for key, value in pairs:
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True, default=str)
        rows.append(f'<tr><th class="l">{esc(key)}</th><td class="code">{esc(text)}</td></tr>')
    return f"<table>{''.join(rows)}</table>"
