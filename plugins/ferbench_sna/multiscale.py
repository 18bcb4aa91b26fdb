"""Backbone ``sna-multiscale`` (Table II) and aggregator ``sna-fusion`` (its three heads).

Table II, two branches on the original and the half-scale frame:

=============  ======  ===============  ============  ==============  ==================
layer          kernel  Ori output       Half output   pooling         other
=============  ======  ===============  ============  ==============  ==================
PreProcess     -       [1, 112, 112]    [1, 56, 56]   2x2 (Half)      -
Conv1-a        5x5     [64, 56, 56]     [64, 28, 28]  2x2             BN, ReLU
Conv1-b        5x5     [64, 56, 56]     [64, 28, 28]  -               BN, ReLU
Conv2-a        3x3     [128, 28, 28]    [128, 14, 14] 2x2             BN, ReLU
Conv2-b        3x3     [128, 28, 28]    [128, 14, 14] -               BN, ReLU
Conv3-a        3x3     [256, 14, 14]    [256, 7, 7]   2x2             BN, ReLU
Conv3-b        3x3     [256, 14, 14]    [256, 7, 7]   -               BN, ReLU
Conv4          3x3     [512, 7, 7]      [512, 3, 3]   2x2             BN, ReLU
Conv5          1x1     [128, 7, 7]      [128, 3, 3]   -               BN, ReLU, dropout 0.5
FC             -       64               32
Fuse-FC        -       K (7)
=============  ======  ===============  ============  ==============  ==================

The table's pooling column reads "2x2" on every row, but its output sizes only
halve at Conv1-a, Conv2-a, Conv3-a and Conv4; a 2x2 max-pool follows exactly
those convolutions (conv, BN, ReLU, pool), which reproduces every printed shape.

Design (the engine's backbone returns one feature vector per frame): the
backbone outputs ``concat(Ori-FC [64], Half-FC [32])`` = 96 features; the
aggregator ``sna-fusion`` owns the three classifiers (Ori head 64->K, Half
head 32->K, Fuse-FC 96->K), predicts with Fuse-FC and trains with the sum of
the three heads' losses (Sec. IV-B: "the sum of losses computed by these three
predictions with the same weight"). Video clips (T > 1) average the per-frame
96-d features over valid frames before the heads.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

import torch
import torch.nn.functional as F
from torch import nn

from ferbench.nn import masked_mean
from ferbench.components import Aggregator, AggregatorOutput, Backbone, InputSignature
from ferbench.errors import IncompatibleCombinationError
from ferbench.losses import cross_entropy, focal_loss

#: (name, kernel, out channels at width 1, pool after)
TABLE_II = (
    ("conv1_a", 5, 64, True), ("conv1_b", 5, 64, False),
    ("conv2_a", 3, 128, True), ("conv2_b", 3, 128, False),
    ("conv3_a", 3, 256, True), ("conv3_b", 3, 256, False),
    ("conv4", 3, 512, True), ("conv5", 1, 128, False),
)
ORI_FC, HALF_FC = 64, 32
#: layers whose outputs are "Conv3 to Conv5" of the perceptual loss (Eq. 5)
PERCEPTUAL_LAYERS = ("conv3_b", "conv4", "conv5")


@dataclasses.dataclass(frozen=True)
class MultiScaleOptions:
    """Options of ``sna-multiscale``.

    Attributes:
        width: channel multiplier of every conv layer (1.0 = Table II; smaller for fast CPU runs).
        dropout: dropout after Conv5 (paper 0.5).
        bn_momentum: BatchNorm running-average momentum in PyTorch's convention
            (0.1 = the paper's "momentum 0.9" in TensorFlow's decay convention).
    """

    width: float = 1.0
    dropout: float = 0.5
    bn_momentum: float = 0.1


class Branch(nn.Module):
    """One Table II branch: [N, C, H, W] -> FC features [N, fc_dim]."""

    def __init__(self, channels: int, height: int, width: int, fc_dim: int, o: MultiScaleOptions) -> None:
        super().__init__()
        cin = channels
        self.layers = nn.ModuleDict()
        for name, k, cout, pool in TABLE_II:
            cout = max(1, int(round(cout * o.width)))
            mods: list[nn.Module] = [
                nn.Conv2d(cin, cout, k, padding=k // 2, bias=False),
                nn.BatchNorm2d(cout, momentum=o.bn_momentum),
                nn.ReLU(inplace=True),
            ]
            if pool:
                mods.append(nn.MaxPool2d(2))
            if name == "conv5":
                mods.append(nn.Dropout(o.dropout))
            self.layers[name] = nn.Sequential(*mods)
            cin = cout
        h, w = height, width
        for _, _, _, pool in TABLE_II:
            if pool:
                h, w = h // 2, w // 2
        if h < 1 or w < 1:
            raise ValueError(f"frames of {height}x{width} are too small for four 2x2 poolings")
        self.out_hw = (h, w)
        self.fc = nn.Linear(cin * h * w, fc_dim)

    def feature_maps(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        """Every conv layer's output, by Table II name (conv1_a ... conv5)."""
        out = {}
        for name, layer in self.layers.items():
            x = layer(x)
            out[name] = x
        return out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers.values():
            x = layer(x)
        return self.fc(x.flatten(1))


