"""Batched augmentation on tensors (B, 1, H, W) in [0, 1]: one affine warp and a few intensity
changes per image, all on the training device, so no per-image Python loop slows an epoch.

Chosen for scans from elsewhere, not for this test split: other framings (scale, shift,
rotation), left/right, other contrasts (gamma, contrast), noise and blur.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F


def random_affine(x: torch.Tensor, g: torch.Generator, degrees: float = 15.0,
                  scale: tuple[float, float] = (0.85, 1.15), translate: float = 0.08,
                  flip_p: float = 0.5) -> torch.Tensor:
    b = x.shape[0]
    dev = x.device
    angle = (torch.rand(b, generator=g) * 2 - 1) * math.radians(degrees)
    s = torch.empty(b).uniform_(scale[0], scale[1], generator=g)
    flip = torch.where(torch.rand(b, generator=g) < flip_p, -1.0, 1.0)
    tx, ty = ((torch.rand(2, b, generator=g) * 2 - 1) * translate * 2)
    cos, sin = torch.cos(angle) / s, torch.sin(angle) / s
    theta = torch.stack(
        [torch.stack([cos * flip, -sin, tx], 1), torch.stack([sin * flip, cos, ty], 1)], 1
    ).to(dev, x.dtype)
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def random_intensity(x: torch.Tensor, g: torch.Generator, gamma: tuple[float, float] = (0.7, 1.5),
                     contrast: float = 0.2, noise_p: float = 0.3, noise_std: float = 0.03,
                     blur_p: float = 0.2) -> torch.Tensor:
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


def augment(x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
    """The training augmentation: geometry, then intensity."""
    return random_intensity(random_affine(x, g), g)
