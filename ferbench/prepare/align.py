"""Eye alignment and square crop of one frame.

The crop is a square of side ``margin * max(box width, box height)`` source
pixels centred on the (smoothed) box centre, rotated so that the line through
the two eye centres is horizontal, resampled to ``size x size``.
"""

from __future__ import annotations

import math

import numpy as np
from PIL import Image


def crop_matrix(box: np.ndarray, points: np.ndarray | None, size: int, margin: float) -> np.ndarray:
    """2x3 affine map from crop pixels (u, v, 1) to source pixels (x, y).

    Args:
        box: (x1, y1, x2, y2), source pixels.
        points: 5-point landmarks [5, 2] (left eye first, right eye second) or None / NaN for no rotation.
        size: crop side, pixels.
        margin: crop side in source pixels / larger box side.
    """
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    side = margin * max(box[2] - box[0], box[3] - box[1], 1.0)
    angle = 0.0
    if points is not None and not np.isnan(points[:2]).any():
        (lx, ly), (rx, ry) = points[0], points[1]
        angle = math.atan2(ry - ly, rx - lx)
    s, c, k = side / size, math.cos(angle), math.sin(angle)
    half = size / 2
    return np.array([[s * c, -s * k, cx - s * c * half + s * k * half],
                     [s * k, s * c, cy - s * k * half - s * c * half]])


def align_frame(frame: np.ndarray, box: np.ndarray, points: np.ndarray | None, size: int,
                margin: float) -> tuple[np.ndarray, np.ndarray]:
    """Aligned crop uint8 [size, size, 3] and the landmarks in crop pixels [5, 2] (NaN if unknown)."""
    m = crop_matrix(box, points, size, margin)
    crop = Image.fromarray(frame).transform((size, size), Image.AFFINE, data=tuple(m.ravel()), resample=Image.BILINEAR)
    if points is None:
        return np.asarray(crop), np.full((5, 2), np.nan)
    a, t = m[:, :2], m[:, 2]
    local = (np.asarray(points, float) - t) @ np.linalg.inv(a).T
    return np.asarray(crop), local
