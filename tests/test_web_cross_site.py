"""A page of another site cannot make a visitor's browser post uploads to their server (web/origins.py): a POST to
``/`` or ``/api/v1/predict`` with ``Sec-Fetch-Site: cross-site`` was answered 200, so any page could send scan bombs
to ``braintumor serve`` on 127.0.0.1 and skew its /metrics. The page's own form and fetch, programs (no Origin), a
reverse proxy and ``--allowed-host`` names still get through."""

from __future__ import annotations

import io

import pytest
from conftest import encode, synthetic_head

from braintumor.cli import main
from braintumor.host_names import origin
from braintumor.web import create_app
from braintumor.web.hosts import allowed_hosts
from braintumor.web.origins import BY_FETCH_SITE, BY_ORIGIN
from braintumor.web.pages import sentence

EVIL = {"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}
PORTAL = "https://portal.example.org"


@pytest.fixture(scope="module")
def image() -> bytes:
    return encode(synthetic_head())


@pytest.fixture(scope="module")
def client(tiny_classifier):
    return create_app(classifier=tiny_classifier, allowed_hosts=allowed_hosts("127.0.0.1")).test_client()


def post(client, headers: dict[str, str], image: bytes, path: str = "/api/v1/predict", host: str = "127.0.0.1:5000"):
    return client.post(path, data={"file": (io.BytesIO(image), "a.png")}, content_type="multipart/form-data",
                       headers={"Host": host, **headers})


@pytest.mark.parametrize(("headers", "said"), [
    (EVIL, BY_FETCH_SITE),
    ({"Sec-Fetch-Site": "same-site", "Origin": "http://localhost:3000"}, BY_FETCH_SITE),  # another port: same site
    ({"Sec-Fetch-Site": "cross-site", "Origin": "null"}, BY_FETCH_SITE),  # a sandboxed frame's form
    ({"Origin": "https://evil.example"}, BY_ORIGIN),  # a plain-http server by name, or a browser before 2023
    ({"Origin": "null"}, BY_ORIGIN),
    ({"Origin": "http://10.0.0.5:5001"}, BY_ORIGIN),  # another port
    ({"Origin": "http://[::1"}, BY_ORIGIN),  # no URL at all: no traceback
], ids=["cross-site", "same-site", "sandboxed", "origin", "origin-null", "origin-port", "origin-no-url"])
def test_a_post_from_another_sites_page_is_refused_403_before_its_body_is_parsed(client, headers, said):
    """Its body is read to its end and dropped (a client sending it whole then receives the answer), never parsed."""
    for path, json in (("/api/v1/predict", True), ("/", False), ("/api/v1/predict/", True)):
        body = io.BytesIO(b"--x\r\n" * 1000)  # no form: parsed, it would be a 400
        r = client.post(path, input_stream=body, content_type="multipart/form-data; boundary=x",
                        headers={"Host": "10.0.0.5:5000", "Content-Length": "5000", **headers})  # a LAN server's
        assert r.status_code == 403 and body.tell() == 5000, path
        if json:
            assert r.get_json() == {"error": said}
        else:  # the page, the message in it, as every error of the page
            # the page's status line says it as a sentence (pages.sentence)
            assert sentence(said).replace("'", "&#39;") in r.get_data(as_text=True) and r.mimetype == "text/html"


def test_a_refused_body_declared_over_the_upload_limit_is_not_read(tiny_classifier):
    """The body dropped before the 403 is bounded as an upload is: a Content-Length over the limit is not read."""
    client = create_app(classifier=tiny_classifier, max_upload_mb=1).test_client()
    body = io.BytesIO(b"\0" * 4096)
    r = client.post("/api/v1/predict", input_stream=body, content_type="image/png",
                    headers={"Host": "127.0.0.1:5000", **EVIL}, environ_overrides={"CONTENT_LENGTH": "2097152"})
    assert r.status_code == 403 and body.tell() == 0


@pytest.mark.parametrize("headers", [
    {},  # curl, requests: no Origin, no Sec-Fetch-*
    {"Sec-Fetch-Site": "same-origin", "Origin": "http://127.0.0.1:5000"},  # the page's own fetch
    {"Sec-Fetch-Site": "same-origin", "Origin": "null"},  # its no-JS form, as a no-referrer page's form sends it
    {"Sec-Fetch-Site": "none"},  # the user's own doing (nothing of a page)
    {"Origin": "http://127.0.0.1:5000"},  # a browser without Sec-Fetch-Site, on the page's own origin
    {"Origin": "HTTP://127.0.0.1:5000"},
])
def test_the_pages_own_requests_and_programs_are_answered(client, image, headers):
    for path in ("/api/v1/predict", "/"):
        assert post(client, headers, image, path).status_code == 200, (path, headers)


def test_a_safe_method_is_answered_from_any_site(client):
    """Only what sends data is checked: a link or an image of another site's page still loads the page."""
    for method, path in (("get", "/"), ("head", "/healthz"), ("get", "/api/v1/model")):
        assert getattr(client, method)(path, headers=EVIL).status_code == 200, path
    assert client.options("/api/v1/predict", headers=EVIL).status_code == 204
    assert client.put("/api/v1/predict", headers=EVIL).status_code == 403  # not a 405 that reads nothing either


def test_behind_a_reverse_proxy_as_deploy_md_sets_it(tiny_classifier, image):
    """nginx sends its proxy_pass address as Host (127.0.0.1:8000) and the browser its public origin: a current
    browser's Sec-Fetch-Site says same-origin over https; over the proxy's plain http a browser sends none, and its
    Origin cannot match that Host: a loopback Host is not compared (the page's own uploads were refused 403 behind
    DEPLOY.md's nginx over http), while Sec-Fetch-Site, which browsers send to https and to loopback, still decides."""
    public = {"Origin": "https://braintumor.example.org"}
    client = create_app(classifier=tiny_classifier).test_client()
    assert post(client, {"Sec-Fetch-Site": "same-origin", **public}, image, host="127.0.0.1:8000").status_code == 200
    for host in ("127.0.0.1:8000", "[::1]:8000", "localhost:8000"):
        assert post(client, public, image, host=host).status_code == 200, host
    assert post(client, EVIL, image, host="127.0.0.1:8000").get_json() == {"error": BY_FETCH_SITE}
    assert post(client, public, image, host="10.0.0.5:8000").get_json() == {"error": BY_ORIGIN}  # not loopback
    assert post(client, public, image, host="braintumor.example.org").status_code == 200  # proxy_set_header Host
    trusting = create_app(classifier=tiny_classifier, trusted_origins=["https://braintumor.example.org/"]).test_client()
    assert post(trusting, public, image, host="127.0.0.1:8000").status_code == 200
    assert post(trusting, EVIL, image, host="127.0.0.1:8000").status_code == 403


def test_a_proxy_on_another_machine_over_plain_http_as_deploy_md_says(tiny_classifier, image):
    """DEPLOY.md: a proxy that sends the address it connects to (10.0.0.7:8000) over plain http has its pages' uploads
    refused; $http_host (the port kept) with --allowed-host, or the public origin trusted, lets them post; $host,
    which drops a port other than 80, does not."""
    public = {"Origin": "http://braintumor.example.org:8080"}
    named = create_app(classifier=tiny_classifier,
                       allowed_hosts=allowed_hosts("0.0.0.0", ["braintumor.example.org"])).test_client()
    assert post(named, public, image, host="10.0.0.7:8000").get_json() == {"error": BY_ORIGIN}
    assert post(named, public, image, host="braintumor.example.org:8080").status_code == 200  # $http_host
    assert post(named, public, image, host="braintumor.example.org").get_json() == {"error": BY_ORIGIN}  # $host
    trusting = create_app(classifier=tiny_classifier,
                          trusted_origins=["http://braintumor.example.org:8080"]).test_client()
    assert post(trusting, public, image, host="10.0.0.7:8000").status_code == 200
    assert post(trusting, EVIL, image, host="10.0.0.7:8000").status_code == 403


def test_allowed_host_names_post_on_their_own_origin(tiny_classifier, image):
    client = create_app(classifier=tiny_classifier,
                        allowed_hosts=allowed_hosts("127.0.0.1", ["scanner.example"])).test_client()
    own = {"Origin": "http://scanner.example:8080"}
    assert post(client, own, image, host="scanner.example:8080").status_code == 200
    assert post(client, own, image, host="scanner.example:8081").status_code == 403


@pytest.mark.parametrize("site", ["cross-site", "same-site"])
def test_a_trusted_origins_pages_may_post_and_only_they(tiny_classifier, image, site):
    """A hospital portal's page posting to the server: $BRAINTUMOR_TRUSTED_ORIGINS, exactly its origin."""
    client = create_app(classifier=tiny_classifier, trusted_origins=[PORTAL]).test_client()
    for sent, status in ((PORTAL, 200), (PORTAL + ":8443", 403), ("https://portal.example.org.evil.example", 403),
                         ("http://portal.example.org", 403), ("null", 403)):
        assert post(client, {"Sec-Fetch-Site": site, "Origin": sent}, image).status_code == status, sent
    anyone = create_app(classifier=tiny_classifier, trusted_origins=["*"]).test_client()
    assert post(anyone, EVIL, image).status_code == post(anyone, {"Origin": "null"}, image).status_code == 200


def test_refusals_are_counted_as_client_errors(tiny_classifier):
    from prometheus_client.parser import text_string_to_metric_families

    client = create_app(classifier=tiny_classifier).test_client()

    def counts() -> dict[tuple, float]:
        text = client.get("/metrics").get_data(as_text=True)
        return {(s.name, tuple(sorted(s.labels.items()))): s.value
                for family in text_string_to_metric_families(text) for s in family.samples}

    before = counts()
    for path in ("/api/v1/predict", "/"):
        assert client.post(path, headers=EVIL).status_code == 403
    after = counts()
    assert after[("braintumor_errors_total", (("kind", "client_error"),))] == \
        before[("braintumor_errors_total", (("kind", "client_error"),))] + 2
    for endpoint in ("api.predict", "pages.upload"):
        assert after[("braintumor_http_requests_total", (("endpoint", endpoint), ("status", "403")))] == 1


@pytest.mark.parametrize(("value", "expected"), [
    ("https://Portal.Example.org/", PORTAL), ("https://portal.example.org:443", PORTAL),
    ("http://10.0.0.5:8080", "http://10.0.0.5:8080"), ("http://[::1]:5000", "http://[::1]:5000"), ("*", "*")])
def test_an_origin_is_written_as_a_browser_sends_it(value, expected):
    assert origin(value) == expected


def test_braintumor_trusted_origins_reaches_the_app_serve_builds(tiny_model, monkeypatch, capsys, image):
    apps = []
    monkeypatch.setattr("flask.Flask.run", lambda self, **kw: apps.append(self))
    monkeypatch.setenv("BRAINTUMOR_TRUSTED_ORIGINS", f" {PORTAL}/, ,http://10.0.0.5:8080")
    assert main(["serve", "--model", str(tiny_model), "--debug", "--port", "5055"]) == 0
    client = apps[-1].test_client()
    for sent, status in ((PORTAL, 200), ("http://10.0.0.5:8080", 200), ("https://evil.example", 403)):
        assert post(client, {"Sec-Fetch-Site": "cross-site", "Origin": sent}, image).status_code == status, sent


@pytest.mark.parametrize("value", ["portal.example.org", "null", "https://portal.example.org/upload", "ftp://x"])
def test_a_bad_braintumor_trusted_origins_is_one_line_naming_it(tiny_model, monkeypatch, capsys, value):
    monkeypatch.setenv("BRAINTUMOR_TRUSTED_ORIGINS", f"{PORTAL},{value}")
    monkeypatch.setattr("flask.Flask.run", lambda self, **kw: pytest.fail("served"))
    assert main(["serve", "--model", str(tiny_model), "--debug", "--port", "5055"]) == 2
    out, err = capsys.readouterr()
    assert err.startswith(f"error: BRAINTUMOR_TRUSTED_ORIGINS: {value!r} is not an origin: ") and err.count("\n") == 1
    assert "e.g. https://portal.example.org,http://10.0.0.5:8080, or * for every one" in err and "serving" not in out


def test_the_gunicorn_workers_refuse_another_sites_post(tmp_path, monkeypatch, image):
    """The origins reach the workers through gunicorn's app factory: a real server on 127.0.0.1."""
    import json
    import urllib.error
    import urllib.request

    from serve_process import running_serve

    monkeypatch.setenv("BRAINTUMOR_TRUSTED_ORIGINS", PORTAL)
    with running_serve(tmp_path, "--workers", "1") as server:
        def sent(headers: dict[str, str]) -> tuple[int, dict]:
            ask = urllib.request.Request(f"{server.base}/api/v1/predict", data=image, method="POST",
                                         headers={"Content-Type": "image/png", **headers})
            try:
                with urllib.request.urlopen(ask, timeout=30) as r:
                    return r.status, json.load(r)
            except urllib.error.HTTPError as exc:
                return exc.code, json.load(exc)

        assert sent(EVIL) == (403, {"error": BY_FETCH_SITE})
        assert sent({"Sec-Fetch-Site": "cross-site", "Origin": PORTAL})[0] == sent({})[0] == 200
    assert '"POST /api/v1/predict HTTP/1.1" 403 ' in server.output()


def _refused_whole(port: int, size: int = 20 * 1024 * 1024) -> tuple[int, dict]:
    """A program's cross-site POST of ``size`` bytes, sent whole before its answer is read (Python's http.client, as
    ``requests`` does): the status and JSON it receives, or the error it gets instead."""
    import http.client
    import json

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", "/api/v1/predict", body=b"\0" * size, headers={"Content-Type": "image/png", **EVIL})
        answer = conn.getresponse()
        return answer.status, json.loads(answer.read())
    finally:
        conn.close()


def test_a_refused_post_of_many_mb_gets_its_403_not_a_reset(tmp_path, tiny_classifier):
    """gunicorn (``serve``) answered the 403 before the body and then closed the connection, draining at most 64 kB
    of it: a client still sending got a reset (BrokenPipeError) and never the answer. The body is now read and
    dropped first (up to the upload limit, never parsed), as waitress reads every body whole before the app."""
    from serve_process import running_serve, running_waitress

    with running_serve(tmp_path, "--workers", "1") as server:
        assert _refused_whole(server.port) == (403, {"error": BY_FETCH_SITE})
        assert _refused_whole(server.port) == (403, {"error": BY_FETCH_SITE})  # and the worker serves on
    with running_waitress(create_app(classifier=tiny_classifier)) as port:
        assert _refused_whole(port) == (403, {"error": BY_FETCH_SITE})


@pytest.mark.parametrize(("sent", "host", "status"), [
    ("https://braintumor.example.org", "braintumor.example.org:443", 200),  # a TLS proxy that writes the port
    ("http://braintumor.example.org:80", "braintumor.example.org", 200),  # a client that writes it in Origin
    ("http://braintumor.example.org", "braintumor.example.org:80", 200),
    ("https://braintumor.example.org:443", "braintumor.example.org:443", 200),
    ("https://braintumor.example.org", "braintumor.example.org", 200),  # as before: a Host without port, either scheme
    ("http://braintumor.example.org", "braintumor.example.org:443", 403),  # port 443 is not http's: another origin
    ("https://braintumor.example.org", "braintumor.example.org:80", 403),
    ("http://braintumor.example.org:443", "braintumor.example.org", 403),
    ("https://braintumor.example.org:8443", "braintumor.example.org", 403),
    ("https://Braintumor.Example.org.", "braintumor.example.org.:443", 200),  # case and a final dot: one name
    ("http://[fe80::1]:8000", "[FE80:0::1]:8000", 200),  # an IPv6 address, however it is written
    ("http://[fe80::1]", "[fe80::1]:80", 200),
    ("http://[fe80::1]:8000", "[fe80::2]:8000", 403),
    ("http://[fe80::1]:8000", "[fe80::1]:8001", 403),
], ids=lambda v: str(v))
def test_origin_and_host_compare_the_schemes_default_port_as_absent(tiny_classifier, image, sent, host, status):
    """``Host: name:443`` from a TLS proxy and ``Origin: https://name`` from a browser without Sec-Fetch-Site were
    refused 403 (and ``Origin: http://name:80`` against ``Host: name``): the ports compared as written. Host carries
    no scheme, so its port is compared with the Origin's own (written, or its scheme's default)."""
    client = create_app(classifier=tiny_classifier).test_client()
    r = post(client, {"Origin": sent}, image, host=host)
    assert r.status_code == status, r.get_json()


def test_a_trusted_origin_written_with_its_default_port_is_trusted(tiny_classifier, image):
    client = create_app(classifier=tiny_classifier, trusted_origins=[PORTAL]).test_client()
    for sent, status in ((PORTAL + ":443", 200), ("HTTPS://Portal.Example.org", 200), (PORTAL + ":80", 403)):
        assert post(client, {"Sec-Fetch-Site": "cross-site", "Origin": sent}, image).status_code == status, sent


def _pipelined_after_a_refusal(port: int) -> list[bytes]:
    """The statuses answered on one connection to a refused POST whose body is written as requests, then a GET."""
    import socket

    body = b"GET /smuggled HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" * 100  # 4.5 kB, sent whole before any answer
    refused = (b"POST /api/v1/predict HTTP/1.1\r\nHost: 127.0.0.1\r\nSec-Fetch-Site: cross-site\r\n"
               b"Origin: https://evil.example\r\nContent-Type: image/png\r\nContent-Length: %d\r\n\r\n" % len(body))
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        s.sendall(refused + body + b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b"".join(iter(lambda: s.recv(65536), b""))
    return [part.split(b" ", 1)[0] for part in answer.split(b"HTTP/1.1 ")[1:]]


def test_a_refused_posts_unread_body_is_never_read_as_the_next_request(tiny_model, tmp_path):
    """The 403 comes before the body is read, on a connection the client may go on using: gunicorn (``serve``)
    discards the rest of the body before it reads the next request (or closes the connection), Werkzeug's server
    (``serve --debug``) closes it. Neither takes the body's bytes for a request of their own (a 404 here)."""
    from serve_process import running_serve

    with running_serve(tmp_path, "--workers", "1") as server:
        assert _pipelined_after_a_refusal(server.port) in ([b"403", b"200"], [b"403"])
    with running_serve(tmp_path, "--model", str(tiny_model), "--debug") as server:
        assert _pipelined_after_a_refusal(server.port) == [b"403"]  # Connection: close
