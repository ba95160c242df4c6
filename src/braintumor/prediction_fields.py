"""A :class:`~braintumor.prediction.Prediction`'s fields checked as it is made (``Prediction(...)``,
``Prediction.from_dict``): a str "0.97", a NaN, "false" for a flag were kept as they were, and shown as answers.

Apart from :mod:`braintumor.prediction` so that the answer's module stays about what an answer is and how it is
made; these say only what a wrong field value is.
"""

from __future__ import annotations

import math
import numbers
import reprlib

import numpy as np


def shown(value: object) -> str:
    """A wrong field value for an error's words: its type and (short) repr, "str 'false'"."""
    return f"{type(value).__name__} {reprlib.repr(value)}"


def flag(name: str, value: object) -> bool:
    """``ood`` or ``review`` as a bool (numpy's too): JSON gives true or false, so a str there is a caller's mistake."""
    if isinstance(value, np.bool_):
        return bool(value)
    raise TypeError(f"a Prediction's {name} is true or false (a bool), not {shown(value)}")


def class_name(key: object) -> str:
    """A probabilities key, checked to be a class name (a str)."""
    if not isinstance(key, str):
        raise TypeError(f"a Prediction's probabilities are keyed by class name (a str), not {shown(key)}")
    return key


def number(name: str, value: object, unit: bool = False) -> float:
    """A number field as a float (numpy's too: json.dumps refused a float32), checked: a str "0.97" was kept as it
    was; ``unit``: a probability, finite and in [0, 1]. A 0-d numeric array (``np.array(2.0)``, what indexing or
    reducing an array can give) is its number; a 0-d array of text, bool, complex or objects is not."""
    if isinstance(value, np.ndarray) and value.ndim == 0 and value.dtype.kind in "iuf":
        value = value[()]  # its numpy scalar
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"a Prediction's {name} is a number, not {shown(value)}")
    try:
        value = float(value)
    except OverflowError:  # an int (or Fraction) past float's range, as JSON's 1 followed by 400 digits: raised
        value = math.inf if value > 0 else -math.inf  # OverflowError, not the field's refusal below or its caller's
    if unit and not 0.0 <= value <= 1.0:  # (NaN: neither)
        raise ValueError(f"a Prediction's {name} is a probability in [0, 1], not {value}")
    return value
