"""Typed options of the relgan components (paper defaults unless a field says otherwise).

Architecture (Sec. 4.1): encoders G_es / G_et are five 3x3 stride-1 conv
blocks of ``base_channels * (1, 2, 4, 8, 8)`` = 64, 128, 256, 512, 512
channels, each followed by 2x2 down-sampling, then one FC layer to the
30-d expression code f(e) (G_es) or the 50-d identity code f(i) (G_et).
The decoder G_de has five up-sampling blocks of ``base_channels * (8, 4, 2,
1, 1/2)`` = 512, 256, 128, 64, 32 channels. The discriminator has four
shared blocks of ``disc_channels * (1, 2, 4, 8)`` = 16, 32, 64, 128 channels
and a 1024-d FC, then two branches FC 512 -> FC 256 -> classifier.
"""

from __future__ import annotations

import dataclasses

from ferbench.errors import OptionError


def _check_arch(owner: str, base_channels: int, image_size: int, expression_dim: int) -> None:
    problems = []
    if base_channels < 2 or base_channels % 2:
        problems.append(f"base_channels must be an even number >= 2, got {base_channels}")
    if image_size < 32 or image_size % 32:
        problems.append(f"image_size must be a multiple of 32 (five 2x down-samplings), got {image_size}")
    if expression_dim < 1:
        problems.append(f"expression_dim must be >= 1, got {expression_dim}")
    if problems:
        raise OptionError(f"{owner}: " + "; ".join(problems))


@dataclasses.dataclass(frozen=True)
class EncoderOptions:
    """Options of the backbones ``relgan-encoder`` (frozen G_es) and ``relgan-cnn`` (G_es trained end to end).

    Must describe the same G_es as the ``relgan`` disentangler's options
    (``base_channels``, ``expression_dim``, ``image_size``): the disentangler
    loads its pre-trained G_es into ``relgan-encoder`` and refuses a mismatch.

    Attributes:
        base_channels: channels of the first encoder block (paper 64 -> 64, 128, 256, 512, 512).
        expression_dim: size of f(e), the backbone's output D (paper 30).
        image_size: side in pixels G_es works on (paper 96); frames of another size are resized
            to image_size * 17/16 and centre-cropped to image_size (the view of the centre crop
            of the training augmentation).
    """

    base_channels: int = 64
    expression_dim: int = 30
    image_size: int = 96

    def __post_init__(self) -> None:
        _check_arch("backbone relgan-encoder/relgan-cnn", self.base_channels, self.image_size, self.expression_dim)


@dataclasses.dataclass(frozen=True)
class MLPOptions:
    """Options of the aggregator ``relgan-mlp``: masked mean of f(e) over frames, then an MLP.

    Attributes:
        hidden: width of each hidden layer (the paper says "a simple MLP" without sizes; 256 is ours).
        layers: number of hidden layers (ReLU); 0 = a linear classifier.
        dropout: dropout before each linear layer after the first.
    """

    hidden: int = 256
    layers: int = 1
    dropout: float = 0.0

    def __post_init__(self) -> None:
        if self.hidden < 1 or self.layers < 0 or not 0.0 <= self.dropout < 1.0:
            raise OptionError(f"aggregator relgan-mlp: need hidden >= 1, layers >= 0, 0 <= dropout < 1, got {self}")


@dataclasses.dataclass(frozen=True)
class RelGANOptions:
    """Options of the disentangler ``relgan`` (REL-GAN pre-training, Sec. 3-4.1).

    Attributes:
        base_channels: G_es / G_et first-block channels (paper 64); must equal the backbone's.
        expression_dim: size of f(e) (paper 30); must equal the backbone's.
        identity_dim: size of f(i) (paper 50).
        image_size: side G works on (paper 96); must equal the backbone's.
        disc_channels: first discriminator block's channels (paper 16 -> 16, 32, 64, 128).
        disc_fc: shared discriminator FC width (paper 1024).
        lambda_adv: lambda_1 of Eq. 4, weight of the generator's adversarial term (paper 0.7).
        lambda_pixel: lambda_2, weight of the L1 pixel loss of Eq. 3 (paper 20).
        lambda_de: lambda_3, weight of the expression-classification term of Eq. 2 (paper 50).
        lambda_di: lambda_4, weight of the identity-classification term of Eq. 2 (paper 30).
        lr: Adam learning rate of G and D (paper 1e-4).
        beta1: Adam beta_1 ("momentum", paper 0.5).
        batch_size: training pairs per step (paper 64).
        steps: GAN iterations per fold (paper ~280k; scaled down ~1000x, still hours on CPU at paper size).
            The paper trains 300 epochs on 60,600 BU-4DFE images; about a minute per step of 64 pairs
            on a 2-core CPU at paper size; 0 skips training (random G_es, a control).
        g_steps: G updates per D update once D is near optimal (the paper updates G "more often").
        d_optimal: D is near optimal above this running accuracy on real expressions and identities.
        apex_frames: frames per training sample in the pair bank, nearest the apex (paper: last 3).
            The apex is ``Sample.apex``, else the last frame.
        augment: the paper's augmentation: 5 crops (centre, corners) x rotations 0, +-3, +-6 deg x flips.
        pixel_warmup: first steps in which G trains on lambda_2 L_pixel alone and D is not trained
            (paper: 0, G and D from the start). A small-budget aid: G learns to reconstruct faces before
            the classification and adversarial terms act (at CPU scale they still pull G off the faces
            with the paper's lambdas; README "Measured"). Counts towards ``steps``.
        log_every: log the GAN losses (and the copy-x_t L1 baseline ``copy_t_pixel``) every this many steps.
    """

    base_channels: int = 64
    expression_dim: int = 30
    identity_dim: int = 50
    image_size: int = 96
    disc_channels: int = 16
    disc_fc: int = 1024
    lambda_adv: float = 0.7
    lambda_pixel: float = 20.0
    lambda_de: float = 50.0
    lambda_di: float = 30.0
    lr: float = 1e-4
    beta1: float = 0.5
    batch_size: int = 64
    steps: int = 300
    g_steps: int = 2
    d_optimal: float = 0.9
    apex_frames: int = 3
    augment: bool = True
    pixel_warmup: int = 0
    log_every: int = 50

    def __post_init__(self) -> None:
        _check_arch("disentangler relgan", self.base_channels, self.image_size, self.expression_dim)
        problems = []
        if self.identity_dim < 1 or self.disc_channels < 1 or self.disc_fc < 1:
            problems.append("identity_dim, disc_channels and disc_fc must be >= 1")
        if self.batch_size < 2 or self.steps < 0 or self.g_steps < 1 or self.apex_frames < 1:
            problems.append("need batch_size >= 2, steps >= 0, g_steps >= 1, apex_frames >= 1")
        if self.pixel_warmup < 0:
            problems.append(f"pixel_warmup must be >= 0, got {self.pixel_warmup}")
        if self.log_every < 1:
            problems.append("log_every must be >= 1")
        if problems:
            raise OptionError("disentangler relgan: " + "; ".join(problems))

    def encoder_options(self) -> EncoderOptions:
        """The backbone options that describe the same G_es."""
        return EncoderOptions(self.base_channels, self.expression_dim, self.image_size)
