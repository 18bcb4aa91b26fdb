"""REL-GAN networks (Sec. 3, Sec. 4.1, Fig. 2): encoders, decoder, generator, multi-task discriminator.

Shapes: images [N, C, S, S] with S = ``image_size`` (paper 96), codes
f(e) [N, 30] and f(i) [N, 50]. Images live in the space of the run's input
(e.g. ImageNet-normalised RGB), so the decoder's last layer is linear.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

#: encoder block channels as multiples of base_channels (paper: 64, 128, 256, 512, 512)
ENCODER_MULT = (1, 2, 4, 8, 8)
#: decoder block channels as multiples of base_channels (paper: 512, 256, 128, 64, 32)
DECODER_MULT = (8, 4, 2, 1, 0.5)
#: discriminator shared block channels as multiples of disc_channels (paper: 16, 32, 64, 128)
DISC_MULT = (1, 2, 4, 8)
#: the two FC layers of each discriminator branch (paper: 512, 256)
DISC_BRANCH = (512, 256)


def fit_to(x: torch.Tensor, size: int) -> torch.Tensor:
    """[N, C, H, W] -> [N, C, size, size]: resize to size*17/16 and take the centre crop.

    The 17/16 margin is the one the five-crop augmentation cuts from
    (``pairs.augment``), so evaluation sees the training crops' view and scale.
    """
    m = size // 32
    big = F.interpolate(x, size=(size + 2 * m, size + 2 * m), mode="bilinear", align_corners=False, antialias=True)
    return big[..., m : m + size, m : m + size]


class Encoder(nn.Module):
    """G_es or G_et: five [3x3 stride-1 conv, BN, LeakyReLU(0.2), 2x2 max-pool] blocks, then FC.

    [N, C, S, S] -> [N, code_dim]; the last block leaves [N, 8*base, S/32, S/32].
    """

    def __init__(self, in_channels: int, base_channels: int, code_dim: int, image_size: int) -> None:
        super().__init__()
        chans = [in_channels] + [base_channels * m for m in ENCODER_MULT]
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [nn.Conv2d(cin, cout, 3, stride=1, padding=1, bias=False), nn.BatchNorm2d(cout),
                       nn.LeakyReLU(0.2, inplace=True), nn.MaxPool2d(2)]
        self.blocks = nn.Sequential(*layers)
        self.image_size = image_size
        side = image_size // 32
        self.fc = nn.Linear(chans[-1] * side * side, code_dim)
        self.code_dim = code_dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(self.blocks(x).flatten(1))


class Decoder(nn.Module):
    """G_de: FC from the concatenated code to [8*base, S/32, S/32], five
    [2x nearest up-sampling, 3x3 stride-1 conv, BN, ReLU] blocks, then a 3x3 conv to C channels.

    [N, code_dim] -> [N, C, S, S].
    """

    def __init__(self, code_dim: int, base_channels: int, out_channels: int, image_size: int) -> None:
        super().__init__()
        self.side = image_size // 32
        self.start = base_channels * ENCODER_MULT[-1]
        self.fc = nn.Sequential(nn.Linear(code_dim, self.start * self.side * self.side), nn.ReLU(inplace=True))
        chans = [self.start] + [int(base_channels * m) for m in DECODER_MULT]
        layers: list[nn.Module] = []
        for cin, cout in zip(chans[:-1], chans[1:]):
            layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(cin, cout, 3, stride=1, padding=1, bias=False),
                       nn.BatchNorm2d(cout), nn.ReLU(inplace=True)]
        self.blocks = nn.Sequential(*layers)
        self.out = nn.Conv2d(chans[-1], out_channels, 3, padding=1)

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        h = self.fc(code).view(code.shape[0], self.start, self.side, self.side)
        return self.out(self.blocks(h))


class Generator(nn.Module):
    """G = (G_es, G_et, G_de): x_bar = G_de([G_es(x_s), G_et(x_t)]).

    ``forward(x_s [N, C, S, S], x_t [N, C, S, S]) -> x_bar [N, C, S, S]``.
    """

    def __init__(self, channels: int, base_channels: int, expression_dim: int, identity_dim: int, image_size: int) -> None:
        super().__init__()
        self.g_es = Encoder(channels, base_channels, expression_dim, image_size)
        self.g_et = Encoder(channels, base_channels, identity_dim, image_size)
        self.g_de = Decoder(expression_dim + identity_dim, base_channels, channels, image_size)
        self.image_size = image_size

    def forward(self, x_s: torch.Tensor, x_t: torch.Tensor) -> torch.Tensor:
        return self.g_de(torch.cat([self.g_es(x_s), self.g_et(x_t)], dim=1))


class Discriminator(nn.Module):
    """Multi-task D = [D^e, D^i]: four shared [3x3 conv, BN, LeakyReLU, 2x2 max-pool] blocks
    (16, 32, 64, 128), FC 1024, then two branches FC 512 -> FC 256 -> classifier.

    ``forward(x [N, C, S, S]) -> (logits_e [N, N_e + 1], logits_i [N, N_i])``; class N_e of
    D^e (0-based, the last) is "fake".
    """

    def __init__(self, channels: int, num_expressions: int, num_identities: int, image_size: int,
                 disc_channels: int = 16, disc_fc: int = 1024) -> None:
        super().__init__()
        chans = [channels] + [disc_channels * m for m in DISC_MULT]
        layers: list[nn.Module] = []
        for i, (cin, cout) in enumerate(zip(chans[:-1], chans[1:])):
            layers += [nn.Conv2d(cin, cout, 3, padding=1, bias=i == 0)]
            if i > 0:
                layers += [nn.BatchNorm2d(cout)]
            layers += [nn.LeakyReLU(0.2, inplace=True), nn.MaxPool2d(2)]
        side = image_size // 16
        self.shared = nn.Sequential(*layers, nn.Flatten(), nn.Linear(chans[-1] * side * side, disc_fc), nn.LeakyReLU(0.2, inplace=True))
        self.num_expressions, self.num_identities = num_expressions, num_identities

        def branch(out: int) -> nn.Sequential:
            a, b = DISC_BRANCH
            return nn.Sequential(nn.Linear(disc_fc, a), nn.LeakyReLU(0.2, inplace=True), nn.Linear(a, b),
                                 nn.LeakyReLU(0.2, inplace=True), nn.Linear(b, out))

        self.d_e = branch(num_expressions + 1)
        self.d_i = branch(num_identities)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        h = self.shared(x)
        return self.d_e(h), self.d_i(h)
