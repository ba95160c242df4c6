"""argparse types of the command line's values (whole numbers, seeds, file names, thread and worker counts, sizes,
ports): a wrong value is a one-line usage error that says what the option takes, not a traceback. Apart from the
checks of :mod:`braintumor.cli_checks` (which had grown to 319 lines); these names are imported from here. Also
the ``--model`` help that cli.py and cli_serve.py share.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable
from pathlib import Path

from .cpu_quota import available_cpus
from .model_files import version_problem
from .upload_limits import NOT_FINITE, NOT_POSITIVE, check_upload_mb
from .wording import counted

#: ``--model`` of predict, evaluate and serve (``model_files.default_model_path``).
MODEL_HELP = "ONNX model: a path, or a shipped model's file name (default: $BRAINTUMOR_MODEL, else the shipped model)"



def whole_number(span: str) -> Callable[[str], int]:
    """argparse type: a whole number, whose range (``span``, as "in [1, 10000]") the setting's owner checks and words
    (TrainConfig, the hash distance's check); text that is no whole number is told with that range. argparse's own
    ``int`` said "invalid int value: 'inf'" of ``--epochs inf``, ``--batch-size 1e400`` or ``--threshold 0.5``, with no
    word of what the option takes."""

    def parse(text: str) -> int:
        try:
            return int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number {span}, got {text!r}") from None

    return parse


def whole_number_in(low: int, high: int, above: str = "") -> Callable[[str], int]:
    """argparse type: a whole number in [low, high], checked here (no later check words it); ``above`` is added to
    the message of a value over ``high`` (how many CPUs this machine has, for a thread or process count)."""
    span = f"in [{low}, {high}]"

    def parse(text: str) -> int:
        value = whole_number(span)(text)
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be {span}, got {value}{above if value > high else ''}")
        return value

    return parse


def seed_number(text: str) -> int:
    """argparse type: a random seed, 0 to :data:`~braintumor.train_config.MAX_SEED` as train's --seed (twenty digits
    were a traceback in torch, -1 a seed train refuses)."""
    from .train_config import MAX_SEED

    return whole_number_in(0, MAX_SEED)(text)


def epoch_count(text: str) -> int:
    """argparse type of orientation's ``--epochs``: 1 to train's :data:`~braintumor.train_config.MAX_EPOCHS` (23 digits
    were taken: every image of the run was prepared for a fit that would never end)."""
    from .train_config import MAX_EPOCHS

    return whole_number_in(1, MAX_EPOCHS)(text)


def background_percentile(text: str) -> float:
    """argparse type of calibrate's ``--background-percentile``: a percentile the preprocessing takes (its own check,
    ``PreprocessConfig``), refused before the model is read: nan, inf and 1e400 were told only after the model file
    had been found and loaded."""
    from .preprocess import PreprocessConfig

    try:
        return PreprocessConfig(background_percentile=float(text)).background_percentile
    except ValueError as exc:  # float's own ("could not convert string to float") is not the user's word
        problem = str(exc) if exc.args[0].startswith("background_percentile") else f"expected a number, got {text!r}"
        raise argparse.ArgumentTypeError(problem) from None


def path_arg(text: str) -> str:
    """argparse type: a file or folder name, not empty (``--out "$OUT"`` with OUT unset wrote the report into the
    working folder; ``--model ""`` scored with the shipped model; ``predict ""`` predicted the working folder), nor
    starting with a ``~`` the shell left unexpanded (:func:`tilde_problem`)."""
    text = input_arg(text)
    problem = tilde_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def input_arg(text: str) -> str:
    """argparse type of predict's inputs: a file or folder name, not empty; one that is not there is that input's
    error record (a quoted ``~`` said so there), the others still answered."""
    if not text:
        raise argparse.ArgumentTypeError("expected a file or folder name, got an empty string")
    return text


def tilde_problem(text: str) -> str | None:
    """Why ``text`` cannot be meant as typed: it starts with a ``~`` that the shell did not expand (quoted, or after
    ``=`` as in ``--heatmap=~/maps``), and no such folder is here; None otherwise. ``--heatmap "~/maps"`` made a
    folder named ``~`` in the working folder (which ``rm -rf ~`` then removes the home folder for), ``--out "~/r.json"``
    was 'there is no folder ~', and ``--data "~/mri"`` 'dataset folder not found' of a folder that is there."""
    first = Path(text).parts[0] if text.startswith("~") else ""
    home = os.path.expanduser(first) if first else first
    if not first or home == first or os.path.lexists(first):  # ~nobody that names no user; a folder really named ~
        return None
    meant = os.path.join(home, *Path(text).parts[1:])
    if text == os.environ.get("BRAINTUMOR_DATA"):  # --data's default: no shell ever saw it
        return (f"{text} (from $BRAINTUMOR_DATA): its {first} is not expanded in an environment variable, and no "
                f"folder {first} is here: set it to {meant}")
    return (f"{text}: the shell did not expand its {first} (it was quoted, or came after =), and no folder {first} is "
            f"here: write {meant}, or {first} unquoted as a word of its own")


def model_version(text: str) -> str:
    """argparse type of export's ``--model-version``: not empty nor blank (``--model-version "$VERSION"`` with VERSION
    unset recorded an empty version, which the page, /healthz and the metrics then showed)."""
    problem = version_problem(text)
    if problem:
        raise argparse.ArgumentTypeError(problem)
    return text


def output_arg(text: str) -> str | None:
    """argparse type of ``predict -o``: a file name, or ``-`` for standard output (it wrote a file named '-')."""
    return None if path_arg(text) == "-" else text


def thread_count(text: str) -> int:
    """argparse type: threads, 1 to :data:`~braintumor.model_loading.MAX_THREADS` (-1 was taken; 5000 hung for half a
    minute per image). Imported here: the parser is built without ONNX Runtime (``braintumor --help``)."""
    from .model_loading import MAX_THREADS

    return whole_number_in(1, MAX_THREADS, f" ({cpus_text()})")(text)


def cpus_text() -> str:
    """The CPUs to size --threads and --workers by, as an out-of-range count's error says them: those this process
    may use (a container's CPU quota counted), not the host's cores, which os.cpu_count() gave."""
    return f"this process may use {counted(available_cpus(), 'CPU')}"


#: Most processes ``predict --workers`` and ``serve --workers`` start, each with its own model: more than a large
#: machine's cores only add memory (100000 was taken, and serve started that many gunicorn workers).
MAX_WORKERS: int = 64

#: Most images ``predict --batch-size`` decodes and runs through the network at once. Each costs about 1.3 MB while
#: its batch is in flight (160-pixel model: peak memory 134 MB at 16, 457 MB at 256), and a larger batch is no
#: faster; 10**23 was taken, and a whole folder was decoded into one batch.
MAX_PREDICT_BATCH: int = 1024


def worker_count(text: str) -> int:
    """argparse type: worker processes, 1 to :data:`MAX_WORKERS`."""
    return whole_number_in(1, MAX_WORKERS, f" ({cpus_text()})")(text)


def batch_count(text: str) -> int:
    """argparse type of ``predict --batch-size``: 1 to :data:`MAX_PREDICT_BATCH` images per network run."""
    return whole_number_in(1, MAX_PREDICT_BATCH)(text)


def positive_float(text: str) -> float:
    """argparse type: a finite number > 0 (a size limit of 0 would refuse every upload). Infinite is refused too, said
    so (``--request-timeout inf`` was told "must be a number more than 0"): no option taking it means "never"."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not math.isfinite(value):  # inf, nan
        raise argparse.ArgumentTypeError(NOT_FINITE.format(text))
    if value <= 0:
        raise argparse.ArgumentTypeError(NOT_POSITIVE.format(text))
    return value


def upload_mb(text: str) -> float:
    """argparse type of ``serve --max-upload-mb``: a :func:`positive_float` that :func:`check_upload_mb` takes."""
    try:
        return check_upload_mb(positive_float(text), text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def port(text: str) -> int:
    """argparse type: a TCP port, 1-65535 (gunicorn raised a traceback for 70000)."""
    return whole_number_in(1, 65535)(text)


def host_name_arg(text: str) -> str:
    """argparse type: a name ``serve --allowed-host`` adds, by host_names.host_name's rule (a port or URL refused)."""
    from .host_names import host_name

    try:
        return host_name(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
