"""The metrics.json of ``braintumor evaluate`` that an exported model embeds (``export | quantize | calibrate
--metrics``): reading it, refusing another network's, and the few headline numbers kept; apart from the metrics
themselves (metrics.py had reached its size limit)."""

from __future__ import annotations

import json
import os
from pathlib import Path

#: The metrics an exported model carries in its metadata (``braintumor export/quantize --metrics``).
HEADLINE_METRICS: tuple[str, ...] = ("n", "accuracy", "macro_f1", "macro_roc_auc", "ece")


def read_metrics_file(path: str | os.PathLike, model: dict | None = None) -> dict:
    """A ``braintumor evaluate`` metrics.json, or a DatasetError that says what is wrong with it.

    ``model``: the metadata of the model it is to be embedded in; a metrics.json of another network (another
    architecture, training data or training run, as its own ``model.metadata`` records them) is refused: it would
    describe the file with another model's results."""
    from .data import DatasetError
    from .image_files import file_kind, is_special_file

    if is_special_file(Path(path)):  # /dev/zero was read until memory ran out; a FIFO's open waited for good
        raise DatasetError(f"--metrics {path} is {file_kind(Path(path))}: give the metrics.json 'braintumor evaluate' "
                           "wrote")
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise DatasetError(f"--metrics {path}: {exc.strerror or exc}") from None
    except (ValueError, UnicodeDecodeError):
        raise DatasetError(f"--metrics {path} is not JSON (expected the metrics.json 'braintumor evaluate' "
                           "writes)") from None
    if not isinstance(data, dict) or "accuracy" not in data:
        raise DatasetError(f"--metrics {path} is not a metrics.json of 'braintumor evaluate'")
    scored = ((data.get("model") or {}).get("metadata")) or {}
    for key, theirs, mine in _identities(scored, model or {}):
        if theirs is not None and mine is not None and theirs != mine:
            raise DatasetError(f"--metrics {path} describes another model (its {key} is {str(theirs)[:16]}, "
                               f"this model's {str(mine)[:16]}): embed the metrics of this very network")
    return data


#: Training settings that name no file (``teacher`` is a path, written as the run's machine listed it).
_NOT_COMPARED = frozenset({"data", "out", "cache_dir", "teacher"})


def _identities(scored: dict, model: dict) -> list[tuple[str, object, object]]:
    """(what, the metrics' model's, this model's) for what tells two networks apart: the architecture and data, and
    the run that trained it (its settings, best epoch, validation accuracy), which a model of the same architecture
    trained on the same data with another seed shares none of."""
    pairs = [(k, scored.get(k), model.get(k)) for k in ("model_name", "data_fingerprint")]
    theirs, mine = scored.get("training"), model.get("training")
    if not (isinstance(theirs, dict) and isinstance(mine, dict)):
        return pairs
    a, b = theirs.get("config"), mine.get("config")
    if isinstance(a, dict) and isinstance(b, dict):
        pairs += [(f"training {k}", a[k], b[k]) for k in sorted(a.keys() & b.keys() - _NOT_COMPARED)]
    return pairs + [(f"training {k}", theirs.get(k), mine.get(k)) for k in ("best_epoch", "val_accuracy")]


def headline_metrics(metrics: dict) -> dict:
    """The few numbers of ``braintumor evaluate``'s metrics.json that a model file carries about itself."""
    out = {k: metrics[k] for k in HEADLINE_METRICS if k in metrics}
    if "data" in metrics and isinstance(metrics["data"], dict):
        out["data"] = metrics["data"].get("root")
    return out
