"""What ``braintumor serve`` checks and works out from its settings before it says it serves: gunicorn's settings from
``$GUNICORN_CMD_ARGS``, the Host names of ``$BRAINTUMOR_ALLOWED_HOSTS``, the origins of ``$BRAINTUMOR_TRUSTED_ORIGINS``,
the address it listens on, and the request timeout that fits gunicorn's worker timeout.

Each problem is one line before any worker starts (a usage error, exit status 2, which a supervisor should not retry
unchanged), except what may pass (a port another program holds, an address not the machine's yet at boot, a name the
resolver cannot answer for yet): exit status 75, which a supervisor may retry.
"""

from __future__ import annotations

import errno
import ipaddress
import os
import re
import shlex
import socket
from typing import Any, NoReturn

from .cpu_quota import available_cpus
from .exit_errors import AddressUnavailable, UsageError
from .gunicorn_config import DEFAULT_REQUEST_TIMEOUT
from .gunicorn_config import timeout as GUNICORN_TIMEOUT
from .host_names import ALLOWED_HOSTS_ENV, TRUSTED_ORIGINS_ENV, host_and_port, host_name, origin, typed_url, url_host
from .missing_files import current_folder_gone
from .wording import printable

#: Request threads per gunicorn worker (``--threads``). Four let a worker keep serving while some requests
#: wait on slow clients (uploads straight from browsers, no buffering proxy in front). Behind a buffering
#: proxy one is enough, and ``--threads 1`` then runs gunicorn's sync worker (one request at a time, no
#: keep-alive: see :func:`gunicorn_argv`).
THREADS_PER_WORKER: int = 4
#: Most gunicorn workers serve starts without ``--workers``, however many CPUs: each loads its own model.
MAX_DEFAULT_WORKERS: int = 4


def default_workers() -> int:
    """``--workers`` when not given: one per available CPU (:func:`~.cpu_quota.available_cpus`), at most
    :data:`MAX_DEFAULT_WORKERS`. Here, not in serve.py, so that ``serve --help`` says it without loading the server."""
    return max(1, min(MAX_DEFAULT_WORKERS, available_cpus()))


#: gunicorn settings GUNICORN_CMD_ARGS may not turn on under serve, and why.
REFUSED_SETTINGS: dict[str, str] = {
    # the app, and so the model and its metrics, loaded once in the master (which must never import onnxruntime)
    "preload_app": "--preload: not under serve, whose workers each load the model after the fork (preloaded, /metrics "
                   "counted 1 worker of 2)",
    "daemon": "--daemon: serve runs in the foreground, under systemd, Docker or a terminal (daemonized, it returned "
              "at once, status 0, and the server's logs went to /dev/null)",
}


def gunicorn_cmd_args() -> dict[str, Any]:
    """``$GUNICORN_CMD_ARGS`` read as gunicorn's master will read it, before serve says it is serving: a bad value was
    gunicorn's usage and error after that line ("Error: No closing quotation" for a stray quote, naming no variable).
    One line instead, which names the variable; settings serve sets itself are still overridden by serve's.
    Returns the settings it gives, by gunicorn's names (``timeout``, ``uid``, ...), as gunicorn takes them."""
    text = os.environ.get("GUNICORN_CMD_ARGS")
    if not text:
        return {}
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
    given = {}
    for name, value in vars(parser.parse_args(words)).items():
        if value is not None and name != "args":
            try:
                config.set(name.lower(), value)  # gunicorn's own checks of each value
            except Exception as exc:  # as gunicorn takes them: its ConfigError too ("No such user: 'x'")
                refuse(f"--{name.replace('_', '-')}: {exc}")
            given[name.lower()] = config.settings[name.lower()].get()
    for setting, problem in REFUSED_SETTINGS.items():
        if getattr(config, setting):
            refuse(problem)
    return {**given, "uid": config.uid, "gid": config.gid}


