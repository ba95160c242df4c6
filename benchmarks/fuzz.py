#!/usr/bin/env python3
"""Mutation fuzzing of the decoders and the upload route: every bad input must end as a clean error.

    python benchmarks/fuzz.py [--n 10000] [--seed 0] [--save-dir fuzz-failures] [--json out.json]

Seeds: real test JPEGs (colour and grayscale), the same re-encoded as PNG, and, when pydicom is
installed, a DICOM made from a test image. Mutations: bit flips, random byte spans, truncation,
duplicated spans, splices of two seeds, and header-field mutation (PNG IHDR with a fixed CRC, JPEG
SOF dimensions/precision/components and segment lengths, DICOM Rows/Columns/BitsAllocated/...).
Each input goes through ``preprocess`` (decode + crop + resize) and through POST /api/v1/predict
(Flask test client, the shipped model; every other request with ?heatmap=1). Outcomes are counted:
ok / clean error (ImageError; 4xx with a JSON error) / exception or 500 (a bug) / over 2 s.
"""

from __future__ import annotations

import argparse
import io
import logging
import resource
import signal
import struct
import sys
import time
import zlib
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
from _common import common_args, labelled_images, machine, print_machine, rss_bytes, table, write_json
from PIL import Image

from braintumor.image_io import ImageError
from braintumor.preprocess import preprocess

SLOW_S = 2.0
INTERESTING = (0, 1, 2, 3, 7, 8, 16, 255, 256, 4096, 32767, 32768, 50000, 65535)


def dicom_seed(gray: np.ndarray) -> bytes | None:
    """A minimal valid DICOM (explicit VR little endian, 16-bit MONOCHROME2) or None without pydicom."""
    try:
        from pydicom.dataset import FileDataset, FileMetaDataset
        from pydicom.uid import ExplicitVRLittleEndian, SecondaryCaptureImageStorage, generate_uid
    except ImportError:
        return None
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = SecondaryCaptureImageStorage
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = FileDataset("fuzz.dcm", {}, file_meta=meta, preamble=b"\0" * 128)
    ds.SOPClassUID, ds.SOPInstanceUID, ds.Modality = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID, "MR"
    ds.Rows, ds.Columns = gray.shape
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.PixelData = (gray.astype(np.uint16) * 16).tobytes()
    buf = io.BytesIO()
    ds.save_as(buf, enforce_file_format=True) if "enforce_file_format" in ds.save_as.__code__.co_varnames \
        else ds.save_as(buf, write_like_original=False)
    return buf.getvalue()


def seeds(paths: list[Path]) -> dict[str, bytes]:
    out: dict[str, bytes] = {}
    for i, p in enumerate(paths):
        data = p.read_bytes()
        out[f"jpeg{i}"] = data
        img = Image.open(io.BytesIO(data))
        buf = io.BytesIO()
        img.save(buf, format="PNG")
        out[f"png{i}"] = buf.getvalue()
    dcm = dicom_seed(np.asarray(Image.open(paths[0]).convert("L")))
    if dcm is not None:
        out["dicom0"] = dcm
    return out


# ---- mutators: (rng, data, other seed) -> mutated bytes ----

def bitflip(rng: np.random.Generator, d: bytes, _: bytes) -> bytes:
    b = bytearray(d)
    for _ in range(int(rng.integers(1, 33))):
        i = int(rng.integers(len(b)))
        b[i] ^= 1 << int(rng.integers(8))
    return bytes(b)


def random_span(rng: np.random.Generator, d: bytes, _: bytes) -> bytes:
    b = bytearray(d)
    i = int(rng.integers(len(b)))
    n = int(rng.integers(1, 65))
    b[i:i + n] = rng.integers(0, 256, min(n, len(b) - i), dtype=np.uint8).tobytes()
    return bytes(b)


def truncate(rng: np.random.Generator, d: bytes, _: bytes) -> bytes:
    return d[: int(rng.integers(0, len(d)))]


def duplicate(rng: np.random.Generator, d: bytes, _: bytes) -> bytes:
    i, j = sorted(int(x) for x in rng.integers(0, len(d), 2))
    k = int(rng.integers(len(d)))
    return d[:k] + d[i:j] + d[k:]


def splice(rng: np.random.Generator, d: bytes, other: bytes) -> bytes:
    return d[: int(rng.integers(1, len(d)))] + other[int(rng.integers(len(other))):]


