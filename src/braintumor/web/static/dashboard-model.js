// The dashboard's model card (GET /api/v1/model): its name, version, fingerprint, classes and test scores, and the
// classes' display names the class mix shows. Loaded before dashboard.js, which takes it from
// window.braintumorDashboardModel; no framework, nothing loaded from elsewhere.
"use strict";

window.braintumorDashboardModel = (function () {
  let names = {};  // class -> display name
  let shownFor = null;  // the server's model (the stats' `model`, as JSON) whose card is shown; null: none yet

  function byId(id) { return document.getElementById(id); }
  function setText(id, text) { const el = byId(id); if (el) el.textContent = text; }
  function num(n) { return window.braintumorDashboardNumbers.num(n); }

  function fill(card) {
    names = card.display_names || {};
    setText("model-name", card.name || "–");
    setText("model-version", card.model_version || "–");
    const fp = card.data_fingerprint || "";
    setText("model-fingerprint", fp ? fp.slice(0, 16) + "…" : "–");
    if (fp) byId("model-fingerprint").title = fp;
    setText("model-classes", (card.classes || []).map(function (c) { return names[c] || c; }).join(", ") || "–");
    const m = card.metrics || {};
    // two decimals: one rounded 99.47 % up to "99.5%", past a 99.5 % target it does not reach
    setText("model-accuracy", m.accuracy !== undefined ? (100 * m.accuracy).toFixed(2) + "%" +
      (m.n ? " of " + num(m.n) : "") : "–");
    setText("model-f1", m.macro_f1 !== undefined ? m.macro_f1.toFixed(4) : "–");
    setText("model-created", card.created || "–");
    document.querySelectorAll("#class-mix li").forEach(function (li) {  // the mix drawn already: its names
      li.querySelector(".mix-name").textContent = name(li.dataset.class);
      li.querySelector("meter").setAttribute("aria-label", name(li.dataset.class));
    });
  }

  // The card, loaded when the server's model (`model` of a stats poll) is not the one shown: at the first poll, after
  // a restart with another model (the card loaded once showed the old model's name, version and scores for as long
  // as the page stayed open), and after a card that did not come ("could not load the model card" for good).
  // Not awaited by the polls (one card request at a time): a card not answered delays no numbers.
  let asking = false;
  async function follow(url, wait, model) {
    const id = JSON.stringify(model || {});
    if (id === shownFor || asking) return;
    asking = true;
    try {
      fill(await window.braintumorFetchJson(url, wait));
      shownFor = id;
    } catch (err) {
      setText("model-name", "could not load the model card");
    } finally {
      asking = false;
    }
  }

  // A class's display name from the card (its own name before the card is in).
  function name(c) { return names[c] || c; }

  return { follow: follow, name: name };
})();
