"""What libtiff (Pillow's decoder of a compressed TIFF) writes on the process's stderr for damage that gets past the
checks made before it decodes (tiff_strips): dropped where the process said so (the CLI, its workers, serve's workers,
threaded ones included: test_serve_decoder_lines.py), its error handler unset, as GDCM's lines are dropped
(test_dicom_decoder_stderr.py), and left alone in a process that did not (a Python caller's)."""

from __future__ import annotations

import contextlib
import io
import os
import random
import struct
import subprocess
import sys
import zlib
from collections.abc import Callable

import numpy as np
import pytest
from conftest import synthetic_head
from PIL import Image
from tiff_damage import jpeg_sos_component, refused_as_libtiff_would

from braintumor.image_arrays import gray_from_memory
from braintumor.image_io import ImageError, read_image
from braintumor.quiet_libraries import OWN, SHARED, decoders_quiet


def _head() -> np.ndarray:
    return synthetic_head(96, canvas=(100, 120), offset=(2, 12))


def _tiff(compression: str, rows: int) -> bytearray:
    buf = io.BytesIO()
    Image.fromarray(_head()).save(buf, format="TIFF", compression=compression, tiffinfo={278: rows})
    return bytearray(buf.getvalue())


def _set_tag(data: bytearray, tag: int, value: int) -> bytearray:
    """A tag of one SHORT or LONG value, stored in its entry, set to ``value``."""
    ifd = struct.unpack_from("<I", data, 4)[0]
    for entry in range(ifd + 2, ifd + 2 + 12 * struct.unpack_from("<H", data, ifd)[0], 12):
        found, kind = struct.unpack_from("<HH", data, entry)
        if found == tag:
            struct.pack_into("<H" if kind == 3 else "<I", data, entry + 8, value)
            return data
    raise KeyError(tag)


def _strip(data: bytearray, k: int) -> tuple[int, int]:
    tags = Image.open(io.BytesIO(bytes(data))).tag_v2
    return tags[273][k], tags[279][k]


def _fewer(tag: int, compression: str = "tiff_lzw") -> bytes:
    """3 strip offsets (273) or byte counts (279) for 4 strips: libtiff takes the 4th's missing one for 0."""
    data = _tiff(compression, 30)
    ifd = struct.unpack_from("<I", data, 4)[0]
    for entry in range(ifd + 2, ifd + 2 + 12 * struct.unpack_from("<H", data, ifd)[0], 12):
        if struct.unpack_from("<H", data, entry)[0] == tag:
            struct.pack_into("<I", data, entry + 4, 3)
    return bytes(data)


def _jpeg_sos_component() -> bytes:
    return jpeg_sos_component(_head())


def _jpeg_without_soi() -> bytes:
    data = _tiff("jpeg", 32)
    start, _ = _strip(data, 1)
    data[start:start + 2] = bytes(2)
    return bytes(data)


def _jpeg_without_sos() -> bytes:
    """A strip zeroed from its scan header on, as a copy that wrote zeros over its end: libjpeg, "Invalid JPEG file
    structure: missing SOS marker"."""
    data = _tiff("jpeg", 32)
    start, size = _strip(data, 1)
    at = data.index(b"\xff\xda", start)
    data[at:start + size] = bytes(start + size - at)
    return bytes(data)


def _jpeg_marker_in_scan() -> bytes:
    """A marker no decoder reads (FF 5A) inside a strip's coded data: libjpeg's error is printed, the image read."""
    data = _tiff("jpeg", 32)
    start, size = _strip(data, 1)
    at = start + (data.index(b"\xff\xda", start) - start + size) // 2
    data[at:at + 2] = b"\xff\x5a"
    return bytes(data)


