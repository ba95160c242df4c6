"""The lines ``braintumor evaluate`` prints once the evaluation is written: its numbers, what they leave out, and
where the report is.

Its own module because evaluate.py computes and writes (and was near 300 lines); what the console says, and the
notes it must carry (the leak check's reference, files not scored), grow here without crowding it.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .data import Dataset
from .image_hashes import HashedImages, label_conflict_pairs
from .ood import temperature_bound_note
from .refusal_wording import refusals_text
from .report_tables import format_score
from .stripped import note_text
from .wording import counted, printable, review_text


def absent_notes(dataset: Dataset, counts: dict[str, int]) -> list[str]:
    """What the console and report.html say of the classes with no image scored (``counts``: images scored per
    class), whose recall and AUC are n/a: none listed, or none readable. One wording for both."""
    missing = [c for k, c in enumerate(dataset.classes) if not (dataset.labels == k).any()]
    notes = []
    if missing:
        hidden = "; ".join(f"{c}: {dataset.hidden[c]}" for c in missing if c in dataset.hidden)  # .scan.png only
        notes.append(f"no images of {', '.join(missing)} in {dataset.root}" + (f" ({hidden})" if hidden else "")
                     + ": their recall and AUC are n/a")
    # listed, but none could be read (every one corrupt): scored as absent, so said as the absent ones are
    unread = [c for c in dataset.classes if c not in missing and not counts.get(c)]
    if unread:
        notes.append(f"no readable images of {', '.join(unread)} in {dataset.root}: their recall and AUC are n/a")
    return notes


def sample_notes(result: dict) -> list[str]:
    """What the counts behind the numbers allow, for the console and report.html alike: the accuracy's 95 % interval
    (of the leak-free subset too), and, for a model trained with ``--limit-per-class``, that it is a smoke run. A
    smoke run evaluated on a few images printed "accuracy 0.2500" and an ECE to four decimals, as the shipped model's
    1311 do, and nothing said that they measure nothing."""
    def interval(block: dict) -> str:
        low, high = block["accuracy_interval"]
        return f"{low:.4f}-{high:.4f} on {counted(block['n'], 'image')}"  # "on 1 images" was said of one

    lf = result.get("leak_free")
    notes = ["95% interval of the accuracy (Wilson score): " + interval(result)
             + (f"; leak-free {interval(lf)}" if lf and lf.get("accuracy_interval") else "")]
    training = (result.get("model") or {}).get("metadata", {}).get("training") or {}
    if limit := (training.get("config") or {}).get("limit_per_class"):
        notes.append(f"the model is a smoke run (--limit-per-class {limit}: trained on {training.get('train_images')} "
                     f"images, validated on {training.get('val_images')}): its scores check a setup, not a recipe")
    return notes


#: Pairs of label conflicts named in metrics.json (``data audit`` lists every one).
CONFLICT_EXAMPLES: int = 5


def label_conflicts(dataset: Dataset, hashed: HashedImages, labels: np.ndarray, scored: Sequence[int],
                    threshold: int) -> dict:
    """metrics.json's ``data.label_conflicts``: how many of the ``scored`` images (indices into ``dataset``) have a
    near duplicate (``threshold``) labelled (``labels``: the model's class of each image) as another class, and a few
    of those pairs. Such an image is scored wrong in one of its folders whatever the model says, and evaluate said
    nothing of it (only ``data audit`` did)."""
    among = np.zeros(len(dataset), dtype=bool)
    among[list(scored)] = True
    pairs = label_conflict_pairs(hashed, labels, threshold, among)
    return {"n_images": len({k for pair in pairs for k in pair}), "n_pairs": len(pairs), "threshold": int(threshold),
            "examples": [[str(dataset.paths[a]), str(dataset.paths[b])] for a, b in pairs[:CONFLICT_EXAMPLES]]}


def conflict_notes(result: dict) -> list[str]:
    """The console's and report.html's line on ``data.label_conflicts`` (none where there are none, or where they
    were not looked for: with --no-leak-free, evaluate decodes no image twice to find them)."""
    block = result["data"].get("label_conflicts") or {}
    if not (n := block.get("n_images")):
        return []
    first, second = block["examples"][0]
    return [f"{counted(n, 'image')} {'has' if n == 1 else 'have'} a duplicate labelled as another class (e.g. "
            f"{first} and {second}): their scores cannot all be right; see data audit"]


def _fitted_on(result: dict) -> str:
    """Where the temperature came from, with how many images where the model says so (8 is not 571)."""
    n_val = ((result.get("model") or {}).get("metadata", {}).get("calibration") or {}).get("n_val")
    return f"fitted on {n_val} validation images" if isinstance(n_val, int) else "fitted on validation"


def print_summary(result: dict, dataset: Dataset, out: str | Path) -> None:
    """Print the summary of ``result`` (the document of :func:`braintumor.evaluate.evaluate`) on stdout."""
    for note in absent_notes(dataset, result["counts"]):
        print(printable(note))
    auc = result["macro_roc_auc"]
    unreadable = len(result["data"]["errors"])
    print(f"accuracy {format_score(result['accuracy'])}  macro-F1 {format_score(result['macro_f1'])}  "
          f"macro AUC {format_score(auc)}  ECE {result['ece']:.4f}  "
          f"n {result['n']}" + (f" ({unreadable} unreadable, skipped)" if unreadable else ""))
    lf = result["leak_free"]
    if result["leak_free_note"]:
        print(f"leak-free metrics: {printable(result['leak_free_note'])}")
    compared = printable(str(lf["reference"])) if lf is not None else ""  # which images: the model's, or EXT's own
    if lf is not None and not lf["n"]:
        print(f"leak-free subset: none (all {lf['n_excluded']} have a near duplicate in {compared}, pHash distance "
              f"<= {lf['threshold']})")
    elif lf is not None:
        print(f"leak-free subset (no near duplicate in {compared}, pHash distance > {lf['threshold']}): "
              f"accuracy {format_score(lf['accuracy'])}  macro-F1 {format_score(lf['macro_f1'])}  n {lf['n']} "
              f"({lf['n_excluded']} excluded)")
    for note in sample_notes(result):  # beside the numbers they qualify
        print(note)
    for note in conflict_notes(result):  # paths: a file name's control characters shown, not obeyed
        print(printable(note))
    cal = result["calibration"]
    # a temperature on an end of its search is that limit, not a fit: said here as calibrate says it
    bound = temperature_bound_note(cal["temperature"])
    print(f"temperature {cal['temperature']:.4f} ({_fitted_on(result)}){bound}: ECE {cal['before']['ece']:.4f} -> "
          f"{cal['after']['ece']:.4f}; {result['n']} scored: "
          f"{refusals_text(result['ood_refused'], result.get('ood_refused_turned'))}")
    print(review_text(result["review"]))  # report.html's words
    if "stripped" in result:  # report.html's words: how many answers carry the skull-stripped note
        print(note_text(result["stripped"]))
    print(f"report: {printable(str(Path(out) / 'report.html'))}")
