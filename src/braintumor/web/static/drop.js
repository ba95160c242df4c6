// How files reach the page besides the file chooser: dropped (on the drop zone, or anywhere once it has scrolled
// away), pasted, or a folder dropped or chosen in the folder picker, walked by folders.js. Each gives its files to
// app.js's run (helpers.handleFiles). Loaded before app.js; no framework, nothing loaded from elsewhere.
"use strict";

window.braintumorDrop = function (form, helpers) {
  const folders = window.braintumorFolders;
  const zone = document.getElementById("dropzone");

  // What one request takes (the server's limits, from the page), less room for the multipart framing around a zip.
  // And the endings a folder walk never opens, and why the files it passes over were not read (the CLI's:
  // dicom_sniff.NOT_SCAN_SUFFIXES, folder_notes.LEFT_OUT_WHY), and the endings and words of formats not read.
  function limits() {
    return { slices: Number(form.dataset.maxSlices),
      bytes: Math.min(Number(form.dataset.maxBytes), Number(form.dataset.maxScanBytes)) - 4096,
      notScan: (form.dataset.notScanSuffixes || "").split(" ").filter(Boolean),
      why: JSON.parse(form.dataset.leftOutWhy || "{}"), formats: JSON.parse(form.dataset.unreadFormats || "{}") };
  }

  ["dragenter", "dragover"].forEach(function (type) {
    zone.addEventListener(type, function (event) {
      event.preventDefault();
      zone.classList.add("is-over");
    });
  });
  ["dragleave", "dragend"].forEach(function (type) {
    zone.addEventListener(type, function () { zone.classList.remove("is-over"); });
  });
  function take(event) {
    const drop = folders.dropped(event.dataTransfer);  // now: the drop's items are gone once the event is over
    if (!folders.hasFolder(drop)) {
      helpers.handleFiles(form, event.dataTransfer.files);
      return;
    }
    walk(drop);
  }
  // A folder dropped, or chosen in the folder picker (folder-picker.js: a keyboard cannot drag one), walked alike.
  function walk(drop) {
    if (!helpers.running()) helpers.pick("Reading the folder…", false);
    // a walk that fails outright (an error it does not expect) is said, as a folder with nothing to classify is:
    // the page stayed at "Reading the folder…" for good
    folders.walk(drop, limits()).then(function (found) {
      helpers.handleFiles(form, found.items, found.notes, found.none);
    }, function (err) {
      // a touch screen (helpers.canDrop, app.css's rule) is not told to drop: its drop zone says to choose
      helpers.handleFiles(form, [], [], "This browser could not read the folder (" + err + "): " +
        (helpers.canDrop() ? "drop or choose" : "choose") + " its files instead.");
    });
  }
  const folderInput = document.getElementById("folder-input");
  // an empty folder chosen gives no files (a cancel gives no change: the input is emptied after each): said, as a
  // dropped empty folder is, not a page that did nothing
  folderInput.addEventListener("change", function () {
    walk(window.braintumorFolderPicker(folderInput.files));
    folderInput.value = "";
  });
  // Files dropped anywhere on the page are taken as on the zone (beside it, on the results once it has scrolled
  // away, they were kept from opening in the browser and then sent nowhere, without a word); a drop without files
  // (text, a link) is taken only on the zone, and never opened by the browser.
  window.addEventListener("dragover", function (event) { event.preventDefault(); });
  window.addEventListener("drop", function (event) {
    event.preventDefault();
    zone.classList.remove("is-over");
    if (zone.contains(event.target) || Array.from(event.dataTransfer.types).indexOf("Files") >= 0) take(event);
  });
  document.addEventListener("paste", function (event) {
    const files = Array.from((event.clipboardData && event.clipboardData.files) || []);
    if (files.length) {
      event.preventDefault();
      helpers.handleFiles(form, files);
    }
  });
};
