"""A page's results reached from the keyboard and by a screen reader: its title, its Done line's links, its heat maps'
names and its folder notes, in a real browser (headless chromium via Playwright, as tests/conftest.py gives it).
Skipped, never failed, when chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import pytest
from test_browser import open_page, pytestmark, sent_page  # noqa: F401 - pytestmark: the same skip conditions

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


@pytest.fixture(scope="module")
def two(test_images) -> list[dict]:
    """Two real slices."""
    return [{"name": f"slice-{i}.jpg", "mimeType": "image/jpeg", "buffer": test_images["glioma"][i].read_bytes()}
            for i in range(2)]


@pytest.mark.parametrize("js", [True, False], ids=["js", "no-js"])
def test_each_heat_map_figure_is_named_after_its_file(server, chromium, two, js):
    """A card's heat-map figure had no name in chromium's accessibility tree (its figcaption notwithstanding): a
    screen reader's list of figures said "figure" 2 times, none saying which. Each is "Heat map of slice-0.jpg"."""
    context, page = sent_page(chromium, server, two, js)
    cdp = page.context.new_cdp_session(page)
    figures = [n.get("name", {}).get("value") for n in cdp.send("Accessibility.getFullAXTree")["nodes"]
               if n.get("role", {}).get("value") == "figure"]
    assert sorted(figures) == [f"Heat map of slice-{i}.jpg" for i in range(2)], figures
    # as Playwright's snapshot reads it too (it named each after the caption, one text for every card)
    snapshot = page.locator("#results").aria_snapshot()
    named = [line.strip() for line in snapshot.splitlines() if line.strip().startswith("- figure")]
    assert sorted(named) == [f'- figure "Heat map of slice-{i}.jpg":' for i in range(2)], snapshot[:3000]
    context.close()
