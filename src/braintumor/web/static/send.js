// One file's request to the API and how its answer becomes the records of its card: the size check before sending,
// the time limit on the answer, a dropped folder's path given back to the answers, and the words for each way it can
// fail (the file unreadable, the server unreachable, silent or refusing it). Loaded before app.js, which hands it
// card.js's fillCard and series.js's showSeries; no framework, nothing loaded from elsewhere.
"use strict";

window.braintumorSend = function (helpers) {
  const fillCard = helpers.fillCard, showSeries = helpers.showSeries;

  function keep(job, rec) {
    const copy = Object.assign({}, rec);
    delete copy.heatmap_png_base64;
    delete copy.image_png_base64;
    job.records.push(copy);
  }

  const UNREADABLE = "this browser could not read the file: a folder (choose or drop the files in it, or a .zip " +
    "of them), or a file moved or deleted since it was chosen";

  // The first chunk read as a stream: a file deleted since it was chosen has a size of 0 in Chromium, so a one-byte
  // slice of it read as nothing, without an error, and its failed upload was blamed on the connection.
  async function readable(file) {
    try {
      const reader = file.stream().getReader();
      await reader.read();
      reader.cancel().catch(function () {});
      return true;
    } catch (err) {
      return false;
    }
  }

  // How long the page waits for the server's answer once a file is sent, and while it is sent (or its answer read),
  // for the next progress: the page's data-answer-timeout-s.
  function answerLimit(form) {
    const seconds = Number(form.dataset.answerTimeoutS);
    return 1000 * (seconds > 0 ? seconds : 120);
  }

  // The request, by XMLHttpRequest, which sees its upload's progress: the limit counts from the end of the upload
  // and, while it goes on, from its last progress. fetch sees neither: it counted from the start, a second per MB for
  // the upload, and a scan sent over a link slower than that (to a proxy that takes the whole body first) was given up
  // on while still being sent, its upload cut off, "the server did not answer". Resolves to a fetch-like answer
  // ({status, ok, headers.get, text}), null where none came, or "timeout". sent(share): the upload's progress, 0 to 1,
  // then null once it is all sent.
  function post(url, body, limit, sent) {
    return new Promise(function (resolve) {
      const xhr = new XMLHttpRequest();
      let timer = null;
      const arm = function () {
        clearTimeout(timer);
        timer = setTimeout(function () { resolve("timeout"); xhr.abort(); }, limit);
      };
      const end = function (answer) { clearTimeout(timer); resolve(answer); };
      xhr.upload.addEventListener("progress", function (event) {
        arm();
        if (event.lengthComputable && event.total) sent(event.loaded / event.total);
      });
      xhr.upload.addEventListener("load", function () { arm(); sent(null); });
      xhr.addEventListener("progress", arm);  // the answer's body, as it arrives
      xhr.addEventListener("load", function () {
        end({ status: xhr.status, ok: xhr.status >= 200 && xhr.status < 300, text: xhr.responseText,
          headers: { get: function (name) { return xhr.getResponseHeader(name); } } });
      });
      ["error", "abort"].forEach(function (type) { xhr.addEventListener(type, function () { end(null); }); });
      xhr.open("POST", url);
      xhr.send(body);
      arm();
    });
  }

  // A file from a dropped folder is named by its path in the drop on its card and in the CSV, but sent by its own
  // name (a folder's name can hold a patient's; the server keeps no folder part): its answers get the folder back.
  // A folder's DICOM series (folders.series) is sent as one zip, "series.zip": its answers get the folder's path.
  function inFolder(job, data) {
    data.results.concat(data.series || []).forEach(function (r) {
      if (job.files) r.path = job.name;
      else if (job.folder) r.path = job.folder + r.path;
    });
  }

  // A folder's DICOM files the server refused whole (past a limit the page cannot see, such as its pixels), or that
  // this browser could not zip (a file moved since the drop): sent again a step down (app.js: each sub-folder's
  // together, or one by one), each with its own answer, and its card makes way for theirs.
  function resend(form, job, why) {
    job.resent = true;
    job.refused = why;
    job.card.remove();
    helpers.resend(form, job);
  }

  const SIGN_IN = "reload the page, sign in if asked, and try again";

  // What an answer without a message of its own (a proxy's page) means, where its status says more than a number.
  // A 5xx's too: a proxy's 502 or 504 said only "the server answered HTTP 504", not that the file was not at fault
  // nor to try again.
  function statusWords(form, response) {
    const wait = Number(response.headers.get("Retry-After"));  // seconds (an HTTP date is not a number: no wait said)
    const again = wait > 0 ? "try again in " + Math.ceil(wait) + " s" : "try again later";
    return { 401: ": it asks to sign in (a session may have ended); " + SIGN_IN,
      403: ": it refused this upload (forbidden, not for want of signing in); ask its operator if it goes on",
      413: ": the file is too large for the server (a proxy in front of it may take less than " +
        form.dataset.maxMb + " MiB)",
      429: ": it is turning requests away for now (too many at once); " + again,
      502: ": a proxy in front of it could not reach it (down or restarting); " + again,
      503: ": it is unavailable for now (overloaded, starting or being updated); " + again,
      504: ": a proxy in front of it stopped waiting for its answer (a slow analysis or a busy server); " + again
    }[response.status] || (response.status >= 500 ? ": a server error, not this file's; " + again +
      ", and tell its operator if it goes on" : "");
  }

  // Why a file the server did not analyse was not, in a few words for the Done line (run-status.js), which says them where
  // all such files share them: it said "the server failed or could not be reached" of a 429 or a 401, under cards
  // that gave the reason. "" where the answer is about the file itself. The card says it in full (statusWords). A
  // 403 is a refusal, not a sign-in (it said "the server may ask to sign in" of the cross-site check's,
  // web/origins.py): the server's own message where it sent one (data.error), as the card's.
  const STOPPED = "the server stopped answering", SIGNED_OUT = "the server may ask to sign in; reload the page";
  function notAnalysed(response, foreign, data) {
    if (!response) return "the server could not be reached";
    if (foreign) return SIGNED_OUT;
    if (response.status === 403) return (data && data.error) || "the server refused the upload as forbidden";
    // the app's own 503 says why (web/model_failures.py: its model file gives scores that are not finite), which no
    // wait mends: "unavailable for now" (a proxy's, a restart) had the user try again
    if (response.status === 503 && data && data.error) return "the server's model failed; tell its operator";
    return { 401: SIGNED_OUT, 408: "the upload was too slow",
      429: "the server is turning requests away for now", 503: "the server is unavailable for now" }[response.status] ||
      (response.status >= 500 ? "the server failed" : "");
  }

  async function classify(form, job) {
    job.records = [];
    if (job.files) {
      try {
        const blob = await window.braintumorZip.zip(job.files.map(function (i) { return { name: i.file.name,
          file: i.file }; }));
        job.file = new File([blob], "series.zip", { type: "application/zip" });
      } catch (err) {
        resend(form, job, "this browser could not read one of them");
        return;
      }
    }
    const file = job.file, card = job.card, name = job.name;
    if (file.size > Number(form.dataset.maxBytes)) {
      const rec = { path: name, error: "file too large: the limit is " + form.dataset.maxMb + " MiB: send " +
        form.dataset.sendSmaller };  // wording.SEND_SMALLER
      keep(job, rec);
      fillCard(card, rec);
      return;
    }
    const body = new FormData();
    body.append("file", file, job.files || job.folder ? file.name : name);
    let data = null;
    // A server that never answers (hung, or a proxy holding the connection) left the card at "Analysing…" for good.
    const limit = answerLimit(form);
    // an upload still going on after a second says so on its card (it said "Analysing…" while the file was sent); a
    // quicker one is not announced twice. job.upload: "slow" from then, "sent" once the server has it all, for the
    // page's status line (app.js, run-status.js), told of each change (helpers.uploaded), not of each step
    const started = Date.now();
    const sent = function (share) {
      const upload = share === null ? "sent" : job.upload || (Date.now() - started < 1000 ? undefined : "slow");
      if (upload === "slow" || job.upload === "slow") helpers.sending(card, share);
      if (upload === job.upload) return;
      job.upload = upload;
      job.slow = job.slow || upload === "slow";  // the run's line says "Sending" from then until all are sent
      helpers.uploaded();
    };
    let response = await post(form.dataset.api + "?heatmap=1", body, limit, sent);
    const timedOut = response === "timeout";
    response = timedOut ? null : response;
    try {
      data = response ? JSON.parse(response.text) : null;
    } catch (err) {
      data = null;
    }
    if (job.files && response && response.status === 400 && data && Array.isArray(data.results) &&
        data.results.length && data.results.every(function (r) { return r.error; })) {
      resend(form, job, data.results[0].error);
      return;
    }
    if (data && Array.isArray(data.results) && data.results.length) {
      inFolder(job, data);
      data.results.forEach(function (rec) { keep(job, rec); });
      // several scans (a zip's series, one-image ones too) each shown, not only the first
      if ((Array.isArray(data.series) && data.series.length) || data.results.length > 1) showSeries(card, data);
      else fillCard(card, data.results[0]);
      return;
    }
    if (timedOut) {  // not the file's fault: counted with the server's failures, and said as such
      job.failed = STOPPED;
      job.timedOut = true;
      const rec = { path: name, error: "the server did not answer within " + Math.max(1, Math.round(limit / 1000)) +
        " s (it may be overloaded, or the connection stalled); try again later" };
      keep(job, rec);
      fillCard(card, rec);
      return;
    }
    // a request that never left: the browser could not read the file (a dropped folder fails the same way)
    const unread = !response && !(await readable(file));
    // an answer that is not the API's though it says it went well: a proxy's sign-in page after a redirect
    const foreign = response && response.ok && !(data && data.error);
    // no answer about the file itself: the connection or the server failed, was too busy (429), asked to sign in
    // (401) or refused it (403), had the upload arrive too slowly (408, the server's own on a slow network) or was
    // not the API: not the file's fault. Those were "unreadable".
    job.failed = !unread && notAnalysed(response, foreign, data);
    const rec = { path: name, error: unread ? UNREADABLE
      : !response ? "could not reach the server; check the connection and try again"
      : foreign ? "the server's answer was not the classifier's (a proxy's sign-in or error page?); " + SIGN_IN
      : (data && data.error) || "the server answered HTTP " + response.status + statusWords(form, response) };
    keep(job, rec);
    // the card's sentence capitalised here (text.sentence reads "... HTTP 504: ..." as a zip member's name, "scan 1:
    // ...", and leaves it); the CSV keeps the clause, as every other error's: it had "The server ..." for these alone
    const bare = !(data && data.error) && /^the server answered HTTP /.test(rec.error);
    fillCard(card, bare ? Object.assign({}, rec, { error: "T" + rec.error.slice(1) }) : rec);
  }

  return { classify: classify, STOPPED: STOPPED };
};
