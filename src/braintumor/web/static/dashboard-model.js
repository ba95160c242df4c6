// The dashboard's model card (GET /api/v1/model): its name, version, fingerprint, classes and test scores, and the
// classes' display names the class mix shows. Loaded before dashboard.js, which takes it from
// window.braintumorDashboardModel; no framework, nothing loaded from elsewhere.
"use strict";

window.braintumorDashboardModel = (function () {
  let names = {};  // class -> display name

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
  }

  // A class's display name from the card (its own name before the card is in).
  function name(c) { return names[c] || c; }

  return { fill: fill, name: name };
})();
