"""The model card's facts in the shapes the model page (templates/model.html) reads them in: a section that is no
mapping, or a count or share that is no finite number, in a model file's metadata (hand-edited, or written by another
tool) is left out, as a field an older export lacks is. The page formats its numbers ("{:,}", "%.4f", a percentage):
a string there failed the page with a 500 while GET /api/v1/model, which shows the metadata as it is, answered.
"""

from __future__ import annotations

import math

#: The card's sections the page reads as mappings, and the mappings inside them (by key, at any depth).
SECTIONS: frozenset[str] = frozenset({"metrics", "training", "calibration", "ood", "orientation", "preprocess",
                                      "config", "leak_free", "per_class", "val_before", "val_after"})

#: The values the page reads as numbers (formatted, or compared), by key at any depth of a section.
NUMBERS: frozenset[str] = frozenset({"train_images", "val_images", "val_accuracy", "epochs", "best_epoch", "n",
                                     "accuracy", "macro_f1", "macro_roc_auc", "ece", "precision", "recall", "f1",
                                     "support", "n_val", "val_refused", "val_quarter_turns_refused",
                                     "val_upside_down_refused", "image_size", "num_parameters", "temperature"})


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _readable(value: dict, per_class: bool = False) -> dict:
    """``value`` less the sections that are no mapping and the numbers that are none (a class's row: by its name)."""
    kept = {}
    for key, item in value.items():
        if per_class or key in SECTIONS:
            if isinstance(item, dict):
                kept[key] = _readable(item, per_class=key == "per_class")
        elif key not in NUMBERS or _number(item):
            kept[key] = item
    return kept


def readable_card(card: dict) -> dict:
    """The card (:func:`braintumor.web.inference.model_card`) as the page can show it: see the module's note."""
    return _readable(card)