def gunicorn_socket_settings() -> tuple[int, bool]:
    """gunicorn's ``--backlog`` and ``--reuse-port`` (its defaults, or ``$GUNICORN_CMD_ARGS``'s), for the socket serve
    listens on for it: SO_REUSEPORT counts only when set before the bind, which serve makes, not gunicorn."""
    from gunicorn.config import Config

    given, default = gunicorn_cmd_args(), Config()
    return given.get("backlog", default.backlog), bool(given.get("reuse_port", default.reuse_port))


def gunicorn_scheme() -> str:
    """``https`` where ``$GUNICORN_CMD_ARGS`` gives gunicorn a certificate (``--certfile``, ``--keyfile``: gunicorn then
    speaks only TLS, as its ``is_ssl`` has it), else ``http``: serve said "serving ... on http://..." to a server that
    answered a plain request by closing the connection."""
    given = gunicorn_cmd_args()
    return "https" if given.get("certfile") or given.get("keyfile") else "http"


def check_gunicorn_settings() -> tuple[int, int] | None:
    """:func:`gunicorn_cmd_args` checked; the workers' (uid, gid) when it has gunicorn switch users, else None."""
    given = gunicorn_cmd_args()
    owner = (given.get("uid", os.geteuid()), given.get("gid", os.getegid()))
    return None if owner == (os.geteuid(), os.getegid()) else owner


def check_no_port_in_host(host: str) -> None:
    """A usage error, before any lookup, for a ``--host`` that is a URL (:func:`braintumor.host_names.typed_url`), or
    has a port in it or a colon for one (:func:`braintumor.host_names.host_and_port`): each was looked up as a name,
    "Name or service not known"."""
    if (url := typed_url(host)) is not None:
        name, given = url
        fixed = f"--host {printable(name)}" + (f" --port {given}" if given else "") if name else "e.g. --host 127.0.0.1"
        port_too = ", and its port with --port" if given else ""
        raise UsageError(f"--host {printable(host)} is a URL: give its host alone{port_too} ({fixed})")
    if (parts := host_and_port(host)) is None:
        return
    name, port = parts
    shown = printable(host)
    if not port:
        raise UsageError(f"--host {shown} ends with ':' and no port: give the host alone (--host {printable(name)}), "
                         "and a port with --port")
    fixed = f"--host {printable(name)} --port {port}" if name else \
        f"--host 127.0.0.1 --port {port}, or --host 0.0.0.0 --port {port} for every interface"
    raise UsageError(f"--host {shown} has a port in it: give the port with --port ({fixed})")


def check_gunicorn_host(host: str, port: int) -> None:
    """A usage error for an IPv6 ``--host`` with a zone (``fe80::1%eth0``, a link-local address and its interface):
    gunicorn takes it for a host name (its IPv6 test knows no zone), and gave up after "serving" and 5 s of
    "Address family for hostname not supported", exit status 1. The other servers (``--debug``, waitress) take it."""
    try:
        zone = ipaddress.IPv6Address(host).scope_id
    except ValueError:
        return
    if zone:
        raise UsageError(f"cannot listen on {url_host(host)}:{port}: gunicorn takes no zone (%{zone}) in an IPv6 "
                         "address: give this machine's address without it, or --host :: (every interface, "
                         "link-local ones included)")


def check_current_folder() -> None:
    """A usage error where the current folder no longer exists (:func:`~.missing_files.current_folder_gone`): asked
    first, before any other check: a relative ``--model`` is not found there either."""
    if said := current_folder_gone():
        raise UsageError(said)


