"""The four classes, in the order training gives their labels and scores. A model file's own order is its metadata's
``classes``, which its answers, heat maps, evaluation and calibration follow (tests/test_model_class_order.py)."""

from __future__ import annotations

CLASSES: tuple[str, ...] = ("glioma", "meningioma", "notumor", "pituitary")

#: What people read for each class (the labels stay in JSON and CSV: scripts use them). "Pituitary tumour", not
#: "Pituitary": alone, it names the gland, which every brain slice at that level shows; "tumour" as the page writes it.
DISPLAY_NAMES: dict[str, str] = {
    "glioma": "Glioma",
    "meningioma": "Meningioma",
    "notumor": "No tumour",
    "pituitary": "Pituitary tumour",
}


def display_name(label: str, model_names: dict[str, str] | None = None) -> str:
    """Human-facing name of a class label: this package's for its classes (a model file's own names, written when it
    was exported, are older wording: the shipped file says "Pituitary"), then ``model_names`` (a model of other
    classes), else the label itself."""
    return DISPLAY_NAMES.get(label) or (model_names or {}).get(label) or label


#: Other names datasets give the same classes' folders (the older Kaggle "Brain Tumor Classification (MRI)" set
#: uses glioma_tumor, meningioma_tumor, no_tumor, pituitary_tumor), so such folders can be evaluated as they are.
FOLDER_ALIASES: dict[str, str] = {
    "glioma_tumor": "glioma", "meningioma_tumor": "meningioma", "pituitary_tumor": "pituitary",
    "pituitary_adenoma": "pituitary", "no_tumor": "notumor", "no_tumour": "notumor", "normal": "notumor",
}


def class_of_folder(name: str, classes: tuple[str, ...] | list[str] = CLASSES) -> str | None:
    """The class a folder name stands for (case, spaces and hyphens ignored), None when it is none of them."""
    key = name.strip().lower().replace("-", "_").replace(" ", "_")
    key = FOLDER_ALIASES.get(key, key)
    return key if key in classes else None
