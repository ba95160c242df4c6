"""The images a script scores: a split of the data, or with ``--run RUN`` the validation images its split.json lists
(design decisions are scored there, never on Testing). One home for those options and that choice: orientation_eval
and heatmap_eval each wrote them.
"""

from __future__ import annotations

import argparse

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)

from braintumor.atomic_files import require_file_destination
from braintumor.data import DEFAULT_DATA_ROOT, Dataset, load_dataset
from braintumor.run_split import validation_images

#: the help of the options every script words alike (here when the script takes them without the others)
MODEL_HELP = "ONNX model (default: the shipped one)"
DATA_HELP = "dataset root (default: $BRAINTUMOR_DATA or %(default)s)"
JSON_HELP = "also write the numbers here"


def add_image_set_options(ap: argparse.ArgumentParser) -> None:
    """``--model``, ``--data``, ``--split``, ``--run`` and ``--json``, worded alike in every script that takes them."""
    ap.add_argument("--model", help=MODEL_HELP)
    ap.add_argument("--data", default=DEFAULT_DATA_ROOT, help=DATA_HELP)
    ap.add_argument("--split", default="Testing",
                    help="the split of --data scored (default %(default)s; not with --run)")
    ap.add_argument("--run", help="score the validation images of this run's split.json (from Training) instead")
    ap.add_argument("--json", type=output_file, help=JSON_HELP)


def output_file(text: str) -> str:
    """The argparse type of a script's file output (``--json``, a gallery's PNG): a missing folder, or a folder at
    the name, is an ``error:`` line before the run, not after it, when its numbers were lost (none is made)."""
    try:
        require_file_destination(text)
    except OSError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def image_set(args: argparse.Namespace) -> Dataset:
    """The validation images of ``args.run`` if given, else the split ``args.split`` of ``args.data``."""
    return validation_images(args.data, args.run) if args.run else load_dataset(args.data, args.split)
