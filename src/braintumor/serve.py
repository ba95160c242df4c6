"""``braintumor serve``: the web app behind a production WSGI server.

gunicorn on Linux/macOS: N worker processes, each calling the app factory (and so opening its
own ONNX Runtime session) after the fork, a few threads each. waitress on Windows (threads in
one process). Flask's development server only with ``--debug``.

The gunicorn master must never have imported onnxruntime: the library starts a thread at
import, and a worker forked from such a process aborts or hangs when it exits. Importing
``braintumor`` imports onnxruntime, so after checking the model this process *replaces itself*
(``exec``) with a clean ``python -m gunicorn`` whose master loads nothing but gunicorn.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from .predictor import Classifier, default_model_path

#: Threads per gunicorn worker: requests wait on ONNX Runtime, which releases the GIL.
THREADS_PER_WORKER: int = 4


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def gunicorn_argv(app_kwargs: dict, host: str, port: int, workers: int, timeout: int = 60) -> list[str]:
    """The gunicorn command line; the app factory and its (literal) arguments are called in each worker."""
    from gunicorn.config import KNOWN_SETTINGS

    known = {s.name for s in KNOWN_SETTINGS}
    call = ", ".join(f"{k}={v!r}" for k, v in app_kwargs.items())
    bind = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    argv = [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", str(workers),
            "--worker-class", "gthread", "--threads", str(THREADS_PER_WORKER), "--timeout", str(timeout),
            "--access-logfile", "-", "--error-logfile", "-", "--name", "braintumor"]
    if "control_socket_disable" in known:  # gunicorn >= 24 would create a control socket file
        argv.append("--no-control-socket")
    if os.path.isdir("/dev/shm"):  # the workers' heartbeat files: in memory, not on disk
        argv += ["--worker-tmp-dir", "/dev/shm"]
    return [*argv, f"braintumor.web:create_app({call})"]


def serve(host: str = "127.0.0.1", port: int = 5000, model: str | None = None, workers: int | None = None,
          debug: bool = False, max_upload_mb: float | None = None, timeout: int = 60) -> int:
    """Run until interrupted (on POSIX without --debug, by becoming the gunicorn master)."""
    from .web import DEFAULT_MAX_UPLOAD_MB, create_app

    path = Path(model) if model else default_model_path()
    Classifier.load(path, threads=1)  # a missing or broken model: one clear error line, before any worker
    workers = workers or default_workers()
    kwargs = {"model_path": str(path), "max_upload_mb": float(max_upload_mb or DEFAULT_MAX_UPLOAD_MB),
              "threads": max(1, (os.cpu_count() or 1) // workers)}
    if debug:
        server = "Flask development server (--debug: never in production)"
    elif sys.platform == "win32":
        server = f"waitress, {workers * THREADS_PER_WORKER} threads"
    else:
        server = f"gunicorn, {workers} worker(s) x {THREADS_PER_WORKER} threads"
    shown = f"[{host}]" if ":" in host else host
    print(f"serving {path.name} on http://{shown}:{port}/ ({server}); Ctrl+C to stop", flush=True)
    if debug:
        create_app(**kwargs).run(host=host, port=port, debug=True, use_reloader=False)
    elif sys.platform == "win32":
        import waitress

        waitress.serve(create_app(**kwargs), host=host, port=port, threads=workers * THREADS_PER_WORKER)
    else:
        argv = gunicorn_argv(kwargs, host, port, workers, timeout)
        sys.stderr.flush()
        os.execv(argv[0], argv)  # does not return
    return 0
