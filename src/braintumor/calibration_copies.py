"""Copies of the training images that the out-of-distribution fit also sees (used by :mod:`braintumor.calibrate`):
augmented ones, what the network was trained to handle, and re-framed ones, heads cut by the frame as in scans cropped
tightly. Both are uint8 crops (N, S, S) as :func:`braintumor.preprocess.prepare` makes them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .image_io import decode_image
from .preprocess import INPUT_SCALE, PreprocessConfig, prepare

#: Most copies of each training image a fit takes (``--ood-augment``, ``--ood-framing``): each copy of the shipped run's
#: 5139 training images is ~140 MB of crops and features and one more pass of the network (the runs in docs/RESULTS.md
#: use 1); a hundred million ran for hours towards a MemoryError.
MAX_COPIES = 10


def augmented_copies(images: np.ndarray, copies: int, seed: int = 0, batch: int = 256,
                     options: dict | None = None) -> np.ndarray:
    """``copies`` passes of the training augmentation over prepared uint8 crops (N, S, S), as uint8 again.

    ``options``: the run's optional augmentations (``erase``, ``bias_field``, ``reframe``, ``vflip`` of its
    config.json), so the copies are what that network was trained on.

    Why: the out-of-distribution statistics should accept what the network was trained to handle (other
    framings, rotations, contrasts, noise), not only the dataset's own slices. Needs torch (the augmentation's
    home is training); a fixed seed makes the fit reproducible."""
    import torch

    from .augment import augment

    g = torch.Generator().manual_seed(seed)
    opts = options or {}
    # config.json's names -> augment's: the optional augmentations this network was trained with (0: off)
    extra = {arg: float(opts.get(name, 0.0)) for name, arg in
             (("erase", "erase_p"), ("bias_field", "bias_p"), ("reframe", "reframe_p"), ("vflip", "vflip_p"))}
    out = []
    for _ in range(copies):
        for i in range(0, len(images), batch):
            x = torch.from_numpy(images[i:i + batch].astype(np.float32) * np.float32(INPUT_SCALE))[:, None]
            x = augment(x, g, **extra)
            out.append((x[:, 0] * 255.0).round().clamp(0, 255).to(torch.uint8).numpy())
    return np.concatenate(out) if out else images[:0]


#: Largest share of the frame a framing copy cuts off one side (0.15: the head is cut by the frame on all sides).
MAX_FRAMING_CUT: float = 0.15


def framing_copies(paths: list[Path], config: PreprocessConfig, copies: int, seed: int = 0,
                   max_cut: float = MAX_FRAMING_CUT) -> np.ndarray:
    """``copies`` re-framings of each image through the real pipeline, as uint8 (copies * N, S, S).

    Each copy cuts an independent random share in [0, ``max_cut``] off each side of the decoded slice and then
    prepares it as serving does, so the head touches the frame, as in scans cropped tightly or zoomed in a
    viewer. Why: the network answers such slices as well as the others, but the out-of-distribution fit never
    saw their features and refused them (docs/RESULTS.md, "Framing copies"). No torch needed."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(copies):
        for p in paths:
            gray = decode_image(p, draft_size=2 * config.image_size)[0]
            h, w = gray.shape
            left, top, right, bottom = rng.uniform(0.0, max_cut, 4)
            y0, y1 = round(top * h), h - round(bottom * h)
            x0, x1 = round(left * w), w - round(right * w)
            out.append(prepare(np.ascontiguousarray(gray[y0:y1, x0:x1]), config))
    size = config.image_size
    return np.stack(out) if out else np.zeros((0, size, size), np.uint8)
