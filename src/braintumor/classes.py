"""The four classes, in the one order every model output and report uses."""

from __future__ import annotations

CLASSES: tuple[str, ...] = ("glioma", "meningioma", "notumor", "pituitary")

DISPLAY_NAMES: dict[str, str] = {
    "glioma": "Glioma",
    "meningioma": "Meningioma",
    "notumor": "No tumor",
    "pituitary": "Pituitary",
}


def display_name(label: str) -> str:
    """Human-facing name of a class label (the label itself if unknown)."""
    return DISPLAY_NAMES.get(label, label)
