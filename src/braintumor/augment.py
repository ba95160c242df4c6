"""Batched augmentation on tensors (B, 1, H, W) in [0, 1]: one affine warp and a few intensity
changes per image, all on the training device, so no per-image Python loop slows an epoch.

Chosen for scans from elsewhere, not for this test split: other framings (scale, shift,
rotation), left/right, other contrasts (gamma, contrast), noise and blur; random erasing (``--erase``), an elastic
deformation (``--elastic``), a coil-sensitivity bias field (``--bias-field``), a frame that cuts the head
(``--reframe``) and a random gray-level curve (``--histogram-shift``) are options, off in the shipped recipe; so is
MixStyle (``--mixstyle``), which mixes the feature statistics of the first stages (train.py hooks it into the network
while it trains); it, mixup and CutMix, which mix the images of a batch, are :mod:`braintumor.augment_mixing`.
``--augment-strength`` scales the shipped geometry and intensity ranges together; ``--augment-off`` leaves parts of
them out, one by one.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

#: The shipped recipe's augmentation ranges: the defaults below, and what ``augment``'s ``strength`` scales.
DEGREES, SCALE, TRANSLATE = 15.0, 0.15, 0.08  # rotation +-, scale 1 +-, shift +- (a fraction of the side)
GAMMA, CONTRAST = (0.7, 1.5), 0.2  # gamma range, contrast 1 +-
NOISE_P, NOISE_STD, BLUR_P = 0.3, 0.03, 0.2  # chance and largest level of Gaussian noise, chance of a 3x3 blur


def random_affine(x: torch.Tensor, g: torch.Generator, degrees: float = DEGREES,
                  scale: tuple[float, float] = (1 - SCALE, 1 + SCALE), translate: float = TRANSLATE,
                  flip_p: float = 0.5, elastic_p: float = 0.0, vflip_p: float = 0.0) -> torch.Tensor:
    """Rotation, scale, shift and left/right flip per image; with ``elastic_p`` > 0, also an elastic deformation
    (:func:`elastic_displacement`) of that share of the images, added to the same sampling grid (one interpolation);
    with ``vflip_p`` > 0, an up/down flip of that share (with the left/right flips: upside down and turned 180
    degrees too), so a slice sent upside down is one the network has seen."""
    b = x.shape[0]
    dev = x.device
    angle = (torch.rand(b, generator=g) * 2 - 1) * math.radians(degrees)
    s = torch.empty(b).uniform_(scale[0], scale[1], generator=g)
    flip = torch.where(torch.rand(b, generator=g) < flip_p, -1.0, 1.0)
    tx, ty = ((torch.rand(2, b, generator=g) * 2 - 1) * translate * 2)
    # drawn only when on: at 0 the shipped recipe's random stream is untouched
    vflip = torch.where(torch.rand(b, generator=g) < vflip_p, -1.0, 1.0) if vflip_p > 0 else torch.ones(b)
    cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
    theta = torch.stack(
        [torch.stack([cos * flip, -sin * vflip, tx], 1), torch.stack([sin * flip, cos * vflip, ty], 1)], 1
    ).to(dev, x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    if elastic_p > 0:  # drawn after the affine's numbers: at 0 the shipped recipe's stream is untouched
        grid = grid + elastic_displacement(b, x.shape[-2:], g, elastic_p).to(dev, grid.dtype)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


#: Elastic deformation: control points per side and their largest shift, as a fraction of the image's side
#: (TorchIO's RandomElasticDeformation defaults, 7 points and 7.5 mm, are ~3 % of a 240 mm head field of view).
ELASTIC_POINTS: int = 7
ELASTIC_MAX_SHIFT: float = 0.03


def elastic_displacement(b: int, size: tuple[int, int], g: torch.Generator, p: float,
                         points: int = ELASTIC_POINTS, max_shift: float = ELASTIC_MAX_SHIFT) -> torch.Tensor:
    """(B, H, W, 2) shifts of a sampling grid in grid_sample's [-1, 1] units: a ``points`` x ``points`` grid of
    shifts uniform in +-``max_shift`` of the side, bicubically upsampled (smooth, like tissue that deforms), zero
    for images not picked (chance ``p`` each). Why: heads differ in shape between patients and slices in ways a
    rotation and a scale cannot show; the issue's list names elastic deformation beside the affine."""
    h, w = size
    shift = (torch.rand(b, 2, points, points, generator=g) * 2 - 1) * (2 * max_shift)  # [-1, 1] spans 2 units
    field = F.interpolate(shift, size=(h, w), mode="bicubic", align_corners=True).clamp(-2 * max_shift, 2 * max_shift)
    pick = (torch.rand(b, generator=g) < p).view(b, 1, 1, 1)
    return torch.where(pick, field, torch.zeros_like(field)).permute(0, 2, 3, 1)


