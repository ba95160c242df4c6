"""The page in a real browser when an upload goes wrong in the browser or on the way to the server: each case gets
its own clear message, and the page stays usable. Skipped, never failed, when chromium or playwright is absent
(like tests/test_browser.py)."""

from __future__ import annotations

import csv
import io

import pytest
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions

from braintumor.web.pages import sentence

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def os_drop(page, paths: list[str], on: str = "#dropzone") -> None:
    """Drop ``paths`` on the drop zone (or the element ``on`` names) as the desktop does (a folder arrives as a File
    the browser cannot read)."""
    box = page.locator(on).first.bounding_box()
    cdp = page.context.new_cdp_session(page)
    data = {"items": [], "files": paths, "dragOperationsMask": 1}
    for kind in ("dragEnter", "dragOver", "drop"):
        cdp.send("Input.dispatchDragEvent", {"type": kind, "x": box["x"] + 20, "y": box["y"] + 20, "data": data})
    cdp.detach()


def sent_with_answers(chromium, server, files: list, answers: list):
    """The page (1024 x 800, with script) after ``files`` were sent, the API's requests answered by ``answers`` in
    turn (route handlers); (page, its console problems, its status line)."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    queue = iter(answers)
    page.route("**/api/v1/predict*", lambda route: next(queue)(route))
    page.set_input_files("#file-input", [str(f) for f in files])
    return page, problems, page.locator("#page-status")


def test_a_dropped_folder_is_not_called_a_lost_connection(server, chromium, test_images, tmp_path):
    """A folder of DICOM files dropped on the page said "could not reach the server; check the connection". In a
    browser that gives the page no folder entries (webkitGetAsEntry; Chromium's walk: test_browser_folders.py) the
    folder is still a File it cannot read."""
    folder = tmp_path / "series"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(test_images["glioma"][0].read_bytes())
    page, problems = open_page(chromium, server, 1024, 800)
    page.add_init_script("delete DataTransferItem.prototype.webkitGetAsEntry")
    page.reload()
    sync_api.expect(page.locator("html")).to_have_class("js")
    os_drop(page, [str(folder)])
    card = page.locator("#results .card").first
    sync_api.expect(card).to_have_attribute("data-state", "error", timeout=20_000)
    status = card.locator(".card-status-text")
    sync_api.expect(status).to_contain_text("could not read the file: a folder")
    assert "server" not in status.inner_text()
    os_drop(page, [str(folder / "a.jpg")])  # the page goes on working
    sync_api.expect(page.locator("#results .card").first).to_have_attribute("data-state", "ok", timeout=20_000)
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def test_a_server_that_is_gone_or_failing_is_not_blamed_on_the_files(server, chromium, test_images):
    """With the connection lost (or a proxy's 502 page) the page's summary said "2 could not be read", as if the
    files were bad, and a person would try other files rather than again. A proxy's HTML 413 said only "the server
    answered HTTP 413"."""
    page, problems, status = sent_with_answers(chromium, server, test_images["glioma"][:3], [
        lambda route: route.abort("connectionrefused"),
        lambda route: route.fulfill(status=502, content_type="text/html", body="<h1>Bad gateway</h1>"),
        lambda route: route.fulfill(status=413, content_type="text/html", body="<h1>Too large</h1>")])
    sync_api.expect(status).to_have_text("Done: 0 classified, 1 unreadable, 2 not analysed, each for the reason on "
                                         "its card (see below).", timeout=20_000)
    sync_api.expect(status).to_have_class("page-status is-error")
    said = sorted(page.locator("#results .card .card-status-text").all_inner_texts())
    limit = page.locator("#upload-form").get_attribute("data-max-mb")
    assert said == ["Could not reach the server; check the connection and try again", "The server answered HTTP 413: "
                    f"the file is too large for the server (a proxy in front of it may take less than {limit} MiB)",
                    "The server answered HTTP 502: a proxy in front of it could not reach it (down or restarting); "
                    "try again later"]
    page.unroute("**/api/v1/predict*")  # the server is back: the same page classifies
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    sync_api.expect(status).to_have_text("Done: 1 classified (see below).", timeout=20_000)
    sync_api.expect(status).to_have_class("page-status")
    assert [p for p in problems if "ERR_CONNECTION_REFUSED" not in p and "status of 502" not in p
            and "status of 413" not in p] == []
    page.close()


def test_a_long_error_message_wraps_at_phone_width(server, chromium, tmp_path):
    """An error naming a zip member by its path (one long word) ran off the card: the page was 1605 px wide at
    375 px, and on a desktop the text ran over the next card."""
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("EXPORT_" * 12 + "/" + "SERIES_0001_AXIAL_T1_POSTCONTRAST_" * 3 + "/head.nii", bytes(400))
    scan = tmp_path / "export.zip"
    scan.write_bytes(buf.getvalue())
    page, problems = open_page(chromium, server, 375, 667)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.set_input_files("#file-input", str(scan))
    card = page.locator("#results .card").first
    sync_api.expect(card).to_have_attribute("data-state", "error", timeout=20_000)
    sync_api.expect(card.locator(".card-status-text")).to_contain_text("SERIES_0001_AXIAL_T1_POSTCONTRAST_")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    assert card.locator(".card-status").evaluate("e => e.scrollWidth <= e.clientWidth")
    assert [p for p in problems if "status of 400" not in p] == []
    page.close()


def test_a_server_that_never_answers_is_given_up_on(server, chromium, test_images):
    """A server that took the upload and never answered left the card at "Analysing…" for good. The page gives up
    after data-answer-timeout-s (120 s; 1 s here), says so, sends no more of that batch (32 files would have waited
    half an hour, two at a time), and the same page classifies the next upload."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    assert page.locator("#upload-form").get_attribute("data-answer-timeout-s") == "120"
    page.locator("#upload-form").evaluate("form => { form.dataset.answerTimeoutS = '1'; }")
    held = []
    page.route("**/api/v1/predict*", lambda route: held.append(route))  # taken, never answered
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    status, card = page.locator("#page-status"), page.locator("#results .card").first
    sync_api.expect(card.locator(".card-status-text")).to_have_text("Analysing…")
    sync_api.expect(status).to_have_text("Done: 0 classified, 1 not analysed: the server stopped answering (see "
                                         "below).", timeout=10_000)
    assert len(held) == 1
    sync_api.expect(card).to_have_attribute("data-state", "error")
    sync_api.expect(card.locator(".card-status-text")).to_have_text(
        "The server did not answer within 1 s (it may be overloaded, or the connection stalled); try again later")
    page.set_input_files("#file-input", [str(p) for p in test_images["glioma"][:3]])  # two at a time: the third
    sync_api.expect(status).to_have_text("Done: 0 classified, 3 not analysed: the server stopped answering (see "
                                         "below).", timeout=10_000)  # waits for neither of them
    assert len(held) == 3
    assert page.locator("#results .card").nth(2).locator(".card-status-text").inner_text() == (
        "Not sent: the server did not answer an earlier file of this batch; try again later")
    page.unroute("**/api/v1/predict*")
    page.set_input_files("#file-input", str(test_images["glioma"][0]))
    sync_api.expect(status).to_have_text("Done: 1 classified (see below).", timeout=20_000)
    assert problems == []
    page.close()


def test_a_file_deleted_after_it_was_chosen_is_not_blamed_on_the_server(server, chromium, tmp_path):
    """A file chosen, then moved or deleted before the page sent it, said "could not reach the server; check the
    connection", and was counted with the server's failures: Chromium gives such a File a size of 0, so the page's
    one-byte read of it succeeded."""
    gone = tmp_path / "moved.jpg"
    gone.write_bytes(b"\xff\xd8\xff" + bytes(5000))
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    page.evaluate("""() => { const input = document.createElement("input");
        input.type = "file"; input.id = "elsewhere"; document.body.append(input); }""")
    page.set_input_files("#elsewhere", str(gone))  # chosen in another input: the page does not send it yet
    gone.unlink()
    page.evaluate("""() => { const dt = new DataTransfer(); dt.items.add(document.getElementById("elsewhere").files[0]);
        document.getElementById("dropzone").dispatchEvent(
            new DragEvent("drop", {dataTransfer: dt, bubbles: true, cancelable: true})); }""")
    status = page.locator("#page-status")
    sync_api.expect(status).to_have_text("Done: 0 classified, 1 unreadable (see below).", timeout=20_000)
    said = page.locator("#results .card .card-status-text").inner_text()
    assert "moved or deleted since it was chosen" in said and "server" not in said
    assert [p for p in problems if "net::ERR_" not in p] == []
    page.close()


def test_a_busy_server_or_a_slow_upload_is_not_counted_as_unreadable_files(server, chromium, test_images):
    """A proxy's 429 (too many requests) and the server's own 408 (the upload arrived too slowly: a slow network)
    were counted "unreadable", as if the files were bad, and the Done line was not marked as an error; a 429 or 503
    without a message said only "the server answered HTTP 429". They are the server's or the connection's, as a 502
    is: counted with them, and said in words, with the wait a Retry-After asks for."""
    from braintumor.web.client_input import SlowUpload

    page, problems, status = sent_with_answers(chromium, server, test_images["glioma"][:3], [
        lambda route: route.fulfill(status=429, content_type="text/html", body="<h1>429</h1>",
                                    headers={"Retry-After": "30"}),
        lambda route: route.fulfill(status=503, content_type="text/html", body="<h1>503</h1>"),
        lambda route: route.fulfill(status=408, json={"error": SlowUpload(60).description})])
    sync_api.expect(status).to_have_text("Done: 0 classified, 3 not analysed, each for the reason on its card (see "
                                         "below).", timeout=20_000)
    sync_api.expect(status).to_have_class("page-status is-error")
    said = page.locator("#results .card .card-status-text").all_inner_texts()
    assert said == ["The server answered HTTP 429: it is turning requests away for now (too many at once); try "
                    "again in 30 s",
                    "The server answered HTTP 503: it is unavailable for now (overloaded, starting or being "
                    "updated); try again later",
                    sentence(SlowUpload(60).description)]
    assert [p for p in problems if "status of 4" not in p and "status of 503" not in p] == []
    page.close()


def test_a_proxys_sign_in_page_is_not_counted_as_unreadable_files(server, chromium, test_images):
    """Behind a signing-in proxy (docs/DEPLOY.md: the proxy does the authentication) whose session has ended, the API's
    request gets a 401, or is redirected to a sign-in page answered 200: the cards said "the server answered HTTP
    401" and "the server answered HTTP 200", counted as unreadable files. Neither is the file's: not analysed, with
    what to do, which the Done line says too (it said "the server failed or could not be reached")."""
    page, problems, status = sent_with_answers(chromium, server, test_images["glioma"][:2], [
        lambda route: route.fulfill(status=401, content_type="text/html", body="<h1>Sign in</h1>"),
        lambda route: route.fulfill(status=200, content_type="text/html", body="<form>Sign in</form>")])
    sync_api.expect(status).to_have_text("Done: 0 classified, 2 not analysed: the server may ask to sign in; "
                                         "reload the page (see below).", timeout=20_000)
    said = page.locator("#results .card .card-status-text").all_inner_texts()
    assert said == ["The server answered HTTP 401: it asks to sign in (a session may have ended); reload the page, "
                    "sign in if asked, and try again",
                    "The server's answer was not the classifier's (a proxy's sign-in or error page?); reload the "
                    "page, sign in if asked, and try again"]
    assert [p for p in problems if "status of 401" not in p] == []
    page.close()


def test_the_done_line_says_why_files_were_not_analysed_as_their_cards_do(server, chromium, test_images):
    """A proxy's 429 for every file: the cards said the server was turning requests away for now, the Done line that
    "the server failed or could not be reached", which it had not. It says the reason the files share, and where
    they do not, that each card gives its own."""
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    busy = {"status": 429, "content_type": "text/html", "body": "<h1>429</h1>"}
    page.route("**/api/v1/predict*", lambda route: route.fulfill(**busy))
    page.set_input_files("#file-input", [str(p) for p in test_images["glioma"][:2]])
    status = page.locator("#page-status")
    sync_api.expect(status).to_have_text("Done: 0 classified, 2 not analysed: the server is turning requests away for "
                                         "now (see below).", timeout=20_000)
    sync_api.expect(status).to_have_class("page-status is-error")
    assert page.locator("#results .card .card-status-text").all_inner_texts() == [
        "The server answered HTTP 429: it is turning requests away for now (too many at once); try again later"] * 2
    assert [p for p in problems if "status of 429" not in p] == []
    page.close()


def test_a_403_is_said_as_refused_not_as_signed_out_with_the_servers_own_message(server, chromium, test_images):
    """A 403 (the cross-site check's, web/origins.py, with its JSON message; or a proxy's page) was put as "the
    server may ask to sign in; reload the page" on the Done line: it refused the upload, and says why where it can.
    A 401 still asks to sign in."""
    from braintumor.web.origins import BY_ORIGIN

    refused = {"status": 403, "content_type": "application/json", "json": {"error": BY_ORIGIN}}
    page, problems, status = sent_with_answers(chromium, server, test_images["glioma"][:2],
                                               [lambda route: route.fulfill(**refused)] * 2)
    sync_api.expect(status).to_have_text(f"Done: 0 classified, 2 not analysed: {BY_ORIGIN} (see below).",
                                         timeout=20_000)
    assert page.locator("#results .card .card-status-text").all_inner_texts() == [sentence(BY_ORIGIN)] * 2
    page.close()
    page, problems, status = sent_with_answers(chromium, server, test_images["glioma"][:2], [
        lambda route: route.fulfill(status=403, content_type="text/html", body="<h1>Forbidden</h1>"),
        lambda route: route.fulfill(status=401, content_type="text/html", body="<h1>Sign in</h1>")])
    sync_api.expect(status).to_have_text("Done: 0 classified, 2 not analysed, each for the reason on its card "
                                         "(see below).", timeout=20_000)
    said = page.locator("#results .card .card-status-text").all_inner_texts()
    assert said[0] == ("The server answered HTTP 403: it refused this upload (forbidden, not for want of signing "
                       "in); ask its operator if it goes on")
    assert said[1].startswith("The server answered HTTP 401: it asks to sign in")
    assert [p for p in problems if "status of 40" not in p] == []
    page.close()
    page, problems, status = sent_with_answers(chromium, server, test_images["glioma"][:1], [
        lambda route: route.fulfill(status=403, content_type="text/html", body="<h1>Forbidden</h1>")])
    sync_api.expect(status).to_have_text("Done: 0 classified, 1 not analysed: the server refused the upload as "
                                         "forbidden (see below).", timeout=20_000)
    page.close()


def test_a_proxys_server_error_page_says_what_to_do(server, chromium, test_images):
    """A proxy's 502, 504 or 500 page (no message of the API's) left the card at "The server answered HTTP 504": a
    number a clinician can do nothing with, not even told it was not the file's fault or to try again."""
    page, problems, status = sent_with_answers(chromium, server, test_images["glioma"][:3], [
        lambda route, code=code: route.fulfill(status=code, content_type="text/html", body=f"<h1>{code}</h1>")
        for code in (502, 504, 500)])
    sync_api.expect(status).to_contain_text("3 not analysed: the server failed", timeout=20_000)
    said = page.locator("#results .card .card-status-text").all_inner_texts()
    assert sorted(said) == sorted([  # which request got which answer: the order they reached the route
        "The server answered HTTP 502: a proxy in front of it could not reach it (down or restarting); try again later",
        "The server answered HTTP 504: a proxy in front of it stopped waiting for its answer (a slow analysis or a "
        "busy server); try again later",
        "The server answered HTTP 500: a server error, not this file's; try again later, and tell its operator if it "
        "goes on"])
    # the CSV keeps the clause as every other error's (the CLI's), "the server answered HTTP 502: ...": only the
    # card's sentence is capitalised, where the CSV had "The server ..." for these alone
    with page.expect_download() as download:
        page.click("#download-csv")
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text())))
    assert sorted(r["error"].split(":")[0] for r in rows) == [f"the server answered HTTP {c}" for c in (500, 502, 504)]
    assert [p for p in problems if "status of 5" not in p] == []
    page.close()
