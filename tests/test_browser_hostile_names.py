"""File names as an attacker would choose them (markup, quotes, template syntax, the page's own ids, "#" and "%23"),
sent with and without JavaScript, in a form and inside a zip: each is shown as text, where it is shown (heading, heat
map figure's name), no element or attribute comes of one, every id on the page is unique, each "Next unreadable file"
link lands on the next such card, and no log line holds one. Skipped, never failed, when chromium or playwright is
absent (like tests/test_browser.py)."""

from __future__ import annotations

import logging
from itertools import pairwise

import pytest
from dicom_factory import zip_bytes
from test_browser import pytestmark, sent_page  # noqa: F401 - pytestmark: the same skip conditions

from braintumor.wording import printable

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")

#: Names of the files sent, a readable image and an unreadable file in turn (so the unreadable ones get Next links).
HOSTILE = ['"><img src=x onerror=alert(1)>.jpg', "<svg onload=alert(1)>.png", "q'`${x}`{{7*7}}.jpg",
           "a\u202eb\u200bc.jpg", "results", "page-notes", "run-card-1", "card-2", "a#card-1.jpg", "a%23card-1.jpg",
           "main", "card-template"]

#: What the page holds that a name could have made: ids used twice, elements with an on* attribute, injected elements,
#: links to an id the page lacks, and each "Next" link's target heading with the heading it sits under.
CHECK = """() => {
  const ids = Array.from(document.querySelectorAll('[id]'), e => e.id);
  return {
    twice: ids.filter((id, i) => ids.indexOf(id) !== i),
    handlers: Array.from(document.querySelectorAll('*')).filter(
      e => Array.from(e.attributes).some(a => a.name.startsWith('on'))).map(e => e.tagName),
    injected: document.querySelectorAll('img[src="x"], #results svg:not(.strip-plot), script:not([src])').length,
    dangling: Array.from(document.querySelectorAll('a[href^="#"]'), a => a.getAttribute('href'))
      .filter(h => h.length > 1 && !document.getElementById(h.slice(1))),
    next: Array.from(document.querySelectorAll('.next-link a'), a => [
      a.closest('.card, .series').querySelector('.card-name').textContent.trim(),
      document.getElementById(a.getAttribute('href').slice(1)).textContent.trim()]),
  };
}"""


@pytest.mark.parametrize("js", [True, False])
def test_hostile_names_are_text_ids_stay_unique_and_next_links_reach_their_cards(server, chromium, test_images, js,
                                                                                 caplog):
    caplog.set_level(logging.DEBUG)
    jpeg = test_images["glioma"][0].read_bytes()
    files = [{"name": name, "mimeType": "image/jpeg", "buffer": jpeg if i % 2 == 0 else b"garbage" * 10}
             for i, name in enumerate(HOSTILE)]
    files.append({"name": '"><svg onload=alert(2)>.zip', "mimeType": "application/zip",
                  "buffer": zip_bytes([('"><img src=x onerror=alert(3)>{{7*7}}.dcm', b"x" * 300)])})
    context, page = sent_page(chromium, server, files, js)
    try:
        got = page.evaluate(CHECK)
        assert got["twice"] == [] and got["handlers"] == [] and got["injected"] == 0 and got["dangling"] == []
        headings = [" ".join(h.split()) for h in page.locator("#results > .card .card-name").all_text_contents()]
        assert headings == [printable(name) for name in HOSTILE] + ['"><svg onload=alert(2)>.zip']
        figures = page.locator("#results .viewer")
        assert figures.first.get_attribute("aria-label") == "Heat map of " + HOSTILE[0]
        unread = [printable(name) for name in HOSTILE[1::2]] + ['"><svg onload=alert(2)>.zip']
        assert got["next"] == [list(pair) for pair in pairwise(unread)]  # to the next unreadable
        link = page.locator(".next-link a").first  # followed: the focus is on the next card's heading
        link.click()
        assert page.evaluate("document.activeElement.textContent.trim()") == unread[1]
    finally:
        context.close()
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not [name for name in [*HOSTILE[:4], "svg onload", "{{7*7}}.dcm"] if name in logged]  # privacy
