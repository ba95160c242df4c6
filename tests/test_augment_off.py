"""``--augment-off``: each part of the shipped augmentation can be left out alone; nothing off is the shipped one."""

from __future__ import annotations

import pytest
from conftest import extra_reason

torch = pytest.importorskip("torch", reason=extra_reason("torch"))

from braintumor.augment import _OFF, augment, random_affine, strength_settings  # noqa: E402
from braintumor.train_config import AUGMENT_ITEMS, ConfigError, TrainConfig, augment_off_items  # noqa: E402


def _batch(b: int = 16, size: int = 40) -> torch.Tensor:
    return torch.rand(b, 1, size, size, generator=torch.Generator().manual_seed(2))


def test_items_and_groups_are_expanded_in_one_order_and_checked():
    assert augment_off_items("") == ()
    assert augment_off_items("intensity") == ("gamma", "contrast", "blur", "noise")
    assert augment_off_items("noise, geometry,rotation") == ("rotation", "scale", "shift", "noise")
    assert augment_off_items("flip") == ("flip",)
    with pytest.raises(ConfigError, match="unknown item gama"):
        augment_off_items("gama")
    assert TrainConfig(data="d", out="o").augment_off == ""  # the shipped recipe
    with pytest.raises(ConfigError, match="--augment-off"):
        TrainConfig(data="d", out="o", augment_off="intensity,blurr")


def test_nothing_off_is_the_shipped_augmentation_bit_for_bit():
    x = _batch()
    shipped = augment(x, torch.Generator().manual_seed(4))
    assert torch.equal(augment(x, torch.Generator().manual_seed(4), off=()), shipped)
    assert strength_settings(1.0, ()) == ({}, {})
    assert set(_OFF) == set(AUGMENT_ITEMS)  # one vocabulary: every name train_config accepts has its identity here


def test_everything_off_leaves_the_images_as_they_were():
    # every item at its identity: no rotation, scale 1, no shift, no flip, gamma 1, contrast 1, no blur, no noise
    x = _batch()
    out = augment(x, torch.Generator().manual_seed(5), off=AUGMENT_ITEMS)
    assert torch.allclose(out, x, atol=1e-5)


def test_intensity_off_keeps_the_geometry_draw_for_draw():
    x = _batch()
    off = augment_off_items("intensity")
    geometry_only = random_affine(x, torch.Generator().manual_seed(6)).clamp(0, 1)
    assert torch.allclose(augment(x, torch.Generator().manual_seed(6), off=off), geometry_only, atol=1e-6)


@pytest.mark.parametrize("item", AUGMENT_ITEMS)
def test_each_item_alone_changes_what_the_network_sees(item):
    x = _batch(32)
    shipped = augment(x, torch.Generator().manual_seed(8))
    assert not torch.allclose(augment(x, torch.Generator().manual_seed(8), off=(item,)), shipped, atol=1e-4)


def test_the_flag_reaches_the_run_config_from_the_command_line(monkeypatch):
    import braintumor.train
    from braintumor.cli import main

    seen = []
    monkeypatch.setattr(braintumor.train, "train", lambda cfg, **how: seen.append(cfg))
    assert main(["train", "--out", "o", "--augment-off", "gamma,noise"]) == 0
    assert augment_off_items(seen[0].augment_off) == ("gamma", "noise")
    assert main(["train", "--out", "o", "--augment-off", "colour"]) == 2  # one error line, not a traceback


def _centroid_shift(shift: float) -> torch.Tensor:
    """How far (in pixels) the augmentation moves a small square's centre, geometry but the shift left out."""
    x = torch.zeros(256, 1, 48, 48)
    x[..., 22:26, 22:26] = 1.0
    off = ("rotation", "scale", "flip", *augment_off_items("intensity"))
    out = augment(x, torch.Generator().manual_seed(9), off=off, shift=shift)[:, 0]
    coords = torch.arange(48, dtype=torch.float32)
    mass = out.sum(dim=(1, 2))
    cy, cx = (out.sum(2) * coords).sum(1) / mass, (out.sum(1) * coords).sum(1) / mass
    return torch.maximum((cy - 23.5).abs(), (cx - 23.5).abs())


