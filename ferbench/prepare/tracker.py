"""Which detection is "the" face of a clip: tracks built by box overlap, never by a jump.

Input: per frame, the faces a detector found (:class:`FrameFaces`, source
pixels). :class:`FaceTracker` links each face to the track whose last box it
overlaps most (IoU >= ``min_iou``), starting a new track otherwise, so a track
never jumps to a box that does not overlap it. A frame where a track's face is
not found is simply a frame without that track (NaN in :meth:`FaceTrack.arrays`).
The clip's face is :meth:`FaceTracker.main_track`: the track found in the most
frames (ties: the larger mean box area). A one-off false detection is a
one-frame track and loses to the real face; a face that leaves the frame ends
its track there.

The tracker is streaming: feed frames in order, any number at a time, and ask
for the main track whenever needed::

    detector, tracker = FaceDetector(), FaceTracker()
    for chunk in chunks:                      # uint8 [n, H, W, 3], consecutive frames
        for faces in detector.detect(chunk):  # one FrameFaces per frame
            tracker.update(faces)
    track = tracker.main_track()              # FaceTrack or None
    boxes, points, probs = track.arrays(tracker.frames)   # NaN rows where the face is not found
"""

from __future__ import annotations

import dataclasses

import numpy as np


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between one box ``a`` [4] and boxes ``b`` [M, 4] (x1, y1, x2, y2) -> [M]."""
    b = np.asarray(b, float).reshape(-1, 4)
    x1, y1 = np.maximum(a[0], b[:, 0]), np.maximum(a[1], b[:, 1])
    x2, y2 = np.minimum(a[2], b[:, 2]), np.minimum(a[3], b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda z: (z[..., 2] - z[..., 0]) * (z[..., 3] - z[..., 1])  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)


@dataclasses.dataclass(frozen=True)
class FrameFaces:
    """The faces found in one frame, source pixels.

    Attributes:
        boxes: float [M, 4] (x1, y1, x2, y2).
        points: float [M, 5, 2] landmarks (left eye, right eye, nose, left and right mouth corner; image left/right).
        probs: float [M] face probabilities.
    """

    boxes: np.ndarray
    points: np.ndarray
    probs: np.ndarray

    @classmethod
    def none(cls) -> "FrameFaces":
        """A frame without faces."""
        return cls(np.zeros((0, 4)), np.zeros((0, 5, 2)), np.zeros(0))

    def __len__(self) -> int:
        return len(self.probs)


@dataclasses.dataclass
class FaceTrack:
    """One face followed through a clip.

    Attributes:
        frames: frame indices where the face was found (increasing).
        boxes: per found frame, the box [4] (source pixels).
        points: per found frame, the landmarks [5, 2].
        probs: per found frame, the face probability.
    """

    frames: list[int] = dataclasses.field(default_factory=list)
    boxes: list[np.ndarray] = dataclasses.field(default_factory=list)
    points: list[np.ndarray] = dataclasses.field(default_factory=list)
    probs: list[float] = dataclasses.field(default_factory=list)

    @property
    def last_box(self) -> np.ndarray:
        return self.boxes[-1]

    @property
    def mean_area(self) -> float:
        b = np.asarray(self.boxes)
        return float(((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])).mean())

    def add(self, frame: int, box: np.ndarray, points: np.ndarray, prob: float) -> None:
        self.frames.append(frame)
        self.boxes.append(np.asarray(box, float))
        self.points.append(np.asarray(points, float))
        self.probs.append(float(prob))

    def at(self, frame: int) -> tuple[np.ndarray, np.ndarray, float] | None:
        """(box [4], points [5, 2], prob) of ``frame``, or None when the face was not found there."""
        i = int(np.searchsorted(self.frames, frame))
        if i < len(self.frames) and self.frames[i] == frame:
            return self.boxes[i], self.points[i], self.probs[i]
        return None

    def arrays(self, num_frames: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Dense per-frame arrays over ``num_frames`` frames: boxes [N, 4], points [N, 5, 2], probs [N]; NaN rows where not found."""
        boxes, points, probs = np.full((num_frames, 4), np.nan), np.full((num_frames, 5, 2), np.nan), np.full(num_frames, np.nan)
        if self.frames:
            idx = np.asarray(self.frames)
            boxes[idx], points[idx], probs[idx] = np.asarray(self.boxes), np.asarray(self.points), np.asarray(self.probs)
        return boxes, points, probs


class FaceTracker:
    """Streaming tracker: every face of every frame joins the track it overlaps most, or starts one.

    Args:
        min_iou: a face continues a track only when its box and the track's last
            box overlap with IoU >= ``min_iou`` (> 0: no jump to a non-overlapping box).

    Attributes:
        tracks: every track so far, in order of creation.
        frames: frames seen so far (the next frame's index).
    """

    def __init__(self, min_iou: float = 0.1) -> None:
        if not 0.0 < min_iou <= 1.0:
            raise ValueError(f"min_iou must be in (0, 1], got {min_iou}")
        self.min_iou = min_iou
        self.tracks: list[FaceTrack] = []
        self.frames = 0

    def update(self, faces: FrameFaces) -> None:
        """Consume the next frame's faces (greedy one-to-one matching by decreasing IoU)."""
        frame, self.frames = self.frames, self.frames + 1
        if not len(faces):
            return
        pairs = []
        for t, track in enumerate(self.tracks):
            for j, iou in enumerate(box_iou(track.last_box, faces.boxes)):
                if iou >= self.min_iou:
                    pairs.append((iou, t, j))
        used_tracks, used_faces = set(), set()
        for _, t, j in sorted(pairs, key=lambda p: -p[0]):
            if t not in used_tracks and j not in used_faces:
                self.tracks[t].add(frame, faces.boxes[j], faces.points[j], faces.probs[j])
                used_tracks.add(t)
                used_faces.add(j)
        for j in range(len(faces)):
            if j not in used_faces:
                track = FaceTrack()
                track.add(frame, faces.boxes[j], faces.points[j], faces.probs[j])
                self.tracks.append(track)

    def main_track(self) -> FaceTrack | None:
        """The track found in the most frames (ties: larger mean box area), or None when no face was found."""
        if not self.tracks:
            return None
        return max(self.tracks, key=lambda t: (len(t.frames), t.mean_area))


def follow(frame_faces: list[FrameFaces], min_iou: float = 0.1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The main face of a whole clip: boxes [N, 4], points [N, 5, 2], probs [N], NaN rows where it is not found."""
    tracker = FaceTracker(min_iou)
    for faces in frame_faces:
        tracker.update(faces)
    track = tracker.main_track()
    n = len(frame_faces)
    return track.arrays(n) if track is not None else FaceTrack().arrays(n)
