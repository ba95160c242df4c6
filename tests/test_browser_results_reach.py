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


def test_the_pages_title_says_results_are_shown_until_cleared(server, chromium, two):
    """Without JavaScript the results page is titled "Results · Brain MRI classifier"; with it, the title never
    changed after a run, the first thing a screen reader says of the tab the same for the empty form and 30 results.
    It says so once the run is over, as the plain form's page does, and goes back on Clear (a second run: once)."""
    titles = {}
    for js in (True, False):
        context, page = sent_page(chromium, server, two, js)
        titles[js] = page.title()
        if js:
            page.set_input_files("#file-input", two[:1])  # a second run: "Results · " once
            sync_api.expect(page.locator("#results > .card")).to_have_count(3)
            sync_api.expect(page.locator("#clear-results")).to_be_visible(timeout=30_000)
            assert page.title() == titles[js]
            page.click("#clear-results")
            assert page.title() == "Brain MRI classifier"
        context.close()
    assert titles[True] == titles[False] == "Results · Brain MRI classifier"
