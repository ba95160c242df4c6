"""Inputs that used to cost too much or break things: thin strips, huge PNGs, a FIFO as the output file."""

from __future__ import annotations

import io
import os
import stat
import subprocess
import sys
import threading

import numpy as np
import pytest
from conftest import encode, synthetic_head
from PIL import Image

from braintumor.image_headers import declared_size
from braintumor.image_io import read_image
from braintumor.preprocess import MAX_CROP_SIDE, prepare


def _strip(width: int) -> bytes:
    """A 1-pixel-high bright line: about 100 bytes of PNG whose head crop would be width^2 pixels."""
    return encode(np.full((1, width), 200, np.uint8), "PNG")


def test_a_thin_strip_never_materialises_a_huge_crop(monkeypatch):
    boxes = []
    real = Image.Image.crop
    monkeypatch.setattr(Image.Image, "crop", lambda self, box=None: boxes.append(box) or real(self, box))
    out = prepare(_strip(20_000))  # used to raise DecompressionBombError (a 500 in the web app)
    assert out.shape == (128, 128)
    assert boxes and all(b[2] - b[0] <= MAX_CROP_SIDE for b in boxes)


def test_the_upload_route_answers_a_thin_strip(tiny_classifier):
    from braintumor.web import create_app

    client = create_app(classifier=tiny_classifier).test_client()
    strip = encode(np.full((64, 30_000), 200, np.uint8), "PNG")  # 64 high: a 1-pixel strip is refused as too small
    r = client.post("/api/v1/predict?heatmap=1", data={"file": (io.BytesIO(strip), "strip.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 200 and "label" in r.get_json()["results"][0]
    r = client.post("/api/v1/predict", data={"file": (io.BytesIO(_strip(30_000)), "strip.png")},
                    content_type="multipart/form-data")
    assert r.status_code == 400 and r.get_json()["results"][0]["error"].startswith("image is 30000x1 pixels; ")


def test_large_pngs_are_reduced_after_decoding_without_changing_what_the_model_sees():
    small = synthetic_head(256, canvas=(300, 300), offset=(20, 30))
    big = np.asarray(Image.fromarray(small).resize((2400, 2400), Image.Resampling.BICUBIC))
    data = encode(big, "PNG")
    reduced = read_image(data, draft_size=256)
    assert reduced.shape == (267, 267)  # factor 9 = 2400 // 256, the largest that keeps >= 256 px
    assert read_image(data).shape == (2400, 2400)  # without a draft size nothing is reduced
    a = prepare(data).astype(int)
    b = prepare(read_image(data)).astype(int)  # the full-resolution path
    # the crop box moves by under a model pixel; JPEG draft decoding of the same image differs by ~1.7
    assert np.abs(a - b).mean() < 3.0


def test_predict_writes_through_a_fifo_instead_of_replacing_it(tiny_model, test_images, tmp_path):
    """`-o /dev/null` (or a named pipe) used to be replaced by a regular file via rename."""
    from braintumor.cli import main

    fifo = tmp_path / "results.fifo"
    os.mkfifo(fifo)
    got: list[str] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_text()), daemon=True)
    reader.start()
    rc = main(["predict", str(test_images["glioma"][0]), "--format", "jsonl", "-o", str(fifo),
               "--model", str(tiny_model)])
    reader.join(10)
    assert rc == 0 and stat.S_ISFIFO(fifo.stat().st_mode)
    assert got and '"label"' in got[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["results.fifo"]  # no stray temporary file


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_reduction_starts_at_twice_the_draft_size(fmt):
    """The 224 px dataset is decoded in full for the shipped 128 px model (draft size 256)."""
    data = encode(synthetic_head(224), fmt)
    assert read_image(data, draft_size=256).shape == (224, 224)
    assert read_image(data, draft_size=113).shape == (224, 224)
    assert read_image(data, draft_size=112).shape == (112, 112)
    # the shorter side decides: a wide image is not reduced below the draft size
    assert read_image(encode(synthetic_head(224, canvas=(224, 600)), fmt), draft_size=113).shape == (224, 600)


@pytest.mark.parametrize("fmt, options", [("JPEG", {}), ("JPEG", {"progressive": True}), ("PNG", {}),
                                          ("WEBP", {}), ("BMP", {}), ("TIFF", {})])
def test_declared_size_reads_headers_like_pillow(fmt, options):
    """The direct PNG/JPEG header readers (and the Pillow fallback) report what Pillow reports."""
    rng = np.random.default_rng(1)
    for w, h in [(1, 1), (37, 5), (300, 211)]:
        buf = io.BytesIO()
        Image.fromarray(rng.integers(0, 255, (h, w, 3), dtype=np.uint8)).save(buf, fmt, **options)
        data = buf.getvalue()
        assert declared_size(data) == (w, h)
        with Image.open(io.BytesIO(data)) as img:
            assert img.size == (w, h)
    assert declared_size(data[:5]) is None
    assert declared_size(b"\xff\xd8\xff\xe0\x00") is None  # a JPEG cut inside its first segment
    assert declared_size(b"not an image") is None


def test_declared_size_is_not_misled_by_junk_that_the_decoders_skip():
    """FF 00 between segments is junk to libjpeg and Pillow; the header walk took it for a segment with a length and
    jumped onto a 1x1 frame header hidden in an APP1 segment the decoders skip: a 3000x3000 image counted 1 pixel
    against the request's budget, so one request could decode any number of them."""
    buf = io.BytesIO()
    Image.fromarray(np.full((300, 300), 128, np.uint8)).save(buf, "JPEG")
    real = buf.getvalue()
    fake_sof = b"\xff\xc0\x00\x0b\x08\x00\x01\x00\x01\x01\x01\x11\x00"  # 1x1; to the decoders, APP1's length
    crafted = real[:2] + b"\xff\x00\x00\x04" + b"\xff\xe1" + fake_sof + bytes(0xFFC0 - 2 - len(fake_sof)) + real[2:]
    with Image.open(io.BytesIO(crafted)) as img:
        img.load()
        assert img.size == (300, 300)
    assert declared_size(crafted) == (300, 300)


def test_a_request_may_decode_only_so_many_pixels(tiny_classifier):
    """Pixels are cheap to send compressed but not to decode: past the request's budget (read from the
    headers, before decoding) a file gets an error record; the files before it are still answered."""
    from braintumor.image_io import MAX_PIXELS, MAX_REQUEST_PIXELS
    from braintumor.web import create_app

    assert MAX_REQUEST_PIXELS >= MAX_PIXELS  # any single decodable image fits a request on its own
    head = encode(synthetic_head(), "PNG")
    side = Image.open(io.BytesIO(head)).size[0]
    client = create_app(classifier=tiny_classifier, max_request_pixels=2 * side * side).test_client()
    files = [(io.BytesIO(head), f"{i}.png") for i in range(3)]
    r = client.post("/api/v1/predict", data={"file": files}, content_type="multipart/form-data")
    results = r.get_json()["results"]
    assert r.status_code == 200 and [("label" in x) for x in results] == [True, True, False]
    assert "pixels" in results[2]["error"] and "send it on its own" in results[2]["error"]
    assert client.get("/api/v1/model").get_json()["limits"]["max_request_pixels"] == 2 * side * side


def _bundled_with(name: str, **attrs) -> bytes:
    """A compressed DICOM file shipped with pydicom, its header changed (skips when the wheel lacks it)."""
    import pydicom
    from dicom_factory import pydicom_file, to_bytes

    path = pydicom_file(name)
    if path is None:
        pytest.skip(f"pydicom's wheel does not ship {name}")
    ds = pydicom.dcmread(path)
    for key, value in attrs.items():
        setattr(ds, key, value(ds) if callable(value) else value)
    return to_bytes(ds)


def _jpeg_with_bits(allocated: int, stored: int) -> bytes:
    import pydicom
    from dicom_factory import jpeg_baseline, to_bytes

    ds = pydicom.dcmread(io.BytesIO(jpeg_baseline(synthetic_head(32))))
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = allocated, stored, stored - 1
    return to_bytes(ds)


def test_compressed_dicom_that_disagrees_with_its_header_is_refused_not_fatal(tmp_path):
    """GDCM aborts the whole process (a C++ exception nothing catches: no Python error to handle) on JPEG with 1 or 32
    bits allocated or fewer than 8 stored in 8, JPEG 2000 whose components are not the header's samples, JPEG-LS of
    another size or number of components than the header's: one such upload killed its web worker, one such file a
    CLI batch. Read in a child process, so that an abort fails this test, not the test run."""
    cases = {
        "JPEG pixel data with 32 bits allocated and 32 stored is not decoded": _jpeg_with_bits(32, 32),
        "JPEG pixel data with 1 bits allocated and 1 stored is not decoded": _jpeg_with_bits(1, 1),
        "JPEG pixel data with 8 bits allocated and 7 stored is not decoded": _jpeg_with_bits(8, 7),
        "JPEG 2000 pixel data has 1 component where its header says 1 sample per pixel (3 by its photometric "
        "interpretation)": _bundled_with("MR_small_jp2klossless.dcm", PhotometricInterpretation="RGB"),
        "JPEG-LS pixel data is 64x64 pixels of 1 component where its header says 64x65 of 1":
            _bundled_with("MR_small_jpeg_ls_lossless.dcm", Rows=65),
        "JPEG-LS pixel data is 64x64 pixels of 1 component where its header says 64x64 of 3":
            _bundled_with("MR_small_jpeg_ls_lossless.dcm", SamplesPerPixel=3, PlanarConfiguration=0),
    }
    for i, data in enumerate(cases.values()):
        (tmp_path / f"{i}.dcm").write_bytes(data)
    code = ("import sys\nfrom braintumor.image_io import ImageError\nfrom braintumor.volume_io import read_volumes\n"
            "for path in sys.argv[1:]:\n    try:\n        read_volumes(path)\n    except ImageError as exc:\n"
            "        print(exc)\n")
    child = subprocess.run([sys.executable, "-c", code, *(str(tmp_path / f"{i}.dcm") for i in range(len(cases)))],
                           capture_output=True, text=True, timeout=120,
                           env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    assert child.returncode == 0, child.stderr[-300:]
    said = child.stdout.splitlines()
    assert len(said) == len(cases), child.stdout
    for line, start in zip(said, cases, strict=True):
        assert line.startswith("DICOM " + start), line


def test_a_dicom_whose_undefined_lengths_never_end_is_refused_after_a_few_passes():
    """pydicom reads an undefined-length value whose delimiter is missing to the end of the file, once per such value:
    5 000 unterminated items before 1 MB of pixels took seconds to parse (7 s for one fuzzed upload), more with size."""
    import struct

    from dicom_factory import make_dicom

    from braintumor.image_io import ImageError
    from braintumor.volume_io import read_volumes

    data = make_dicom(np.full((512, 1024), 7, np.uint16))
    at = data.find(struct.pack("<HH", 0x7FE0, 0x0010), 132)  # before the pixels: a sequence of items never closed
    items = struct.pack("<HH2sHI", 0x0008, 0x1140, b"SQ", 0, 0xFFFFFFFF) + struct.pack("<HHI", 0xFFFE, 0xE000,
                                                                                        0xFFFFFFFF) * 5000
    with pytest.raises(ImageError, match=r"^DICOM data is corrupt: undefined-length values without their delimiters"):
        read_volumes(data[:at] + items + data[at:], name="x.dcm")
