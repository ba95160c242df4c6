// Back to the page after following one of its links (the footer's model card, the dashboard's): the browser's
// back/forward cache shows the page as it was left, results and heat maps, from memory (pages.index sends the page
// cacheable for that: a no-store page that made requests is never kept). Where the browser kept no copy (one that
// keeps fewer pages, a page left while files were analysed, a long absence), the page said nothing: an empty form, as
// if there had never been results. It now says they were not kept. Only how many files were given is remembered,
// in this history entry's state: no name, no answer, no image is stored anywhere. Loaded before app.js.
"use strict";

window.braintumorRevisit = (function () {
  const KEY = "braintumorFiles";

  function remember(files) {
    try {
      history.replaceState(Object.assign({}, history.state, { [KEY]: files }), "");
    } catch (err) { /* a browser that refuses it: nothing said on coming back, as before */ }
  }

  // What to say when the page was loaded afresh by Back or Forward where it had shown results, else null (once);
  // not to drop the files where the page cannot take a drop (a touch screen: app.js canDrop)
  function lost(canDrop) {
    const nav = performance.getEntriesByType && performance.getEntriesByType("navigation")[0];
    const files = history.state && history.state[KEY];
    if (!files) return null;
    remember(0);
    if (!nav || nav.type !== "back_forward") return null;  // a reload, or the page opened again: a fresh page
    return "The " + (files === 1 ? "result" : files + " results") + " shown before you left this page " +
      (files === 1 ? "was" : "were") + " not kept (nothing is stored, on the server or in this browser): choose " +
      (canDrop === false ? "" : "or drop ") + "the files again to see " + (files === 1 ? "it." : "them.");
  }

  return { remember: remember, lost: lost };
})();
