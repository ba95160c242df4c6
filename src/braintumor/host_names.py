"""The host names a server answers to, as ``serve`` reads them (``--allowed-host``, ``$BRAINTUMOR_ALLOWED_HOSTS``,
``--host``) and the web app checks them (web/hosts.py, against DNS rebinding); and the other sites whose pages may send
it uploads (``$BRAINTUMOR_TRUSTED_ORIGINS``; web/origins.py, against cross-site posts).

Why its own module: ``serve``'s settings and the web app's Host check both need these, and neither may import the other
(the web app imported serve's settings, which imported the web app back inside a function); ``serve --help`` and its
argument checks load no Flask.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import unquote, urlsplit

#: The names of this machine no other site's page can take over: always answered (web/hosts.py).
LOOPBACK_NAMES: tuple[str, ...] = ("localhost", "127.0.0.1", "[::1]")
#: The Host names ``serve`` answers (``--allowed-host``'s, comma-separated) where that option is not given: a
#: container's setting, changed without editing its command (the image's is ``localhost,127.0.0.1``).
ALLOWED_HOSTS_ENV = "BRAINTUMOR_ALLOWED_HOSTS"
#: ``--allowed-host *``: every Host, as a server on a non-loopback address answers by default.
ANY_HOST = "*"
_NAME = re.compile(r"[a-z0-9_-]+(\.[a-z0-9_-]+)*", re.ASCII)
#: The origins (``https://portal.example.org``), comma-separated, whose pages may send this server uploads as its own
#: page does; ``*``: any page (web/origins.py).
TRUSTED_ORIGINS_ENV = "BRAINTUMOR_TRUSTED_ORIGINS"
#: The port an origin leaves out, by scheme: ``https://name:443`` is sent as ``https://name``.
DEFAULT_PORTS = {"http": 80, "https": 443}


def host_name(value: str) -> str:
    """``value`` as the name a Host header carries (lower case, IPv6 in brackets, IDNA), or ValueError saying why."""
    text = value.strip().lower().rstrip(".")
    if text == ANY_HOST:
        return text
    if ":" in text:  # an IPv6 address, or a name with a port
        try:
            return f"[{ipaddress.IPv6Address(text.removeprefix('[').removesuffix(']')).compressed}]"
        except ValueError:
            raise ValueError(f"{value!r} is not a host name or address: give the name alone, without a scheme, path "
                             "or port (every port is answered)") from None
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{value!r} is not a host name") from None
    if not _NAME.fullmatch(text):
        raise ValueError(f"{value!r} is not a host name or address: give the name alone, without a scheme, path or "
                         "port (every port is answered)")
    return text


def listen_address(host: str) -> str:
    """``--host`` as a socket takes it: an IPv6 address in brackets, as a URL writes it (``[::1]``), without them
    (the resolver took ``[::1]`` for a host name, and serve refused it as a mistyped one, exit 2); in brackets, a
    zone's ``%25`` is a URL's escape of ``%`` (RFC 6874: ``[fe80::1%25eth0]`` is ``fe80::1%eth0``, not the zone
    ``25eth0``). Anything else as given, for :func:`braintumor.serve_settings.check_port` to judge."""
    if host.startswith("[") and host.endswith("]"):
        address, escaped, zone = host[1:-1].partition("%25")
        address = f"{address}%{unquote(zone)}" if escaped else address
        try:
            ipaddress.IPv6Address(address)
            return address
        except ValueError:  # '[127.0.0.1]', '[x]': not an address in brackets, refused as given
            pass
    return host


def typed_port(host: str) -> str | None:
    """The port typed into ``--host`` as ``HOST:PORT`` (a name or IPv4 address, or an IPv6 address in brackets, then
    ``:`` and digits), else None: ``localhost:5000`` was looked up as a name, "cannot listen on localhost:5000:18999:
    Name or service not known". A bare IPv6 address (``fe80::1:5000``) is all address: its last group is no port."""
    parts = host_and_port(host)
    return parts[1] if parts is not None and all(parts) else None


