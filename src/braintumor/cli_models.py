"""``braintumor export | calibrate | quantize | orientation``: the commands that write or update an ONNX model file,
apart from the rest of the command line (cli.py had reached its size limit). Torch and ONNX tooling are imported
only when a command runs."""

from __future__ import annotations

import argparse
from pathlib import Path

from .calibration_copies import MAX_COPIES
from .cli_types import background_percentile, epoch_count, model_version, path_arg, seed_number, whole_number
from .model_files import DEV_VERSION
from .orientation import FIT_EPOCHS
from .wording import printable


def _require_exported(*models: str) -> None:
    """The ONNX files calibrate, quantize and orientation work on exist: a missing one was told "--model in the CLI",
    a flag these commands do not have, and not that 'braintumor export' writes it (the step before them)."""
    from .model_files import not_a_model_file, resolve_model_path

    for model in models:
        found = resolve_model_path(model)
        what = not_a_model_file(found)
        if what:
            raise FileNotFoundError(f"{model} is {what}: name the ONNX file that 'braintumor export' wrote (its --out)")
        if not found.is_file():
            raise FileNotFoundError(f"model file not found: {model} (write it first: braintumor export RUN_DIR --out "
                                    f"{model})")


def _require_rewritable(command: str, *models: str) -> None:
    """calibrate and orientation rewrite their models in place: one kept read-only (chmod a-w) was replaced after the
    whole fit when run as root, as an output file kept so was before the CLI refused those (cli_checks); a bare name
    found only among the shipped models was fitted, then written to that name in the working folder; one on a
    read-only file system failed after the fit."""
    from .atomic_files import check_folder_can_be_made, final_target
    from .cli_checks import read_only
    from .exit_errors import UsageError
    from .model_files import resolve_model_path

    for model in models:
        if not Path(model).exists():  # a bare name _require_exported found among the shipped models: not rewritten
            raise UsageError(f"{model} is not in {Path.cwd()}: {command} rewrites the file it is given, not the "
                             f"shipped one ({resolve_model_path(model)}): copy it here and {command} the copy")
        if Path(model).is_file() and read_only(final_target(Path(model))):
            raise UsageError(f"{model} is read-only: {command} rewrites it in place: make it writable (chmod u+w), "
                             f"or {command} a copy")
        try:  # written beside itself first: a read-only file system said so only after the fit
            check_folder_can_be_made(final_target(Path(model)).parent)
        except OSError as exc:
            raise UsageError(f"{model} cannot be rewritten in place: {exc.strerror or exc}: {command} a copy in "
                             "another folder") from None


def _wrote(path: Path) -> None:
    """The model file a command wrote, in one wording for export, quantize and calibrate (which edits in place)."""
    print(f"wrote {printable(str(path))} ({path.stat().st_size / 1e6:.2f} MB)")


def _cmd_export(args: argparse.Namespace) -> int:
    from .export import export_onnx

    path = export_onnx(args.run, args.out, metrics_file=args.metrics, model_version=args.model_version,
                       calibrate=not args.no_calibrate, data=args.data)
    _wrote(path)
    return 0


def _cmd_calibrate(args: argparse.Namespace) -> int:
    from .calibrate import calibrate

    _require_exported(args.model)
    _require_rewritable("calibrate", args.model)
    calibrate(args.model, args.run, args.data, args.background_percentile, args.ood_augment, args.metrics,
              args.ood_framing)
    _wrote(Path(args.model))  # the file calibrate rewrote in place (write_metadata opens this very name)
    return 0


def _cmd_quantize(args: argparse.Namespace) -> int:
    from .quantize import quantize

    _require_exported(args.model)
    path = quantize(args.model, args.run, args.out, args.data, calibrate=not args.no_calibrate,
                    metrics_file=args.metrics)
    _wrote(path)
    return 0


def _cmd_orientation(args: argparse.Namespace) -> int:
    from .orientation_fit import fit_orientation, refit_thresholds

    _require_exported(*args.models)
    _require_rewritable("orientation", *args.models)
    if args.refit_thresholds:
        refit_thresholds(args.models, args.run, args.data)
    else:
        fit_orientation(args.models, args.run, args.data, epochs=args.epochs, seed=args.seed)
    return 0


