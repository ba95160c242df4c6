"""A damaged image file is one line of braintumor's own: Pillow's warnings and log lines stay off stderr."""

from __future__ import annotations

import io
import logging
import os
import re
import struct
import subprocess
import sys
import warnings

import pytest
from conftest import encode, synthetic_head
from PIL import Image

from braintumor.image_arrays import gray_from_memory
from braintumor.image_io import ImageError, read_image
from braintumor.prediction import DISCLAIMER
from braintumor.quiet_libraries import quiet_pillow
from braintumor.wording import counted


def _patched_tiff(tag: int, rgb: bool = False, value: int | None = None, count: int | None = None) -> bytes:
    """A TIFF of Pillow's with one IFD entry's value or count replaced."""
    head = synthetic_head(64)
    data = bytearray(encode(head[..., None].repeat(3, axis=2) if rgb else head, "TIFF"))
    ifd = struct.unpack("<L", data[4:8])[0]
    for k in range(struct.unpack("<H", data[ifd:ifd + 2])[0]):
        at = ifd + 2 + 12 * k
        if struct.unpack("<H", data[at:at + 2])[0] == tag:
            if count is not None:
                data[at + 4:at + 8] = struct.pack("<L", count)
            if value is not None:
                data[at + 8:at + 10] = struct.pack("<H", value)
            return bytes(data)
    raise AssertionError(f"no tag {tag}")


def _exif_past_its_end() -> bytes:
    """A PNG whose EXIF block has a tag whose value lies past the block (Pillow 13: "Tag data larger than file";
    Pillow 12, the newest for Python 3.10: "Truncated File Read")."""
    exif = b"II*\x00" + struct.pack("<LH", 8, 1) + struct.pack("<HHLL", 0x010F, 2, 100, 5000) + b"\0" * 4
    return encode(synthetic_head(64), "PNG", exif=exif)


#: name -> (bytes, what Pillow says on stderr without us (a regular expression), whether the pixels are read)
DAMAGED = {
    "exif.png": (_exif_past_its_end(), "Tag data larger than file|Truncated File Read", True),
    "too-many.tif": (_patched_tiff(259, count=2), "Metadata Warning", True),  # compression: 2 values where 1 goes
    "samples.tif": (_patched_tiff(277, rgb=True, value=1000), "More samples per pixel", False),  # a log line
    "truncated.tif": (encode(synthetic_head(64), "TIFF")[:60], "Corrupt EXIF data", False),  # cut in its IFD
}


def test_the_cli_prints_one_line_per_damaged_file_and_nothing_of_pillows(tmp_path):
    """Each of these printed Pillow's warning (with its source line) or its logged error on stderr, beside our line."""
    for name, (data, _, _) in DAMAGED.items():
        (tmp_path / name).write_bytes(data)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path), "PYTHONWARNINGS": "default"}
    run = subprocess.run([sys.executable, "-m", "braintumor", "predict", *DAMAGED, "--no-progress"], cwd=tmp_path,
                         env=env, capture_output=True, text=True, timeout=120)
    rows = run.stdout.splitlines()
    assert [sum(line.startswith(name + " ") for line in rows) for name in DAMAGED] == [1] * len(DAMAGED)
    failed = sum(not ok for _, _, ok in DAMAGED.values())
    summary, verdict, disclaimer = run.stderr.splitlines()  # and nothing else
    assert summary.startswith(f"{len(DAMAGED)} scored: ") and summary.endswith(f" {failed} unreadable")
    assert verdict == counted(failed, "unreadable input") and disclaimer == DISCLAIMER


