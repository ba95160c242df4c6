"""``braintumor serve``: the web app behind a production WSGI server.

gunicorn on Linux/macOS: N worker processes, each calling the app factory (and so opening its
own ONNX Runtime session) after the fork, a few threads each. waitress on Windows (threads in
one process: serve_waitress.py). Flask's development server only with ``--debug``.

The gunicorn master must never have imported onnxruntime: the library starts a thread at
import, and a worker forked from such a process aborts or hangs when it exits. Importing
``braintumor`` imports onnxruntime, so after checking the model this process *replaces itself*
(``exec``) with a clean ``python -m gunicorn`` whose master loads nothing but gunicorn.

Metrics (web/monitoring.py) add up across the workers through prometheus-client's multiprocess mode:
a fresh ``PROMETHEUS_MULTIPROC_DIR`` per server start, set before the workers exist, and the hooks in
``gunicorn_config.py`` (files named by worker slot, a dead worker's live gauges dropped, the directory removed at exit).
A start gunicorn gives up before its hooks run, or a master
killed outright, never reaches ``on_exit``: a small watcher, started before the exec, removes the directory
once the last of the server's processes has ended (:func:`~braintumor.metrics_folders.remove_when_server_ends`); a kill
that takes the watcher too (a cgroup's OOM kill) leaves it to the next start, which removes the folders of servers gone.
"""

from __future__ import annotations

import logging
import math
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from .cpu_quota import default_threads
from .exit_errors import UsageError
from .gunicorn_config import (
    CLIENT_TIMEOUT_ENV,
    DEFAULT_CLIENT_TIMEOUT,
    DEFAULT_REQUEST_TIMEOUT,
    REQUEST_TIMEOUT_ENV,
    WORKER_ENV,
)
from .held_model import hold_model
from .host_names import listen_address, server_url, url_host
from .metrics_folders import hold_metrics_dir, new_metrics_dir, remove_when_server_ends
from .model_files import default_model_path, resolve_model_path
from .model_loading import DEFAULT_MAX_THREADS
from .predictor import Classifier
from .serve_settings import (
    THREADS_PER_WORKER,
    check_current_folder,
    check_gunicorn_host,
    check_gunicorn_settings,
    check_no_port_in_host,
    check_port,
    default_request_timeout,
    default_workers,
    environment_hosts,
    environment_origins,
    go_back,
    gunicorn_scheme,
    gunicorn_socket_settings,
    leave_a_folder_it_cannot_enter,
    listen_socket,
)
from .serve_waitress import waitress_buffers, waitress_server
from .wording import counted, printable


def gunicorn_argv(app_kwargs: dict, host: str, port: int, workers: int, timeout: int | None = None,
                  threads: int = THREADS_PER_WORKER, listener: int | None = None) -> list[str]:
    """The gunicorn command line; the app factory and its (literal) arguments are called in each worker.

    ``listener``: the file descriptor of the socket serve bound to ``host:port`` for it (:func:`listen_socket`),
    inherited through the exec: gunicorn serves it (``--bind fd://N``) instead of binding the address itself.

    ``timeout`` None: gunicorn_config.py's, which GUNICORN_CMD_ARGS can override (the command line beats it)."""
    from gunicorn.config import KNOWN_SETTINGS

    known = {s.name for s in KNOWN_SETTINGS}
    call = ", ".join(f"{k}={v!r}" for k, v in app_kwargs.items())
    # One thread per worker: gunicorn's sync worker, which accepts a connection only when idle and closes it
    # after the answer, so every request waits in one queue (the kernel's) for whichever worker frees first.
    # gthread keeps keep-alive connections on the worker that accepted them: 16 clients split 12/4 between
    # two workers, and the busier worker's queue set the tail (docs/PERFORMANCE.md, sixth round).
    worker = ["--worker-class", "sync"] if threads == 1 else ["--worker-class", "gthread", "--threads", str(threads)]
    bind = f"fd://{listener}" if listener is not None else f"{url_host(host)}:{port}"
    argv = [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", str(workers), *worker,
            *(["--timeout", str(timeout)] if timeout is not None else []),
            "--access-logfile", "-", "--error-logfile", "-", "--name", "braintumor",
            "--config", str(Path(__file__).with_name("gunicorn_config.py"))]
    if "control_socket_disable" in known:  # gunicorn >= 24 would create a control socket file
        argv.append("--no-control-socket")
    if os.path.isdir("/dev/shm"):  # the workers' heartbeat files: in memory, not on disk
        argv += ["--worker-tmp-dir", "/dev/shm"]
    return [*argv, f"braintumor.held_model:worker_app({call})"]


