// What the page writes as the server and the CLI write it, one mirror each: probabilities (prediction.probability_text),
// names and messages (wording.printable), counts (wording.counted) and CSV rows (csv_records.csv_row). Loaded before
// series.js, folders.js and app.js, which take them from window.braintumorText; no framework, nothing loaded from
// elsewhere.
"use strict";

window.braintumorText = (function () {
  // As prediction.probability_text: to 0.1 %, rounded towards 50 % (never surer than it is), never "100.0%".
  function percent(p) {
    if (p > 0.999) return ">99.9%";
    if (p < 0.001) return "<0.1%";
    const tenths = p >= 0.5 ? Math.floor(1000 * p + 1e-9) : Math.ceil(1000 * p - 1e-9);
    return (tenths / 10).toFixed(1) + "%";
  }

  // As wording.printable (the CLI's and the server-rendered page's): a character that would hide, reorder or break
  // the text around it (a bidi override made "x\u202egpj.exe" read "xexe.jpg"; a newline, an escape, a zero-width
  // one) shown as its Python escape. Names and messages only: the JSON and the CSV download keep the real text.
  function printable(text) {
    return String(text).replace(/[\p{C}\p{Z}]/gu, function (c) {
      if (c === " ") return c;
      const named = { "\t": "\\t", "\n": "\\n", "\r": "\\r" }[c];
      if (named) return named;
      const code = c.codePointAt(0), hex = code.toString(16);
      return code < 0x100 ? "\\x" + hex.padStart(2, "0") : code < 0x10000 ? "\\u" + hex.padStart(4, "0")
        : "\\U" + hex.padStart(8, "0");
    });
  }

  // As the server names an upload (web/inference.py _clean_name): its last path component, after a "/" or a "\" (an
  // old Windows browser sends C:\Users\...\a.png, a user's name among its folders), without the white space around
  // it that Python's str.strip() takes. A file named back\slash.jpg was "back\slash.jpg" on its card and "slash.jpg"
  // in the CSV and the JSON: the page names it as they do. Cut, as the server cuts it, to its first MAX_NAME characters
  // (inference.MAX_NAME; code points, as Python counts): a 400-character name was whole on its card, cut in the CSV,
  // the JSON and the page without JavaScript.
  // A "%0A", "%0D" or "%22" in it (any of %00-%1F) is read as the character the form's encoding writes so (a browser
  // sends "a\nb.jpg" as "a%0Ab.jpg"), as the server reads it: a card named "c%22d.jpg" was 'c"d.jpg' in the CSV.
  // A NUL (as "%00") or a lone surrogate, which no file name holds, is "_" there, as the server makes it.
  const MAX_NAME = 255, FORM_ESCAPE = /%(22|[01][0-9A-F])/g, NOT_IN_NAMES = /\0|\p{Cs}/gu;
  const SPACE = "[\\t-\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]+";
  const AROUND = new RegExp("^" + SPACE + "|" + SPACE + "$", "g");
  function sentName(name) {
    const own = String(name).split(/[\\/]/).pop().replace(FORM_ESCAPE, function (m, hex) {
      return String.fromCharCode(parseInt(hex, 16));
    });
    return Array.from(own.replace(AROUND, "").replace(NOT_IN_NAMES, "_")).slice(0, MAX_NAME).join("");
  }

  // As wording.counted: n with its noun in the number it takes ("1 file", "2 files"), never "file(s)".
  function counted(n, noun, plural) { return n + " " + (n === 1 ? noun : plural || noun + "s"); }

  // As stripped.count_text: answers that look skull-stripped (a note, never a refusal), on a series' line and the
  // Done line ("3 look skull-stripped (confidence no guide)").
  function stripped(n) { return n + (n === 1 ? " looks" : " look") + " skull-stripped (confidence no guide)"; }

  // As pages.sentence: a message shown as a sentence on its own (an unreadable file's card), its first letter
  // capitalised as the card's other lines are, where its first word is one of lowercase letters before a space, a
  // comma or a semicolon, and it does not start with a name before its first ": " (a zip member's: "bad.zip:x.nii: not
  // a NIfTI ...", "scan 1: not a NIfTI ...", "scan 1.nii (copy): ..."): a clause of one word, or whose last word,
  // brackets at its end set aside, is no word of prose. The JSON and the CSV keep the clause as it is.
  const FIRST_WORD = /^[a-z]+(?:[ ,;]|$)/;
  const PROSE_WORD = /^[("']*[A-Za-z][A-Za-z'\/-]*[)"',;]*$/;
  const BRACKETED_END = /(?: \([^()]*\))+$/;
  function startsWithName(message) {
    const at = message.indexOf(": ");
    if (at < 0) return false;
    const core = message.slice(0, at).replace(BRACKETED_END, "");
    return core.indexOf(" ") < 0 || !PROSE_WORD.test(core.slice(core.lastIndexOf(" ") + 1));
  }
  function sentence(message) {
    if (!FIRST_WORD.test(message) || startsWithName(message)) return message;
    return message.charAt(0).toUpperCase() + message.slice(1);
  }

  // "a", "a and b", "a, b and c": counts said together ("2 images and 1 scan").
  function joined(parts) {
    return parts.slice(0, -1).join(", ") + (parts.length > 1 ? " and " : "") + parts[parts.length - 1];
  }

  // One CSV cell as Python's csv module writes csv_records.csv_row's values (quoted only when needed).
  function csvCell(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "boolean") return value ? "True" : "False";
    const text = String(value);
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  // As csv_records.csv_text: a text cell that starts like a spreadsheet formula (or with ') gets one ' in front.
  function csvText(text) {
    return /^[=+\-@\t\r']/.test(text) ? "'" + text : text;
  }

  // The columns come from the server (csv_records.csv_columns, a class's name formula-safe: "'=a" for a custom
  // model's class "=a"); each is filled as csv_records.csv_row fills it (a refused record's class columns blank, as
  // its label).
  function csvRow(rec, columns) {
    const probs = rec.ood ? {} : rec.probabilities || {};
    return columns.map(function (column) {
      switch (column) {
        case "path": return csvCell(csvText(rec.path));
        case "label": return csvCell(csvText(rec.label || ""));
        case "error": return csvCell(csvText(rec.error || rec.reason || ""));
        case "note": return csvCell(csvText(rec.note || ""));
        case "confidence": case "ood": case "ood_score": case "slice": case "review": case "series":
          return csvCell(rec[column]);
        default: {
          const p = probs[column.charAt(0) === "'" ? column.slice(1) : column];  // csv_text's ' taken off
          return csvCell(p === undefined ? "" : p);
        }
      }
    }).join(",");
  }

  return { percent: percent, printable: printable, counted: counted, joined: joined, csvRow: csvRow, csvCell: csvCell,
           stripped: stripped, sentName: sentName, sentence: sentence };
})();
