"""The figure set of an evaluation: which plots, of which images, in what order.

Why apart from :mod:`braintumor.figures` and :mod:`braintumor.training_curves` (the plotting itself, matplotlib)
and :mod:`braintumor.evaluate` (the numbers): choosing the images a reader sees (every class in the galleries, the
most confident mistakes first, the farthest refusals first) is its own decision, and deterministic, so two runs of one
model draw the same figures.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from .image_files import file_kind
from .image_io import ImageError
from .preprocess import PreprocessConfig, prepare
from .refusal_wording import UNLIKE_MRI

#: Images per class row in the dataset sample figure.
SAMPLES_PER_CLASS: int = 6


def _view(path: Path, config: PreprocessConfig) -> np.ndarray | None:
    """What the model saw: the same decode, crop and resize as prediction (None if unreadable)."""
    try:
        return prepare(path, config)
    except ImageError:
        return None


def _spread(index: np.ndarray, k: int) -> list[int]:
    """Up to ``k`` items spread evenly over ``index`` (deterministic, not just the first few)."""
    if len(index) <= k:
        return [int(i) for i in index]
    return [int(index[j]) for j in np.linspace(0, len(index) - 1, k).round().astype(int)]


def _pick_correct(y: np.ndarray, pred: np.ndarray, n_classes: int, k: int) -> list[int]:
    """Correct answers, taking classes in turn so every class shows up."""
    per_class = [_spread(np.flatnonzero((y == c) & (pred == c)), k) for c in range(n_classes)]
    picked: list[int] = []
    for rank in range(k):
        picked.extend(items[rank] for items in per_class if rank < len(items))
    return picked[:k]


#: A run's per-epoch log: ``metrics.jsonl`` as ``braintumor train`` writes it, or ``training-log.jsonl`` as the
#: shipped ``models/`` folder holds it (scripts/train_shipped_model.sh), so ``--run models`` draws the curves too.
TRAINING_LOG_NAMES: tuple[str, ...] = ("metrics.jsonl", "training-log.jsonl")


#: Figures written only when their input exists (a training log, an uncalibrated model's probabilities).
OPTIONAL_FIGURES: tuple[str, ...] = ("training_curves", "reliability_uncalibrated")
#: Every figure :func:`write_figures` draws, each as NAME.png (those of OPTIONAL_FIGURES where it can).
FIGURES: tuple[str, ...] = ("confusion_matrix", "roc", "pr", "reliability", "confidence_hist", "samples",
                            "gallery_correct", "gallery_wrong", "gallery_refused", *OPTIONAL_FIGURES)


def training_log(run_dir: str | Path) -> Path | None:
    """The training log in ``run_dir`` (see ``TRAINING_LOG_NAMES``), or None if it has none."""
    return next((p for p in (Path(run_dir) / n for n in TRAINING_LOG_NAMES) if p.is_file()), None)


def run_log_problem(run_dir: str | Path) -> str | None:
    """Why ``--run`` cannot draw the training curves, or None: a typo, a checkpoint, or the folder above the run
    (``--run runs``) dropped them without a word."""
    if not Path(run_dir).exists():
        return f"--run {run_dir}: no such folder (the training run whose log draws the curves)"
    if not Path(run_dir).is_dir():
        return f"--run {run_dir} is {file_kind(Path(run_dir))}: --run takes the training run's folder, whose log " \
               "draws the curves"
    if (log := training_log(run_dir)) is None:
        return f"--run {run_dir} holds no training log (metrics.jsonl, as 'braintumor train' writes it): name the " \
               "run's own folder"
    from .training_curves import read_training_log

    try:  # every line torn or edited: the report's curves were drawn of no epoch, and nothing said so
        rows = read_training_log(log)
    except OSError as exc:  # read when drawn, it was said as a failure to write --out
        return f"--run {run_dir}: cannot read its {log.name} ({exc.strerror or exc})"
    if not rows:
        return f"--run {run_dir}: its {log.name} holds no epoch row as 'braintumor train' writes them (damaged or " \
               "edited?): name the run's own folder, or leave --run out"
    return None


def write_figures(out: Path, y: np.ndarray, probs: np.ndarray, paths: list[Path], metrics: dict,
                   classes: Sequence[str], config: PreprocessConfig, run_dir: Path | None,
                   gallery_size: int, refused: np.ndarray, scores: np.ndarray,
                  uncalibrated: np.ndarray | None = None, side: np.ndarray | None = None) -> dict[str, str]:
    """Every figure of an evaluation under ``out``: {figure key: file name}. Images are shown as the model saw them;
    ``uncalibrated``: the probabilities before temperature scaling, for a second reliability diagram; ``side``: the
    refusals as turned (brain MRI to rotate upright and resend), said apart in the refused gallery."""
    from . import figures as fg
    from .training_curves import plot_training_curves

    done: dict[str, str] = {}

    def add(key: str, written: Path) -> None:
        done[key] = written.name

    add("confusion_matrix", fg.plot_confusion_matrix(metrics["confusion_matrix"], classes,
                                                     out / "confusion_matrix.png"))
    add("roc", fg.plot_roc(y, probs, classes, out / "roc.png"))
    add("pr", fg.plot_pr(y, probs, classes, out / "pr.png"))
    add("reliability", fg.plot_reliability(y, probs, out / "reliability.png", metrics["n_bins"]))
    add("confidence_hist", fg.plot_confidence_hist(y, probs, out / "confidence_hist.png"))
    log = training_log(run_dir) if run_dir else None
    if log is not None:
        add("training_curves", plot_training_curves(log, out / "training_curves.png"))

    samples: dict[str, list[np.ndarray]] = {}
    for c, name in enumerate(classes):
        views = [_view(paths[i], config) for i in _spread(np.flatnonzero(y == c), SAMPLES_PER_CLASS)]
        if any(v is not None for v in views):
            samples[name] = [v for v in views if v is not None]
    add("samples", fg.plot_sample_grid(samples, out / "samples.png"))

    pred, conf = probs.argmax(axis=1), probs.max(axis=1)
    wrong = np.flatnonzero(pred != y)
    wrong = wrong[np.argsort(-conf[wrong], kind="mergesort")][:gallery_size]
    for key, index, title, empty in (
        ("gallery_correct", _pick_correct(y, pred, len(classes), gallery_size), "Correct predictions",
         "No correct predictions."),
        ("gallery_wrong", [int(i) for i in wrong], "Wrong predictions (most confident first)",
         "No wrong predictions: every readable image was classified correctly."),
    ):
        shown = [(i, v) for i in index if (v := _view(paths[i], config)) is not None]
        items = [(v, classes[int(y[i])], classes[int(pred[i])], float(conf[i])) for i, v in shown]
        add(key, fg.plot_gallery(items, out / f"{key}.png", title, empty_message=empty,
                                 withheld=[bool(refused[i]) for i, _ in shown]))
    far = np.flatnonzero(refused)
    far = far[np.argsort(-np.nan_to_num(scores[far], nan=np.inf), kind="mergesort")][:gallery_size]
    shown = [(i, v) for i in far if (v := _view(paths[i], config)) is not None]
    items = [(v, classes[int(y[i])], None, float(scores[i])) for i, v in shown]
    turned = [side is not None and bool(side[i]) for i, _ in shown]
    # a slice refused as turned is a brain MRI to rotate upright and resend: "unlike brain MRI" would be untrue of it
    title = (f"Refused (farthest first): {UNLIKE_MRI}, or turned where said" if any(turned)
             else f"Refused as {UNLIKE_MRI} (farthest first)")
    add("gallery_refused", fg.plot_gallery(items, out / "gallery_refused.png", title, empty_message="None refused.",
                                           turned=turned))
    if uncalibrated is not None:
        add("reliability_uncalibrated", fg.plot_reliability(y, uncalibrated, out / "reliability_uncalibrated.png",
                                                            metrics["n_bins"], "Reliability before temperature "
                                                            "scaling", note="temperature 1; "))
    return done
