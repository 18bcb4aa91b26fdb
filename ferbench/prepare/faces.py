"""Face detection with facenet-pytorch's MTCNN (weights ship inside its wheel; CPU).

:class:`FaceDetector` returns, per frame, one face (the track): boxes
``[N, 4]`` as (x1, y1, x2, y2) in source-frame pixels, 5-point landmarks
``[N, 5, 2]`` (left eye, right eye, nose, left mouth corner, right mouth
corner; image left/right) and probabilities ``[N]``; frames without a face
are NaN rows.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

#: frames per MTCNN batch (all frames of one item have the same size)
BATCH = 16


def box_iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """IoU between one box ``a`` [4] and boxes ``b`` [M, 4] -> [M]."""
    x1, y1 = np.maximum(a[0], b[:, 0]), np.maximum(a[1], b[:, 1])
    x2, y2 = np.minimum(a[2], b[:, 2]), np.minimum(a[3], b[:, 3])
    inter = np.clip(x2 - x1, 0, None) * np.clip(y2 - y1, 0, None)
    area = lambda z: (z[..., 2] - z[..., 0]) * (z[..., 3] - z[..., 1])  # noqa: E731
    return inter / np.maximum(area(a) + area(b) - inter, 1e-9)


class FaceDetector:
    """MTCNN on CPU plus a simple tracker that follows one face through a clip.

    Args:
        min_face: smallest face searched, pixels of the detection-scale frame.
        detect_side: frames whose longer side exceeds this are downscaled before detection.
        threshold: minimum face probability kept.
    """

    def __init__(self, min_face: int = 20, detect_side: int = 360, threshold: float = 0.9) -> None:
        from facenet_pytorch import MTCNN

        self.mtcnn = MTCNN(keep_all=True, device="cpu", min_face_size=min_face, select_largest=False)
        self.detect_side = detect_side
        self.threshold = threshold

    def detect_all(self, frames: np.ndarray) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """Every face of every frame: per frame (boxes [M, 4], points [M, 5, 2], probs [M]), source pixels."""
        n, h, w = frames.shape[:3]
        scale = min(1.0, self.detect_side / max(h, w))
        if scale < 1.0:
            size = (max(1, round(w * scale)), max(1, round(h * scale)))
            frames = np.stack([np.asarray(Image.fromarray(f).resize(size, Image.BILINEAR)) for f in frames])
        out = []
        for start in range(0, n, BATCH):
            boxes, probs, points = self.mtcnn.detect(frames[start:start + BATCH], landmarks=True)
            for b, p, q in zip(boxes, probs, points):
                if b is None:
                    out.append((np.zeros((0, 4)), np.zeros((0, 5, 2)), np.zeros(0)))
                    continue
                b, q, p = np.asarray(b, float), np.asarray(q, float), np.asarray(p, float)
                keep = p >= self.threshold
                out.append((b[keep] / scale, q[keep] / scale, p[keep]))
        return out

    def track(self, frames: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """One face per frame: boxes [N, 4], points [N, 5, 2], probs [N] (NaN where none).

        The track starts at the most confident, largest face of the first frame
        with a face and then follows the face that overlaps it most in each frame.
        """
        n = len(frames)
        boxes, points, probs = np.full((n, 4), np.nan), np.full((n, 5, 2), np.nan), np.full(n, np.nan)
        prev = None
        for i, (b, q, p) in enumerate(self.detect_all(frames)):
            if not len(b):
                continue
            if prev is None:
                area = (b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])
                j = int(np.argmax(p * area))
            else:
                iou = box_iou(prev, b)
                j = int(np.argmax(iou)) if iou.max() > 0 else int(np.argmax(p))
            boxes[i], points[i], probs[i] = b[j], q[j], p[j]
            prev = b[j]
        return boxes, points, probs
