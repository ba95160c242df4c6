"""Property-based fuzzing with hypothesis (deterministic: derandomize=True, no example database).

Mutated real JPEG/PNG bytes through the decoder and preprocessing may only ever raise ImageError;
through the upload route they never cause a 500 and bad input always gets a JSON error. Oversized
headers are refused before a single pixel is decoded. benchmarks/fuzz.py runs the long version.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageFile

from braintumor.image_io import MAX_PIXELS, ImageError, read_image
from braintumor.preprocess import preprocess

FUZZ = settings(deadline=2000, derandomize=True, database=None, print_blob=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@pytest.fixture(scope="module")
def seeds(test_images) -> dict[str, bytes]:
    """Two real test JPEGs (one colour, one grayscale when the split has both) and their PNG re-encodings."""
    paths = [test_images["glioma"][0], test_images["notumor"][0]]
    out = {}
    for i, p in enumerate(paths):
        out[f"jpeg{i}"] = p.read_bytes()
        buf = io.BytesIO()
        Image.open(p).save(buf, format="PNG")
        out[f"png{i}"] = buf.getvalue()
    return out


flips = st.lists(st.tuples(st.integers(0, 2**20), st.integers(0, 7)), min_size=1, max_size=24)
mutation = st.one_of(
    st.tuples(st.just("flip"), flips),
    st.tuples(st.just("truncate"), st.floats(0, 1)),
    st.tuples(st.just("overwrite"), st.integers(0, 2**20), st.binary(min_size=1, max_size=48)),
    st.tuples(st.just("header"), st.integers(0, 6), st.integers(0, 2**32 - 1)),
)


def _header(data: bytes, field: int, value: int) -> bytes:
    b = bytearray(data)
    if data.startswith(b"\x89PNG"):  # IHDR field, CRC recomputed so the decoder gets past it
        off, fmt = [(16, ">I"), (20, ">I"), (24, ">B"), (25, ">B"), (26, ">B"), (27, ">B"), (28, ">B")][field]
        struct.pack_into(fmt, b, off, value % (2**32 if fmt == ">I" else 256))
        struct.pack_into(">I", b, 29, zlib.crc32(bytes(b[12:29])))
    else:  # JPEG SOF: precision, height, width, components
        sof = next((i for i in range(len(b) - 9) if b[i] == 0xFF and b[i + 1] in (0xC0, 0xC1, 0xC2)), None)
        if sof is not None:
            off, size = [(sof + 4, 1), (sof + 5, 2), (sof + 7, 2), (sof + 9, 1)][field % 4]
            b[off:off + size] = (value % 256**size).to_bytes(size, "big")
    return bytes(b)


def mutate(data: bytes, steps: list[tuple]) -> bytes:
    for step in steps:
        if not data:
            break
        kind = step[0]
        if kind == "flip":
            b = bytearray(data)
            for pos, bit in step[1]:
                b[pos % len(b)] ^= 1 << bit
            data = bytes(b)
        elif kind == "truncate":
            data = data[: int(step[1] * len(data))]
        elif kind == "overwrite":
            pos = step[1] % len(data)
            data = data[:pos] + step[2] + data[pos + len(step[2]):]
        else:
            data = _header(data, step[1], step[2])
    return data


@settings(FUZZ, max_examples=200)
@given(seed=st.sampled_from(["jpeg0", "jpeg1", "png0", "png1"]), steps=st.lists(mutation, min_size=1, max_size=3))
def test_mutated_images_decode_or_raise_image_error(seeds, seed, steps):
    data = mutate(seeds[seed], steps)
    try:
        x = preprocess(data)
    except ImageError as exc:
        assert str(exc)  # a message a person can read
        return
    assert x.shape == (1, 128, 128) and x.dtype == np.float32
    assert np.isfinite(x).all() and x.min() >= 0.0 and x.max() <= 1.0


@pytest.fixture(scope="module")
def client(tiny_classifier):
    from braintumor.web import create_app

    return create_app(classifier=tiny_classifier).test_client()


@settings(FUZZ, max_examples=100)
@given(seed=st.sampled_from(["jpeg0", "png1"]), steps=st.lists(mutation, min_size=1, max_size=3),
       heatmap=st.booleans())
def test_upload_route_never_answers_500(client, seeds, seed, steps, heatmap):
    data = mutate(seeds[seed], steps)
    r = client.post("/api/v1/predict" + ("?heatmap=1" if heatmap else ""),
                    data={"file": (io.BytesIO(data), "scan.jpg")}, content_type="multipart/form-data")
    assert r.status_code in (200, 400), r.get_data(as_text=True)[:300]
    body = r.get_json()
    assert isinstance(body, dict)
    if r.status_code == 400:
        errors = [rec.get("error") for rec in body.get("results", [])] or [body.get("error")]
        assert all(isinstance(e, str) and e for e in errors)


def _png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 10)) + chunk(b"IEND", b"")


def _jpeg_claiming(width: int, height: int) -> bytes:
    """A real small JPEG whose SOF header is rewritten to claim width x height."""
    buf = io.BytesIO()
    Image.new("L", (16, 16), 128).save(buf, format="JPEG")
    b = bytearray(buf.getvalue())
    sof = next(i for i in range(len(b) - 9) if b[i] == 0xFF and b[i + 1] == 0xC0)
    struct.pack_into(">HH", b, sof + 5, height, width)
    return bytes(b)


def _bmp_claiming(width: int, height: int) -> bytes:
    header = struct.pack("<2sIHHI", b"BM", 54 + 16, 0, 0, 54)
    info = struct.pack("<IiiHHIIiiII", 40, width, height, 1, 8, 0, 16, 2835, 2835, 0, 0)
    return header + info + b"\0" * 16


side = int(MAX_PIXELS**0.5) + 100  # just over our limit, well under Pillow's own bomb threshold


@pytest.mark.parametrize("data", [
    _png_header(50_000, 50_000), _png_header(side, side), _png_header(1, MAX_PIXELS + 1),
    _jpeg_claiming(65_000, 65_000), _jpeg_claiming(side, side), _bmp_claiming(side, side),
], ids=["png-50000", "png-over-limit", "png-1-px-wide", "jpeg-65000", "jpeg-over-limit", "bmp-over-limit"])
def test_oversized_headers_are_refused_before_decoding(data, monkeypatch):
    loads = []
    for cls in (Image.Image, ImageFile.ImageFile):
        real = cls.load
        monkeypatch.setattr(cls, "load", lambda self, real=real: loads.append(self.size) or real(self))
    with pytest.raises(ImageError, match="limit"):
        read_image(data)
    assert loads == []  # no pixel was decoded
