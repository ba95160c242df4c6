"""Where model files are: the shipped ones (in the repository or inside a wheel), $BRAINTUMOR_MODEL, a bare file name;
and :class:`ModelError`, what a file that is no usable model raises.

Apart from :mod:`braintumor.predictor` so that tools that only need a path (serve, benchmarks) have one home for it,
without ONNX Runtime.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

#: File name of the shipped model, in ``models/`` (repo) or ``braintumor/models/`` (wheel).
MODEL_FILENAME = "braintumor-tumornet-s.onnx"
#: The version ``braintumor export`` records unless given one: a development build, never the shipped model's (a
#: smoke-test model served showed "braintumor-tumornet-s 1.0.0" on the page and /healthz, as the shipped one does).
DEV_VERSION = "0.0.0-dev"


class ModelError(ValueError):
    """A model file that cannot be used (not ONNX, not ours, or broken). Here, beside where model files are, not in
    :mod:`braintumor.model_loading`: the CLI's error handling catches it without importing ONNX Runtime
    (``braintumor --help`` loaded it)."""


#: How another model file is passed, in each caller's words: a Python user was told "--model in the CLI".
PASS_MODEL = {"python": "Classifier.load(path)", "cli": "--model FILE"}


class MissingModelError(FileNotFoundError):
    """A model file that is not there or is no regular file: ``str()`` says how to pass another in Python's words,
    :attr:`cli_text` in the CLI's (:data:`PASS_MODEL`), which the CLI prints. ``say`` makes the text of either."""

    def __init__(self, say: Callable[[str], str]) -> None:
        super().__init__(say(PASS_MODEL["python"]))
        self.cli_text = say(PASS_MODEL["cli"])

    def __reduce__(self) -> tuple:
        """Pickled by its two texts (``say``, a lambda, is not): a ``predict --workers`` process's load error is sent
        to the CLI so, and unpickled as ``MissingModelError(str)`` it broke the pool ("a worker process stopped
        unexpectedly (out of memory?)") of a model file removed during the run."""
        return MissingModelError, ({PASS_MODEL["python"]: str(self), PASS_MODEL["cli"]: self.cli_text}.__getitem__,)


def version_problem(version: object) -> str | None:
    """Why ``version`` cannot be an exported model's version (None if it can): one home for export's
    ``--model-version`` and ``export_onnx(model_version=...)``, which took an empty one (the page, /healthz and the
    metrics then showed none)."""
    if isinstance(version, str) and version.strip():
        return None
    return f"expected a version such as 1.0.0, got {version!r}"


def shipped_models_dir() -> Path:
    """Where the shipped model files are: ``braintumor/models/`` in a wheel, ``models/`` in the repository."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "models", here.parents[1] / "models"):
        if (candidate / MODEL_FILENAME).exists():
            return candidate
    return here.parents[1] / "models"


def shipped_model_names() -> list[str]:
    """The shipped model files' names, which ``--model`` and ``Classifier.load`` take alone from any folder: a "not
    found" names them, where ``--model int8.onnx`` or a name without ``.onnx`` left the user to find them."""
    return sorted(p.name for p in shipped_models_dir().glob("*.onnx"))


def resolve_model_path(path: str | os.PathLike) -> Path:
    """``path`` itself when it exists; else a bare file name is looked up among the shipped models, so
    ``--model braintumor-tumornet-s-int8.onnx`` works from any folder and inside the container."""
    given = Path(path)
    if given.exists() or given.name != str(path):
        return given
    shipped = shipped_models_dir() / given.name
    return shipped if shipped.exists() else given


def not_a_model_file(path: Path) -> str | None:
    """What ``path``, there but no regular file, is, after "NAME is" ("a folder", a socket in its own words, a pipe or
    device), for the model loader and the commands that take an exported model alike; None for a file or nothing
    there. /dev/null was 'not found', and a socket 'a pipe or device'."""
    from .image_files import SOCKET_TEXT, file_kind

    if path.is_dir():
        return "a folder"
    if path.is_file() or not path.exists():
        return None
    return SOCKET_TEXT if file_kind(path) == "a socket" else "not a regular file (a pipe or device)"


def default_model_path() -> Path:
    """The model used when none is given: $BRAINTUMOR_MODEL, else the shipped one."""
    env = os.environ.get("BRAINTUMOR_MODEL")
    return resolve_model_path(env) if env else shipped_models_dir() / MODEL_FILENAME
