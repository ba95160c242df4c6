// A dropped folder's DICOM slices as one .zip, made in the browser: the API reads a series from a zip (a summary,
// its strip, its most suspicious slices) but reads each file of a multi-file request on its own. Stored, not
// compressed (DICOM pixels hardly shrink, and the bytes stay in memory for one request only); each member named by
// its own file name, never its folder's. Loaded before send.js; no framework, nothing loaded from elsewhere.
"use strict";

window.braintumorZip = (function () {
  const TABLE = (function () {  // CRC-32 (IEEE), which every zip member carries and Python's zipfile checks
    const table = new Uint32Array(256);
    for (let n = 0; n < 256; n++) {
      let c = n;
      for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
      table[n] = c >>> 0;
    }
    return table;
  })();

  function crc32(bytes) {
    let c = 0xffffffff;
    for (let i = 0; i < bytes.length; i++) c = TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  }

  // One header: little-endian fields ([size in bytes, value]) and the member's name after them.
  function header(fields, name) {
    const size = fields.reduce(function (n, f) { return n + f[0]; }, 0);
    const out = new Uint8Array(size + name.length);
    const view = new DataView(out.buffer);
    let at = 0;
    fields.forEach(function (f) {
      if (f[0] === 4) view.setUint32(at, f[1], true);
      else view.setUint16(at, f[1], true);
      at += f[0];
    });
    out.set(name, at);
    return out;
  }

  // The bytes a zip adds to its members' own: what a request's size limit must leave room for.
  function overhead(names) {
    return 22 + names.reduce(function (n, name) { return n + 76 + 2 * new TextEncoder().encode(name).length; }, 0);
  }

  // [{name, file}] -> a Blob of the zip (rejects when the browser cannot read a file: moved or deleted).
  async function zip(members) {
    const parts = [], central = [];
    let offset = 0;
    for (const m of members) {
      const data = new Uint8Array(await m.file.arrayBuffer());
      const name = new TextEncoder().encode(m.name);
      const crc = crc32(data);
      // version 2.0, flag 0x800 (the name is UTF-8), stored, 1980-01-01 00:00 (no date is told to the server)
      const common = [[2, 20], [2, 0x800], [2, 0], [2, 0], [2, 0x21], [4, crc], [4, data.length], [4, data.length],
        [2, name.length], [2, 0]];
      parts.push(header([[4, 0x04034b50]].concat(common), name), data);
      central.push(header([[4, 0x02014b50], [2, 20]].concat(common, [[2, 0], [2, 0], [2, 0], [4, 0], [4, offset]]),
        name));
      offset += 30 + name.length + data.length;
    }
    const size = central.reduce(function (n, c) { return n + c.length; }, 0);
    const end = header([[4, 0x06054b50], [2, 0], [2, 0], [2, members.length], [2, members.length], [4, size],
      [4, offset], [2, 0]], new Uint8Array(0));
    return new Blob(parts.concat(central, [end]), { type: "application/zip" });
  }

  return { zip: zip, overhead: overhead };
})();
