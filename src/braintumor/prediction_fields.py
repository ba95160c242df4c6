"""A :class:`~braintumor.prediction.Prediction`'s fields checked as it is made (``Prediction(...)``,
``Prediction.from_dict``): a str "0.97", a NaN, "false" for a flag were kept as they were, and shown as answers.

Apart from :mod:`braintumor.prediction` so that the answer's module stays about what an answer is and how it is
made; these say only what a wrong field value is.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Mapping

import numpy as np


def shown(value: object) -> str:
    """A wrong field value for an error's words: its type and (short) repr, "str 'false'"."""
    return f"{type(value).__name__} {reprlib.repr(value)}"


def flag(name: str, value: object) -> bool:
    """``ood`` or ``review`` as a bool (numpy's too): JSON gives true or false, so a str there is a caller's mistake."""
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"a Prediction's {name} is true or false (a bool), not {shown(value)}")


def refusal_text(reason: str | None, generic: str) -> str:
    """A refusal's ``reason`` (a str or None, checked): ``generic`` where none is given (a refusal made by hand, or
    from a record with no reason, as a csv row has none), as ``review`` is derived; a blank one says nothing, and
    ``reason=None`` had ``to_dict()`` give a refusal no why (``"reason": null``), "" one of "...trained on: "."""
    if reason is None:
        return generic
    if not reason.strip():
        raise ValueError(f"a refused Prediction's reason says why it was refused, not {shown(reason)}")
    return reason


def class_name(key: object) -> str:
    """A probabilities key, checked to be a class name (a str)."""
    if not isinstance(key, str):
        raise TypeError(f"a Prediction's probabilities are keyed by class name (a str), not {shown(key)}")
    return plain_text(key)


def plain_text(text: str) -> str:
    """A str of a subclass (numpy's ``np.str_``, what an array of class names gives; a str Enum's member) as a plain
    str: kept, its repr was ``np.str_('glioma')`` and pickling it needed numpy."""
    return text if type(text) is str else str.__str__(text)


def number(name: str, value: object, unit: bool = False) -> float:
    """A number field as a float (numpy's too: json.dumps refused a float32), checked: a str "0.97" was kept as it
    was; ``unit``: a probability, finite and in [0, 1]. A 0-d numeric array (``np.array(2.0)``, what indexing or
    reducing an array can give) is its number; a 0-d array of text, bool, complex or objects is not."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]  # its numpy scalar
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"a Prediction's {name} is a number, not {shown(value)}")
    try:
        value = float(value) + 0.0  # (+ 0.0: -0.0 is 0.0, which JSON writes as 0.0, not -0.0)
    except OverflowError:  # an int (or Fraction) past float's range, as JSON's 1 followed by 400 digits: raised
        value = math.inf if value > 0 else -math.inf  # OverflowError, not the field's refusal below or its caller's
    if unit and not 0.0 <= value <= 1.0:  # (NaN: neither)
        raise ValueError(f"a Prediction's {name} is a probability in [0, 1], not {value}")
    return value


def kept_as_is(value: object, top: float = 1.0) -> bool:
    """Whether a number field's ``value`` is kept as it is: a float in [0, ``top``], but not -0.0 (rounded from a
    tiny negative, or read from a record), which records wrote as -0.0; others go through :func:`number`."""
    return type(value) is float and (0.0 < value <= top or (value == 0.0 and math.copysign(1.0, value) > 0))


#: How far a Prediction's probabilities may sum from 1: records write each rounded to 6 decimals, and people to 0.1 %
#: as the page shows them; scores that are no distribution (sigmoids, a class left out) are farther.
TOTAL_TOLERANCE = 0.01


def check_total(probs: Mapping[str, float]) -> None:
    """ValueError unless ``probs`` (checked numbers) sum to 1 within :data:`TOTAL_TOLERANCE`, as softmax gives them:
    a stand-in of one class (``{"glioma": 0.9}``) or a multi-label model's sigmoids were kept, and their bars shown."""
    total = sum(probs.values())
    if not abs(total - 1.0) <= TOTAL_TOLERANCE:
        raise ValueError(f"a Prediction's probabilities are one per class of its model and sum to 1 (within "
                         f"{TOTAL_TOLERANCE}), not {total:.6g} ({', '.join(probs)})")


