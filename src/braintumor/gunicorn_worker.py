"""What gunicorn_config.py's hooks set up in each gunicorn worker, after the fork: a deadline on a request's headers
(threaded workers) and the C decoders' lines dropped. Imported by those hooks in the worker only, never in the master
(which must never import ``braintumor``: gunicorn_config.py); a module of the package, apart from that settings file
(which had reached its size limit), so it may import the rest of ``braintumor``.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable


def decoders_quiet_in_worker(worker) -> None:
    """Let the C decoders' lines be dropped (``braintumor.quiet_libraries.quiet_decoders``) in every worker: libtiff's
    error handler unset and, while GDCM decodes, the C library's ``stderr`` pointed away, fd 2 left where it is
    (``braintumor.decoder_stderr``), so the other request threads' log lines all arrive. A sync worker may also point fd
    2 away where that cannot be done (off glibc): it runs one request at a time on its one thread, so while that thread
    decodes no other code of the process writes on its stderr (gunicorn writes the access log to stdout, after the
    answer; the heartbeat is a file's time; the deadlines' watchdog thread writes nothing; the master and the other
    workers have their own fd 2); not a threaded worker (``--threads`` 2 or more, from serve or GUNICORN_CMD_ARGS),
    whose other request threads log meanwhile, nor with ``--reload``, whose watcher thread logs the file it saw change.
    GDCM's libjpeg wrote "Corrupt JPEG data: bad Huffman code" in the log for each damaged JPEG Lossless upload, where
    the CLI drops it; until 2026-12-07 the threaded workers kept it, and libtiff's lines."""
    from gunicorn.workers.sync import SyncWorker

    from .quiet_libraries import OWN, SHARED, set_decoders_quiet

    set_decoders_quiet(OWN if type(worker) is SyncWorker and not worker.cfg.reload else SHARED)


#: Seconds a request thread waits for a new connection's first bytes before handing it back to the worker's poller
#: (gunicorn's own wait: 5 s). A client's request follows its connect within a round trip; a silent connection then
#: waits on the poller, without a thread, until its bytes come or gunicorn's ``--keep-alive`` closes it.
FIRST_BYTES_WAIT = 0.1


def silent_connections_off_threads(handle: Callable, wait: float = FIRST_BYTES_WAIT) -> Callable:
    """A threaded worker's ``handle(conn)`` that waits ``wait`` seconds, not gunicorn's 5, for a new connection's
    first bytes: each connection opened and left silent held one of the worker's few request threads for 5 s, one
    after another, and every request behind them in the queue waited (40 such connections, no byte sent, and a
    /healthz took 45 s). A gunicorn without that wait (no ``_DEFER``, no ``wait_for_data``) is left as it is."""
    from gunicorn.workers import gthread

    defer = getattr(gthread, "_DEFER", None)

    def handle_when_sent(conn, *args):
        fresh = not getattr(conn, "initialized", True) and not getattr(conn, "data_ready", True)
        if defer is not None and fresh and hasattr(conn, "wait_for_data") and not conn.wait_for_data(wait):
            return defer  # back to the poller, which hands it to a thread once its bytes arrive
        return handle(conn, *args)

    return handle_when_sent


#: The deadline of the headers this thread is reading, between :func:`headers_deadline` and :func:`headers_in`.
_reading = threading.local()


def headers_deadline(handle: Callable, log: logging.Logger, seconds: float) -> Callable:
    """A threaded worker's ``handle(conn)`` (one request on a connection: wait for it, read its headers, serve it)
    with ``seconds`` for the headers, however they trickle. gunicorn has no such limit, only the receive timeout on
    each silence (gunicorn_config.py's ``when_ready``): a byte sent every few seconds held a request thread for as long
    as the client kept it up, and a worker's ``--threads`` such clients silenced it, /healthz included. Past the
    deadline the worker's watchdog (web/client_input.py) shuts the socket's reading side: gunicorn reads the end of
    the stream and closes the connection. :func:`headers_in` ends the deadline once the headers are in; the body has
    its own (the app's). The sync workers of ``--threads 1`` are left alone: gunicorn's ``--timeout`` already restarts
    one whose request runs longer."""
    from .web.client_input import DEADLINES, Deadline

    def handle_in_time(conn, *args):
        sock = getattr(conn, "sock", None)
        if not isinstance(sock, socket.socket):
            return handle(conn, *args)
        deadline = _reading.deadline = Deadline(seconds, sock)
        DEADLINES.arm(deadline)
        try:
            return handle(conn, *args)
        finally:
            DEADLINES.disarm(deadline)
            _reading.deadline = None
            if deadline.expired:
                log.warning("Request abandoned: its headers took longer than %g s", seconds)

    return handle_in_time


def headers_in(req) -> None:
    """gunicorn_config.py's ``pre_request``: the headers are in, their deadline ends (the body's starts in the app),
    which may close the connection after its answer (a 408: web/client_input.py)."""
    from .web.client_input import close_after_answer
    from .web.expect_continue import defer_continue

    close_after_answer(getattr(req, "force_close", None))
    defer_continue(req)  # its 100 Continue sent at the app's first read of the body, not before the app
    deadline = getattr(_reading, "deadline", None)
    if deadline is not None:
        from .web.client_input import DEADLINES

        DEADLINES.disarm(deadline)
        _reading.deadline = None
