"""A reproducible out-of-distribution image set built only from what installed packages ship.

Used to measure the refusal of non-MRI input (``scripts/ood_eval.py``, tests); never by serving.
Sources: scikit-image's and matplotlib's bundled sample images (photos, textures, documents,
other medical images), text rendered with Pillow, and synthetic noise/blank/gradient frames.
Natural photos also appear as grayscale copies and random crops, the hard case: no colour cue.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SKIMAGE_PHOTOS = ("astronaut.png", "chelsea.png", "coffee.png", "rocket.jpg", "motorcycle_left.png",
                  "motorcycle_right.png", "hubble_deep_field.jpg", "color.png", "camera.png", "moon.png",
                  "coins.png", "clock_motion.png", "horse.png", "logo.png", "brick.png", "grass.png", "gravel.png")
SKIMAGE_DOCUMENTS = ("page.png", "text.png")
SKIMAGE_MEDICAL = ("retina.jpg", "microaneurysms.png", "cell.png", "ihc.png", "phantom.png")
MATPLOTLIB_PHOTOS = ("grace_hopper.jpg", "logo2.png", "Minduka_Present_Blue_Pack.png")


@dataclass(frozen=True)
class Sample:
    name: str
    category: str  # photo | photo-gray | photo-crop | document | medical-other | synthetic
    data: bytes  # an encoded image file, as a user would upload it


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _jpeg(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB" if img.mode not in ("L", "RGB") else img.mode).save(buf, format="JPEG", quality=90)
    return buf.getvalue()


def _package_dir(module: str, sub: str) -> Path | None:
    try:
        mod = __import__(module, fromlist=["__file__"])
    except ImportError:
        return None
    base = Path(mod.get_data_path()) if module == "matplotlib" else Path(os.path.dirname(mod.__file__))
    folder = base / sub
    return folder if folder.is_dir() else None


def _photo_variants(name: str, img: Image.Image, rng: np.random.Generator, crops: int) -> Iterator[Sample]:
    yield Sample(name, "photo", _jpeg(img) if img.mode in ("RGB", "L") else _png(img))
    gray = img.convert("L")
    yield Sample(f"{name}#gray", "photo-gray", _jpeg(gray))
    w, h = gray.size
    for k in range(crops):
        side = int(min(w, h) * rng.uniform(0.3, 0.9))
        x, y = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        crop = (img if k % 2 else gray).crop((x, y, x + side, y + side))
        yield Sample(f"{name}#crop{k}", "photo-crop", _jpeg(crop.convert("RGB") if crop.mode not in ("L", "RGB")
                                                             else crop))


def _documents(rng: np.random.Generator, n: int) -> Iterator[Sample]:
    words = ["patient", "report", "slice", "series", "contrast", "axial", "lorem", "ipsum", "dolor", "sit",
             "amet", "radiology", "findings", "impression", "normal", "study", "magnetic", "resonance",
             "imaging", "protocol"]
    for k in range(n):
        img = Image.new("L", (int(rng.integers(300, 700)),) * 2, 255 if k % 3 else 20)
        draw = ImageDraw.Draw(img)
        font = ImageFont.load_default(size=int(rng.integers(12, 28)))
        y = 10
        while y < img.height - 20:
            line = " ".join(rng.choice(words, size=int(rng.integers(3, 9))))
            draw.text((10, y), line, fill=0 if k % 3 else 230, font=font)
            y += int(font.size * 1.5)
        yield Sample(f"document-{k}", "document", _png(img))


def _synthetic(rng: np.random.Generator) -> Iterator[Sample]:
    size = 256
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    frames = {
        "black": np.zeros((size, size)), "white": np.ones((size, size)), "gray": np.full((size, size), 0.5),
        "uniform-noise": rng.random((size, size)), "gaussian-noise": np.clip(rng.normal(0.5, 0.2, (size, size)), 0, 1),
        "linear-gradient": xx, "radial-gradient": np.clip(1 - np.hypot(xx - 0.5, yy - 0.5) * 2, 0, 1),
        "checkerboard": ((xx * 8).astype(int) + (yy * 8).astype(int)) % 2 * 1.0,
        "stripes": (np.sin(xx * 40) > 0) * 1.0, "disc": (np.hypot(xx - 0.5, yy - 0.5) < 0.35) * 1.0,
    }
    for name, f in frames.items():
        yield Sample(name, "synthetic", _png(Image.fromarray((f * 255).astype(np.uint8))))
    colour_noise = (rng.random((size, size, 3)) * 255).astype(np.uint8)
    yield Sample("colour-noise", "synthetic", _png(Image.fromarray(colour_noise)))


def ood_samples(seed: int = 0, crops: int = 6, documents: int = 20) -> list[Sample]:
    """Every sample we can build here (packages that are not installed are skipped)."""
    rng = np.random.default_rng(seed)
    out: list[Sample] = []
    sk = _package_dir("skimage", "data")
    mpl = _package_dir("matplotlib", "sample_data")
    photos = [(sk, n) for n in SKIMAGE_PHOTOS] + [(mpl, n) for n in MATPLOTLIB_PHOTOS]
    for folder, name in photos:
        if folder is not None and (folder / name).exists():
            with Image.open(folder / name) as img:
                img.load()
                out.extend(_photo_variants(name, img.convert("RGB") if img.mode in ("P", "RGBA", "LA") else img,
                                           rng, crops))
    if sk is not None and (sk / "lfw_subset.npy").exists():  # 200 small grayscale faces / non-faces
        faces = np.load(sk / "lfw_subset.npy")
        for k in range(0, len(faces), 4):
            face = Image.fromarray((faces[k] * 255).astype(np.uint8))
            out.append(Sample(f"lfw_subset[{k}]", "photo-gray", _png(face)))
    for folder, names, cat in ((sk, SKIMAGE_DOCUMENTS, "document"), (sk, SKIMAGE_MEDICAL, "medical-other")):
        for name in names:
            if folder is not None and (folder / name).exists():
                out.append(Sample(name, cat, (folder / name).read_bytes()))
    out.extend(_documents(rng, documents))
    out.extend(_synthetic(rng))
    return out


def missing_sources() -> list[str]:
    """The packages whose sample images :func:`ood_samples` leaves out, not being installed: without them the set is
    its documents and synthetic frames alone, a figure unlike docs/RESULTS.md's, which a script must say."""
    return [package for package, module, sub in (("scikit-image", "skimage", "data"),
                                                  ("matplotlib", "matplotlib", "sample_data"))
            if _package_dir(module, sub) is None]


def matplotlib_mri_slice() -> bytes | None:
    """matplotlib's bundled 256x256 16-bit head MRI (``s1045.ima.gz``) as PNG: an external brain MRI."""
    mpl = _package_dir("matplotlib", "sample_data")
    if mpl is None or not (mpl / "s1045.ima.gz").exists():
        return None
    raw = np.frombuffer(gzip.decompress((mpl / "s1045.ima.gz").read_bytes()), dtype="<u2").reshape(256, 256)
    img = (raw.astype(np.float64) / max(1, raw.max()) * 255).astype(np.uint8)
    return _png(Image.fromarray(img))
