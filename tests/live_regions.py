"""What a screen reader is told on the page, as it is said, for the browser tests: a live region's text read after a
run's Done line may be gone already (series.js empties the page's #scan-status 7 s after saying a scan's summary, and
on a loaded machine a run can end later than that), so they record each text a region is given instead."""

from __future__ import annotations

# What a screen reader is told: the text of a live region already on the page, each time its content changes (a region
# inserted with its text already in it is not announced by most screen readers, so it is not counted here), each text
# once, in the order said; an emptied region's "" too. Given a selector, only the regions it matches.
LISTEN = """(only) => {
    window.said = [];
    const live = only || "[role=status], [role=alert], [aria-live]:not([aria-live=off])";
    new MutationObserver(changes => changes.forEach(change => {
        const node = change.target.nodeType === 1 ? change.target : change.target.parentElement;
        const region = node && node.closest(live);
        if (region && region.isConnected && !window.said.includes(region.textContent.trim()))
            window.said.push(region.textContent.trim());
    })).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def listen(page, only: str | None = None) -> None:
    """Record from now on what the page's live regions (or those ``only`` selects) say: call it before the upload."""
    page.evaluate(LISTEN, only)


def announced(page) -> list[str]:
    """The texts said since :func:`listen`, in the order said (a region emptied says nothing: its "" is left out)."""
    return [line for line in page.evaluate("window.said") if line]
