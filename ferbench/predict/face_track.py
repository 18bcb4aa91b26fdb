"""The face of a video, a chunk at a time: detect every k-th frame, follow the face between, crop.

Built on ``ferbench prepare``'s public pieces: :meth:`FaceDetector.track
<ferbench.prepare.faces.FaceDetector.track>` picks and follows one face,
:mod:`ferbench.prepare.cleanup` bridges short gaps and smooths, and
:func:`~ferbench.prepare.align.align_frame` makes the aligned square crop. What this module adds is the schedule:

* MTCNN runs on every ``every``-th frame of the video and on its last frame
  (the *keyframes*). Frames after a chunk's last keyframe wait for the next
  chunk. Each chunk's keyframes are tracked after the previous chunk's last
  keyframe (one extra detection per chunk), so the track follows the same face
  across chunks.
* Between two keyframes whose faces overlap by at least ``refine_iou`` (the face
  moved less than about a third of its size), boxes and landmarks are
  interpolated linearly. Where they overlap less, or the face appears or
  disappears, every frame between is detected too, so fast motion and cuts keep
  per-frame crops.
* Runs of at most ``max_gap`` frames without the face are bridged
  (:func:`~ferbench.prepare.cleanup.fill_short_gaps`) and count as face frames;
  longer runs do not.
  Crops of no-face frames use the nearest known box (they only matter for
  windows that are mostly face frames).
"""

from __future__ import annotations

import numpy as np

from ..prepare.align import align_frame
from ..prepare.cleanup import fill_gaps, fill_short_gaps, smooth
from ..prepare.faces import FaceDetector
from ..prepare.tracker import box_iou


def _nan_track(n: int) -> tuple[np.ndarray, np.ndarray]:
    return np.full((n, 4), np.nan), np.full((n, 5, 2), np.nan)


