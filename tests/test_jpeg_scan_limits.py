"""JPEGs of too many scans (progressive, MPF, hidden behind padding) are refused before decoding, others read."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import synthetic_head
from PIL import Image

from braintumor.image_io import ImageError, read_image


def _repeated_scans(extra: int) -> tuple[bytes, bytes]:
    """(a progressive JPEG, the same with one of its AC scans repeated ``extra`` times before the end marker)."""
    import io

    buf = io.BytesIO()
    Image.fromarray(synthetic_head(256)).save(buf, "JPEG", progressive=True, quality=90)
    data = buf.getvalue()
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xDA]
    first, second = starts[1], starts[2]  # the second scan (an AC scan), up to the next one
    return data, data[:-2] + data[first:second] * extra + data[-2:]


def test_a_jpeg_of_too_many_scans_is_refused_before_decoding():
    """One 1 MB progressive JPEG of 13 000 repeated scans took a web worker 48 s (each scan is decoded in full)."""
    from braintumor.image_io import MAX_JPEG_SCANS

    normal, bomb = _repeated_scans(MAX_JPEG_SCANS)
    assert read_image(normal).shape == (256, 256) and normal.count(b"\xff\xda") < 20
    with pytest.raises(ImageError, match=rf"^JPEG has more than {MAX_JPEG_SCANS} scans"):
        read_image(bomb)
    at_limit = _repeated_scans(MAX_JPEG_SCANS - normal.count(b"\xff\xda"))[1]  # the limit itself is allowed
    assert at_limit.count(b"\xff\xda") == MAX_JPEG_SCANS and read_image(at_limit).shape == (256, 256)
    with pytest.raises(ImageError, match=r"^JPEG has more than"):
        read_image(_repeated_scans(MAX_JPEG_SCANS + 1 - normal.count(b"\xff\xda"))[1])


def test_a_big_jpeg_may_have_fewer_scans_than_a_small_one(monkeypatch):
    """Every scan is decoded over the whole image: 100 scans of 6300 x 6300 pixels (a 240 kB file) took 8 s, within
    MAX_JPEG_SCANS. Scans times pixels are bounded too, before decoding; a usual 10-scan progressive JPEG fits."""
    import io
    import struct

    from PIL import ImageFile

    from braintumor.image_io import MAX_JPEG_SCAN_PIXELS, MAX_PIXELS

    side = int(MAX_PIXELS**0.5) - 24  # 6300: within the pixel limit
    most = MAX_JPEG_SCAN_PIXELS // (side * side)

    def claiming(data: bytes) -> bytes:  # the frame header says side x side; no pixel is decoded before the refusal
        sof = data.find(b"\xff\xc2")
        return data[:sof + 5] + struct.pack(">HH", side, side) + data[sof + 9:]

    normal, _ = _repeated_scans(0)
    over, at_limit = (claiming(_repeated_scans(n - normal.count(b"\xff\xda"))[1]) for n in (most + 1, most))
    loads, real = [], ImageFile.ImageFile.load
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: loads.append(self.size) or real(self))
    with pytest.raises(ImageError, match=rf"^JPEG has more than {most} scans for its {side}x{side} pixels"):
        read_image(over)
    assert loads == []
    assert read_image(at_limit).shape == (side, side) and set(loads) == {(side, side)}  # the limit itself is decoded
    buf = io.BytesIO()
    Image.new("L", (side, side)).save(buf, "JPEG", progressive=True)
    assert buf.getvalue().count(b"\xff\xda") <= most


def test_a_phone_jpeg_with_extra_mpf_images_is_read_as_its_picture():
    """Pillow opens a JPEG with an MPF block (an Ultra HDR gain map, a camera preview) as an 'animated' MPO: it was
    refused as a stack of slices."""
    import io

    head = Image.fromarray(synthetic_head())
    buf = io.BytesIO()
    head.save(buf, "MPO", save_all=True, append_images=[head.resize((50, 50))])
    assert Image.open(io.BytesIO(buf.getvalue())).format == "MPO"
    plain = io.BytesIO()
    head.save(plain, "JPEG")
    assert read_image(buf.getvalue()).shape == read_image(plain.getvalue()).shape == (200, 200)


def test_a_jpeg_with_an_mpf_block_is_held_to_the_scan_limit():
    """Pillow calls a JPEG with an MPF block (a phone's extra images) 'MPO', and the scan limit looked at 'JPEG' only:
    repeated scans in such a file's first image were all decoded (2048 px, 1000 scans: 0.4 s; it grows with both)."""
    import io

    from braintumor.image_io import MAX_JPEG_SCANS

    head = Image.fromarray(synthetic_head(256))
    buf = io.BytesIO()
    head.save(buf, "MPO", save_all=True, append_images=[head.resize((50, 50))], progressive=True)
    data = buf.getvalue()
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xDA]
    end = data.find(b"\xff\xd9", starts[0])  # the first image's end (its scans hold no FF D9)
    bomb = data[:end] + data[starts[1]:starts[2]] * MAX_JPEG_SCANS + data[end:]
    assert Image.open(io.BytesIO(bomb)).format == "MPO" and read_image(data).shape == (256, 256)
    with pytest.raises(ImageError, match=rf"^JPEG has more than {MAX_JPEG_SCANS} scans"):
        read_image(bomb)