def _value(rng: np.random.Generator, bits: int) -> int:
    v = int(rng.choice(INTERESTING)) if rng.random() < 0.7 else int(rng.integers(0, 2**bits))
    return v % (2**bits)


def header(rng: np.random.Generator, d: bytes, _: bytes) -> bytes:
    """Mutate a structural field of the format, keeping the file otherwise valid."""
    b = bytearray(d)
    if d.startswith(b"\x89PNG"):
        if rng.random() < 0.8:  # IHDR: width, height, depth, colour type, compression, filter, interlace
            field = [(16, ">I"), (20, ">I"), (24, ">B"), (25, ">B"), (26, ">B"), (27, ">B"), (28, ">B")]
            off, f = field[int(rng.integers(len(field)))]
            struct.pack_into(f, b, off, _value(rng, 32 if f == ">I" else 8))
            struct.pack_into(">I", b, 29, zlib.crc32(bytes(b[12:29])))  # valid CRC: the decoder must cope
        else:  # a later chunk's length
            pos = 33
            for _ in range(int(rng.integers(0, 4))):
                n = struct.unpack_from(">I", b, pos)[0]
                if pos + 12 + n + 8 > len(b):
                    break
                pos += 12 + n
            struct.pack_into(">I", b, pos, _value(rng, 32))
        return bytes(b)
    if d.startswith(b"\xff\xd8"):
        sofs = [i for i in range(len(b) - 9) if b[i] == 0xFF and b[i + 1] in (0xC0, 0xC1, 0xC2)]
        segs = [i for i in range(2, len(b) - 4) if b[i] == 0xFF and 0xC0 <= b[i + 1] <= 0xFE and b[i + 1] != 0xD9]
        if sofs and rng.random() < 0.7:
            i = sofs[0]
            off, bits = [(i + 4, 8), (i + 5, 16), (i + 7, 16), (i + 9, 8)][int(rng.integers(4))]
            if bits == 16:
                struct.pack_into(">H", b, off, _value(rng, 16))
            else:
                b[off] = _value(rng, 8)
        elif segs:
            i = segs[int(rng.integers(len(segs)))]
            struct.pack_into(">H", b, i + 2, _value(rng, 16))
        return bytes(b)
    if d[128:132] == b"DICM":
        tags = {(0x0028, 0x0010): 16, (0x0028, 0x0011): 16, (0x0028, 0x0100): 16, (0x0028, 0x0101): 16,
                (0x0028, 0x0002): 16, (0x0028, 0x0103): 16}
        hits = [i for i in range(132, len(b) - 10)
                if (struct.unpack_from("<HH", b, i)) in tags and b[i + 4:i + 6] == b"US"]
        if hits:
            struct.pack_into("<H", b, hits[int(rng.integers(len(hits)))] + 8, _value(rng, 16))
        return bytes(b)
    return bitflip(rng, d, _)


MUTATORS: dict[str, Callable[[np.random.Generator, bytes, bytes], bytes]] = {
    "bitflip": bitflip, "random span": random_span, "truncate": truncate, "duplicate span": duplicate,
    "splice": splice, "header field": header,
}


class Hang(Exception):
    pass


def _alarm(signum, frame):
    raise Hang()


def timed(fn: Callable[[], str], limit: int = 60) -> tuple[str, float]:
    signal.signal(signal.SIGALRM, _alarm)
    signal.alarm(limit)
    t = time.perf_counter()
    try:
        outcome = fn()
    except Hang:
        outcome = f"hang (> {limit} s)"
    finally:
        signal.alarm(0)
    return outcome, time.perf_counter() - t


def decode_outcome(data: bytes) -> str:
    try:
        preprocess(data)
        return "ok"
    except ImageError:
        return "clean error (ImageError)"
    except Exception as exc:
        return f"BUG: {type(exc).__name__}"


