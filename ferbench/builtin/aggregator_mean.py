"""Aggregator ``mean``: masked average of frame features, then a linear classifier."""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from ..components import Aggregator, AggregatorOutput
from ..nn import masked_mean


@dataclasses.dataclass(frozen=True)
class MeanOptions:
    """Options of ``mean``.

    Attributes:
        dropout: dropout on the embedding before the classifier.
    """

    dropout: float = 0.0


class MeanAggregator(Aggregator):
    """[B, T, D] -> embedding [B, D], logits [B, K]."""

    def __init__(self, options: MeanOptions, in_dim: int, num_classes: int) -> None:
        super().__init__()
        self.embedding_dim = in_dim
        self.dropout = nn.Dropout(options.dropout)
        self.classifier = nn.Linear(in_dim, num_classes)

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> AggregatorOutput:
        z = masked_mean(features, mask)
        return AggregatorOutput(embedding=z, logits=self.classifier(self.dropout(z)))


def build_mean(options: MeanOptions, in_dim: int, num_classes: int) -> MeanAggregator:
    return MeanAggregator(options, in_dim, num_classes)
