"""Disentangler ``none`` and selector ``none``: no extra losses, every sample weight 1."""

from __future__ import annotations

from ..components import Disentangler, ModelContext, Selector
from ..options import NoOptions


class NoDisentangler(Disentangler):
    """Adds no loss."""


class NoSelector(Selector):
    """Keeps every sample (weight 1)."""


def build_no_disentangler(options: NoOptions, ctx: ModelContext) -> NoDisentangler:
    return NoDisentangler()


def build_no_selector(options: NoOptions, ctx: ModelContext) -> NoSelector:
    return NoSelector()
