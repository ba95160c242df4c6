// A folder chosen in the page's folder picker (<input webkitdirectory>), for a keyboard: only a folder dragged onto
// the page was walked (folders.js), its DICOM files read as series, and a keyboard cannot drag; chosen one by one in
// the file picker they were classified one by one, with no series summary. The picker gives the folder's files with
// their paths (webkitRelativePath, "study/sub/IM0001"); here they become the entries a drop gives (FileSystemEntry:
// name, fullPath, isFile, isDirectory, file(), createReader().readEntries()), for folders.js to walk as a drop's.
// Loaded before app.js; no framework, nothing loaded from elsewhere.
"use strict";

window.braintumorFolderPicker = function (files) {
  const folders = new Map(), tops = [];
  function folder(path) {  // the entry of the folder at ``path`` ("study/sub"), made with those above it
    if (!folders.has(path)) {
      const at = path.lastIndexOf("/"), children = [];
      const entry = { name: path.slice(at + 1), fullPath: "/" + path, isFile: false, isDirectory: true,
        createReader: function () {
          let read = false;  // its children in one batch, then none: the end, as readEntries says it
          return { readEntries: function (ok) { const batch = read ? [] : children; read = true; ok(batch); } };
        } };
      folders.set(path, { entry: entry, children: children });
      (at > 0 ? folder(path.slice(0, at)).children : tops).push(entry);
    }
    return folders.get(path);
  }
  Array.from(files).forEach(function (file) {
    const path = file.webkitRelativePath || file.name, at = path.lastIndexOf("/");
    const entry = { name: file.name, fullPath: "/" + path, isFile: true, isDirectory: false,
      file: function (ok) { ok(file); } };
    (at > 0 ? folder(path.slice(0, at)).children : tops).push(entry);
  });
  return tops.map(function (entry) { return { file: null, entry: entry }; });  // as folders.dropped gives a drop
};