def _lzw_past_the_check() -> bytes:
    """One LZW strip whose codes clear the table after each literal, past the runs its check reads
    (tiff_lzw.MAX_RUNS), then name a code not yet in the table: libtiff, "tempfile.tif: Using code not yet in table"."""
    from braintumor.tiff_lzw import MAX_RUNS

    buf = io.BytesIO()
    Image.fromarray(np.zeros((64, 64), np.uint8)).save(buf, format="TIFF", compression="tiff_lzw")
    data = bytearray(buf.getvalue())
    pairs = [(256, 0)] * (MAX_RUNS + 100) + [(300, 257)]  # Clear, literal 0; then 300 where 258 is next, the end code
    bits = "".join(f"{first:09b}{second:09b}" for first, second in pairs)
    strip = int(bits + "0" * (-len(bits) % 8), 2).to_bytes(-(-len(bits) // 8), "big")
    _set_tag(_set_tag(data, 273, len(data)), 279, len(strip))  # the strip placed after the file's bytes
    return bytes(data + strip)


#: Each damaged file (each refused) and what libtiff prints for it.
DAMAGED: dict[str, tuple[Callable[[], bytes], str]] = {
    "jpeg-sos-component": (_jpeg_sos_component, "JPEGLib: Invalid component ID 82 in SOS"),
    "lzw-past-the-check": (_lzw_past_the_check, "Using code not yet in table"),
}


@pytest.mark.parametrize("how", [OWN, SHARED])
@pytest.mark.parametrize("kind", DAMAGED)
def test_libtiff_lines_are_dropped_where_the_process_says_so(kind, how, capfd, monkeypatch):
    """libtiff printed these lines next to the file's one line in the CLI (``predict``), and in the threaded web
    workers' log: its error handler is unset there now, which is all it takes (the C library's stderr is not pointed
    away here; nor, in ``SHARED``, fd 2). In a Python caller's process they stay, and come back when the CLI run
    in-process ends."""
    import braintumor.quiet_libraries

    @contextlib.contextmanager
    def stdio_left_alone():
        yield False

    monkeypatch.setattr(braintumor.quiet_libraries, "c_stderr_away", stdio_left_alone)
    make, line = DAMAGED[kind]
    data = make()
    for reader in (read_image, lambda b: gray_from_memory(Image.open(io.BytesIO(b)))):
        with pytest.raises(ImageError):
            reader(data)
        assert line in capfd.readouterr().err  # not said: printed, as before
        with decoders_quiet(how), pytest.raises(ImageError):
            reader(data)
        assert capfd.readouterr().err == ""


def test_libtiff_lines_are_dropped_where_its_error_handler_cannot_be_unset(monkeypatch, capfd):
    """Where libtiff's handler is out of reach (a Pillow whose ``_imaging`` does not lead to it), a TIFF decodes with
    the C library's stderr pointed away instead, fd 2 untouched."""
    import braintumor.decoder_stderr

    monkeypatch.setattr(braintumor.decoder_stderr, "_setter", lambda: None)
    with decoders_quiet(SHARED), pytest.raises(ImageError):
        read_image(_jpeg_sos_component())
    assert not braintumor.decoder_stderr.libtiff_errors_silent()
    assert capfd.readouterr().err == ""


def test_an_error_handler_someone_else_set_is_left_to_them(capfd):
    """Only libtiff's own default handler (which prints) is unset: one Pillow or the caller set stays, and is called."""
    import ctypes

    from braintumor.decoder_stderr import _setter, libtiff_errors_silent

    called = []
    handler = ctypes.CFUNCTYPE(None, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_void_p)(
        lambda module, fmt, args: called.append(module))
    setter = _setter()
    default = setter(handler)
    try:
        with decoders_quiet(SHARED), pytest.raises(ImageError):
            assert not libtiff_errors_silent()
            read_image(_jpeg_sos_component())
        assert setter(handler) == ctypes.cast(handler, ctypes.c_void_p).value  # still theirs
    finally:
        setter(default)
    assert called == [b"JPEGLib"]
    assert capfd.readouterr().err == ""


def _python(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *args], env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
                          capture_output=True, text=True, timeout=300)


def test_predict_prints_its_own_lines_and_not_libtiffs(tmp_path):
    """``predict`` of damaged TIFFs, in the process and in its workers: one line each on stdout, the summary on stderr,
    and none of libtiff's."""
    paths = []
    for kind, (make, _) in DAMAGED.items():
        (path := tmp_path / f"{kind}.tif").write_bytes(make())
        paths.append(str(path))
    for workers in ([], ["--workers", "2"]):
        done = _python("-m", "braintumor", "predict", *paths, "--format", "jsonl", *workers)
        assert done.returncode == 1, done.stderr
        assert done.stderr == f"{len(paths)} unreadable inputs\n"
        assert len(done.stdout.splitlines()) == len(paths)


def _packbits_zeroed() -> bytes:
    """The second half of a PackBits strip zeroed: its runs (each a zero byte: one literal byte) end short."""
    data = _tiff("packbits", 30)
    start, size = _strip(data, 1)
    data[start + size // 2:start + size] = bytes(size - size // 2)
    return bytes(data)


def _packbits_count_short() -> bytes:
    """The third strip's byte count (a SHORT of 4, stored apart) 40 bytes short of its runs."""
    data = _tiff("packbits", 30)
    tags = Image.open(io.BytesIO(bytes(data))).tag_v2
    ifd = struct.unpack_from("<I", data, 4)[0]
    for entry in range(ifd + 2, ifd + 2 + 12 * struct.unpack_from("<H", data, ifd)[0], 12):
        tag, kind, _, where = struct.unpack_from("<HHII", data, entry)
        if tag == 279:
            form = "<H" if kind == 3 else "<I"
            struct.pack_into(form, data, where + 2 * struct.calcsize(form), tags[279][2] - 40)
    return bytes(data)


def test_a_damaged_packbits_tiff_is_refused_by_strip_with_nothing_from_libtiff_on_stderr(capfd):
    """libtiff printed "PackBitsDecode: Not enough data for scanline 30." on fd 2, where the web server's threaded
    workers cannot point it away, and the file was "image data could not be decoded: the file is damaged, cut short,
    or a variant this decoder does not read". Its runs are read first, by libtiff's rules: refused naming the strip and
    how many of the bytes its rows need its runs make, in any process, from a file or a PIL image."""
    want = {_packbits_zeroed: r"^TIFF strip 2 of 4 is damaged: its PackBits data ends after [\d,]+ of the 3,600 bytes "
                              "its rows need$",
            _packbits_count_short: r"^TIFF strip 3 of 4 is damaged: its PackBits data ends after [\d,]+ of the 3,600 "
                                   "bytes its rows need$"}
    assert np.array_equal(read_image(bytes(_tiff("packbits", 30))), _head())  # intact: read
    for make, said in want.items():
        for reader in (read_image, lambda b: gray_from_memory(Image.open(io.BytesIO(b)))):
            with pytest.raises(ImageError, match=said):
                reader(make())
    assert capfd.readouterr().err == ""


def test_packbits_strips_are_refused_exactly_where_libtiff_would_print(capfd):
    """Bytes of a strip changed at random: each file refused here is one libtiff fails on with a line on stderr, and
    each one let through it decodes without a word."""

    rng = random.Random(3)
    seen = set()
    for arr in (_head(), _head().astype(np.uint16) * 64, np.zeros((64, 64), np.uint8)):
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="TIFF", compression="packbits", tiffinfo={278: 30})
        data = buf.getvalue()
        tags = Image.open(io.BytesIO(data)).tag_v2
        for _ in range(40):
            start, size = rng.choice(list(zip(tags[273], tags[279], strict=True)))
            damaged = bytearray(data)
            at = start + rng.randrange(size)
            if rng.random() < 0.5:
                damaged[at] ^= 1 << rng.randrange(8)
            else:
                damaged[at] = rng.choice((0x00, 0x7F, 0x80, 0x81, 0xFF))
            seen.add(refused_as_libtiff_would(bytes(damaged), capfd))
    assert seen == {True, False}


def test_strips_not_as_many_as_rows_per_strip_makes_are_refused_by_name_with_nothing_from_libtiff(capfd):
    """A RowsPerStrip that says more rows than the strips hold made libtiff print "LZWDecode: Not enough data at
    scanline 0 (short 1200 bytes)." (or ZIPDecode's, PackBitsDecode's), one that says fewer "TIFFFillStrip: Invalid
    strip byte count 0, strip 4.", on fd 2 in any process, and the file was "image data could not be decoded": the
    strips were not as many as the layout makes, and the check before decoding left them to libtiff. libtiff reads the
    first of more strips, and takes those missing for empty: so are they checked now, and refused by name."""
    said = {"tiff_lzw": "LZW data ends after 3,600 of the 4,800 bytes",
            "tiff_adobe_deflate": "deflate data inflates to 3,600 bytes where its rows need 4,800",
            "packbits": "PackBits data ends after 3,600 of the 4,800 bytes"}
    for compression, why in said.items():
        with pytest.raises(ImageError, match=f"^TIFF strip 1 of 4 is damaged: its {why}"):
            read_image(bytes(_set_tag(_tiff(compression, 30), 278, 40)))
        with pytest.raises(ImageError, match=r"^TIFF is damaged: it has 4 strips where its height \(100 rows\) and "
                                             r"RowsPerStrip \(10\) make 10$"):
            gray_from_memory(Image.open(io.BytesIO(bytes(_set_tag(_tiff(compression, 30), 278, 10)))))
        assert np.array_equal(read_image(bytes(_set_tag(_tiff(compression, 100), 278, 500))), _head())  # 1 strip
    assert capfd.readouterr().err == ""


def test_a_damaged_jpeg_tiff_strip_is_refused_by_name_with_nothing_from_libtiff(capfd):
    """A JPEG-compressed TIFF's strip that does not start with the SOI marker made libjpeg, inside libtiff, print "Not a
    JPEG file: starts with 0x00 0x00" on fd 2 in any process, and the file was "image data could not be decoded"; one
    holding a marker no decoder reads inside its coded data printed "Unsupported marker type 0x5a", and was read, the
    strip's rows past it wrong, and classified. Each strip is walked as a DICOM JPEG frame is (jpeg_markers), after the
    tables of JPEGTables as libjpeg reads it, and refused naming the strip; an intact one is read."""
    said = {_jpeg_without_soi: "does not start with JPEG's SOI marker: damaged, not decoded",
            _jpeg_marker_in_scan: "holds a 0x5a marker inside its coded data, where no decoder here reads one: "
                                  "damaged, not decoded"}
    for make, why in said.items():
        for reader in (read_image, lambda b: gray_from_memory(Image.open(io.BytesIO(b)))):
            with pytest.raises(ImageError, match=f"^TIFF strip 2 of 4's JPEG data {why}$"):
                reader(make())
    for arr in (_head(), np.dstack([_head(), _head() // 2, 255 - _head()])):
        buf = io.BytesIO()
        Image.fromarray(arr).save(buf, format="TIFF", compression="jpeg", tiffinfo={278: 32})
        assert read_image(buf.getvalue()).shape == _head().shape
    assert capfd.readouterr().err == ""


def test_a_jpeg_tiff_strip_without_a_scan_is_refused_by_name_with_nothing_from_libtiff(capfd):
    """A strip with no scan header (SOS) made libjpeg print "Invalid JPEG file structure: missing SOS marker." on fd 2
    in any process (the header walk, which stops at the bytes that are no marker, did not see it), and the file was
    "image data could not be decoded". No SOS bytes anywhere in the strip and its tables: none for libjpeg either."""
    with pytest.raises(ImageError, match=r"^TIFF strip 2 of 4's JPEG data has no scan \(no SOS marker\): damaged, "
                                         r"not decoded$"):
        read_image(_jpeg_without_sos())
    assert capfd.readouterr().err == ""


def test_a_strip_whose_end_marker_comes_before_its_frame_header_is_refused_by_name(capfd):
    """A strip whose frame header an EOI marker comes before holds no image for libjpeg: refused by name (the walk took
    the EOI for a segment with a length, and went on from the bytes after it). JPEGTables, tables only, end with an
    EOI and are read (every JPEG TIFF here has them: the other tests read intact ones)."""
    data = _tiff("jpeg", 32)
    start, _ = _strip(data, 1)
    data[start + 2:start + 4] = b"\xff\xd9"  # over its frame header's marker
    with pytest.raises(ImageError, match=r"^TIFF strip 2 of 4's JPEG data ends \(an EOI marker\) before its frame "
                                         r"header: damaged, not decoded$"):
        read_image(bytes(data))
    assert capfd.readouterr().err == ""


def _jpeg_tables(edit: Callable[[bytes], bytes]) -> bytes:
    """A JPEG TIFF of 32-row strips whose JPEGTables (tag 347) are ``edit``'s of Pillow's, placed after its bytes."""
    data = _tiff("jpeg", 32)
    ifd = struct.unpack_from("<I", data, 4)[0]
    for entry in range(ifd + 2, ifd + 2 + 12 * struct.unpack_from("<H", data, ifd)[0], 12):
        tag, _, count, offset = struct.unpack_from("<HHII", data, entry)
        if tag == 347:
            tables = edit(bytes(data[offset:offset + count]))
            struct.pack_into("<II", data, entry + 4, len(tables), len(data))
            return bytes(data + tables)
    raise KeyError(347)


def test_jpeg_tables_padded_past_their_end_marker_are_read_as_libtiff_reads_them(capfd):
    """JPEGTables whose tag's count runs past their EOI marker (2 bytes of padding, or bytes like a segment's) are
    read by libtiff to the EOI, the rest unread, and the file decoded without a word; it was refused, "uses
    quantization table 0, which it does not define", the tables joined to a strip only where they ended in FF D9.
    The EOI is found by walking the segments: FF D9 inside a table's values is no end. Tables with no EOI, whose
    segments end where the tag does, libtiff reads whole, as silently, and so are they joined now (they were refused
    alike); tables cut inside a segment are joined to no strip, as before."""
    padded = {"zeros": lambda t: t + bytes(2), "a segment's bytes": lambda t: t + b"\xff\xdb\x00\x43",
              "FF D9 in a table": lambda t: t[:20] + b"\xff\xd9" + t[22:] + bytes(2), "no EOI": lambda t: t[:-2]}
    for why, edit in padded.items():
        data = _jpeg_tables(edit)
        assert Image.open(io.BytesIO(data)).tag_v2[347][-2:] != b"\xff\xd9", why
        assert not refused_as_libtiff_would(data, capfd), why
        assert np.array_equal(read_image(data), np.asarray(Image.open(io.BytesIO(data)))), why
    with pytest.raises(ImageError, match=r"^TIFF strip 1 of 4's JPEG data uses quantization table 0, which it does "
                                         r"not define: damaged, not decoded$"):
        read_image(_jpeg_tables(lambda t: t[:40]))  # (its DQT segment cut short)
    assert capfd.readouterr().err == ""


def test_offsets_or_byte_counts_fewer_than_the_strips_are_refused_by_name_with_nothing_from_libtiff(capfd):
    """3 byte counts for 4 strips made libtiff print "TIFFFillStrip: Invalid strip byte count 0, strip 3.", 3 offsets
    "tempfile.tif: Using code not yet in table." (it read the 4th strip from byte 0) or PackBitsDecode's line, on fd 2
    in any process, and the file was "image data could not be decoded": strips that could not be sized were left to
    libtiff. Now each tag's count is said."""
    for compression in ("tiff_lzw", "packbits", "tiff_adobe_deflate"):
        for tag, has in ((279, "4 strip offsets and 3 byte counts"), (273, "3 strip offsets and 4 byte counts")):
            with pytest.raises(ImageError, match=rf"^TIFF is damaged: it has {has} where its height \(100 rows\) and "
                                                 r"RowsPerStrip \(30\) make 4$"):
                read_image(_fewer(tag, compression))
    assert capfd.readouterr().err == ""


def test_a_tiff_of_fill_order_2_is_checked_as_libtiff_reads_it(capfd):
    """A TIFF whose FillOrder is 2 (each byte's least significant bit first: libtiff reverses each strip's bits before
    a deflate, LZW or PackBits decoder reads it, not before libjpeg) was refused as damaged though libtiff reads it
    ("its deflate data does not inflate (incorrect header check)", "its LZW data names a code not yet in its table",
    "its PackBits data ends after ..."): its strips are checked with their bits reversed, as libtiff decodes them, and
    a damaged one is still refused by name."""
    for compression in ("tiff_lzw", "tiff_adobe_deflate", "packbits", "jpeg"):
        buf = io.BytesIO()
        Image.fromarray(_head()).save(buf, format="TIFF", compression=compression, tiffinfo={278: 32, 266: 2})
        data = bytearray(buf.getvalue())
        assert Image.open(io.BytesIO(bytes(data))).tag_v2[266] == 2
        read = read_image(bytes(data))
        assert read.shape == _head().shape and (compression == "jpeg" or np.array_equal(read, _head()))
        if compression != "jpeg":
            start, size = _strip(data, 1)
            data[start + size // 2:start + size] = bytes(size - size // 2)
            with pytest.raises(ImageError, match=r"^TIFF strip 2 of 4 is damaged: its (LZW|deflate|PackBits) data"):
                read_image(bytes(data))
    assert capfd.readouterr().err == ""


def test_strips_a_layout_lacks_are_counted_not_each_sized():
    """A TIFF of 1 x 40,000,000 pixels, a row a strip (RowsPerStrip 1), that holds 4 strips: the check sized each of
    the 40 M strips its layout makes before saying 4 are too few, 10 s and 300 MB for a file of a few kB (an upload's
    worker held meanwhile). Only the strips the file holds are sized now: refused at once, in a few MB."""
    import tracemalloc

    data = _set_tag(_set_tag(_tiff("tiff_lzw", 30), 256, 1), 278, 1)
    ifd = struct.unpack_from("<I", data, 4)[0]
    for entry in range(ifd + 2, ifd + 2 + 12 * struct.unpack_from("<H", data, ifd)[0], 12):
        if struct.unpack_from("<H", data, entry)[0] == 257:  # its height as a LONG
            struct.pack_into("<HII", data, entry + 2, 4, 1, 40_000_000)
    tracemalloc.start()
    try:
        with pytest.raises(ImageError, match=r"^TIFF is damaged: it has 4 strips where its height \(40,000,000 rows\) "
                                             r"and RowsPerStrip \(1\) make 40,000,000$"):
            read_image(bytes(data))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20_000_000, peak


def test_a_tiff_of_one_strip_too_few_says_one_strip():
    """"it has 1 strips where its height (100 rows) and RowsPerStrip (10) make 10": one strip, or offset, is said as
    one."""
    with pytest.raises(ImageError, match=r"^TIFF is damaged: it has 1 strip where its height \(100 rows\) and "
                                         r"RowsPerStrip \(10\) make 10$"):
        read_image(bytes(_set_tag(_tiff("tiff_lzw", 100), 278, 10)))


class _Counted(io.BytesIO):
    """A file that counts the bytes read from it."""

    read_bytes = 0

    def read(self, size: int | None = -1) -> bytes:
        data = super().read(size)
        self.read_bytes += len(data)
        return data


def _overlapping(compression: int, blob: bytes, strips: int = 64) -> bytes:
    """A TIFF (64 pixels wide, a row a strip) whose ``strips`` strips are each the whole of one ``blob``."""
    offsets_at = 8 + len(blob)
    counts_at = offsets_at + 4 * strips
    tags = [(256, 4, 1, 64), (257, 4, 1, strips), (258, 3, 1, 8), (259, 3, 1, compression), (262, 3, 1, 1),
            (273, 4, strips, offsets_at), (277, 3, 1, 1), (278, 4, 1, 1), (279, 4, strips, counts_at)]
    out = b"II*\x00" + struct.pack("<I", counts_at + 4 * strips) + blob
    out += struct.pack(f"<{strips}I", *[8] * strips) + struct.pack(f"<{strips}I", *[len(blob)] * strips)
    out += struct.pack("<H", len(tags)) + b"".join(struct.pack("<HHII", *tag) for tag in tags) + bytes(4)
    return out


def test_strips_that_overlap_are_read_no_further_than_the_files_bytes():
    """A 10 MB TIFF of 1024 strips, each the whole of one JPEG stream, had the JPEG check walk 10 GB (10 s of a web
    worker; libtiff refuses it at once), 2000 PackBits or deflate strips of one 10 MB blob 20 GB: strips of a TIFF never
    overlap, so the checks read no more bytes than the file holds, and leave the rest to libtiff."""
    from braintumor.tiff_strips import damaged_strips

    buf = io.BytesIO()
    Image.fromarray(_head()).save(buf, format="JPEG")
    rng = np.random.default_rng(0)
    blobs = {7: buf.getvalue(), 32773: b"\x7f" + rng.bytes(50_000), 8: zlib.compress(rng.bytes(50_000))}
    for compression, blob in blobs.items():  # a JPEG stream, PackBits runs, a deflate stream: each one intact
        data = _overlapping(compression, blob)
        img = Image.open(fp := _Counted(data))
        fp.read_bytes = 0
        damaged_strips(img)
        assert fp.read_bytes <= len(data), (compression, fp.read_bytes)
