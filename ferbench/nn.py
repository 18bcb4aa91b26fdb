"""Tensor helpers shared by components (the public surface plugins build on).

Anything more than one component needs lives here rather than inside a
built-in component's module, so plugins never import ``ferbench.builtin``.
"""

from __future__ import annotations

import torch


def masked_mean(features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over time of the valid frames: [B, T, D] (+ bool mask [B, T], True = valid) -> [B, D].

    A sequence without any valid frame gives zeros (no division by zero).
    """
    if mask is None:
        return features.mean(dim=1)
    m = mask.to(features.dtype).unsqueeze(-1)
    return (features * m).sum(1) / m.sum(1).clamp_min(1.0)


def masked_max(features: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Max over time of the valid frames: [B, T, D] (+ bool mask [B, T]) -> [B, D] (zeros when none is valid)."""
    if mask is None:
        return features.max(dim=1).values
    filled = features.masked_fill(~mask.unsqueeze(-1), float("-inf")).max(dim=1).values
    return torch.where(torch.isfinite(filled), filled, torch.zeros_like(filled))
