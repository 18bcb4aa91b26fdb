"""Seeds derived from integers: one place that turns (seed, fold, epoch, ...) into a generator seed."""

from __future__ import annotations

from .options import stable_hash


def mix_seed(*parts: int) -> int:
    """A 63-bit seed derived from integers (order-sensitive): ``mix_seed(seed, fold, epoch)``."""
    return int(stable_hash([int(p) for p in parts], length=15), 16)