def _opened(data: bytes) -> Image.Image | None:
    """The PIL image a caller opened of the file (its opening's own warnings are the caller's), or None."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return Image.open(io.BytesIO(data))
    except Exception:
        return None


def _pillow_alone(data: bytes, caplog: pytest.LogCaptureFixture) -> list[str]:
    """What Pillow warns and logs reading the file (pixels and EXIF) without braintumor."""
    caplog.clear()
    with warnings.catch_warnings(record=True) as seen, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        try:
            with Image.open(io.BytesIO(data)) as img:
                img.load()
                img.getexif()
        except Exception:  # its messages come before its error
            pass
    return [str(w.message) for w in seen] + [r.getMessage() for r in caplog.records]


@pytest.mark.parametrize("name", list(DAMAGED))
def test_pillows_messages_are_dropped_while_reading_and_the_filters_restored(name, caplog):
    data, said, readable = DAMAGED[name]
    assert any(re.search(said, line) for line in _pillow_alone(data, caplog))  # the file still makes Pillow say it
    opened = _opened(data)  # lazily loaded: its pixels are decoded by gray_from_memory
    caplog.clear()  # what Pillow logged while the caller opened it
    filters = list(warnings.filters)
    with warnings.catch_warnings(record=True) as seen, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        for read, source in ((read_image, data), (gray_from_memory, opened)):  # a file; a PIL image of it
            if source is None:
                continue
            try:
                read(source)
                assert readable
            except ImageError:
                assert not readable
    assert [str(w.message) for w in seen] == []
    assert [r.getMessage() for r in caplog.records if r.name.startswith("PIL")] == []
    assert warnings.filters == filters


def test_pillows_messages_are_what_they_were_outside_a_read(caplog):
    """Only Pillow's, only while reading: our warnings and the caller's Pillow warnings elsewhere are left alone."""
    with warnings.catch_warnings(record=True) as seen, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        with quiet_pillow():
            warnings.warn("ours", UserWarning, stacklevel=1)
        Image.open(io.BytesIO(DAMAGED["too-many.tif"][0])).load()
        with pytest.raises(Exception):  # noqa: B017 (Pillow's own error: not ours to name)
            Image.open(io.BytesIO(DAMAGED["samples.tif"][0]))
    assert [str(w.message) for w in seen][:2] == [
        "ours", "Metadata Warning, tag 259 had too many entries: 2, expected 1"]
    assert any("More samples per pixel" in r.getMessage() for r in caplog.records)


def test_a_web_uploads_size_is_read_without_pillows_log_lines(caplog):
    """The upload budget reads each file's declared size through Pillow: its logged errors reached the server's log."""
    from braintumor.image_headers import declared_size

    caplog.clear()
    with caplog.at_level(logging.DEBUG):
        assert declared_size(DAMAGED["samples.tif"][0]) is None
    assert [r.getMessage() for r in caplog.records if r.name.startswith("PIL")] == []


def test_data_audit_and_a_held_out_split_read_damaged_files_without_pillows_warnings(tmp_path, caplog):
    """Both read each file's stored mode with a second open of their own, after (or instead of) decoding it."""
    import numpy as np

    from braintumor.data import Dataset
    from braintumor.data_splits import split_by_mode
    from braintumor.image_hashes import hash_images

    paths = []
    for name, (data, _, _) in DAMAGED.items():
        paths.append(tmp_path / name)
        paths[-1].write_bytes(data)
    caplog.clear()
    with warnings.catch_warnings(record=True) as seen, caplog.at_level(logging.DEBUG):
        warnings.simplefilter("always")
        hashed = hash_images(paths)
        kept, others = split_by_mode(Dataset(tmp_path, paths, np.zeros(len(paths), np.int64)), "L")
    assert hashed.ok.tolist() == [ok for _, _, ok in DAMAGED.values()] and len(kept) + len(others) == len(paths)
    assert [str(w.message) for w in seen] == []
    assert [r.getMessage() for r in caplog.records if r.name.startswith("PIL")] == []


@pytest.mark.parametrize(("data", "kind"), [
    (DAMAGED["samples.tif"][0], "TIFF"),  # SamplesPerPixel 1000
    (DAMAGED["truncated.tif"][0], "TIFF"),  # cut in its image file directory
    (encode(synthetic_head(64), "TIFF")[:8], "TIFF"),  # the header alone
    (b"MM\0*" + struct.pack(">L", 8) + b"\xff" * 20, "TIFF"),  # big-endian, a directory of 65535 entries
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 40, "PNG"),
    (b"\xff\xd8\xff" + b"\0" * 40, "JPEG"),
], ids=["tiff-samples", "tiff-truncated", "tiff-header-only", "tiff-big-endian", "png", "jpeg"])
def test_a_file_of_our_formats_with_a_damaged_header_is_named_as_that_format(data, kind):
    """A TIFF whose header Pillow cannot read was "not a recognised image: expected JPEG, PNG, BMP, TIFF or WebP
    content", misleading of a file that is a TIFF (its first bytes say so). Files of no format still get that."""
    with pytest.raises(ImageError, match=f"^a {kind} file whose header cannot be read: damaged, truncated"):
        read_image(data)
    with pytest.raises(ImageError, match=r"^not a recognised image: expected JPEG"):
        read_image(b"GIF89a\0\0\0\0" + data)  # the same bytes after a GIF signature of no size: no format
