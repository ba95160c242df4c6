"""Compact CNNs in plain torch behind a tiny registry (training/export only; serving uses ONNX).

Every model standardises each image itself (first layer) and ends in global average
pooling + one linear layer, so a class-activation map is exact: CAM_c = sum_k w_ck * F_k.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn


class Standardize(nn.Module):
    """Per-image zero mean, unit variance: inside the graph, so no caller can skip it."""

    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=(1, 2, 3), keepdim=True)
        var = (x - mean).pow(2).mean(dim=(1, 2, 3), keepdim=True)
        return (x - mean) / torch.sqrt(var + self.eps)


class SqueezeExcite(nn.Module):
    """Channel gates from the block's own pooled output (Hu et al., CVPR 2018): a per-image reweighting of the
    channels for a few hundred multiply-adds per block, the cheapest attention there is."""

    def __init__(self, channels: int, hidden: int) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, hidden, 1)
        self.expand = nn.Conv2d(hidden, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.expand(torch.relu(self.reduce(x.mean(dim=(2, 3), keepdim=True))))
        return x * torch.sigmoid(gate)


class BasicBlock(nn.Module):
    """ResNet basic block; its last BN starts at zero so the block starts as identity.

    ``se=True`` gates the residual branch's channels (:class:`SqueezeExcite`, as in SE-ResNet)."""

    def __init__(self, c_in: int, c_out: int, stride: int, se: bool = False) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, c_out, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(c_out)
        self.conv2 = nn.Conv2d(c_out, c_out, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(c_out)
        nn.init.zeros_(self.bn2.weight)
        self.se: nn.Module = SqueezeExcite(c_out, max(8, c_out // 8)) if se else nn.Identity()
        self.shortcut: nn.Module = nn.Identity()
        if stride != 1 or c_in != c_out:
            self.shortcut = nn.Sequential(
                nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out)
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.se(self.bn2(self.conv2(out))) + self.shortcut(x))


class TumorNet(nn.Module):
    """Stem (4x down) + one residual stage per width + GAP + dropout + linear.

    ``stem="conv"``: 3x3 stride-2 convolution + max pooling (ResNet). ``stem="patch"``: one 4x4
    stride-4 convolution (ConvNeXt's "patchify"), which never holds half-resolution activations:
    the conv stem's BatchNorm and ReLU on them are most of a training step's non-convolution time.
    """

    def __init__(
        self,
        num_classes: int = 4,
        widths: tuple[int, ...] = (32, 64, 128, 256),
        depths: tuple[int, ...] = (1, 1, 1, 1),
        dropout: float = 0.2,
        stem: str = "conv",
        se: bool = False,
    ) -> None:
        super().__init__()
        self.standardize = Standardize()
        if stem == "conv":
            first, pool = nn.Conv2d(1, widths[0], 3, 2, 1, bias=False), [nn.MaxPool2d(3, 2, 1)]
        elif stem == "patch":
            first, pool = nn.Conv2d(1, widths[0], 4, 4, bias=False), []
        else:
            raise ValueError(f"unknown stem '{stem}'; choose 'conv' or 'patch'")
        self.stem = nn.Sequential(first, nn.BatchNorm2d(widths[0]), nn.ReLU(inplace=True), *pool)
        blocks: list[nn.Module] = []
        c_in = widths[0]
        for i, (width, depth) in enumerate(zip(widths, depths, strict=True)):
            for j in range(depth):
                blocks.append(BasicBlock(c_in, width, 2 if (i > 0 and j == 0) else 1, se))
                c_in = width
        self.features = nn.Sequential(*blocks)
        #: index in ``features`` of each stage's last block
        self.stage_ends: tuple[int, ...] = tuple(sum(depths[: i + 1]) - 1 for i in range(len(depths)))
        self.middle_stage_ends: tuple[int, ...] = self.stage_ends[1:-1]  # pooled for the OOD detector
        self.dropout = nn.Dropout(dropout)
        self.fc = nn.Linear(c_in, num_classes)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")

    def forward_features(self, x: torch.Tensor) -> torch.Tensor:
        """Last feature maps (N, C, h, w): what the class-activation map is built from."""
        return self.features(self.stem(self.standardize(x)))

    def forward_with_middle(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Last feature maps and the pooled outputs of the middle stages, concatenated (N, C_mid).

        Out-of-distribution detection is much stronger with these generic mid-level features than
        with the last, class-specific ones alone (docs/RESULTS.md)."""
        h = self.stem(self.standardize(x))
        middle = []
        for i, block in enumerate(self.features):
            h = block(h)
            if i in self.middle_stage_ends:
                middle.append(h.mean(dim=(2, 3)))
        return h, torch.cat(middle, dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        pooled = self.forward_features(x).mean(dim=(2, 3))
        return self.fc(self.dropout(pooled))



class OrientationNet(nn.Module):
    """Which way up a prepared slice is (upright, turned a quarter anticlockwise, upside down, a quarter
    clockwise): a small TumorNet at half the classifier's resolution. The classifier was trained on upright slices
    (rotations of at most 15 degrees) and answers a slice on its side wrongly one time in four, so serving refuses
    one that this network finds turned (:mod:`braintumor.orientation`). Not in ``MODELS``: it classifies no tumour."""

    def __init__(self, widths: tuple[int, ...] = (8, 16, 32, 64)) -> None:
        super().__init__()
        self.pool = nn.AvgPool2d(2)
        self.net = TumorNet(4, widths, (1,) * len(widths), dropout=0.1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.pool(x))

MODELS: dict[str, Callable[..., nn.Module]] = {
    "tumornet-s": lambda num_classes=4: TumorNet(num_classes, (32, 64, 128, 256), (1, 1, 1, 1)),
    "tumornet-xs": lambda num_classes=4: TumorNet(num_classes, (16, 32, 64, 128), (1, 1, 1, 1)),
    "tumornet-s24": lambda num_classes=4: TumorNet(num_classes, (24, 48, 96, 192), (1, 1, 1, 1)),
    "tumornet-s-patch": lambda num_classes=4: TumorNet(num_classes, (32, 64, 128, 256), (1, 1, 1, 1), stem="patch"),
    # one more block in the 10 x 10 stage: depth at the same widths (1.3x the multiply-adds, +24 % parameters)
    "tumornet-s-deep": lambda num_classes=4: TumorNet(num_classes, (32, 64, 128, 256), (1, 1, 2, 1)),
    # squeeze-and-excitation in every block: +2 % parameters, +0.02 % multiply-adds
    "tumornet-s-se": lambda num_classes=4: TumorNet(num_classes, (32, 64, 128, 256), (1, 1, 1, 1), se=True),
}


def create_model(name: str, num_classes: int = 4) -> nn.Module:
    """Build a registered model by name (see ``MODELS``)."""
    if name not in MODELS:
        raise ValueError(f"unknown model '{name}'; choose from {', '.join(MODELS)}")
    return MODELS[name](num_classes=num_classes)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_multiply_adds(model: nn.Module, image_size: int) -> int:
    """Multiply-adds of the convolutions and linear layers for one (1, 1, S, S) image: the cost the docs
    compare architectures by (normalisation, pooling and activations are left out)."""
    total = 0

    def hook(module: nn.Module, _inputs: tuple, out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(module, nn.Conv2d):
            k = module.kernel_size[0] * module.kernel_size[1]
            total += out.numel() * module.in_channels // module.groups * k
        elif isinstance(module, nn.Linear):
            total += out.numel() * module.in_features

    handles = [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, (nn.Conv2d, nn.Linear))]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros(1, 1, image_size, image_size))
    finally:
        for h in handles:
            h.remove()
    return total