def leave_a_folder_it_cannot_enter() -> int | None:
    """Change to ``/`` where this user may not enter the current folder, before gunicorn starts: gunicorn changes into
    the folder it was started in first thing, whatever its ``--chdir`` (which it changes into after), and serve itself
    needs no folder. As a user who may not enter it (``sudo -u braintumor`` in an admin's checkout, a home of mode 700),
    serve said "serving ..." and gunicorn stopped with ``Error: [Errno 13] Permission denied``, exit status 1.
    Returns a descriptor of the folder left, for :func:`go_back` should the exec fail (serve() called from Python left
    its caller in ``/``); None where it stayed."""
    if os.access(os.getcwd(), os.X_OK):
        return None
    try:  # O_PATH: needs no right to read it, and fchdir goes back where only a folder above is closed to this user
        back: int | None = os.open(".", getattr(os, "O_PATH", os.O_RDONLY) | os.O_DIRECTORY)
    except OSError:
        back = None
    os.chdir("/")
    return back


def go_back(folder: int | None) -> None:
    """Back into the folder :func:`leave_a_folder_it_cannot_enter` left (its descriptor closed); where that folder
    itself is closed to this user, this process stays in ``/``."""
    if folder is not None:
        try:
            os.fchdir(folder)
        except OSError:
            pass
        finally:
            os.close(folder)


def environment_hosts() -> list[str]:
    """``$BRAINTUMOR_ALLOWED_HOSTS``'s names, each by ``--allowed-host``'s rule (an empty value: unset, as none). A bad
    one is one line that names the variable (exit status 2) before anything starts: the image answered every Host
    and the variable is how an operator narrows it, so a typo must not pass for "every Host" or "none"."""
    names = []
    for item in os.environ.get(ALLOWED_HOSTS_ENV, "").split(","):
        if item.strip():  # "a,,b" and a final comma: nothing between, nothing meant
            try:
                names.append(host_name(item.strip()))
            except ValueError as exc:
                raise UsageError(f"{ALLOWED_HOSTS_ENV}: {exc}; it takes host names separated by commas, e.g. "
                                 "localhost,braintumor.example.org, or * for every one") from None
    return names


def environment_origins() -> list[str]:
    """``$BRAINTUMOR_TRUSTED_ORIGINS``'s origins (web/origins.py), as :func:`environment_hosts` reads its names: a bad
    one is one line that names the variable (exit status 2), not a worker that cannot start."""
    try:
        return [origin(item) for item in os.environ.get(TRUSTED_ORIGINS_ENV, "").split(",") if item.strip()]
    except ValueError as exc:
        raise UsageError(f"{TRUSTED_ORIGINS_ENV}: {exc}; it takes origins separated by commas, e.g. "
                         "https://portal.example.org,http://10.0.0.5:8080, or * for every one") from None


def default_request_timeout(threads: int, timeout: int | None = None) -> float:
    """``--request-timeout`` when not given: :data:`DEFAULT_REQUEST_TIMEOUT`, but with ``--threads 1`` three quarters
    of gunicorn's worker timeout when that is shorter (``timeout``: serve's, else GUNICORN_CMD_ARGS's, else 60). A sync
    worker whose request (headers, body, answer) runs past that timeout is killed, and its client gets gunicorn's bare
    500 page: with both at 60, a body trickling in after headers that took 3 s got it, not the app's 408 in JSON."""
    if threads != 1:  # gthread workers tell the master they are alive while a request runs
        return DEFAULT_REQUEST_TIMEOUT
    worker = timeout if timeout is not None else gunicorn_cmd_args().get("timeout", GUNICORN_TIMEOUT)
    return min(DEFAULT_REQUEST_TIMEOUT, 0.75 * worker) if worker > 0 else DEFAULT_REQUEST_TIMEOUT


#: The resolver's answers that a name does not exist, or has no address (EAI_NONAME, EAI_NODATA): a mistyped --host
#: (``localhots``), a usage error. Exit 75 had systemd retry it every 5 s forever; only a resolver that could not answer
#: (EAI_AGAIN: no DNS server reachable yet at boot) may do better later.
_NO_SUCH_NAME = frozenset({socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)})


def check_port(host: str, port: int) -> None:
    """One clear line when the address cannot be listened on (:func:`listen_socket`), for the servers that bind it
    themselves (waitress, Flask's development server)."""
    listen_socket(host, port).close()


