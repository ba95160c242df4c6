"""``braintumor train``: its many options (the issue's list of things to explore, each a flag) apart from the rest of
the command line. Torch is imported only when the command runs, never by ``braintumor predict`` or ``serve``."""

from __future__ import annotations

import argparse

from .cli_checks import check_folder_name
from .cli_types import path_arg, whole_number
from .data import DEFAULT_DATA_ROOT
from .train_config import (
    MAX_BATCH_SIZE,
    MAX_DISTILL_TEMPERATURE,
    MAX_EPOCHS,
    MAX_IMAGE_SIZE,
    MAX_LR,
    MAX_SEED,
    MIN_IMAGE_SIZE,
    SIZE_STEP,
    ConfigError,
    TrainConfig,
)

#: Options that act only beside another (their help says "with --teacher:"): given alone, the run went on without
#: them and without a word (--distill-weight 0.9: no distillation at all).
ONLY_WITH = {"distill_weight": "teacher", "distill_temperature": "teacher", "ramp": "start_size"}


def run_train(args: argparse.Namespace) -> int:
    """Options given on the command line over TrainConfig's defaults; on --resume, the run's own where not typed."""
    from .train import train

    if args.cache_dir:  # `--cache-dir c.json` made a folder of that name; not a destination: a read-only cache is read
        check_folder_name("--cache-dir", args.cache_dir)
    fields, optional = TrainConfig.__dataclass_fields__, ("epochs", "device", "precision", "cache_dir")
    typed = frozenset(k for k in optional if getattr(args, k) is not None)  # None: not given (--resume: the run's)
    cfg = TrainConfig(**{k: v for k, v in vars(args).items() if k in fields and not (k in optional and v is None)})
    for name, needed in ONLY_WITH.items():  # a value other than the default was typed; --resume: the run's settings
        if not args.resume and getattr(args, name) != fields[name].default and not getattr(args, needed):
            raise ConfigError(f"--{name.replace('_', '-')} acts only with --{needed.replace('_', '-')}, which was not "
                              "given: the run would go on without it")
    train(cfg, resume=args.resume, overwrite=args.overwrite, typed=typed)
    return 0


