"""Clip-based feature encoder (CFE, Sec. 3.2): SAL (Eq. 1) then LRL (Eqs. 2-3).

Shapes: M = B * n clips, K frames per clip, D feature size (512 for the
ResNet-18 global-average-pooled features f_{k,i}). ``mask`` is bool [M, K],
True = a real frame.
"""

from __future__ import annotations

import torch
from torch import nn


def _valid(mask: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    """bool [M, K] mask; all True when ``mask`` is None."""
    if mask is None:
        return torch.ones(like.shape[:2], dtype=torch.bool, device=like.device)
    return mask


class SelfAttentionLearning(nn.Module):
    """SAL, Eq. 1: f' = softmax(I_Q I_K^T / sqrt(d)) I_V inside each clip.

    I [M, K, D] -> f' [M, K, D] and the attention [M, K, K] (rows sum to one).
    I_Q = W^Q I, I_K = W^K I, I_V = W^V I are D x D linear maps without bias.
    Padded frames are never attended to.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.query = nn.Linear(dim, dim, bias=False)
        self.key = nn.Linear(dim, dim, bias=False)
        self.value = nn.Linear(dim, dim, bias=False)
        self.scale = dim ** -0.5

    def forward(self, clip: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        scores = self.query(clip) @ self.key(clip).transpose(1, 2) * self.scale  # [M, K, K]
        valid = _valid(mask, clip)
        valid = valid | ~valid.any(1, keepdim=True)  # an all-padded clip attends everywhere (it is masked later)
        scores = scores.masked_fill(~valid[:, None, :], float("-inf"))
        attention = scores.softmax(dim=-1)
        return attention @ self.value(clip), attention


class LocalGlobalRelation(nn.Module):
    """LRL, Eqs. 2-3: frame weights from [clip summary : frame] and the weighted clip feature.

    f' [M, K, D] -> R [M, D], w [M, K]:
    f̂' = mean_k f'_k (the pooled clip summary), w_k = sigmoid([f̂' : f'_k]^T q0)
    (Eq. 2; q0 is an FC 2D -> 1), R = (Σ_k w_k f'_k / Σ_k w_k) q1 (Eq. 3; q1 an
    FC D -> D). Padded frames get w_k = 0.
    """

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.q0 = nn.Linear(2 * dim, 1)
        self.q1 = nn.Linear(dim, dim)

    def forward(self, frames: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        m = _valid(mask, frames).to(frames.dtype)  # [M, K]
        summary = (frames * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True).clamp_min(1.0)  # f̂' [M, D]
        pair = torch.cat([summary.unsqueeze(1).expand_as(frames), frames], dim=-1)  # [f̂' : f'_k] [M, K, 2D]
        w = torch.sigmoid(self.q0(pair)).squeeze(-1) * m  # Eq. 2, [M, K]
        pooled = (w.unsqueeze(-1) * frames).sum(1) / w.sum(1, keepdim=True).clamp_min(1e-6)
        return self.q1(pooled), w  # Eq. 3


class ClipFeatureEncoder(nn.Module):
    """CFE: frame features of a clip [M, K, D] -> clip feature R [M, D] (+ frame weights [M, K]).

    ``sal=False`` skips Eq. 1 (f' = f); ``lrl=False`` replaces Eqs. 2-3 by the
    plain mean of f' over the clip's frames (w_k = 1): the switches of Table 6.
    """

    def __init__(self, dim: int, *, sal: bool = True, lrl: bool = True) -> None:
        super().__init__()
        self.sal = SelfAttentionLearning(dim) if sal else None
        self.lrl = LocalGlobalRelation(dim) if lrl else None

    def forward(self, clip: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        f = self.sal(clip, mask)[0] if self.sal is not None else clip
        if self.lrl is not None:
            return self.lrl(f, mask)
        m = _valid(mask, f).to(f.dtype)
        return (f * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True).clamp_min(1.0), m
