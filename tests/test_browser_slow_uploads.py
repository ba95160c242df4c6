"""A file sent over a slow link, in a real browser (headless chromium via Playwright, as tests/conftest.py gives it),
its upload throttled by Chromium's network emulation. Skipped, never failed, when chromium or playwright is absent."""

from __future__ import annotations

import itertools
import re
import urllib.request

import pytest
from PIL import Image
from serve_process import running_serve
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions

from braintumor.image_io import read_image

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def _big_slice(test_images: dict, tmp_path) -> str:
    """A real slice, uncompressed, 1 MB: 7 s to send at 150 kB/s."""
    big = tmp_path / "slice.bmp"
    Image.fromarray(read_image(test_images["glioma"][0])).resize((1024, 1024)).save(big)
    return str(big)


def _throttled(page):
    """The page's uploads limited to 150 kB/s by Chromium's network emulation; the session, to detach."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 0, "downloadThroughput": -1,
                                                   "uploadThroughput": 150_000})
    return cdp


def test_an_upload_still_arriving_is_not_given_up_on(server, chromium, test_images, tmp_path):
    """The page gave each file data-answer-timeout-s (120 s) plus a second per MB to be sent and answered, counted
    from the start: a scan sent over a link slower than 8 Mbit/s, to a server behind a proxy that takes the whole body
    with no time limit of its own (DEPLOY.md's nginx), was given up on while it was still being sent, its upload cut
    off, and its card said that the server did not answer. The limit now counts from the end of the upload, and while
    the upload goes on, from its last progress. Here: 2 s, for an upload of 1 MB at 150 kB/s (7 s)."""
    big = _big_slice(test_images, tmp_path)
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.locator("#upload-form").evaluate("form => { form.dataset.answerTimeoutS = '2'; }")
    cdp = _throttled(page)
    page.set_input_files("#file-input", big)
    status = page.locator("#page-status")
    sync_api.expect(status).to_have_text("Done: 1 classified (see below).", timeout=60_000)
    sync_api.expect(page.locator("#results .card").first).to_have_attribute("data-state", "ok")
    cdp.detach()
    assert problems == []
    page.close()


def test_a_card_says_its_file_is_being_sent_while_it_is(server, chromium, test_images, tmp_path):
    """A card said "Analysing…" from the moment its file was given, as if the server had it, while a large scan was
    still being sent over a slow link for minutes. An upload still going on after a second says "Sending…" and how
    much has gone (that share hidden from screen readers, whose live region says "Sending…" once), then
    "Analysing…" once the server has it all."""
    big = _big_slice(test_images, tmp_path)
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    cdp = _throttled(page)
    page.set_input_files("#file-input", big)
    card = page.locator("#results .card").first
    said = card.locator(".card-status-text")
    sync_api.expect(said).to_have_text(re.compile(r"^Sending… \d{1,2}%$"), timeout=10_000)
    assert card.locator(".card-sent").get_attribute("aria-hidden") == "true"
    assert card.locator("[role=status]").evaluate(
        "s => Array.from(s.querySelectorAll('span:not([aria-hidden])')).map(e => e.firstChild.nodeValue).join('')"
    ) == "slice.bmp: Sending…"
    sync_api.expect(page.locator("#page-status")).to_have_text("Done: 1 classified (see below).", timeout=60_000)
    sync_api.expect(card).to_have_attribute("data-state", "ok")
    cdp.detach()
    assert problems == []
    page.close()


def test_the_status_line_says_files_are_being_sent_while_they_are(server, chromium, test_images, tmp_path):
    """The page's status line said "Analysing 2 images…" from the moment the files were given, while a card said
    "Sending… 40%" over a slow link. While a file is still being sent after a second (as its card says), the line
    says "Sending", with how many of the files the page sends are sent, then "Analysing…" once all are, then the
    Done line. It is a live region: said afresh as a file is sent, never at each step of an upload (the share sent
    is on the card alone)."""
    small, big = tmp_path / "small.png", _big_slice(test_images, tmp_path)
    Image.fromarray(read_image(test_images["glioma"][1])).resize((128, 128)).save(small)  # a few kB: sent at once
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.evaluate("""() => { const set = Object.getOwnPropertyDescriptor(Node.prototype, "textContent").set;
        window.said = []; const el = document.getElementById("page-status");
        Object.defineProperty(el, "textContent", { set(v) { window.said.push(v); set.call(this, v); } });
        el.replaceChildren = function (...nodes) {  // the Done line, its buttons in it (run-status.js link)
            window.said.push(nodes.map(n => typeof n === "string" ? n : n.textContent).join(""));
            Element.prototype.replaceChildren.apply(this, nodes); }; }""")
    cdp = _throttled(page)
    page.set_input_files("#file-input", [str(small), big])
    status = page.locator("#page-status")
    sync_api.expect(status).to_have_text("Sending 2 files: 1 sent…", timeout=10_000)
    assert status.get_attribute("role") == "status"
    big_card = page.locator("#results .card").nth(1)
    sync_api.expect(big_card.locator(".card-status-text")).to_have_text(re.compile(r"^Sending… \d{1,2}%$"))
    sync_api.expect(status).to_have_text("Done: 2 classified (see below).", timeout=60_000)
    said = page.evaluate("window.said")
    # on a loaded machine the small file may still be sending when the big one passes its first second: the line
    # may then say "Sending 2 files…" before "…: 1 sent…"; each change is written once, never the same words twice
    assert said[0] == "Analysing 2 images…" and said[-2:] == ["Analysing 2 images…", "Done: 2 classified (see below)."]
    assert set(said[1:-2]) <= {"Sending 2 files…", "Sending 2 files: 1 sent…"}, said
    assert said[-3] == "Sending 2 files: 1 sent…", said
    assert all(a != b for a, b in itertools.pairwise(said)), said
    cdp.detach()
    assert problems == []
    page.close()


@pytest.mark.parametrize(("threads", "keep_alive", "attempts"), [("4", "30", range(2, 16)), ("1", "2", range(1, 2))],
                         ids=["kept-alive", "sync-workers"])
def test_a_408_on_a_kept_alive_connection_is_sent_again_by_chromium_and_answered_each_time(
        chromium, test_images, tmp_path, monkeypatch, threads, keep_alive, attempts):
    """What docs/DEPLOY.md (Timeouts) says of an upload answered 408. Chromium sends a request again when its answer is
    a 408 on a connection that served one before (an idle connection's close, to it), ``Connection: close`` or not,
    and again while it has such connections: an upload too slow for ``--request-timeout`` over the page's kept-alive
    connections (30 s here) was sent up to 7 times (the bound here is looser: the count follows how many connections
    the page holds). Each attempt is answered 408 and counted as one, none is classified, and the page shows the
    file's answer once. Sync workers (``--threads 1``) close each connection after
    its answer: the upload goes on a new one, and is sent once."""
    monkeypatch.setenv("GUNICORN_CMD_ARGS", f"--keep-alive {keep_alive}")
    big = _big_slice(test_images, tmp_path)
    with running_serve(tmp_path, "--workers", "1", "--threads", threads, "--request-timeout", "1") as server:
        page, _ = open_page(chromium, server.base, 1024, 800)  # the console's "status of 408" is expected
        sync_api.expect(page.locator("html")).to_have_class("js")
        cdp = _throttled(page)
        page.set_input_files("#file-input", big)
        sync_api.expect(page.locator("#page-status")).to_have_text(
            "Done: 0 classified, 1 not analysed: the upload was too slow (see below).", timeout=60_000)
        card = page.locator("#results .card")
        assert card.count() == 1 and card.get_attribute("data-state") == "error"
        assert card.locator(".card-status-text").inner_text().startswith("The upload took longer than 1 s to arrive")
        cdp.detach()
        page.close()
        metrics = urllib.request.urlopen(f"{server.base}/metrics", timeout=10).read().decode()
    posts = [line for line in server.output().splitlines() if '"POST /api/v1/predict ' in line]
    assert len(posts) in attempts and all('HTTP/1.1" 408 ' in line for line in posts), posts
    counted = re.search(r'braintumor_http_requests_total\{endpoint="api.predict",status="408"\} (\S+)', metrics)
    assert counted and float(counted.group(1)) == len(posts), metrics
    assert not re.search(r"^braintumor_predictions_total\{.*\} [1-9]", metrics, re.M), metrics
