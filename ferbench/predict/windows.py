"""Sliding windows over a stream of face crops.

Windows are ``window`` frames long and start every ``stride`` frames
(0, stride, 2 stride, ...); a last window ends at the final frame when the
regular ones do not reach it, and a video shorter than one window is one
window of all its frames. :class:`WindowSlicer` holds at most ``window``
crops, whatever the video's length.
"""

from __future__ import annotations

import collections
import dataclasses
from typing import Iterator

import numpy as np


@dataclasses.dataclass
class Window:
    """Frames [start, end) of one video, as face crops.

    Attributes:
        index: window number within the video.
        start: first frame (0-based, decoded order).
        end: one past the last frame.
        crops: uint8 [end - start, S, S, 3] face crops (or the frames themselves for faces=given).
        face_frames: frames of the window with a face.
    """

    index: int
    start: int
    end: int
    crops: np.ndarray
    face_frames: int

    @property
    def face_rate(self) -> float:
        """Fraction of the window's frames with a face."""
        return self.face_frames / max(self.end - self.start, 1)


class WindowSlicer:
    """Feed crops chunk by chunk with :meth:`push`; collect windows as they complete and at :meth:`finish`."""

    def __init__(self, window: int, stride: int) -> None:
        if window < 1 or not 1 <= stride:
            raise ValueError(f"window and stride must be >= 1, got {window}, {stride}")
        self.window, self.stride = window, min(stride, window)
        self._crops: collections.deque[np.ndarray] = collections.deque(maxlen=window)
        self._faces: collections.deque[bool] = collections.deque(maxlen=window)
        self.total = 0
        self._next_start = 0
        self._emitted = 0
        self._last_end = 0

    def _emit(self, start: int, end: int) -> Window:
        n = end - start
        crops = np.stack(list(self._crops)[len(self._crops) - n:])
        faces = int(sum(list(self._faces)[len(self._faces) - n:]))
        w = Window(self._emitted, start, end, crops, faces)
        self._emitted += 1
        self._last_end = end
        return w

    def push(self, crops: np.ndarray | list[np.ndarray], faces: np.ndarray) -> Iterator[Window]:
        """Add n crops (each [S, S, 3]) with face flags [n]; yields the windows they complete."""
        for crop, face in zip(crops, faces):
            self._crops.append(crop)
            self._faces.append(bool(face))
            self.total += 1
            if self.total - self._next_start == self.window:
                yield self._emit(self._next_start, self.total)
                self._next_start += self.stride

    def finish(self) -> Iterator[Window]:
        """The last window: all frames of a short video, or the final ``window`` frames when not yet covered."""
        if self.total == 0:
            return
        if self._emitted == 0:
            yield self._emit(0, self.total)
        elif self._last_end < self.total:
            yield self._emit(self.total - self.window, self.total)
