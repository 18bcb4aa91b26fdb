"""The asymmetric autoencoder of Table I and the WGAN critic used to refine it.

Table I (input [C, H, W] = [1, 112, 112] in the paper; C, H, W follow the run's
input here, H and W must be multiples of 16):

==========  ======  ==================  ======  =======================
layer       kernel  output              stride  other
==========  ======  ==================  ======  =======================
PreProcess  -       [C, H, W]           -       dropout 0.1
E-Conv-a    3x3     [16, H/2, W/2]      2       BN, LeakyReLU 0.01, DP
E-Conv-b    3x3     [32, H/4, W/4]      2       BN, LeakyReLU 0.01, DP
E-Conv-c    3x3     [64, H/8, W/8]      2       BN, LeakyReLU 0.01, DP
E-Conv-d    3x3     [80, H/16, W/16]    2       BN, Tanh
E-FC        -       64                  -
D-FC        -       80 x H/16 x W/16    -
D-TConv-c   3x3     [64, H/8, W/8]      2       2 x ResBlock, ReLU
D-TConv-b   3x3     [32, H/4, W/4]      2       2 x ResBlock, ReLU
D-TConv-a   3x3     [16, H/2, W/2]      2       2 x ResBlock, ReLU
D-TConv-t   3x3     [16, H, W]          2       2 x ResBlock, ReLU
D-TConv-o   3x3     [C, H, W]           1 (*)   1 x ResBlock
==========  ======  ==================  ======  =======================

(*) Table I prints stride 2 for D-TConv-o, but its output keeps the 112x112
size of its input, so it is a stride-1 layer. Its single ResBlock runs on the
16 channels before the projection to C channels (a ResBlock on one channel
would be a 1-channel bottleneck). Nine ResBlocks in all, as Sec. IV-B says.
The decoder output is linear (no activation), so the autoencoder also fits
inputs that are not scaled to [-1, 1].

The five scales of Eq. 4 are the input and the outputs of E-Conv-a..d; the
decoder recovers them at D-TConv-o, -a, -b, -c and D-FC respectively.
"""

from __future__ import annotations

import torch
from torch import nn

ENC_CHANNELS = (16, 32, 64, 80)
CODE_DIM = 64