def test_augment_shift_sets_the_largest_shift_alone():
    from braintumor.augment import TRANSLATE

    assert strength_settings(1.0, (), 0.16) == ({"translate": 0.16}, {})
    affine, _ = strength_settings(2.0, (), 0.16)
    assert affine["translate"] == 0.16 and affine["degrees"] == 30.0  # the strength scales the rest
    assert strength_settings(1.0, ("shift",), 0.16)[0]["translate"] == 0.0  # --augment-off shift still wins
    x = _batch(32)
    shipped = augment(x, torch.Generator().manual_seed(8))
    assert torch.equal(augment(x, torch.Generator().manual_seed(8), shift=TRANSLATE), shipped)  # same draws
    assert not torch.allclose(augment(x, torch.Generator().manual_seed(8), shift=0.16), shipped, atol=1e-4)
    narrow, wide = _centroid_shift(TRANSLATE), _centroid_shift(0.16)
    assert float(narrow.max()) <= TRANSLATE * 48 + 0.5 and float(wide.max()) <= 0.16 * 48 + 0.5
    assert float(wide.max()) > TRANSLATE * 48 + 1  # moves further than the shipped range allows
    assert 1.8 < float(wide.mean() / narrow.mean()) < 2.2  # the same draws, twice as far


@pytest.mark.parametrize(("flag", "field", "good", "bad", "bad_config"),
                         [("--augment-shift", "augment_shift", 0.16, 0.9, -0.1),
                          ("--augment-intensity", "augment_intensity", 2.0, 3.5, -1.0)])
def test_augment_flags_reach_the_run_config_and_are_checked(monkeypatch, flag, field, good, bad, bad_config):
    import braintumor.train
    from braintumor.cli import main

    seen = []
    monkeypatch.setattr(braintumor.train, "train", lambda cfg, **how: seen.append(cfg))
    assert main(["train", "--out", "o"]) == 0 and getattr(seen[0], field) is None  # the shipped recipe
    assert main(["train", "--out", "o", flag, str(good)]) == 0 and getattr(seen[1], field) == good
    assert main(["train", "--out", "o", flag, str(bad)]) == 2  # one error line, not a traceback
    with pytest.raises(ConfigError, match=flag):
        TrainConfig(data="d", out="o", **{field: bad_config})


def test_augment_intensity_scales_gamma_contrast_noise_and_blur_alone():
    from braintumor.augment import CONTRAST

    affine, intensity = strength_settings(1.0, (), None, 2.0)
    assert affine == {}  # the shipped geometry, passed as its defaults
    assert intensity["contrast"] == pytest.approx(2 * CONTRAST) and intensity["noise_p"] == pytest.approx(0.6)
    assert intensity["gamma"] == pytest.approx((0.7 ** 2, 1.5 ** 2)) and intensity["blur_p"] == pytest.approx(0.4)
    assert strength_settings(2.0, (), None, 1.0)[1] == {}  # twice the geometry, the shipped intensity
    assert strength_settings(2.0, (), None, 1.0)[0] == strength_settings(2.0)[0]
    assert strength_settings(1.0, ("gamma",), None, 2.0)[1]["gamma"] == (1.0, 1.0)  # --augment-off still wins
    x = _batch(32)
    shipped = augment(x, torch.Generator().manual_seed(8))
    assert torch.equal(augment(x, torch.Generator().manual_seed(8), intensity_strength=1.0), shipped)
    stronger = augment(x, torch.Generator().manual_seed(8), intensity_strength=2.0)
    assert not torch.allclose(stronger, shipped, atol=1e-4)
    geometry_only = ("gamma", "contrast", "blur", "noise")  # with the intensity items off, only geometry is left:
    assert torch.equal(augment(x, torch.Generator().manual_seed(8), off=geometry_only, intensity_strength=2.0),
                       augment(x, torch.Generator().manual_seed(8), off=geometry_only))  # and it is the same