def route_outcome(client, data: bytes, heatmap: bool) -> str:
    r = client.post("/api/v1/predict" + ("?heatmap=1" if heatmap else ""),
                    data={"file": (io.BytesIO(data), "fuzz.bin")}, content_type="multipart/form-data")
    body = r.get_json(silent=True)
    if r.status_code == 200:
        return "ok (200)"
    if 400 <= r.status_code < 500:
        return "clean 4xx (JSON error)" if isinstance(body, dict) and body else "BUG: 4xx without JSON"
    return f"BUG: HTTP {r.status_code}"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    common_args(ap)
    ap.add_argument("--n", type=int, default=10_000, help="mutated inputs (each through both targets)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the mutations (default %(default)s)")
    ap.add_argument("--no-route", action="store_true", help="decoders only")
    ap.add_argument("--save-dir", type=Path, default=None, help="write inputs that hit a bug or were slow here")
    args = ap.parse_args(argv)
    from braintumor.web import create_app

    picks = [p for p, _ in labelled_images(args.data, limit=2)]
    corpus = seeds(picks)
    names = list(corpus)
    app = create_app(threads=1)
    app.logger.setLevel(logging.CRITICAL)  # a 500 is counted here, not printed
    client = app.test_client()
    info = machine()
    rng = np.random.default_rng(args.seed)
    counts: dict[str, Counter] = {"decoder": Counter(), "upload route": Counter()}
    by_mutator: dict[str, Counter] = {m: Counter() for m in MUTATORS}
    examples: list[str] = []
    rss_start = rss_bytes(__import__("os").getpid())
    t0 = time.perf_counter()
    for i in range(args.n):
        seed_name = names[int(rng.integers(len(names)))]
        mut = list(MUTATORS)[int(rng.integers(len(MUTATORS)))]
        data = MUTATORS[mut](rng, corpus[seed_name], corpus[names[int(rng.integers(len(names)))]])
        if rng.random() < 0.3:  # stack a second mutation now and then
            data = MUTATORS[list(MUTATORS)[int(rng.integers(len(MUTATORS)))]](rng, data or b"\0", corpus[seed_name])
        results = {"decoder": timed(lambda d=data: decode_outcome(d))}
        if not args.no_route:
            results["upload route"] = timed(lambda d=data, h=bool(i % 2): route_outcome(client, d, h))
        for target, (outcome, secs) in results.items():
            counts[target][outcome] += 1
            if secs > SLOW_S:
                counts[target][f"over {SLOW_S:g} s"] += 1
            bad = outcome.startswith(("BUG", "hang")) or secs > SLOW_S
            by_mutator[mut]["bug" if bad else "fine"] += 1
            if bad:
                examples.append(f"#{i} {seed_name} + {mut} -> {target}: {outcome} ({secs:.2f} s)")
                if args.save_dir:
                    args.save_dir.mkdir(parents=True, exist_ok=True)
                    (args.save_dir / f"{i:06d}-{seed_name}.bin").write_bytes(data)
        if (i + 1) % 1000 == 0:
            print(f"[fuzz] {i + 1}/{args.n} ({time.perf_counter() - t0:.0f} s)", file=sys.stderr, flush=True)
    seconds = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    rss_end = rss_bytes(__import__("os").getpid())
    print(f"\n## Fuzzing: {args.n} mutated inputs from {len(corpus)} seeds ({', '.join(names)}), seed {args.seed}\n")
    print_machine(info)
    if "dicom0" not in corpus:
        print("- no DICOM seed: pydicom is not installed (pip install pydicom to include one)\n")
    rows = [[t, o, n] for t, c in counts.items() for o, n in sorted(c.items())]
    print(table(["target", "outcome", "count"], rows))
    print("\n" + table(["mutator", "fine", "bug or slow"], [[m, c["fine"], c["bug"]] for m, c in by_mutator.items()]))
    start, end = next(iter(rss_start.values())), next(iter(rss_end.values()))
    print(f"\n- {seconds:.0f} s in all; peak RSS {peak / 1e6:.0f} MB; RSS {start / 1e6:.0f} MB at start, "
          f"{end / 1e6:.0f} MB at the end")
    bugs = sum(n for c in counts.values() for o, n in c.items() if o.startswith(("BUG", "hang", "over")))
    print(f"- bugs or slow inputs: {bugs}" + (" (first ones below)" if examples else ""))
    for line in examples[:20]:
        print(f"  - {line}")
    write_json(args.json, {"machine": info, "n": args.n, "seed": args.seed, "seeds": names, "seconds": seconds,
                           "counts": {k: dict(v) for k, v in counts.items()},
                           "by_mutator": {k: dict(v) for k, v in by_mutator.items()},
                           "peak_rss": peak, "rss_start": start, "rss_end": end, "examples": examples[:200]})
    return 1 if bugs else 0


if __name__ == "__main__":
    raise SystemExit(main())
