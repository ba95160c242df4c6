"""gunicorn settings file for ``braintumor serve``: the prometheus-client multiprocess bookkeeping, logs that keep
no client data (log_privacy.py, loaded by its path), and time limits on clients that stop sending in the middle of a
request or trickle its headers.

gunicorn loads this file by its path, so the master never imports the ``braintumor`` package (and so
never onnxruntime, which breaks forking); keep it free of ``braintumor`` imports. ``serve`` creates the
metrics directory and sets ``PROMETHEUS_MULTIPROC_DIR`` before the master starts; the workers inherit it.
"""

from __future__ import annotations

import ctypes
import importlib.util
import ipaddress
import itertools
import logging
import math
import os
import shutil
import signal
import socket
import struct
import sys
import threading
import types


def _beside(name: str) -> types.ModuleType:
    """The module ``name`` of this file's folder, loaded by its path as gunicorn loads this file: imported as
    ``braintumor.<name>``, it would import the package in the master. This file reached by a link (``-c
    gunicorn.conf.py``, a link to it) or copied elsewhere: the installed package's, found without importing it (it
    was 'Failed to read config file', No such file or directory: .../log_privacy.py, exit status 1). Imported as
    ``braintumor.gunicorn_config`` (serve, the app), the package is there already: its own module, which a zip (a
    zipapp, zipimport) holds where no path reaches (importing braintumor.web raised NotADirectoryError)."""
    if __package__:
        return importlib.import_module(f"{__package__}.{name}")
    path = os.path.join(os.path.dirname(os.path.realpath(__file__)), f"{name}.py")
    package = None if os.path.isfile(path) else importlib.util.find_spec("braintumor")  # no import: a top-level name
    if package is not None and package.submodule_search_locations:
        path = os.path.join(next(iter(package.submodule_search_locations)), f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"braintumor_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


#: What the logs show of a request (log_privacy.py): its method and path keys, the error log's filter.
_logs = _beside("log_privacy")
#: The access log: time, method (log_privacy.LOGGED_METHOD_KEY), path (log_privacy.LOGGED_PATH_KEY), protocol, status,
#: size, duration, and the request's id (its answer's X-Request-ID: web/request_ids.py; ``-`` where the app did not
#: answer). Not the request line (``%(r)s``), which holds whatever a client puts in the URL (``?patient=...``, a file
#: name appended to the path), nor gunicorn's default, which adds the client's address, its Referer and its User-Agent.
#: A setting here, not on serve's command line, so that GUNICORN_CMD_ARGS="--access-logformat ..." still overrides it.
access_log_format = ('%(t)s "%({' + _logs.LOGGED_METHOD_KEY + '}e)s %({' + _logs.LOGGED_PATH_KEY + '}e)s %(H)s" '
                     '%(s)s %(b)s %(M)sms %({x-request-id}o)s')

#: Seconds a silent worker may run before the master restarts it. Here, not on serve's command line, so that
#: GUNICORN_CMD_ARGS="--timeout 120" still overrides it (gunicorn lets its command line beat that variable).
timeout = 60
#: Off: a static file sent by sendfile() was logged as 0 bytes (gunicorn counts only the bytes it writes itself), and
#: the page's few small files gain nothing from it. (gunicorn reads any value set here as --no-sendfile.)
sendfile = False
#: gunicorn's default (127.0.0.1 and ::1) and ``::ffff:127.0.0.1``, the same loopback as an IPv4 client reaches a
#: dual-stack ``serve --host ::``: a local proxy's X-Request-ID and SCRIPT_NAME were dropped. Not where the user sets it
#: ($FORWARDED_ALLOW_IPS; GUNICORN_CMD_ARGS's --forwarded-allow-ips beats this file anyway).
if "FORWARDED_ALLOW_IPS" not in os.environ:
    forwarded_allow_ips = "127.0.0.1,::1,::ffff:127.0.0.1"

#: Name prefix of the metrics directory ``serve`` creates; only such a directory is removed at exit.
METRICS_DIR_PREFIX = "braintumor-metrics-"

#: Where ``serve --client-timeout`` puts its value for the hooks below (seconds).
CLIENT_TIMEOUT_ENV = "BRAINTUMOR_CLIENT_TIMEOUT"
#: Seconds a client that has begun a request (its headers or its body) may send nothing before the server gives up
#: on it, when serve does not say: nginx's client_header_timeout and client_body_timeout are 60 s.
DEFAULT_CLIENT_TIMEOUT = 30.0
#: Where ``serve --request-timeout`` puts its value for the hooks below (seconds).
REQUEST_TIMEOUT_ENV = "BRAINTUMOR_REQUEST_TIMEOUT"
#: Seconds a request's headers may take to arrive (from its first byte, or from the connection's opening), and then
#: its body (web/client_input.py), however they trickle, when serve does not say.
DEFAULT_REQUEST_TIMEOUT = 60.0
#: How gunicorn's workers log a socket error while reading a request (with its traceback).
_SOCKET_ERROR = "Socket error processing request."


def _seconds(variable: str, default: float) -> float:
    try:
        value = float(os.environ.get(variable, ""))
    except ValueError:
        return default
    return value if value > 0 and math.isfinite(value) else default


def client_timeout() -> float:
    """Seconds from ``$BRAINTUMOR_CLIENT_TIMEOUT`` (which serve has checked), else :data:`DEFAULT_CLIENT_TIMEOUT`."""
    return _seconds(CLIENT_TIMEOUT_ENV, DEFAULT_CLIENT_TIMEOUT)


def request_timeout() -> float:
    """Seconds from ``$BRAINTUMOR_REQUEST_TIMEOUT`` (which serve has checked), else :data:`DEFAULT_REQUEST_TIMEOUT`."""
    return _seconds(REQUEST_TIMEOUT_ENV, DEFAULT_REQUEST_TIMEOUT)


def stalled_clients_in_one_line(record: logging.LogRecord) -> bool:
    """A client dropped by :func:`when_ready`'s receive timeout: one warning line, not an error with a traceback
    (a client holding many connections open would fill the log with them)."""
    if record.msg == _SOCKET_ERROR and record.exc_info and isinstance(record.exc_info[1], BlockingIOError):
        record.msg, record.args = "Request abandoned: the client sent nothing for %g s", (client_timeout(),)
        record.exc_info = record.exc_text = None
        record.levelno, record.levelname = logging.WARNING, logging.getLevelName(logging.WARNING)
    return True


#: Environment of the worker processes (unless already set; ``serve`` exports it, and serve.py imports it from here).
#: A worker runs one ONNX Runtime session and nothing else that is parallel: a BLAS or OpenMP thread pool per worker
#: only spins on cores the other workers need, and glibc's default of one malloc arena per thread made a worker's RSS
#: creep. docs/DEPLOY.md says what to export for a gunicorn started by hand (tests/test_gunicorn_worker_env.py).
WORKER_ENV: dict[str, str] = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
                              "MALLOC_ARENA_MAX": "2"}
