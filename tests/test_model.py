"""The model registry: every architecture builds, downsamples by 32 and keeps the CAM-ready head."""

from __future__ import annotations

import pytest
import torch

from braintumor.model import MODELS, TumorNet, create_model


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
