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


def apex_window(n: int, apex: int | None, k: int) -> tuple[int, int]:
    """[lo, hi) of the ``k`` frames (of ``n``) ending at the apex frame ``apex`` (None or < 0: the last
    frame); ``k <= 0``: the whole clip. The peak frames of papers that classify "the last three frames"."""
    if k <= 0:
        return 0, n
    end = n - 1 if apex is None or apex < 0 else min(int(apex), n - 1)
    return max(0, end - k + 1), end + 1
