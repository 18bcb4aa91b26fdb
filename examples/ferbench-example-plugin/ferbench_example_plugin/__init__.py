"""ferbench-example-plugin: the aggregator ``attention-pool``.

Frame features f_t [B, T, D] get scores s_t = w^T tanh(W f_t); the embedding
is sum_t softmax(s)_t f_t, classified by a linear layer. Attention weights are
returned in ``extras["attention"]`` [B, T].
"""

from __future__ import annotations

import dataclasses

import torch
from torch import nn

from ferbench.components import Aggregator, AggregatorOutput, ComponentSpec
from ferbench.hookspecs import hookimpl

__version__ = "0.1.0"


@dataclasses.dataclass(frozen=True)
class AttentionPoolOptions:
    """Options of ``attention-pool``.

    Attributes:
        hidden: size of the attention MLP's hidden layer.
    """

    hidden: int = 64


class AttentionPool(Aggregator):
    def __init__(self, options: AttentionPoolOptions, in_dim: int, num_classes: int) -> None:
        super().__init__()
        self.embedding_dim = in_dim
        self.score = nn.Sequential(nn.Linear(in_dim, options.hidden), nn.Tanh(), nn.Linear(options.hidden, 1))
        self.classifier = nn.Linear(in_dim, num_classes)

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> AggregatorOutput:
        scores = self.score(features).squeeze(-1)  # [B, T]
        if mask is not None:
            scores = scores.masked_fill(~mask, float("-inf"))
        attention = scores.softmax(dim=1)
        z = (attention.unsqueeze(-1) * features).sum(1)
        return AggregatorOutput(embedding=z, logits=self.classifier(z), extras={"attention": attention})


@hookimpl
def ferbench_aggregators() -> list[ComponentSpec]:
    return [
        ComponentSpec(
            kind="aggregator",
            name="attention-pool",
            factory=AttentionPool,
            options=AttentionPoolOptions,
            description="softmax attention pooling over frames (example third-party plugin)",
            paper="example",
        )
    ]
