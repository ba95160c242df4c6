// What the page's status line says of a run of uploads (the files given since the page was last idle, app.js): while
// they are sent, while they are analysed, and the Done line that counts their answers. Loaded before app.js, after
// text.js; no framework, nothing loaded from elsewhere.
"use strict";

window.braintumorRunStatus = (function () {
  const text = window.braintumorText;

  // A run of more files than this is said on the page's status line alone ("Analysing 30 images…", then its Done
  // line), its cards' live regions and its scans' summaries silent (app.js quiet): each card said its answer, 30
  // announcements in a row for 30 files dropped, read one by one. The answers stay on the cards, under their headings.
  const SAID_EACH = 5;

  // How many of the files given a job stands for: a dropped folder's DICOM files are sent as one zip.
  function filesOf(job) { return job.files ? job.files.length : 1; }

  // How many scans a job's records are of, as done_line.scans_in counts them: a scan's slices or a series' one image,
  // told apart by path (a zip's member) and series; an image or a file unread is none.
  function scansIn(recs) {
    return new Set(recs.filter(function (r) { return r.slice !== undefined || r.series !== undefined; })
      .map(function (r) { return JSON.stringify([r.path, r.series]); })).size;
  }

  // What the run's files are, in the page's words ("2 images and 1 scan"; a DICOM zip was "3 images"), but those of a
  // folder's DICOM files sent again a step down (their parts are counted). "Other files" are of no telling name. A
  // zip, or a folder's DICOM files, is said as that: it may hold several series (the server answers each as a scan).
  function analysed(jobs) {
    const n = { image: 0, scan: 0, zip: 0, folder: 0, file: 0 };
    jobs.forEach(function (job) { if (!job.resent) n[job.kind] += 1; });
    return text.joined(Object.keys(n).filter(function (k) { return n[k]; }).map(function (k) {
      return k === "folder" ? text.counted(n[k], "folder of DICOM files", "folders of DICOM files")
        : text.counted(n[k], k === "file" && n.image + n.scan + n.zip + n.folder ? "other file" : k);
    }));
  }

  // The line while the run goes on. It said "Analysing 1 image…" from the moment a file was given, while its card
  // said "Sending… 40%" over a slow link. While a file is still being sent after a second (its card says so, send.js:
  // job.upload "slow"), "Sending 3 files: 1 sent…", counting the files the page sends or will send (not those it
  // refused, nor those given up on); "Analysing 2 images and 1 scan…" once none is. It changes as a file is sent,
  // never at each step of an upload: it is a live region, and the share sent is on the cards alone. Once a file was
  // slow to send, it says "Sending" until every file is sent: it said "Analysing" again between two slow files, then
  // "Sending", each a change said afresh.
  function during(jobs) {
    const live = jobs.filter(function (job) { return !job.resent; });
    let sent = 0, unsent = 0;
    live.forEach(function (job) {
      if (job.upload === "sent") sent += filesOf(job);
      else if (!job.over) unsent += filesOf(job);
    });
    if (!unsent || !live.some(function (job) { return job.slow; })) return "Analysing " + analysed(jobs) + "…";
    return "Sending " + text.counted(sent + unsent, "file") + (sent ? ": " + sent + " sent" : "") + "…";
  }

  // The Done line, {text, failed}: each record counted as the CLI's last line counts it (series.outcome): a slice, or
  // an image, of its own. A scan (a DICOM series, a NIfTI volume) gives many: the line counted files ("Done: 1
  // classified" of a volume whose 155 slices the CLI counted "155 scored: 120 classified, 35 not classified"), so
  // where any file gave more than one it says both, "Done: 3 files, 57 slices: 50 classified, ...", and what is of a
  // whole file (unreadable, not analysed by the server) counted as files. A slice refused as turned is counted apart:
  // a brain MRI to rotate and send again, which "unlike brain MRI" was not.
  function done(form, jobs) {
    const advice = form.dataset.turnAdvice;
    const isTurned = function (r) { return Boolean(r.ood && advice && r.reason && r.reason.indexOf(advice) >= 0); };
    const tally = { ok: 0, review: 0, ood: 0, turned: 0, error: 0, unread: 0, failed: 0 }, whys = new Set();
    let files = 0, slices = 0, several = false, failedFiles = 0, stripped = 0, unscored = 0, scans = 0, held = 0;
    jobs.forEach(function (job) {
      if (job.resent) return;  // its files are counted, each in its own job
      const given = filesOf(job);
      files += given;
      const recs = job.records.filter(function (r) { return !r.summary; });
      several = several || recs.length > 1;
      const inJob = scansIn(recs);
      scans += inJob;
      held = Math.max(held, inJob);
      if (job.failed) {  // why the server did not analyse it (send.js)
        tally.failed += 1;
        failedFiles += given;
        whys.add(job.failed);
        return;
      }
      if (!recs.length) tally.unread += 1;
      recs.forEach(function (r) {
        // a slice or file of an answer the server's model failed on (its scores not finite): the model's fault, not
        // the upload's, "not analysed" as done_line.py counts it (it was "unreadable")
        if (r.error && r.error === form.dataset.modelFailed) {
          unscored += 1;
          slices += r.slice === undefined ? 0 : 1;
          return;
        }
        if (r.error && r.slice === undefined) {  // the file itself (or a zip's member): no slice of it was read
          tally.unread += 1;
          return;
        }
        // by the note's kind (wording.NOTE_KINDS), not its presence: another caution is no stripped slice
        slices += 1; stripped += r.note_kind === "stripped" && !r.ood ? 1 : 0;
        tally[r.error ? "error" : r.ood ? (isTurned(r) ? "turned" : "ood") : r.review ? "review" : "ok"] += 1;
      });
    });
    // one record per file: its counts are the files', as the CLI's are ("Done: 2 classified, 1 unreadable")
    if (!several) tally.error += tally.unread;
    const unread = several ? tally.unread : 0;
    const failed = several ? text.counted(failedFiles, "file") : String(tally.failed);
    // its pieces: the counts of files unreadable or not analysed, and of answers of lower confidence, are {words,
    // kind}, made buttons to their cards (link); a count of slices unreadable is none (their scan's block says which)
    // done_line.files_text: "1 file (3 scans)" where a file (a zip) held several; "1 file" read as one scan
    const parts = ["Done: " + (several ? text.counted(files, "file") +
      (held > 1 ? " (" + text.counted(scans, "scan") + ")" : "") + ", " +
      text.counted(slices, "slice") + ": " : "") + (tally.ok + tally.review) + " classified" +
      // wording.LOWER_CONFIDENCE, the cards' words (their note says under what); not "flagged for review", as if
      // only these answers needed a clinician
      (tally.review ? ", " : "")];
    // a button too, to the cards (or scans) that answered so (link): among 30 it was left to be found by scrolling
    if (tally.review) parts.push({ words: tally.review + " of them with lower confidence", kind: "review" });
    parts.push((stripped ? ", " + text.stripped(stripped) : "") +  // as the CLI's last line (stripped.count_text)
      (tally.ood ? ", " + tally.ood + " not classified (unlike brain MRI)" : "") +
      // refusal_wording.TURNED_RESEND, from the form: a quarter turn or upside down (it said "on their side" of both)
      (tally.turned ? ", " + tally.turned + " not classified (" + form.dataset.turnedResend + ")" : ""));
    if (tally.error) {  // wording.UNREADABLE, as the CLI's last line
      parts.push(", ", several ? tally.error + " unreadable" : { words: tally.error + " unreadable", kind: "unread" });
    }
    if (unread || tally.failed && several) parts.push("; ");
    if (unread) parts.push({ words: text.counted(unread, "file") + " unreadable", kind: "unread" });
    // why, where they share it; else each card's reason (it said "the server failed or could not be reached" of a
    // 429 or a 401, under cards saying to wait or to sign in)
    if (tally.failed) {
      parts.push(unread || !several ? ", " : "", { words: failed + " not analysed", kind: "failed" },
        whys.size === 1 ? ": " + Array.from(whys)[0] : ", each for the reason on its card");
    }
    if (unscored) {  // done_line.py's words for them, after the rest
      parts.push(tally.failed || unread && several ? "; " : ", ",
        unscored + " not analysed: " + form.dataset.modelFailedShort);
    }
    parts.push(" (see below).");
    return { failed: tally.failed + unscored > 0, parts: parts,
      text: parts.map(function (p) { return p.words || p; }).join("") };
  }

  // The Done line's nodes for the page, each count of files unreadable or not analysed a button that moves focus to
  // such a card of the run (on the page, above older: the cards shown before it), the first, then at each press the
  // next, round again after the last: with 30 cards and one failed, "(see below)" left it to be found by scrolling,
  // and with several the button went to the first alone. The card's heading takes the focus (tabindex -1), which a
  // screen reader says; its answer is right under it.
  function link(done, jobs, older) {
    const inRun = function (c) { return !older || Boolean(c.compareDocumentPosition(older) & 4); };  // FOLLOWING
    const failedCards = jobs.filter(function (job) { return job.failed && !job.resent; })
      .map(function (job) { return job.card; });
    const cards = Array.from(document.querySelectorAll("#results .card[data-state=error], " +
      "#results .series[data-state=error]")).filter(inRun);
    const each = { failed: cards.filter(function (c) { return failedCards.indexOf(c) >= 0; }),
      // not one the server's model failed on (counted "not analysed", in a 200): card.js and series.js mark those
      unread: cards.filter(function (c) { return failedCards.indexOf(c) < 0 && !c.hasAttribute("data-model-failed"); }),
      // a card, or a scan's block, with an answer of lower confidence (card.js shows its note, series.js marks it)
      review: Array.from(document.querySelectorAll("#results > .card, #results > .series")).filter(function (c) {
        return inRun(c) && (c.matches(".series") ? c.hasAttribute("data-review")
          : !c.querySelector(".card-review").hidden);
      }) };
    nextLinks(each);
    return done.parts.map(function (p) {
      const them = p.words && each[p.kind] || [];
      if (!them.length) return p.words || p;
      const button = document.createElement("button");
      let next = 0;
      button.type = "button";
      button.className = "status-link";
      button.textContent = p.words;
      // its description, for a screen reader too
      button.title = them.length > 1 ? "Go to the next of them, in turn" : "Go to it";
      button.addEventListener("click", function () {
        const card = them[next], heading = card.querySelector(".card-name");
        next = (next + 1) % them.length;
        heading.tabIndex = -1;
        card.scrollIntoView({ block: "start" });
        heading.focus({ preventScroll: true });
      });
      return button;
    });
  }

  // Under the heading of each card (or scan) the Done line's button goes to but the last, a link to the next of them,
  // as the page without JavaScript has one (done_line.next_links): with JavaScript there was none, the two pages
  // reached the next card differently. Their words are done_line.NEXT_WORDS, from the form (the script had a copy),
  // those to unreadable files first, as that page orders them.
  let named = 0;  // ids given to headings that had none
  function nextLinks(each) {
    const under = new Map(), words = JSON.parse(document.getElementById("upload-form").dataset.nextWords);
    words.forEach(function (pair) {
      const kind = pair[0];
      each[kind].slice(0, -1).forEach(function (card, i) {
        const to = each[kind][i + 1].querySelector(".card-name");
        if (!to.id) to.id = "run-card-" + (named += 1);
        to.tabIndex = -1;  // a link to it gives it the focus, as the button does
        const p = document.createElement("p"), a = p.appendChild(document.createElement("a"));
        p.className = "next-link";
        a.href = "#" + to.id;
        a.textContent = pair[1];
        under.set(card, (under.get(card) || []).concat([p]));
      });
    });
    under.forEach(function (ps, card) {
      const heading = card.querySelector(".card-name");
      heading.after.apply(heading, ps);
    });
  }

  return { SAID_EACH: SAID_EACH, during: during, done: done, link: link };
})();
