"""The clip-based feature encoder as the authors' code builds it (``eian`` with ``variant=code``).

Read from CVLab-Liuyuanyuan/CEFLNet at commit bbef8a1 (``models/Model.py``),
written here independently. It differs from the paper's Eqs. 1-3
(:mod:`.cfe`) as follows:

* SAL (Model.py:113-115, 184-186): a 4-head ``MultiheadAttention(D, 4,
  dropout=0.1)`` over the clip's frames, then a residual connection with
  dropout 0.1 and a post-LayerNorm: f' = LayerNorm(f + Dropout(MHA(f, f, f))).
* LRL (Model.py:112, 117-120, 123, 187-196): the clip summary is the
  **max** over frames of f' (not the mean); each frame's pair is
  [f_k : summary] with the **raw backbone feature** f_k (not f'_k), 2D wide;
  w_k = sigmoid(Linear(2D, 1)(Dropout(0.5)(pair_k))); the weighted mean of
  the 2D-wide pairs goes through an FC 2D -> D.

Shapes: M = B * n clips, K frames per clip, D feature size; ``mask`` is bool
[M, K], True = a real frame (the official code has no padding; padded frames
are left out of the attention, the max and the weights here).
"""

from __future__ import annotations

import torch
from torch import nn

from ferbench.errors import IncompatibleCombinationError

#: attention heads of the official SAL (Model.py:95, nhead=4)
HEADS = 4


def _valid(mask: torch.Tensor | None, like: torch.Tensor) -> torch.Tensor:
    """bool [M, K]; all True when ``mask`` is None; an all-padded clip counts as all valid (masked later)."""
    if mask is None:
        return torch.ones(like.shape[:2], dtype=torch.bool, device=like.device)
    return mask | ~mask.any(1, keepdim=True)


class CodeSelfAttention(nn.Module):
    """f [M, K, D] -> f' = LayerNorm(f + Dropout_0.1(MHA_4(f, f, f))) [M, K, D], attention [M, K, K] (head mean)."""

    def __init__(self, dim: int, heads: int = HEADS, dropout: float = 0.1) -> None:
        super().__init__()
        if dim % heads:
            raise IncompatibleCombinationError(
                f"aggregator 'eian' variant=code needs a feature size divisible by its {heads} attention heads, "
                f"got D={dim}; use a backbone with such a D (resnet18: 512) or variant=paper"
            )
        self.attn = nn.MultiheadAttention(dim, heads, dropout=dropout, batch_first=True)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(dim)

    def forward(self, clip: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        padding = None if mask is None else ~_valid(mask, clip)
        out, weights = self.attn(clip, clip, clip, key_padding_mask=padding, need_weights=True)
        return self.norm(clip + self.dropout(out)), weights


class CodeLocalGlobalRelation(nn.Module):
    """raw f [M, K, D], attended f' [M, K, D] -> R [M, D], w [M, K] (the code's LRL, see the module docstring)."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dropout = nn.Dropout(0.5)
        self.weight = nn.Linear(2 * dim, 1)  # the code's ``beta`` (+ sigmoid)
        self.fc = nn.Linear(2 * dim, dim)

    def forward(self, raw: torch.Tensor, attended: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        valid = _valid(mask, raw)
        summary = attended.masked_fill(~valid.unsqueeze(-1), float("-inf")).amax(1)  # max over frames, [M, D]
        pair = torch.cat([raw, summary.unsqueeze(1).expand_as(raw)], dim=-1)  # [f_k : summary], [M, K, 2D]
        w = torch.sigmoid(self.weight(self.dropout(pair))).squeeze(-1) * valid.to(raw.dtype)  # [M, K]
        pooled = (w.unsqueeze(-1) * pair).sum(1) / w.sum(1, keepdim=True).clamp_min(1e-6)  # [M, 2D]
        return self.fc(pooled), w


class CodeClipFeatureEncoder(nn.Module):
    """The code's CFE: frame features of a clip [M, K, D] -> clip feature R [M, D] (+ frame weights [M, K]).

    ``sal=False`` sets f' = f; ``lrl=False`` replaces the LRL by the plain mean of f' over the
    clip's frames (w_k = 1, no FC). The official code has no such switches; they mirror the
    paper variant's Table 6 switches.
    """

    def __init__(self, dim: int, *, sal: bool = True, lrl: bool = True) -> None:
        super().__init__()
        self.sal = CodeSelfAttention(dim) if sal else None
        self.lrl = CodeLocalGlobalRelation(dim) if lrl else None

    def forward(self, clip: torch.Tensor, mask: torch.Tensor | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        attended = self.sal(clip, mask)[0] if self.sal is not None else clip
        if self.lrl is not None:
            return self.lrl(clip, attended, mask)
        m = (torch.ones(clip.shape[:2], dtype=torch.bool, device=clip.device) if mask is None else mask).to(clip.dtype)
        return (attended * m.unsqueeze(-1)).sum(1) / m.sum(1, keepdim=True).clamp_min(1.0), m
