// Progressive enhancement of the upload form: several files at once (dropped, pasted or a folder: drop.js),
// one API call per file (so one bad or huge file never spoils the others; send.js makes it), the batch's CSV download
// and its status line (its words: run-status.js). Each answer is drawn by card.js (a result card, with its heat-map
// controls) or series.js (a multi-slice scan).
// No framework, no build step, nothing loaded from elsewhere.
"use strict";

(function () {
  document.documentElement.classList.replace("no-js", "js");

  const CONCURRENCY = 2;

  const text = window.braintumorText;
  const percent = text.percent, printable = text.printable, csvRow = text.csvRow;
  // One result card (card.js, loaded first): cloned from the page's template, filled from a record.
  const cards = window.braintumorCard({ percent: percent, printable: printable, sentence: text.sentence });
  const newCard = cards.newCard, fillCard = cards.fillCard, wireViewer = cards.wireViewer, nameCard = cards.nameCard;
  const folders = window.braintumorFolders;  // a dropped folder's files (folders.js, loaded first)
  const revisit = window.braintumorRevisit;  // what Back to a page the browser kept no copy of says (revisit.js)
  const runStatus = window.braintumorRunStatus;  // what the status line says of a run (run-status.js)
  let given = 0;  // files given since the page was loaded

  function ready(fn) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", fn);
    else fn();
  }

  function setStatus(el, text, isError) {
    el.textContent = text;
    el.classList.toggle("is-error", Boolean(isError));
  }

  // A pick with nothing to classify (no file, text dropped, a folder without a scan) is said on a line of its own:
  // on the status line it replaced an earlier run's Done line, its summary of the results still shown.
  function pick(text, isError) {
    setStatus(document.getElementById("pick-status"), text, isError);
  }
  // Whether this screen can drop or paste a file: a touch screen's drop zone title says to choose (app.css, its one
  // home), and the page's other lines no longer tell it to drop or paste
  function canDrop() { return getComputedStyle(document.querySelector(".can-drop")).display !== "none"; }

  // A multi-slice upload, or one of several scans (a zip's series), is drawn by series.js (loaded first), with
  // card.js's card helpers.
  const showSeries = function (card, data) {
    window.braintumorSeries({ percent: percent, printable: printable, newCard: newCard, nameCard: nameCard,
      fillCard: fillCard, quiet: quiet }).showSeries(card, data);
  };
  // In a run of many files (handleFiles), a scan's blocks and cards are silent too: true where so
  function quiet(shown) {
    if (run && run.quiet) shown.forEach(cards.quiet);
    return Boolean(run && run.quiet);
  }

  // Every record shown on the page, in upload order, for the CSV download (kept in this tab only).
  const collected = [];
  let downloadUrl = null;

  function offerDownload(form) {
    const columns = JSON.parse(form.dataset.csvColumns);  // JSON: a custom model's class may hold a comma
    const header = columns.map(text.csvCell).join(",");  // quoted as csv.writer quotes the CLI's ("a, b")
    const lines = [header].concat(collected.map(function (rec) { return csvRow(rec, columns); }));
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = URL.createObjectURL(new Blob([lines.join("\n") + "\n"], { type: "text/csv" }));
    document.getElementById("download-csv").href = downloadUrl;
    document.getElementById("downloads").hidden = false;
  }

  // One file's request and its answer's records (send.js, loaded first); a dropped folder's DICOM files the server
  // refuses in one request (a study past its pixels) are sent again a step down, joining the run (handleFiles): each
  // sub-folder's together (folders.stepDown), and a sub-folder's refused in turn file by file. A study was sent file
  // by file at once, said to be "one series".
  const send = window.braintumorSend({ fillCard: fillCard, showSeries: showSeries, sending: cards.sending,
    uploaded: function () { if (run) say(run); }, resend: function (form, job) {
    const parts = folders.stepDown(job.files);
    handleFiles(form, parts || job.files, ["The " + job.files.length + " DICOM files in " + job.name + " could not " +
      "be analysed in one request (" + job.refused + "): " + (parts ? "those of each folder are sent together (a " +
      "series split over folders is shown in parts)." : "each is classified on its own.")]);
  } }), classify = send.classify;

  // The files given since the page was last idle: a second drop or paste while the first is analysed joins it (its
  // count, its two-at-a-time queue, its CSV rows), and the page says "Done" once, for all of them. Each batch had
  // its own: the first to end said "Done: 1 classified" while cards still said "Analysing…", and four went at once.
  let run = null;
  // A file with no name (an image pasted from some programs) is sent, shown and written in the CSV under one name,
  // numbered on the page: its card said "pasted image 1" and its CSV row "pasted-image", the next paste's "1" again.
  let unnamed = 0;
  // How many cards of each name the page has made: a name given again (two screenshots pasted, both "image.png"; a
  // file sent twice) is numbered on its card and its scan's block, "image.png (2)", as a file manager numbers a copy.
  // Two cards of one name had controls, images and regions of one name. The request and the CSV keep its own name.
  const made = new Map();
  function copyOf(name) {
    made.set(name, (made.get(name) || 0) + 1);
    return made.get(name) > 1 ? " (" + made.get(name) + ")" : "";
  }
  function namedCard(name) {
    const copy = copyOf(name), card = newCard(name + copy);
    if (copy) card.dataset.copy = copy;  // for series.js, a scan's block named as its card was
    return card;
  }

  // The run's line while it goes on (sending, analysing), set only when its words change: it is a live region. In a
  // run of many files the count sent is shown, not said (hidden from screen readers, as a card's share sent is): each
  // file sent was said afresh, "Sending 30 files: 1 sent…", "2 sent…", 30 announcements over a slow link.
  function say(current) {
    const line = runStatus.during(current.jobs), status = document.getElementById("page-status");
    const sending = current.quiet && line.match(/^(Sending [^:…]*)(: \d+ sent)?…$/);
    if (line === current.said) return;
    current.said = line;
    if (!sending) return setStatus(status, line, false);
    const count = status.querySelector(".sent-count");
    // its words said already: the count alone changes, unsaid
    if (count && status.firstChild.nodeValue === sending[1]) return (count.textContent = sending[2] || "");
    status.classList.remove("is-error");
    const shown = document.createElement("span");
    shown.className = "sent-count";
    shown.setAttribute("aria-hidden", "true");
    shown.textContent = sending[2] || "";
    status.replaceChildren(sending[1], shown, "…");
  }

  // Files, or {file, path} from a dropped folder (folders.js) with its notes on the files left out and what to say
  // when it held none; the notes stay under the status line for the run.
  function handleFiles(form, files, notes, none) {
    const results = document.getElementById("results");
    const list = Array.from(files);
    const noted = document.getElementById("page-notes");
    // a pick with nothing and no notes of its own keeps the last run's notes, as it keeps its Done line
    if (!run && (list.length || (notes || []).length)) noted.replaceChildren();
    // a paragraph each, added at once in one block: a live region says each node added, and a folder with several
    // kinds of files left out (a .txt, a DICOMDIR) was one announcement per note
    const told = (notes || []).concat(run && none ? [none] : []), block = document.createElement("div");
    told.forEach(function (note) { block.appendChild(document.createElement("p")).textContent = printable(note); });
    if (told.length) noted.appendChild(block);
    if (!list.length) {
      if (!run || !none) pick(none || "No file chosen: choose" + (canDrop() ? ", drop or paste" : "") + " one or " +
        "more images or scans.", true);  // during a run too (its own line); a folder's none joins the run's notes
      return;
    }
    pick("", false);
    // hidden until the run is over (its cards are still filled); a focus on it, or on a Done line's button the run's
    // line replaces, goes where Clear sends it: it fell to the page's body (a paste there), the next Tab at the top
    const clear = document.getElementById("clear-results"), focused = document.activeElement;
    const doneLine = document.getElementById("page-status");
    if (focused === clear || doneLine.contains(focused)) document.getElementById("file-input").focus();
    clear.hidden = true;
    const jobs = list.map(function (item) {
      if (item.files) return { files: item.files, name: item.path, card: namedCard(item.path), kind: "folder" };
      const file = item.file || item, path = item.path;
      // named as the server names what it is sent (text.js sentName): a folder's file after its folder's path
      const own = text.sentName(file.name);
      const folder = path && path.endsWith("/" + file.name) ? path.slice(0, -file.name.length) : "";
      const name = (folder ? folder + own : path === file.name ? own : path) || own || "pasted image " + (unnamed += 1);
      const kind = item.dicom ? "scan" : folders.kindOf(file);  // a folder's DICOM file is one by its bytes
      return { file: file, name: name, folder: folder, card: namedCard(name), kind: kind };
    });
    // Newest first on the page, but in the order they were given within one batch: the run's above older, the
    // cards shown before it (its Done line's buttons go to its own, run-status.js link).
    const older = results.firstElementChild;
    jobs.slice().reverse().forEach(function (job) { results.prepend(job.card); });
    if (!run) run = { jobs: [], next: 0, workers: 0, silent: false, older: older };
    const current = run;
    current.jobs.push.apply(current.jobs, jobs);
    // many files: the status line alone says the run, its cards (those given before too) silent (run-status.js)
    current.quiet = current.jobs.length > runStatus.SAID_EACH;
    if (current.quiet) current.jobs.forEach(function (job) { cards.quiet(job.card); });
    revisit.remember(given += jobs.length);
    say(current);
    // Once the server has left one file unanswered, the run's files not yet sent are not sent: 32 files would
    // otherwise wait out the limit two at a time (half an hour). Those in flight get their own answer or limit.
    const NOT_SENT = "not sent: the server did not answer an earlier file of this batch; try again later";
    async function worker() {
      while (current.next < current.jobs.length) {
        const job = current.jobs[current.next++];
        if (current.silent) {
          const rec = { path: job.name, error: NOT_SENT };
          job.records = [rec];
          job.failed = send.STOPPED;
          fillCard(job.card, rec);
        } else {
          try {
            await classify(form, job);
          } catch (err) {  // an answer this page cannot draw (another server version): said, and the run goes on
            const rec = { path: job.name, error: "this page could not show the server's answer (" + err +
              "); reload the page and try again" };
            job.records = [rec];
            job.failed = "this page could not show the server's answer";
            fillCard(job.card, rec);
          }
        }
        job.over = true;  // its file sent, or never to be (refused, given up on): the status line says so
        say(current);
        current.silent = current.silent || Boolean(job.timedOut);
      }
      current.workers -= 1;
      if (current.workers === 0) finish(form, current);
    }
    while (current.workers < CONCURRENCY && current.workers < current.jobs.length - current.next) {
      current.workers += 1;
      worker();
    }
  }

  function finish(form, current) {
    if (run === current) run = null;
    const pageStatus = document.getElementById("page-status");
    const jobs = current.jobs;
    jobs.forEach(function (job) { collected.push.apply(collected, job.records); });
    offerDownload(form);
    const done = runStatus.done(form, jobs);
    // set at once, its buttons in it (run-status.js link): a live region, said once
    pageStatus.replaceChildren.apply(pageStatus, runStatus.link(done, jobs, current.older));
    pageStatus.classList.toggle("is-error", done.failed);
    document.getElementById("clear-results").hidden = false;
    titled(true);
  }

  // The page's title says results are shown, as the no-JavaScript results page's does ("Results · Brain MRI
  // classifier", index.html), once a run is over, until Clear: it never changed, the first thing a screen reader says
  // of a tab the same for the empty form and 30 results.
  const RESULTS = "Results · ";
  function titled(shown) {
    const plain = document.title.indexOf(RESULTS) === 0 ? document.title.slice(RESULTS.length) : document.title;
    document.title = (shown ? RESULTS : "") + plain;
  }

  // A shared workstation's next user sees none of the results: the cards, the Done line, the notes and the CSV (its
  // object URL revoked) go, the names' numbering starts again; the focus goes back to the file chooser, and then the
  // status line (a polite live region) says so, a tick later: said first, a screen reader's reading of the newly
  // focused chooser could cut "Results cleared" off. Only a reload cleared them.
  function clearResults(input) {
    ["results", "page-notes"].forEach(function (id) { document.getElementById(id).replaceChildren(); });
    pick("", false);
    document.getElementById("scan-status").textContent = "";
    collected.length = 0;
    if (downloadUrl) URL.revokeObjectURL(downloadUrl);
    downloadUrl = null;
    document.getElementById("download-csv").href = "#";
    document.getElementById("downloads").hidden = true;
    document.getElementById("clear-results").hidden = true;
    made.clear();
    unnamed = 0;
    revisit.remember(given = 0);
    titled(false);
    const status = document.getElementById("page-status");
    setStatus(status, "", false);  // the Done line goes at once
    input.focus();
    setTimeout(function () {  // not over a run started since (a paste at once)
      if (!run && !status.textContent) setStatus(status, "Results cleared", false);
    }, 100);
  }

  ready(function () {
    document.querySelectorAll(".card").forEach(wireViewer);
    const form = document.getElementById("upload-form");
    if (!form) return;
    const lost = revisit.lost(canDrop());
    if (lost) setStatus(document.getElementById("page-status"), lost, false);
    // The limits of this path, not the form's one request (up to 32 files): each file is sent on its own, and a
    // folder, dropped or chosen, gives up to folders.MAX_TAKEN of its files.
    document.getElementById("hint-limits").textContent = "any number of files, each up to " +
      form.dataset.maxSlices + " slices and " + form.dataset.maxMb + " MiB; from a folder " +
      (canDrop() ? "dropped or chosen" : "chosen") + ", its first " + folders.MAX_TAKEN + " images or scans";
    const input = document.getElementById("file-input");
    document.getElementById("clear-results").addEventListener("click", function () { clearResults(input); });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      handleFiles(form, input.files);
      input.value = "";
    });
    input.addEventListener("change", function () {
      if (input.files.length) {
        handleFiles(form, input.files);
        input.value = "";
      }
    });
    // drops, pastes and folders (drop.js, loaded first): their files join the run as the chooser's do
    window.braintumorDrop(form, { handleFiles: handleFiles, pick: pick, canDrop: canDrop,
      running: function () { return Boolean(run); } });
  });
})();
