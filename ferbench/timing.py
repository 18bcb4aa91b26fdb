"""Durations for people: ``75`` seconds -> ``"1m15s"``, and estimates of time left."""

from __future__ import annotations


def format_seconds(seconds: float) -> str:
    """``75`` -> ``"1m15s"``, ``3725`` -> ``"1h02m"``."""
    s = int(round(max(seconds, 0)))
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}m"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}s"
    return f"{s}s"


def eta_seconds(elapsed: float, done: float, total: float) -> float:
    """Seconds left when ``done`` of ``total`` units took ``elapsed`` seconds (0 when nothing is done yet)."""
    if done <= 0 or total <= done:
        return 0.0
    return elapsed / done * (total - done)
