"""The inputs of ``scripts/clinician_inputs.py``: what a clinician may send instead of one plain MRI slice (a chest
X-ray, a CT, a screenshot, a thumbnail, a montage, ...), each built here from one real test slice or from nothing,
seeded, so that the figures docs/RESULTS.md quotes come from a command and not from a one-off session.

Each input is a name, what the scratch check of 2026-12-0x (never committed) said of it (``then``: history, for the
docs to mark as such), and a builder that takes the base slice, a few other test slices and a seeded generator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFont

SIZE = 512  # side of the synthetic frames (X-ray, CT, noise, ...)


@dataclass(frozen=True)
class Case:
    name: str
    then: str  # the uncommitted scratch check's outcome: history
    build: Callable[[np.ndarray, list[np.ndarray], np.random.Generator], Image.Image]
    needs_data: bool = True  # made of test slices (skipped when the data set is absent)


def _grid() -> tuple[np.ndarray, np.ndarray]:
    return np.mgrid[0:SIZE, 0:SIZE] / (SIZE - 1)


def _ellipse(yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, ry: float, rx: float) -> np.ndarray:
    return ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1


def _gray(f: np.ndarray, rng: np.random.Generator, noise: float = 0.02) -> Image.Image:
    """A float frame (0-1) with a little noise as an 8-bit gray image."""
    return Image.fromarray((np.clip(f + rng.normal(0, noise, f.shape), 0, 1) * 255).astype(np.uint8))


def chest_xray(rng: np.random.Generator, inverted: bool = False) -> Image.Image:
    """A frontal chest X-ray's layout: bright body and spine, dark lungs crossed by ribs, the heart's shadow."""
    yy, xx = _grid()
    f = np.where(_ellipse(yy, xx, 0.55, 0.5, 0.5, 0.46), 0.55, 0.05)
    lungs = _ellipse(yy, xx, 0.45, 0.3, 0.3, 0.15) | _ellipse(yy, xx, 0.45, 0.7, 0.3, 0.15)
    f = np.where(lungs, 0.22 + 0.12 * (np.sin(yy * 60 + 8 * (xx - 0.5) ** 2) > 0.6), f)
    f = np.where(_ellipse(yy, xx, 0.62, 0.56, 0.14, 0.13), 0.6, f)
    f = np.where(np.abs(xx - 0.5) < 0.035, 0.85, f)
    return _gray(1 - f if inverted else f, rng)


def ct_head(rng: np.random.Generator, brain_window: bool) -> Image.Image:
    """An axial CT head: a white skull ring on black air; the brain flat (bone window) or with gray and white matter
    and dark ventricles (brain window)."""
    yy, xx = _grid()
    outer, inner = _ellipse(yy, xx, 0.5, 0.5, 0.42, 0.35), _ellipse(yy, xx, 0.5, 0.5, 0.385, 0.315)
    brain = (0.45 + 0.06 * np.sin(xx * 35) * np.cos(yy * 29)) if brain_window else np.full(xx.shape, 0.16)
    if brain_window:
        brain = np.where(_ellipse(yy, xx, 0.47, 0.45, 0.09, 0.03) | _ellipse(yy, xx, 0.47, 0.55, 0.09, 0.03), 0.15,
                         brain)
    return _gray(np.where(inner, brain, np.where(outer, 1.0, 0.0)), rng)


def ct_abdomen(rng: np.random.Generator) -> Image.Image:
    """An axial CT abdomen: a wide body with a fat rim, liver, kidneys, aorta, a white vertebra, black bowel gas."""
    yy, xx = _grid()
    f = np.where(_ellipse(yy, xx, 0.5, 0.5, 0.33, 0.45), 0.3, 0.0)
    f = np.where(_ellipse(yy, xx, 0.5, 0.5, 0.29, 0.41), 0.5, f)
    f = np.where(_ellipse(yy, xx, 0.45, 0.32, 0.16, 0.15), 0.58, f)
    f = np.where(_ellipse(yy, xx, 0.6, 0.38, 0.06, 0.04) | _ellipse(yy, xx, 0.6, 0.62, 0.06, 0.04), 0.64, f)
    f = np.where(_ellipse(yy, xx, 0.57, 0.53, 0.025, 0.025), 0.75, f)
    f = np.where(_ellipse(yy, xx, 0.7, 0.5, 0.06, 0.06), 1.0, f)
    for cy, cx in ((0.4, 0.6), (0.35, 0.7), (0.45, 0.68)):
        f = np.where(_ellipse(yy, xx, cy, cx, 0.03, 0.04), 0.0, f)
    return _gray(f, rng)


def _text_overlay(s: np.ndarray) -> Image.Image:
    img = Image.fromarray(s)
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=max(10, s.shape[0] // 18))
    for k, line in enumerate(("DOE^JANE  ID 0000000", "2026-12-06  T1 AX  SE 4", "W 600  L 300")):
        draw.text((4, 4 + k * font.size * 1.3), line, fill=255, font=font)
    draw.text((s.shape[1] - font.size * 2, s.shape[0] - font.size * 2), "R", fill=255, font=font)
    return img


def _zoom(s: np.ndarray, k: int) -> Image.Image:
    h, w = s.shape
    top, left = (h - h // k) // 2, (w - w // k) // 2
    return Image.fromarray(s[top:top + h // k, left:left + w // k]).resize((w, h), Image.Resampling.BICUBIC)


def _canvas(s: np.ndarray, side: int) -> Image.Image:
    out = np.zeros((side, side), dtype=np.uint8)
    top, left = (side - s.shape[0]) // 2, (side - s.shape[1]) // 2
    out[top:top + s.shape[0], left:left + s.shape[1]] = s
    return Image.fromarray(out)


def _report(s: np.ndarray) -> Image.Image:
    """A colour screenshot of a report: white page, blue title bar, black text, the slice and a red arrow on it."""
    img = Image.new("RGB", (800, 600), "white")
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 0, 800, 60), fill=(30, 80, 170))
    font = ImageFont.load_default(size=20)
    draw.text((20, 18), "Radiology report - MRI brain", fill="white", font=font)
    for k in range(12):
        draw.text((420, 90 + 30 * k), "findings impression axial T1 contrast"[k % 10:][:28], fill="black", font=font)
    img.paste(Image.fromarray(s).convert("RGB").resize((360, 360)), (30, 100))
    draw.line((300, 200, 230, 260), fill=(230, 20, 20), width=6)
    return img


def _colour_photo() -> Image.Image:
    import matplotlib.cbook

    with matplotlib.cbook.get_sample_data("grace_hopper.jpg") as fh:
        img = Image.open(fh)
        img.load()
    return img.convert("RGB")


def _cmap(s: np.ndarray, name: str) -> Image.Image:
    import matplotlib

    return Image.fromarray((matplotlib.colormaps[name](s / 255.0)[..., :3] * 255).astype(np.uint8))


def _rgba_half(s: np.ndarray) -> Image.Image:
    img = Image.fromarray(s).convert("RGBA")
    alpha = np.full(s.shape, 255, dtype=np.uint8)
    alpha[:, : s.shape[1] // 2] = 0
    img.putalpha(Image.fromarray(alpha))
    return img


def _montage(slices: list[np.ndarray], rows: int, cols: int) -> Image.Image:
    return Image.fromarray(np.vstack([np.hstack(slices[r * cols:(r + 1) * cols]) for r in range(rows)]))


def _frame(f: np.ndarray) -> Image.Image:
    return Image.fromarray(f.astype(np.uint8))


_F = "refused: features"
CASES: tuple[Case, ...] = (
    Case("the slice", "-", lambda s, o, r: Image.fromarray(s)),
    Case("chest X-ray", _F, lambda s, o, r: chest_xray(r), False),
    Case("chest X-ray, inverted", _F, lambda s, o, r: chest_xray(r, inverted=True), False),
    Case("CT head, bright skull", "refused: features (1.0016)", lambda s, o, r: ct_head(r, False), False),
    Case("CT head, brain window", "refused: features (1.26)", lambda s, o, r: ct_head(r, True), False),
    Case("CT abdomen", _F, lambda s, o, r: ct_abdomen(r), False),
    Case("text overlay on the slice", _F, lambda s, o, r: _text_overlay(s)),
    Case("the slice inverted", _F, lambda s, o, r: Image.fromarray(255 - s)),
    Case("the slice zoomed x2", _F, lambda s, o, r: _zoom(s, 2)),
    Case("the slice zoomed x4", _F, lambda s, o, r: _zoom(s, 4)),
    Case("16 x 16 thumbnail", _F, lambda s, o, r: Image.fromarray(s).resize((16, 16), Image.Resampling.LANCZOS)),
    Case("uniform noise", _F, lambda s, o, r: _frame(r.integers(0, 256, (SIZE, SIZE))), False),
    Case("checkerboard", _F, lambda s, o, r: _frame((np.add.outer(np.arange(SIZE) // 64, np.arange(SIZE) // 64) % 2)
                                                    * 255), False),
    Case("white disc", _F, lambda s, o, r: _frame(_ellipse(*_grid(), 0.5, 0.5, 0.35, 0.35) * 255), False),
    Case("flat gray ellipse", _F, lambda s, o, r: _frame(_ellipse(*_grid(), 0.5, 0.5, 0.42, 0.35) * 128), False),
    Case("the slice in a 4000 px black canvas", _F + " (as PNG, BMP, TIFF, WebP; accepted as JPEG and array)",
         lambda s, o, r: _canvas(s, 4000)),
    Case("colour report screenshot", "refused: colour", lambda s, o, r: _report(s)),
    Case("colour photo (matplotlib's grace_hopper.jpg)", "refused: colour", lambda s, o, r: _colour_photo(), False),
    Case("the slice in viridis", "refused: colour", lambda s, o, r: _cmap(s, "viridis")),
    Case("the slice in jet", "refused: colour", lambda s, o, r: _cmap(s, "jet")),
    Case("the slice in hot", "refused: colour", lambda s, o, r: _cmap(s, "hot")),
    Case("white", "refused: blank", lambda s, o, r: _frame(np.full((SIZE, SIZE), 255)), False),
    Case("black", "refused: blank", lambda s, o, r: _frame(np.zeros((SIZE, SIZE))), False),
    Case("1 x 1", "refused: blank", lambda s, o, r: _frame(np.full((1, 1), 128)), False),
    Case("1 x 4000 strip", "refused: extreme aspect ratio", lambda s, o, r: _frame(r.integers(0, 256, (4000, 1))),
         False),
    Case("4000 x 1 strip", "refused: extreme aspect ratio", lambda s, o, r: _frame(r.integers(0, 256, (1, 4000))),
         False),
    Case("two slices side by side", "refused: several images", lambda s, o, r: _montage([s, o[0]], 1, 2)),
    Case("3 x 3 grid of slices", "refused: several images", lambda s, o, r: _montage([s, *o[:8]], 3, 3)),
    Case("the slice in a 2000 px black canvas", "accepted (99.8 %)", lambda s, o, r: _canvas(s, 2000)),
    Case("32 x 32 thumbnail", "accepted (glioma 98.99 %, lower confidence)",
         lambda s, o, r: Image.fromarray(s).resize((32, 32), Image.Resampling.LANCZOS)),
    Case("its top-left quarter", "accepted (no tumour 52 %, lower confidence)",
         lambda s, o, r: Image.fromarray(s[: s.shape[0] // 2, : s.shape[1] // 2])),
    Case("RGBA, left half transparent", "accepted (95.6 %, lower confidence)", lambda s, o, r: _rgba_half(s)),
    Case("gray stored as RGB", "accepted", lambda s, o, r: Image.fromarray(s).convert("RGB")),
)