class ChunkedFaceTracker:
    """Face crops of consecutive chunks of one video (make one per video).

    Args:
        detector: the MTCNN detector (shared across videos).
        face_size: crop side, pixels.
        margin: crop side / larger side of the face box.
        smooth_window: moving-average window over frames for boxes and landmarks.
        every: detect every k-th frame.
        refine_iou: overlap two keyframe faces need for the frames between to be interpolated.
        max_gap: longest run of frames without a face that is bridged.
    """

    def __init__(self, detector: FaceDetector, *, face_size: int, margin: float, smooth_window: int, every: int,
                 refine_iou: float, max_gap: int) -> None:
        self.detector = detector
        self.face_size, self.margin, self.smooth_window = face_size, margin, smooth_window
        self.every, self.refine_iou, self.max_gap = every, refine_iou, max_gap
        self.offset = 0  # global index of the next chunk's first frame
        self.detections = 0  # frames MTCNN ran on
        #: the (smoothed) source-frame boxes [n, 4] the last chunk's crops were cut from
        self.last_boxes = np.zeros((0, 4))
        self._anchor: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None  # last keyframe: frame, box, points
        self._tail_boxes = np.zeros((0, 4))
        self._tail_points = np.zeros((0, 5, 2))
        self._last_known: tuple[np.ndarray, np.ndarray] | None = None
        self._held: list[np.ndarray] = []  # frames after the last keyframe, waiting for the next one

    def _track(self, frames: np.ndarray, anchored: bool) -> tuple[np.ndarray, np.ndarray]:
        """Boxes [n, 4] and points [n, 5, 2] of ``frames`` (NaN = no face), following the anchor's face."""
        if anchored and self._anchor is not None:
            frames = np.concatenate([self._anchor[0][None], frames])
        self.detections += len(frames)
        boxes, points, _ = self.detector.track(frames)
        if anchored and self._anchor is not None:
            boxes, points = boxes[1:], points[1:]
        return boxes, points

    def process(self, frames: list[np.ndarray] | np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Aligned crops uint8 [m, S, S, 3] and face flags [m] of the next n frames (each [H, W, 3]).

        The frames after the last keyframe wait for the next call (or :meth:`finish`), so ``m``
        may differ from ``n``; over a whole video every frame comes out once, in order.
        """
        seq = self._held + list(frames)  # views, not copies
        keys = [i for i in range(len(seq)) if (self.offset + i) % self.every == 0]
        if not keys:
            self._held = seq
            return self._empty()
        self._held = seq[keys[-1] + 1:]
        return self._run(seq[:keys[-1] + 1], keys)

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        """Crops and face flags of the frames still waiting (the last one is detected)."""
        frames, self._held = self._held, []
        if not frames:
            return self._empty()
        keys = sorted({i for i in range(len(frames)) if (self.offset + i) % self.every == 0} | {len(frames) - 1})
        return self._run(frames, keys)

    def _empty(self) -> tuple[np.ndarray, np.ndarray]:
        return np.zeros((0, self.face_size, self.face_size, 3), np.uint8), np.zeros(0, bool)

    def _run(self, frames: list[np.ndarray], keys: list[int]) -> tuple[np.ndarray, np.ndarray]:
        n = len(frames)
        boxes, points = _nan_track(n)
        kb, kp = self._track(np.stack([frames[i] for i in keys]), anchored=True)
        boxes[keys], points[keys] = kb, kp
        # pairs of consecutive keyframes; -1 is the previous call's last keyframe
        prev = [-1] + keys[:-1] if self._anchor is not None else keys[:-1]
        for a, b in zip(prev, keys[1:] if self._anchor is None else keys):
            if b - a < 2:
                continue
            box_a = self._anchor[1] if a < 0 else boxes[a]
            pts_a = self._anchor[2] if a < 0 else points[a]
            has_a, has_b = not np.isnan(box_a).any(), not np.isnan(boxes[b]).any()
            if has_a and has_b and box_iou(box_a, boxes[b][None])[0] >= self.refine_iou:
                w = (np.arange(a + 1, b) - a)[:, None] / (b - a)
                boxes[a + 1:b] = box_a * (1 - w) + boxes[b] * w
                points[a + 1:b] = pts_a * (1 - w[..., None]) + points[b] * w[..., None]
            elif has_a or has_b:
                rb, rp = self._refine(frames, a, b)
                boxes[a + 1:b], points[a + 1:b] = rb, rp
        found = ~np.isnan(boxes).any(axis=1)
        faces = fill_short_gaps(boxes, self.max_gap)[1] if found.any() else found  # short gaps bridged
        self._anchor = (frames[n - 1].copy(), boxes[n - 1], points[n - 1])  # a copy frees the chunk
        crops = self._crops(frames, boxes, points, found)
        self.offset += n
        return crops, faces

    def _refine(self, frames: list[np.ndarray], a: int, b: int) -> tuple[np.ndarray, np.ndarray]:
        """Detect every frame strictly between keyframes a and b (a = -1: the previous chunk's last one)."""
        if a < 0:
            return self._track(np.stack(frames[:b]), anchored=True)
        between = np.stack(frames[a:b])  # keyframe a first: the track starts from its face
        self.detections += len(between)
        rb, rp, _ = self.detector.track(between)
        return rb[1:], rp[1:]

    def _crops(self, frames: list[np.ndarray], boxes: np.ndarray, points: np.ndarray, found: np.ndarray) -> np.ndarray:
        n, (h, w) = len(frames), frames[0].shape[:2]
        if found.any():
            boxes = fill_gaps(boxes)
            if not np.isnan(points).all():
                points = fill_gaps(points)
            self._last_known = (boxes[-1], points[-1])
        elif self._last_known is not None:
            boxes, points = np.tile(self._last_known[0], (n, 1)), np.tile(self._last_known[1], (n, 1, 1))
        else:  # no face yet: the centre square (as prepare's no_face=full)
            side = min(h, w) / self.margin
            boxes = np.tile([(w - side) / 2, (h - side) / 2, (w + side) / 2, (h + side) / 2], (n, 1))
        # smooth with the previous chunk's last boxes as left context, so chunk borders do not jump
        keep = self.smooth_window - 1
        had = len(self._tail_boxes)
        ctx_b = np.concatenate([self._tail_boxes, boxes])
        sm_boxes = smooth(ctx_b, self.smooth_window)[had:]
        self._tail_boxes = ctx_b[len(ctx_b) - keep:] if keep > 0 else ctx_b[:0]
        if np.isnan(points).any():
            sm_points, self._tail_points = points, np.zeros((0, 5, 2))
        else:
            tail = self._tail_points if len(self._tail_points) == had else points[:0]
            ctx_p = np.concatenate([tail, points])
            sm_points = smooth(ctx_p, self.smooth_window)[len(tail):]
            self._tail_points = ctx_p[len(ctx_p) - keep:] if keep > 0 else ctx_p[:0]
        self.last_boxes = sm_boxes
        out = np.empty((n, self.face_size, self.face_size, 3), np.uint8)
        for i in range(n):
            pts = None if np.isnan(sm_points[i]).any() else sm_points[i]
            out[i], _ = align_frame(frames[i], sm_boxes[i], pts, self.face_size, self.margin)
        return out
