"""What ``braintumor serve`` checks before it says it serves: gunicorn's settings from ``$GUNICORN_CMD_ARGS`` and the
address it listens on, each problem one line before any worker starts: a usage error (exit status 2, which a
supervisor should not retry unchanged), except a port another program holds (75, which a supervisor may retry).
"""

from __future__ import annotations

import errno
import os
import shlex
import socket
from typing import NoReturn

from .cli_checks import AddressUnavailable, UsageError

#: gunicorn settings GUNICORN_CMD_ARGS may not turn on under serve, and why.
REFUSED_SETTINGS: dict[str, str] = {
    # the app, and so the model and its metrics, loaded once in the master (which must never import onnxruntime)
    "preload_app": "--preload: not under serve, whose workers each load the model after the fork (preloaded, /metrics "
                   "counted 1 worker of 2)",
    "daemon": "--daemon: serve runs in the foreground, under systemd, Docker or a terminal (daemonized, it returned "
              "at once, status 0, and the server's logs went to /dev/null)",
}


def check_gunicorn_settings() -> tuple[int, int] | None:
    """``$GUNICORN_CMD_ARGS`` read as gunicorn's master will read it, before serve says it is serving: a bad value was
    gunicorn's usage and error after that line ("Error: No closing quotation" for a stray quote, naming no variable).
    One line instead, which names the variable; settings serve sets itself are still overridden by serve's.
    Returns the workers' (uid, gid) when it has gunicorn switch users, else None."""
    text = os.environ.get("GUNICORN_CMD_ARGS")
    if not text:
        return None
    from gunicorn.config import Config

    def refuse(problem: str) -> NoReturn:
        raise UsageError(f"GUNICORN_CMD_ARGS: {problem} (it takes gunicorn's own command-line options)")

    try:
        words = shlex.split(text)
    except ValueError as exc:  # a quote left open
        refuse(str(exc).lower())
    config = Config()
    parser = config.parser()
    parser.error = refuse  # type: ignore[method-assign]  # argparse printed its usage and exited
    for name, value in vars(parser.parse_args(words)).items():
        if value is not None and name != "args":
            try:
                config.set(name.lower(), value)  # gunicorn's own checks of each value
            except Exception as exc:  # as gunicorn takes them: its ConfigError too ("No such user: 'x'")
                refuse(f"--{name.replace('_', '-')}: {exc}")
    for setting, problem in REFUSED_SETTINGS.items():
        if getattr(config, setting):
            refuse(problem)
    owner = (config.uid, config.gid)
    return None if owner == (os.geteuid(), os.getegid()) else owner


def check_port(host: str, port: int) -> None:
    """One clear line when the address cannot be listened on, instead of gunicorn's five retries and a log.

    Bound the way gunicorn binds (``SO_REUSEADDR``), so a port in TIME_WAIT still counts as free."""

    try:
        family, _, _, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        with socket.socket(family, socket.SOCK_STREAM) as s:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind(address)
    except socket.gaierror as exc:  # not an address of this machine: the port is not the problem
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (check --host: a name or "
                         "address of this machine, e.g. 127.0.0.1 or 0.0.0.0)") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:  # may be free later (the last run still stopping): exit 75, retried
            raise AddressUnavailable(f"cannot listen on {host}:{port}: {exc.strerror or exc} (another server on that "
                                     "port? choose one with --port)") from None
        raise UsageError(f"cannot listen on {host}:{port}: {exc.strerror or exc} (check --host and --port)") from None
