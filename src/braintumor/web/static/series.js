// A multi-slice upload (DICOM series, multi-frame DICOM, NIfTI) on the page: one block per series, cloned from
// the <template id="series-template"> the server rendered, so the markup is the same without JavaScript; and any
// upload of several scans (a zip of one-image series too), a card for each of its other records.
// Loaded before app.js, which hands it its card helpers; no framework, nothing loaded from elsewhere.
"use strict";

window.braintumorSeries = function (helpers) {
  const percent = helpers.percent, printable = helpers.printable, newCard = helpers.newCard, fillCard = helpers.fillCard;
  const nameCard = helpers.nameCard;
  let numbered = 0;  // the scans shown: their slices' lines' ids ("scan-2-slice-17")

  // As _series.html's slice_name and slice_text macros: the same words with and without JavaScript.
  function sliceName(rec) {
    const image = rec.dicom && rec.dicom.instance_number !== undefined;
    const voxel = rec.nifti && rec.nifti.file_index !== undefined;  // the file's own index, as viewers number it
    const frame = image && rec.dicom.frame !== undefined ?  // a multi-frame file's frames share its image number
      ", frame " + (rec.dicom.frame + 1) + " of " + rec.dicom.frames : "";
    return "slice " + rec.slice + (image ? " · DICOM image " + rec.dicom.instance_number + frame :
      (voxel ? " · NIfTI voxel " + rec.nifti.file_axis + " = " + rec.nifti.file_index : ""));
  }

  // As _series.html's scan_name: its heading, and what its slice cards' controls name after it; copy: " (2)" for a
  // name the page showed already (app.js).
  function scanName(summary, copy) {
    return printable(summary.path) + (copy || "") +
      (summary.series === undefined ? "" : " · series " + (summary.series + 1));
  }

  // A card one heading level below "Most suspicious slices" (an h3), as the server renders it (level=4); its
  // controls name the scan too (_series.html): alike slices of two scans had controls of one name.
  function sliceCard(name, scan) {
    const card = newCard(name, scan + ", " + name);
    const h2 = card.querySelector(".card-name");
    const h4 = document.createElement("h4");
    h4.className = h2.className;
    h4.textContent = h2.textContent;
    h2.replaceWith(h4);
    return card;
  }

  // refused as turned, a quarter or upside down (the orientation check's advice ends its reason, as series.turned
  // tells it)
  function isTurned(rec) {
    const advice = document.getElementById("upload-form").dataset.turnAdvice;
    return Boolean(rec.ood && advice && rec.reason && rec.reason.indexOf(advice) >= 0);
  }

  // how a count of those reads: refusal_wording.TURNED_RESEND, from the form (it said "on their side" of upside-down
  // ones)
  function turnedResend() {
    return document.getElementById("upload-form").dataset.turnedResend;
  }

  // a slice the server's model failed on (web/model_failures.model_failed): "not analysed", not "unreadable"
  function modelFailed(rec) {
    return Boolean(rec.error) && rec.error === document.getElementById("upload-form").dataset.modelFailed;
  }

  function stripEntry(rec) {  // as volumes.strip_entry
    const state = rec.error ? "failed" : (rec.ood ? "refused" : "ok");
    const p = state === "ok" ? 1 - ((rec.probabilities && rec.probabilities.notumor) || 0) : null;
    return { slice: rec.slice, label: rec.label, state: state, turned: isTurned(rec), p: p,
      review: state === "ok" && rec.review ? rec.confidence : null, modelFailed: modelFailed(rec) };
  }

  function sliceText(t, names) {
    if (t.state === "refused") {
      return "slice " + t.slice + ": not classified (" + (t.turned ? turnedResend() : "unlike brain MRI") + ")";
    }
    if (t.state === "failed") {
      return "slice " + t.slice + (t.modelFailed ? ": not analysed (the server's model failed)" : ": unreadable");
    }
    return "slice " + t.slice + ": " + (names[t.label] || t.label) +  // which slice the summary's count means
      (t.review !== null ? " with lower confidence (" + percent(t.review) + ")" : "") +  // wording.LOWER_CONFIDENCE
      ", tumour probability " + percent(t.p);
  }

  function titled(rect, text) {  // its tooltip
    const title = document.createElementNS(rect.namespaceURI, "title");
    title.textContent = text;
    rect.appendChild(title);
    return rect;
  }

  function fillSeries(block, summary, records, copy) {
    const scan = scanName(summary, copy);
    const s = summary.summary;
    const names = {};
    block.querySelectorAll(".strip-legend li").forEach(function (li) { names[li.dataset.class] = li.textContent; });
    const side = s.refused_turned || 0;
    // no slice classified: a refused card's look and note (each unreadable: an unreadable card's), as _series.html
    block.dataset.state = s.classified ? "ok" : (s.refused ? "ood" : "error");
    block.toggleAttribute("data-model-failed", block.dataset.state === "error" && records.length > 0 &&
      records.every(modelFailed));  // each slice the model's failure: no "unreadable" link lands here
    block.toggleAttribute("data-review", records.some(function (r) {  // where the Done line's count of them lands
      return !r.error && !r.ood && r.review; }));
    block.toggleAttribute("data-turned", !s.classified && side > 0);
    block.setAttribute("aria-label", "Scan " + scan);  // a zip's series with its number, as headed
    block.querySelector(".series-name").textContent = scan;
    block.querySelector(".strip-of").textContent = scan;  // its "Every slice as text" too
    const line = block.querySelector(".series-line"), id = "scan-" + (numbered += 1);  // its slices' lines' ids
    line.textContent = s.slices + " slices" +  // no all-zero counts (_series.html)
      (s.classified ? " · " + Object.keys(s.counts).map(function (c) { return (names[c] || c) + " " + s.counts[c]; })
        .join(", ") : "") +
      // as _series.html: those turned apart
      (s.refused - side ? " · " + (s.refused - side) + " not classified (unlike brain MRI)" : "") +
      (side ? " · " + side + " not classified (" + turnedResend() + ")" : "") +
      (s.failed ? " · " + s.failed + " unreadable" : "") +  // wording.UNREADABLE, as the CLI's summary
      (s.model_failed ? " · " + s.model_failed + " not analysed" : "");  // wording.NOT_ANALYSED: why, below
    if (s.flagged) {  // wording.LOWER_CONFIDENCE, as the cards, and which slices (_series.html): each a link to its
      // line in "Every slice as text", which opens at it; one not among the most suspicious had no card
      const reviewed = records.filter(function (r) { return r.slice !== undefined && stripEntry(r).review !== null; });
      const most = Number(document.getElementById("upload-form").dataset.reviewNamed);  // volumes.REVIEW_NAMED
      line.append(" · " + s.flagged + " with lower confidence" + (reviewed.length ? " (" : ""));
      reviewed.slice(0, most).forEach(function (rec, i) {
        const a = document.createElement("a");
        a.className = "review-slice";
        a.href = "#" + id + "-slice-" + rec.slice;
        a.textContent = "slice " + rec.slice;
        line.append(i ? ", " : "", a);
      });
      line.append((reviewed.length > most ? "; " + (reviewed.length - most) + " more in Every slice as text" : "") +
        (reviewed.length ? ")" : ""));
    }
    line.append(s.stripped ? " · " + window.braintumorText.stripped(s.stripped) : "");  // stripped.count_text's
    // why slices were not classified or unreadable, each reason once with its count, most first (as
    // volumes.Entry.refusals): "3 unreadable" said nothing of why
    const reasons = new Map();
    records.forEach(function (rec) {
      const said = rec.ood && rec.reason ? " not classified: " + printable(rec.reason)
        : rec.error ? (modelFailed(rec) ? " not analysed: " : " unreadable: ") + printable(rec.error) : null;
      if (said) reasons.set(said, (reasons.get(said) || 0) + 1);
    });
    const refusals = block.querySelector(".series-refusals");
    Array.from(reasons).sort(function (a, b) { return b[1] - a[1]; }).forEach(function (entry) {
      const li = document.createElement("li");
      li.textContent = entry[1] + (entry[1] === 1 ? " slice" : " slices") + entry[0];
      refusals.appendChild(li);
    });
    const svg = block.querySelector(".strip-plot");
    // it names its scan (_series.html): a list of images said one strip per scan, none saying which
    svg.setAttribute("aria-label", svg.getAttribute("aria-label").replace(" per slice,", function () {
      return " per slice of " + scan + ",";  // a function: a name's "$&" is no pattern
    }));
    const n = Math.max(s.slices, 1);
    svg.setAttribute("viewBox", "0 0 " + n + " 105");  // under the bars, a mark per classified slice (_series.html)
    svg.querySelector(".strip-mid").setAttribute("x2", String(n));
    if (s.model_failed) block.querySelector(".strip-legend [data-class=failed]").append(" or not analysed");
    block.querySelector(".strip figcaption .strip-not-analysed").hidden = !s.model_failed;  // as the key (_series.html)
    const list = block.querySelector(".strip-list");
    records.filter(function (rec) { return rec.slice !== undefined; }).forEach(function (rec) {
      const t = stripEntry(rec);
      const rect = document.createElementNS(svg.namespaceURI, "rect");
      rect.setAttribute("class", "strip-bar strip-" + (t.state === "ok" ? t.label : t.state));
      rect.setAttribute("x", String(t.slice + 0.1));
      rect.setAttribute("width", "0.8");
      rect.setAttribute("y", t.state === "ok" ? (100 - 100 * t.p).toFixed(2) : "0");
      rect.setAttribute("height", t.state === "ok" ? (100 * t.p).toFixed(2) : "105");
      svg.appendChild(titled(rect, sliceText(t, names)));
      if (t.state === "ok") {  // its class's mark under the bars: a sure No tumour slice's bar is ~0 high
        const mark = rect.cloneNode(false);
        mark.setAttribute("class", "strip-mark strip-" + t.label);
        mark.setAttribute("y", "100.8");
        mark.setAttribute("height", "4.2");
        svg.appendChild(titled(mark, sliceText(t, names)));
      }
      const li = document.createElement("li");
      li.textContent = sliceText(t, names);
      if (t.review !== null) {  // where its link on the scan's line lands
        li.id = id + "-slice-" + t.slice;
        li.tabIndex = -1;
      }
      list.appendChild(li);
    });
    const notes = block.querySelector(".series-notes");
    (s.notes || []).forEach(function (note) {
      const li = document.createElement("li");
      li.textContent = printable(note);
      notes.appendChild(li);
    });
    const top = block.querySelector(".series-top");
    let shown = 0;
    s.most_suspicious.forEach(function (t) {  // as Entry.shown_top: a tumour, or lower confidence
      const rec = records.find(function (r) { return r.slice === t.slice; });
      if (!rec || (rec.label === "notumor" && !rec.review)) return;
      const card = sliceCard(sliceName(rec), scan);
      fillCard(card, rec);
      top.appendChild(card);
      shown += 1;
    });
    // no slice classified (each unreadable or not classified, said above): no heading over nothing (_series.html)
    block.querySelector(".series-top-title").hidden = !s.classified;
    block.querySelector(".series-none").hidden = shown > 0 || !s.classified;
    // said with the refusals' reasons: a turned series is told to be turned upright, not only counted; and, none of
    // its slices classified, the note it shows (_series.html): that it must be read without the model's help
    const note = s.classified || !s.refused ? null : block.querySelector(side ? ".series-turn-note" :
      ".series-refused-note");
    return [block.querySelector(".series-name").textContent + ": " + block.querySelector(".series-line").textContent]
      .concat(Array.from(refusals.children, function (li) { return li.textContent; }))
      .concat(note ? [note.textContent] : []).join(". ");
  }

  // An answer's scans in the server's order (as index.html renders them): a block per multi-slice series, a card per
  // other record, a zip's one-image series named as its block would be ("study.zip · series 2"). Only the first
  // such card was shown, the other answers missing from the page (though in the CSV and counted on the Done line).
  function showSeries(card, data) {
    const template = document.getElementById("series-template");
    const summaries = data.series || [], copy = card.dataset.copy;
    const ofSeries = function (rec) {
      return rec.slice === undefined ? undefined : summaries.find(function (summary) {
        return rec.path === summary.path && rec.series === summary.series;
      });
    };
    const shown = [], said = [], blocks = new Map();
    let own = false;  // the upload's own card shows the first record of none of the blocks
    data.results.forEach(function (rec) {
      const summary = ofSeries(rec);
      if (summary && blocks.has(summary)) return;
      if (summary) {
        const block = template.content.firstElementChild.cloneNode(true);
        said.push(fillSeries(block, summary, data.results.filter(function (r) { return ofSeries(r) === summary; }),
          copy));
        blocks.set(summary, block);
        shown.push(block);
        return;
      }
      const name = rec.series === undefined ? printable(rec.path) + (copy || "") : scanName(rec, copy);
      const one = own ? newCard(name) : card;
      if (!own) nameCard(card, name);  // named by its record, as the server heads it: a zip's member ("n.zip:v.nii")
      fillCard(one, rec);
      // a card new on the page is not announced (its live region is new too): said with the blocks
      if (own) said.push(one.querySelector(".card-status").textContent);
      own = true;
      shown.push(one);
    });
    const at = shown.indexOf(card);
    card.before.apply(card, at < 0 ? shown : shown.slice(0, at));
    if (at < 0) card.remove();
    else card.after.apply(card, shown.slice(at + 1));
    // The blocks are new on the page, so their text is not announced: the page's own live region says it.
    if (helpers.quiet(shown)) return;  // a run of many files (app.js): its cards silent, its Done line counts them
    if (said.length) announce(said.join(". "));
  }

  // Said, then emptied a few seconds later (as react-aria's announcer does): kept, the summary stayed in the page's
  // text, and a screen reader's browse mode read it twice, on the hidden line and in the scan's block. A line said
  // since (another scan's) is left alone, its own emptying to come.
  const SAID_FOR_MS = 7000;
  function announce(line) {
    const region = document.getElementById("scan-status");
    region.textContent = line;
    setTimeout(function () { if (region.textContent === line) region.textContent = ""; }, SAID_FOR_MS);
  }

  return { showSeries: showSeries };
};