#: How far a confidence may be from its label's probability: records write both rounded to 6 decimals
#: (``prediction_from_probs``), so one rounded and the other not differ by half of this at most.
CONFIDENCE_TOLERANCE = 1e-6


def agreed_review(label: str | None, confidence: float | None, probs: Mapping[str, float], review: bool | None,
                  note: str | None, below: float) -> bool:
    """The review flag of an answer whose fields were each checked, once they are checked against each other: a
    label that was not the most probable class (ties allowed), a confidence that was not its label's probability, a
    ``review`` false at 50 % were kept, and shown as the model's answers. ``review`` None: derived (true under
    ``below``, the model's own rule); a refused answer (``label`` None) is neither flagged nor noted."""
    if label is None:
        if review:
            raise ValueError("a refused Prediction (ood true) has review false: the flag is about an accepted answer's "
                             "confidence")
        if note is not None:
            raise ValueError(f"a refused Prediction (ood true) has no note (a caution shown with an accepted answer), "
                             f"not {shown(note)}")
        return False
    if probs[label] < max(probs.values()):
        best = max(probs, key=probs.__getitem__)
        raise ValueError(f"a Prediction's label is its most probable class ({best!r}: {probs[best]}), not "
                         f"{label!r} ({probs[label]})")
    if not abs(confidence - probs[label]) <= CONFIDENCE_TOLERANCE:  # (type checkers: confidence is a float here)
        raise ValueError(f"a Prediction's confidence is its label's probability ({label!r}: {probs[label]}, to 6 "
                         f"decimals), not {confidence}")
    flagged = confidence < below
    if review is not None and review is not flagged:
        raise ValueError(f"a Prediction's review is true when its confidence is under {below} (REVIEW_BELOW), false "
                         f"otherwise: not {review} with confidence {confidence}")
    return flagged


def probability_row(classes: tuple[str, ...], probs: object) -> list[float]:
    """One image's row of probabilities for ``prediction_from_probs``, checked (one per class, numbers in [0, 1], no
    True or False), as Python floats in one call (float() of each numpy scalar: one each)."""
    raw, probs = probs, np.asarray(probs)
    if probs.dtype.kind != "f" or not isinstance(raw, np.ndarray):  # True was read as 1.0: glioma, certain
        odd = next((v for v in np.asarray(raw, dtype=object).ravel().tolist() if isinstance(v, (bool, np.bool_))),
                   None)  # (a list's among floats too: np.asarray made it 1.0)
        if odd is not None:  # as Prediction refuses one
            raise TypeError(f"prediction_from_probs takes probabilities as numbers, not {shown(odd)}")
    values = probs.tolist()
    try:
        fine = probs.shape == (len(classes),) and all(0.0 <= v <= 1.0 for v in values)  # (NaN: neither)
    except TypeError:  # a str, None or complex among them: "'<=' not supported between instances of ..."
        odd = next(v for v in values if not isinstance(v, numbers.Real))
        raise TypeError(f"prediction_from_probs takes probabilities as numbers, not {shown(odd)}") from None
    if not fine:
        raise ValueError(_probabilities_error(classes, probs))
    return values


def _probabilities_error(classes: tuple[str, ...], probs: np.ndarray) -> str:
    """What is wrong with ``probs`` for :func:`prediction_from_probs`: a whole batch's failed on "type list doesn't
    define __round__ method", a short row on zip()'s "argument 2 is shorter", and a NaN row was labelled the first
    class, accepted."""
    said = "prediction_from_probs takes"
    if probs.ndim != 1:
        return (f"{said} one image's row of {len(classes)} probabilities, not an array of shape {probs.shape}: "
                "[prediction_from_probs(row) for row in probs] makes one Prediction per row of a batch's")
    if len(probs) != len(classes):
        return f"{said} {len(classes)} probabilities, one per class ({', '.join(classes)}), not {len(probs)}"
    bad = next(v for v in probs.tolist() if not 0.0 <= v <= 1.0)
    return f"{said} probabilities in [0, 1] (what predict_proba gives), not {bad}"