def serve(host: str = "127.0.0.1", port: int = 5000, model: str | None = None, workers: int | None = None,
          debug: bool = False, max_upload_mb: float | None = None, timeout: int | None = None,
          threads: int | None = None, client_timeout: float | None = None,
          request_timeout: float | None = None, allowed_host: Sequence[str] = ()) -> int:
    """Run until interrupted (on POSIX without --debug, by becoming the gunicorn master).

    ``threads``: request threads per worker (default :data:`THREADS_PER_WORKER`). ``client_timeout``: seconds a
    client may send nothing in the middle of its request before the server drops it (default 30).
    ``request_timeout``: seconds a request's headers, then its body, may take, however they trickle (default 60; with
    gunicorn's sync workers, ``threads`` 1, under its worker timeout). ``allowed_host``: Host names answered besides
    the loopback ones (web/hosts.py); none given, ``$BRAINTUMOR_ALLOWED_HOSTS``'s."""
    from .upload_limits import DEFAULT_MAX_UPLOAD_MB
    from .web import checked_setting, create_app, upload_limit_mb
    from .web.hosts import allowed_hosts, described

    check_current_folder()
    check_no_port_in_host(host)  # before any lookup of 'localhost:5000' or 'http://localhost:5000' as a name
    host = listen_address(host)  # '[::1]', as in a URL, is ::1
    gunicorn = not debug and sys.platform != "win32"
    if port == 0 and not gunicorn:  # serve(port=0) from Python: the CLI's --port takes 1-65535 only
        other = "the Flask development server (debug)" if debug else "waitress"
        raise UsageError(f"port 0 (any free port) is for gunicorn only: {other} would listen on a port serve cannot "
                         "name (it said :0); give one, e.g. port=5000")
    limit = upload_limit_mb(DEFAULT_MAX_UPLOAD_MB if max_upload_mb is None else max_upload_mb)  # not in each worker
    path = resolve_model_path(model) if model else default_model_path()
    Classifier.load(model, threads=1)  # a missing or broken model: one clear error line, before any worker
    workers = workers or default_workers()
    threads = threads or THREADS_PER_WORKER
    client_timeout = checked_setting("client_timeout", client_timeout) if client_timeout else DEFAULT_CLIENT_TIMEOUT
    request_timeout = checked_setting("request_timeout", request_timeout) if request_timeout else (
        default_request_timeout(threads, timeout) if gunicorn else DEFAULT_REQUEST_TIMEOUT)
    hosts, origins = allowed_hosts(host, allowed_host or environment_hosts()), environment_origins()
    # the workers may start elsewhere (GUNICORN_CMD_ARGS --chdir): the path from the root, its '..' kept (abspath's
    # 'link/../m.onnx' was './m.onnx', another file or none) and its name the one given (the API shows it)
    kwargs = {"model_path": str(Path(path).absolute()),
              "max_upload_mb": limit, "threads": default_threads(workers, at_most=DEFAULT_MAX_THREADS),
              "request_timeout": float(request_timeout), "allowed_hosts": hosts, "trusted_origins": origins}
    if debug:
        server = "Flask development server (--debug: never in production)"
    elif sys.platform == "win32":
        server = f"waitress, {counted(workers * threads, 'thread')}"
    else:
        server = f"gunicorn, {counted(workers, 'worker')} x {counted(threads, 'thread')}"
    if gunicorn:
        check_gunicorn_host(host, port)  # a usage error, before the port's "not yet this machine's" (exit 75)
    metrics = held = watched = listener = left = None
    environ = {key: os.environ.get(key) for key in _SET_FOR_GUNICORN}  # as it was, should the start fail
    try:  # a stop before the exec (the line below waiting on a full pipe) left the folder: now the watcher's or ours
        if gunicorn:
            # gunicorn reads WEB_CONCURRENCY as its default worker count when its config module is imported, here
            # and in the master: "abc" was a traceback. --workers decides here, so the variable has nothing to say.
            os.environ.pop("WEB_CONCURRENCY", None)
            owner = check_gunicorn_settings()
            backlog, reuse_port = gunicorn_socket_settings()
            listener = listen_socket(host, port, backlog, reuse_port)  # gunicorn's, held from here: no other's
            port = listener.getsockname()[1]  # --port 0: the one the system chose
            kwargs["model_fd"] = hold_model(path)  # the bytes checked above, for every worker: see held_model.py
            argv = gunicorn_argv(kwargs, host, port, workers, timeout, threads, listener.fileno())
            metrics = new_metrics_dir(owner)  # before saying it serves
            held = hold_metrics_dir(metrics, owner)  # locked while any server process lives: no other start removes it
            watched = remove_when_server_ends(metrics)
        else:
            check_port(host, port)
        prefix = os.environ.get("SCRIPT_NAME", "").rstrip("/") if gunicorn else ""  # gunicorn's: the app is under it
        url = server_url(host, port, printable(prefix) + "/", gunicorn_scheme() if gunicorn else "http")
        print(f"serving {printable(path.name)} on {url} ({server}; "
              f"{described(hosts)}); Ctrl+C to stop", flush=True)
        if debug:
            from .web.dev_server import DevRequestHandler

            create_app(**kwargs).run(host=host, port=port, debug=True, use_reloader=False,
                                     request_handler=DevRequestHandler)  # its log as private as gunicorn's
        elif sys.platform == "win32":
            logging.basicConfig()  # as waitress.serve does: its warnings (a full task queue) on stderr
            waitress_server(create_app(**kwargs), host=host, port=port, threads=workers * threads,
                            channel_timeout=math.ceil(client_timeout),  # whole seconds there
                            **waitress_buffers(int(limit * 1024 * 1024))).run()  # the app's MAX_CONTENT_LENGTH
        else:
            for key, value in WORKER_ENV.items():  # here, not only in gunicorn_config: glibc reads MALLOC_ARENA_MAX
                os.environ.setdefault(key, value)  # as the process starts (the exec below)
            os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics  # gunicorn's on_exit removes it, else the watcher
            os.environ[CLIENT_TIMEOUT_ENV] = repr(client_timeout)  # for gunicorn_config.when_ready, in the master
            os.environ[REQUEST_TIMEOUT_ENV] = repr(float(request_timeout))  # for gunicorn_config.post_fork
            left = leave_a_folder_it_cannot_enter()  # gunicorn's first step is to change into it
            sys.stdout.flush()
            sys.stderr.flush()
            os.execv(argv[0], argv)  # does not return
    except BaseException:
        if listener is not None:
            listener.close()
        _undo_start(environ, metrics, [kwargs.get("model_fd"), held, watched], left)
        raise
    return 0