#: mallopt()'s name for what MALLOC_ARENA_MAX sets (glibc's malloc.h).
_M_ARENA_MAX = -8


def worker_environment() -> None:
    """:data:`WORKER_ENV`'s values where unset, in the master before any worker exists: a gunicorn started by hand
    (not by ``serve``, which exports them) had none. The workers inherit them and load numpy and ONNX Runtime only
    after the fork, so the thread pools' variables take effect; glibc reads MALLOC_ARENA_MAX only as a process starts,
    so its value is also given to malloc itself (mallopt, which the forked workers inherit). A variable the operator
    set is kept (and glibc has read theirs already)."""
    arenas_set = "MALLOC_ARENA_MAX" in os.environ
    for key, value in WORKER_ENV.items():
        os.environ.setdefault(key, value)
    if arenas_set or not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt  # glibc's, musl's (a no-op there)
    except (OSError, AttributeError):
        return
    mallopt(_M_ARENA_MAX, int(WORKER_ENV["MALLOC_ARENA_MAX"]))


def on_starting(server) -> None:
    """In the master, before any worker exists (they inherit it): filter the error log's rejected requests. With
    ``--reuse-port`` and only sockets serve bound (``--bind fd://N``, SO_REUSEPORT set by serve), the master serves
    them as without it: gunicorn left them to each worker, its log said "Listening at:  (pid)", and :func:`when_ready`
    found no socket to give the client timeout. Each worker's socket was a copy of the one socket anyway. The
    workers' environment: :func:`worker_environment`."""
    worker_environment()
    logger = logging.getLogger("gunicorn.error")
    logger.addFilter(_logs.without_client_data)
    logger.addFilter(stalled_clients_in_one_line)
    on_reload(server)


