"""Training augmentation: random erasing is optional and leaves the shipped recipe bit for bit."""

from __future__ import annotations

import math

import pytest
from conftest import extra_reason

torch = pytest.importorskip("torch", reason=extra_reason("torch"))

from braintumor.augment import (  # noqa: E402
    augment,
    random_affine,
    random_bias_field,
    random_erase,
    random_histogram_shift,
    random_intensity,
    random_reframe,
    strength_settings,
)
from braintumor.train_config import ConfigError, TrainConfig  # noqa: E402


def _batch(b: int = 16, size: int = 48) -> torch.Tensor:
    return torch.rand(b, 1, size, size, generator=torch.Generator().manual_seed(1))


def test_augment_without_erasing_is_the_shipped_recipe():
    x = _batch()
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    expected = random_intensity(random_affine(x, g1), g1)
    assert torch.equal(augment(x, g2), expected)
    assert torch.equal(augment(x, torch.Generator().manual_seed(7), erase_p=0.0, bias_p=0.0, reframe_p=0.0,
                               histogram_p=0.0), expected)
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
def test_erase_and_reframe_flags_are_checked(bad):
    with pytest.raises(ConfigError, match="--erase"):
        TrainConfig(data="d", out="o", erase=bad)
    with pytest.raises(ConfigError, match="--reframe"):
        TrainConfig(data="d", out="o", reframe=bad)


def _head(size: int = 108, margin: float = 0.04) -> torch.Tensor:
    """A crop as preprocessing makes it: a bright square head of texture with a black margin per side."""
    x = torch.zeros(1, 1, size, size)
    m = round(size * margin / (1 + 2 * margin))
    x[..., m:size - m, m:size - m] = 0.2 + 0.8 * torch.rand(size - 2 * m, size - 2 * m,
                                                            generator=torch.Generator().manual_seed(0))
    return x


def test_reframe_without_a_cut_into_the_head_keeps_the_crop():
    x = _head().repeat(4, 1, 1, 1)
    assert torch.allclose(random_reframe(x, torch.Generator().manual_seed(0), p=1.0, max_cut=0.0), x, atol=1e-5)
    # cuts inside the black margin leave the head whole: the framing does not change either
    assert torch.allclose(random_reframe(x, torch.Generator().manual_seed(0), p=1.0, max_cut=0.03), x, atol=1e-5)
    assert torch.equal(random_reframe(x, torch.Generator().manual_seed(0), p=0.0), x)


def test_reframe_cuts_the_head_and_frames_what_is_left_with_a_black_margin():
    x = _head().repeat(32, 1, 1, 1)
    a = random_reframe(x, torch.Generator().manual_seed(5), p=1.0, max_cut=0.15)
    assert torch.equal(a, random_reframe(x, torch.Generator().manual_seed(5), p=1.0, max_cut=0.15))
    for img in a[:, 0]:
        lit = img > 0.1
        rows, cols = lit.any(1).nonzero().flatten(), lit.any(0).nonzero().flatten()
        height, width = int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)
        # the longer side of what is left spans the frame but its margins (4 % per side, up to resampling)
        assert 0.88 * 108 <= max(height, width) <= 0.95 * 108
        assert not lit[:3].any() and not lit[-3:].any() and not lit[:, :3].any() and not lit[:, -3:].any()
    # a cut into the head magnifies it: the texture no longer lines up with the original
    assert (a - x).abs().mean() > 0.1


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


def test_histogram_shift_is_an_increasing_curve_that_keeps_black_and_white():
    levels = torch.linspace(0, 1, 256)
    x = levels.view(1, 1, 16, 16).repeat(300, 1, 1, 1)
    out = random_histogram_shift(x, torch.Generator().manual_seed(5), p=0.5)
    curves = out.flatten(1)
    moved = (curves - levels).abs().amax(1) > 1e-6
    assert 0.38 < moved.float().mean() < 0.62  # about half of the images, the others untouched
    assert torch.equal(out[~moved], x[~moved])
    assert (curves[:, 1:] >= curves[:, :-1] - 1e-6).all()  # increasing: the order of the gray levels is kept
    assert torch.allclose(curves[:, 0], torch.zeros(300)) and torch.allclose(curves[:, -1], torch.ones(300))
    assert (curves[moved] - levels).abs().amax(1).mean() > 0.05  # a real bend, not rounding
    # the same curve for every pixel of one image, wherever the level sits
    order = torch.randperm(16, generator=torch.Generator().manual_seed(0))
    again = random_histogram_shift(x[:, :, order], torch.Generator().manual_seed(5), p=0.5)
    assert torch.allclose(again, out[:, :, order])