def random_intensity(x: torch.Tensor, g: torch.Generator, gamma: tuple[float, float] = GAMMA,
                     contrast: float = CONTRAST, noise_p: float = NOISE_P, noise_std: float = NOISE_STD,
                     blur_p: float = BLUR_P) -> torch.Tensor:
    b = x.shape[0]
    dev = x.device
    shape = (b, 1, 1, 1)
    log_g = torch.empty(b).uniform_(math.log(gamma[0]), math.log(gamma[1]), generator=g)
    x = x.clamp_min(0).pow(log_g.exp().view(shape).to(dev))
    c = 1 + (torch.rand(b, generator=g) * 2 - 1) * contrast
    x = x * c.view(shape).to(dev)
    if blur_p > 0:
        blurred = F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, 1)
        pick = (torch.rand(b, generator=g) < blur_p).view(shape).to(dev)
        x = torch.where(pick, blurred, x)
    if noise_p > 0:
        sigma = (torch.rand(b, generator=g) < noise_p) * torch.rand(b, generator=g) * noise_std
        noise = torch.randn(x.shape, generator=g).to(dev)
        x = x + noise * sigma.view(shape).to(dev)
    return x.clamp(0, 1)


def random_bias_field(x: torch.Tensor, g: torch.Generator, p: float = 0.5, strength: float = 0.3,
                      grid: int = 4) -> torch.Tensor:
    """A smooth multiplicative intensity non-uniformity, as receive coils and field inhomogeneity put on real
    MRI (the scanner trait of TorchIO's RandomBiasField and MONAI's RandBiasField): with probability ``p`` per
    image, exp of a ``grid`` x ``grid`` field of log-gains uniform in [-strength, strength], bicubically
    upsampled. Why: one hospital's scans differ from another's in exactly such slow shading, which the global
    gamma and contrast changes above cannot imitate."""
    b, _, h, w = x.shape
    log_gain = (torch.rand(b, 1, grid, grid, generator=g) * 2 - 1) * strength
    # clamped: bicubic overshoot would otherwise reach past the control points' range
    field = F.interpolate(log_gain, size=(h, w), mode="bicubic", align_corners=True).clamp(-strength, strength).exp()
    pick = (torch.rand(b, generator=g) < p).view(b, 1, 1, 1)
    field = torch.where(pick, field, torch.ones_like(field))
    return (x * field.to(x.device, x.dtype)).clamp(0, 1)


def random_histogram_shift(x: torch.Tensor, g: torch.Generator, p: float = 0.5, points: int = 10) -> torch.Tensor:
    """A random increasing gray-level curve (MONAI's RandHistogramShift): with probability ``p`` per image, the
    levels 0, 1/(points-1), ..., 1 are moved to new levels, each inner one drawn uniformly between its (already
    moved) left neighbour and its right one, and the curve is linear in between; 0 and 1 stay put, so the black
    background stays black. Why: MRI has no fixed gray scale, and another scanner or windowing bends the
    histogram in ways no single gamma does; the network should learn the order of the levels, not their values
    (what ``--equalize`` imposes on the input instead)."""
    b = x.shape[0]
    knots = torch.linspace(0, 1, points).expand(b, points).clone()
    moved = knots.clone()
    for i in range(1, points - 1):  # sequential, as MONAI: between the moved left neighbour and the next knot
        u = torch.rand(b, generator=g)
        moved[:, i] = moved[:, i - 1] + u * (knots[:, i + 1] - moved[:, i - 1])
    pick = (torch.rand(b, generator=g) < p).view(b, 1, 1, 1).to(x.device)
    moved = moved.to(x.device, x.dtype)
    v = x.clamp(0, 1).flatten(1)
    seg = (v * (points - 1)).floor().clamp(max=points - 2).long()  # the segment each pixel falls in
    lo, hi = moved.gather(1, seg), moved.gather(1, seg + 1)
    t = v * (points - 1) - seg.to(x.dtype)
    return torch.where(pick, (lo + t * (hi - lo)).view_as(x), x)  # the others exactly as they were