def on_reload(server) -> None:
    """Also after a SIGHUP reload, which reads ``--reuse-port`` from GUNICORN_CMD_ARGS again (and runs no
    :func:`on_starting`): each new worker then opened ``fd://N`` itself, which the master no longer has as such, and
    failed to boot (EBADF), which stopped the whole server (exit status 3)."""
    if server.cfg.reuse_port and all(isinstance(bound, int) for bound in server.cfg.address):
        server.cfg.set("reuse_port", False)


#: The longest receive timeout (seconds) a timeval's ``long`` holds on any system: 68 years, none in practice.
_LONGEST_TIMEVAL = 2**31 - 1


def when_ready(server) -> None:
    """Give the listening sockets a receive timeout (``SO_RCVTIMEO``), which the connections accepted from them
    inherit: gunicorn reads a request's headers and body with blocking reads and no time limit, so a client that sent
    part of a request and then nothing held a request thread for as long as it kept the connection open (four such
    connections per worker, and nothing else was answered, /healthz included). A read that waits longer than
    :func:`client_timeout` now fails: before the app, gunicorn closes the connection; in the body, the app answers
    408 (web/client_input.py). Waiting for a request to begin is gunicorn's keep-alive business, not this."""
    seconds = min(client_timeout(), _LONGEST_TIMEVAL)  # 1e300 did not fit: struct.error, and the master was gone
    # at least 1 us: a timeval of zero is no timeout at all (--client-timeout 1e-7 turned the limit off)
    timeval = struct.pack("@ll", int(seconds), max(1 if seconds < 1 else 0, min(999_999, round(seconds % 1 * 1e6))))
    for listener in getattr(server, "LISTENERS", []):
        try:
            listener.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, timeval)
        except (AttributeError, OSError) as exc:  # not a socket that takes it: serve on, without the limit
            server.log.warning("no client timeout on %s: %s", listener, exc)


def pre_fork(server, worker) -> None:
    """Give the worker about to start the lowest metrics slot no live worker holds. Its metric files are named by the
    slot, not the pid, so a replacement (--max-requests, a crash, a timeout) carries on in its predecessor's files: by
    pid, each restart left ~16 KB more in /dev/shm, and once that was full every new worker died of SIGBUS."""
    taken = {getattr(w, "metrics_slot", None) for w in server.WORKERS.values()}
    worker.metrics_slot = next(i for i in itertools.count() if i not in taken)


#: The stop signals a worker booting must obey at once (gunicorn installs its own handlers later, in init_process).
STOP_SIGNALS: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT, signal.SIGQUIT)


