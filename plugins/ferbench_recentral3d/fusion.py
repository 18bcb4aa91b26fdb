"""Backbone ``recentral3d-fusion``: the Section 4 network (Fig. 6), per frame.

Branches (all per frame, N = B*T):

* 2D ResNet-style branch (Sec. 4.3): conv 7x7/2 (128) -> identity block
  (64, 64, 128) -> convolution block /2 (64, 64, 256): 7 convolutions with
  128, 64, 64, 128, 64, 64, 256 filters -> max-pool 4 -> FC 1024, 1024, 128.
  face [N, 3, 100, 100] -> [N, 128].
* 3D re-centralization branch (Sec. 4.1): 3 convolutions 256, 128, 64, kernel
  3, stride 2 -> two FC to 128. shading [N, 1, 100, 100] -> [N, 128].
* landmark branch (Sec. 4.2): FC 1024, 512, 256, 128. distances [N, 2278] -> [N, 128].
* fusion: concatenation [N, 384] -> FC 512 -> FC 128 = the backbone output
  (D = 128); the aggregator's linear layer + softmax is the paper's classifier.

ReLU after every layer, dropout 0.4 after every hidden FC, Gaussian noise
(variance 0.5) added to the branch inputs in training. ``branches`` gives the
Table 6 ablations (base = 2D branch only).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Literal

import torch
from torch import nn

from ferbench.components import Backbone, InputSignature

from .geometry import NUM_DISTANCES

Branches = Literal["whole", "base", "base+landmark", "base+3d"]


@dataclasses.dataclass(frozen=True)
class FusionOptions:
    """Options of the ``recentral3d-fusion`` backbone (paper defaults).

    Attributes:
        branches: "whole" (2D+3D+landmark) or a Table 6 ablation: "base" (2D), "base+landmark", "base+3d".
        dropout: dropout rate after each hidden fully-connected layer (the paper: 0.4).
        noise_var: variance of the Gaussian noise added in training (the paper: 0.5); 0 = off.
        noise_on: inputs that get the noise: "images" (face crop, shading map), "all" (+ distances), "none".
        shading_hidden: width of the first of the 3D branch's two FC layers (unstated; 128).
    """

    branches: Branches = "whole"
    dropout: float = 0.4
    noise_var: float = 0.5
    noise_on: Literal["images", "all", "none"] = "images"
    shading_hidden: int = 128


def conv_bn(cin: int, cout: int, k: int, stride: int = 1, relu: bool = True) -> nn.Sequential:
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class ResBlock(nn.Module):
    """Keras-ResNet bottleneck: 1x1 (stride) -> 3x3 -> 1x1, plus identity or a 1x1 projection."""

    def __init__(self, cin: int, filters: tuple[int, int, int], stride: int = 1, project: bool = False) -> None:
        super().__init__()
        f1, f2, f3 = filters
        self.body = nn.Sequential(conv_bn(cin, f1, 1, stride), conv_bn(f1, f2, 3), conv_bn(f2, f3, 1, relu=False))
        self.shortcut = conv_bn(cin, f3, 1, stride, relu=False) if project else nn.Identity()
        if not project and (cin != f3 or stride != 1):
            raise ValueError(f"identity block needs cin == out and stride 1, got {cin}->{f3}, stride {stride}")
        self.act = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


def mlp(sizes: list[int], dropout: float) -> nn.Sequential:
    """FC layers ``sizes[0] -> ... -> sizes[-1]``, each followed by ReLU and dropout."""
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU(inplace=True), nn.Dropout(dropout)]
    return nn.Sequential(*layers)


def _flat_dim(trunk: nn.Module, shape: tuple[int, int, int]) -> int:
    with torch.no_grad():
        was = trunk.training
        trunk.eval()
        n = trunk(torch.zeros(1, *shape)).numel()
        trunk.train(was)
    return n


class Branch2D(nn.Module):
    """Face crop [N, C, H, W] -> [N, 128] (Sec. 4.3; 7 convolutions, max-pool 4, FC 1024, 1024, 128)."""

    def __init__(self, channels: int, size: int, dropout: float) -> None:
        super().__init__()
        self.trunk = nn.Sequential(
            conv_bn(channels, 128, 7, 2),
            ResBlock(128, (64, 64, 128)),
            ResBlock(128, (64, 64, 256), stride=2, project=True),
            nn.MaxPool2d(4),
            nn.Flatten(),
        )
        self.head = mlp([_flat_dim(self.trunk, (channels, size, size)), 1024, 1024, 128], dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))


class BranchShading(nn.Module):
    """Shading map [N, 1, H, W] -> [N, 128] (Sec. 4.1; convs 256, 128, 64, k3 s2, two FC)."""

    def __init__(self, size: int, hidden: int, dropout: float) -> None:
        super().__init__()
        self.trunk = nn.Sequential(conv_bn(1, 256, 3, 2), conv_bn(256, 128, 3, 2), conv_bn(128, 64, 3, 2), nn.Flatten())
        self.head = mlp([_flat_dim(self.trunk, (1, size, size)), hidden, 128], dropout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.trunk(x))


class FusionBackbone(Backbone):
    """Per-frame fusion network: x (+ side inputs) [N, ...] -> [N, 128].

    With input ``shading3d`` x is the shading map [N, 1, 100, 100] and the side
    inputs are ``face`` [N, 3, 100, 100] and ``landmark_distances`` [N, 2278];
    with input ``landmarks`` x is the face crop and only the landmark branch
    uses a side input (so the 3D branch is unavailable).
    """

    out_dim = 128

    def __init__(self, options: FusionOptions, signature: InputSignature) -> None:
        super().__init__()
        self.options = options
        use_3d = options.branches in ("whole", "base+3d")
        use_lm = options.branches in ("whole", "base+landmark")
        x_is_shading = signature.channels == 1 and "face" in signature.side
        if not x_is_shading and use_3d:
            raise ValueError(
                f"branches={options.branches} needs the shading map (input shading3d: 1 channel + side 'face'); "
                "use --input shading3d or --backbone-opt branches=base+landmark"
            )
        if not x_is_shading and signature.channels != 3:
            raise ValueError(f"the 2D branch needs a 3-channel face crop as x, got {signature.channels} channels")
        if use_lm and "landmark_distances" not in signature.side:
            raise ValueError("the landmark branch needs side input 'landmark_distances' (inputs shading3d, landmarks)")
        self.x_is_shading = x_is_shading
        side = []
        if x_is_shading:
            side.append("face")
            face_shape = signature.side["face"][-3:]
        else:
            face_shape = (signature.channels, signature.height, signature.width)
        if face_shape[1] != face_shape[2]:
            raise ValueError(f"the face crop must be square, got {face_shape}")
        if use_lm:
            side.append("landmark_distances")
            n_dist = signature.side["landmark_distances"][-1]
            if n_dist != NUM_DISTANCES:
                raise ValueError(f"landmark_distances must have {NUM_DISTANCES} values, got {n_dist}")
        self.side_inputs = tuple(side)
        self.branch_2d = Branch2D(face_shape[0], face_shape[1], options.dropout)
        self.branch_3d = BranchShading(signature.height, options.shading_hidden, options.dropout) if use_3d else None
        self.branch_lm = mlp([NUM_DISTANCES, 1024, 512, 256, 128], options.dropout) if use_lm else None
        width = 128 * (1 + int(use_3d) + int(use_lm))
        self.fusion = mlp([width, 512, 128], options.dropout)
        self.noise_std = math.sqrt(max(options.noise_var, 0.0))

    def _noisy(self, t: torch.Tensor, image: bool) -> torch.Tensor:
        o = self.options
        if not self.training or self.noise_std == 0 or o.noise_on == "none" or (o.noise_on == "images" and not image):
            return t
        return t + torch.randn_like(t) * self.noise_std

    def forward(self, x: torch.Tensor, face: torch.Tensor | None = None,
                landmark_distances: torch.Tensor | None = None) -> torch.Tensor:
        face_img = face if self.x_is_shading else x
        feats = [self.branch_2d(self._noisy(face_img, True))]
        if self.branch_3d is not None:
            feats.append(self.branch_3d(self._noisy(x, True)))
        if self.branch_lm is not None:
            feats.append(self.branch_lm(self._noisy(landmark_distances, False)))
        return self.fusion(torch.cat(feats, dim=1))


def build_fusion(options: FusionOptions, signature: InputSignature) -> FusionBackbone:
    return FusionBackbone(options, signature)
