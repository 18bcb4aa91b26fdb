"""The relgan components: backbones ``relgan-encoder`` / ``relgan-cnn``, aggregator ``relgan-mlp``,
disentangler ``relgan`` (REL-GAN pre-training as a cached stage, then G_es loaded and frozen)."""

from __future__ import annotations

import uuid
from typing import Any, Mapping

import torch
from torch import nn

from ferbench.nn import masked_mean
from ferbench.components import (
    Aggregator,
    AggregatorOutput,
    Backbone,
    Disentangler,
    InputSignature,
    ModelContext,
    Stage,
    StageContext,
)
from ferbench.errors import IncompatibleCombinationError
from ferbench.options import stable_hash

from .networks import Encoder, Generator, fit_to
from .options import EncoderOptions, MLPOptions, RelGANOptions
from .training import train_gan

FIX = "--backbone relgan-encoder --aggregator relgan-mlp --input-opt size=96"


class RelGANEncoderBackbone(Backbone):
    """G_es per frame: [N, C, H, W] -> f(e) [N, expression_dim].

    Frames are brought to ``image_size`` by :func:`networks.fit_to`.
    ``relgan-encoder`` (``frozen_by_stage``): the ``relgan`` disentangler's
    stage copies its pre-trained G_es in and freezes it (:meth:`load_encoder`:
    ``requires_grad=False``, G_es kept in eval mode so BatchNorm statistics
    stay fixed while the classifier trains, ``pretrained`` True). Until then
    it is trainable (without ``--disentangler relgan`` it trains end to end,
    like ``relgan-cnn``). ``relgan-cnn``: the paper's CNN baseline encoder,
    always trained end to end; the ``relgan`` disentangler refuses it.
    """

    def __init__(self, options: EncoderOptions, signature: InputSignature, *, frozen_by_stage: bool) -> None:
        super().__init__()
        self.options = options
        self.encoder = Encoder(signature.channels, options.base_channels, options.expression_dim, options.image_size)
        self.out_dim = options.expression_dim
        self.frozen_by_stage = frozen_by_stage
        self.register_buffer("pretrained", torch.zeros((), dtype=torch.bool))

    @property
    def frozen(self) -> bool:
        """True once a pre-trained G_es was loaded (and frozen)."""
        return bool(self.pretrained)

    def train(self, mode: bool = True) -> "RelGANEncoderBackbone":
        super().train(mode)
        if self.frozen:
            self.encoder.eval()
        return self

    def _load_from_state_dict(self, state_dict, prefix, *args, **kwargs):  # noqa: ANN001
        super()._load_from_state_dict(state_dict, prefix, *args, **kwargs)
        if self.frozen:  # a checkpoint of a stage-2 model: keep G_es frozen
            self.encoder.requires_grad_(False)
            self.encoder.eval()

    def load_encoder(self, g_es: Encoder) -> None:
        """Copy a trained G_es (same architecture) in, freeze it, mark ``pretrained``."""
        self.encoder.load_state_dict(g_es.state_dict())
        self.encoder.requires_grad_(False)
        self.encoder.eval()
        self.pretrained.fill_(True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.encoder(fit_to(x, self.options.image_size))


def build_encoder(options: EncoderOptions, signature: InputSignature) -> RelGANEncoderBackbone:
    return RelGANEncoderBackbone(options, signature, frozen_by_stage=True)


def build_cnn(options: EncoderOptions, signature: InputSignature) -> RelGANEncoderBackbone:
    return RelGANEncoderBackbone(options, signature, frozen_by_stage=False)


class RelGANMLP(Aggregator):
    """Masked mean of f(e) over frames [B, T, D] -> embedding [B, D], then an MLP -> logits [B, K]."""

    def __init__(self, options: MLPOptions, in_dim: int, num_classes: int) -> None:
        super().__init__()
        self.embedding_dim = in_dim
        layers: list[nn.Module] = []
        d = in_dim
        for i in range(options.layers):
            if i:
                layers.append(nn.Dropout(options.dropout))
            layers += [nn.Linear(d, options.hidden), nn.ReLU(inplace=True)]
            d = options.hidden
        if options.layers:
            layers.append(nn.Dropout(options.dropout))
        layers.append(nn.Linear(d, num_classes))
        self.mlp = nn.Sequential(*layers)

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> AggregatorOutput:
        z = masked_mean(features, mask)
        return AggregatorOutput(embedding=z, logits=self.mlp(z))


def build_mlp(options: MLPOptions, in_dim: int, num_classes: int) -> RelGANMLP:
    return RelGANMLP(options, in_dim, num_classes)


class _NoState(nn.Module):
    """Module of the G_es hand-over stage: nothing to cache."""


class RelGAN(Disentangler):
    """REL-GAN: stage 1 trains G = (G_es, G_et, G_de) against the multi-task D on
    (x_s, x_t, x_tg) pairs (cached per fold by the engine as stage ``gan``);
    stage ``load-g_es`` copies G_es into the run's ``relgan-encoder`` backbone
    and freezes it, so the classifier stage trains only the aggregator (the MLP).

    The generator is held outside this module's parameter tree, so the
    classifier stage neither optimises nor checkpoints it (the stage cache
    holds it). Adds no loss to the classifier stage.
    """

    def __init__(self, options: RelGANOptions, ctx: ModelContext) -> None:
        super().__init__()
        self.options = options
        self.num_expressions = ctx.num_classes
        self.channels = ctx.signature.channels
        self.__dict__["generator"] = Generator(
            ctx.signature.channels, options.base_channels, options.expression_dim, options.identity_dim, options.image_size
        )
        # a fresh key per instance: the engine caches every stage, but the hand-over must run in
        # every run, also when the GAN itself came from the cache (it writes an empty state file)
        self._handover_key = uuid.uuid4().hex

    @property
    def generator(self) -> Generator:
        return self.__dict__["generator"]

    def check_combination(self, components: Mapping[str, Any]) -> None:
        """Refuse, before any training, a backbone that is not the same G_es, frozen (ferbench's optional
        component check, docs/hooks.md)."""
        self._checked_backbone(components.get("backbone"))

    def _backbone(self, ctx: StageContext) -> RelGANEncoderBackbone:
        return self._checked_backbone(getattr(ctx.model, "backbone", None))

    def _checked_backbone(self, backbone: Any) -> RelGANEncoderBackbone:
        name = type(backbone).__name__
        if not isinstance(backbone, RelGANEncoderBackbone) or not backbone.frozen_by_stage:
            what = "relgan-cnn (trained end to end)" if isinstance(backbone, RelGANEncoderBackbone) else name
            raise IncompatibleCombinationError(
                f"disentangler 'relgan' pre-trains G_es for the frozen backbone 'relgan-encoder', but the run's backbone "
                f"is {what}; add {FIX} (for the CNN baseline use --backbone relgan-cnn --disentangler none)"
            )
        want = self.options.encoder_options()
        if backbone.options != want or backbone.encoder.blocks[0].in_channels != self.channels:
            raise IncompatibleCombinationError(
                f"backbone 'relgan-encoder' ({backbone.options}) and disentangler 'relgan' describe different G_es "
                f"({want}); set the same base_channels/expression_dim/image_size with --backbone-opt and --disentangler-opt"
            )
        return backbone

    def _train_gan(self, ctx: StageContext) -> None:
        self._backbone(ctx)  # fail before hours of GAN training
        train_gan(self.generator, ctx, self.options, self.num_expressions)

    def _hand_over(self, ctx: StageContext) -> None:
        backbone = self._backbone(ctx)
        backbone.load_encoder(self.generator.g_es.to(ctx.device))
        ctx.log("relgan: pre-trained G_es loaded into backbone relgan-encoder and frozen; training the classifier on f(e)")

    def stages(self) -> list[Stage]:
        key = stable_hash(["relgan-gan", 1, self.channels, self.num_expressions])
        return [
            Stage("gan", self.generator, self._train_gan, key=key),
            Stage("load-g_es", _NoState(), self._hand_over, key=self._handover_key),
        ]


def build_relgan(options: RelGANOptions, ctx: ModelContext) -> RelGAN:
    return RelGAN(options, ctx)