def _pillow_mode(text: str) -> str:
    """argparse type of --hold-out-mode: not blank (``--hold-out-mode "$MODE"`` with MODE unset trained on every image,
    holding out none, and recorded the run as one that held out "")."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a Pillow mode (L, RGB, ...), got {text!r}")
    return text


def add_train_parser(sub: argparse._SubParsersAction) -> None:
    """The ``train`` subcommand and its options, defaults taken from :class:`TrainConfig`."""
    d = TrainConfig(data="", out="")
    p = sub.add_parser("train", help="train a model from scratch (needs the [train] extra)")
    p.add_argument("--data", type=path_arg, default=DEFAULT_DATA_ROOT,
                   help="ROOT/Training/<class>/ or ROOT/<class>/ "
                        f"(default {DEFAULT_DATA_ROOT}; $BRAINTUMOR_DATA sets it)")
    p.add_argument("--out", type=path_arg, required=True, help="run folder for checkpoints and metrics")
    p.add_argument("--model", default=d.model, help="architecture name (see braintumor.model.MODELS)")
    p.add_argument("--image-size", type=whole_number(f"in [{MIN_IMAGE_SIZE}, {MAX_IMAGE_SIZE}]"), default=d.image_size,
                   help="side of the square model input in pixels, 32-1024 (the shipped model: 160)")
    p.add_argument("--epochs", type=whole_number(f"in [1, {MAX_EPOCHS}]"), default=None,
                   help=f"default {d.epochs}; on --resume, the run's own")
    p.add_argument("--batch-size", type=whole_number(f"in [2, {MAX_BATCH_SIZE}]"), default=d.batch_size,
                   help="training images per step")
    p.add_argument("--lr", type=float, default=d.lr,
                   help=f"peak learning rate (warm-up, then cosine decay), above 0, at most {MAX_LR:g}")
    p.add_argument("--val-fraction", type=float, default=d.val_fraction,
                   help="share of Training held out for validation (model selection, calibration)")
    p.add_argument("--ema-decay", type=float, default=d.ema_decay,
                   help="per-step decay of the weight average that is validated and exported (shorter runs: lower)")
    p.add_argument("--seed", type=whole_number(f"in [0, {MAX_SEED}]"), default=d.seed,
                   help="initialisation, batch order, augmentation; also the split unless --split-seed is given")
    p.add_argument("--split-seed", type=whole_number(f"in [0, {MAX_SEED}]"), default=None,
                   help="seed of the train/validation split alone (ensemble members: vary --seed, keep this; "
                        "default: --seed)")
    p.add_argument("--no-group-duplicates", dest="group_duplicates", action="store_false",
                   help="let near duplicates fall on both sides of that split, as in the shipped run (leaks)")
    p.add_argument("--device", default=None, help=f"auto, cpu, cuda, cuda:1 ... (default {d.device}; on --resume, the "
                                                  "run's own)")
    p.add_argument("--precision", default=None, choices=["auto", "bf16", "fp16", "fp32"],
                   help="auto: bf16 autocast where the CPU has native bf16, else fp32; on a GPU bf16 where it has "
                        "it, else fp16 (train_device.pick_autocast_dtype) "
                        f"(default {d.precision}; on --resume, the run's own)")
    p.add_argument("--limit-per-class", type=whole_number(">= 0 (0: every image)"), default=0,
                   help="N images per class (smoke runs)")
    p.add_argument("--cache-dir", type=path_arg, default=None,
                   help="folder of the decoded-image cache (default $BRAINTUMOR_CACHE, else ~/.cache/braintumor: "
                        "$XDG_CACHE_HOME/braintumor where that is set)")
    again = p.add_mutually_exclusive_group()  # both: it resumed, and --overwrite was dropped without a word
    again.add_argument("--resume", action="store_true", help="continue from RUN_DIR/last.pt")
    again.add_argument("--overwrite", action="store_true",
                       help="start again in a RUN_DIR that holds a run (else refused)")
    p.add_argument("--sync-bn", action="store_true", help="torchrun on GPUs: BatchNorm over the global batch")
    p.add_argument("--start-size", type=whole_number(f"{SIZE_STEP} to --image-size, or 0 (off)"), default=d.start_size,
                   help="progressive resizing: first epochs at this side length, growing to --image-size (0: off)")
    p.add_argument("--ramp", type=float, default=d.ramp,
                   help="with --start-size: fraction of the epochs over which the size grows")
    p.add_argument("--teacher", type=path_arg, default=None,
                   help="exported ONNX model to distil from: the network also matches its logits on each batch")
    p.add_argument("--distill-weight", type=float, default=d.distill_weight,
                   help="with --teacher: share of the loss that is the teacher's (the rest: the labels)")
    p.add_argument("--distill-temperature", type=float, default=d.distill_temperature,
                   help="with --teacher: softmax temperature of both networks in the distillation term, at most "
                        f"{MAX_DISTILL_TEMPERATURE:g}")
    p.add_argument("--mixup", type=float, default=d.mixup,
                   help="mixup: Beta(ALPHA, ALPHA) blend of every batch with a shuffled copy (0: off, as shipped)")
    p.add_argument("--cutmix", type=float, default=d.cutmix,
                   help="CutMix: a box of a shuffled copy pasted into every batch, area ~ Beta(ALPHA, ALPHA) (0: off)")
    p.add_argument("--erase", type=float, default=d.erase,
                   help="random erasing: chance per training image of one gray rectangle (0: off, as shipped)")
    p.add_argument("--bias-field", type=float, default=d.bias_field, metavar="P",
                   help="chance per training image of a smooth coil-sensitivity shading (0: off, as shipped)")
    p.add_argument("--reframe", type=float, default=d.reframe, metavar="P",
                   help="chance per training image of a frame that cuts the head, framed again as served "
                        "(0: off, as shipped)")
    p.add_argument("--histogram-shift", type=float, default=d.histogram_shift, metavar="P",
                   help="chance per training image of a random increasing gray-level curve (0: off, as shipped)")
    p.add_argument("--elastic", type=float, default=d.elastic, metavar="P",
                   help="chance per training image of a smooth elastic deformation in the affine warp "
                        "(0: off, as shipped)")
    p.add_argument("--vflip", type=float, default=d.vflip, metavar="P",
                   help="chance per training image of an up/down flip (with the left/right flips: slices upside down "
                        "and turned 180 degrees) (0: off, as shipped)")
    p.add_argument("--augment-strength", type=float, default=d.augment_strength, metavar="S",
                   help="one magnitude for the affine and intensity augmentation: 1 as shipped, 0 flips only, "
                        "2 twice the ranges")
    p.add_argument("--augment-off", default=d.augment_off, metavar="ITEMS",
                   help="leave out parts of that augmentation, comma-separated: rotation, scale, shift, flip, gamma, "
                        "contrast, blur, noise, or the groups geometry, intensity (none: as shipped)")
    p.add_argument("--augment-shift", type=float, default=d.augment_shift, metavar="F",
                   help="largest shift of that augmentation, a share of the side (default 0.08 x --augment-strength)")
    p.add_argument("--augment-intensity", type=float, default=d.augment_intensity, metavar="S",
                   help="magnitude of its gamma, contrast, noise and blur alone (default: --augment-strength)")
    p.add_argument("--mixstyle", type=float, default=d.mixstyle, metavar="P",
                   help="MixStyle: chance per batch and stage of mixing feature statistics between images, after "
                        "each of the first three stages (0: off, as shipped)")
    p.add_argument("--background-percentile", type=float, default=d.background_percentile, metavar="P",
                   help="subtract each image's P-th percentile gray level before the head crop (0: off, as trained)")
    p.add_argument("--equalize", action="store_true",
                   help="histogram-equalise each head after the resize, in training and in the exported model "
                        "(off, as shipped)")
    p.add_argument("--hold-out-mode", type=_pillow_mode, metavar="MODE",
                   help="train without the images stored in this Pillow mode (L: this dataset's figshare source), "
                        "to score them later as a source never seen")
    p.set_defaults(func=run_train, destinations=[("--out", "out", True)])
