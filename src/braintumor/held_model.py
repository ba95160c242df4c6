"""The model bytes ``braintumor serve`` read at start, held for its gunicorn workers: each worker loads the model
after the fork, and those gunicorn starts later (``--max-requests``, a crash, a timeout) loaded the file as it was
then; a file deleted, replaced or overwritten since made each of them print a traceback and the whole server stop
("Worker failed to boot", exit status 3). On Linux the bytes sit in an anonymous in-memory file (memfd) that the
workers inherit, so a restart no longer depends on the file; elsewhere a worker that cannot load it logs one line
naming the file and why, and the server stops as gunicorn stops it.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

from .model_files import ModelError
from .model_loading import load_classifier

if TYPE_CHECKING:
    from flask import Flask

#: gunicorn's exit status for a worker that could not boot: its master then stops, saying so.
WORKER_BOOT_ERROR = 3


def hold_model(path: str | os.PathLike) -> int | None:
    """A file descriptor of an in-memory copy of ``path``'s bytes, inherited across exec and fork; None where there is
    no memfd (not Linux), or it cannot be made or filled: the workers then read the file itself. A copy that could not
    be written (``ulimit -f`` smaller than the model: EFBIG; no memory left) was a bare "error: File too large", exit
    status 1, and from Python an OSError with the descriptor left open."""
    if not hasattr(os, "memfd_create") or not os.path.isdir("/proc/self/fd"):
        return None
    try:
        data = Path(path).read_bytes()
        fd = os.memfd_create("braintumor-model", 0)  # not close-on-exec: gunicorn's master and workers inherit it
    except OSError:
        return None
    try:
        with open(fd, "wb", closefd=False) as copy:
            copy.write(data)
    except OSError:
        os.close(fd)
        return None
    return fd


def worker_app(model_path: str, model_fd: int | None = None, **kwargs: object) -> Flask:
    """gunicorn's app factory under serve: the app around the held copy (:func:`hold_model`) when there is one, else
    ``model_path``, still named ``model_path`` (the page, the API, the logs). A model that cannot be loaded: one
    error line naming the file and the cause, then the boot-error exit, not a traceback."""
    from .predictor import Classifier
    from .web import create_app

    held = f"/proc/self/fd/{model_fd}" if model_fd is not None else None
    try:  # named (the page, the logs, pickling) as the file, not /proc's
        clf = load_classifier(Classifier, held or model_path, kwargs.get("threads"),  # type: ignore[arg-type]
                              name=model_path)
    except (OSError, ModelError) as exc:
        said = str(getattr(exc, "cli_text", exc))  # serve's operator: a missing model in --model's words
        cause = said.replace(held, model_path) if held else said
        logging.getLogger("gunicorn.error").error("worker cannot load the model %s: %s", model_path, cause)
        raise SystemExit(WORKER_BOOT_ERROR) from None
    return create_app(classifier=clf, **kwargs)  # type: ignore[arg-type]
