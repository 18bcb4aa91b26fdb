"""Temporal clean-up of a face track: fill short gaps only, then smooth.

Boxes ``[N, 4]`` and landmarks ``[N, 5, 2]`` are in source pixels; rows of
NaN mark frames where the track's face was not found. A run of such frames
of at most ``max_gap`` frames is filled (linear interpolation between the
found frames around it; held at the nearest found frame at either end of the
clip); a longer run stays NaN: those frames are not *covered* by the track.
Smoothing never crosses an uncovered run.
"""

from __future__ import annotations

import numpy as np


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, stop) of each run of True in a bool [N]."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1).tolist(), np.flatnonzero(edges == -1).tolist()))


def fill_short_gaps(values: np.ndarray, max_gap: int) -> tuple[np.ndarray, np.ndarray]:
    """Fill NaN rows of ``values`` [N, ...] that lie in runs of at most ``max_gap`` frames.

    Returns (filled values [N, ...], covered [N] bool: found or filled). Rows
    in longer runs stay NaN and uncovered. Raises ValueError when every row is NaN.
    """
    flat = values.reshape(len(values), -1).astype(float)
    found = ~np.isnan(flat).any(axis=1)
    if not found.any():
        raise ValueError("no frame has a value")
    out, covered = flat.copy(), found.copy()
    t = np.flatnonzero(found)
    for start, stop in _runs(~found):
        if stop - start > max_gap:
            continue
        frames = np.arange(start, stop)
        out[start:stop] = np.stack([np.interp(frames, t, flat[t, k]) for k in range(flat.shape[1])], axis=1)
        covered[start:stop] = True
    return out.reshape(values.shape), covered


def fill_gaps(values: np.ndarray) -> np.ndarray:
    """Fill every NaN row of ``values`` [N, ...] (interpolation inside, nearest at the ends). Raises ValueError when all are NaN."""
    return fill_short_gaps(values, len(values))[0]


def smooth(values: np.ndarray, window: int) -> np.ndarray:
    """Centred moving average of ``values`` [N, ...] over ``window`` frames (edge-padded)."""
    if window <= 1 or len(values) < 2:
        return values.astype(float)
    flat = values.reshape(len(values), -1).astype(float)
    left, right = (window - 1) // 2, window // 2
    padded = np.pad(flat, ((left, right), (0, 0)), mode="edge")
    kernel = np.ones(window) / window
    out = np.stack([np.convolve(padded[:, k], kernel, mode="valid") for k in range(flat.shape[1])], axis=1)
    return out.reshape(values.shape)


def smooth_covered(values: np.ndarray, covered: np.ndarray, window: int) -> np.ndarray:
    """:func:`smooth` applied to each run of covered frames on its own; uncovered rows stay NaN."""
    out = np.full(values.shape, np.nan)
    for start, stop in _runs(covered):
        out[start:stop] = smooth(values[start:stop], window)
    return out


def clean_track(boxes: np.ndarray, points: np.ndarray, window: int,
                max_gap: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Short gaps filled, then smoothed: (boxes [N, 4], points [N, 5, 2], covered [N] bool).

    Uncovered frames (in gaps longer than ``max_gap``) are NaN rows; points stay
    NaN when the track has none.
    """
    boxes, covered = fill_short_gaps(boxes, max_gap)
    boxes = smooth_covered(boxes, covered, window)
    if np.isnan(points).all():
        return boxes, points.astype(float), covered
    points, _ = fill_short_gaps(points, max_gap)
    return boxes, smooth_covered(points, covered, window), covered
