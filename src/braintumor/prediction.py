"""One image's answer (:class:`Prediction`), how its probabilities are made (:func:`softmax`), made into one
(:func:`prediction_from_probs`) and shown (:func:`probability_text`).

Apart from :mod:`braintumor.predictor` so that the classifier's module stays about loading and running a model;
callers import these names from here (``Prediction`` also from ``braintumor``).
"""

from __future__ import annotations

import math
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from .orientation import TURN_ADVICE
from .prediction_fields import (
    agreed_review,
    check_total,
    class_name,
    flag,
    kept_as_is,
    number,
    plain_text,
    probability_row,
    refusal_text,
    shown,
)
from .wording import LOWER_CONFIDENCE, NOTE_KINDS, review_below_text

#: Shown (with a reason) instead of a class when the input does not look like a brain MRI slice. Not "this is not
#: a brain MRI": real MRI slices unlike the training ones (and CT slices filed as MRI) are refused too.
OOD_MESSAGE = "unlike the brain MRI slices the model was trained on"  # true of a photo and of an odd MRI slice alike


def refusal_reason(why: str) -> str:
    """A refusal's ``reason``: :data:`OOD_MESSAGE` and why, but a turn alone ("it looks turned 90 degrees, on its
    side; if it is, rotate it upright and send it again", :func:`braintumor.orientation.turn_reasons`): a slice on
    its side is a brain MRI to rotate, not one unlike them, and its card, CLI row and JSON began "unlike the brain MRI
    slices the model was trained on: it looks turned"."""
    if not isinstance(why, str):  # "'int' object has no attribute 'endswith'"
        raise TypeError(f"a Prediction's reason is a str or None, not {shown(why)}")
    why = refusal_text(why, OOD_MESSAGE)  # "" was made "unlike the brain MRI slices the model was trained on: "
    return why if why.endswith(TURN_ADVICE) else f"{OOD_MESSAGE}: {why}"


#: Said wherever an answer is shown to a person: on every web page, with the model card, after the CLI's table. What
#: the README's and the model card's disclaimers exclude, triage among them (a list of the most suspicious slices
#: invites it). Its words before the first ": " are the page's bold lead.
DISCLAIMER: str = (
    "Not a medical device: research software, not clinically validated; not for diagnosis, treatment or "
    "triage. Predictions can be wrong; a qualified clinician must interpret every scan."
)
#: What the answers are for, with the model card (``GET /api/v1/model``), as models/MODEL_CARD.md says it.
INTENDED_USE: str = (
    "Research, teaching and method comparison on 2-D brain MRI slices; a second look for people who already read "
    "the images. Not a medical device: not for diagnosis, treatment or triage."
)
#: An accepted answer shown with a (calibrated) confidence below this is flagged as lower confidence
#: (:data:`~braintumor.wording.LOWER_CONFIDENCE`). Chosen on a source the network never saw (docs/RESULTS.md,
#: "Confidence on a new source"): there, answers below 99 % were right about 6 times in 10 and held ~80 % of the
#: errors, while on slices like the training ones only ~2 % fall below it.
REVIEW_BELOW: float = 0.99
#: What a shown confidence (and a probability bar) is, under every answer on the page and in the model card's
#: limitations: a card said "Glioma >99.9% confidence" and nothing of it. A model exported without calibration (no
#: ``calibration`` entry in its metadata, calibrate.py's) says the other.
CONFIDENCE_CALIBRATED: str = ("The confidence is calibrated on slices like the training ones; on scans from another "
                              "hospital it is too high")
CONFIDENCE_UNCALIBRATED: str = ("The confidence is not calibrated (this model was exported without it): it does not "
                                "say how often such answers are right")


def is_calibrated(metadata: dict) -> bool:
    """Whether a model's metadata holds calibrate.py's fit (export writes a temperature of 1 without one)."""
    return "calibration" in metadata


def probability_text(p: float) -> str:
    """A probability as people are shown it, to 0.1 %, rounded towards 50 % so that it never looks surer than it is:
    never "100.0%" or "0.0%" (">99.9%" and "<0.1%"), and 0.9898 is "98.9%", not a "99.0%" beside a flag for
    answers under 99 %. text.js's ``percent`` follows the same rule."""
    if p > 0.999:
        return ">99.9%"
    if p < 0.001:
        return "<0.1%"
    tenths = math.floor(1000.0 * p + 1e-9) if p >= 0.5 else math.ceil(1000.0 * p - 1e-9)
    return f"{tenths / 10:.1f}%"


