"""Training augmentation: random erasing is optional and leaves the shipped recipe bit for bit."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from braintumor.augment import augment, random_affine, random_bias_field, random_erase, random_intensity  # noqa: E402
from braintumor.train_config import ConfigError, TrainConfig  # noqa: E402


def _batch(b: int = 16, size: int = 48) -> torch.Tensor:
    return torch.rand(b, 1, size, size, generator=torch.Generator().manual_seed(1))


def test_augment_without_erasing_is_the_shipped_recipe():
    x = _batch()
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    expected = random_intensity(random_affine(x, g1), g1)
    assert torch.equal(augment(x, g2), expected)
    assert torch.equal(augment(x, torch.Generator().manual_seed(7), erase_p=0.0, bias_p=0.0), expected)
    assert g1.get_state().equal(g2.get_state())  # no extra random numbers drawn


def test_erase_fills_one_rectangle_per_image_with_one_level():
    x = torch.full((32, 1, 40, 40), -1.0)  # a value no erased pixel can take
    out = random_erase(x, torch.Generator().manual_seed(3), p=1.0, area=(0.05, 0.2))
    for img in out[:, 0]:
        erased = img != -1.0
        rows, cols = erased.any(1).nonzero().flatten(), erased.any(0).nonzero().flatten()
        assert len(rows) and len(cols)
        top, bottom, left, right = rows.min(), rows.max() + 1, cols.min(), cols.max() + 1
        assert erased[top:bottom, left:right].all()  # a filled rectangle, nothing outside it
        assert erased.sum() == (bottom - top) * (right - left)
        assert 0.04 <= erased.float().mean() <= 0.21  # the requested area, up to rounding
        levels = img[erased].unique()
        assert len(levels) == 1 and 0.0 <= levels.item() <= 1.0


def test_erase_probability():
    x = torch.full((400, 1, 24, 24), -1.0)
    assert torch.equal(random_erase(x, torch.Generator().manual_seed(0), p=0.0), x)
    hit = (random_erase(x, torch.Generator().manual_seed(0), p=0.25) != -1.0).flatten(1).any(1)
    assert 0.17 < hit.float().mean() < 0.33


@pytest.mark.parametrize("bad", [-0.1, 1.5])
def test_erase_flag_is_checked(bad):
    with pytest.raises(ConfigError, match="--erase"):
        TrainConfig(data="d", out="o", erase=bad)


def test_mixup_blends_each_image_with_one_partner_reproducibly():
    from braintumor.augment import mixup

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


def test_bias_field_is_a_smooth_bounded_gain_on_the_chosen_images():
    x = torch.full((200, 1, 64, 64), 0.5)
    out = random_bias_field(x, torch.Generator().manual_seed(4), p=0.5, strength=0.3)
    gain = out[:, 0] / 0.5
    shaded = (gain - 1).abs().flatten(1).amax(1) > 1e-6
    assert 0.38 < shaded.float().mean() < 0.62  # about half of the images, the others untouched
    assert torch.equal(out[~shaded], x[~shaded])
    assert gain.min() >= math.exp(-0.3) - 1e-5 and gain.max() <= math.exp(0.3) + 1e-5
    # smooth: neighbouring pixels' gains differ by far less than the gain varies across the image
    step = (gain[shaded][:, :, 1:] - gain[shaded][:, :, :-1]).abs().max()
    spread = (gain[shaded].flatten(1).amax(1) - gain[shaded].flatten(1).amin(1)).mean()
    assert step < 0.05 < spread
    again = random_bias_field(x, torch.Generator().manual_seed(4), p=0.5, strength=0.3)
    assert torch.equal(out, again)


def test_bias_field_flag_is_checked():
    assert TrainConfig(data="d", out="o").bias_field == 0.0  # off in the shipped recipe
    with pytest.raises(ConfigError, match="--bias-field"):
        TrainConfig(data="d", out="o", bias_field=1.5)
