"""Optimisers, learning-rate schedules and losses from :class:`TrainOptions`."""

from __future__ import annotations

import math
from typing import Callable, Iterable

import torch

from ..losses import cross_entropy, focal_loss
from .config import TrainOptions


def make_optimizer(params: Iterable[torch.nn.Parameter], options: TrainOptions) -> torch.optim.Optimizer:
    params = [p for p in params if p.requires_grad]
    if options.optimizer == "adamw":
        return torch.optim.AdamW(params, lr=options.lr, weight_decay=options.weight_decay)
    if options.optimizer == "adam":
        return torch.optim.Adam(params, lr=options.lr, weight_decay=options.weight_decay)
    return torch.optim.SGD(params, lr=options.lr, momentum=options.momentum, weight_decay=options.weight_decay)


def lr_factor(epoch: int, options: TrainOptions) -> float:
    """Multiplier of ``options.lr`` during (0-based) ``epoch``."""
    if options.schedule == "step":
        return options.gamma ** (epoch // max(1, options.step_size))
    if options.schedule == "cosine":
        if options.cosine_period > 0:  # CosineAnnealingLR(T_max=cosine_period) from epoch 0, dampened by the warm-up
            warm = min(1.0, (epoch + 1) / options.warmup_epochs) if options.warmup_epochs else 1.0
            return warm * 0.5 * (1 + math.cos(math.pi * epoch / options.cosine_period))
        if epoch < options.warmup_epochs:
            return (epoch + 1) / (options.warmup_epochs + 1)
        span = max(1, options.epochs - options.warmup_epochs)
        return 0.5 * (1 + math.cos(math.pi * (epoch - options.warmup_epochs) / span))
    return 1.0


def make_scheduler(opt: torch.optim.Optimizer, options: TrainOptions) -> torch.optim.lr_scheduler.LambdaLR:
    """Per-epoch schedule (stepped once at the end of each epoch)."""
    return torch.optim.lr_scheduler.LambdaLR(opt, lambda e: lr_factor(e, options))


def make_criterion(options: TrainOptions) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """Per-sample loss ([B, K], [B]) -> [B]."""
    if options.loss == "focal":
        alpha = options.focal_alpha or None
        return lambda logits, y: focal_loss(logits, y, gamma=options.focal_gamma, alpha=alpha)
    return lambda logits, y: cross_entropy(logits, y, label_smoothing=options.label_smoothing)