def random_reframe(x: torch.Tensor, g: torch.Generator, p: float = 0.3, max_cut: float = 0.15,
                   margin: float = 0.04) -> torch.Tensor:
    """What serving makes of a slice whose frame cuts the head (a tight crop, a viewer's zoom): with probability
    ``p`` per image an independent random share in [0, ``max_cut``] is cut off each side of the crop, and what is
    left of the head is framed again as :func:`preprocess.head_box` frames a head: centred in a square of its
    longer side plus ``margin`` per side, black beyond the cut. Why: such slices were classified as well as the
    others but refused by the out-of-distribution check (docs/RESULTS.md, "Framing copies"); the training images
    never showed a head cut by the frame."""
    b = x.shape[0]
    left, top, right, bottom = torch.rand(4, b, generator=g) * max_cut
    pick = torch.rand(b, generator=g) < p
    # the kept rectangle in grid_sample's normalised coordinates ([-1, 1], align_corners=False) ...
    x0, x1, y0, y1 = -1 + 2 * left, 1 - 2 * right, -1 + 2 * top, 1 - 2 * bottom
    # ... and what is left of the head in it: the crop is the head box plus `margin` per side, so a cut that stays
    # in the margin leaves the head whole and the framing as it was
    head = 1 / (1 + 2 * margin)
    hx0, hx1, hy0, hy1 = x0.clamp_min(-head), x1.clamp_max(head), y0.clamp_min(-head), y1.clamp_max(head)
    half = torch.maximum(hx1 - hx0, hy1 - hy0) * (1 + 2 * margin) / 2
    zero = torch.zeros(b)
    theta = torch.stack([torch.stack([half, zero, (hx0 + hx1) / 2], 1),
                         torch.stack([zero, half, (hy0 + hy1) / 2], 1)], 1).to(x.device, x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    gx, gy = grid[..., 0], grid[..., 1]
    bound = [v.view(b, 1, 1).to(x.device, x.dtype) for v in (x0, x1, y0, y1)]
    inside = (gx >= bound[0]) & (gx <= bound[1]) & (gy >= bound[2]) & (gy <= bound[3])
    framed = F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False) * inside.unsqueeze(1)
    return torch.where(pick.view(b, 1, 1, 1).to(x.device), framed, x)


def random_erase(x: torch.Tensor, g: torch.Generator, p: float = 0.25, area: tuple[float, float] = (0.02, 0.15),
                 aspect: tuple[float, float] = (0.3, 3.3)) -> torch.Tensor:
    """Random erasing (Zhong et al., AAAI 2020): with probability ``p`` per image, one rectangle of
    ``area`` of the image (aspect ratio in ``aspect``) is filled with one random gray level, so the
    network cannot lean on any one region (an artefact, a watermark, one edge of the skull)."""
    b, _, h, w = x.shape
    dev = x.device
    frac = torch.empty(b).uniform_(area[0], area[1], generator=g)
    ratio = torch.empty(b).uniform_(math.log(aspect[0]), math.log(aspect[1]), generator=g).exp()
    eh = (frac * h * w * ratio).sqrt().round().clamp(1, h)
    ew = (frac * h * w / ratio).sqrt().round().clamp(1, w)
    top = (torch.rand(b, generator=g) * (h - eh + 1)).floor()
    left = (torch.rand(b, generator=g) * (w - ew + 1)).floor()
    level = torch.rand(b, generator=g)
    pick = torch.rand(b, generator=g) < p
    ys, xs = torch.arange(h).view(1, h, 1), torch.arange(w).view(1, 1, w)
    inside = ((ys >= top.view(b, 1, 1)) & (ys < (top + eh).view(b, 1, 1))
              & (xs >= left.view(b, 1, 1)) & (xs < (left + ew).view(b, 1, 1)) & pick.view(b, 1, 1))
    return torch.where(inside.unsqueeze(1).to(dev), level.view(b, 1, 1, 1).to(dev, x.dtype), x)


