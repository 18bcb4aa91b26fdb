"""Optimisers, learning-rate schedules and losses from :class:`TrainOptions`."""

from __future__ import annotations

import math
from typing import Callable, Iterable

import torch

from ..losses import cross_entropy, focal_loss
from .config import TrainOptions


def make_optimizer(params: Iterable[torch.nn.Parameter], t: TrainOptions) -> torch.optim.Optimizer:
    params = [p for p in params if p.requires_grad]
    if t.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=t.lr, weight_decay=t.weight_decay)
    if t.optimizer == "adam":
        return torch.optim.Adam(params, lr=t.lr, weight_decay=t.weight_decay)
    return torch.optim.SGD(params, lr=t.lr, momentum=t.momentum, weight_decay=t.weight_decay)


def lr_factor(epoch: int, t: TrainOptions) -> float:
    """Multiplier of ``t.lr`` during (0-based) ``epoch``."""
    if t.schedule == "step":
        return t.gamma ** (epoch // max(1, t.step_size))
    if t.schedule == "cosine":
        if t.cosine_period > 0:  # CosineAnnealingLR(T_max=cosine_period) from epoch 0, dampened by the warm-up
            warm = min(1.0, (epoch + 1) / t.warmup_epochs) if t.warmup_epochs else 1.0
            return warm * 0.5 * (1 + math.cos(math.pi * epoch / t.cosine_period))
        if epoch < t.warmup_epochs:
            return (epoch + 1) / (t.warmup_epochs + 1)
        span = max(1, t.epochs - t.warmup_epochs)
        return 0.5 * (1 + math.cos(math.pi * (epoch - t.warmup_epochs) / span))
    return 1.0


def make_scheduler(opt: torch.optim.Optimizer, t: TrainOptions) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-epoch schedule (stepped once at the end of each epoch)."""
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda e: lr_factor(e, t))


def make_criterion(t: TrainOptions) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Per-sample loss ([B, K], [B]) -> [B]."""
    if t.loss == "focal":
        alpha = t.focal_alpha or None
        return lambda logits, y: focal_loss(logits, y, gamma=t.focal_gamma, alpha=alpha)
    return lambda logits, y: cross_entropy(logits, y, label_smoothing=t.label_smoothing)
