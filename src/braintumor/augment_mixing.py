"""Mixing images of a batch, or their feature statistics, with a shuffled partner: mixup (``--mixup``), CutMix
(``--cutmix``) and MixStyle (``--mixstyle``, hooked into the network by ``train.add_mixstyle``); all off in the
shipped recipe. Apart from the per-image augmentation in :mod:`braintumor.augment` (which had reached 297 lines);
these names are imported from here.
"""

from __future__ import annotations

import numpy as np
import torch


def mixup(x: torch.Tensor, y: torch.Tensor, g: torch.Generator, alpha: float,
          ) -> tuple[torch.Tensor, torch.Tensor, float]:
    """Mixup (Zhang et al., ICLR 2018): the batch blended with a shuffled copy of itself.

    Returns (mixed images, the partner labels, lam): the loss is lam * CE(labels) + (1 - lam) * CE(partners).
    lam ~ Beta(alpha, alpha), drawn through numpy from a seed taken from ``g`` (torch's Beta sampler takes no
    generator), so a run stays reproducible and resumable like the rest of the augmentation."""
    rng, perm = _mixing_draws(g, len(x))
    lam = float(rng.beta(alpha, alpha))
    return x.mul(lam).add_(x[perm], alpha=1.0 - lam), y[perm], lam


def _mixing_draws(g: torch.Generator, n: int) -> tuple[np.random.Generator, torch.Tensor]:
    """A numpy generator seeded from ``g`` (torch's Beta sampler takes no generator) and a partner permutation:
    the random numbers of :func:`mixup`, :func:`cutmix` and :func:`mixstyle`, drawn from ``g`` in one order so runs
    resume exactly."""
    seed = int(torch.randint(0, 2**31 - 1, (1,), generator=g))
    return np.random.default_rng(seed), torch.randperm(n, generator=g)


def cutmix(x: torch.Tensor, y: torch.Tensor, g: torch.Generator, alpha: float,
           ) -> tuple[torch.Tensor, torch.Tensor, float]:
    """CutMix (Yun et al., ICCV 2019): one box of a shuffled copy of the batch pasted into every image.

    The same return and loss as :func:`mixup`, with lam the share of each image left as it was (1 - the box's
    clipped area). One box per batch, as in the paper's code: the crops are head-centred, so the box covers the
    same part of the anatomy in the image and its partner. Random numbers as in :func:`mixup` (reproducible)."""
    rng, perm = _mixing_draws(g, len(x))
    h, w = x.shape[-2:]
    cut = float(np.sqrt(1.0 - rng.beta(alpha, alpha)))
    cy, cx = int(rng.integers(h)), int(rng.integers(w))
    half_h, half_w = int(h * cut) // 2, int(w * cut) // 2
    top, bottom = max(cy - half_h, 0), min(cy + half_h, h)
    left, right = max(cx - half_w, 0), min(cx + half_w, w)
    out = x.clone()
    out[..., top:bottom, left:right] = x[perm, ..., top:bottom, left:right]  # only the box of each partner is copied
    return out, y[perm], 1.0 - (bottom - top) * (right - left) / (h * w)


#: Beta(alpha, alpha) of MixStyle's mixing weight: the paper's value (most weights near 0 or 1).
MIXSTYLE_ALPHA: float = 0.1


def mixstyle(h: torch.Tensor, g: torch.Generator, p: float, alpha: float = MIXSTYLE_ALPHA) -> torch.Tensor:
    """MixStyle (Zhou et al., ICLR 2021): with chance ``p``, each image's feature "style" (per-channel mean and
    standard deviation of feature maps (B, C, H, W)) replaced by a blend of its own and a shuffled partner's.

    Why: a source shows in these statistics of the early feature maps (contrast, texture, noise), not in what a tumour
    looks like; mixing them between the sources of a batch shows the network styles between and beyond them. The
    statistics are detached and computed in float32 (autocast runs the network in bf16), as in the paper's code.
    Random numbers come from ``g``, like every augmentation, so a run stays reproducible and resumable."""
    if float(torch.rand(1, generator=g)) >= p:
        return h
    b = h.shape[0]
    rng, perm = _mixing_draws(g, b)
    lam = torch.from_numpy(rng.beta(alpha, alpha, size=(b, 1, 1, 1))).to(h.device, torch.float32)
    perm = perm.to(h.device)
    x = h.float()
    mu = x.mean(dim=(2, 3), keepdim=True).detach()
    sig = (x.var(dim=(2, 3), keepdim=True) + 1e-6).sqrt().detach()
    mu_mix = lam * mu + (1 - lam) * mu[perm]
    sig_mix = lam * sig + (1 - lam) * sig[perm]
    return ((x - mu) / sig * sig_mix + mu_mix).to(h.dtype)
