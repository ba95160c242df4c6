"""Mixing augmentations (mixup, CutMix, MixStyle): each image takes from one partner, reproducibly; off by default."""

from __future__ import annotations

import pytest
from conftest import extra_reason

torch = pytest.importorskip("torch", reason=extra_reason("torch"))

from braintumor.train_config import ConfigError, TrainConfig  # noqa: E402


def _batch(b: int = 16, size: int = 48) -> torch.Tensor:
    return torch.rand(b, 1, size, size, generator=torch.Generator().manual_seed(1))


def test_mixup_blends_each_image_with_one_partner_reproducibly():
    from braintumor.augment_mixing import mixup

    x, y = _batch(8), torch.arange(8) % 4
    a = mixup(x, y, torch.Generator().manual_seed(3), 0.2)
    b = mixup(x, y, torch.Generator().manual_seed(3), 0.2)
    mixed, partners, lam = a
    assert torch.equal(mixed, b[0]) and torch.equal(partners, b[1]) and lam == b[2]
    assert 0.0 <= lam <= 1.0
    # recover the permutation from the partner labels' images: every row is lam * own + (1 - lam) * one other row
    for i in range(len(x)):
        errs = [(mixed[i] - (lam * x[i] + (1 - lam) * x[j])).abs().max().item() for j in range(len(x))]
        j = min(range(len(x)), key=errs.__getitem__)
        assert errs[j] < 1e-5 and partners[i] == y[j]
    with pytest.raises(ConfigError, match="--mixup"):
        TrainConfig("d", "o", mixup=-0.1)


def test_cutmix_pastes_one_box_of_a_partner_and_weighs_the_labels_by_its_area():
    from braintumor.augment_mixing import cutmix

    x, y = _batch(8), torch.arange(8) % 4
    mixed, partners, lam = cutmix(x, y, torch.Generator().manual_seed(3), 1.0)
    again = cutmix(x, y, torch.Generator().manual_seed(3), 1.0)
    assert torch.equal(mixed, again[0]) and torch.equal(partners, again[1]) and lam == again[2]
    changed = (mixed != x).any(dim=(0, 1))  # (H, W): pixels any image took from its partner
    rows, cols = changed.any(dim=1).nonzero().flatten(), changed.any(dim=0).nonzero().flatten()
    box = (rows.min(), rows.max() + 1, cols.min(), cols.max() + 1)
    area = (box[1] - box[0]) * (box[3] - box[2])
    assert 0 < area < x.shape[-1] * x.shape[-2]
    assert lam == pytest.approx(1 - area / (x.shape[-1] * x.shape[-2]))
    inside = mixed[..., box[0]:box[1], box[2]:box[3]]
    for i in range(len(x)):  # each image's box is the same box of exactly one other image, whose label it names
        j = next(j for j in range(len(x)) if torch.equal(inside[i], x[j][..., box[0]:box[1], box[2]:box[3]]))
        assert partners[i] == y[j]
    outside = torch.ones_like(changed)
    outside[box[0]:box[1], box[2]:box[3]] = False
    assert torch.equal(mixed[..., outside], x[..., outside])


def test_cutmix_flag_is_checked():
    assert TrainConfig(data="d", out="o").cutmix == 0.0  # off in the shipped recipe
    with pytest.raises(ConfigError, match="--cutmix"):
        TrainConfig(data="d", out="o", cutmix=-1.0)
    with pytest.raises(ConfigError, match="choose one"):
        TrainConfig(data="d", out="o", mixup=0.2, cutmix=1.0)


def _styled(b: int = 6, c: int = 3, size: int = 8) -> torch.Tensor:
    """Feature maps whose images differ in per-channel mean and spread (their "style")."""
    g = torch.Generator().manual_seed(2)
    return torch.randn(b, c, size, size, generator=g) * torch.rand(b, c, 1, 1, generator=g).add(0.5) * 3 \
        + torch.randn(b, c, 1, 1, generator=g) * 5


def test_mixstyle_blends_each_images_statistics_with_one_partners_and_keeps_its_content():
    from braintumor.augment_mixing import mixstyle

    h = _styled()
    out = mixstyle(h, torch.Generator().manual_seed(4), 1.0)
    assert torch.equal(out, mixstyle(h, torch.Generator().manual_seed(4), 1.0))  # reproducible
    assert not torch.allclose(out, h)

    def stats(x):
        return x.mean(dim=(2, 3)), (x.var(dim=(2, 3)) + 1e-6).sqrt()

    (mu, sig), (mu_out, sig_out) = stats(h), stats(out)
    content, content_out = (h - mu[..., None, None]) / sig[..., None, None], \
        (out - mu_out[..., None, None]) / sig_out[..., None, None]
    assert torch.allclose(content, content_out, atol=1e-3)  # only the statistics change
    for i in range(len(h)):  # one weight lam and one partner j explain every channel's mean and spread at once
        fits = []
        for j in range(len(h)):
            d_mu, d_sig = mu[i] - mu[j], sig[i] - sig[j]
            lam = ((mu_out[i] - mu[j]) * d_mu).sum() / (d_mu * d_mu).sum()
            if -1e-4 <= lam <= 1 + 1e-4 and torch.allclose(mu_out[i], mu[j] + lam * d_mu, atol=1e-3) \
                    and torch.allclose(sig_out[i], sig[j] + lam * d_sig, atol=1e-3):
                fits.append(j)
        assert fits, f"image {i}: statistics are no blend of its own and one partner's"


def test_mixstyle_at_chance_zero_changes_nothing():
    from braintumor.augment_mixing import mixstyle

    h = _styled()
    assert mixstyle(h, torch.Generator().manual_seed(4), 0.0) is h


def test_mixstyle_hooks_act_in_training_only_and_leave_the_network_as_it_was():
    from braintumor.model import create_model
    from braintumor.train import add_mixstyle

    torch.manual_seed(0)
    plain = create_model("tumornet-s")
    hooked = create_model("tumornet-s")
    hooked.load_state_dict(plain.state_dict())
    add_mixstyle(hooked, torch.Generator().manual_seed(1), 1.0)
    assert [i for i, block in enumerate(hooked.features) if block._forward_hooks] == [0, 1, 2]
    assert hooked.state_dict().keys() == plain.state_dict().keys()
    x = _batch(4, 64)
    with torch.no_grad():
        assert torch.equal(hooked.eval()(x), plain.eval()(x))  # validation and export see no MixStyle
        plain.train(), hooked.train()
        torch.manual_seed(5)  # the same dropout mask for both: any difference is MixStyle's
        trained_plain = plain(x)
        torch.manual_seed(5)
        assert not torch.allclose(hooked(x), trained_plain)
        for block in hooked.features:  # without the hooks, the same network again
            block._forward_hooks.clear()
        torch.manual_seed(5)
        assert torch.equal(hooked(x), trained_plain)


def test_mixstyle_flag_is_checked():
    assert TrainConfig(data="d", out="o").mixstyle == 0.0  # off in the shipped recipe
    for bad in (-0.1, 1.5):
        with pytest.raises(ConfigError, match="--mixstyle"):
            TrainConfig(data="d", out="o", mixstyle=bad)
