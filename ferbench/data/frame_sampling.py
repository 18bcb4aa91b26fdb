"""Choosing T frame positions out of N (TSN-style segments)."""

from __future__ import annotations

import torch


def segment_indices(n: int, t: int, *, train: bool, generator: torch.Generator) -> torch.Tensor:
    """T frame positions spread uniformly over N frames.

    The N frames are cut into T equal segments; training draws one random
    frame per segment, evaluation takes each segment's centre. With N < T,
    positions repeat (still in temporal order).

    Returns:
        int64 tensor [T] of positions in [0, N).
    """
    edges = torch.linspace(0, n, t + 1, dtype=torch.float64)
    if train:
        offsets = torch.rand(t, generator=generator, dtype=torch.float64)
    else:
        offsets = torch.full((t,), 0.5, dtype=torch.float64)
    pos = edges[:-1] + offsets * (edges[1:] - edges[:-1])
    return pos.floor().clamp_(0, n - 1).long()
