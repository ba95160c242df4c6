"""Accuracy under perturbations a scan from elsewhere brings (quoted in docs/RESULTS.md).

    python scripts/robustness.py [--model FILE] [--data ROOT] [--limit N] [--split val --run models] [--only TEXT]

Every Testing image (or, with ``--split val``, every validation image the run's split.json lists: the set
design decisions are taken on, never Testing) is perturbed, re-encoded as a file (as a user would upload it)
and classified through the normal path (decode, head crop, model, OOD check). Prints accuracy and refusal rate per
perturbation; accuracy counts refused images as wrong, "accuracy (accepted)" leaves them out.
"""

from __future__ import annotations

import argparse
import io
import time

import _checkout  # noqa: F401  (the checkout's src first: scripts/_checkout.py)
import numpy as np
from _image_set import DATA_HELP, MODEL_HELP
from PIL import Image, ImageEnhance, ImageFilter, ImageOps

from braintumor.data import DEFAULT_DATA_ROOT, load_dataset
from braintumor.predictor import Classifier
from braintumor.run_split import validation_images
from braintumor.script_entry import run_script


def _jpeg(img: Image.Image, quality: int) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="JPEG", quality=quality)
    return buf.getvalue()


def _png(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def _gamma(img: Image.Image, g: float) -> Image.Image:
    lut = [round(255 * (i / 255) ** g) for i in range(256)]
    return img.point(lut)


def _pad(img: Image.Image, frac: float) -> Image.Image:
    w, h = img.size
    return ImageOps.expand(img, border=(int(w * frac), int(h * frac * 0.5)), fill=0)


def _zoom(img: Image.Image, frac: float) -> Image.Image:
    w, h = img.size
    dx, dy = int(w * frac), int(h * frac)
    return img.crop((dx, dy, w - dx, h - dy))


def _noise(img: Image.Image, sigma: float, seed: int) -> Image.Image:
    a = np.asarray(img, dtype=np.float32)
    a = a + np.random.default_rng(seed).normal(0, sigma, a.shape)
    return Image.fromarray(np.clip(a, 0, 255).astype(np.uint8))


PERTURBATIONS = {
    "none (original file)": None,
    "downscale to 96 px": lambda im, k: _png(im.resize((96, 96), Image.Resampling.BILINEAR)),
    "upscale to 512 px": lambda im, k: _png(im.resize((512, 512), Image.Resampling.BICUBIC)),
    "JPEG quality 30": lambda im, k: _jpeg(im, 30),
    "rotate 10 deg": lambda im, k: _png(im.rotate(10, resample=Image.Resampling.BILINEAR)),
    "rotate -20 deg": lambda im, k: _png(im.rotate(-20, resample=Image.Resampling.BILINEAR)),
    "horizontal flip": lambda im, k: _png(ImageOps.mirror(im)),
    "contrast x0.6": lambda im, k: _png(ImageEnhance.Contrast(im).enhance(0.6)),
    "contrast x1.5": lambda im, k: _png(ImageEnhance.Contrast(im).enhance(1.5)),
    "gamma 0.6": lambda im, k: _png(_gamma(im, 0.6)),
    "gamma 1.6": lambda im, k: _png(_gamma(im, 1.6)),
    "brightness x0.7": lambda im, k: _png(ImageEnhance.Brightness(im).enhance(0.7)),
    "gaussian blur r=1.5": lambda im, k: _png(im.filter(ImageFilter.GaussianBlur(1.5))),
    "gaussian noise sd=8": lambda im, k: _png(_noise(im, 8.0, k)),
    "wide black border (+25 %)": lambda im, k: _png(_pad(im, 0.25)),
    "zoomed in (10 % cropped per side)": lambda im, k: _png(_zoom(im, 0.10)),
    "inverted intensities": lambda im, k: _png(ImageOps.invert(im)),
}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help=MODEL_HELP)
    ap.add_argument("--data", default=DEFAULT_DATA_ROOT, help=DATA_HELP)
    ap.add_argument("--limit", type=int, default=0, metavar="N",
                    help="use every k-th image so that about N remain (0: all)")
    ap.add_argument("--split", choices=["test", "val"], default="test",
                    help="Testing (reported), or the validation images of --run (for design decisions)")
    ap.add_argument("--run", default="models", help="run folder whose split.json names the validation images")
    ap.add_argument("--only", help="run only the perturbations whose name contains this text")
    args = ap.parse_args()
    clf = Classifier.load(args.model)
    test = validation_images(args.data, args.run) if args.split == "val" else load_dataset(args.data, "Testing")
    idx = np.arange(len(test))
    if args.limit:
        idx = idx[:: max(1, len(idx) // args.limit)]
    gray = [Image.open(test.paths[i]).convert("L") for i in idx]
    truth = [test.classes[int(test.labels[i])] for i in idx]
    print(f"model {clf.path}; {len(idx)} {'validation' if args.split == 'val' else 'Testing'} images")
    print(f"{'perturbation':<36} {'accuracy':>9} {'refused':>8} {'acc. (accepted)':>16}")
    accuracies = []
    for name, fn in PERTURBATIONS.items():
        if args.only and args.only not in name:
            continue
        t0 = time.time()
        sources = [test.paths[i] for i in idx] if fn is None else [fn(im, k) for k, im in enumerate(gray)]
        preds = [p for _, p in clf.predict_many(sources)]
        right = np.array([p.label == t for p, t in zip(preds, truth, strict=True)])
        refused = np.array([p.ood for p in preds])
        # every image refused: no accepted answer to score ("nan%" before; docs/RESULTS.md's table says it so)
        accepted = f"{right[~refused].mean():.2%}" if (~refused).any() else "(none accepted)"
        print(f"{name:<36} {right.mean():>9.2%} {refused.mean():>8.2%} {accepted:>16}   ({time.time() - t0:.0f} s)")
        if "inverted" not in name:
            accuracies.append(right.mean())
    if accuracies:
        print(f"mean accuracy over the {len(accuracies)} perturbations above other than inversion: "
              f"{np.mean(accuracies):.2%}")
    return 0


if __name__ == "__main__":
    run_script(main)
