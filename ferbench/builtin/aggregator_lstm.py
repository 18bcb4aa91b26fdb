"""Aggregator ``lstm``: an LSTM over frame features; the last valid hidden state is z."""

from __future__ import annotations

import contextlib
import dataclasses

import torch
from torch import nn

from ..components import Aggregator, AggregatorOutput


@dataclasses.dataclass(frozen=True)
class LSTMOptions:
    """Options of ``lstm``.

    Attributes:
        hidden: hidden size (the embedding dimension D').
        layers: stacked LSTM layers.
        dropout: dropout on the embedding before the classifier.
    """

    hidden: int = 256
    layers: int = 1
    dropout: float = 0.0


#: On CPU, batches up to this size run PyTorch's native LSTM kernel instead of oneDNN's:
#: at batch 1 (streaming inference) oneDNN's is ~3x slower; from batch ~8 on they are on par.
NATIVE_CPU_MAX_BATCH = 8


@contextlib.contextmanager
def _native_lstm_kernel(features: torch.Tensor):
    """oneDNN off for small CPU batches (same maths, float rounding aside)."""
    if features.is_cuda or features.shape[0] > NATIVE_CPU_MAX_BATCH or not torch.backends.mkldnn.is_available():
        yield
        return
    enabled = torch.backends.mkldnn.set_flags(False, None, None, None)[0]
    try:
        yield
    finally:
        torch.backends.mkldnn.set_flags(enabled, None, None, None)


class LSTMAggregator(Aggregator):
    """[B, T, D] (+ mask [B, T]) -> embedding [B, hidden], logits [B, K]."""

    def __init__(self, options: LSTMOptions, in_dim: int, num_classes: int) -> None:
        super().__init__()
        self.embedding_dim = options.hidden
        self.lstm = nn.LSTM(in_dim, options.hidden, num_layers=options.layers, batch_first=True)
        self.dropout = nn.Dropout(options.dropout)
        self.classifier = nn.Linear(options.hidden, num_classes)

    def forward(self, features: torch.Tensor, mask: torch.Tensor | None = None) -> AggregatorOutput:
        with _native_lstm_kernel(features):
            out, _ = self.lstm(features)  # [B, T, H]
        if mask is None:
            z = out[:, -1]
        else:  # hidden state at the last valid step of each sequence
            last = (mask.long().sum(1) - 1).clamp_min(0)
            z = out[torch.arange(out.shape[0], device=out.device), last]
        return AggregatorOutput(embedding=z, logits=self.classifier(self.dropout(z)))


def build_lstm(options: LSTMOptions, in_dim: int, num_classes: int) -> LSTMAggregator:
    return LSTMAggregator(options, in_dim, num_classes)
