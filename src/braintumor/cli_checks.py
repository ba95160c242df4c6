"""Checks on the command line's arguments, shared by the subcommands: problems a user can fix, as one line.

Where a command will write is checked before any work: a file where a folder is wanted (or the reverse), or a
parent that is a file, used to surface as a traceback after the work (minutes of evaluation, a whole folder
predicted); now it is one line and exit code 2 before it starts. Each subcommand names its destinations in
``set_defaults(destinations=...)``.
"""

from __future__ import annotations

import argparse
import math
import numbers
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

from .data import DatasetError, data_folders
from .file_names import MAX_NAME_BYTES, name_bytes
from .image_files import IMAGE_EXTENSIONS, file_kind, is_special_file
from .image_io import ImageError
from .predictor import MAX_THREADS


class UsageError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


class RunFailed(Exception):
    """The run could not finish for a cause outside its arguments (a worker process killed); one line, exit code 1:
    2 would tell a pipeline that its command line was wrong, and retrying it unchanged is what helps."""


def bars(no_progress: bool) -> bool:
    """Progress bars on a terminal only (as predict): in a log or a pipe they are thousands of redrawn lines."""
    return not no_progress and sys.stderr.isatty()


def positive_int(text: str) -> int:
    """argparse type: a whole number >= 1 (a clear usage error otherwise, not a traceback)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def seed_number(text: str) -> int:
    """argparse type: a random seed, 0 to :data:`~braintumor.train_config.MAX_SEED` as train's --seed (twenty digits
    were a traceback in torch, -1 a seed train refuses)."""
    from .train_config import MAX_SEED

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if not 0 <= value <= MAX_SEED:
        raise argparse.ArgumentTypeError(f"must be in [0, {MAX_SEED}], got {value}")
    return value


def path_arg(text: str) -> str:
    """argparse type: a file or folder name, not empty (``--out "$OUT"`` with OUT unset wrote the report into the
    working folder; ``--model ""`` scored with the shipped model; ``predict ""`` predicted the working folder)."""
    if not text:
        raise argparse.ArgumentTypeError("expected a file or folder name, got an empty string")
    return text


def model_version(text: str) -> str:
    """argparse type of export's ``--model-version``: not empty nor blank (``--model-version "$VERSION"`` with VERSION
    unset recorded an empty version, which the page, /healthz and the metrics then showed)."""
    if not text.strip():
        raise argparse.ArgumentTypeError(f"expected a version such as 1.0.0, got {text!r}")
    return text


def output_arg(text: str) -> str | None:
    """argparse type of ``predict -o``: a file name, or ``-`` for standard output (it wrote a file named '-')."""
    return None if path_arg(text) == "-" else text


def thread_count(text: str) -> int:
    """argparse type: threads, 1 to :data:`MAX_THREADS` (-1 was taken; 5000 hung for half a minute per image)."""
    value = positive_int(text)
    if value > MAX_THREADS:
        raise argparse.ArgumentTypeError(f"at most {MAX_THREADS}, got {value} (this machine has {os.cpu_count()} CPUs)")
    return value


#: Most processes ``predict --workers`` and ``serve --workers`` start, each with its own model: more than a large
#: machine's cores only add memory (100000 was taken, and serve started that many gunicorn workers).
MAX_WORKERS: int = 64


def worker_count(text: str) -> int:
    """argparse type: worker processes, 1 to :data:`MAX_WORKERS`."""
    value = positive_int(text)
    if value > MAX_WORKERS:
        raise argparse.ArgumentTypeError(f"at most {MAX_WORKERS}, got {value} (this machine has {os.cpu_count()} CPUs)")
    return value


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (a size limit of 0 would refuse every upload)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):  # also refuses nan and inf
        raise argparse.ArgumentTypeError(NOT_POSITIVE.format(text))
    return value


NOT_POSITIVE = "must be a number more than 0, got {}"

#: Smallest ``--max-upload-mb`` (about 1 kB): 1e-9 was taken, rounded to a limit of 0 bytes and refused every upload.
MIN_UPLOAD_MB: float = 0.001


def check_upload_mb(value: float, shown: str | None = None) -> float:
    """``value``, a request size limit in MB, if it is a finite number of at least :data:`MIN_UPLOAD_MB`; else
    ValueError (TypeError for no number) saying so, with ``shown`` (as typed) or the value. The one rule for
    ``serve --max-upload-mb`` and :func:`braintumor.web.create_app`, whose ``max_upload_mb=1e-9`` was taken."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"must be a number, got {value!r}")
    shown = repr(value) if shown is None else shown
    if not (value > 0 and math.isfinite(value)):
        raise ValueError(NOT_POSITIVE.format(shown))
    if value < MIN_UPLOAD_MB:
        raise ValueError(f"must be at least {MIN_UPLOAD_MB} (about 1 kB), got {shown}: "
                         "a smaller limit refuses every upload")
    return float(value)


