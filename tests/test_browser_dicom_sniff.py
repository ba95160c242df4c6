"""DICOM told by its bytes in a dropped folder, in a real browser, as the CLI and the API tell it: the page knew only
the 'DICM' marker after the 128-byte preamble, so a PACS export of raw datasets (no preamble, ``I0000123``) dropped as a
folder was "Skipped 3 files ... (3 with no ending)" while ``braintumor predict`` read it. The same bytes go through
dicom_sniff.is_dicom_head and folders.js's isDicomHead here, so the two cannot drift. Skipped, never failed, when
chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from dicom_factory import make_dicom
from test_browser import open_page, pytestmark  # noqa: F401 - pytestmark: the same skip conditions
from test_browser_errors import os_drop
from test_browser_folders import WATCH_SENT, glioma_page
from test_dicom_without_ending import RAW_ENCODINGS, _gray, _raw, _series

from braintumor.dicom_sniff import is_dicom_head

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def element(group: int, elem: int, vr: bytes, value: bytes, order: str = "<") -> bytes:
    """One explicit-VR element (``vr`` b"" for implicit VR, little endian)."""
    if not vr:
        return struct.pack("<HHI", group, elem, len(value)) + value
    if vr in (b"OB", b"SQ", b"UN", b"UT"):
        return struct.pack(order + "HH", group, elem) + vr + b"\0\0" + struct.pack(order + "I", len(value)) + value
    return struct.pack(order + "HH", group, elem) + vr + struct.pack(order + "H", len(value)) + value


#: Heads that are DICOM (True) or not (False), each for a reason of the rules; random bytes are added in the test.
KNOWN: list[tuple[str, bytes, bool]] = [
    ("part10", make_dicom(_gray())[:132], True),
    *[(f"raw-{i}", _raw(_gray(), *enc)[:132], True) for i, enc in enumerate(RAW_ENCODINGS)],
    ("explicit-be", element(8, 5, b"CS", b"ISO_IR 100", ">") + element(8, 0x16, b"UI", b"1.2.34", ">") + bytes(40),
     True),
    ("patient-second", element(8, 0x18, b"UI", b"1.23") + element(0x10, 0x10, b"PN", b"X^YZ") + bytes(40), True),
    ("long-vr-first", element(2, 1, b"OB", b"\0\1") + element(2, 2, b"UI", b"1.23") + bytes(40), True),
    ("implicit", element(8, 5, b"", b"ISO_IR 100") + element(8, 0x16, b"", b"1.2.34") + bytes(40), True),
    ("empty", b"", False), ("short", element(8, 5, b"CS", b"AB"), False),
    ("text", b"hello world, a README without an ending\n" * 4, False), ("zeros", bytes(200), False),
    ("ones", b"\xff" * 200, False), ("json", b'{"group": 8, "json": true}', False),
    ("group8-zeros", b"\x08\x00" + bytes(130), False),
    ("one-element", b"\x08\x00\x05\x00CS\x0a\x00ISO_IR 100" + b"\x00" * 20, False),
    ("then-text", b"\x02\x00\x01\x00OB\x00\x00\x02\x00\x00\x00\x00\x01" + b"text" * 30, False),
    ("out-of-order", element(8, 0x16, b"UI", b"1.23") + element(8, 5, b"CS", b"AB") + bytes(40), False),
    ("odd-length", element(8, 5, b"CS", b"ABC") + element(8, 0x16, b"UI", b"1.23") + bytes(40), False),
    ("sequence-first", struct.pack("<HH", 8, 5) + b"SQ\0\0" + b"\xff" * 4 + element(8, 6, b"CS", b"AB") + bytes(40),
     False),
    ("group-9", element(9, 5, b"CS", b"AB") + element(9, 6, b"CS", b"AB") + bytes(40), False),
    ("reserved-set", struct.pack("<HH", 2, 1) + b"OB\1\0" + struct.pack("<I", 2) + b"\0\1" +
     element(2, 2, b"UI", b"1.23") + bytes(40), False),
    ("past-the-head", element(8, 5, b"LO", b"A" * 130), False),
    ("space-vr", b"\x08\x00\x05\x00E \x02\x00AB" + element(8, 6, b"CS", b"AB") + bytes(40), False),
]


def test_the_page_and_the_cli_tell_dicom_by_the_same_bytes(server, chromium):
    rng = np.random.default_rng(0)
    heads = [rng.integers(0, 256, 132, dtype=np.uint8).tobytes() for _ in range(600)]
    heads += [prefix + h[2:] for prefix in (b"\x08\x00", b"\x02\x00") for h in heads[:300]]
    heads += [head for _, head, _ in KNOWN]
    python = [is_dicom_head(h) for h in heads]
    assert python[-len(KNOWN):] == [want for _, _, want in KNOWN]  # the rules hold, in Python
    page, problems = open_page(chromium, server, 1024, 800)
    page_says = page.evaluate("heads => heads.map(h => window.braintumorFolders.isDicomHead(new Uint8Array(h)))",
                              [list(h) for h in heads])
    assert [n for n, (py, js) in enumerate(zip(python, page_says, strict=True)) if py != js] == []
    assert problems == []
    page.close()


def test_a_dropped_pacs_export_of_raw_datasets_is_one_series(server, chromium, tmp_path):
    """DICOM/PAT0001/STU0001/SER0001/I0000001...: the slices go as one zip, nothing skipped."""
    folder = tmp_path / "DICOM" / "PAT0001" / "STU0001" / "SER0001"
    folder.mkdir(parents=True)
    for name, data in _series(3, raw=True):
        (folder / name).write_bytes(data)
    page, problems = glioma_page(chromium, server)
    page.add_init_script(WATCH_SENT)
    page.reload()
    sync_api.expect(page.locator("html")).to_have_class("js")
    os_drop(page, [str(tmp_path / "DICOM")])
    sync_api.expect(page.locator("#page-status")).to_have_text("Done: 1 classified (see below).", timeout=30_000)
    assert page.locator("#page-notes p").count() == 0
    assert page.locator("#results > .card .card-name").all_inner_texts() == ["DICOM/PAT0001/STU0001/SER0001"]
    assert [[name for name, _, _ in files] for files in page.evaluate("window.sentFiles")] == [["series.zip"]]
    assert problems == []
    page.close()
