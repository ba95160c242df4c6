"""Uploads from this server's own page and from programs, not from a page of another site (cross-site request forgery).

Any page a user visits can make their browser send a POST to any server it names, their own ``braintumor serve`` on
127.0.0.1 included: it cannot read the answer (no CORS headers), but the upload is made (a scan bomb, skewed metrics).
Browsers say where such a request comes from; programs (curl, requests) say nothing, and are answered as before:

- ``Sec-Fetch-Site``, which every current browser sends to https and loopback servers: ``same-origin`` (the page's own
  form and fetch) and ``none`` (the user's own doing) pass; ``cross-site`` and ``same-site`` (another port of
  ``localhost``, a sibling subdomain) are other origins, refused.
- Without it (a plain-http server reached by another name or address, a browser from before 2023), ``Origin``: its
  host and port must be the request's ``Host`` (:func:`same_origin`: the default port of the Origin's scheme, written
  or not, is the same). ``null`` (a sandboxed or local page, or a form of a page whose
  Referrer-Policy is ``no-referrer``, which is why the app's is ``same-origin``) is refused. Not where the Host is a
  loopback address: that is what a reverse proxy on this machine sends (nginx's default, DEPLOY.md), which no page's
  Origin names, so its plain-http pages' own uploads were refused; and a browser reaching this machine's loopback
  sends ``Sec-Fetch-Site`` (one from before 2020-2023 does not, and is not checked there).

Go's ``net/http.CrossOriginProtection`` (Go 1.25) decides the same way, but for the loopback Host. Another site whose
pages post here (a hospital portal) goes in ``$BRAINTUMOR_TRUSTED_ORIGINS`` (``*``: any page, the check off).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from flask import Flask, request
from werkzeug.exceptions import Forbidden

from ..host_names import ANY_HOST, DEFAULT_PORTS, TRUSTED_ORIGINS_ENV, host_name, origin
from .hosts import loopback_host, split_host

#: Methods that change nothing, and so are answered whoever asks: anything else (POST, PUT, a made-up one) is checked.
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: ``Sec-Fetch-Site`` values of a request this server's own page (or its user) made.
OWN_SITE = frozenset({"same-origin", "none"})


def cross_site_refused(sent_by: str) -> str:
    """A refusal's message: what showed the request came from another site, and what to do instead."""
    return (f"this request was refused: {sent_by}. A page of another site may not send this server uploads; open the "
            f"server's own page to send files, or send them from a program (which sends no Origin header). Its "
            f"operator can let that site's pages send them with ${TRUSTED_ORIGINS_ENV}")


#: ``Sec-Fetch-Site`` names another site: a browser's own word.
BY_FETCH_SITE = cross_site_refused("the browser says a page of another site, or of another port or subdomain of "
                                   "this one, sent it (Sec-Fetch-Site)")
#: ``Origin`` is not the request's Host: a browser without Sec-Fetch-Site, or a proxy that sends its own Host.
BY_ORIGIN = cross_site_refused("its Origin header names another site than the Host it was sent to")


class CrossSiteRequest(Forbidden):
    """A request with an unsafe method that a page of another site sent (403), refused before its body is parsed."""

    description = BY_FETCH_SITE


def cross_site(headers: Mapping[str, str], method: str, host: str, trusted: Collection[str] = ()) -> str | None:
    """Why a request is refused as another site's (:data:`BY_FETCH_SITE`, :data:`BY_ORIGIN`), or None: a safe method,
    this server's own page, a program, or a page of an origin in ``trusted`` (as :func:`~braintumor.host_names.origin`
    writes them)."""
    if method in SAFE_METHODS:
        return None
    site, sent = headers.get("Sec-Fetch-Site"), headers.get("Origin")
    if site is None:
        if sent is None or same_origin(sent, host) or loopback_host(host):
            return None  # (a loopback Host: a proxy's own, no page's Origin; browsers send Sec-Fetch-Site there)
        refusal = BY_ORIGIN
    elif site.strip().lower() in OWN_SITE:
        return None
    else:
        refusal = BY_FETCH_SITE
    return None if sent is not None and _origin_of(sent) in trusted else refusal


def _origin_of(sent: str) -> str:
    """An Origin header as :func:`~braintumor.host_names.origin` writes it (``https://name:443`` is
    ``https://name``); empty where it is none (``null``, no URL at all, ``*``): no traceback, no match."""
    try:
        written = origin(sent)
    except ValueError:
        return ""
    return "" if written == ANY_HOST else written


def same_origin(sent: str, host: str) -> bool:
    """Whether an Origin header names the host and port a request was sent to (its Host header), each port compared
    as the Origin's scheme has it: Host carries no scheme, so ``name:443`` is ``https://name`` but not ``http://name``
    (port 80 there: another origin), and a Host without port (or ``name:``) is the default port of the Origin's
    scheme, either's, as before. Names in lower case and without a final dot (as web/hosts.py answers them), IPv6
    addresses however they are written."""
    scheme, _, written = _origin_of(sent).partition("://")
    name, port = split_host(host)
    try:
        name = host_name(name)
    except ValueError:  # a Host that is no name: no match
        return False
    shown = f":{port}" if port is not None and port != DEFAULT_PORTS.get(scheme) else ""
    return bool(written) and written == name + shown


def refuse_cross_site(app: Flask, trusted: Collection[str] = ()) -> None:
    """Answer 403 (:class:`CrossSiteRequest`) to a request :func:`cross_site` refuses, before its route reads its body;
    ``trusted``: origins whose pages may post as the server's own does (``*``: every page, no check)."""
    allowed = frozenset(origin(value) for value in ([trusted] if isinstance(trusted, str) else trusted))
    if ANY_HOST in allowed:
        return

    @app.before_request
    def _check_site() -> None:
        # the Host header as sent: request.host drops the port of the request's own scheme (':80' over plain http),
        # so 'name:80' would pass for an https Origin's
        refusal = cross_site(request.headers, request.method, request.headers.get("Host") or request.host, allowed)
        if refusal is not None:
            raise CrossSiteRequest(description=refusal)
