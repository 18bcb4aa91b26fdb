"""Temporal profiles: how an expression unfolds over a clip of T frames.

``ckplus``: neutral -> apex, apex at the last frame (CK+ sequences).
``mmi``: neutral -> apex near the middle -> back to neutral (MMI sequences).
``wild``: the expression starts at a random time, may be cut by the clip
boundaries and is embedded in frames of irrelevant activity (head motion,
talking-like mouth movements, blinks), as in movie clips (AFEW).

All frame indices are 0-based into the T decoded frames.
"""

from __future__ import annotations

import dataclasses

import numpy as np


@dataclasses.dataclass(frozen=True)
class Track:
    """Per-frame timing of one video.

    Attributes:
        weight: float [T] in [0, 1], expression strength (1 at the apex).
        onset: first frame where the expression starts to appear.
        apex: frame of peak expression (``weight`` is maximal there).
        offset: last frame of the expression (T-1 when it lasts to the end).
        pose: float [T, 3] head-pose offsets (yaw, pitch, roll) in degrees, to be
            added to the video's base pose.
        blink: float [T] in [0, 1], eye closure.
        talk: float [T] in [0, 1], irrelevant mouth opening.
    """

    weight: np.ndarray
    onset: int
    apex: int
    offset: int
    pose: np.ndarray
    blink: np.ndarray
    talk: np.ndarray


def _smooth(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _wander(rng: np.random.Generator, t: np.ndarray, amplitude: float) -> np.ndarray:
    """Smooth random motion [T, 3] (sum of two sinusoids per axis), degrees."""
    out = np.zeros((len(t), 3))
    for axis in range(3):
        for _ in range(2):
            period = rng.uniform(12, 40)
            out[:, axis] += 0.5 * amplitude * np.sin(2 * np.pi * t / period + rng.uniform(0, 2 * np.pi))
    return out


def _blinks(rng: np.random.Generator, frames: int, rate: float) -> np.ndarray:
    blink = np.zeros(frames)
    for _ in range(rng.poisson(rate * frames)):
        c = rng.integers(0, frames)
        for d, v in ((-1, 0.6), (0, 1.0), (1, 0.5)):
            if 0 <= c + d < frames:
                blink[c + d] = max(blink[c + d], v)
    return blink


def make_track(profile: str, frames: int, rng: np.random.Generator, pose: float) -> Track:
    """Draw the timing of one video.

    Args:
        profile: ``ckplus``, ``mmi`` or ``wild``.
        frames: T.
        rng: per-video generator.
        pose: the options' max head-pose angle, degrees (scales head motion).
    """
    t = np.arange(frames, dtype=np.float64)
    zeros = np.zeros(frames)
    if profile == "ckplus":
        onset = int(rng.integers(0, max(1, frames // 5) + 1))
        apex = frames - 1
        onset = min(onset, apex - 1)
        weight = _smooth((t - onset) / max(apex - onset, 1))
        motion = _wander(rng, t, 0.05 * pose + 0.15)
        return Track(weight, onset, apex, frames - 1, motion, zeros, zeros)
    if profile == "mmi":
        onset = int(round(rng.uniform(0.05, 0.2) * frames))
        apex = int(round(rng.uniform(0.4, 0.55) * frames))
        hold = max(1, frames // 10)
        offset = min(frames - 1, int(round(rng.uniform(0.85, 1.0) * frames)))
        apex = int(np.clip(apex, onset + 1, frames - 1))
        end_hold = min(apex + hold, offset)
        up = _smooth((t - onset) / max(apex - onset, 1))
        down = 1 - _smooth((t - end_hold) / max(offset - end_hold, 1))
        weight = np.where(t <= apex, up, np.where(t <= end_hold, 1.0, down))
        motion = _wander(rng, t, 0.25 * pose + 0.5)
        return Track(weight, onset, apex, offset, motion, _blinks(rng, frames, 0.01), zeros)
    if profile == "wild":
        length = rng.uniform(0.4, 0.7) * frames
        onset = int(rng.integers(0, max(1, int(frames - 0.5 * length)) + 1))
        apex = int(min(frames - 1, onset + max(1, round(0.45 * length))))
        onset = max(0, min(onset, apex - 1))
        offset = int(max(apex, min(frames - 1, onset + round(length))))
        up = _smooth((t - onset) / max(apex - onset, 1))
        down = 1 - _smooth((t - apex - 1) / max(offset - apex - 1, 1))
        weight = np.where(t <= apex, up, down)
        weight[t > offset] = 0.0
        motion = _wander(rng, t, 0.6 * pose + 1.0)
        talk = np.clip(np.sin(2 * np.pi * t / rng.uniform(3, 6) + rng.uniform(0, 6)), 0, None)
        talk *= rng.uniform(0.0, 0.5) * (1 - weight)
        return Track(weight, onset, apex, offset, motion, _blinks(rng, frames, 0.03), talk)
    raise ValueError(f"unknown temporal profile {profile!r} (valid: ckplus, mmi, wild)")
