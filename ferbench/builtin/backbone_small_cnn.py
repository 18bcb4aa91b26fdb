"""Backbone ``small-cnn``: a strided stem and three conv blocks; fast, for tests and CPU runs."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from ..components import Backbone, InputSignature


@dataclasses.dataclass(frozen=True)
class SmallCNNOptions:
    """Options of ``small-cnn``.

    Attributes:
        width: channels of the first block; blocks use width x (1, 2, 4, 8).
        dropout: dropout before the output features.
    """

    width: int = 32
    dropout: float = 0.0


class SmallCNN(Backbone):
    """[N, C, H, W] -> [N, 8 * width], any C and any H, W >= 16.

    A stride-2 stem, then three [max-pool, conv, BN, ReLU] blocks, so most
    convolutions run at 1/4 to 1/16 of the input resolution (about 16 M MACs
    per 64x64 frame at width 32).
    """

    def __init__(self, options: SmallCNNOptions, signature: InputSignature) -> None:
        super().__init__()
        w = options.width
        layers: list[nn.Module] = [
            nn.Conv2d(signature.channels, w, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
        ]
        for cin, cout in ((w, 2 * w), (2 * w, 4 * w), (4 * w, 8 * w)):
            layers += [nn.MaxPool2d(2), nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(options.dropout))
        self.out_dim = 8 * w

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


def build_small_cnn(options: SmallCNNOptions, signature: InputSignature) -> SmallCNN:
    return SmallCNN(options, signature)
