"""Command line: ``braintumor train | export | quantize | evaluate | predict | serve | data``.

Torch is imported only by ``train`` and ``export``; ``predict`` runs on ONNX Runtime alone.
User mistakes (missing files, bad images, bad folders) end in one ``error:`` line and a
non-zero exit code, never a traceback.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from . import __version__, cli_parser
from .cli_checks import bars
from .cli_models import add_model_parsers
from .cli_run import run
from .cli_serve import add_serve_parser
from .cli_train import add_train_parser
from .cli_types import (
    MODEL_HELP,
    batch_count,
    input_arg,
    output_arg,
    path_arg,
    thread_count,
    whole_number,
    worker_count,
)
from .data import DEFAULT_DATA_ROOT
from .evaluation_figures import FIGURES
from .exit_errors import UsageError
from .image_hashes import MAX_THRESHOLD


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from .evaluate import run_evaluate
    from .evaluation_scope import split_not_there

    if args.split is not None and (problem := split_not_there(args.data, args.split)):
        raise UsageError(problem)
    split = "Testing" if args.split is None else args.split
    return run_evaluate(args.model, args.data, args.out, split=split or None, run_dir=args.run,
                        progress=bars(args.no_progress),
                        leak_free=not args.no_leak_free, leak_threshold=args.leak_threshold,
                        reference=args.reference)


def _cmd_predict(args: argparse.Namespace) -> int:
    from .predict_cli import run_predict

    return run_predict(args)


def _cmd_data_check(args: argparse.Namespace) -> int:
    from .datasets_cli import check_dataset

    return check_dataset(args.data)


def _cmd_data_audit(args: argparse.Namespace) -> int:
    from .datasets_cli import audit_command

    return audit_command(args.data, args.out, args.threshold, args.hash, progress=bars(args.no_progress))


def _cmd_data_download(args: argparse.Namespace) -> int:
    from .datasets_cli import download_dataset

    return download_dataset(args.dest)


def build_parser() -> argparse.ArgumentParser:
    parser = cli_parser.Parser(prog="braintumor", description="Brain MRI slice classifier.")
    parser.add_argument("--version", action="version", version=f"braintumor {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    add_train_parser(sub)
    add_model_parsers(sub)

    p = sub.add_parser("evaluate", help="metrics, figures and report.html on a labelled folder (needs [eval])")
    p.add_argument("--model", type=path_arg, help=MODEL_HELP)
    p.add_argument("--data", type=path_arg, default=DEFAULT_DATA_ROOT,
                   help="ROOT/Testing/<class>/ or ROOT/<class>/ "
                        f"(default {DEFAULT_DATA_ROOT}; $BRAINTUMOR_DATA sets it)")
    p.add_argument("--split", help="sub-folder of --data to evaluate (default Testing, where --data holds one; "
                   "else --data's own class folders)")
    p.add_argument("--out", type=path_arg, required=True, help="folder for metrics.json, figures, report.html")
    p.add_argument("--run", type=path_arg,
                   help="the model's training run folder, for its training curves (another run's is refused; one "
                        "nothing links to the model is warned of)")
    p.add_argument("--no-leak-free", action="store_true",
                   help="skip the second set of metrics on test images without a near duplicate in Training")
    p.add_argument("--reference", type=path_arg, metavar="FOLDER",
                   help="the images the model was trained on, for the leak check (a dataset root holding a Training "
                        "split, or a folder of class folders; for the shipped model the Kaggle set's root); default: "
                        "the Training split beside the evaluated one")
    p.add_argument("--leak-threshold", type=whole_number(f"from 0 to {MAX_THRESHOLD}"), default=8,
                   help="near duplicate: pHash distance <= N (of 256 bits; at most 64)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    written = ("predictions.csv", *(f"{name}.png" for name in FIGURES), "report.html", "metrics.json")
    p.set_defaults(func=_cmd_evaluate, destinations=[("--out", "out", True, written)])

    p = sub.add_parser("predict", help="classify images and folders (ONNX Runtime, no torch)",
                       epilog="exit status: 0 every input answered (classified, or not classified: refused), 1 any "
                              "input unreadable (its record holds an error; the others are still written), a "
                              "--workers process died or writing the results failed (a full disk), 2 usage error, 130 "
                              "Ctrl-C, 143 SIGTERM, 129 SIGHUP")
    p.add_argument("paths", nargs="+", type=input_arg,
                   help="images, DICOM files, NIfTI (.nii, .nii.gz), zips of DICOM or NIfTI files, folders (searched "
                   "recursively; DICOM files in a folder are read as series); - reads file names from standard "
                   "input, one per line, or NUL-separated (find -print0), not an image (/dev/stdin reads one)")
    p.add_argument("--format", default=None, choices=["table", "json", "jsonl", "csv"],
                   help="default: from -o's extension (.csv, .json, .jsonl), else table")
    p.add_argument("--model", type=path_arg, help=MODEL_HELP)
    p.add_argument("-o", "--output", type=output_arg,
                   help="write results to this file (atomically) instead of stdout (-: stdout)")
    p.add_argument("--batch-size", type=batch_count, default=32, help="images per network run (1-1024)")
    p.add_argument("--threads", type=thread_count, default=None,
                   help="ONNX Runtime threads (1-256; default: CPUs, at most 4; with --workers N, CPUs / N each)")
    p.add_argument("--heatmap", type=path_arg, metavar="DIR",
                   help="also write a class-activation overlay PNG per classified image here, named in its record "
                        "(csv: a heatmap column; refused and unreadable inputs get none); a map already in DIR is "
                        "never replaced: the new one takes the next free name (x-2.heatmap.png)")
    p.add_argument("--summary", action="store_true",
                   help="after each multi-slice input (series, volume) add a summary record: per-class slice "
                        "counts, most suspicious slices (json/jsonl; csv: on stderr; table: always on stderr)")
    p.add_argument("--workers", type=worker_count, default=1,
                   help="processes, one model each (input order is kept; 1-64)")
    p.add_argument("--resume", action="store_true", help="with -o (jsonl/csv): skip inputs already there, append")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="progress bar of the inputs on stderr (a scan is one; default: when stderr is a "
                          "terminal, for 50 or more inputs; with --workers or --resume over folders, which are listed "
                          "as they are read: from the 50th input, without a total)")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="no progress bar")
    p.set_defaults(func=_cmd_predict, destinations=[("-o", "output", False), ("--heatmap", "heatmap", True)])

    add_serve_parser(sub)

    data = sub.add_parser("data", help="dataset helpers").add_subparsers(dest="data_command", required=True)
    root = (f"dataset root: ROOT/Training/<class>/ and ROOT/Testing/<class>/, or ROOT/<class>/ (default "
            f"{DEFAULT_DATA_ROOT}; $BRAINTUMOR_DATA sets it)")
    p = data.add_parser("check", help="count images per split/class and list unreadable files")
    p.add_argument("--data", type=path_arg, default=DEFAULT_DATA_ROOT, help=root)
    p.set_defaults(func=_cmd_data_check)
    p = data.add_parser("audit", help="duplicates within/across splits, label conflicts, leakage into Testing")
    p.add_argument("--data", type=path_arg, default=DEFAULT_DATA_ROOT, help=root)
    p.add_argument("--out", type=path_arg, help="write the full report (every group and pair) to this JSON file")
    p.add_argument("--threshold", type=whole_number(f"from 0 to {MAX_THRESHOLD}"), default=8,
                   help="largest Hamming distance of a near duplicate (of 256 bits; at most 64)")
    p.add_argument("--hash", default="phash", choices=["phash", "dhash"], help="perceptual hash (256-bit)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    p.set_defaults(func=_cmd_data_audit, destinations=[("--out", "out", False)])
    p = data.add_parser("download", help="fetch the Kaggle dataset with kagglehub (needs [download], internet)")
    p.add_argument("--dest", type=path_arg, help="copy the dataset here (default: kagglehub's cache)")
    p.set_defaults(func=_cmd_data_download, destinations=[("--dest", "dest", True)])
    for choices in (sub, data):  # a missing command's error named "data_command", argparse's dest, not the choices
        choices.metavar = "{" + ",".join(choices.choices) + "}"
    return cli_parser.show_defaults(parser)


def main(argv: Sequence[str] | None = None) -> int:
    """The CLI in this process, its imports already done (tests, callers); the ``braintumor`` script's entry point
    is :func:`braintumor.__main__.main`, which also holds Ctrl-C while these modules are imported."""
    return run(build_parser().parse_args(argv))  # cli_run: how a command ends, every way it can


if __name__ == "__main__":
    sys.exit(main())