def listen_socket(host: str, port: int, backlog: int | None = None, reuse_port: bool = False) -> socket.socket:
    """The socket to serve on, bound (and listening, when ``backlog`` is given), or one clear line when the address
    cannot be listened on, instead of gunicorn's five retries and a log. serve hands it to gunicorn (``--bind fd://N``,
    inherited through the exec): checked, then bound by gunicorn, the port could be taken by another program in
    between, and gunicorn gave up with exit status 1, not 75. Listening, since another socket with ``SO_REUSEADDR``
    may still bind a port no socket listens on. ``reuse_port``: ``SO_REUSEPORT`` too (GUNICORN_CMD_ARGS's
    ``--reuse-port``), so that another server bound so may listen on the port beside it.

    Bound the way gunicorn binds ``HOST:PORT``: ``SO_REUSEADDR``, so a port in TIME_WAIT still counts as free; a name's
    IPv4 address where it has one (``localhost`` is 127.0.0.1, where the resolver lists ::1 first). What may work later
    (the port held, the address not yet the machine's, a resolver not answering yet: at boot, before DHCP or DNS) is
    :class:`AddressUnavailable` (exit 75, retried); what never will (no address or name at all, a name the resolver
    says does not exist, a port below 1024 without the right) a :class:`UsageError` (exit 2)."""
    where = f"{url_host(host)}:{port}"  # [::1]:5000, not ::1:5000
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        family, _, _, _, address = next((a for a in found if a[0] == socket.AF_INET), found[0])
        s = socket.socket(family, socket.SOCK_STREAM)
        try:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if reuse_port and hasattr(socket, "SO_REUSEPORT"):
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            s.bind(address)
            if backlog is not None:
                s.listen(backlog)
                s.set_inheritable(True)
        except BaseException:
            s.close()
            raise
        return s
    except UnicodeError:  # no name at all (a label over 63 characters, an empty one): was a traceback
        raise UsageError(f"cannot listen on {where}: not a host name (check --host: a name or address of this "
                         "machine, e.g. 127.0.0.1 or 0.0.0.0)") from None
    except socket.gaierror as exc:  # not an address of this machine: the port is not the problem
        said = f"cannot listen on {where}: {exc.strerror or exc}"
        if _is_host_name(host) and exc.errno not in _NO_SUCH_NAME:  # no answer yet (EAI_AGAIN: DNS not up at boot)
            raise AddressUnavailable(f"{said} (a name of this machine? it may resolve once the network is up; check "
                                     "--host)") from None
        raise UsageError(f"{said} (check --host: a name or address of this machine, e.g. 127.0.0.1 or "
                         "0.0.0.0)") from None
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:  # may be free later (the last run still stopping): exit 75, retried
            raise AddressUnavailable(f"cannot listen on {where}: {exc.strerror or exc} (another server on that "
                                     "port? choose one with --port)") from None
        if exc.errno == errno.EADDRNOTAVAIL:  # not this machine's address yet (DHCP not done at boot): retried
            raise AddressUnavailable(f"cannot listen on {where}: {exc.strerror or exc} (not an address of "
                                     "this machine, or not yet: check --host)") from None
        raise UsageError(f"cannot listen on {where}: {exc.strerror or exc} (check --host and --port)") from None


def _is_host_name(host: str) -> bool:
    """Whether ``host`` is written as a DNS name (RFC 1123: labels of letters, digits and hyphens, the last not all
    digits), not a mistyped address (999.1.1.1, an IPv6 address with a stray character) or text with spaces."""
    try:
        labels = host.encode("idna").decode("ascii").removesuffix(".").split(".")
    except UnicodeError:
        return False
    return all(_LABEL.fullmatch(label) for label in labels) and not labels[-1].isdigit()


_LABEL = re.compile(r"[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?", re.ASCII | re.IGNORECASE)
