"""``predictions.csv``, the per-image rows ``braintumor evaluate`` writes beside metrics.json and the report.

Its own module because its columns are a contract (tools read them by position: new ones go last) and grow with each
thing an answer carries, apart from the metrics evaluate.py computes.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .csv_records import CsvRows, csv_columns, csv_text
from .report import write_text_atomic
from .wording import STRIPPED_NOTE


def write_predictions(out: Path, paths: list[Path], y: np.ndarray, probs: np.ndarray, classes: Sequence[str],
                      refused: np.ndarray, scores: np.ndarray, review: np.ndarray,
                      leak_free: np.ndarray | None = None, *, side: np.ndarray, noted: np.ndarray) -> Path:
    """One row per readable image: the network's answer, whether the OOD check refused it (``refused`` 1/0, with
    its ``ood_score``, blank for a model without the check), whether the answer has lower confidence (``review``
    1/0), ``leak_free`` (1/0) when the leak check ran, then ``refused_turned`` (1/0, ``side``): refused as on its
    side, a brain MRI to rotate and resend rather than one unlike brain MRI (after them, so the older columns keep
    their positions), and last ``note`` as predict's CSV has it (csv_records.csv_columns; ``noted``: the
    skull-stripped one)."""
    buf = io.StringIO()
    writer = CsvRows(buf)
    extra = ["leak_free"] if leak_free is not None else []
    note_column = [c for c in csv_columns(classes) if c == "note"]
    writer.writerow(["path", "true", "predicted", "confidence", *(f"prob_{c}" for c in classes), "refused",
                     "ood_score", "review", *extra, "refused_turned", *note_column])
    for n, (path, t, p) in enumerate(zip(paths, y, probs, strict=True)):
        k = int(np.argmax(p))
        flag = [int(leak_free[n])] if leak_free is not None else []
        score = "" if np.isnan(scores[n]) else f"{scores[n]:.4f}"
        writer.writerow([csv_text(str(path)), classes[int(t)], classes[k], f"{p[k]:.6f}", *(f"{v:.6f}" for v in p),
                         int(refused[n]), score, int(review[n]), *flag, int(refused[n] and side[n]),
                         *([STRIPPED_NOTE if noted[n] else ""] if note_column else [])])
    return write_text_atomic(out / "predictions.csv", buf.getvalue())