class SNAMultiScale(Backbone):
    """Table II: [N, C, H, W] -> [N, 96] = concat(Ori-FC 64, Half-FC 32); C, H, W from the input."""

    branch_dims = (ORI_FC, HALF_FC)

    def __init__(self, options: MultiScaleOptions, signature: InputSignature) -> None:
        super().__init__()
        c, h, w = signature.channels, signature.height, signature.width
        if h < 32 or w < 32:
            raise ValueError(f"sna-multiscale needs frames of at least 32x32 (Table II: 112x112), got {h}x{w}")
        self.branch_ori = Branch(c, h, w, ORI_FC, options)
        self.branch_half = Branch(c, h // 2, w // 2, HALF_FC, options)
        self.out_dim = ORI_FC + HALF_FC

    @staticmethod
    def half_scale(x: torch.Tensor) -> torch.Tensor:
        """PreProcess-Half: 2x2 average pooling, [N, C, H, W] -> [N, C, H/2, W/2]."""
        return F.avg_pool2d(x, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cat([self.branch_ori(x), self.branch_half(self.half_scale(x))], dim=1)

    def perceptual_features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Conv3 (conv3_b), Conv4 and Conv5 outputs of the Ori branch, for Loss_Rec (Eq. 5)."""
        maps = self.branch_ori.feature_maps(x)
        return [maps[k] for k in PERCEPTUAL_LAYERS]


def build_multiscale(options: MultiScaleOptions, signature: InputSignature) -> SNAMultiScale:
    return SNAMultiScale(options, signature)


# --------------------------------------------------------------------------- aggregator


@dataclasses.dataclass(frozen=True)
class FusionOptions:
    """Options of ``sna-fusion``.

    Attributes:
        branch_dims: sizes of the concatenated branch features (sna-multiscale: Ori 64, Half 32).
        loss: per-head loss: "focal" (the paper, Lin et al. 2017) or "ce". It replaces the run's
            ``loss`` train option, which the engine does not hand to aggregators.
        focal_gamma: focusing parameter of the focal loss (ferbench's choice: the paper gives no gamma; 2 is Lin et al.'s default).
    """

    branch_dims: tuple[int, ...] = (ORI_FC, HALF_FC)
    loss: Literal["focal", "ce"] = "focal"
    focal_gamma: float = 2.0


class SNAFusion(Aggregator):
    """Three heads on [B, T, D] (D = sum(branch_dims)): logits = Fuse-FC(z), z = mean over frames [B, D].

    ``extras``: ``logits_ori`` and ``logits_half`` [B, K], the branch heads.
    ``classification_loss``: loss(Fuse) + loss(Ori) + loss(Half), per sample [B].
    """

    def __init__(self, options: FusionOptions, in_dim: int, num_classes: int) -> None:
        super().__init__()
        dims = tuple(options.branch_dims)
        if len(dims) != 2 or sum(dims) != in_dim:
            raise IncompatibleCombinationError(
                f"aggregator 'sna-fusion' expects features that concatenate two branches of sizes {dims} "
                f"(sum {sum(dims)}), got D={in_dim}; use --backbone sna-multiscale or set "
                f"--aggregator-opt branch_dims=<a>,<b> with a+b={in_dim}"
            )
        self.options = options
        self.dims = dims
        self.embedding_dim = in_dim
        self.head_ori = nn.Linear(dims[0], num_classes)
        self.head_half = nn.Linear(dims[1], num_classes)
        self.fuse = nn.Linear(in_dim, num_classes)

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> AggregatorOutput:
        z = masked_mean(features, mask)
        ori, half = z.split(self.dims, dim=1)
        return AggregatorOutput(
            embedding=z, logits=self.fuse(z),
            extras={"logits_ori": self.head_ori(ori), "logits_half": self.head_half(half)},
        )

    def _loss(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        if self.options.loss == "focal":
            return focal_loss(logits, target, gamma=self.options.focal_gamma)
        return cross_entropy(logits, target)

    def classification_loss(self, output: AggregatorOutput, target: torch.Tensor) -> torch.Tensor:
        return (
            self._loss(output.logits, target)
            + self._loss(output.extras["logits_ori"], target)
            + self._loss(output.extras["logits_half"], target)
        )


def build_fusion(options: FusionOptions, in_dim: int, num_classes: int) -> SNAFusion:
    return SNAFusion(options, in_dim, num_classes)