class ResBlock(nn.Module):
    """Basic residual block (He et al. 2016): x + BN(conv(ReLU(BN(conv(x))))), shape-preserving."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
            nn.ReLU(inplace=True),
            nn.Conv2d(channels, channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(channels),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


def _up(cin: int, cout: int, resblocks: int, relu: bool = True) -> nn.Sequential:
    """3x3 transposed conv, stride 2 (doubles H and W), then ``resblocks`` ResBlocks (and ReLU)."""
    layers: list[nn.Module] = [nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1)]
    layers += [ResBlock(cout) for _ in range(resblocks)]
    if relu:
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class AsymmetricAutoencoder(nn.Module):
    """Table I. ``encode``: [N, C, H, W] -> code [N, 64]; ``decode``: code -> [N, C, H, W].

    Args:
        channels: C of the frames (1 for ``gray112``).
        height, width: frame size in pixels, multiples of 16.
        dropout: dropout probability of PreProcess and E-Conv-a..c (paper 0.1).
        leaky_slope: LeakyReLU slope (paper 0.01).
    """

    def __init__(self, channels: int = 1, height: int = 112, width: int = 112, dropout: float = 0.1, leaky_slope: float = 0.01) -> None:
        super().__init__()
        if height % 16 or width % 16 or height < 32 or width < 32:
            raise ValueError(f"the Table I autoencoder needs frame sides that are multiples of 16 and >= 32, got {height}x{width}")
        self.channels, self.height, self.width = channels, height, width
        self.bottom = (ENC_CHANNELS[-1], height // 16, width // 16)
        self.preprocess = nn.Dropout(dropout)
        c = (channels,) + ENC_CHANNELS
        self.enc = nn.ModuleList()
        for i in range(4):
            last = i == 3
            self.enc.append(nn.Sequential(
                nn.Conv2d(c[i], c[i + 1], 3, stride=2, padding=1, bias=False),
                nn.BatchNorm2d(c[i + 1]),
                nn.Tanh() if last else nn.LeakyReLU(leaky_slope, inplace=True),
                *([] if last else [nn.Dropout(dropout)]),
            ))
        flat = self.bottom[0] * self.bottom[1] * self.bottom[2]
        self.enc_fc = nn.Linear(flat, CODE_DIM)
        self.dec_fc = nn.Linear(CODE_DIM, flat)
        self.dec_c = _up(80, 64, 2)
        self.dec_b = _up(64, 32, 2)
        self.dec_a = _up(32, 16, 2)
        self.dec_t = _up(16, 16, 2)
        self.dec_o = nn.Sequential(ResBlock(16), nn.ConvTranspose2d(16, channels, 3, stride=1, padding=1))

    # ------------------------------------------------------------------ encoder
    def encode_features(self, x: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """x [N, C, H, W] -> (code [N, 64], [z_a, z_b, z_c, z_d] encoder features, Eq. 2)."""
        h = self.preprocess(x)
        feats = []
        for layer in self.enc:
            h = layer(h)
            feats.append(h)
        return self.enc_fc(h.flatten(1)), feats

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """H_e: [N, C, H, W] -> [N, 64]."""
        return self.encode_features(x)[0]

    # ------------------------------------------------------------------ decoder
    def decode_features(self, code: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """code [N, 64] -> (reconstruction [N, C, H, W], [^z_a, ^z_b, ^z_c, ^z_d] recovered features, Eq. 3)."""
        zd = self.dec_fc(code).view(-1, *self.bottom)
        zc = self.dec_c(zd)
        zb = self.dec_b(zc)
        za = self.dec_a(zb)
        out = self.dec_o(self.dec_t(za))
        return out, [za, zb, zc, zd]

    def decode(self, code: torch.Tensor) -> torch.Tensor:
        """H_d: [N, 64] -> [N, C, H, W]."""
        return self.decode_features(code)[0]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """H_d(H_e(x)): [N, C, H, W] -> [N, C, H, W]."""
        return self.decode(self.encode(x))

    @torch.no_grad()
    def neighbour(self, x: torch.Tensor, sigma: float, noise: torch.Tensor | None = None) -> torch.Tensor:
        """Semantic neighbour, Eq. 9: I_tr = H_d(H_e(I_o) + N), N ~ Normal(0, sigma^2 I_64).

        ``noise`` [N, 64] (already scaled) replaces the draw when given (shared noise per video).
        """
        code = self.encode(x)
        if noise is None:
            noise = sigma * torch.randn_like(code)
        return self.decode(code + noise)


def loss_ae(x: torch.Tensor, code_feats: list[torch.Tensor], recon: torch.Tensor, rec_feats: list[torch.Tensor],
            alphas: tuple[float, ...] = (4.0, 1.0, 1.0, 1.0, 1.0)) -> torch.Tensor:
    """Multi-scale reconstruction loss, Eq. 4: sum_l alpha_l / |z^l| * ||z^l - ^z^l||^2, averaged over the batch.

    Scales l = 0..4: the (clean) input, then E-Conv-a..d outputs. The encoder-side
    targets z^l (l >= 1) are constants (stop-gradient), so the encoder cannot lower
    the loss by shrinking its own features. Returns a scalar.
    """
    targets = [x] + [f.detach() for f in code_feats]
    preds = [recon] + list(rec_feats)
    total = x.new_zeros(())
    for a, z, zh in zip(alphas, targets, preds):
        total = total + a * (z - zh).pow(2).flatten(1).mean(1).mean()
    return total


class Critic(nn.Module):
    """WGAN critic D (Eq. 6): [N, C, H, W] -> [N] scores.

    The paper does not describe D; this one mirrors the encoder's conv stack
    (3x3 stride-2 convs, 16-32-64-80 channels, LeakyReLU 0.2, no BN as usual for
    a clipped-weight WGAN critic) followed by a linear score.
    """

    def __init__(self, channels: int = 1, height: int = 112, width: int = 112) -> None:
        super().__init__()
        c = (channels,) + ENC_CHANNELS
        layers: list[nn.Module] = []
        for i in range(4):
            layers += [nn.Conv2d(c[i], c[i + 1], 3, stride=2, padding=1), nn.LeakyReLU(0.2, inplace=True)]
        self.features = nn.Sequential(*layers, nn.Flatten())
        self.score = nn.Linear(ENC_CHANNELS[-1] * (height // 16) * (width // 16), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.score(self.features(x)).squeeze(1)