#: What leaving out each ``--augment-off`` item (train_config.AUGMENT_ITEMS) sets in random_affine / random_intensity.
_OFF = {"rotation": (0, {"degrees": 0.0}), "scale": (0, {"scale": (1.0, 1.0)}), "shift": (0, {"translate": 0.0}),
        "flip": (0, {"flip_p": 0.0}), "gamma": (1, {"gamma": (1.0, 1.0)}), "contrast": (1, {"contrast": 0.0}),
        "blur": (1, {"blur_p": 0.0}), "noise": (1, {"noise_p": 0.0})}


def strength_settings(strength: float, off: tuple[str, ...] = (), shift: float | None = None,
                      intensity_strength: float | None = None) -> tuple[dict, dict]:
    """Keyword arguments of :func:`random_affine` and :func:`random_intensity` for one magnitude (RandAugment's idea:
    one number for the whole augmentation, Cubuk et al. 2020). 1 is the shipped recipe (its defaults, passed as they
    are, so bit for bit); 0 leaves only the left/right flips; in between and beyond, every range is scaled: rotation,
    scale and shift about the identity, gamma on a log scale, contrast and noise level linearly, and the chances of
    blur and noise (at most 1). Why: the shipped strengths were set once and never swept; this sweeps them together.
    ``off`` (``--augment-off``) then sets the named items to their identity (no rotation, gamma 1, ...), so each part
    can be left out alone; nothing off changes nothing. ``shift`` (``--augment-shift``), when given, is the largest
    shift as a fraction of the side, whatever the strength (the one geometry item missed alone on a new source).
    ``intensity_strength`` (``--augment-intensity``), when given, scales gamma, contrast, noise and blur alone."""
    s = strength
    affine = {} if s == 1.0 else {"degrees": DEGREES * s, "scale": (1 - SCALE * s, 1 + SCALE * s),
                                  "translate": TRANSLATE * s}
    s = strength if intensity_strength is None else intensity_strength
    intensity = {} if s == 1.0 else {"gamma": tuple(math.exp(s * math.log(v)) for v in GAMMA), "contrast": CONTRAST * s,
                                     "noise_p": min(NOISE_P * s, 1.0), "noise_std": NOISE_STD * s,
                                     "blur_p": min(BLUR_P * s, 1.0)}
    if shift is not None:
        affine["translate"] = shift
    for item in off:
        which, values = _OFF[item]
        (affine, intensity)[which].update(values)
    return affine, intensity


def augment(x: torch.Tensor, g: torch.Generator, erase_p: float = 0.0, bias_p: float = 0.0,
            reframe_p: float = 0.0, histogram_p: float = 0.0, elastic_p: float = 0.0,
            strength: float = 1.0, off: tuple[str, ...] = (), shift: float | None = None,
            intensity_strength: float | None = None, vflip_p: float = 0.0) -> torch.Tensor:
    """The training augmentation: (``reframe_p`` > 0) a frame that cuts the head, geometry, (``bias_p`` > 0) a bias
    field, (``histogram_p`` > 0) a random gray-level curve, intensity, (``erase_p`` > 0) random erasing; geometry
    includes an elastic deformation when ``elastic_p`` > 0 and up/down flips when ``vflip_p`` > 0. ``strength``
    scales geometry and intensity (:func:`strength_settings`); above 0 it draws the same random numbers, only mapped
    to other values. ``off`` names parts of geometry and intensity to leave out (the same function).

    An option at 0 draws no random numbers, so the shipped recipe's augmentation stays bit for bit what it was."""
    affine, intensity = strength_settings(strength, off, shift, intensity_strength)
    if reframe_p > 0:
        x = random_reframe(x, g, reframe_p)
    x = random_affine(x, g, elastic_p=elastic_p, vflip_p=vflip_p, **affine)
    if bias_p > 0:
        x = random_bias_field(x, g, bias_p)
    if histogram_p > 0:
        x = random_histogram_shift(x, g, histogram_p)
    x = random_intensity(x, g, **intensity)
    return random_erase(x, g, erase_p) if erase_p > 0 else x
