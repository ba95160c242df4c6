// The dashboard's one way to fetch JSON (its stats polls and the model card), with a time limit: loaded before
// dashboard.js, which takes it from window.braintumorFetchJson. No framework, nothing loaded from elsewhere.
"use strict";

window.braintumorFetchJson = (function () {
  // The JSON at `url`, or the error "HTTP 500", or "no answer in N s" when it has not all come in `wait` ms (its
  // connection stalled: a proxy, a laptop's sleep): a poll awaited forever left the page saying "Live" over numbers
  // that no longer moved, polling no more; the model card awaited forever, "Connecting…" and no numbers at all.
  return async function fetchJson(url, wait) {
    const abort = new AbortController();
    const timer = setTimeout(function () { abort.abort(); }, wait);
    try {
      const response = await fetch(url, { cache: "no-store", signal: abort.signal });
      if (!response.ok) throw new Error("HTTP " + response.status);
      return await response.json();
    } catch (err) {
      throw abort.signal.aborted ? new Error("no answer in " + Math.round(wait / 1000) + " s") : err;
    } finally {
      clearTimeout(timer);
    }
  };
})();