class Probabilities(dict):
    """A Prediction's probabilities: a dict (JSON, pandas, ``p.probabilities["glioma"]`` as before) that refuses
    changes. A plain one could be changed in place: one consumer of a shared Prediction then changed it for all, and
    its ``to_dict()``, the CLI's and the web's records showed numbers the model never gave. ``dict(...)`` copies it."""

    __slots__ = ()

    def _refuse(self, *args: object, **kwargs: object) -> None:
        """Every way to change it: refused (a copy, ``dict(p.probabilities)``, is the one to change)."""
        raise TypeError("a Prediction's probabilities are read-only: dict(p.probabilities) is a copy to change")

    __setitem__ = __delitem__ = __ior__ = clear = pop = popitem = setdefault = update = _refuse  # type: ignore

    def __init__(self, *args: object, **kwargs: object) -> None:  # called again (p.probabilities.__init__(d)), it added
        if self:
            self._refuse()
        super().__init__(*args, **kwargs)

    @classmethod
    def fromkeys(cls, keys: Iterable[str], value: float | None = None) -> Probabilities:  # type: ignore[override]
        """A new one: dict's set each key on an empty one, and was refused as a change ("read-only")."""
        return cls(dict.fromkeys(keys, value))

    def __reduce__(self) -> tuple:  # pickle's default set the items one by one: refused
        return type(self), (dict(self),)


