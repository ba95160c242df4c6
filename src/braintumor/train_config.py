"""Training settings, importable without torch (the CLI builds its flags from them)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .preprocess import IMAGE_SIZE, NETWORK_STRIDE, PreprocessConfig

MIN_IMAGE_SIZE = NETWORK_STRIDE  # smaller leaves the networks' last stage no pixel
#: Largest --image-size: twice the 512 px of the largest dataset slices (60000 ended in a MemoryError traceback).
MAX_IMAGE_SIZE = 1024
#: Largest --epochs and --batch-size: 90 times the shipped 110 epochs, and 64 times its batch of 64 (10**29 epochs
#: trained until killed, a batch of 10**9 failed deep inside torch).
MAX_EPOCHS, MAX_BATCH_SIZE = 10_000, 4096
#: Largest --seed and --split-seed (and orientation's --seed): numpy's and torch's generators all take it; twenty digits
#: were torch's "Overflow when unpacking long long" traceback.
MAX_SEED = 2**32 - 1
SIZE_STEP = 16  # progressive resizing grows the training images in steps of this many pixels
#: Largest --augment-strength: at 3 rotations reach 45 degrees and scales 0.55-1.45 (augment.strength_settings).
MAX_AUGMENT_STRENGTH = 3.0
#: Largest --augment-shift: half the side (a head shifted further is mostly out of the frame).
MAX_AUGMENT_SHIFT: float = 0.5
#: Largest --distill-temperature (1 to 20 is usual): from 1e8 the term was 0 in float32, from 1e20 NaN (T^2 overflowed)
MAX_DISTILL_TEMPERATURE: float = 100.0
#: Largest --lr: AdamW moves each weight by about the learning rate per step, so 1 is 300 times the shipped 3e-3 and
#: far past any rate that trains (1e30 trained a whole epoch before its weights stopped being numbers).
MAX_LR: float = 1.0
#: Largest weight_decay (the Python API's, a run's config.json): AdamW scales each weight by 1 - lr * weight_decay per
#: step, which with --lr at most 1 stays in [0, 1) and only shrinks them (1e30 flipped and blew them up: NaN losses).
MAX_WEIGHT_DECAY: float = 1.0
#: What ``--augment-off`` can switch off, one item at a time (augment.strength_settings says how), and its two groups.
AUGMENT_ITEMS = ("rotation", "scale", "shift", "flip", "gamma", "contrast", "blur", "noise")
AUGMENT_GROUPS = {"geometry": ("rotation", "scale", "shift"), "intensity": ("gamma", "contrast", "blur", "noise")}


class ConfigError(ValueError):
    """Settings that cannot work together; the CLI prints the message as one error line."""


def augment_off_items(spec: str) -> tuple[str, ...]:
    """The items of a comma-separated ``--augment-off`` list, groups expanded, in :data:`AUGMENT_ITEMS` order.

    Why a list of names: the issue asks which parts of the augmentation matter, so each can be left out alone."""
    names = {n.strip() for n in spec.split(",") if n.strip()}
    unknown = sorted(names - set(AUGMENT_ITEMS) - set(AUGMENT_GROUPS))
    if unknown:
        raise ConfigError(f"--augment-off: unknown item {', '.join(unknown)}; choose from "
                          f"{', '.join(AUGMENT_ITEMS + tuple(AUGMENT_GROUPS))}")
    chosen = set().union(*(AUGMENT_GROUPS.get(n, (n,)) for n in names)) if names else set()
    return tuple(item for item in AUGMENT_ITEMS if item in chosen)


@dataclass
class TrainConfig:
    data: str
    out: str
    model: str = "tumornet-s"
    image_size: int = IMAGE_SIZE
    epochs: int = 110
    batch_size: int = 64  # global: split evenly over the processes under torchrun
    lr: float = 3e-3
    weight_decay: float = 0.05
    label_smoothing: float = 0.1
    warmup: float = 0.05
    ema_decay: float = 0.998
    val_fraction: float = 0.1
    seed: int = 0  # initialisation, batch order, augmentation (and the split, unless split_seed is set)
    # Seed of the train/validation split alone: members of an ensemble (ensemble.py) differ in `seed`
    # but must share one validation split, or each would be validated on images another trained on.
    split_seed: int | None = None
    # Near duplicates (image_hashes.duplicate_groups) kept on one side of that split; False: the split before this
    # setting existed (the shipped run's), on which ~20 % of the validation images had a near duplicate in the training
    # part.
    group_duplicates: bool = True
    device: str = "auto"
    precision: str = "auto"  # auto | bf16 | fp16 | fp32
    limit_per_class: int = 0  # >0: use only that many training images per class (smoke tests)
    cache_dir: str | None = None
    sync_bn: bool = False  # torchrun on GPUs: BatchNorm statistics over the global batch
    # Progressive resizing: early epochs see smaller images (cheaper steps), growing in steps of
    # SIZE_STEP to image_size by `ramp` of the schedule; validation is always at image_size. 0 = off.
    start_size: int = 0
    ramp: float = 0.85
    # Knowledge distillation (distill.py): an exported ONNX model whose logits on each augmented batch
    # the network also learns to match; loss = (1 - w) * label loss + w * T^2 * KL(teacher || student).
    teacher: str | None = None
    distill_weight: float = 0.5
    distill_temperature: float = 1.0
    mixup: float = 0.0  # mixup (augment_mixing.mixup): Beta(alpha, alpha) of every batch with a shuffled copy; 0 = off
    # CutMix (augment_mixing.cutmix): a box of a shuffled copy, area share ~ Beta(alpha, alpha); 0 = off
    cutmix: float = 0.0
    erase: float = 0.0  # random erasing (augment.random_erase): probability per training image; 0 = off
    bias_field: float = 0.0  # coil-sensitivity bias field (augment.random_bias_field): probability per image; 0 = off
    reframe: float = 0.0  # a frame that cuts the head (augment.random_reframe): probability per image; 0 = off
    histogram_shift: float = 0.0  # a random gray-level curve (augment.random_histogram_shift): probability per image
    elastic: float = 0.0  # elastic deformation in the affine warp (augment.elastic_displacement): probability per image
    vflip: float = 0.0  # up/down flip in the affine warp (augment.random_affine): probability per image; 0 = off
    # MixStyle (augment_mixing.mixstyle) after each of the first three stages: probability per batch
    mixstyle: float = 0.0
    # One magnitude for the shipped geometry and intensity augmentation (augment.strength_settings): 1 as shipped.
    augment_strength: float = 1.0
    # Parts of that augmentation left out (comma-separated AUGMENT_ITEMS or AUGMENT_GROUPS names); "" as shipped.
    augment_off: str = ""
    # Largest shift of that augmentation, a fraction of the side; None: the shipped 0.08 (times the strength).
    augment_shift: float | None = None
    # Magnitude of that augmentation's gamma, contrast, noise and blur alone; None: --augment-strength's.
    augment_intensity: float | None = None
    # PreprocessConfig.background_percentile of the run's images. 0 (off) keeps the shipped recipe what it was:
    # its network was trained without it and is served with 1 (`braintumor calibrate --background-percentile 1`).
    background_percentile: float = 0.0
    # PreprocessConfig.equalize of the run's images and its exported model (equalised heads); off as shipped.
    equalize: bool = False
    # Leave out the training images stored in this Pillow mode ("L": the figshare source, data_splits.split_by_mode), so
    # that they can be scored as a source the network never saw. None: every image, as shipped.
    hold_out_mode: str | None = None

    def __post_init__(self) -> None:
        from .train_checks import check_settings  # not at the top: it imports this module's limits and ConfigError

        check_settings(self)

    def preprocess_config(self) -> PreprocessConfig:
        """The preprocessing the run's images get (and its exported model records)."""
        return PreprocessConfig(image_size=self.image_size, background_percentile=self.background_percentile,
                                equalize=self.equalize)

    @property
    def split_seed_used(self) -> int:
        """The seed that picks the validation split (and a --limit-per-class subset): part of the data, not the run."""
        return self.seed if self.split_seed is None else self.split_seed

    def size_for_epoch(self, epoch: int) -> int:
        """Training side length in (0-based) `epoch`: linear from start_size to image_size over the
        first `ramp` of the epochs, rounded down to a multiple of SIZE_STEP (few distinct shapes)."""
        end = int(self.ramp * self.epochs)
        if not self.start_size or epoch >= end:
            return self.image_size
        size = self.start_size + (self.image_size - self.start_size) * epoch / end
        return max(self.start_size, min(self.image_size, int(size) // SIZE_STEP * SIZE_STEP))


#: Settings added after runs were recorded, whose absence from a run's config.json means another value than today's
#: default: such a run was split without groups, and resuming it with them would validate on images it trained on.
ABSENT_FROM_OLDER_RUNS: dict[str, object] = {"group_duplicates": False}

#: Settings a resumed run may change: where things are, how the arithmetic runs and how long it goes on (the schedule
#: is recomputed for the new length), not what is trained.
RESUMABLE_CHANGES: tuple[str, ...] = ("out", "data", "cache_dir", "device", "precision", "epochs")


def resumed_config(cfg: TrainConfig, reason: bool = False, typed: frozenset[str] | None = None) -> TrainConfig | str:
    """The run's own settings for ``--resume`` (flags left at their defaults take the run's values); ConfigError if
    there is nothing to resume or a flag asks for another setting (with ``reason``, its message instead, to send to
    the other ranks of a distributed run).

    Why: a resumed run used the flags as typed, so ``--resume`` without the original ``--image-size 160`` went on at
    128 px, another ``--seed`` drew a new split whose validation images had been trained on, and another ``--model``
    failed with a traceback after rewriting config.json; with no last.pt it silently started again over best.pt.
    ``typed``: the resumable settings given on the command line (``--epochs 110`` typed equals the default, so a
    value alone cannot say it was asked for); None (the Python API): a default value counts as not asked for."""
    try:
        return _resumed_config(cfg, typed)
    except ConfigError as exc:
        if reason:
            return str(exc)
        raise


def _resumed_config(cfg: TrainConfig, typed: frozenset[str] | None) -> TrainConfig:
    out = Path(cfg.out)
    if not (out / "last.pt").is_file():
        raise ConfigError(f"nothing to resume in {out}: no last.pt (a run writes it at the end of its first epoch); "
                          "start it without --resume")
    from .run_config import read_run_config, refused_setting, wrong_settings

    try:
        saved = read_run_config(out, checked=False)  # its paths (a teacher) as listed here
    except ConfigError:
        saved = {}
    if not saved:  # not an object (a list, a string) was an AttributeError traceback
        raise ConfigError(f"cannot resume {out}: its config.json is missing or unreadable")
    if wrong := wrong_settings(saved):  # was a TypeError traceback ("'<' not supported between 'str' and 'int'")
        raise ConfigError(f"cannot resume {out}: its config.json has {', '.join(wrong)}, not a value 'braintumor "
                          "train' writes")
    if refused := refused_setting(saved):  # was told as a flag not typed ("--image-size must be at most 1024")
        raise ConfigError(f"cannot resume {out}: its config.json's {refused}; 'braintumor train' writes no such value")
    defaults, merged, clashes = TrainConfig(data=cfg.data, out=cfg.out), {}, []
    for name in TrainConfig.__dataclass_fields__:
        mine, theirs = getattr(cfg, name), saved.get(name, ABSENT_FROM_OLDER_RUNS.get(name, getattr(defaults, name)))
        if name in ("out", "data") or mine == theirs:  # where the run and its data are now: as given
            merged[name] = mine
        elif typed is not None and name in RESUMABLE_CHANGES:  # the command line says what was typed
            merged[name] = mine if name in typed else theirs
        elif mine == getattr(defaults, name):  # not asked for: the run's own value (--epochs too: it took 110)
            merged[name] = theirs
        elif name in RESUMABLE_CHANGES:  # asked for, and one a resumed run may change
            merged[name] = mine
        else:
            clashes.append(_asked(name, mine, theirs))
    if clashes:
        raise ConfigError(f"cannot resume {out} with other settings: {'; '.join(clashes)}. A resumed run keeps its own")
    return TrainConfig(**merged)


def _asked(name: str, mine: object, theirs: object) -> str:
    """A setting as it was typed: a switch by its flag (``--no-group-duplicates``; "--group-duplicates False" named a
    flag that does not exist), any other with its value."""
    flag = name.replace("_", "-")
    if isinstance(mine, bool):
        return f"--{'' if mine else 'no-'}{flag} (the run was started without it)"
    return f"--{flag} {mine} (the run has {theirs})"
