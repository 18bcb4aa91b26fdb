"""Per-sample classification losses ([B, K] logits, [B] targets -> [B])."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, label_smoothing: float = 0.0) -> torch.Tensor:
    """Softmax cross-entropy per sample."""
    return F.cross_entropy(logits.float(), target, reduction="none", label_smoothing=label_smoothing)


def focal_loss(
    logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0, alpha: float | None = None
) -> torch.Tensor:
    """Multi-class softmax focal loss per sample (Lin et al. 2017).

    FL = -alpha * (1 - p_t)^gamma * log(p_t); ``alpha=None`` means 1. With
    gamma=0 and alpha=None it equals cross-entropy.
    """
    logp_t = F.log_softmax(logits.float(), dim=-1).gather(1, target[:, None]).squeeze(1)
    loss = -((1.0 - logp_t.exp()).clamp_min(0.0) ** gamma) * logp_t
    return loss if alpha is None else alpha * loss
