"""Uploads never touch the disk, never reach the logs, and every response carries the security headers."""

from __future__ import annotations

import builtins
import logging
import os
import tempfile
import uuid
from contextlib import contextmanager

import flask
import numpy as np
import pytest
from conftest import encode, synthetic_head

from braintumor.web import CSP, create_app
from braintumor.web.form_parsing import STABLE_BOUNDARY_MAX_BYTES


@pytest.fixture(scope="module")
def app(tiny_classifier):
    return create_app(classifier=tiny_classifier)


def multipart(files: list[tuple[str, bytes]], field: str = "file") -> tuple[bytes, str]:
    """A multipart body built in memory (the test client would spool a big one to a temporary file)."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{field}"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode() + data + b"\r\n"
        for name, data in files
    ]
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


@contextmanager
def no_disk_writes():
    """Record every attempt to create or write a file, through any of the usual doors."""
    calls: list[str] = []
    real_open, real_os_open = builtins.open, os.open
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT

    def guarded_open(file, mode="r", *args, **kwargs):
        if any(c in mode for c in "wax+"):
            calls.append(f"open({file!r}, {mode!r})")
        return real_open(file, mode, *args, **kwargs)

    def guarded_os_open(path, flags, *args, **kwargs):
        if flags & write_flags:
            calls.append(f"os.open({path!r})")
        return real_os_open(path, flags, *args, **kwargs)

    def refuse(name):
        def _refuse(*args, **kwargs):
            calls.append(f"tempfile.{name}")
            raise OSError("no temporary files during a request")
        return _refuse

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(builtins, "open", guarded_open)
        mp.setattr(os, "open", guarded_os_open)
        for name in ("mkstemp", "mkdtemp", "TemporaryFile", "NamedTemporaryFile", "SpooledTemporaryFile"):
            mp.setattr(tempfile, name, refuse(name))
        yield calls


def _big_upload() -> bytes:
    """Well over Werkzeug's 500 KB spooling threshold."""
    img = synthetic_head(900)
    img = np.clip(img.astype(int) + np.random.default_rng(0).integers(0, 40, img.shape), 0, 255).astype(np.uint8)
    data = encode(img, "PNG")
    assert len(data) > 600_000
    return data


@pytest.mark.parametrize("route", ["/api/v1/predict?heatmap=1", "/"])
def test_a_prediction_request_writes_no_file_anywhere(app, route):
    body, ctype = multipart([("big.png", _big_upload()), ("bad.jpg", b"text")])
    client = app.test_client()
    client.get("/")  # templates loaded and cached before the guard (reading is fine anyway)
    with no_disk_writes() as calls:
        r = client.post(route, data=body, content_type=ctype)
    assert r.status_code == 200
    assert calls == []


def test_the_guard_would_catch_werkzeugs_default_spooling(tiny_classifier):
    """Control: with Flask's stock request class the same upload goes to a temporary file."""
    app = create_app(classifier=tiny_classifier)
    app.request_class = flask.Request
    body, ctype = multipart([("big.png", _big_upload())])
    with no_disk_writes() as calls:
        r = app.test_client().post("/api/v1/predict", data=body, content_type=ctype)
    assert "tempfile.TemporaryFile" in calls  # the spooled file rolled over to disk
    assert r.status_code == 500 and "Traceback" not in r.get_data(as_text=True)


def _files_in(folder: str) -> set[str]:
    return {os.path.join(root, name) for root, _, names in os.walk(folder) for name in names}


