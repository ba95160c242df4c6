// One result card on the page: cloned from the <template id="card-template"> the server rendered (_card.html), so
// the markup is the same without JavaScript, and filled from an API record; its heat-map controls wired (the
// server-rendered cards' too). Loaded before app.js, which hands it text.js's helpers and hands its card helpers on to
// series.js; no framework, nothing loaded from elsewhere.
"use strict";

window.braintumorCard = function (helpers) {
  const percent = helpers.percent, printable = helpers.printable, sentence = helpers.sentence;

  // Heat-map toggle and opacity slider of one result card (also used for server-rendered cards).
  function wireViewer(card) {
    const heat = card.querySelector(".view-heat");
    const toggle = card.querySelector(".heat-toggle");
    const opacity = card.querySelector(".heat-opacity");
    if (!heat || !toggle || !opacity) return;
    const apply = function () {
      heat.hidden = !toggle.checked;
      opacity.disabled = !toggle.checked;
      heat.style.opacity = String(Number(opacity.value) / 100);
      opacity.setAttribute("aria-valuetext", opacity.value + "%");
    };
    toggle.addEventListener("change", apply);
    opacity.addEventListener("input", apply);
    apply();
  }

  // A card's live region says its file's name first (visually hidden: its heading shows it), then the text shown:
  // answers arrive in the order the server finishes them, and "Glioma, 97% confidence" or an error, said alone, left
  // a screen-reader user to guess which file each was. Both parts replaced at once, as text nodes (a name may hold
  // "<" or "&"), and the region atomic (_card.html): a screen reader says it whole, not only the part that changed.
  // A refusal's note after it (visually hidden: the note under it shows it), that it must be read without the model.
  function setStatus(card, text, note) {
    const status = card.querySelector(".card-status");
    if (!text) {
      status.replaceChildren();
      return;
    }
    const of = document.createElement("span"), shown = document.createElement("span");
    of.className = "visually-hidden card-status-of";
    of.textContent = nameOf(card) + ": ";
    shown.className = "card-status-text";
    shown.textContent = text;
    status.replaceChildren(of, shown);
    if (!note) return;
    const said = status.appendChild(document.createElement("span"));
    said.className = "visually-hidden card-status-note";
    said.textContent = ". " + note;
  }

  // What its images, controls and hidden answer lead name (_card.html's "of"): its file, or a series' slice with its
  // scan, where "slice 1 · DICOM image 2" alone was every scan's first slice; its heading, where newCard had none.
  function nameOf(card) {
    return card.dataset.of || card.querySelector(".card-name").textContent;
  }

  // name: its heading; of: what it is called elsewhere, where that is more (a series' slice: its scan and slice).
  // Also a card named already, renamed in place once its answer says more (a zip's one-image series, series.js).
  function nameCard(card, name, of) {
    card.querySelector(".card-name").textContent = printable(name);
    card.dataset.of = printable(of || name);
    // the heat-map controls name their image too (_card.html)
    card.querySelectorAll(".ctl-of").forEach(function (el) { el.textContent = nameOf(card); });
    // and its images say which file they are (_card.html); the heat map's class is said once there is one (fillCard)
    const base = card.querySelector(".view-base"), heat = card.querySelector(".view-heat");
    if (base) base.alt = nameOf(card) + ", as the model saw it (cropped, grayscale)";
    if (heat) heat.alt = "Heat map over " + nameOf(card) + ": the regions that raised the score of the predicted " +
      "class";
    const figure = card.querySelector(".viewer");  // and the figure holding them (_card.html)
    if (figure) figure.setAttribute("aria-label", "Heat map of " + nameOf(card));
    // and its meters, after their class (_card.html)
    card.querySelectorAll(".bar").forEach(function (bar) {
      bar.querySelector(".bar-meter").setAttribute("aria-label", bar.querySelector(".bar-name").textContent + ", " +
        nameOf(card));
    });
  }

  function newCard(name, of) {
    const template = document.getElementById("card-template");
    const card = template.content.firstElementChild.cloneNode(true);
    nameCard(card, name, of);
    setStatus(card, "Analysing…");
    card.dataset.state = "loading";
    card.removeAttribute("data-turned");
    card.removeAttribute("data-not-mri");
    wireViewer(card);
    return card;
  }

  function fillNotes(card, rec) {  // a one-slice scan's notes (what was ignored, left out), as _card.html lists them
    const notes = card.querySelector(".card-notes");
    if (notes) notes.replaceChildren.apply(notes, (rec.notes || []).map(function (note) {
      const li = document.createElement("li");
      li.textContent = printable(note);
      return li;
    }));
  }

  function fillCard(card, rec) {
    fillNotes(card, rec);
    if (rec.error) {
      card.dataset.state = "error";
      const modelFailed = document.getElementById("upload-form").dataset.modelFailed;  // its fault, not the file's:
      card.toggleAttribute("data-model-failed", rec.error === modelFailed);  // no "unreadable" link lands here
      const status = card.querySelector(".card-status");
      if (status.getAttribute("aria-live") !== "off") status.setAttribute("role", "alert");  // not in a quiet run
      setStatus(card, sentence(printable(rec.error)));  // under its name, as its other lines: capitalised
      return;
    }
    if (rec.ood) {
      // Not a brain MRI slice (or too unlike the training data): no class, no bars, no heat map.
      card.dataset.state = "ood";
      // refused as turned (the orientation check's advice, as the upload form names it), or as no MRI (a CT: the
      // words its reason ends in, refusal_wording.MRI_ONLY): its own note, as pages.refused_kind chooses it
      const form = document.getElementById("upload-form").dataset, reason = rec.reason || "";
      const has = function (words) { return Boolean(words) && reason.indexOf(words) >= 0; };
      const kind = has(form.turnAdvice) ? "turn" : has(form.mriOnly) ? "not-mri" : "ood";
      card.toggleAttribute("data-turned", kind === "turn");
      card.toggleAttribute("data-not-mri", kind === "not-mri");
      setStatus(card, "Not classified: " + printable(rec.reason || "unlike the brain MRI slices the model was " +
        "trained on"), card.querySelector(".card-" + kind + "-note").textContent);
      return;
    }
    card.dataset.state = "ok";
    let labelName = rec.label;
    card.querySelectorAll(".bar").forEach(function (bar) {
      const cls = bar.dataset.class;
      const p = (rec.probabilities && rec.probabilities[cls]) || 0;
      bar.querySelector(".bar-meter").value = p;
      bar.querySelector(".bar-meter").setAttribute("aria-valuetext", percent(p));
      bar.querySelector(".bar-meter").textContent = percent(p);
      bar.querySelector(".bar-value").textContent = percent(p);
      bar.classList.toggle("bar-top", cls === rec.label);
      if (cls === rec.label) labelName = bar.querySelector(".bar-name").textContent;
    });
    // said in the live region too (visually hidden), so a screen reader announces the answer
    setStatus(card, labelName + ", " + percent(rec.confidence) + " confidence" +
      (rec.review ? ", lower confidence: wrong more often than surer answers" : "") + (rec.note ? ", " + rec.note : ""));
    card.querySelector(".verdict-label").textContent = labelName;
    card.querySelector(".verdict-confidence").textContent = percent(rec.confidence);
    card.querySelector(".card-review").hidden = !rec.review;
    const note = card.querySelector(".card-note");  // an answer's caution (a slice that looks skull-stripped)
    note.hidden = !rec.note;  // a sentence, as _card.html shows it: capitalised and closed, the record's note a clause
    note.textContent = rec.note ? rec.note.charAt(0).toUpperCase() + rec.note.slice(1) + "." : "";
    const viewer = card.querySelector(".viewer");
    if (!viewer) return;
    if (!rec.image_png_base64) {
      viewer.hidden = true;
      return;
    }
    card.querySelector(".view-base").src = "data:image/png;base64," + rec.image_png_base64;
    if (rec.heatmap_png_base64) {
      card.querySelector(".view-heat").src = "data:image/png;base64," + rec.heatmap_png_base64;
      card.querySelector(".view-heat").alt = "Heat map over " + nameOf(card) +
        ": the regions that raised the score of " + labelName;
    } else {
      card.querySelector(".view-heat").remove();
      card.querySelector(".controls").remove();
      card.querySelector(".heat-scale").remove();
    }
  }

  // While a file is still being sent (a large scan, a slow link): "Sending… 40%" where the card said "Analysing…" from
  // the start, as if the server had the file; "Analysing…" again once it has (share null). The share is hidden from
  // screen readers: the live region says "Sending…" once, not at each step.
  function sending(card, share) {
    if (share === null) return setStatus(card, "Analysing…");
    let shown = card.querySelector(".card-sent");
    if (!shown) {
      setStatus(card, "Sending…");
      shown = card.querySelector(".card-status-text").appendChild(document.createElement("span"));
      shown.className = "card-sent";
      shown.setAttribute("aria-hidden", "true");
    }
    shown.textContent = " " + Math.floor(100 * share) + "%";
  }

  // A card of a run of many files (app.js): its live region says nothing, the run's status line says the run; the card
  // still shows and holds its answer, read under its heading.
  function quiet(card) {  // a card, or a scan's block (its cards)
    card.querySelectorAll(".card-status").forEach(function (status) { status.setAttribute("aria-live", "off"); });
  }

  return { quiet: quiet, wireViewer: wireViewer, newCard: newCard, nameCard: nameCard, fillCard: fillCard, sending: sending };
};
