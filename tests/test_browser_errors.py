"""The page in a real browser when an upload goes wrong in the browser or on the way to the server: each case gets
its own clear message, and the page stays usable. Skipped, never failed, when chromium or playwright is absent
(like tests/test_browser.py)."""

from __future__ import annotations

import pytest
from test_browser import (  # noqa: F401 - pytestmark: the same skip conditions
    ARGS,
    CHROMIUM,
    open_page,
    pytestmark,
    serve_in_thread,
    shipped_or_tiny_app,
)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


@pytest.fixture(scope="module")
def server(request):
    with serve_in_thread(shipped_or_tiny_app(request)) as url:
        yield url


@pytest.fixture(scope="module")
def chromium():
    with sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def os_drop(page, paths: list[str]) -> None:
    """Drop ``paths`` on the drop zone as the desktop does (a folder arrives as a File the browser cannot read)."""
    box = page.locator("#dropzone").bounding_box()
    cdp = page.context.new_cdp_session(page)
    data = {"items": [], "files": paths, "dragOperationsMask": 1}
    for kind in ("dragEnter", "dragOver", "drop"):
        cdp.send("Input.dispatchDragEvent", {"type": kind, "x": box["x"] + 20, "y": box["y"] + 20, "data": data})
    cdp.detach()


def test_a_dropped_folder_is_not_called_a_lost_connection(server, chromium, test_images, tmp_path):
    """A folder of DICOM files dropped on the page said "could not reach the server; check the connection"."""
    folder = tmp_path / "series"
    folder.mkdir()
    (folder / "a.jpg").write_bytes(test_images["glioma"][0].read_bytes())
    page, problems = open_page(chromium, server, 1024, 800)
    sync_api.expect(page.locator("html")).to_have_class("js")
    os_drop(page, [str(folder)])
    card = page.locator("#results .card").first
    sync_api.expect(card).to_have_attribute("data-state", "error", timeout=20_000)
    status = card.locator(".card-status")
    sync_api.expect(status).to_contain_text("could not read the file: a folder")
    assert "server" not in status.inner_text()
    os_drop(page, [str(folder / "a.jpg")])  # the page goes on working
    sync_api.expect(page.locator("#results .card").first).to_have_attribute("data-state", "ok", timeout=20_000)
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()
