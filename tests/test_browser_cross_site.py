"""In a real browser (headless chromium via Playwright, as tests/conftest.py gives it): a page of another site cannot
post uploads to the server, and the server's own page still can, with JavaScript and without, on a loopback address
(where chromium sends Sec-Fetch-Site) and under a plain-http name (where it sends only Origin). Skipped, never failed,
when chromium or playwright is absent."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
from conftest import encode, synthetic_head
from flask import Flask
from test_browser import ARGS, CHROMIUM, pytestmark, serve_in_thread, shipped_or_tiny_app  # noqa: F401 - the skips
from werkzeug.serving import make_server

from braintumor.web.origins import BY_FETCH_SITE, BY_ORIGIN
from braintumor.web.pages import sentence

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

#: Names chromium resolves to 127.0.0.1: plain http to them is not a secure context, so it sends no Sec-Fetch-*.
NAMED = "braintumor.test"
OTHER_SITE = "evil.test"
#: The other site's page: a form that posts a file to the server's page, with the Referrer-Policy it chooses.
OTHER_PAGE = """<form method="post" action="{target}/" enctype="multipart/form-data">
<input type="file" name="file" id="f"><button type="submit">go</button></form>"""


@pytest.fixture(scope="module")
def chromium(playwright_driver):
    """chromium with the two test names pointed at this machine (launched from the run's one Playwright)."""
    rules = f"--host-resolver-rules=MAP {NAMED} 127.0.0.1, MAP {OTHER_SITE} 127.0.0.1"
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=[*ARGS, rules], headless=True)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture(scope="module")
def port(request) -> Iterator[int]:
    with serve_in_thread(shipped_or_tiny_app(request)) as url:  # every Host answered, as on 0.0.0.0
        yield int(url.rsplit(":", 1)[1])


@pytest.fixture(scope="module")
def other_site() -> Iterator[str]:
    app = Flask("other_site")

    @app.get("/")
    def page():
        from flask import request

        return OTHER_PAGE.format(target=request.args["target"]), {"Referrer-Policy": request.args["policy"]}

    srv = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    try:
        yield f"http://{OTHER_SITE}:{srv.server_port}"
    finally:
        srv.shutdown()


@pytest.fixture(scope="module")
def scan(tmp_path_factory):
    path = tmp_path_factory.mktemp("scan") / "head.png"
    path.write_bytes(encode(synthetic_head()))
    return str(path)


@pytest.mark.parametrize("host", ["127.0.0.1", NAMED])
@pytest.mark.parametrize("js", [True, False])
def test_the_servers_own_page_still_uploads(chromium, port, scan, host, js):
    """Under a plain-http name the page's plain form sent ``Origin: null`` while its Referrer-Policy was
    ``no-referrer`` (so the fetch spec has it), and null is what another site's sandboxed page sends: refused."""
    context = chromium.new_context(java_script_enabled=js)
    page = context.new_page()
    page.goto(f"http://{host}:{port}/")
    page.set_input_files("#file-input", scan)
    if js:
        sync_api.expect(page.locator("#page-status")).to_contain_text("Done:", timeout=60_000)
    else:
        with page.expect_navigation() as sent:
            page.click("button[type=submit]")
        assert sent.value.status == 200
    sync_api.expect(page.locator("#results .card")).to_have_count(1)
    context.close()


@pytest.mark.parametrize(("host", "said"), [("127.0.0.1", BY_FETCH_SITE), (NAMED, BY_ORIGIN)],
                         ids=["loopback", "plain-http-name"])
@pytest.mark.parametrize("policy", ["no-referrer", "unsafe-url"])
def test_another_sites_page_cannot_post_a_file(chromium, port, other_site, scan, host, said, policy):
    page = chromium.new_page()
    page.goto(f"{other_site}/?target=http://{host}:{port}&policy={policy}")
    page.set_input_files("#f", scan)
    with page.expect_navigation() as sent:
        page.click("button[type=submit]")
    assert sent.value.status == 403
    assert sentence(said) in page.locator(".message, main, body").first.inner_text()  # the page's, capitalised
    page.close()