def test_histogram_shift_flag_is_checked():
    assert TrainConfig(data="d", out="o").histogram_shift == 0.0  # off in the shipped recipe
    with pytest.raises(ConfigError, match="--histogram-shift"):
        TrainConfig(data="d", out="o", histogram_shift=-0.1)


def test_augmentation_options_reach_the_run_config_from_the_command_line(monkeypatch):
    import braintumor.train
    from braintumor.cli import main

    seen = []
    monkeypatch.setattr(braintumor.train, "train", lambda cfg, **how: seen.append(cfg))
    assert main(["train", "--out", "o", "--erase", "0.1", "--bias-field", "0.2", "--reframe", "0.3",
                 "--histogram-shift", "0.4", "--mixup", "0.5", "--mixstyle", "0.6", "--elastic", "0.7",
                 "--augment-strength", "1.5", "--vflip", "0.8"]) == 0
    cfg = seen[0]
    assert (cfg.erase, cfg.bias_field, cfg.reframe, cfg.histogram_shift, cfg.mixup, cfg.mixstyle, cfg.elastic,
            cfg.augment_strength, cfg.vflip) == (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 1.5, 0.8)
    assert main(["train", "--out", "o", "--cutmix", "1.0"]) == 0
    assert seen[1].cutmix == 1.0


@pytest.mark.parametrize(("step", "shipped"), [(random_affine, {"elastic_p": 0.0}), (augment, {"strength": 1.0}),
                                               (random_affine, {"vflip_p": 0.0}), (augment, {"vflip_p": 0.0})])
def test_an_option_at_its_shipped_value_draws_nothing_and_changes_nothing(step, shipped):
    x = _batch()
    g1, g2 = torch.Generator().manual_seed(7), torch.Generator().manual_seed(7)
    assert torch.equal(step(x, g1), step(x, g2, **shipped))
    assert torch.equal(g1.get_state(), g2.get_state())


def test_elastic_displacement_is_smooth_bounded_and_only_on_picked_images():
    from braintumor.augment import ELASTIC_MAX_SHIFT, elastic_displacement

    d = elastic_displacement(64, (96, 80), torch.Generator().manual_seed(3), 0.5)
    assert d.shape == (64, 96, 80, 2)
    assert torch.equal(d, elastic_displacement(64, (96, 80), torch.Generator().manual_seed(3), 0.5))
    moved = d.abs().amax(dim=(1, 2, 3)) > 0
    assert 0 < int(moved.sum()) < 64  # about half the images, the others untouched
    assert float(d.abs().max()) <= 2 * ELASTIC_MAX_SHIFT + 1e-6  # grid units: [-1, 1] spans the side
    # smooth: one pixel apart, the shift changes by a small part of its range (noise would jump by the full range)
    step = max((d[:, 1:] - d[:, :-1]).abs().max(), (d[:, :, 1:] - d[:, :, :-1]).abs().max())
    assert float(step) < 0.15 * 4 * ELASTIC_MAX_SHIFT
    assert float(elastic_displacement(8, (16, 16), torch.Generator(), 0.0).abs().max()) == 0.0


def test_elastic_warp_moves_pixels_but_keeps_the_image_range():
    x = _batch(8, 64)
    kw = dict(degrees=0.0, scale=(1.0, 1.0), translate=0.0, flip_p=0.0)  # the identity warp, plus the deformation
    still = random_affine(x, torch.Generator().manual_seed(1), **kw)
    bent = random_affine(x, torch.Generator().manual_seed(1), elastic_p=1.0, **kw)
    assert not torch.allclose(still, bent)
    assert float(bent.min()) >= 0.0 and float(bent.max()) <= 1.0


