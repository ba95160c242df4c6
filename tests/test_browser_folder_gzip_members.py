"""A dropped folder's gzipped NIfTI volume not named .nii.gz whose header is split over gzip members, or follows a
gzip header longer than the bytes first read, is said by the page (static/compressed.js) as braintumor predict says it
(compressed_files.peeked, nifti_header.gunzip_head): told to be renamed, not to be decompressed. Skipped, never
failed, when chromium or playwright is absent (like tests/test_browser.py)."""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from dicom_factory import axial_volume, nifti_bytes
from test_browser import pytestmark  # noqa: F401 - pytestmark: the same skip conditions
from test_browser_folder_walk import folder_of, page_notes_of, watched_page

from braintumor.compressed_files import compressed_text

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")


def gzip_member(data: bytes, name: bytes = b"") -> bytes:
    """One gzip member of ``data``, with ``name`` as its FNAME field where given (gzip.compress writes none)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, -zlib.MAX_WBITS)
    head = b"\x1f\x8b\x08" + (b"\x08" if name else b"\x00") + bytes(4) + b"\x00\xff" + (name + b"\x00" if name else b"")
    return head + packer.compress(data) + packer.flush() + struct.pack("<II", zlib.crc32(data), len(data))


def test_a_folders_gzipped_nifti_split_over_members_or_after_a_long_name_is_said_as_the_cli_says_it(
        server, chromium, tmp_path):
    """``head.gz`` = gzip(a[:200]) + gzip(a[200:]) of a NIfTI volume's bytes ``a``, and one after a 10 kB file name:
    the CLI tells them to be renamed .nii.gz (since ff7526df); the page said 'decompress it (gunzip)' (its browser
    inflates one member, and only the first 4096 bytes it read). A gzip of a DICOM file split so is named too, and a
    split gzip cut short is still not named by what it begins as."""
    volume = zlib.decompress(nifti_bytes(axial_volume([np.full((40, 40), 9, np.uint8)] * 3)), 16 + zlib.MAX_WBITS)
    files = {"head.gz": gzip_member(volume[:200]) + gzip_member(volume[200:]),
             "tiny.gz": b"".join(gzip_member(volume[k:k + 50]) for k in range(0, len(volume), 50)),
             "named.gz": gzip_member(volume, b"x" * 10_000),
             "cut.gz": gzip_member(volume[:200]) + gzip_member(volume[200:])[:14]}  # its second member's header
    folder, cli_says = folder_of(tmp_path, files)
    renamed = compressed_text(gzip_member(volume))
    assert "rename it to end in .nii.gz" in renamed
    assert cli_says == {"head.gz": renamed, "tiny.gz": renamed, "named.gz": renamed,
                        "cut.gz": compressed_text(b"\x1f\x8b")}
    page, problems = watched_page(chromium, server)
    page_says = page_notes_of(page, folder)
    assert page_says == cli_says
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()


def test_a_second_gzip_member_damaged_before_it_inflates_anything_ends_the_data_as_the_cli_reads_it(
        server, chromium, tmp_path):
    """A whole gzip member of a PDF document, then a second that begins with the gzip magic but is damaged before it
    inflates anything (its compression method, or its first deflate block): the CLI and server count what came before
    as whole (nifti_header.gunzip_head: trailing bytes, as gzip reads them) and name the document; the page counted
    it cut short and said 'a gzip-compressed file holding' nothing. A second member cut short is still not whole, and
    an empty member (which inflates nothing either) is read past."""
    pdf = b"%PDF-1.4\n" + b"1 0 obj << >> endobj\n" * 5 + b"%%EOF\n"
    damaged = b"\x1f\x8b\x09\x00" + bytes(6) + b"abc"  # compression method 9: none
    files = {"method.gz": gzip_member(pdf) + damaged,
             "block.gz": gzip_member(pdf) + gzip_member(b"x" * 300)[:10] + b"\xff" * 20,
             "cut.gz": gzip_member(pdf) + gzip_member(b"x" * 300)[:14],
             "empty.gz": gzip_member(pdf[:5]) + gzip_member(b"") + gzip_member(pdf[5:]) + damaged}
    folder, cli_says = folder_of(tmp_path, files)
    document = compressed_text(gzip_member(pdf))
    assert "holding a PDF document" in document
    assert cli_says == {"method.gz": document, "block.gz": document, "cut.gz": compressed_text(b"\x1f\x8b"),
                        "empty.gz": document}
    page, problems = watched_page(chromium, server)
    assert page_notes_of(page, folder) == cli_says
    assert [p for p in problems if "ERR_ACCESS_DENIED" not in p] == []
    page.close()
