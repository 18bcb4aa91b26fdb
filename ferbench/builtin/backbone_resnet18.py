"""Backbone ``resnet18``: torchvision's ResNet-18 trunk, global-average-pooled, D=512."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch
from torch import nn
from torchvision.models import resnet18

from ..components import Backbone, InputSignature
from ..errors import FerbenchError

WEIGHTS_HINT = (
    "download torchvision's ImageNet weights on a machine with internet "
    "(https://download.pytorch.org/models/resnet18-f37072fd.pth) and pass weights=/path/to/file"
)


@dataclasses.dataclass(frozen=True)
class ResNet18Options:
    """Options of the ``resnet18`` backbone.

    Attributes:
        weights: path of a local torchvision ResNet-18 state_dict; empty = random init.
    """

    weights: str = ""


class ResNet18Backbone(Backbone):
    """[N, C, H, W] -> [N, 512]. C != 3 replaces the stem convolution (pretrained
    RGB filters are averaged over colour and repeated when weights are given)."""

    out_dim = 512

    def __init__(self, options: ResNet18Options, signature: InputSignature) -> None:
        super().__init__()
        net = resnet18(weights=None)
        if options.weights:
            path = Path(options.weights).expanduser()
            if not path.is_file():
                raise FerbenchError(f"resnet18 weights file not found: {path}; {WEIGHTS_HINT}")
            state = torch.load(path, map_location="cpu", weights_only=True)
            net.load_state_dict(state)
        if signature.channels != 3:
            old = net.conv1
            net.conv1 = nn.Conv2d(signature.channels, 64, 7, 2, 3, bias=False)
            if options.weights:
                with torch.no_grad():
                    mean = old.weight.mean(dim=1, keepdim=True)
                    net.conv1.weight.copy_(mean.repeat(1, signature.channels, 1, 1))
        net.fc = nn.Identity()
        self.net = net

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def build_resnet18(options: ResNet18Options, signature: InputSignature) -> ResNet18Backbone:
    return ResNet18Backbone(options, signature)