def test_elastic_flag_is_checked():
    assert TrainConfig(data="d", out="o").elastic == 0.0  # off in the shipped recipe
    for bad in (-0.1, 1.5):
        with pytest.raises(ConfigError, match="--elastic"):
            TrainConfig(data="d", out="o", elastic=bad)


def test_vflip_turns_the_picked_images_upside_down_and_no_others():
    x = _batch(64, 32)
    kw = dict(degrees=0.0, scale=(1.0, 1.0), translate=0.0, flip_p=0.0)  # the identity warp, plus the flips
    out = random_affine(x, torch.Generator().manual_seed(2), vflip_p=0.5, **kw)
    upside_down = torch.tensor([torch.allclose(o, xi.flip(-2), atol=1e-5) for o, xi in zip(out, x, strict=True)])
    as_given = torch.tensor([torch.allclose(o, xi, atol=1e-5) for o, xi in zip(out, x, strict=True)])
    assert bool((upside_down ^ as_given).all())  # each image one or the other, never mirrored left-right
    assert 16 < int(upside_down.sum()) < 48
    every = random_affine(x, torch.Generator().manual_seed(2), vflip_p=1.0, **dict(kw, flip_p=1.0))
    assert torch.allclose(every, x.flip(-2, -1), atol=1e-5)  # with the left/right flip: turned 180 degrees


def test_vflip_flag_is_checked_and_reaches_the_detector_s_augmented_copies():
    import numpy as np

    from braintumor.calibration_copies import augmented_copies

    assert TrainConfig(data="d", out="o").vflip == 0.0  # off in the shipped recipe
    for bad in (-0.1, 1.5):
        with pytest.raises(ConfigError, match="--vflip"):
            TrainConfig(data="d", out="o", vflip=bad)
    images = (np.random.default_rng(0).random((8, 24, 24)) * 255).astype(np.uint8)
    plain, flipped = (augmented_copies(images, 1, options={"vflip": v}) for v in (0.0, 1.0))
    assert not np.array_equal(plain, flipped)


def test_strength_one_is_the_shipped_recipe_s_numbers():
    # written out, so a change of the module's constants cannot silently change the shipped recipe
    x = _batch()
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    shipped = random_intensity(random_affine(x, g1, degrees=15.0, scale=(0.85, 1.15), translate=0.08), g1,
                               gamma=(0.7, 1.5), contrast=0.2, noise_p=0.3, noise_std=0.03, blur_p=0.2)
    assert torch.equal(augment(x, g2, strength=1.0), shipped)


def test_augment_strength_zero_leaves_only_the_flips():
    x = _batch(32, 40)
    out = augment(x, torch.Generator().manual_seed(5), strength=0.0)
    flipped = 0
    for a, b in zip(out, x, strict=True):
        same = torch.allclose(a, b, atol=1e-5)
        mirrored = torch.allclose(a, b.flip(-1), atol=1e-5)
        assert same or mirrored
        flipped += mirrored and not same
    assert 0 < flipped < 32  # about half


def test_a_stronger_augmentation_moves_the_images_further():
    x = _batch(64, 48)
    change = []
    for s in (0.5, 1.0, 2.0):
        out = augment(x, torch.Generator().manual_seed(11), strength=s)  # the same draws, mapped wider
        change.append(float((out - x).abs().mean()))
    assert change[0] < change[1] < change[2]
    affine, intensity = strength_settings(2.0)
    assert affine["degrees"] == 30.0 and affine["scale"] == (0.7, 1.3) and intensity["blur_p"] == 0.4
    assert intensity["gamma"][0] == pytest.approx(0.49) and intensity["gamma"][1] == pytest.approx(2.25)
    assert strength_settings(1.0) == ({}, {})


def test_augment_strength_flag_is_checked():
    assert TrainConfig(data="d", out="o").augment_strength == 1.0  # the shipped recipe
    for bad in (-0.5, 3.5):
        with pytest.raises(ConfigError, match="--augment-strength"):
            TrainConfig(data="d", out="o", augment_strength=bad)