def test_scan_bytes_outside_the_decoded_image_cost_no_refusal():
    """FF DA inside a comment or an EXIF thumbnail, or after the end marker (a phone's extra images), is never a scan
    that is decoded; counting those bytes refused a normal slice."""
    from braintumor.image_io import MAX_JPEG_SCANS
    from braintumor.jpeg_markers import jpeg_scans

    normal, bomb = _repeated_scans(MAX_JPEG_SCANS)
    scans = jpeg_scans(normal, MAX_JPEG_SCANS)  # every real scan, entropy data skipped
    assert len(scans) == normal.count(b"\xff\xda") >= 5 and all(normal[at:at + 2] == b"\xff\xda" for at in scans)
    many = b"\xff\xda" * (MAX_JPEG_SCANS + 5)
    comment = b"\xff\xfe" + (2 + len(many)).to_bytes(2, "big") + many
    commented = normal[:2] + comment + normal[2:]
    trailing = normal + many
    for data in (commented, trailing):
        assert data.count(b"\xff\xda") > MAX_JPEG_SCANS
        assert np.array_equal(read_image(data), read_image(normal))
    with pytest.raises(ImageError, match="scans"):  # the walk still counts the real ones
        read_image(bomb[:2] + comment + bomb[2:])


def test_ff00_between_segments_hides_no_scans_from_the_count():
    """libjpeg skips FF 00 between segments as garbage; the walk read it as a marker with a length and jumped over
    the scans behind it, so a scan bomb behind 'FF 00 LL LL' was decoded in full (4096 px, 1000 scans: 1.8 s)."""
    import io

    from braintumor.image_io import MAX_JPEG_SCANS
    from braintumor.jpeg_markers import jpeg_scans

    normal, bomb = _repeated_scans(MAX_JPEG_SCANS)
    scan = bomb[len(normal) - 2:-2][: (len(bomb) - len(normal)) // MAX_JPEG_SCANS]
    per = 0xF000 // len(scan)
    blocks = b""
    for start in range(0, MAX_JPEG_SCANS, per):
        body = scan * min(per, MAX_JPEG_SCANS - start)
        blocks += b"\xff\x00\xff\x00" + body + bytes(0xFF00 - 2 - len(body))  # the walk jumped exactly this far
    hidden = normal[:-2] + b"\xff\xfe\x00\x02" + blocks + normal[-2:]
    Image.open(io.BytesIO(hidden)).load()  # libjpeg reads it: the garbage is skipped, every scan decoded
    assert len(jpeg_scans(hidden, MAX_JPEG_SCANS)) > MAX_JPEG_SCANS
    with pytest.raises(ImageError, match="scans"):
        read_image(hidden)


def test_a_jpeg_of_endless_segments_is_refused_without_walking_them_all():
    """16 MB of empty comments and 101 FF DA bytes took the scan walk 1.8 s (a Python step per segment)."""
    from braintumor.image_headers import MAX_JPEG_SEGMENTS
    from braintumor.image_io import MAX_JPEG_SCANS

    normal, _ = _repeated_scans(MAX_JPEG_SCANS)
    comments = b"\xff\xfe\x00\x02" * (4 * MAX_JPEG_SEGMENTS) + b"\xff\xfe\x00\x06" + b"\xff\xda" * 2
    crafted = normal[:2] + comments + b"\xff\xfe" + (2 + 2 * MAX_JPEG_SCANS).to_bytes(2, "big") \
        + b"\xff\xda" * MAX_JPEG_SCANS + normal[2:]
    with pytest.raises(ImageError, match=f"more than {MAX_JPEG_SEGMENTS:,} segments"):
        read_image(crafted)


def test_the_frame_header_walk_is_capped_at_the_segment_limit():
    """``jpeg_frame`` (a refused JPEG's words, DICOM's JPEG checks on every fragment) walks at most
    MAX_JPEG_SEGMENTS segments: a fragment of millions of empty ones was a Python loop of millions of steps."""
    from braintumor.image_headers import MAX_JPEG_SEGMENTS, jpeg_frame

    sof = b"\xff\xc1\x00\x0b\x0c\x00\x20\x00\x40\x01\x01\x11\x00"  # 12-bit, 64 x 32, one component
    assert jpeg_frame(b"\xff\xd8" + b"\xff\xe0\x00\x02" * 10 + sof) == (12, 64, 32, 1)
    assert jpeg_frame(b"\xff\xd8" + b"\xff\xe0\x00\x02" * MAX_JPEG_SEGMENTS + sof) is None
