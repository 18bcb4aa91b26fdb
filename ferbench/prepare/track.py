"""Temporal clean-up of a face track: fill frames without a detection, then smooth.

Boxes ``[N, 4]`` and landmarks ``[N, 5, 2]`` are in source pixels; rows of
NaN mark frames where the detector found no face.
"""

from __future__ import annotations

import numpy as np


def fill_gaps(values: np.ndarray) -> np.ndarray:
    """Linearly interpolate NaN rows of ``values`` [N, ...] over the frame index (edges: nearest).

    Raises ValueError when every row is NaN.
    """
    flat = values.reshape(len(values), -1).astype(float)
    ok = ~np.isnan(flat).any(axis=1)
    if not ok.any():
        raise ValueError("no frame has a value")
    t = np.arange(len(flat))
    out = np.stack([np.interp(t, t[ok], flat[ok, k]) for k in range(flat.shape[1])], axis=1)
    return out.reshape(values.shape)


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


def clean_track(boxes: np.ndarray, points: np.ndarray, window: int) -> tuple[np.ndarray, np.ndarray]:
    """Gap-filled, smoothed (boxes [N, 4], points [N, 5, 2]); points may stay NaN if never detected."""
    boxes = smooth(fill_gaps(boxes), window)
    if np.isnan(points).all():
        return boxes, points
    return boxes, smooth(fill_gaps(points), window)