def add_model_parsers(sub: argparse._SubParsersAction) -> None:
    """The four model-file commands' parsers, in the order ``braintumor --help`` lists them (after ``train``)."""
    p = sub.add_parser("export", help="export RUN_DIR/best.pt to one ONNX file (needs [train])")
    p.add_argument("run", nargs="+", type=path_arg,
                   help="run folder (or a .pt checkpoint); several: one logit-averaging ensemble network "
                        "(members must share the validation split; calibrated on the first one's)")
    p.add_argument("--out", type=path_arg, required=True, help="ONNX file to write")
    p.add_argument("--metrics", type=path_arg,
                   help="metrics.json from 'braintumor evaluate' of this model to embed as headline metrics (one "
                        "of another architecture, data or training run is refused)")
    p.add_argument("--model-version", type=model_version, default=DEV_VERSION,
                   help="version recorded in the model's metadata and shown by the web page and /healthz (default "
                        f"{DEV_VERSION}: a development build; the shipped model is 1.0.0)")
    fit = p.add_mutually_exclusive_group()  # both: --data was dropped without a word
    fit.add_argument("--no-calibrate", action="store_true", help="skip fitting temperature and OOD statistics")
    fit.add_argument("--data", type=path_arg,
                     help="dataset root for the calibration (default: the one recorded in split.json)")
    p.set_defaults(func=_cmd_export, destinations=[("--out", "out", False)])

    p = sub.add_parser(
        "calibrate", help="fit temperature + OOD statistics on a run's train/val split, store them in the ONNX "
        "(needs [train])")
    p.add_argument("model", type=path_arg, help="ONNX model to update in place")
    p.add_argument("--run", type=path_arg, required=True,
                   help="run folder (its split.json names the validation images)")
    p.add_argument("--data", type=path_arg, help="dataset root (default: the one recorded in split.json)")
    p.add_argument("--background-percentile", type=background_percentile, metavar="P",
                   help="first set the model's preprocessing to subtract this percentile's gray level (0: off; "
                        "default: what the model recorded)")
    p.add_argument("--ood-augment", type=whole_number(f"in [0, {MAX_COPIES}]"), metavar="K",
                   help=f"add K (0-{MAX_COPIES}) augmented copies of each training image to the OOD fit (needs "
                        "[train]; default: what the model recorded, else 0)")
    p.add_argument("--ood-framing", type=whole_number(f"in [0, {MAX_COPIES}]"), metavar="K",
                   help=f"add K (0-{MAX_COPIES}) copies of each training image, cut by a random 0-15 %% per side "
                        "(tight framings), to the OOD fit (default: what the model recorded, else 0)")
    p.add_argument("--metrics", type=path_arg,
                   help="metrics.json of 'braintumor evaluate' on this file: embedded as headline metrics")
    p.set_defaults(func=_cmd_calibrate)

    p = sub.add_parser("quantize", help="int8 copy of an exported ONNX model, for CPUs with int8 dot products "
                       "(needs [train])")
    p.add_argument("model", type=path_arg, help="exported (float) ONNX model")
    p.add_argument("--run", type=path_arg, required=True,
                   help="its run folder (split.json: training images measure the ranges)")
    p.add_argument("--out", type=path_arg, required=True, help="ONNX file to write")
    p.add_argument("--data", type=path_arg, help="dataset root (default: the one recorded in split.json)")
    p.add_argument("--metrics", type=path_arg, help="this file's metrics.json from 'braintumor evaluate', to embed")
    p.add_argument("--no-calibrate", action="store_true", help="skip fitting temperature and OOD statistics")
    p.set_defaults(func=_cmd_quantize, destinations=[("--out", "out", False)])

    p = sub.add_parser("orientation", help="train the check that refuses slices on their side or upside down "
                       "and add it to exported models (needs [train])")
    p.add_argument("models", type=path_arg, nargs="+",
                   help="ONNX models to update in place (a float file and its int8 copy get the same network)")
    p.add_argument("--run", type=path_arg, required=True,
                   help="run folder (split.json: trained on its training images, threshold from its validation ones)")
    p.add_argument("--data", type=path_arg, help="dataset root (default: the one recorded in split.json)")
    p.add_argument("--epochs", type=epoch_count, default=FIT_EPOCHS, help=f"training epochs (default: {FIT_EPOCHS})")
    p.add_argument("--seed", type=seed_number, default=0, help="random seed (default: 0)")
    p.add_argument("--refit-thresholds", action="store_true",
                   help="no training: fit the thresholds again with the network already in the files, on the run's "
                   "validation images, and rewrite only their metadata")
    p.set_defaults(func=_cmd_orientation)