def upload_mb(text: str) -> float:
    """argparse type of ``serve --max-upload-mb``: a :func:`positive_float` that :func:`check_upload_mb` takes."""
    try:
        return check_upload_mb(positive_float(text), text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def port(text: str) -> int:
    """argparse type: a TCP port, 1-65535 (gunicorn raised a traceback for 70000)."""
    value = positive_int(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"a port is 1-65535, got {value}")
    return value


def check_destination(flag: str, raw: str | None, folder: bool) -> None:
    """Raise UsageError unless ``raw`` (a file, or a folder when ``folder``) could be created where it points."""
    if not raw:
        return
    if raw == "-":  # a file or folder named '-' in the working folder, where standard output was meant
        raise UsageError(f"{flag} - (standard output) is not supported here: {flag} takes a "
                         + ("folder" if folder else "file name"))
    path = Path(raw)
    limit = _name_max(path)
    long = next((part for part in path.parts if name_bytes(part) > limit), None)
    if long is not None:  # found only when written, after the whole run: 'File name too long', exit 1
        raise UsageError(f"cannot write {flag} {raw}: a name in it is {name_bytes(long)} bytes long, over the "
                         f"{limit} its file system takes")
    if folder and path.exists() and not path.is_dir():
        raise UsageError(f"{flag} {raw} is {file_kind(path)}; {flag} takes a folder")
    if not folder and path.is_dir():
        raise UsageError(f"{flag} {raw} is a folder; {flag} takes a file name")
    slash = next((s for s in (os.sep, os.altsep) if s and raw.endswith(s)), None)
    if not folder and slash:  # Path drops the slash: `-o results/` wrote a file named 'results'
        raise UsageError(f"{flag} {raw} ends with {slash}, as a folder does; {flag} takes a file name")
    if not folder and is_special_file(path):  # /dev/null, a FIFO: written through, not replaced
        if not os.access(path, os.W_OK):
            raise UsageError(f"cannot write {flag} {raw}: no permission")
        return
    # nothing is created here: a command that stops early leaves no empty folder behind
    parent = path if folder else path.parent
    nearest = next((p for p in (parent, *parent.parents) if p.exists()), Path.cwd())
    if not nearest.is_dir():
        raise UsageError(f"cannot write {flag} {raw}: {nearest} is {file_kind(nearest)}, not a folder")
    if not os.access(nearest, os.W_OK | os.X_OK):
        raise UsageError(f"cannot write {flag} {raw}: no permission to write in {nearest}")


def _name_max(path: Path) -> int:
    """The longest name, in bytes, the file system of ``path``'s nearest existing folder takes (POSIX says; else
    :data:`~braintumor.file_names.MAX_NAME_BYTES`, the common one); a huge number where no limit can be learnt
    (Windows counts UTF-16 units, never more than the UTF-8 bytes: the write itself then says)."""
    nearest = next((p for p in (path.parent, *path.parent.parents) if os.path.isdir(p)), Path("."))
    if not hasattr(os, "pathconf"):
        return 1 << 30
    try:
        return int(os.pathconf(nearest, "PC_NAME_MAX"))
    except (OSError, ValueError):
        return MAX_NAME_BYTES


def check_destinations(args: argparse.Namespace) -> None:
    """Every destination the parsed subcommand declared: (flag as typed, argparse attribute, names a folder).

    A file destination that is one of the inputs (``predict scan.jpg -o scan.jpg``, or ``-o *.jpg`` expanded by the
    shell; ``quantize model.onnx --out model.onnx``) is refused: writing it would destroy what it is made from."""
    named = [getattr(args, a, None) for a in ("paths", "model", "run")]  # predict's, quantize's, export's inputs
    flat = [x for v in named if v for x in (v if isinstance(v, list) else [v])]
    inputs = [p for p in map(Path, flat) if str(p) != "-" and p.is_file()]
    folders = [p for p in map(Path, flat) if str(p) != "-" and p.is_dir()]  # predict DIR, export RUN_DIR
    folders += [p.parent for p in inputs if p.suffix == ".pt"]  # export RUN/best.pt reads RUN's config and split
    # a dataset's images are inputs too: `data audit --out ROOT/Testing/glioma/x.jpg` replaced one with its report
    datasets = [Path(d) for d in (getattr(args, "data", None), getattr(args, "reference", None))
                if isinstance(d, str | Path) and Path(d).is_dir()]
    for flag, attr, folder in getattr(args, "destinations", ()):
        raw = getattr(args, attr, None)
        check_destination(flag, raw, folder)
        read = [*folders, *datasets]
        if raw and not folder and Path(raw).is_file() and (any(_same_file(raw, p) for p in inputs)
                                                           or any(_read_from(d, Path(raw)) for d in read)):
            raise UsageError(f"{flag} {raw} is one of the inputs; writing it would overwrite that file: "
                             "choose another name")
        if raw and not folder and not Path(raw).exists():
            readers = [(d, "the input folder") for d in folders] + [(d, "the dataset") for d in datasets]
            reader = next(((d, what) for d, what in readers if _read_as_input(d, Path(raw))), None)
            if reader is not None:  # `predict scans -o scans/results.png`: every later run read it as a broken image
                raise UsageError(f"{flag} {raw} is inside {reader[1]} {reader[0]}, where later runs would read it "
                                 "as an input: choose a name outside it")
        if raw and folder:
            _check_not_inside_data(flag, raw, args)
    _check_apart(args)


def _check_apart(args: argparse.Namespace) -> None:
    """Two destinations of one command that name the same path (``predict -o r.csv --heatmap r.csv``): the heat maps
    went into a folder r.csv, and the records then failed as 'Is a directory: .r.csv.1a2b3c4d'."""
    given = [(flag, getattr(args, attr, None)) for flag, attr, _ in getattr(args, "destinations", ())]
    given = [(flag, raw) for flag, raw in given if raw]
    for k, (flag, raw) in enumerate(given):
        for other, other_raw in given[k + 1:]:
            if os.path.abspath(raw) == os.path.abspath(other_raw) or _same_file(raw, other_raw):
                raise UsageError(f"{flag} {raw} and {other} {other_raw} name the same path: give each its own")


def _check_not_inside_data(flag: str, raw: str, args: argparse.Namespace) -> None:
    """A folder written inside what is read as data (``evaluate --out ROOT/Testing/eval``: a class 'eval' broke the
    dataset for every later command; ``predict scans --heatmap scans/maps``: the overlays were read next time)."""
    data = getattr(args, "data", None)
    paths = getattr(args, "paths", None) or []
    reference = getattr(args, "reference", None)  # evaluate --reference: its Training split, read by the leak check
    for source, what in [(data, "the dataset"), (reference, "the --reference dataset"),
                         *((p, "the input folder") for p in paths)]:
        if not source or source == "-" or not Path(source).is_dir():
            continue
        # of a dataset, the folders holding its class folders: `evaluate --out ROOT/eval` reads nothing there
        split = getattr(args, "split", None) if source is data else "Training"
        read = data_folders(source, split) if what != "the input folder" else [Path(source)]
        if any(Path(raw).resolve().is_relative_to(folder.resolve()) for folder in read):
            raise UsageError(f"{flag} {raw} is inside {what} {source}: its files would be read as data; "
                             "choose a folder outside it")


#: A run folder's own files, which export, quantize and calibrate read.
RUN_FILES = ("best.pt", "last.pt", "config.json", "split.json", "metrics.jsonl")


def _read_from(folder: Path, target: Path) -> bool:
    """Whether a command given ``folder`` reads the existing file ``target``: an image or scan below it (``predict DIR
    -o DIR/scan.jpg`` replaced a scan with the results), a run's own file (``export RUN --out RUN/best.pt`` replaced
    the checkpoint it exported)."""
    from .volume_io import is_volume_file

    try:  # the entry itself, not where a link points: replacing a link loses the link
        inside = (target.parent.resolve() / target.name).is_relative_to(folder.resolve())
    except OSError:
        return False
    return inside and (target.suffix.lower() in IMAGE_EXTENSIONS or target.name in RUN_FILES or is_volume_file(target))


def _read_as_input(folder: Path, target: Path) -> bool:
    """Whether ``predict folder`` would read ``target``, a file not there yet, as an input: an image or a scan by its
    name (a zip in a folder is not opened)."""
    from .volume_io import is_volume_file

    try:
        inside = (target.parent.resolve() / target.name).is_relative_to(folder.resolve())
    except OSError:
        return False
    named = target.suffix.lower() in IMAGE_EXTENSIONS or is_volume_file(target)
    return inside and named and target.suffix.lower() != ".zip"


def _same_file(a: str | Path, b: str | Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def show_defaults(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Every option's default in its ``--help`` where the help text does not already say it: ``serve --help`` showed
    ``--port PORT  TCP port to listen on``, and the 5000 (like predict's batch of 32) was in the README only."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                show_defaults(sub)
        elif action.option_strings and action.nargs != 0 and action.help and "default" not in action.help \
                and action.default not in (None, "", argparse.SUPPRESS):
            action.help += f" (default {action.default})".replace("%", "%%")
    return parser


def run_script(main: Callable[[], int]) -> NoReturn:
    """Exit with ``main()``'s code; a wrong --run, --data or --model ends a script of scripts/ or benchmarks/ with one
    ``error:`` line and exit code 1, not a traceback (the scripts share this, as the subcommands share the checks)."""
    try:
        sys.exit(main())
    except (DatasetError, ImageError, OSError) as exc:
        sys.exit(f"error: {exc}")
