"""Numbers the report derives from fold records: mean confusion, per-class recall, the Pareto front.

All percentages are in percent (0-100), like the records' metrics.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

import numpy as np

from ..results import FoldRecord

__all__ = ["ClassSummary", "class_summary", "pareto_front"]


@dataclasses.dataclass(frozen=True)
class ClassSummary:
    """Per-class numbers of a row, over its fold records.

    Attributes:
        confusion: [K, K] row-normalised confusion in percent (row = true class), the mean over the
            fold records whose true class has samples (NaN for a class no fold tests).
        recall_mean: [K] per-class recall, percent: the diagonal of ``confusion``.
        recall_std: [K] sample std (ddof=1) of the per-fold recall, percent; 0 with one fold.
        support: [K] test samples per class, summed over the fold records.
        folds_used: fold records with a K x K confusion matrix (others are left out).
    """

    confusion: np.ndarray
    recall_mean: np.ndarray
    recall_std: np.ndarray
    support: np.ndarray
    folds_used: int


def class_summary(records: Sequence[FoldRecord], k: int) -> ClassSummary | None:
    """The mean row-normalised confusion matrix and per-class recall of ``records``; None without any
    K x K ``confusion`` metric."""
    mats = []
    for r in records:
        m = np.asarray(r.metrics.get("confusion") or [], dtype=float)
        if k and m.shape == (k, k):
            mats.append(m)
    if not mats:
        return None
    counts = np.stack(mats)                                   # [F, K, K]
    totals = counts.sum(axis=2, keepdims=True)                # [F, K, 1]
    with np.errstate(invalid="ignore", divide="ignore"):
        rates = np.where(totals > 0, 100.0 * counts / np.where(totals > 0, totals, 1), np.nan)
    tested = (totals[..., 0] > 0)                             # [F, K]
    confusion = np.full((k, k), np.nan)
    recall_std = np.zeros(k)
    for c in range(k):
        folds = rates[tested[:, c], c, :]                     # [F_c, K]
        if len(folds):
            confusion[c] = folds.mean(axis=0)
            recall_std[c] = folds[:, c].std(ddof=1) if len(folds) > 1 else 0.0
        else:
            recall_std[c] = np.nan
    return ClassSummary(confusion, np.diag(confusion).copy(), recall_std, totals[..., 0].sum(axis=0), len(mats))


def pareto_front(costs: Sequence[float], scores: Sequence[float]) -> list[int]:
    """Indices of the points no other point beats: none has a cost as low or lower *and* a score as
    high or higher with one of them strictly better. Ordered by cost, ascending (the front's line)."""
    order = sorted(range(len(costs)), key=lambda i: (costs[i], -scores[i]))
    front: list[int] = []
    best = -np.inf
    for i in order:
        if scores[i] > best:
            front.append(i)
            best = scores[i]
    return front
