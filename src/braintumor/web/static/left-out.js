// Why a file a dropped folder's walk passed over is worth a note, as folder_notes.left_out_as tells it for the CLI:
// apart from the walk (folders.js), which had reached 299 lines. Loaded before folders.js, which takes it from
// window.braintumorLeftOut; no framework, nothing loaded from elsewhere.
"use strict";

window.braintumorLeftOut = (function () {
  const ZIP = /\.zip$/i;  // a zip in a folder: named in a note, not sent (folders.js)

  // Why a file the walk passed over (no image ending, not DICOM nor NIfTI) is worth a note, as folder_notes.
  // left_out_as tells it (tests/test_browser_folder_walk.py asks both): "dicomdir" (an export's index, by its name),
  // "zip", "pair" (half of a .hdr/.img pair: nifti_header.PAIR_IMAGE_ENDINGS), "image" (an image format's first
  // bytes), "compressed:WHY" (gzip, bzip2, xz: the server's words for it, ``formats.compressed``; what it holds is
  // said by the walk, compressed.js), "other:GIF" (a format not read, by an ending of ``formats.endings``, image_files.
  // OTHER_FORMAT_ENDINGS, or by its first bytes: image_headers.OTHER_FORMAT_SIGNATURES), or null for any other file.
  const PAIR = /\.(hdr|hdr\.gz|img|img\.gz)$/i;
  const IMAGE_STARTS = [[0xff, 0xd8, 0xff], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], [0x49, 0x49, 0x2a, 0],
    [0x4d, 0x4d, 0, 0x2a]];  // JPEG, PNG, TIFF (both byte orders): folder_notes._IMAGE_STARTS
  function startsWith(head, bytes, at) {
    return bytes.every(function (b, i) { return head[(at || 0) + i] === b; });
  }
  function formatOf(head, signatures) {  // the patterns' bytes are \xNN escapes: one character per byte here
    const text = String.fromCharCode.apply(null, head.subarray(0, 256));
    const found = (signatures || []).find(function (s) { return new RegExp("^(?:" + s[1] + ")").test(text); });
    return found ? "other:" + found[0] : null;
  }
  function leftOutAs(name, head, formats) {
    if (name.toLowerCase() === "dicomdir") return "dicomdir";
    if (ZIP.test(name)) return "zip";
    if (IMAGE_STARTS.some(function (start) { return startsWith(head, start); }) ||
        (startsWith(head, [0x52, 0x49, 0x46, 0x46]) && startsWith(head, [0x57, 0x45, 0x42, 0x50], 8))) return "image";
    const endings = formats.endings || {};
    if (Object.prototype.hasOwnProperty.call(endings, suffix(name))) return "other:" + endings[suffix(name)];
    if (PAIR.test(name)) return "pair";
    const packed = ((formats.compressed || {}).kinds || []).find(function (c) { return startsWith(head, c[0]); });
    return packed ? "compressed:" + packed[1][""] : formatOf(head, formats.signatures);
  }

  function suffix(name) {  // as Path.suffix, lower case: the last dot-part, none for ".x" or "x."
    const dot = name.lastIndexOf(".");
    return dot > 0 && dot < name.length - 1 ? name.slice(dot).toLowerCase() : "";
  }

  return { leftOutAs: leftOutAs, suffix: suffix, ZIP: ZIP };
})();
