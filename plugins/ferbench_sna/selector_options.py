"""Options of the ``sna`` selector: Algorithm 1 and the autoencoder's two training stages.

Paper values (Sec. IV-B) are given per option; where the default differs it is
scaled down for CPU runs on small datasets (the paper trains on ~280k AffectNet
images: ~1100 steps per epoch at batch 256). ``plugins/ferbench_sna/sna.toml``
holds the paper's full settings.
"""

from __future__ import annotations

import dataclasses
from typing import Literal

from ferbench.errors import OptionError

#: options that change the trained autoencoder (the rest only change how it is used)
AE_FIELDS = (
    "ae_epochs", "ae_batch_size", "ae_optimizer", "ae_lr", "ae_weight_decay", "ae_step", "ae_alpha_input",
    "ae_dropout", "refine_epochs", "refine_batch_size", "refine_lr", "critic_lr", "critic_every", "critic_clip",
    "lambda_ae", "lambda_ae_step", "lambda_adv", "lambda_rec", "lambda_pixel", "perceptual_weights",
    "perceptual", "perceptual_epochs", "perceptual_width",
)


@dataclasses.dataclass(frozen=True)
class SNAOptions:
    """Options of the ``sna`` selector.

    Attributes:
        threshold: "batch" = Ours(BT), T is the batch mean of Div (Eq. 14); a number = Ours(T),
            a fixed threshold on Div (nats). A sample is kept when Div < T (Eq. 11).
        sigma: standard deviation of the Gaussian noise N added to the 64-d code (Eq. 9; the paper gives none).
        shared_noise: one noise draw per video, shared by its T frames (False: one per frame).
        eval_mode: compute P_o and P_tr with the model in eval mode (no dropout, BN running stats),
            so Div measures the input perturbation only; False uses the training-mode forward.
        ae_epochs: stage 1 (Loss_AE) epochs (paper 50; scaled down for CPU).
        ae_batch_size: stage 1 frames per step (paper 256).
        ae_optimizer: stage 1 optimiser: "sgd" (paper, momentum 0.9) or "adam" (CPU default: converges in few steps).
        ae_lr: stage 1 learning rate (paper 1e-3).
        ae_weight_decay: stage 1 weight decay (paper 4e-4).
        ae_step: stage 1 learning rate x0.1 every this many epochs (paper 10); 0 = constant (CPU default:
            with few steps per epoch the paper's decay would stop learning early).
        ae_alpha_input: alpha_0 of Eq. 4 for the input scale (paper 4; other scales 1).
        ae_dropout: dropout of PreProcess and E-Conv-a..c (paper 0.1).
        refine_epochs: stage 2 (Loss_G, WGAN) epochs (paper 100; scaled down for CPU); 0 skips stage 2.
        refine_batch_size: stage 2 frames per step (paper 64).
        refine_lr: RMSprop learning rate of the decoder (paper 1e-4).
        critic_lr: RMSprop learning rate of the critic (paper 2e-5).
        critic_every: the critic is trained once per this many generator steps, every step in the first epoch (paper 10).
        critic_clip: WGAN weight clipping of the critic (Arjovsky et al.: 0.01).
        lambda_ae: weight of Loss_AE in Loss_G (paper 1e-3, x0.1 every lambda_ae_step epochs).
        lambda_ae_step: epochs between the x0.1 decays of lambda_ae (paper 20).
        lambda_adv: weight of Loss_Adv^G (paper 5).
        lambda_rec: weight of Loss_Rec (paper 1).
        lambda_pixel: weight of the pixel term of Loss_Rec (Eq. 5; not given in the paper).
        perceptual_weights: weights of the Conv3, Conv4, Conv5 feature terms of Loss_Rec (paper 100, 0.1, 0.001).
        perceptual: the FER network C of Eq. 5: "pretrain" = train the run's model (when its backbone
            exposes Table II layers, i.e. sna-multiscale) or else a private sna-multiscale network for
            perceptual_epochs epochs first ("our well-trained baseline"); "untrained" = same layers,
            random weights; "none" = pixel term only.
        perceptual_epochs: epochs of that baseline training (paper: a fully trained baseline).
        perceptual_width: channel multiplier of the private sna-multiscale network (fallback only).
        ae_cache_dir: optional folder where trained autoencoders are also cached under a key of only the
            options above that change them, the input, the fold's training samples and the seed (so runs
            that differ in threshold or sigma share one autoencoder); "" = engine stage cache only.
    """

    threshold: str = "batch"
    sigma: float = 0.1
    shared_noise: bool = True
    eval_mode: bool = True
    ae_epochs: int = 25
    ae_batch_size: int = 8
    ae_optimizer: Literal["adam", "sgd"] = "adam"
    ae_lr: float = 1e-3
    ae_weight_decay: float = 4e-4
    ae_step: int = 0
    ae_alpha_input: float = 4.0
    ae_dropout: float = 0.1
    refine_epochs: int = 2
    refine_batch_size: int = 16
    refine_lr: float = 1e-4
    critic_lr: float = 2e-5
    critic_every: int = 10
    critic_clip: float = 0.01
    lambda_ae: float = 1e-3
    lambda_ae_step: int = 20
    lambda_adv: float = 5.0
    lambda_rec: float = 1.0
    lambda_pixel: float = 1.0
    perceptual_weights: tuple[float, ...] = (100.0, 0.1, 0.001)
    perceptual: Literal["pretrain", "untrained", "none"] = "pretrain"
    perceptual_epochs: int = 1
    perceptual_width: float = 0.25
    ae_cache_dir: str = ""


def parse_threshold(value: str) -> float | None:
    """"batch" -> None (Ours(BT), Eq. 14); a number >= 0 -> that fixed threshold (Ours(T))."""
    text = str(value).strip().lower()
    if text in ("batch", "bt"):
        return None
    try:
        t = float(text)
    except ValueError:
        raise OptionError(f"selector 'sna': threshold={value!r} is neither 'batch' nor a number; use threshold=batch or e.g. threshold=0.05") from None
    if t < 0:
        raise OptionError(f"selector 'sna': threshold={t} is negative; Div >= 0, so use a threshold >= 0 or 'batch'")
    return t


def validate(o: SNAOptions) -> None:
    """One-line errors for values the stages cannot use."""
    if len(o.perceptual_weights) != 3:
        raise OptionError(f"selector 'sna': perceptual_weights needs 3 values (Conv3, Conv4, Conv5), got {o.perceptual_weights}")
    if o.ae_step < 0:
        raise OptionError(f"selector 'sna': ae_step={o.ae_step} must be >= 0 (0 = constant learning rate)")
    if o.ae_epochs < 0 or o.refine_epochs < 0 or o.perceptual_epochs < 0:
        raise OptionError("selector 'sna': ae_epochs, refine_epochs and perceptual_epochs must be >= 0")
    if o.ae_batch_size < 1 or o.refine_batch_size < 1 or o.critic_every < 1:
        raise OptionError("selector 'sna': ae_batch_size, refine_batch_size and critic_every must be >= 1")
    if o.sigma < 0:
        raise OptionError(f"selector 'sna': sigma={o.sigma} must be >= 0")