@pytest.mark.parametrize("kind", ["multipart", "raw"])
def test_a_20_mb_upload_leaves_no_file_in_the_temp_dir(app, kind, tmp_path, monkeypatch):
    """Over STABLE_BOUNDARY_MAX_BYTES (8 MB) a multipart body goes through Werkzeug's own parser, which spools each
    file over 500 KB to a temporary file unless the request class says otherwise; a raw body is read whole. The temp
    dir is this test's own (the machine's /tmp holds other processes' files, coming and going)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    big = encode(synthetic_head(), "PNG") + np.random.default_rng(1).bytes(20 * 1024 * 1024)  # a PNG, then 20 MB
    if kind == "multipart":
        body, ctype = multipart([("big.png", big)])
        assert len(body) > STABLE_BOUNDARY_MAX_BYTES
    else:
        body, ctype = big, "image/png"
    client = app.test_client()
    client.get("/")
    before = _files_in(tempfile.gettempdir())
    with no_disk_writes() as calls:
        r = client.post("/api/v1/predict", data=body, content_type=ctype)
    assert calls == [] and _files_in(tempfile.gettempdir()) - before == set()
    assert r.status_code == 200 and "label" in r.get_json()["results"][0]  # read and classified, all in memory


def test_file_contents_and_names_are_not_logged(app, caplog):
    marker = b"SECRET-PATIENT-NAME-" + uuid.uuid4().hex.encode()
    body, ctype = multipart([("scan-of-jane.jpg", marker), ("ok.png", encode(synthetic_head()))])
    with caplog.at_level(logging.DEBUG):
        app.test_client().post("/api/v1/predict", data=body, content_type=ctype)
    logged = caplog.text
    assert marker.decode() not in logged and "jane" not in logged


@pytest.mark.parametrize("path", ["/", "/api/v1/model", "/healthz", "/api/v1/openapi.json", "/static/app.js",
                                  "/static/app.css", "/nope", "/api/v1/nope"])
def test_security_headers_everywhere(app, path):
    r = app.test_client().get(path)
    assert r.headers["Content-Security-Policy"] == CSP
    assert r.headers["X-Content-Type-Options"] == "nosniff"
    assert r.headers["X-Frame-Options"] == "DENY"
    assert r.headers["Referrer-Policy"] == "same-origin"  # not no-referrer: its forms' Origin was null (origins.py)


def test_csp_forbids_inline_and_foreign_scripts_and_framing():
    directives = dict(d.strip().split(" ", 1) for d in CSP.split(";"))
    assert directives["script-src"] == "'self'" and "unsafe" not in CSP
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert directives["img-src"] == "'self' data:"  # heat maps are data: URIs, nothing else is foreign


def test_responses_with_results_are_not_cached(app):
    body, ctype = multipart([("a.png", encode(synthetic_head()))])
    r = app.test_client().post("/api/v1/predict", data=body, content_type=ctype)
    assert r.headers["Cache-Control"] == "no-store"
    assert "no-store" not in app.test_client().get("/static/app.css").headers.get("Cache-Control", "")


@pytest.mark.parametrize("path", ["/static/nope.js", "/nope", "/api/v1/nope"])
def test_a_404_is_not_cached_under_static_either(app, path):
    """A 404 under /static/ had no Cache-Control (a proxy could keep it for a file deployed since), where every other
    404 says ``no-store``."""
    r = app.test_client().get(path)
    assert r.status_code == 404 and r.headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_handler_and_nothing_external(app):
    html = app.test_client().get("/").get_data(as_text=True)
    import re

    scripts = re.findall(r"<script\b[^>]*>(.*?)</script>", html, flags=re.S)
    assert scripts and all(s.strip() == "" for s in scripts)
    assert not re.search(r"\son[a-z]+\s*=", html) and "style=" not in html
    assert not re.search(r"""(src|href)=["'](https?:)?//""", html)  # no CDN, no external anything


#: Each GET page, by the words docs/WEB.md's "Headers" bullet names it with.
PAGES = {"/": "the empty upload page", "/model": "the model card page", "/dashboard": "the dashboard",
         "/static/app.js": "the static files"}


def test_web_md_headers_bullet_names_every_header_and_each_pages_cache_control(app):
    """docs/WEB.md's Safety list said the CSP, nosniff, X-Frame-Options and Referrer-Policy were on every response,
    leaving out Cross-Origin-Opener-Policy and Permissions-Policy, and that the upload page alone was
    ``private, no-cache``, where /model is sent so too."""
    from conftest import REPO

    from braintumor.web import SECURITY_HEADERS

    text = " ".join((REPO / "docs/WEB.md").read_text().split("## Safety", 1)[1].split())
    bullet = text.split("- **Headers**", 1)[1].split("- **Logs**", 1)[0]
    for name, value in SECURITY_HEADERS.items():
        assert f"`{name}: {value if name != 'Content-Security-Policy' else ''}" in bullet, name
    for path, words in PAGES.items():
        said = next((clause for clause in bullet.split(";") if words in clause), "")
        assert f"`{app.test_client().get(path).headers['Cache-Control']}`" in said, path
