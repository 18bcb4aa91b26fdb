"""Backbone ``ifercv-cnn``: the frame embedding network f_E: R^{h x w x C} -> R^512 (paper Sec. III-A).

The paper takes "the CNN in the typical CNN-LSTM FER structure [3], [44], but
with fewer layers", shared over all residual frames, without giving the exact
layers. We use a VGG-style stack of four conv blocks (a strided 5x5 stem with max-pool, then
3x3 conv-BN-ReLU-max-pool blocks doubling the channels) and a linear
projection to 512 after global average pooling. With the default width 32 it
costs 16.7 MMACs per 64x64 frame (ResNet-18: 148 MMACs), which is where the
paper's speed-up on residual frames comes from.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from ferbench.components import Backbone, InputSignature


@dataclasses.dataclass(frozen=True)
class IFERCVCNNOptions:
    """Options of ``ifercv-cnn``.

    Attributes:
        width: channels of the stem; the three blocks use 2x, 4x, 8x width.
        out_dim: feature size D (512 in the paper).
        dropout: dropout before the projection.
    """

    width: int = 32
    out_dim: int = 512
    dropout: float = 0.0


def _block(cin: int, cout: int) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, 3, padding=1, bias=False), nn.BatchNorm2d(cout), nn.ReLU(inplace=True), nn.MaxPool2d(2)]


class IFERCVCNN(Backbone):
    """[N, C, H, W] (any C: residual 3, mv 2, residual+mv 5; H, W >= 16) -> [N, out_dim]."""

    def __init__(self, options: IFERCVCNNOptions, signature: InputSignature) -> None:
        super().__init__()
        if signature.height < 16 or signature.width < 16:
            raise ValueError(f"ifercv-cnn needs frames of at least 16x16, got {signature.height}x{signature.width}")
        if options.width < 1 or options.out_dim < 1:
            raise ValueError("ifercv-cnn needs width >= 1 and out_dim >= 1")
        w = options.width
        self.features = nn.Sequential(
            nn.Conv2d(signature.channels, w, 5, stride=2, padding=2, bias=False), nn.BatchNorm2d(w), nn.ReLU(inplace=True),
            nn.MaxPool2d(2), *_block(w, 2 * w), *_block(2 * w, 4 * w), *_block(4 * w, 8 * w),
            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Dropout(options.dropout),
        )
        self.project = nn.Sequential(nn.Linear(8 * w, options.out_dim), nn.ReLU(inplace=True))
        self.out_dim = options.out_dim
        self.features.to(memory_format=torch.channels_last)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # channels-last activations: same layers, but PyTorch's CPU max-pool is ~10x slower on NCHW
        # maps this small (the whole network runs ~2x faster on one core)
        return self.project(self.features(x.contiguous(memory_format=torch.channels_last)))


def build_ifercv_cnn(options: IFERCVCNNOptions, signature: InputSignature) -> IFERCVCNN:
    return IFERCVCNN(options, signature)
