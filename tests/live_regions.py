"""What a screen reader is told on the page, as it is said, for the browser tests: a live region's text read after a
run's Done line may be gone already (series.js empties the page's #scan-status 7 s after saying a scan's summary, and
on a loaded machine a run can end later than that), so they record each text a region is given instead."""

from __future__ import annotations

# What a screen reader is told: the text of a live region already on the page, each time its content changes (a region
# inserted with its text already in it is not announced by most screen readers, so it is not counted here), each text
# once, in the order said; an emptied region's "" too. A region made silent (aria-live="off", a card of a run of
# many files: app.js) says nothing, as a screen reader hears it, nor does a change of what is hidden from it
# (aria-hidden: a share or a count sent). Given a selector, only the regions it matches. With repeats, a text said
# again is recorded again, but only where its region's text changed since (set again unchanged, a region says nothing
# new: a screen reader does not repeat it).
LISTEN = """([only, repeats]) => {
    window.said = [];
    const heard = region => {  // its text but what is hidden from screen readers
        const copy = region.cloneNode(true);
        copy.querySelectorAll("[aria-hidden=true]").forEach(hidden => hidden.remove());
        return copy.textContent.trim();
    };
    const live = only || "[role=status], [role=alert], [aria-live]", last = new WeakMap();
    new MutationObserver(changes => changes.forEach(change => {
        const node = change.target.nodeType === 1 ? change.target : change.target.parentElement;
        const region = node && node.closest(live), text = region && heard(region);
        if (!region || !region.isConnected || region.getAttribute("aria-live") === "off" || last.get(region) === text)
            return;
        last.set(region, text);
        if (repeats || !window.said.includes(text)) window.said.push(text);
    })).observe(document.body, {subtree: true, childList: true, characterData: true});
}"""


def listen(page, only: str | None = None, repeats: bool = False) -> None:
    """Record from now on what the page's live regions (or those ``only`` selects) say: call it before the upload.
    ``repeats``: a text said again after its region changed is recorded again (else each text once)."""
    page.evaluate(LISTEN, [only, repeats])


def announced(page) -> list[str]:
    """The texts said since :func:`listen`, in the order said (a region emptied says nothing: its "" is left out)."""
    return [line for line in page.evaluate("window.said") if line]
