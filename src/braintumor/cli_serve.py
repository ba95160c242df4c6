"""``braintumor serve``'s options and how they reach :func:`braintumor.serve.serve`, apart from the rest of the
command line (cli.py had reached its size limit). The server itself is imported only when the command runs."""

from __future__ import annotations

import argparse

from .cli_types import (
    MAX_WORKERS,
    MODEL_HELP,
    host_name_arg,
    path_arg,
    port,
    positive_float,
    thread_count,
    upload_mb,
    worker_count,
)
from .gunicorn_config import DEFAULT_CLIENT_TIMEOUT, DEFAULT_REQUEST_TIMEOUT
from .gunicorn_config import timeout as GUNICORN_TIMEOUT
from .host_names import ALLOWED_HOSTS_ENV
from .serve_settings import MAX_DEFAULT_WORKERS, THREADS_PER_WORKER
from .upload_limits import DEFAULT_MAX_UPLOAD_MB, MAX_UPLOAD_MB, MIN_UPLOAD_MB


def _run_serve(args: argparse.Namespace) -> int:
    from .serve import serve

    return serve(args.host, args.port, args.model, args.workers, debug=args.debug, max_upload_mb=args.max_upload_mb,
                 threads=args.threads, client_timeout=args.client_timeout,
                 request_timeout=args.request_timeout, allowed_host=args.allowed_host or ())


def add_serve_parser(sub: argparse._SubParsersAction) -> None:
    """The ``serve`` subcommand, its options and its exit statuses."""
    p = sub.add_parser("serve", help="web app and JSON API (gunicorn; waitress on Windows)",
                       epilog="exit status: 2 usage error (an option, the model, GUNICORN_CMD_ARGS, "
                              f"${ALLOWED_HOSTS_ENV}, a --host name that does not exist), 75 the port held by "
                              "another program or --host not this machine's yet, or its name not resolvable yet (try "
                              "again later); once serving, gunicorn's own (3: a worker could not start)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (0.0.0.0: all interfaces)")
    p.add_argument("--port", type=port, default=5000, help="TCP port to listen on")
    p.add_argument("--allowed-host", action="append", type=host_name_arg, metavar="NAME",
                   help="a Host name to answer besides localhost and IP addresses (repeatable; * any; default: "
                        f"${ALLOWED_HOSTS_ENV}, comma-separated): on a loopback --host only those are answered, "
                        "against DNS rebinding; on another address every Host is, unless this is given")
    p.add_argument("--model", type=path_arg, help=MODEL_HELP)
    p.add_argument("--workers", type=worker_count, default=None,
                   help=f"worker processes, one model each (1-{MAX_WORKERS}; default: CPUs, max {MAX_DEFAULT_WORKERS})")
    p.add_argument("--threads", type=thread_count, default=None,
                   help=f"request threads per worker (default {THREADS_PER_WORKER}; 1 serves more per second behind a "
                        "buffering proxy)")
    p.add_argument("--max-upload-mb", type=upload_mb, default=None, metavar="MIB",
                   help=f"request size limit in MiB (2^20 bytes), {MIN_UPLOAD_MB} to {MAX_UPLOAD_MB} (default "
                        f"{DEFAULT_MAX_UPLOAD_MB}; held in memory)")
    p.add_argument("--client-timeout", type=positive_float, default=None, metavar="SECONDS",
                   help="drop a client that sends nothing for this long in the middle of its request "
                        f"(default {DEFAULT_CLIENT_TIMEOUT:g})")
    p.add_argument("--request-timeout", type=positive_float, default=None, metavar="SECONDS",
                   help="the longest a request's headers, then its body, may take to arrive, however they trickle: "
                        "then the connection is closed, or the body answered 408 "
                        f"(default {DEFAULT_REQUEST_TIMEOUT:g}; with --threads 1, {0.75 * GUNICORN_TIMEOUT:g}: three "
                        "quarters of gunicorn's --timeout when that is shorter)")
    p.add_argument("--debug", action="store_true", help="Flask development server, debugging on (never in production)")
    p.set_defaults(func=_run_serve)
