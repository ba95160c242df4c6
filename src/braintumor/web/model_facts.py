"""The model card: what ``GET /api/v1/model`` answers (:func:`model_card`: the model file's metadata, less its fitted
arrays and paths, plus what this server takes), and its facts in the shapes the model page (templates/model.html)
reads them in (:func:`readable_card`).

A section that is no mapping, or a count or share that is no finite number, in a model file's metadata (hand-edited,
or written by another tool) is left out of the page's, as a field an older export lacks is. The page formats its
numbers ("{:,}", "%.4f", a percentage): a string there failed the page with a 500 while GET /api/v1/model, which shows
the metadata as it is, answered.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from ..classes import display_name
from ..image_io import ALLOWED_FORMATS, MAX_PIXELS, MIN_SIDE
from ..prediction import DISCLAIMER, INTENDED_USE, REVIEW_BELOW, is_calibrated, limitations
from ..volume_objects import MIN_SCAN_SIDE

if TYPE_CHECKING:
    from .inference import WebState

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
    """The card (:func:`model_card`) as the page can show it: see the module's note."""
    return _readable(card)


#: What the card leaves out of the model's metadata (keys, outermost first): the fitted arrays (the head's weights,
#: the detector's means and whitening matrix: 270 kB of base64 that no reader of a card needs), and the file paths
#: the machine that exported the model wrote: the folder it was evaluated on (``metrics.data``: the shipped card said
#: ``../shared/datasets/brain-tumor-mri/Testing`` to any client) and a distilled model's teacher
#: (``training.config.teacher``; export leaves the run's other paths out). A path can name a user, a site or a study;
#: the model file keeps them.
LEFT_OUT_OF_CARD: tuple[tuple[str, ...], ...] = (("head",), ("ood", "means"), ("ood", "whiten"), ("metrics", "data"),
                                                 ("training", "config", "teacher"))


def _without(doc: dict, path: tuple[str, ...]) -> dict:
    """``doc`` less the value at ``path`` (keys, outermost first), copied where it changes: the metadata stays whole."""
    head, *rest = path
    if head not in doc or (rest and not isinstance(doc[head], dict)):
        return doc
    if not rest:
        return {k: v for k, v in doc.items() if k != head}
    return {**doc, head: _without(doc[head], tuple(rest))}


def model_card(st: WebState) -> dict:
    """The model's metadata less :data:`LEFT_OUT_OF_CARD`, plus what this server accepts."""
    clf = st.classifier
    card = dict(clf.metadata)  # the top level is written to below
    for path in LEFT_OUT_OF_CARD:
        card = _without(card, path)
    card.setdefault("classes", list(clf.classes))
    card["display_names"] = {c: display_name(c, card.get("display_names")) for c in clf.classes}  # as the page says
    # the two numbers a result is read against, which the metadata does not say on the results' scale: review's
    # threshold is the package's, and ood.threshold is a raw distance, while a result's ood_score is divided by it
    card["review_below"] = REVIEW_BELOW
    if isinstance(card.get("ood"), dict):
        card["refused_above_ood_score"] = 1.0
    card["heatmap"] = st.cam
    card["limits"] = {"max_request_bytes": st.max_request_bytes, "max_files": st.max_files,
                      "max_pixels": MAX_PIXELS, "max_request_pixels": st.max_request_pixels,
                      "max_slices": st.max_slices, "min_side": MIN_SIDE, "min_scan_side": MIN_SCAN_SIDE,
                      "formats": [*ALLOWED_FORMATS, "DICOM", "NIFTI", "ZIP"]}
    card["intended_use"] = INTENDED_USE
    card["limitations"] = limitations(list(clf.classes), card["display_names"], is_calibrated(clf.metadata))
    card["disclaimer"] = DISCLAIMER
    return card
