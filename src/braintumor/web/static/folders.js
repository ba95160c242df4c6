// A folder dropped on the page (users drag a folder of slices from their file manager): walked here, in the browser,
// as the CLI walks one (hidden files and folders passed over, names in order, files before sub-folders), and its
// images and scans handed to app.js as if dropped one by one, each named by its path in the drop, a dropped folder's
// DICOM slices together (series: one request, a block per series). A folder arrived as one File the browser cannot
// read, and its one card said so. Loaded before app.js, which takes it from window.braintumorFolders; no framework,
// nothing loaded from elsewhere.
"use strict";

window.braintumorFolders = (function () {
  // Taken by their ending: the CLI's image endings, DICOM and NIfTI scans. Any other file is taken when its bytes
  // say DICOM (not read when its ending is of a type never a scan, a .txt or .pdf, as the CLI does not read it): a
  // scanner names its slices IM0001 or by their UID (1.2.840.113619.2.55.3.12), with no ending or a number for one.
  // A zip in the folder is named in a note, not sent, as the CLI does not open one in a folder (a folder holding a
  // series and its zip would have it classified twice); a zip dropped itself is sent.
  const TAKEN = /\.(jpe?g|jpe|jfif|png|bmp|tiff?|webp|dcm|dicom|nii|nii\.gz)$/i;
  const SHOWN = 3;  // names a note lists before "and N more", as folder_notes.SHOWN
  const DICOM = /\.(dcm|dicom)$/i;
  const SYSTEM = ["__macosx", "thumbs.db", "ehthumbs.db", "desktop.ini"];  // as image_files.SYSTEM_NAMES
  // Images or scans taken from one drop: each is a request and a card with its heat map on the page (a study of
  // several series, or a home folder dropped by mistake, would be thousands). A folder's DICOM series is one of them
  // (one request, within the server's slices and bytes for one: series), counted once it is grouped: its slices
  // counted one by one made a 300-slice folder a 200-slice series and a note.
  const MAX_TAKEN = 200;
  const MAX_SEEN = 5000;  // files looked at in one drop: beyond, the folder is not walked further

  // Never data, as image_files.is_hidden_name: .DS_Store, a Mac's ._scan.dcm, __MACOSX, Windows' thumbnail caches.
  function hidden(name) { return name.charAt(0) === "." || SYSTEM.indexOf(name.toLowerCase()) >= 0; }

  const count = window.braintumorText.counted, joined = window.braintumorText.joined;  // text.js, loaded first

  // What a file given to the page is called in its "Analysing…" line, in the words of its hint ("images or scans"):
  // an image by its ending (or its type: a pasted one may have no name), a scan by a DICOM or NIfTI ending, a zip as a
  // zip (the server answers each series or volume in it as a scan: a study's T1 and FLAIR were "1 scan"); one of no
  // telling name (a DICOM named IM0001) a file.
  function kindOf(file) {
    return /\.zip$/i.test(file.name) ? "zip" : /\.(dcm|dicom|nii|nii\.gz)$/i.test(file.name) ? "scan"
      : TAKEN.test(file.name) || (!file.name && /^image\//.test(file.type)) ? "image" : "file";
  }

  // The drop's entries and files, read while the drop event lasts (its items are unreadable after it).
  function dropped(dataTransfer) {
    const files = Array.from(dataTransfer.files || []);
    const items = Array.from(dataTransfer.items || []).filter(function (i) { return i.kind === "file"; });
    return files.map(function (file, i) {
      const item = items[i];
      return { file: file, entry: item && item.webkitGetAsEntry ? item.webkitGetAsEntry() : null };
    });
  }

  function hasFolder(drop) { return drop.some(function (d) { return d.entry && d.entry.isDirectory; }); }

  // All of one folder's entries: readEntries gives them in batches (100 at a time in Chromium) until an empty one.
  function readAll(folder) {
    const reader = folder.createReader(), all = [];
    return new Promise(function (resolve, reject) {
      (function next() {
        reader.readEntries(function (batch) {
          if (!batch.length) return resolve(all);
          all.push.apply(all, batch);
          next();
        }, reject);
      })();
    });
  }

  function fileOf(entry) { return new Promise(function (resolve, reject) { entry.file(resolve, reject); }); }

  const isDicomHead = window.braintumorDicomSniff.isDicomHead, held = window.braintumorCompressed.held;  // loaded first
  const leftOut = window.braintumorLeftOut, leftOutAs = leftOut.leftOutAs, suffix = leftOut.suffix, ZIP = leftOut.ZIP;

  // A walked file's first 132 bytes, to tell DICOM (and an image with no ending) by; none for a name of a type never
  // a scan (notScan, as dicom_sniff.worth_sniffing), never read, nor for a file that cannot be read.
  async function headOf(file, notScan) {
    if (!worthSniffing(file.name, notScan)) return new Uint8Array(0);
    try {
      return new Uint8Array(await file.slice(0, 132).arrayBuffer());
    } catch (err) {
      return new Uint8Array(0);
    }
  }

  function listed(paths) { return paths.slice(0, SHOWN).join(", ") + (paths.length > SHOWN ? " and " +
    (paths.length - SHOWN) + " more" : ""); }

  // Whether the walk reads a file's first bytes to learn if it is DICOM, as dicom_sniff.worth_sniffing: not for an
  // ending of a type never a scan (limits.notScan, the CLI's list from the page): a .txt holding DICOM bytes was
  // taken by the page, and not by braintumor predict.
  function worthSniffing(name, notScan) { return !suffix(name) || notScan.indexOf(suffix(name)) < 0; }

  function ending(name) {  // how the summary line names a kind of file left out
    const dot = name.lastIndexOf(".");
    return dot > 0 ? name.slice(dot).toLowerCase() : "with no ending";
  }

  function folderOf(path) { return path.slice(0, Math.max(path.lastIndexOf("/"), 0)); }

  function inFolders(group, key) {  // {key: its items}, in order
    const out = new Map();
    group.forEach(function (i) { out.set(key(i.path), (out.get(key(i.path)) || []).concat([i])); });
    return out;
  }

  function common(group) {  // the deepest folder holding every file of ``group``
    return group.map(function (i) { return folderOf(i.path).split("/"); }).reduce(function (a, b) {
      let n = 0;
      while (n < a.length && n < b.length && a[n] === b[n]) n += 1;
      return a.slice(0, n);
    }).join("/");
  }

  // The DICOM slices of each dropped folder, two or more, as one item {files: [{file, path}], path}, where the first
  // of them was: sent in one request, as a zip (zip.js), read by the server as braintumor predict reads the folder:
  // a series per Series Instance UID wherever its files sit (one split over sub-folders is one series, not two
  // halves; two in one folder or in two are two), named by the folder holding them all. Past one request's limits
  // ({slices, bytes}: the server's, from the page), each sub-folder's are sent together, and a sub-folder's past them
  // one by one, with notes kept by the first file (said only when that file is analysed: noted).
  function series(items, limits) {
    const noted = new Map(), joined = new Map();
    const most = limits.slices + " slices, " + Math.round(limits.bytes / 1048576) + " MiB";
    function note(item, text) { noted.set(item, (noted.get(item) || []).concat([text])); }
    function join(group) {  // whether ``group`` fits in one request, joined when it does
      const bytes = group.reduce(function (n, i) { return n + i.file.size; }, 0) +
        window.braintumorZip.overhead(group.map(function (i) { return i.file.name; }));
      if (group.length > limits.slices || bytes > limits.bytes) return false;
      joined.set(group[0], { files: group, path: common(group) });
      group.slice(1).forEach(function (i) { joined.set(i, null); });
      return true;
    }
    const dicoms = items.filter(function (i) { return i.path && i.dicom; });  // never a file dropped itself
    inFolders(dicoms, function (path) { return path.split("/")[0]; }).forEach(function (group) {
      if (group.length < 2 || join(group)) return;
      const parts = inFolders(group, folderOf);
      if (parts.size > 1) {
        note(group[0], "The " + group.length + " DICOM files in " + common(group) + " are more than one request " +
          "takes (" + most + "): those of each folder are sent together (a series split over folders is shown in " +
          "parts).");
      }
      parts.forEach(function (part, folder) {
        if (part.length < 2 || join(part)) return;
        note(part[0], "The " + part.length + " DICOM files in " + folder + " are more than one request takes (" +
          most + "): each is classified on its own, with no series summary (a .zip of fewer of them gets one).");
      });
    });
    const out = items.map(function (i) { return joined.has(i) ? joined.get(i) : i; }), said = new Map();
    items.forEach(function (i, k) { if (noted.has(i)) said.set(out[k], noted.get(i)); });  // a first file, never null
    return { items: out.filter(Boolean), noted: said };
  }

  // The files of a zip the server refused (a study past one request's pixels, which the page cannot see) a step down:
  // those of each folder as a zip of their own (one file: itself), or null when they all sit in one folder.
  function stepDown(files) {
    const parts = Array.from(inFolders(files, folderOf).values());
    return parts.length < 2 ? null
      : parts.map(function (p) { return p.length > 1 ? { files: p, path: common(p) } : p[0]; });
  }

  // The drop's files to classify, [{file, path}] (a folder's DICOM slices grouped: series), in order, and the notes
  // on what was left: {items, notes, none}.
  // A file dropped beside the folder is taken whatever its name (as the CLI sniffs a file it is given).
  async function walk(drop, limits) {
    const found = [], unreadFolders = [];
    let cut = false;
    async function visit(entry, given) {
      if (cut || (!given && hidden(entry.name))) return;
      if (entry.isFile) {
        if (found.length >= MAX_SEEN) cut = true;
        else found.push({ entry: entry, given: given });
        return;
      }
      let children;
      try {
        children = await readAll(entry);
      } catch (err) {
        unreadFolders.push(entry.fullPath.replace(/^\//, ""));
        return;
      }
      children.sort(function (a, b) { return a.name < b.name ? -1 : a.name > b.name ? 1 : 0; });
      for (const child of children) if (child.isFile) await visit(child, false);
      for (const child of children) if (child.isDirectory) await visit(child, false);
    }
    const items = [], skipped = {}, passed = { dicomdir: [], zip: [], pair: [], image: [] };
    const notScan = limits.notScan || [], formats = limits.formats || {}, other = {};
    let unread = 0, others = 0;
    for (const d of drop) {
      if (d.entry) await visit(d.entry, true);
      else items.push({ file: d.file });  // no entry from this browser: the file as dropped
    }
    for (const f of found) {
      const name = f.entry.name;
      if (!f.given && ZIP.test(name)) {  // not read: named in a note
        passed.zip.push(f.entry.fullPath.replace(/^\//, ""));
        continue;
      }
      let file;
      try {
        file = await fileOf(f.entry);
      } catch (err) {
        unread += 1;
        continue;
      }
      const typed = TAKEN.test(name);
      // a slice of a series in one of the folders, sent with the folder's others (series): a .dcm or .dicom whatever
      // its bytes, as the CLI takes it (one sent alone was a second card beside its series), another file when its
      // bytes say DICOM; a gzip passed over is said by what it holds, as the CLI says it (compressed.js)
      const head = f.given || typed ? null : await headOf(file, notScan);
      const index = !f.given && name.toLowerCase() === "dicomdir";  // never read as a scan, as by the CLI
      const dicom = !f.given && !index && (DICOM.test(name) || (!typed && isDicomHead(head)));
      const kind = f.given || typed || dicom ? null : await held(leftOutAs(name, head, formats), file, formats);
      if (f.given || typed || dicom) {
        items.push({ file: file, path: f.given ? name : f.entry.fullPath.replace(/^\//, ""), dicom: dicom });
      } else if (kind && kind.indexOf("other:") === 0) {  // a note per format, as folder_notes.other_format_notes
        const format = kind.slice(6);
        (other[format] = other[format] || []).push(f.entry.fullPath.replace(/^\//, ""));
      } else if (kind) {  // looks like an input: named in a note saying how to have it read, as the CLI's
        (passed[kind] = passed[kind] || []).push(f.entry.fullPath.replace(/^\//, ""));  // compressed: by why
      } else {
        others += 1;
        skipped[ending(name)] = (skipped[ending(name)] || 0) + 1;
      }
    }
    // the first MAX_TAKEN images or scans, a series as one (every file looked at is read first: at most MAX_SEEN)
    const grouped = series(items, limits), taken = grouped.items.slice(0, MAX_TAKEN);
    const left = grouped.items.slice(MAX_TAKEN).reduce(function (n, i) { return n + (i.files || [i]).length; }, 0);
    const notes = [];
    if (others) {
      notes.push("Skipped " + count(others, "file") + " in the folder that " + (others === 1 ? "is" : "are") +
        " not an image or a scan (" + Object.keys(skipped).sort().map(function (k) {
        return skipped[k] + " " + k; }).join(", ") + ").");
    }
    const said = Object.keys(passed).filter(function (kind) { return passed[kind].length; });
    said.forEach(function (kind) {  // the CLI's words (folder_notes.LEFT_OUT_WHY, compressed_notes), in its order
      const paths = passed[kind], packed = !kind.indexOf("compressed:");  // then its why after the colon
      notes.push("Skipped " + count(paths.length, kind === "zip" ? ".zip file" : "file") + " in the folder (" +
        (packed ? (paths.length > 1 ? "each " : "") + kind.slice(11) : (limits.why || {})[kind]) + "): " +
        listed(paths) + ".");
    });
    const kinds = Object.keys(other).sort(), words = formats.words || [];  // in image_io's words (one home: wording)
    kinds.forEach(function (format) {
      notes.push("Skipped " + count(other[format].length, format + " file") + " in the folder (" +
        listed(other[format]) + "), " + words[other[format].length > 1 ? 1 : 0] + ".");
    });
    if (cut) {  // the files looked at ran out first (a folder of notes said "more than 0 more files were left out")
      notes.push("Only the first " + MAX_SEEN + " files were looked at" + (left ? " and the first " + MAX_TAKEN +
        " images or scans analysed" : "") + "; the others were left out: drop or choose them in smaller folders.");
    } else if (left) {
      notes.push("Only the first " + MAX_TAKEN + " images or scans are analysed: " + left + " more " +
        (left === 1 ? "file was" : "files were") + " left out; drop or choose them in smaller folders.");
    }
    if (unread) notes.push(count(unread, "file") + " in the folder could not be read by this browser.");
    unreadFolders.forEach(function (path) { notes.push("This browser could not read the folder " + path + "."); });
    taken.forEach(function (i) { notes.push.apply(notes, grouped.noted.get(i) || []); });
    const counts = kinds.map(function (format) { return count(other[format].length, format + " file"); });
    const only = kinds.length && !said.length ? "Only " + joined(counts) + " in the folder, " +
      words[kinds.length > 1 ? 2 : other[kinds[0]].length > 1 ? 1 : 0] + "." : null;  // as only_other_formats
    const packed = !kinds.length && said.length && said.every(function (k) { return !k.indexOf("compressed:"); }) ?
      "Only " + count(said.reduce(function (n, k) { return n + passed[k].length; }, 0), "compressed file") +
      " in the folder: " + said.map(function (k, i) { return (i && i === said.length - 1 ? "and " : "") +
      listed(passed[k]) + (passed[k].length > 1 ? " are each " : " is ") + k.slice(11); }).join("; ") + "." : null;
    return { items: taken, notes: notes, none: items.length ? null : only || packed  // wording.NOTHING_FOUND,
      || "No image or scan found in the folder (JPEG, PNG, BMP, TIFF, WebP, DICOM or NIfTI)." };  // the CLI's
  }

  return { dropped: dropped, hasFolder: hasFolder, walk: walk, stepDown: stepDown, isDicomHead: isDicomHead,
    kindOf: kindOf, MAX_TAKEN: MAX_TAKEN };
})();