#: The variables serve sets for gunicorn in its own environment, which the exec hands on.
_SET_FOR_GUNICORN = ("WEB_CONCURRENCY", "PROMETHEUS_MULTIPROC_DIR", CLIENT_TIMEOUT_ENV, REQUEST_TIMEOUT_ENV,
                     *WORKER_ENV)


def _undo_start(environ: dict[str, str | None], metrics: str | None, fds: Sequence[int | None],
                left: int | None = None) -> None:
    """A start that ended before the exec (a stop, an error, the exec itself) leaves this process as it was, for
    whatever goes on in it: ``environ`` (:data:`_SET_FOR_GUNICORN` as they were) back, the metrics folder removed,
    ``fds`` closed (the model's in-memory copy, a copy of its bytes per call; the metrics folder's lock; the
    watcher's pipe, so it ends).
    PROMETHEUS_MULTIPROC_DIR had named the removed folder: a later app of this process answered /metrics 500.
    ``left``: the working folder serve left for gunicorn (serve_settings.leave_a_folder_it_cannot_enter), gone back
    into: the caller was left in ``/``."""
    go_back(left)
    for key, value in environ.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    if metrics is not None:
        shutil.rmtree(metrics, ignore_errors=True)
    for fd in fds:
        if fd is not None:
            os.close(fd)