@dataclass(frozen=True)
class Prediction:
    """One image's answer. ``probabilities`` follows the model's class order.

    When ``ood`` is true the input was refused: ``label`` and ``confidence`` are withheld (None) and ``reason`` says
    why (left out, :data:`OOD_MESSAGE`; a blank one is refused); the raw probabilities stay available for research
    but must not be read as a diagnosis. Most refusals do not look like the brain MRI slices of training; a slice
    that looks turned (a quarter, or upside down) is a brain MRI to rotate upright and send again: its ``reason``
    ends with ``braintumor.orientation.TURN_ADVICE`` ("rotate it upright and send it again"), and
    ``braintumor.series.turned(p.to_dict())`` tells it. ``review`` is true for an accepted answer whose confidence
    is below :data:`REVIEW_BELOW`: on scans from elsewhere, most errors are there (left out, it is derived so).
    ``note``: a caution shown with an accepted answer, or None; for now only
    :data:`~braintumor.wording.STRIPPED_NOTE`, on a slice that looks skull-stripped (``braintumor.stripped``), whose
    confidence, however high, is no guide. Neither flag changes the label or the probabilities. A field of a wrong
    type or value (``ood="false"``, a label none of its probabilities' classes, probabilities that do not sum to 1
    (within :data:`~braintumor.prediction_fields.TOTAL_TOLERANCE`), a NaN ``ood_score``, or one above 1 on an
    accepted answer) raises TypeError or ValueError, and so do fields that disagree: ``label`` not the most
    probable class (ties allowed), ``confidence`` not its probability (to 6 decimals, as records write them),
    ``review`` not the rule above, a refusal flagged or noted.

    Frozen and compared by value, but not hashable: ``probabilities`` is a dict (JSON-ready, and the type users
    index), read-only (:class:`Probabilities`, a copy of the mapping given), which no hash rests on; to key a set or
    dict, use the source, or ``json.dumps(p.to_dict(), sort_keys=True)``.
    """

    label: str | None
    confidence: float | None
    probabilities: Mapping[str, float]
    ood: bool = False
    ood_score: float | None = None
    reason: str | None = None
    review: bool = None  # type: ignore[assignment]  # None: derived from confidence, as the model's own are
    note: str | None = None
    __hash__ = None  # type: ignore[assignment]  # said "unhashable type: 'dict'"; isinstance(p, Hashable) was True

    def __post_init__(self) -> None:  # a copy: the caller's dict, changed later, changed the Prediction too
        probs = self.probabilities  # checked even when a Probabilities: Probabilities({"a": "x"}) was kept as it was
        if type(probs) is not Probabilities and not isinstance(probs, Mapping):  # a list: "cannot convert dict..."
            raise TypeError("a Prediction's probabilities are a mapping of class name to probability (a dict), "
                            f"not {type(probs).__name__}")
        if not probs:  # a refusal of {} was kept: an answer of no class at all, which no model gives
            raise ValueError("a Prediction's probabilities hold one per class of its model, not none ({})")
        if not all(type(k) is str and kept_as_is(v) for k, v in probs.items()):
            probs = {class_name(k): number(f"probabilities[{k!r}]", v, unit=True) for k, v in probs.items()}
        if type(probs) is not Probabilities:  # the 4 classes' once: a str "0.97" was kept, a NaN shown as "nan%"
            object.__setattr__(self, "probabilities", Probabilities(probs))
        check_total(self.probabilities)  # sigmoid scores or a class left out ({"glioma": 0.9}) were kept
        for name in ("ood", "review"):  # bool("false") is True: a record's "ood": "false" was a refusal
            if type(getattr(self, name)) is not bool and (name == "ood" or self.review is not None):
                object.__setattr__(self, name, flag(name, getattr(self, name)))
        s = self.ood_score  # a scaled distance: a NaN went into to_dict() as NaN, which is no JSON
        if s is not None and not kept_as_is(s, sys.float_info.max):  # (not inf)
            if not 0.0 <= (s := number("ood_score", s)) < math.inf:  # (NaN: neither)
                raise ValueError(f"a Prediction's ood_score is a finite distance >= 0 (1 = the threshold), not {s}")
            object.__setattr__(self, "ood_score", s)
        if not self.ood and self.ood_score is not None and self.ood_score > 1.0:  # the model refuses above 1
            raise ValueError(f"a Prediction's ood_score is at most 1 (the threshold) on an accepted answer: above it "
                             f"the input is refused (ood true), not accepted with {self.ood_score}")
        for name in ("reason", "note"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise TypeError(f"a Prediction's {name} is a str or None, not {shown(getattr(self, name))}")
        for name in ("label", "reason", "note"):  # np.str_ (an array of class names gives them) was kept as it was
            if isinstance(getattr(self, name), str) and type(getattr(self, name)) is not str:
                object.__setattr__(self, name, plain_text(getattr(self, name)))
        if self.note is not None and not self.note.strip():  # a csv row's empty cell: to_dict() gave "note": ""
            object.__setattr__(self, "note", None)  # no caution, which to_dict() leaves out
        if self.ood and self.reason != (why := refusal_text(self.reason, OOD_MESSAGE)):  # (None: derived)
            object.__setattr__(self, "reason", why)
        c = self.confidence  # a str "0.97" or a NaN was kept, and to_dict() gave it back
        if c is not None and not kept_as_is(c):
            object.__setattr__(self, "confidence", number("confidence", c, unit=True))
        if self.label is not None and not (isinstance(self.label, str) and self.label in self.probabilities):
            raise (ValueError if isinstance(self.label, str) else TypeError)(  # ("x", a confidence) was accepted
                f"a Prediction's label is one of its probabilities' classes ({', '.join(self.probabilities)}) or "
                f"None, not {shown(self.label)}")
        if (self.label is None) != self.ood or (self.confidence is None) != self.ood:
            raise ValueError("a refused Prediction (ood true) withholds label and confidence (None), an accepted one "
                             f"has both: got ood={self.ood}, label={self.label!r}, confidence={self.confidence!r}")
        if self.reason is not None and not self.ood:  # kept, then left out of to_dict(): from_dict's copy differed
            raise ValueError(f"a Prediction's reason says why it was refused: an accepted one (ood false) has none, "
                             f"not {shown(self.reason)} (a caution with an answer is its note)")
        review = agreed_review(self.label, self.confidence, self.probabilities, self.review, self.note, REVIEW_BELOW)
        if review is not self.review:  # (None: derived)
            object.__setattr__(self, "review", review)

    def to_dict(self) -> dict:
        """The fields as plain JSON types, as the CLI's jsonl and the web API give them (``reason`` only when ood,
        ``note`` only when there is one, with its ``note_kind``: :data:`~braintumor.wording.NOTE_KINDS`)."""
        out = {"label": self.label, "confidence": self.confidence, "probabilities": dict(self.probabilities),
               "ood": self.ood, "ood_score": self.ood_score, "review": self.review}
        if self.ood:
            out["reason"] = self.reason
        if self.note is not None:
            out["note"] = self.note
            if self.note in NOTE_KINDS:
                out["note_kind"] = NOTE_KINDS[self.note]
        return out

    @classmethod
    def from_dict(cls, record: Mapping) -> Prediction:
        """The Prediction of :meth:`to_dict`'s dict, or of a record of the CLI's jsonl or json or the web API's
        ``results``: ``Prediction(**p.to_dict())`` raised TypeError on ``note_kind``, and a record's ``path``,
        ``slice``, ``heatmap`` or DICOM metadata are not the answer's. Fields the Prediction does not hold (derived,
        such as ``note_kind``, or the input's) are ignored; a record with no answer (an ``error``, a scan's
        ``summary``) raises ValueError."""
        if not isinstance(record, Mapping):
            raise TypeError(f"Prediction.from_dict takes a dict (a to_dict() or a jsonl record), not "
                            f"{type(record).__name__}")
        missing = [k for k in ("label", "confidence", "probabilities") if k not in record]
        if missing:
            said = (": an input that was not answered, its 'error' says why" if "error" in record
                    else ": a scan's summary" if "summary" in record else "")
            raise ValueError(f"not a prediction's record (no {', '.join(missing)}){said}")
        return cls(record["label"], record["confidence"], record["probabilities"], ood=record.get("ood", False),
                   ood_score=record.get("ood_score"), reason=record.get("reason"),
                   review=record.get("review"), note=record.get("note"))


def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """Probabilities from logits (last axis) divided by the calibration temperature, in float64."""
    # in place after the first step: the same arithmetic as with new arrays, in fewer calls (they run after the
    # network, whose buffers have evicted numpy's own working set from the caches: each call costs several us there)
    z = np.divide(logits, temperature, dtype=np.float64)
    z -= np.maximum.reduce(z, axis=-1, keepdims=True)
    np.exp(z, out=z)
    z /= np.add.reduce(z, axis=-1, keepdims=True)
    return z


def prediction_from_probs(classes: tuple[str, ...], probs: np.ndarray, ood_score: float | None = None,
                          reason: str | None = None) -> Prediction:
    """The Prediction for one row of probabilities in ``classes``' order, rounded the same way everywhere; ``reason``:
    why it is refused (with ``ood_score``, its distance over the threshold), None when accepted."""
    values = probability_row(classes, probs)
    k = values.index(max(values))  # the first most probable, as np.argmax
    rounded = {c: round(p, 6) for c, p in zip(classes, values, strict=True)}
    if len(rounded) != len(classes):  # one named twice: its first probability was dropped, the answer kept
        raise ValueError(f"prediction_from_probs takes one name per class, not {shown(classes)}, which repeats one")
    score = None if ood_score is None else number("ood_score", ood_score)  # float() took a str
    if score is not None and score >= 0.0:  # a negative one is Prediction's to refuse: rounded, -0.00001 was kept
        score = round(score, 4) + 0.0
    if reason is not None:
        if score is not None and score <= 1.0 < ood_score:  # refused above the threshold: never shown as 1.0
            score = 1.0001
        return Prediction(None, None, rounded, ood=True, ood_score=score, reason=refusal_reason(reason))
    confidence = round(values[k], 6)
    return Prediction(classes[k], confidence, rounded, ood=False, ood_score=score, review=confidence < REVIEW_BELOW)


def limitations(classes: list[str] | tuple[str, ...], display_names: dict[str, str],
                calibrated: bool = True) -> list[str]:
    """What a model's answers cannot say, in its own classes' names, for the model card a page links to: its
    metadata said how it was made and nothing of this (models/MODEL_CARD.md, "What it cannot do", says it longer).
    ``calibrated``: :func:`is_calibrated` of its metadata (one exported without calibration was said to be)."""
    names = [display_names.get(c, c) for c in classes]
    said = [f"It knows {len(names)} answers only ({', '.join(names)}): a brain MRI slice showing anything else "
            "(another tumour, a metastasis, a stroke, a bleed) is not refused but given one of them, possibly with a "
            "high confidence; the refusal check tells brain MRI from other images, not known findings from unknown "
            "ones."]
    if "notumor" in classes:
        said.append(f'"{display_names.get("notumor", "notumor")}" is about one slice and the tumour types above: '
                    "it does not say that the brain is normal, nor that the patient has no tumour.")
    said.append("Each slice is answered on its own: no patient-level answer, no grade, size or location; the heat "
                "map shows where the evidence came from, not a tumour outline.")
    said.append("It was trained on whole-head MRI slices, skull and scalp included: a skull-stripped slice (as "
                "research collections give them) is often refused, and when answered a tumour is often called absent "
                "with a high confidence (an answer for a slice that looks stripped says so in its note); a CT saved "
                "as an image (no DICOM modality to refuse it by) may be answered too.")
    confidence = CONFIDENCE_CALIBRATED + ":" if calibrated else CONFIDENCE_UNCALIBRATED + ";"
    said.append(f"{confidence} answers with a confidence {review_below_text()} are said to have "
                f"{LOWER_CONFIDENCE}, and a higher one is no guarantee: every answer is for a clinician to interpret.")
    return said
