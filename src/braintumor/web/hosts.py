"""The host names a server answers to (``serve --allowed-host``), against DNS rebinding.

A page on another site can point its own name at 127.0.0.1 (DNS rebinding) and then read, as same-origin, whatever a
server on the user's machine answers under that name: the monitoring aggregates (/api/v1/stats, /metrics, the
dashboard's data) included. The browser still sends the page's name as the Host header, so a server on a loopback
address answers only loopback names (:data:`LOOPBACK_NAMES`, any port) and those ``--allowed-host`` adds. On any
other address (0.0.0.0 in a container, a LAN address) the names clients use are not known here: every Host is answered
unless ``--allowed-host`` (or ``$BRAINTUMOR_ALLOWED_HOSTS``, which the Docker image sets) is given, which then limits
them to the loopback names and its own. A request line in
absolute form (``GET http://name/path``) names a host too, which Werkzeug's server takes over the Host header and
gunicorn's and waitress's leave aside: both must be answered names (:func:`names_sent`).

A Host that is an IP address (``10.0.0.5:8000``, ``[::2]``) is always answered: rebinding needs a name (a browser
sends the page's own Host, so an address there is a page of this server's, not another site's), and the addresses a
server is reached by are often not known in advance (a container's, new at each start: Prometheus scrapes each Compose
replica by its address; a Kubernetes probe asks the pod's).

Not Flask's ``TRUSTED_HOSTS``: Werkzeug cuts a Host at its first colon, so ``[::1]`` there trusted ``[::2]`` too (every
address that starts ``[::``), and its refusal left no URL adapter, so the error page's links raised (a 500, not a 400).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Collection, Sequence

from flask import Flask, request
from werkzeug.exceptions import BadRequest

from ..host_names import ALLOWED_HOSTS_ENV, ANY_HOST, LOOPBACK_NAMES, host_name, listen_address
from ..wording import counted, listed

#: A Host header: a name or IPv4 address, or an IPv6 address in brackets, then perhaps a port.
_HOST_HEADER = re.compile(r"(\[[0-9a-f:.]+\]|[^:\[\]]*)(:[0-9]*)?", re.ASCII)
#: An absolute-form request target (``GET http://name:port/path HTTP/1.1``, as sent to a proxy), its authority captured.
_ABSOLUTE_TARGET = re.compile(r"[a-z][a-z0-9+.-]*://([^/?#]*)", re.ASCII | re.IGNORECASE)
#: Where the servers keep the request target as sent: gunicorn and Werkzeug in RAW_URI, waitress in REQUEST_URI.
_TARGET_KEYS = ("RAW_URI", "REQUEST_URI")
#: The Host header as sent, where the server put an absolute-form target's authority in HTTP_HOST instead (Werkzeug,
#: as RFC 9112 has it; web/dev_server.py keeps the header here). gunicorn and waitress keep the header there.
HOST_HEADER_KEY = "braintumor.host_header"

#: Werkzeug's BadHost (400): no URL can be built for the host the request names. Werkzeug's server takes it from an
#: absolute-form request line (``GET http://a..b/ HTTP/1.1``) where there is one, the others from the Host header.
BAD_HOST = ("the host in the request's Host header (or its request line) is not a valid host name: a dot-separated "
            "part of it is empty, longer than 63 characters, or not allowed in a name")

#: How many of the names answered a refusal lists before "and N more".
SHOWN_NAMES = 6


def is_loopback(bind: str) -> bool:
    """Whether ``serve --host`` is an address (or ``localhost``) only this machine can reach."""
    if bind.lower().rstrip(".") == "localhost":
        return True
    try:
        address = ipaddress.ip_address(listen_address(bind))  # '[127.0.0.1]' none: was a traceback
    except ValueError:
        return False
    # ::ffff:127.0.0.1 is 127.0.0.1 (IPv4-mapped), which Python's own answer (before 3.13) did not count
    return (getattr(address, "ipv4_mapped", None) or address).is_loopback


def loopback_host(header: str) -> bool:
    """Whether a Host header names this machine's loopback (``127.0.0.1:8000``, ``[::1]``, ``localhost``): what a
    reverse proxy on this machine sends (nginx's default, DEPLOY.md), or a browser of this machine's user."""
    return is_loopback(_name_in(header))


def _is_address(name: str) -> bool:
    """Whether a Host header's name (:func:`_name_in`) is an IP address: IPv4, or IPv6 in brackets, as a URL writes
    them (a bare ``::1`` is no Host; ``127.1`` and ``0x7f.0.0.1``, which browsers rewrite, are not taken for one)."""
    try:
        if name.startswith("[") and name.endswith("]"):
            ipaddress.IPv6Address(name[1:-1])
        else:
            ipaddress.IPv4Address(name)
    except ValueError:
        return False
    return True


def host_refused(answered: Sequence[str]) -> str:
    """A refusal's message: the loopback names this server answers (every address is: ``localhost`` then), so a client
    sent to the wrong one sees the right one. The names ``--allowed-host`` adds are only counted: the client may be a
    rebinding page, and the operator's internal names are none of its business."""
    names = [name for name in answered if not _is_address(name)]
    shown = [name for name in names if is_loopback(name)]
    others = len(names) - len(shown)
    # each part only where there is one: without a loopback name it said "it answers , 1 name its operator gave"
    parts = [listed(shown, SHOWN_NAMES)] if shown else []
    parts += [f"{counted(others, 'name')} its operator gave"] if others else []
    answers = ", ".join(parts) + " and " if parts else ""
    return (f"the request's Host header (or its request line) names a host this server does not answer to: it answers "
            f"{answers}any IP address (more with serve --allowed-host NAME or "
            f"${ALLOWED_HOSTS_ENV}; a page of another site must not reach it by DNS rebinding)")


class HostNotAllowed(BadRequest):
    """A request whose Host is not one the server answers to (400)."""

    description = host_refused(LOOPBACK_NAMES)


def allowed_hosts(bind: str, extra: Sequence[str] = ()) -> list[str] | None:
    """The Host names a server listening on ``bind`` answers to (None: every one), with ``extra`` (--allowed-host)."""
    names = [host_name(name) for name in ([extra] if isinstance(extra, str) else extra)]  # one name, not its letters
    if ANY_HOST in names or not (names or is_loopback(bind)):
        return None
    if is_loopback(bind):
        names.append(host_name(bind))  # 127.0.0.2, say: what a browser on this machine is sent to
    return list(dict.fromkeys([*LOOPBACK_NAMES, *names]))


def described(allowed: Collection[str] | None) -> str:
    """For serve's start line: the names it answers to."""
    return "any Host" if allowed is None else "Host " + ", ".join(n for n in allowed if not _is_address(n)) + \
        " or any IP address"


def _name_in(header: str) -> str:
    """A Host header's name: no port, lower case, no final dot (a header of another shape: itself, never a name)."""
    return split_host(header)[0]


def split_host(header: str) -> tuple[str, int | None]:
    """A Host header's name (as :func:`_name_in` has it) and port, None where it names none (``name`` and ``name:``,
    the scheme's default then) or the header is of another shape."""
    header = header.strip().lower()
    match = _HOST_HEADER.fullmatch(header)
    if not match:
        return header, None
    port = (match.group(2) or ":")[1:]
    return match.group(1).rstrip("."), int(port) if port else None


def names_sent(environ: dict) -> list[str]:
    """Every host a request names, as sent: its Host header, and the authority of an absolute-form request target
    (``GET http://evil.example/ HTTP/1.1``, ``Host: localhost``). Which of them ``request.host`` takes depends on the
    server (Werkzeug the target's, gunicorn and waitress the header), so each must be one the server answers."""
    sent = [environ.get(key) for key in (HOST_HEADER_KEY, "HTTP_HOST")]
    target = next((str(environ[key]) for key in _TARGET_KEYS if environ.get(key)), "")
    absolute = _ABSOLUTE_TARGET.match(target)
    return [name for name in [*sent, absolute and absolute.group(1)] if name is not None]


def refuse_other_hosts(app: Flask, allowed: Collection[str] | None) -> None:
    """Answer 400 (:class:`HostNotAllowed`) to a request that names a host (:func:`names_sent`) not in ``allowed``
    (None: answer every one) nor an IP address, before its route runs (static files included). A request without a
    Host header (HTTP/1.0) and in origin form (``GET /path``) names no other site."""
    if allowed is None:
        return
    answered = list(dict.fromkeys(host_name(name) for name in ([allowed] if isinstance(allowed, str) else allowed)))
    if ANY_HOST in answered:
        return
    names, refusal = frozenset(answered), host_refused(answered)

    @app.before_request
    def _check_host() -> None:
        if any((name := _name_in(sent)) not in names and not _is_address(name) for sent in names_sent(request.environ)):
            raise HostNotAllowed(description=refusal)
