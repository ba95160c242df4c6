"""The model registry: every architecture builds, downsamples by 32 and keeps the CAM-ready head."""

from __future__ import annotations

import pytest
from conftest import extra_reason

torch = pytest.importorskip("torch", reason=extra_reason("torch"))

from braintumor.model import MODELS, TumorNet, count_multiply_adds, create_model  # noqa: E402


@pytest.mark.parametrize("name", sorted(MODELS))
def test_every_registered_model_maps_images_to_class_logits(name):
    torch.manual_seed(0)
    model = create_model(name).eval()
    x = torch.rand(2, 1, 160, 160)
    with torch.no_grad():
        feats = model.forward_features(x)
        logits = model(x)
    assert logits.shape == (2, 4)
    assert feats.shape[2:] == (5, 5)  # stride 32, so the 5 x 5 heat map is the same for every model
    # global average pooling + linear: the logits are the mean of the class-activation map (eval: no dropout)
    cam = torch.einsum("kc,nchw->nkhw", model.fc.weight, feats).mean(dim=(2, 3)) + model.fc.bias
    torch.testing.assert_close(cam, logits, rtol=1e-4, atol=1e-5)


def test_patch_stem_holds_no_half_resolution_activations():
    """The patchify stem goes straight to 1/4 resolution; the conv stem passes through 1/2."""
    x = torch.rand(1, 1, 160, 160)
    conv, patch = TumorNet(stem="conv"), TumorNet(stem="patch")
    assert conv.stem[0](x).shape[-1] == 80
    assert patch.stem[0](x).shape[-1] == 40
    assert patch.stem(x).shape == conv.stem(x).shape == (1, 32, 40, 40)


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="unknown model"):
        create_model("resnet-9000")
    with pytest.raises(ValueError, match="unknown stem"):
        TumorNet(stem="pixel")


def test_multiply_adds_match_a_hand_count():
    """A 1-stage net at 64 px: stem 3x3 s2 (1->8) on 32x32, block at 16x16 (two 3x3 8->8), fc 8->4."""
    net = TumorNet(widths=(8,), depths=(1,))
    expected = 32 * 32 * 8 * 9 + 2 * (16 * 16 * 8 * 8 * 9) + 8 * 4
    assert count_multiply_adds(net, 64) == expected
    # cost grows with the pixels: twice the side, four times the convolutions (the fc stays)
    assert count_multiply_adds(net, 128) - 8 * 4 == 4 * (expected - 8 * 4)


def test_squeeze_excite_gates_each_images_channels_on_their_own():
    """The SE gate is computed per image: one image's channel weights must not depend on the others in the batch
    (a gate pooled over the batch would leak between patients), and the shipped network has no gates at all."""
    torch.manual_seed(0)
    model = create_model("tumornet-s-se").eval()
    a, b = torch.rand(1, 1, 160, 160), torch.rand(1, 1, 160, 160)
    with torch.no_grad():
        alone, together = model(a), model(torch.cat([a, b]))[:1]
        block = model.features[1]
        x = torch.randn(2, 64, 20, 20)
        gated = block.se(x)
    torch.testing.assert_close(alone, together, rtol=1e-4, atol=1e-5)
    assert not torch.allclose(gated, x)  # the gate changes the branch
    assert gated.abs().le(x.abs() + 1e-6).all()  # a sigmoid gate only shrinks
    assert not any(".se." in k for k in create_model("tumornet-s").state_dict())