def host_and_port(host: str) -> tuple[str, str] | None:
    """``--host`` split at the colon that a port follows, either side possibly empty (``localhost:5000``, ``:5000``
    as Go and Flask write every interface's port, ``localhost:`` or ``[::1]:`` a port left out), else None (no colon,
    or a bare IPv6 address: ``fe80::1:5000``'s last group is no port). ``:5000`` and ``localhost:`` were looked up as
    names: "cannot listen on :5000:18999: Name or service not known"."""
    before, colon, after = host.rpartition(":")
    if not colon or not after.isascii() or not (after.isdigit() or not after):
        return None
    bracketed = before.startswith("[") and before.endswith("]")
    return (before, after) if (before or after) and (bracketed or ":" not in before) else None


def typed_url(host: str) -> tuple[str, str | None] | None:
    """The host and port (or None) of a URL typed into ``--host`` (``http://localhost:5000/``: a scheme, ``://``, then
    the host), else None: it was looked up as a name, "cannot listen on http://localhost:5000:PORT: Name or service
    not known". The host is "" where none can be told from it (``http://``, ``http://name:abc``)."""
    scheme = _SCHEME.match(host.strip())
    if not scheme:
        return None
    netloc = re.split(r"[/?#]", host.strip()[scheme.end():], maxsplit=1)[0].rpartition("@")[2]  # no path, no user
    port = typed_port(netloc)
    name = netloc[: -len(port) - 1] if port else netloc
    return ("" if ":" in name.rpartition("]")[2] else name), port


_SCHEME = re.compile(r"[a-z][a-z0-9+.-]*://", re.ASCII | re.IGNORECASE)


def url_host(address: str) -> str:
    """A :func:`listen_address` as a URL (and gunicorn's ``--bind``) writes it: an IPv6 address in brackets, so that a
    port after it is not read as its last group (``[::1]:5000``); anything else (a name, an IPv4 address, a typo) as
    given."""
    try:
        ipaddress.IPv6Address(address)
    except ValueError:
        return address
    return f"[{address}]"


def server_url(address: str, port: int, path: str = "/", scheme: str = "http") -> str:
    """The URL of a server on :func:`listen_address` ``address``: an IPv6 zone's ``%`` written ``%25`` (RFC 6874:
    ``http://[fe80::1%25eth0]:5000/``): serve printed ``%eth0``, which a URL reads as a broken percent escape. Messages
    that name the address, not a URL, keep :func:`url_host`'s ``[fe80::1%eth0]``. ``scheme``: ``https`` where the
    server speaks TLS (gunicorn given a certificate: :func:`~braintumor.serve_settings.gunicorn_scheme`)."""
    host = url_host(address)
    return f"{scheme}://{host.replace('%', '%25') if host.startswith('[') else host}:{port}{path}"


def origin(value: str) -> str:
    """``value`` as a browser's Origin header writes it (``https://name``, a port only where it is not the scheme's,
    names in lower case and IDNA), ``*`` as it is; or ValueError saying why. ``null`` is no origin: any sandboxed or
    local page sends it."""
    text = value.strip()
    if text == ANY_HOST:
        return text
    parts = urlsplit(text.removesuffix("/"))
    try:
        port = parts.port
        name = host_name(parts.hostname or "")
    except ValueError:
        name = port = None
    if parts.scheme.lower() not in DEFAULT_PORTS or not name or parts.path or parts.query or parts.fragment \
            or parts.username is not None or name == ANY_HOST:
        raise ValueError(f"{value!r} is not an origin: give the scheme and host a page is served from, and its port "
                         "where it is not the scheme's own (https://portal.example.org, http://10.0.0.5:8080), "
                         "without a path")
    shown = f":{port}" if port is not None and port != DEFAULT_PORTS[parts.scheme.lower()] else ""
    return f"{parts.scheme.lower()}://{name}{shown}"
