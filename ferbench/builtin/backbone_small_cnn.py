"""Backbone ``small-cnn``: four conv-BN-ReLU-pool blocks; fast, for tests and CPU runs."""

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

    width: int = 16
    dropout: float = 0.0


class SmallCNN(Backbone):
    """[N, C, H, W] -> [N, 8 * width], any C and any H, W >= 16."""

    def __init__(self, options: SmallCNNOptions, signature: InputSignature) -> None:
        super().__init__()
        w = options.width
        chans = [signature.channels, w, 2 * w, 4 * w, 8 * w]
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        self.features = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(options.dropout))
        self.out_dim = chans[-1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.features(x)


def build_small_cnn(options: SmallCNNOptions, signature: InputSignature) -> SmallCNN:
    return SmallCNN(options, signature)
