// What a gzip-compressed file in a dropped folder holds, said as braintumor predict's note says it
// (compressed_files.compressed_text): as many of its first bytes as the CLI reads (peek) inflated here, in the browser,
// to as many as the CLI looks at (most), and named by what they begin as (compressed_files._holds, copied here:
// tests/test_browser_folder_walk.py asks both), in the server's words for each (compressed_files.page_words). The page
// named the compressor alone ("a gzip-compressed file") where the CLI said "a gzip-compressed file holding a PDF
// document". Browsers inflate gzip only (DecompressionStream): a bzip2 or xz file keeps its compressor's words. Loaded
// before folders.js, which takes it from window.braintumorCompressed; no framework, nothing loaded from elsewhere.
"use strict";

window.braintumorCompressed = (function () {
  const GZIP = [0x1f, 0x8b];
  const PAGE_STARTS = ["<!doctype html", "<html", "<head"];  // documents._PAGE_STARTS, _PAGE_TAG, _PREAMBLES
  const PAGE_TAG = /^<(?:script|iframe|h1|div|font|table|a|style|title|b|body|br|p|meta)[ \t\n\r\f\v>/]/;
  const PREAMBLES = [["<?xml", "?>"], ["<!--", "-->"]];

  function startsWith(head, bytes, at) {
    return bytes.every(function (b, i) { return head[(at || 0) + i] === b; });
  }
  function codes(text) { return Array.from(text, function (c) { return c.charCodeAt(0); }); }

  // As documents.is_web_page, on bytes as a string of one character each (Python's bytes.lstrip and bytes.lower: ASCII
  // white space and letters only).
  function isPage(head) {
    const lstrip = function (t) { return t.replace(/^[ \t\n\r\v\f]+/, ""); };
    let text = lstrip(String.fromCharCode.apply(null, head.subarray(0, 1024)).replace(/^\xef\xbb\xbf/, ""))
      .replace(/[A-Z]+/g, function (c) { return c.toLowerCase(); });
    for (;;) {
      const preamble = PREAMBLES.find(function (p) { return text.startsWith(p[0]); });
      if (!preamble) break;
      const closed = text.indexOf(preamble[1]);
      if (closed < 0) return false;
      text = lstrip(text.slice(closed + preamble[1].length));
    }
    return PAGE_STARTS.some(function (s) { return text.startsWith(s); }) || PAGE_TAG.test(text);
  }

  // What inflated gzip bytes hold, a key of the server's words, as compressed_files._holds names it: a document only
  // from whole bytes (all ``most`` of them, or all up to the stream's end).
  function holds(head, whole, images) {
    if (whole && String.fromCharCode.apply(null, head.subarray(0, 1024)).indexOf("%PDF-") >= 0) return "pdf";
    if (whole && isPage(head)) return "page";
    if (startsWith(head, codes("n+1\0"), 344) || startsWith(head, codes("n+2\0\r\n\x1a\n"), 4)) return "nifti";
    if (startsWith(head, codes("DICM"), 128)) return "dicom";
    if (startsWith(head, codes("ustar"), 257)) return "tar";
    if (startsWith(head, [0x50, 0x4b, 3, 4])) return "zip";
    const image = images.find(function (i) { return startsWith(head, i[0]); });  // image_headers.image_kind
    return !image || (image[1] === "WebP" && !startsWith(head, codes("WEBP"), 8)) ? "" : "image:" + image[1];
  }

  // As zlib.crc32: a gzip member's trailer holds its inflated bytes' CRC-32 and length, which tell where it ends.
  function crc32(bytes) {
    let crc = ~0;
    bytes.forEach(function (b) {
      crc ^= b;
      for (let k = 0; k < 8; k++) crc = (crc >>> 1) ^ (0xedb88320 & -(crc & 1));
    });
    return ~crc >>> 0;
  }

  // Where the gzip member at ``from`` of ``data`` ends, which inflated to ``out`` (all of it): after its trailer, the
  // first place whose 8 bytes before are their CRC-32 and length, and after which the data ends or a member begins
  // (else the first such place: bytes after it); -1 where none is (damaged, or cut short).
  function memberEnd(data, from, out) {
    const view = new DataView(data.buffer, data.byteOffset, data.byteLength), crc = crc32(out);
    let first = -1;
    for (let end = from + 18; end <= data.length; end++) {
      if (view.getUint32(end - 8, true) !== crc || view.getUint32(end - 4, true) !== out.length >>> 0) continue;
      if (end === data.length || startsWith(data, GZIP, end)) return end;
      if (first < 0) first = end;
    }
    return first;
  }

  // The first ``most`` bytes one gzip member at the start of ``data`` inflates to, whether the stream ended there
  // with the data, and whether its bytes were refused as they were written (``damaged``: not a stream cut short, whose
  // error comes when the data is closed). The first answer is read before the data is written: a stream cut short
  // (the first ``peek`` bytes of a larger file), or followed by more (a next member: this browser reads one), ends in
  // an error, which drops what was inflated and not yet read.
  async function member(data, most) {
    const stream = new DecompressionStream("gzip"), reader = stream.readable.getReader();
    const parts = [];
    let got = 0, end = false;
    const reading = (async function () {
      try {
        while (got < most) {
          const step = await reader.read();
          if (step.done) { end = true; break; }
          parts.push(step.value);
          got += step.value.length;
        }
      } catch (err) { /* damaged, cut short, or more after it: what was read is what there is */ }
      reader.cancel().catch(function () {});
    })();
    const writer = stream.writable.getWriter();
    const written = writer.write(data).then(function () {
      return writer.close().then(function () { return false; }, function () { return false; });
    }, function () { return true; });
    await reading;
    const all = new Uint8Array(got);
    let at = 0;
    parts.forEach(function (p) { all.set(p, at); at += p.length; });
    return { out: all, end: end, damaged: got < most && !end && await written };
  }

  // The first ``most`` bytes ``data`` inflates to, and whether they are whole, as compressed_files._head
  // (nifti_header.gunzip_head): member after member (a NIfTI header split over two was "decompress it"), bytes after
  // a whole member that begin no other (zeros), or a member damaged before it inflates anything, ending it as gzip
  // reads them (the page counted the latter cut short, where the server named the document before it); none where
  // the first is damaged.
  async function inflated(data, most) {
    let head = new Uint8Array(0), at = 0;
    for (;;) {
      const one = await member(data.subarray(at), most - head.length);
      const joined = new Uint8Array(head.length + one.out.length);
      joined.set(head);
      joined.set(one.out, head.length);
      head = joined;
      if (one.end || head.length >= most) return { head: head.subarray(0, most), whole: true };
      const end = memberEnd(data, at, one.out);  // an empty member, followed by more, was refused too: read past it
      if (end < 0) return { head: head, whole: at > 0 && one.damaged && !one.out.length };
      if (end === data.length || !startsWith(data, GZIP, end)) return { head: head, whole: true };
      at = end;
    }
  }

  // ``kind`` (left-out.js leftOutAs) of a file the walk passed over, what it holds said where it is a gzip this browser
  // inflates: "compressed:a gzip-compressed file holding a PDF document, ...". ``formats.compressed``: page_words.
  async function held(kind, file, formats) {
    const c = formats.compressed || {};
    if (!kind || kind.indexOf("compressed:") || typeof DecompressionStream !== "function") return kind;
    let got;
    try {
      const data = new Uint8Array(await file.slice(0, c.peek).arrayBuffer());
      const packed = (c.kinds || []).find(function (k) { return startsWith(data, k[0]); });
      if (!packed || !startsWith(packed[0], GZIP)) return kind;
      got = await inflated(data, c.most);
      if (!got.head.length && data.length === c.peek && c.read > c.peek) {  // all gzip header (a long name): as
        got = await inflated(new Uint8Array(await file.slice(0, c.read).arrayBuffer()), c.most);  // peeked reads
      }
      return "compressed:" + packed[1][holds(got.head, got.whole, c.images || [])];
    } catch (err) {
      return kind;
    }
  }

  return { held: held, holds: holds, inflated: inflated };
})();