def post_fork(server, worker) -> None:
    """In the new worker, before the app creates its metrics: stop signals back to their defaults; name the metrics'
    files by the worker's slot; say how many workers share the CPUs (``$BRAINTUMOR_SERVER_WORKERS``: the app's model,
    loaded without a thread count, takes its share, not every CPU as if alone); a deadline on the headers of each
    request, silent connections off the request threads and the C decoders' lines dropped
    (braintumor/gunicorn_worker.py, imported here, in the worker, never in the master).

    A forked worker runs the master's signal handlers until gunicorn installs its own, which only queue the signal in
    this process's copy of the master's queue: a SIGTERM or Ctrl+C that came in those first moments was lost, the
    worker booted and served on, and stopping the server took the whole --graceful-timeout (30 s) before the master
    killed it (a stop 0.3 s after start: 30.1 s). With the defaults, such a worker just ends; gunicorn's own handlers
    take over before the app loads."""
    for sig in STOP_SIGNALS:
        signal.signal(sig, signal.SIG_DFL)
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import values

        values.ValueClass = values.MultiProcessValue(lambda: worker.metrics_slot)
    from gunicorn.workers.gthread import ThreadWorker

    from braintumor.cpu_quota import SERVER_WORKERS_ENV
    from braintumor.gunicorn_worker import decoders_quiet_in_worker, headers_deadline, silent_connections_off_threads

    if getattr(server, "num_workers", None):  # a model loaded without a thread count: this worker's share of the CPUs
        os.environ[SERVER_WORKERS_ENV] = str(server.num_workers)
    if isinstance(worker, ThreadWorker):
        handle = headers_deadline(worker.handle, worker.log, request_timeout())
        worker.handle = silent_connections_off_threads(handle)
    decoders_quiet_in_worker(worker)


def peer_forwards(req, cfg) -> bool:
    """Whether gunicorn trusts ``req``'s peer with forwarded headers (SCRIPT_NAME): an address of
    ``--forwarded-allow-ips`` (``*``: any), or a UNIX socket's peer, which has none, as gunicorn's own check decides."""
    peer = getattr(req, "peer_addr", None)
    if isinstance(peer, (str, bytes)) or "*" in cfg.forwarded_allow_ips:
        return True
    try:
        address = ipaddress.ip_address(peer[0])
        return any(address in ipaddress.ip_network(allowed, strict=False) for allowed in cfg.forwarded_allow_ips)
    except (TypeError, IndexError, ValueError):  # no peer address gunicorn would trust
        return False


def pre_request(worker, req) -> None:
    """The headers are in: their deadline ends (:func:`braintumor.gunicorn_worker.headers_in`). An ``X-Request-ID``
    from a peer gunicorn does not trust (:func:`peer_forwards`) is dropped, so the app gives the request a fresh id:
    any client could put a patient's name there, or another request's id (web/request_ids.py)."""
    from braintumor.gunicorn_worker import headers_in

    headers_in(req)
    if not peer_forwards(req, worker.cfg):  # X_Request_ID too, which header_map = "dangerous" would pass on
        req.headers = [(name, value) for name, value in req.headers
                       if name.upper().replace("_", "-") != "X-REQUEST-ID"]


def worker_abort(worker) -> None:
    """In a worker the master kills (SIGABRT) for running past --timeout: gunicorn answers its own 500 and the app never
    finishes the request, so count an error of kind "timeout" here. The app's module is taken from those this worker
    has loaded, never imported: a worker killed before its app loaded has no metrics to count in.

    This runs in the signal handler, on the thread the signal interrupted: a sync worker's request, which may hold one
    of prometheus-client's locks (not reentrant) at that moment; counting here then waited for it forever (until the
    master's SIGKILL a --timeout later, the timeout uncounted). So another thread counts, and the handler returns at
    once: its exit unwinds the request, which lets the lock go, and the process waits for that thread before ending."""
    monitoring = sys.modules.get("braintumor.web.monitoring")
    app = getattr(worker, "wsgi", None)
    if monitoring is not None and app is not None:
        threading.Thread(target=monitoring.count_timeout, args=(app,), name="count-timeout").start()


def child_exit(server, worker) -> None:
    """A worker ended (crash, timeout, restart): drop its files of live gauges, as prometheus-client asks."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(getattr(worker, "metrics_slot", worker.pid), path)


def on_exit(server) -> None:
    """The server stops: remove the metrics directory this run created (the next run starts from zero)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path and os.path.basename(os.path.normpath(path)).startswith(METRICS_DIR_PREFIX):
        shutil.rmtree(path, ignore_errors=True)
