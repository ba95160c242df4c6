// Telling DICOM by a file's first bytes in the browser, as dicom_sniff.is_dicom_head does on the server: a dropped
// folder's scanner files often have no ending (folders.js). Apart from the walk, which was past 300 lines.
"use strict";

window.braintumorDicomSniff = (function () {
  // DICOM by its first 132 bytes, as dicom_sniff.is_dicom_head tells it (tests/test_browser_dicom_sniff.py runs the
  // same bytes through both): 'DICM' after the 128-byte preamble, or a raw dataset without them (some PACS exports,
  // I0000123) by its first two elements: of group 0002 or 0008, the second after the first in tag order (0002, 0008
  // or 0010), each well-formed (implicit VR little endian, or a known VR little or big endian; an even length).
  const VRS = "AE AS AT CS DA DS DT FD FL IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV";
  const LONG_VRS = "OB OD OF OL OV OW SQ SV UC UN UR UT UV";
  function vrAt(head, at) {  // a known VR's two letters at ``at``, or null
    const vr = String.fromCharCode(head[at], head[at + 1]);
    return /^[A-Z]{2}$/.test(vr) && VRS.indexOf(vr) >= 0 ? vr : null;
  }

  function twoElements(head, little, explicit) {
    const view = new DataView(head.buffer, head.byteOffset, head.byteLength), tags = [];
    let at = 0;
    for (let k = 0; k < 2; k++) {
      if (at + 8 > head.length) return false;
      const tag = [view.getUint16(at, little), view.getUint16(at + 2, little)];
      let length;
      if (!explicit) {
        length = view.getUint32(at + 4, true);
        at += 8;
      } else if (!vrAt(head, at + 4)) {
        return false;
      } else if (LONG_VRS.indexOf(vrAt(head, at + 4)) >= 0) {
        if (at + 12 > head.length || head[at + 6] || head[at + 7]) return false;
        length = view.getUint32(at + 8, little);
        at += 12;
      } else {
        length = view.getUint16(at + 6, little);
        at += 8;
      }
      if (length === 0xffffffff || length % 2) return false;  // a sequence first, or an odd length
      tags.push(tag);
      at += length;
    }
    const g1 = tags[0][0], g2 = tags[1][0];
    return (g1 === 2 || g1 === 8) && (g1 < g2 || (g1 === g2 && tags[0][1] < tags[1][1])) &&
      (g2 === 2 || g2 === 8 || g2 === 0x10);
  }

  function isDicomHead(bytes) {  // a Uint8Array of a file's first bytes (132 are read)
    const head = bytes.subarray(0, 132);
    if (head.length >= 132 && String.fromCharCode.apply(null, head.subarray(128, 132)) === "DICM") return true;
    if (head.length < 16) return false;
    const explicit = Boolean(vrAt(head, 4));  // implicit VR is little endian only
    return twoElements(head, true, explicit) || (explicit && twoElements(head, false, true));
  }

  return { isDicomHead: isDicomHead };
})();
